// Package node wires one Strata node together and owns the lifecycle of every
// component: drives, the rpc transport, Raft (raftfsm), the erasure-coded data
// plane, the S3 frontend and gossip (cluster). New builds them in dependency
// order, Run starts them, Close stops them in reverse; Reload re-reads the
// TLS certificates of the S3 port and of rpc (tls.go).
//
// heal.go keeps the drive map (strata-drives.json in every drive
// folder: folder -> drive id), so an empty folder that replaces a failed
// drive is formatted with the old id and refilled by the data plane, and
// exposes HealStatus.
//
// It is the only place that knows all components; it bridges the hashicorp
// libraries' loggers to slog and adapts gossip events for raftfsm. It also
// answers the admin API's cluster status (status.go): the replicated state,
// Raft and gossip liveness, plus every live node's drive statistics fetched
// over its own rpc method "node.status" (nodestatus.go); the placement
// health and the "data survives the loss of ..." sentence are computed by
// assessPlacement. observe.go wires observability: the audit logger
// (package audit; webhooks from the replicated state, tokens unsealed
// here) and the Prometheus registry (package metrics), fed by every
// request s3api serves and read from the components at scrape time. The
// lifecycle scanner (package ilm) keeps its state in ilm.json of the first
// drive folder; its status travels in "node.status".
// console.go builds the web console (package console), which signs its
// requests with each session's keys and sends them to this node's own S3
// listener on loopback (its certificate pinned under TLS), and mounts it on
// the S3 port under /console/ or serves it on --console-addr (the S3 port
// then redirects there; "off" answers 404 there).
// Version (set at link time) is the build version that
// nodes gossip and report. Nothing
// imports node except cmd/node and the test cluster.
package node
