// Package dataplane is Strata's erasure-coded object store: it places objects
// on drives, encodes and decodes their data, and enforces the read and write
// quorums that make an acknowledged write survive the loss of M drives.
//
// It owns:
//   - placement: object -> placement group (PGOf, a keyed hash that must never
//     change) -> the PG's ordered K+M drives in meta.Placement -> the drive's
//     node; local drives are called directly, others over rpc;
//   - the shard format: an object (or each part of a multipart object) is
//     cut into blocks of BlockSize bytes, every block into K data + M parity
//     shards (reedsolomon); shard i of every block goes to PG drive i as
//     [4-byte big-endian CRC32C][shard bytes], so a shard file (or the
//     inline bytes of a small object) is the concatenation over blocks;
//   - versions: every key has its versions on its PG's drives (version ids
//     in versionid.go); a version exists by the quorum rules of keyView
//     (get.go); S3's versioning states decide between new versions and the
//     null version, delete markers and unversioned tombstones (delete.go);
//   - quorum writes under a per-key write lock held on a majority of the
//     PG's drives (lock.go documents the protocol and its trade-offs):
//     PutObject (with checksums, checksum.go, and conditional writes),
//     DeleteObject, SetObjectTags and SetObjectACL (a version's canned ACL
//     rides in its tag record, acl.go), CompleteMultipartUpload;
//   - slow and silent drives (quorum.go): a fan-out returns once a quorum
//     answered and the others had a straggler grace (StragglerWait for
//     reads; for writes max(WriteStragglerWait, twice the quorum's time));
//     calls still running then finish in the background (up to
//     MetaTimeout), so a slow drive still gets the write. A streamed PUT
//     cuts off a drive that lags a block behind a write quorum (or has not
//     stored its shard when a quorum has) after a longer grace
//     (max(10*WriteStragglerWait, 4x the quorum's time), at most
//     StallTimeout): it misses the object as a failed drive would. Nodes
//     gossip declared down (Config.Down) are not called at all. A paused
//     node thus costs a request the grace, not MetaTimeout or StallTimeout;
//   - multipart uploads (multipart.go): parts erasure-coded on their own,
//     completed without copying data;
//   - quorum reads with bitrot checks and reconstruction (GetObject,
//     Object.NewReader, across part boundaries), and listings that merge the
//     nodes' sorted pages (ListObjects, ListObjectVersions,
//     ListMultipartUploads; list.go: one dp.list_node call per node and
//     page, its reply in a compact binary form, listwire.go), and
//     DropBucket;
//   - DeleteObjects (deletemany.go): many keys deleted as DeleteObject
//     would, each phase of the lock protocol sent to each node as one
//     dp.key_ops call for all keys;
//   - healing (heal.go, scan.go): rebuildShard, the primitive that rebuilds
//     one shard of one version (inline, shard file or multipart) from the
//     other shards and restores it on any drive, durable before its record
//     commits and only while the version still exists (a rebalance reuses
//     it); read repair (a read that meets a missing or corrupt shard, or a
//     drive without the version's record, queues the version for the heal
//     workers); a scanner that walks, at ScanRate, the PGs this node is
//     responsible for and verifies every shard's block CRCs where the drive
//     is (dp.verify_shard); the refill of a drive replaced by an empty one
//     with the same id (Refill), or of a drive that replaced its damaged
//     index by an empty one (drive.Drive.OnIndexReset, registered by New);
//     all repairs at HealRate, progress in
//     HealStatus, background work in Run; after each scanner pass, the
//     orphan sweep (sweep.go) of every local drive not swept for
//     OrphanSweepInterval removes shard files no record refers to that
//     are older than OrphanMinAge (drive.Drive.SweepOrphans), never on a
//     drive waiting for or in a refill;
//   - the rpc messages and handlers ("dp.*") through which other nodes use
//     this node's drives and lock table.
//
// api.go is the contract with the S3 frontend (s3api.Objects). Main types:
// Store (one per node), Object (a resolved version, ready to read),
// Topology (read access to the replicated state).
//
// It must not import node, s3api, console, raftfsm or cluster: it sees the
// control state only through Topology and other nodes only through rpc.
package dataplane
