// Package dataplane is Strata's erasure-coded object store: it places objects
// on drives, encodes and decodes their data, and enforces the read and write
// quorums that make an acknowledged PUT survive the loss of M drives.
//
// It owns:
//   - placement: object -> placement group (PGOf, a keyed hash that must never
//     change) -> the PG's ordered K+M drives in meta.Placement -> the drive's
//     node; local drives are called directly, others over rpc;
//   - the shard format: an object is cut into blocks of BlockSize bytes, every
//     block into K data + M parity shards (reedsolomon); shard i of every block
//     goes to PG drive i as [4-byte big-endian CRC32C][shard bytes], so a
//     shard file (or the inline bytes of a small object) is the
//     concatenation over blocks;
//   - quorum writes (PutObject, DeleteObject), quorum reads with bitrot checks
//     and reconstruction (GetObject, Object.NewReader), listing by merging the
//     nodes' sorted pages (ListObjects), and DropBucket;
//   - the rpc messages and handlers ("dp.*") through which other nodes use
//     this node's drives.
//
// Main types: Store (one per node), Object (a resolved version, ready to
// read), Topology (read access to the replicated state).
//
// It must not import node, s3api, console, raftfsm or cluster: it sees the
// control state only through Topology and other nodes only through rpc.
package dataplane
