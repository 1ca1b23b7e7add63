#!/usr/bin/env bash
# `make run`: a local 4-node Strata cluster on 127.0.0.1, EC 2+2, two drive
# folders per node under ./run/. S3 on 9000-9003, rpc on 9100-9103, gossip on
# 9200-9203. Data, keys and logs stay in ./run/ so a second `make run` finds
# the same cluster. Ctrl-C stops every node.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${STRATA_RUN_DIR:-./run}
NODES=4
mkdir -p "$RUN"

if [ ! -s "$RUN/cluster.key" ]; then
	umask 077
	./bin/stratactl cluster keygen > "$RUN/cluster.key"
fi
if [ ! -s "$RUN/root.env" ]; then
	umask 077
	ak="STRATA$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
	sk="$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)"
	printf 'STRATA_ROOT_ACCESS_KEY=%s\nSTRATA_ROOT_SECRET_KEY=%s\n' "$ak" "$sk" > "$RUN/root.env"
fi
set -a; . "$RUN/root.env"; set +a

pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping ${#pids[@]} nodes..."
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	echo "stopped; data kept in $RUN"
	exit 0
}
trap stop INT TERM EXIT

for i in $(seq 0 $((NODES - 1))); do
	id="n$((i + 1))"
	join=()
	for j in $(seq 0 $((NODES - 1))); do
		[ "$j" = "$i" ] || join+=("127.0.0.1:$((9200 + j))")
	done
	mkdir -p "$RUN/$id"
	./bin/strata-node server \
		--id "$id" \
		--data "$RUN/$id/d1,$RUN/$id/d2" \
		--s3-addr "127.0.0.1:$((9000 + i))" \
		--rpc-addr "127.0.0.1:$((9100 + i))" \
		--gossip-addr "127.0.0.1:$((9200 + i))" \
		--join "$(IFS=,; echo "${join[*]}")" \
		--bootstrap-expect "$NODES" \
		--ec 2+2 \
		--cluster-key-file "$RUN/cluster.key" \
		>> "$RUN/$id.log" 2>&1 &
	pids+=($!)
done

echo "waiting for the cluster (logs in $RUN/n*.log)..."
deadline=$((SECONDS + 90))
for i in $(seq 0 $((NODES - 1))); do
	until curl -fsS "http://127.0.0.1:$((9000 + i))/strata/health/ready" >/dev/null 2>&1; do
		for p in "${pids[@]}"; do
			if ! kill -0 "$p" 2>/dev/null; then
				echo "a node exited; last log lines:" >&2
				tail -n 5 "$RUN"/n*.log >&2
				exit 1
			fi
		done
		if [ $SECONDS -ge $deadline ]; then
			echo "cluster not ready after 90 s; see $RUN/n*.log" >&2
			exit 1
		fi
		sleep 0.3
	done
done

cat <<EOT
Strata is running: 4 nodes, EC 2+2, S3 on http://127.0.0.1:9000 .. 9003
Paste into another shell:

export AWS_ENDPOINT_URL=http://127.0.0.1:9000
export AWS_ACCESS_KEY_ID=$STRATA_ROOT_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$STRATA_ROOT_SECRET_KEY
export AWS_DEFAULT_REGION=us-east-1

then e.g.: aws s3 mb s3://demo && aws s3 cp README.md s3://demo/ && aws s3 ls s3://demo
Ctrl-C stops every node.
EOT
# A node that exits (a crash, or kill -9 to watch the cluster cope) is
# reported; the others keep serving until Ctrl-C.
running=("${pids[@]}")
while [ ${#running[@]} -gt 0 ]; do
	wait -n "${running[@]}" || true
	still=()
	for i in "${!pids[@]}"; do
		p=${pids[$i]}
		if kill -0 "$p" 2>/dev/null; then
			still+=("$p")
		elif [[ " ${running[*]} " == *" $p "* ]]; then
			echo "node n$((i + 1)) exited; see $RUN/n$((i + 1)).log (the others keep serving)" >&2
		fi
	done
	running=("${still[@]+"${still[@]}"}")
done
