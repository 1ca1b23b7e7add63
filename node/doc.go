// Package node wires one Strata node together and owns the lifecycle of every
// component: drives, the rpc transport, Raft (raftfsm), the erasure-coded data
// plane, the S3 frontend and gossip (cluster). New builds them in dependency
// order, Run starts them, Close stops them in reverse; Reload re-reads the
// TLS certificates of the S3 port and of rpc (tls.go).
//
// It is the only place that knows all components; it bridges the hashicorp
// libraries' loggers to slog and adapts gossip events for raftfsm. Nothing
// imports node except cmd/node and the test cluster.
package node
