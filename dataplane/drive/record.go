package drive

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Index value encoding, version 1:
//
//	[1 byte: recordV1][1 byte: flags][uvarint: n][n bytes: JSON of record][inline bytes]
//
// Bucket and key are not stored (they are the bbolt path). The inline shard
// bytes are raw after the JSON so that List, which never returns them, does
// not decode them. flagInline marks a non-nil Inline (an empty object's
// inline shard is empty but present).
const (
	recordV1   byte = 1
	flagInline byte = 1 << 0
)

// record is the JSON part of an index value: FileInfo without Bucket, Key
// and Inline, with short field names. Field names are part of the on-disk
// format: never rename one.
type record struct {
	VersionID string            `json:"v,omitempty"`
	ModTime   int64             `json:"t,omitempty"`
	Deleted   bool              `json:"d,omitempty"`
	Size      int64             `json:"s,omitempty"`
	ETag      string            `json:"e,omitempty"`
	Meta      map[string]string `json:"m,omitempty"`
	K         int               `json:"k,omitempty"`
	M         int               `json:"p,omitempty"`
	BlockSize int64             `json:"b,omitempty"`
	Shard     int               `json:"i,omitempty"`
	DataDir   string            `json:"dd,omitempty"`
}

// encodeRecord encodes fi as an index value.
func encodeRecord(fi FileInfo) ([]byte, error) {
	js, err := json.Marshal(record{
		VersionID: fi.VersionID,
		ModTime:   fi.ModTime,
		Deleted:   fi.Deleted,
		Size:      fi.Size,
		ETag:      fi.ETag,
		Meta:      fi.Meta,
		K:         fi.K,
		M:         fi.M,
		BlockSize: fi.BlockSize,
		Shard:     fi.Shard,
		DataDir:   fi.DataDir,
	})
	if err != nil {
		return nil, fmt.Errorf("drive: encode record %s/%s: %w", fi.Bucket, fi.Key, err)
	}
	var flags byte
	if fi.Inline != nil {
		flags |= flagInline
	}
	out := make([]byte, 0, 2+binary.MaxVarintLen64+len(js)+len(fi.Inline))
	out = append(out, recordV1, flags)
	out = binary.AppendUvarint(out, uint64(len(js)))
	out = append(out, js...)
	out = append(out, fi.Inline...)
	return out, nil
}

// decodeRecord decodes an index value of bucket/key. The result never
// aliases v (bbolt memory is valid only inside its transaction). Inline is
// decoded only when withInline is set.
func decodeRecord(bucket, key string, v []byte, withInline bool) (FileInfo, error) {
	corrupt := func(why string) (FileInfo, error) {
		return FileInfo{}, fmt.Errorf("drive: index record %s/%s: %s: %w", bucket, key, why, ErrCorrupt)
	}
	if len(v) < 3 {
		return corrupt("too short")
	}
	if v[0] != recordV1 {
		return corrupt(fmt.Sprintf("unknown record version %d", v[0]))
	}
	flags := v[1]
	n, w := binary.Uvarint(v[2:])
	if w <= 0 || n > uint64(len(v)-2-w) {
		return corrupt("bad length")
	}
	js := v[2+w : 2+w+int(n)]
	var r record
	if err := json.Unmarshal(js, &r); err != nil {
		return corrupt(err.Error())
	}
	fi := FileInfo{
		Bucket:    bucket,
		Key:       key,
		VersionID: r.VersionID,
		ModTime:   r.ModTime,
		Deleted:   r.Deleted,
		Size:      r.Size,
		ETag:      r.ETag,
		Meta:      r.Meta,
		K:         r.K,
		M:         r.M,
		BlockSize: r.BlockSize,
		Shard:     r.Shard,
		DataDir:   r.DataDir,
	}
	if withInline && flags&flagInline != 0 {
		tail := v[2+w+int(n):]
		fi.Inline = make([]byte, len(tail))
		copy(fi.Inline, tail)
	}
	return fi, nil
}

// newer reports whether a should replace b as the current record of a key:
// a later ModTime wins; on equal ModTime the greater VersionID wins, so every
// drive picks the same record whatever the order of commits. An equal record
// (a retried commit) also replaces, which makes CommitVersion idempotent.
func newer(a, b FileInfo) bool {
	if a.ModTime != b.ModTime {
		return a.ModTime > b.ModTime
	}
	return a.VersionID >= b.VersionID
}
