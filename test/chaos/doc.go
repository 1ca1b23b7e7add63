// Package chaos is Strata's fault-injection harness: it runs real
// strata-node processes (or points at an existing deployment), drives them
// with concurrent aws-sdk-go-v2 clients while injecting faults, records a
// history of every operation, and checks it against a model after the
// faults heal. It is part of the product: operators run it against their own
// clusters before they trust them with data.
//
// Pieces, one file each:
//   - cluster.go: StartCluster starts N strata-node processes on 127.0.0.1
//     (free ports, a cluster key from stratactl, --bootstrap-expect N, --ec,
//     two drive folders per node under the run folder, node.log per node);
//     Node.Kill (SIGKILL by PID, reaped), Pause/Resume (SIGSTOP/SIGCONT),
//     Start (restart with the same folders). An exit the harness did not
//     cause is recorded as a crash.
//   - workload.go: Workload runs clients that PUT (0 B to MaxSize, single
//     and multipart through the SDK's transfer manager), GET, overwrite,
//     DELETE, LIST, CreateBucket and create users (admin API), over a small
//     key space so writes race, with SDK retries off so failures show; every
//     body is a ChaCha8 stream of (seed, client, op number), hashed with
//     SHA-256.
//   - history.go: History, the recorded operations (start, end, status,
//     SHA-256), written as history.jsonl.
//   - check.go: Check, the model: every acknowledged write readable after
//     heal or superseded by a later acknowledged write (concurrent ones:
//     any may win; failed ones: may or may not have applied), no GET ever
//     returned bytes no PUT of the key wrote, no deleted object back,
//     listings of every endpoint equal to the final reads, acknowledged
//     bucket and user creates present, and each key's PUT/GET/DELETE
//     history linearizable (github.com/anishathalye/porcupine, a register
//     per key; a failed write is an operation that may apply at any later
//     time or never). A non-linearizable key's history is drawn to an HTML
//     file in the run folder.
//   - faults.go: the faults, each seeded and logged with a timestamp to
//     faults.log: kill (kill -9 of 1..m nodes, restart after a random
//     delay), leader (kill -9 of the Raft leader found through the admin
//     API's cluster status, amid metadata writes), pause (SIGSTOP until
//     another node's gossip declares the node dead, then SIGCONT), bitrot
//     (bit flips in shard files of a running node), drive (a tmpfs of
//     256 KiB mounted over <drive>/shards: committed shards vanish, writes
//     fail with ENOSPC or EXDEV; unmounting brings the old files back
//     without the new ones; as root chmod 000 stops nothing, a mount does
//     and needs CAP_SYS_ADMIN), fsync (the drive.FsyncDelayEnv test hook:
//     every node is started with a control file; writing a duration to it
//     slows that node's fsyncs while it runs).
//   - run.go: Run, one run (workload + fault loop + heal + convergence +
//     final reads + Check) and its Report: operations attempted,
//     acknowledged and failed by kind, acknowledged writes lost, corrupt
//     reads, the longest time no operation succeeded during each fault,
//     time to converge; printed and written as report.json.
//
// Entry points (chaos_test.go): TestChaosSmoke (make test, about 2 minutes,
// skipped with -short), TestChaosFull (-chaos.full, make chaos: three
// scenarios), TestChaosEndpoints (-chaos.endpoints URL,... with
// STRATA_ACCESS_KEY/STRATA_SECRET_KEY: workload and checks only). The seed
// comes from CHAOS_SEED or is drawn and printed; -chaos.faults picks the
// faults, -chaos.duration, -chaos.clients, -chaos.bin, -chaos.out the rest.
// The seed fixes every random choice (fault order, targets, delays, object
// sizes, keys, bodies); thread timing is not replayed.
//
// Imports of ours: adminapi only (cluster status, users). It starts nodes
// as processes and never imports node or dataplane.
package chaos
