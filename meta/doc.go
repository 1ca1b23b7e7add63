// Package meta holds Strata's replicated control state and the pure functions
// that change it: the typed Raft commands and their wire format (command.go),
// State.Apply with one function per command kind (cluster.go, node.go,
// placement.go, bucket.go, user.go), deterministic PG placement
// (ComputePlacement), and the versioned snapshot format (snapshot.go).
//
// Main types: State, Command (Bootstrap, NodeUp, SetPlacement, CreateBucket,
// DeleteBucket, PutUser, Skipped), Placement.
//
// Everything here is pure: no I/O beyond the io.Reader/io.Writer handed in,
// no time.Now, no randomness, so every replica applies a command to the same
// result. The proposer puts timestamps and ids into commands. meta imports no
// other package of Strata; raftfsm applies commands to it.
package meta
