package dataplane

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// Version and upload ids: 16 bytes, 8 of time then 8 random, in lowercase
// base32hex without padding (26 characters of [0-9a-v], URL-safe).
// base32hex keeps the byte order, so:
//
//   - a version id starts with the version's ModTime inverted: ids of a
//     key sort newest first (the order of ListObjectVersions), and the
//     drives' index position of a version (ModTime, id) is known from the
//     id alone;
//   - an upload id starts with its initiation time: ids sort oldest first,
//     the order of ListMultipartUploads for a key.
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

const idLen = 26

// orderedTime maps a unix-nanosecond time to an unsigned number in the
// same order.
func orderedTime(t int64) uint64 { return uint64(t) ^ 1<<63 }

// newID returns an id whose first 8 bytes are prefix.
func newID(prefix uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], prefix)
	_, _ = rand.Read(b[8:]) // crypto/rand.Read never fails
	return idEncoding.EncodeToString(b[:])
}

// parseID decodes an id made by newID and returns its prefix.
func parseID(id string) (uint64, bool) {
	if len(id) != idLen || strings.ToLower(id) != id {
		return 0, false
	}
	b, err := idEncoding.DecodeString(id)
	if err != nil || len(b) != 16 || idEncoding.EncodeToString(b) != id {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[:8]), true
}

// newVersionID returns a fresh version id for a version of ModTime mod.
func newVersionID(mod int64) string { return newID(^orderedTime(mod)) }

// NewVersionID returns a fresh version id of the data plane's form for a
// version written at mod, for code outside the data plane that must
// produce ids the frontend accepts (the frontend's test fakes).
func NewVersionID(mod time.Time) string { return newVersionID(mod.UnixNano()) }

// versionTime returns the ModTime a version id was made for.
func versionTime(id string) (int64, bool) {
	p, ok := parseID(id)
	if !ok {
		return 0, false
	}
	return int64(^p ^ 1<<63), true
}

// newUploadID returns a fresh upload id initiated at t.
func newUploadID(t int64) string { return newID(orderedTime(t)) }

// uploadTime returns the initiation time of an upload id.
func uploadTime(id string) (int64, bool) {
	p, ok := parseID(id)
	if !ok {
		return 0, false
	}
	return int64(p ^ 1<<63), true
}

// ValidVersionID reports whether id is a version id this data plane could
// have made: NullVersionID or one of its own ids. The frontend answers
// InvalidArgument for others (GET, HEAD, DELETE ?versionId=,
// version-id-marker).
func ValidVersionID(id string) bool {
	if id == NullVersionID {
		return true
	}
	_, ok := versionTime(id)
	return ok
}

// ValidUploadID reports whether id is an upload id this data plane could
// have made (else the upload cannot exist: NoSuchUpload).
func ValidUploadID(id string) bool {
	_, ok := uploadTime(id)
	return ok
}

// dataDirSlot is how long shards get ids that start alike: the drives
// keep a shard in the fan-out folder of its id's first two characters
// (shards/<id[:2]>/), and writes that share a folder share its fsyncs
// (dataplane/drive: WriteShard). Over 256 slots (42 hours) the folders
// fill evenly.
const dataDirSlot = 10 * time.Minute

// newDataDir returns a fresh shard file id: 32 hex characters, the first
// two naming the current time slot (dataDirSlot), the rest random.
func newDataDir() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[0] = byte(time.Now().UnixNano() / int64(dataDirSlot))
	return hex.EncodeToString(b[:])
}
