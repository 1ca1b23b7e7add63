package drive

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Index value encoding.
//
// Version 1 (written by the first releases, one record per key; still read):
//
//	[1 byte: recordV1][1 byte: flags][uvarint: n][n bytes: JSON of record][inline bytes]
//
// Version 2 (one record per object version):
//
//	[1 byte: recordV2][1 byte: flags][uvarint: n][n bytes: JSON of record]
//	[uvarint: p][p bytes: parts][inline bytes]
//
// Bucket and key are not stored (they are the bbolt path). The inline shard
// bytes are raw after the rest so that List, which never returns them, does
// not decode them; the same holds for the parts of a multipart object, in a
// compact binary form (see appendParts) because an object may have 10,000 of
// them. flagInline marks a non-nil Inline (an empty object's inline shard is
// empty but present).
//
// A version-1 record is the null version of its key (it was written before
// versioning existed); a version-1 tombstone is an unversioned delete.
const (
	recordV1   byte = 1
	recordV2   byte = 2
	flagInline byte = 1 << 0
)

// record is the JSON part of an index value: FileInfo without Bucket, Key,
// Parts and Inline, with short field names. Field names are part of the
// on-disk format: never rename one.
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

	// Version 2 fields.
	Null          bool              `json:"n,omitempty"`
	Tombstone     bool              `json:"x,omitempty"`
	Tags          map[string]string `json:"g,omitempty"`
	TagTime       int64             `json:"gt,omitempty"`
	ChecksumAlgo  string            `json:"ca,omitempty"`
	ChecksumValue string            `json:"cv,omitempty"`
	ChecksumType  string            `json:"ct,omitempty"`
	UploadID      string            `json:"u,omitempty"`
	PartCount     int               `json:"pc,omitempty"`
	Missing       []int             `json:"ms,omitempty"`
}

// encodeRecord encodes fi as a version-2 index value.
func encodeRecord(fi FileInfo) ([]byte, error) {
	r := record{
		VersionID:     fi.VersionID,
		ModTime:       fi.ModTime,
		Deleted:       fi.Deleted,
		Size:          fi.Size,
		ETag:          fi.ETag,
		Meta:          fi.Meta,
		K:             fi.K,
		M:             fi.M,
		BlockSize:     fi.BlockSize,
		Shard:         fi.Shard,
		DataDir:       fi.DataDir,
		Null:          fi.Null,
		Tombstone:     fi.Tombstone,
		Tags:          fi.Tags,
		TagTime:       fi.TagTime,
		ChecksumAlgo:  fi.ChecksumAlgo,
		ChecksumValue: fi.ChecksumValue,
		ChecksumType:  fi.ChecksumType,
		UploadID:      fi.UploadID,
		PartCount:     len(fi.Parts),
		Missing:       fi.Missing,
	}
	js, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("drive: encode record %s/%s: %w", fi.Bucket, fi.Key, err)
	}
	parts := appendParts(nil, fi.Parts)
	var flags byte
	if fi.Inline != nil {
		flags |= flagInline
	}
	out := make([]byte, 0, 2+2*binary.MaxVarintLen64+len(js)+len(parts)+len(fi.Inline))
	out = append(out, recordV2, flags)
	out = binary.AppendUvarint(out, uint64(len(js)))
	out = append(out, js...)
	out = binary.AppendUvarint(out, uint64(len(parts)))
	out = append(out, parts...)
	out = append(out, fi.Inline...)
	return out, nil
}

// decodeOpts selects the optional, possibly large sections to decode.
type decodeOpts struct {
	inline bool
	parts  bool
}

var (
	decodeAll    = decodeOpts{inline: true, parts: true}
	decodeHeader = decodeOpts{}
)

// decodeRecord decodes an index value of bucket/key, of either version. The
// result never aliases v (bbolt memory is valid only inside its
// transaction). Inline and Parts are decoded only when asked.
func decodeRecord(bucket, key string, v []byte, opts decodeOpts) (FileInfo, error) {
	corrupt := func(why string) (FileInfo, error) {
		return FileInfo{}, fmt.Errorf("drive: index record %s/%s: %s: %w", bucket, key, why, ErrCorrupt)
	}
	if len(v) < 3 {
		return corrupt("too short")
	}
	if v[0] != recordV1 && v[0] != recordV2 {
		return corrupt(fmt.Sprintf("unknown record version %d", v[0]))
	}
	flags := v[1]
	n, w := binary.Uvarint(v[2:])
	if w <= 0 || n > uint64(len(v)-2-w) {
		return corrupt("bad length")
	}
	js := v[2+w : 2+w+int(n)]
	rest := v[2+w+int(n):]
	var r record
	if err := json.Unmarshal(js, &r); err != nil {
		return corrupt(err.Error())
	}
	fi := FileInfo{
		Bucket:        bucket,
		Key:           key,
		VersionID:     r.VersionID,
		ModTime:       r.ModTime,
		Deleted:       r.Deleted,
		Size:          r.Size,
		ETag:          r.ETag,
		Meta:          r.Meta,
		K:             r.K,
		M:             r.M,
		BlockSize:     r.BlockSize,
		Shard:         r.Shard,
		DataDir:       r.DataDir,
		Null:          r.Null,
		Tombstone:     r.Tombstone,
		Tags:          r.Tags,
		TagTime:       r.TagTime,
		ChecksumAlgo:  r.ChecksumAlgo,
		ChecksumValue: r.ChecksumValue,
		ChecksumType:  r.ChecksumType,
		UploadID:      r.UploadID,
		PartCount:     r.PartCount,
		Missing:       r.Missing,
	}
	if v[0] == recordV1 {
		// Written before versioning: the key's null version; a deleted
		// one was an unversioned delete, never a visible delete marker.
		fi.Null = true
		fi.Tombstone = fi.Deleted
	} else {
		pn, pw := binary.Uvarint(rest)
		if pw <= 0 || pn > uint64(len(rest)-pw) {
			return corrupt("bad parts length")
		}
		pb := rest[pw : pw+int(pn)]
		rest = rest[pw+int(pn):]
		if opts.parts && len(pb) > 0 {
			parts, err := decodeParts(pb)
			if err != nil {
				return corrupt(err.Error())
			}
			if len(parts) != r.PartCount {
				return corrupt(fmt.Sprintf("%d parts, header says %d", len(parts), r.PartCount))
			}
			fi.Parts = parts
		}
	}
	if opts.inline && flags&flagInline != 0 {
		fi.Inline = make([]byte, len(rest))
		copy(fi.Inline, rest)
	}
	return fi, nil
}

// Parts section: for every part, in order,
//
//	uvarint number, uvarint size, packed ETag, packed Checksum, packed DataDir
//
// where a packed string is uvarint(len<<2 | form) and len bytes: form 0 is
// the raw string, 1 a lowercase hex string stored decoded, 2 a standard
// base64 string stored decoded. MD5 ETags, shard ids and checksums thus take
// half (or three quarters) of their text: 10,000 parts cost about 500 KB.
const (
	packRaw    = 0
	packHex    = 1
	packBase64 = 2
)

func appendParts(b []byte, parts []Part) []byte {
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(p.Number))
		b = binary.AppendUvarint(b, uint64(p.Size))
		b = appendPacked(b, p.ETag)
		b = appendPacked(b, p.Checksum)
		b = appendPacked(b, p.DataDir)
	}
	return b
}

func appendPacked(b []byte, s string) []byte {
	if s != "" && len(s)%2 == 0 && isLowerHex(s) {
		raw, _ := hex.DecodeString(s)
		b = binary.AppendUvarint(b, uint64(len(raw))<<2|packHex)
		return append(b, raw...)
	}
	if s != "" && len(s)%4 == 0 {
		if raw, err := base64.StdEncoding.DecodeString(s); err == nil && base64.StdEncoding.EncodeToString(raw) == s {
			b = binary.AppendUvarint(b, uint64(len(raw))<<2|packBase64)
			return append(b, raw...)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s))<<2|packRaw)
	return append(b, s...)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// partReader decodes the parts section.
type partReader struct {
	b   []byte
	err error
}

func (r *partReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, w := binary.Uvarint(r.b)
	if w <= 0 {
		r.err = fmt.Errorf("bad varint in parts")
		return 0
	}
	r.b = r.b[w:]
	return v
}

func (r *partReader) packed() string {
	h := r.uvarint()
	if r.err != nil {
		return ""
	}
	n, form := h>>2, h&3
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("packed string past the end of parts")
		return ""
	}
	raw := r.b[:n]
	r.b = r.b[n:]
	switch form {
	case packRaw:
		return string(raw)
	case packHex:
		return hex.EncodeToString(raw)
	case packBase64:
		return base64.StdEncoding.EncodeToString(raw)
	}
	r.err = fmt.Errorf("unknown packed string form %d", form)
	return ""
}

func decodeParts(b []byte) ([]Part, error) {
	r := &partReader{b: b}
	var parts []Part
	for len(r.b) > 0 && r.err == nil {
		var p Part
		p.Number = int(r.uvarint())
		p.Size = int64(r.uvarint())
		p.ETag = r.packed()
		p.Checksum = r.packed()
		p.DataDir = r.packed()
		parts = append(parts, p)
	}
	return parts, r.err
}

// newer reports whether a should replace b as a key's null version (or as
// a part of an upload): a later ModTime wins; on equal ModTime the greater
// VersionID wins, so every drive picks the same record whatever the order
// of commits. An equal record (a retried commit) also replaces, which makes
// commits idempotent.
func newer(a, b FileInfo) bool {
	if a.ModTime != b.ModTime {
		return a.ModTime > b.ModTime
	}
	return a.VersionID >= b.VersionID
}
