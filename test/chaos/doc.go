// Package chaos is Strata's fault-injection harness: it runs real
// strata-node processes (or points at an existing deployment), drives them
// with concurrent aws-sdk-go-v2 and admin API clients while injecting
// faults, records a history of every operation, and checks it against a
// model after the faults heal. It is part of the product: operators run it
// against their own clusters before they trust them with data.
//
// Pieces, one file each:
//   - cluster.go: StartCluster starts N strata-node processes (a cluster
//     key from stratactl, --bootstrap-expect N, --ec, two drive folders per
//     node under the run folder, node.log per node), on 127.0.0.1 with free
//     ports or each in its own network namespace (netns.go); the last drive
//     optionally on a small loop-mounted ext4 file system; every node under
//     setpriv without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so file
//     modes bind it. Node.Kill (SIGKILL by PID, reaped), Pause/Resume
//     (SIGSTOP/SIGCONT), Start (restart with the same folders). An exit the
//     harness did not cause is recorded as a crash.
//   - netns.go: Net, the nodes' private network made with iproute2: a
//     namespace per node, veth pairs to a bridge in a hub namespace, one
//     veth from the harness's namespace so that clients reach every node;
//     Block(from, to) drops from's packets at to silently with a
//     policy-routing blackhole rule (no iptables needed), one direction.
//   - workload.go: Workload runs clients that PUT (0 B to MaxSize, single
//     and multipart through the SDK's transfer manager), GET, overwrite,
//     DELETE, LIST, create, delete and head a few shared bucket names, and
//     create, remove, show, attach and detach a policy of a few shared user
//     names (admin API), so that writes race; SDK retries are off so
//     failures show; before the run it writes cold objects that no client
//     touches again (the bitrot fault times the repair of their shards);
//     every body is a ChaCha8 stream of (seed, client, op number), hashed
//     with SHA-256.
//   - history.go: History, the recorded operations (start, end, status,
//     SHA-256), written as history.jsonl (the reads after heal as
//     final.jsonl).
//   - check.go: Check, the model. Every object is a register: every
//     acknowledged write readable after heal or superseded by a later
//     acknowledged write (concurrent ones: any may win; failed ones: may or
//     may not have applied), no GET ever returned bytes no PUT of the key
//     wrote, no deleted object back, listings of every endpoint equal to
//     the final reads, and each key's PUT/GET/DELETE history linearizable
//     (github.com/anishathalye/porcupine; a failed write is an operation
//     that may apply at any later time or never). Every bucket and user
//     name is a register too (exists or not): creates that answered OK
//     created it, deletes that answered OK removed it, reads saw it;
//     acknowledged creates and deletes hold after heal and the history is
//     linearizable. HeadBucket answers "exists" are left out (bucket
//     lookups are local by design) and counted when stale. A register
//     without a linearization is drawn to an HTML file in the run folder.
//   - faults.go, drivefaults.go: the faults, each seeded and logged with a
//     timestamp to faults.log: kill (kill -9 of 1..m nodes, restart after a
//     random delay), leader (kill -9 of the Raft leader amid metadata
//     writes), pause (SIGSTOP until another node's gossip declares the node
//     dead, then SIGCONT), partition (minority from majority, the leader's
//     minority, or one node one way; held until the other side declares a
//     cut node dead), bitrot (bit flips in shard files that object
//     versions of a running node's drive refer to, found in a copy of its
//     index; the time until every flipped file is restored is measured),
//     index
//     (bit flips in records and structure of live bbolt leaf pages of a
//     stopped node's drive; restart; the drive is expected offline, then
//     refilled), hide (a 256 KiB tmpfs over <drive>/shards), unreadable
//     (chmod 000 of a drive folder), removed (a drive folder renamed away,
//     then put back or replaced by an empty folder and refilled: timed),
//     full (the small file system filled to ENOSPC), fsync (the
//     drive.FsyncDelayEnv test hook: every node is started with a control
//     file; writing a duration to it slows that node's fsyncs). After each
//     fault the harness waits until the nodes agree again (all alive in
//     every node's view, one leader) and times it.
//   - run.go: Run, one run (workload + fault loop + heal + convergence +
//     final reads + Check) and its Report: operations attempted,
//     acknowledged and failed by kind, acknowledged writes lost, corrupt
//     reads, per fault the longest time no operation succeeded, the failed
//     operations, the time to converge and to repair; faults the cluster
//     cannot take are listed as skipped with the reason; shard files no
//     record refers to are counted; printed and written as report.json.
//
// Entry points (chaos_test.go): TestChaosSmoke (make test, about 90 s,
// skipped with -short), TestChaosFull (-chaos.full, make chaos: three
// scenarios), TestChaosEndpoints (-chaos.endpoints URL,... with
// STRATA_ACCESS_KEY/STRATA_SECRET_KEY: workload and checks only). The seed
// comes from CHAOS_SEED or is drawn and printed; -chaos.faults picks the
// faults, -chaos.duration, -chaos.clients, -chaos.bin, -chaos.out the rest.
// The seed fixes every random choice (fault order, targets, delays, object
// sizes, keys, bodies); thread timing is not replayed.
//
// Partitions, the small drive, mounts and the unreadable fault need root
// (network namespaces, mount, setpriv); where they cannot be had, the run
// goes on without those faults and the report says which were skipped and
// why.
//
// Imports of ours: adminapi only (cluster status, users). It starts nodes
// as processes and never imports node or dataplane.
package chaos
