// Package drive owns one local drive folder of a Strata node: its format file
// (drive id, cluster and node binding), its bbolt index, and its shard files,
// with the fsync rules that make a committed record survive a crash.
//
// The index keeps, per S3 bucket and key, every version of the key newest
// first (ModTime descending, then version id: CompareVersions), delete
// markers and unversioned-delete tombstones included, and at most one null
// version, which a newer null version replaces (its shards freed). Small
// objects' shard bytes are stored inline in their record; a multipart
// object's record lists its parts' shard files in a compact binary section.
// Records written before versioning (one per key) still read, as the key's
// null version, and are converted on the key's next write. The index also
// keeps multipart uploads in progress: the upload's record and one record
// per part, whose shard files a completing version takes over (schema.go
// has the layout, record.go the value encodings).
//
// Durability protocol: WriteShard writes the shard in its final place,
// shards/<id[:2]>/<id> (with direct I/O where the file system has it,
// shard.go), fsyncs it, and fsyncs its folder (one fsync shared by the
// writes in flight: the data plane's ids start with a time slot, so they
// share a folder); the shard is then pending (pending.go): no reader opens
// it, AbortShard may remove it, the orphan sweep never does. CommitVersion
// (or CommitPart) claims it, sets its change time (for the sweep), and
// only then writes the record in one bbolt transaction (fsync'd by bbolt).
// A crash before the transaction leaves at worst an unreferenced file,
// which the orphan sweep removes. Shards no record references any more
// (replaced null versions, deleted versions, aborted uploads, parts a
// completion did not list, dropped buckets) are removed after the
// transaction that dropped them. (Shards were once written in tmp/ and
// renamed into place at commit: a rename and a folder fsync more per
// shard; docs/benchmarks.md.)
//
// Integrity (integrity.go): bbolt keeps no page checksums, so the drive
// checks what it reads. Every record carries CRC32C (version 3 records,
// version 2 upload and part values; record.go): a record that does not
// match gives ErrCorrupt, never other bytes. Open checks the whole index
// file before bbolt maps it (meta pages, every page's structure and
// references, key order, the layout of schema.go, every record's CRC):
// always after an unclean shutdown or for an index under 64 MiB, else in
// the background right after Open (Close leaves a clean mark once the
// index was checked). Every transaction runs behind a guard that turns a
// panic raised in bbolt, or a fault on its mapped file, into ErrCorrupt.
// Any ErrCorrupt from the index means the index is damaged and is never
// trusted again: the drive goes offline (every call fails with ErrCorrupt,
// nothing more is committed), moves the file aside as
// index.db.damaged-<unix time> (kept for analysis; logged at Error with
// the reason), starts a fresh empty index under the same drive id, and
// tells its OnIndexReset callbacks; the data plane then refills it from
// the other drives of its PGs, as a drive replaced by an empty one. Shard
// files are left in place: no record references them; the refill renames
// over those still needed, the rest stay as unreferenced files (like a
// crash's leftovers), so an unwarranted reset can be undone by hand until
// the drive is refilled (ResetsRefilled).
//
// Orphans (sweep.go): SweepOrphans removes the shard files no record
// refers to (names collected in one read transaction), that are not
// pending, and whose change time is older than a minimum age before the
// sweep began, so a shard committed meanwhile is never removed; it refuses to run while the index is
// damaged, not yet checked since Open, or reset and not yet refilled, and
// while a refill is pending.
//
// Healing: RestoreVersion commits a version rebuilt for this drive (shard
// files written under temporary names of the caller's choice, renamed over
// a corrupt copy, then the record), never replacing a newer null version;
// Options.FormatID formats an empty folder with the id of the drive it
// replaces, and Formatted reports that Open did so. MarkRefill keeps a
// refill-pending file in the folder from the moment the data plane queues
// a refill until it completes, and RefillPending reports it, so that a
// refill a restart cut short is queued again.
//
// Main types: Drive (opened with Open, OnIndexReset, IndexResets,
// SweepOrphans with SweepStats),
// FileInfo (one version record), Part
// and Upload (multipart), Ref (names a version), KeyVersions, ListOptions,
// ListEntry and UploadEntry, Format, and the FS seam through which all file
// I/O except bbolt's goes (OSFS is the real one; dataplane/drive/drivetest
// wraps it to inject faults). FsyncDelayEnv is a test hook that slows the
// drive's fsyncs in a running node process (test/chaos uses it).
//
// It must not import any other Strata package: dataplane uses it, never the
// reverse, and it knows nothing of placement, erasure coding, S3 semantics
// or rpc.
package drive
