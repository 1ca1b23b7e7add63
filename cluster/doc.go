// Package cluster is the node's view of who is alive: it runs hashicorp/memberlist
// gossip (encrypted with a key derived from the cluster key), publishes this
// node's addresses, drives and build version as member metadata, and turns memberlist
// notifications into typed events (Join, Update, Leave). It keeps knocking
// on the last address of members gossip declared down, so that the two sides
// of a healed partition, each sure the other is dead, find each other again.
//
// Main types: Cluster (the running gossip member), Member (a peer and its
// advertised metadata), Event.
//
// It knows nothing of Raft, buckets or shards, and imports no other package of
// ours; node adapts its events for raftfsm.
package cluster
