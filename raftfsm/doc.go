// Package raftfsm runs Raft (hashicorp/raft over raft-boltdb and the rpc
// transport) for Strata's control metadata and is the only writer of the
// replicated meta.State.
//
// Main types: Store (one node's Raft member: Propose, View, Barrier,
// WaitApplied, Run, RemoveServer, Status), Config, Member and MemberEvent
// (the membership input), NotLeaderError and the sentinels in errors.go.
//
// Writes go through one door, Store.Propose: on the leader it applies through
// Raft; on a follower it forwards the encoded command over rpc ("raft.apply")
// and then waits until the follower itself has applied the returned index, so
// a client reads its own writes on the node it talked to. Store.Barrier is a
// read barrier ("raft.readindex"): after it returns, the local state holds
// every write acknowledged before the call. Store.Run is the leader-only
// reconciler: it bootstraps Raft with --bootstrap-expect nodes, proposes the
// cluster's Bootstrap, NodeUp and the first placement, adds new members as
// non-voters and promotes them to keep an odd number of voters, and replaces
// a voter that gossip has not seen for Config.VoterGrace by a healthy
// non-voter (voters.go: planVoters is the pure decision, never taken without
// a live majority). Store.RemoveServer takes a decommissioned node out of
// Raft, promoting a replacement first when it was a voter.
//
// raftfsm imports rpc and meta of Strata's packages, never node, s3api or
// dataplane. Raft traffic uses rpc stream 1 (RaftStream).
package raftfsm
