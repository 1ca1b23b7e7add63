#!/usr/bin/env bash
# `make bench`: a fresh local 4-node Strata cluster (2 drive folders per
# node, EC 6+2, the layout of issue 9's MinIO table) in a temporary folder,
# then `stratactl bench` over the 4 endpoints with 16 clients, its table
# printed. The nodes are stopped and the folder removed on exit, Ctrl-C
# included. The ports are S3 9500-9503, rpc 9600-9603, gossip 9700-9703
# (not make run's 9000-9203), or the next free block of ten.
#
# Environment: BENCH_DURATION (per workload, default 30s), BENCH_WORKLOADS
# (default all; see `stratactl --help`), BENCH_CONCURRENCY (16), BENCH_EC
# (6+2), BENCH_PORT_BASE (9500), BENCH_ARGS (more stratactl bench flags,
# e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."
NODES=4
DURATION=${BENCH_DURATION:-30s}
WORKLOADS=${BENCH_WORKLOADS:-all}
CONCURRENCY=${BENCH_CONCURRENCY:-16}
EC=${BENCH_EC:-6+2}
BASE=${BENCH_PORT_BASE:-9500}

# free PORT: nothing listens on PORT (TCP or UDP).
free() { [ -z "$(ss -Htuln "( sport = :$1 )" 2>/dev/null)" ]; }
block_free() {
	local b=$1 i
	for i in $(seq 0 $((NODES - 1))); do
		free $((b + i)) && free $((b + 100 + i)) && free $((b + 200 + i)) || return 1
	done
}
for _ in $(seq 1 20); do
	block_free "$BASE" && break
	BASE=$((BASE + 10))
done
block_free "$BASE" || { echo "bench: no free ports near ${BENCH_PORT_BASE:-9500}" >&2; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
pids=()
stop() {
	local p i
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
	for i in $(seq 1 100); do
		local alive=0
		for p in "${pids[@]+"${pids[@]}"}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.2
	done
	for p in "${pids[@]+"${pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM

umask 077
./bin/stratactl cluster keygen > "$DIR/cluster.key"
export STRATA_ROOT_ACCESS_KEY="BENCH$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
export STRATA_ROOT_SECRET_KEY="$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)"

endpoints=()
for i in $(seq 0 $((NODES - 1))); do
	id="n$((i + 1))"
	join=()
	for j in $(seq 0 $((NODES - 1))); do
		[ "$j" = "$i" ] || join+=("127.0.0.1:$((BASE + 200 + j))")
	done
	mkdir -p "$DIR/$id"
	./bin/strata-node server \
		--id "$id" \
		--data "$DIR/$id/d1,$DIR/$id/d2" \
		--s3-addr "127.0.0.1:$((BASE + i))" \
		--rpc-addr "127.0.0.1:$((BASE + 100 + i))" \
		--gossip-addr "127.0.0.1:$((BASE + 200 + i))" \
		--join "$(IFS=,; echo "${join[*]}")" \
		--bootstrap-expect "$NODES" \
		--ec "$EC" \
		--cluster-key-file "$DIR/cluster.key" \
		> "$DIR/$id.log" 2>&1 &
	pids+=($!)
	endpoints+=("http://127.0.0.1:$((BASE + i))")
done

echo "bench: starting $NODES nodes (EC $EC, 2 drives each) in $DIR..."
deadline=$((SECONDS + 90))
for i in $(seq 0 $((NODES - 1))); do
	until curl -fsS "http://127.0.0.1:$((BASE + i))/strata/health/ready" >/dev/null 2>&1; do
		for p in "${pids[@]}"; do
			if ! kill -0 "$p" 2>/dev/null; then
				echo "bench: a node exited; last log lines:" >&2
				tail -n 5 "$DIR"/n*.log >&2
				exit 1
			fi
		done
		if [ $SECONDS -ge $deadline ]; then
			echo "bench: cluster not ready after 90 s; last log lines:" >&2
			tail -n 5 "$DIR"/n*.log >&2
			exit 1
		fi
		sleep 0.3
	done
done

# The cluster is thrown away afterwards, so the run keeps its objects
# (--keep) instead of spending a minute deleting them.
export STRATA_ACCESS_KEY=$STRATA_ROOT_ACCESS_KEY STRATA_SECRET_KEY=$STRATA_ROOT_SECRET_KEY
status=0
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
./bin/stratactl --endpoint "$(IFS=,; echo "${endpoints[*]}")" bench \
	--workloads "$WORKLOADS" --duration "$DURATION" --concurrency "$CONCURRENCY" --keep ${BENCH_ARGS:-} || status=$?
if [ $status != 0 ]; then
	echo "bench: stratactl bench exited $status; last node log lines:" >&2
	tail -n 5 "$DIR"/n*.log >&2
fi
exit $status
