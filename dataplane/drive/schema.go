package drive

import "io/fs"

// On-disk names. Every file and bbolt bucket the drive creates is named here
// and nowhere else, so the layout can be read in one place.
const (
	// FormatVersion is the only format version this code reads and writes.
	FormatVersion = 1

	formatFile    = "strata.format"     // JSON of Format
	formatTmpFile = "strata.format.tmp" // written, fsync'd, then renamed over formatFile
	indexFile     = "index.db"          // bbolt index
	tmpDir        = "tmp"               // shards being written; emptied by Open
	shardsDir     = "shards"            // committed shards: shards/<id[:2]>/<id>
	probeFile     = ".open-probe"       // in tmp/: Open's writability check

	dirPerm  fs.FileMode = 0o750
	filePerm fs.FileMode = 0o640
)

// bbolt layout:
//
//	objects/            top-level bucket
//	  <s3 bucket name>/ one nested bucket per S3 bucket
//	    <object key> -> encoded record (record.go)
var bucketObjects = []byte("objects")
