// Package drive owns one local drive folder of a Strata node: its format file
// (drive id, cluster and node binding), its bbolt index of object version
// records (with small objects' shard bytes inline) and its shard files, and
// the fsync rules that make a committed record survive a crash.
//
// Durability protocol: WriteShard writes tmp/<id> and fsyncs it;
// CommitVersion renames it to shards/<id[:2]>/<id>, fsyncs that folder, and
// only then writes the record in one bbolt transaction (fsync'd by bbolt).
// A crash before the transaction leaves at worst an unreferenced file.
//
// Main types: Drive (opened with Open), FileInfo (one version record),
// ListEntry, Format, and the FS seam through which all file I/O except
// bbolt's goes (OSFS is the real one; dataplane/drive/drivetest wraps it to
// inject faults).
//
// It must not import any other Strata package: dataplane uses it, never the
// reverse, and it knows nothing of placement, erasure coding or rpc.
package drive
