package drive

import "io/fs"

// On-disk names. Every file and bbolt bucket the drive creates is named here
// and nowhere else, so the layout can be read in one place.
const (
	// FormatVersion is the only format version this code reads and writes.
	FormatVersion = 1

	formatFile    = "strata.format"     // JSON of Format
	formatTmpFile = "strata.format.tmp" // written, fsync'd, then renamed over formatFile
	indexFile     = "index.db"          // bbolt index; a damaged one is kept as index.db.damaged-<unix time> (integrity.go)
	cleanFile     = "index.clean"       // written by Close after a clean shutdown, removed by Open (integrity.go)
	tmpDir        = "tmp"               // the drive's short-lived files (Open's probe; shards of older versions); emptied by Open
	shardsDir     = "shards"            // shards, pending and committed: shards/<id[:2]>/<id>
	probeFile     = ".open-probe"       // in tmp/: Open's writability check

	dirPerm  fs.FileMode = 0o750
	filePerm fs.FileMode = 0o640
)

// bbolt layout:
//
//	objects/                 top-level bucket
//	  <s3 bucket name>/      one nested bucket per S3 bucket
//	    <object key> -> encoded version-1 record (record.go): a key written
//	                    before versioning, read as its null version
//	    <object key>/        or: one nested bucket per key, holding its versions
//	      <version key> -> encoded version-3 record (or 2, older); version key =
//	                       versionKey(ModTime, VersionID), so a cursor
//	                       walks the versions newest first
//	      "\x00null"   -> version key of the null version, if any
//	uploads/                 top-level bucket
//	  <s3 bucket name>/<object key>/<upload id>/   one nested bucket per upload
//	      "\x00upload" -> encoded Upload (record.go: encodeValue)
//	      "p" + 4-byte big-endian part number -> encoded Part
//
// A version key is at least 9 bytes (8 of time, then the version id);
// index entries of a key bucket shorter than 8 bytes are metadata.
//
// The integrity check at Open (integrity.go: indexChecker.enter, entry,
// leave) knows this layout and takes any other entry for damage: change
// it with the layout.
var (
	bucketObjects = []byte("objects")
	bucketUploads = []byte("uploads")

	keyNullPointer = []byte("\x00null")
	keyUploadInfo  = []byte("\x00upload")
)

// metaEntry reports whether k is a metadata entry of a key bucket rather
// than a version.
func metaEntry(k []byte) bool { return len(k) < 8 }
