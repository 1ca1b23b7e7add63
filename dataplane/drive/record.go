package drive

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
)

// Index value encoding.
//
// Version 1 (written by the first releases, one record per key; still read):
//
//	[1 byte: recordV1][1 byte: flags][uvarint: n][n bytes: JSON of record][inline bytes]
//
// Version 2 (one record per object version; still read):
//
//	[1 byte: recordV2][1 byte: flags][uvarint: n][n bytes: JSON of record]
//	[uvarint: p][p bytes: parts][inline bytes]
//
// Version 3 (written now): version 2 with two CRC32C (Castagnoli,
// big-endian) after the flags:
//
//	[1 byte: recordV3][1 byte: flags][4 bytes: head CRC][4 bytes: body CRC]
//	[uvarint: n][n bytes: JSON of record][uvarint: p][p bytes: parts][inline bytes]
//
// The head CRC covers the record's place in the index (bucket, key and
// version key, each as uvarint length and bytes: a record that a bit flip
// moved to another key fails it) then the version and flags bytes, the
// JSON length and the JSON; the body CRC continues from the head CRC over
// everything after the JSON (parts and inline bytes). Reading a header
// (List, ReadVersions) checks the head CRC only, so a listing never reads
// the inline bytes; reading parts or inline bytes checks both. A mismatch
// is ErrCorrupt: the drive never returns what it did not write.
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
//
// Upload and part records (uploads/ in schema.go) are JSON: raw in version
// 1 (the value starts with '{'), and in version 2, written now,
//
//	[1 byte: valueV2][4 bytes: CRC32C of the JSON][JSON]
//
// (encodeValue, decodeValue); the integrity check at Open compares their
// bucket, key, upload id and part number with their place in the index.
const (
	recordV1   byte = 1
	recordV2   byte = 2
	recordV3   byte = 3
	flagInline byte = 1 << 0

	v3Fixed      = 10 // version, flags and the two CRCs of a version-3 record
	valueV2 byte = 2
)

// castagnoli is the CRC32C table of index checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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

// encodeRecord encodes fi as a version-3 index value, for its place
// fi.Bucket/fi.Key/versionKey(fi.ModTime, fi.VersionID).
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
	out := make([]byte, 0, v3Fixed+2*binary.MaxVarintLen64+len(js)+len(parts)+len(fi.Inline))
	out = append(out, recordV3, flags, 0, 0, 0, 0, 0, 0, 0, 0)
	out = binary.AppendUvarint(out, uint64(len(js)))
	out = append(out, js...)
	headEnd := len(out)
	out = binary.AppendUvarint(out, uint64(len(parts)))
	out = append(out, parts...)
	out = append(out, fi.Inline...)
	head := headCRC(fi.Bucket, fi.Key, versionKey(fi.ModTime, fi.VersionID), out, headEnd)
	binary.BigEndian.PutUint32(out[2:], head)
	binary.BigEndian.PutUint32(out[6:], bodyCRC(head, out, headEnd))
	return out, nil
}

// headCRC computes the head CRC of the version-3 value v whose JSON ends
// at headEnd, at index place bucket/key/vk.
func headCRC(bucket, key string, vk, v []byte, headEnd int) uint32 {
	var lb [binary.MaxVarintLen64]byte
	var crc uint32
	for _, s := range [][]byte{[]byte(bucket), []byte(key), vk} {
		crc = crc32.Update(crc, castagnoli, binary.AppendUvarint(lb[:0], uint64(len(s))))
		crc = crc32.Update(crc, castagnoli, s)
	}
	crc = crc32.Update(crc, castagnoli, v[:2])
	return crc32.Update(crc, castagnoli, v[v3Fixed:headEnd])
}

// bodyCRC computes the body CRC of the version-3 value v from its head CRC.
func bodyCRC(head uint32, v []byte, headEnd int) uint32 {
	return crc32.Update(head, castagnoli, v[headEnd:])
}

// v3HeadEnd returns the offset where the JSON of version-3 value v ends,
// or ok false when its length does not fit in v.
func v3HeadEnd(v []byte) (end int, ok bool) {
	if len(v) <= v3Fixed {
		return 0, false
	}
	n, w := binary.Uvarint(v[v3Fixed:])
	if w <= 0 || n > uint64(len(v)-v3Fixed-w) {
		return 0, false
	}
	return v3Fixed + w + int(n), true
}

// checkRecordV3 checks both CRCs of version-3 value v at index place
// bucket/key/vk without decoding it (the integrity check at Open).
func checkRecordV3(bucket, key string, vk, v []byte) error {
	end, ok := v3HeadEnd(v)
	if !ok {
		return fmt.Errorf("drive: index record %s/%s: bad length: %w", bucket, key, ErrCorrupt)
	}
	head := headCRC(bucket, key, vk, v, end)
	if head != binary.BigEndian.Uint32(v[2:]) || bodyCRC(head, v, end) != binary.BigEndian.Uint32(v[6:]) {
		return fmt.Errorf("drive: index record %s/%s: checksum mismatch: %w", bucket, key, ErrCorrupt)
	}
	return nil
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

// decodeRecord decodes an index value of bucket/key, of any version. The
// result never aliases v (bbolt memory is valid only inside its
// transaction). Inline and Parts are decoded only when asked. A version-3
// value whose CRC does not match (see the encoding above) gives ErrCorrupt.
func decodeRecord(bucket, key string, v []byte, opts decodeOpts) (FileInfo, error) {
	corrupt := func(why string) (FileInfo, error) {
		return FileInfo{}, fmt.Errorf("drive: index record %s/%s: %s: %w", bucket, key, why, ErrCorrupt)
	}
	if len(v) < 3 {
		return corrupt("too short")
	}
	var js, rest []byte
	switch v[0] {
	case recordV1, recordV2:
		n, w := binary.Uvarint(v[2:])
		if w <= 0 || n > uint64(len(v)-2-w) {
			return corrupt("bad length")
		}
		js, rest = v[2+w:2+w+int(n)], v[2+w+int(n):]
	case recordV3:
		end, ok := v3HeadEnd(v)
		if !ok {
			return corrupt("bad length")
		}
		_, w := binary.Uvarint(v[v3Fixed:])
		js, rest = v[v3Fixed+w:end], v[end:]
	default:
		return corrupt(fmt.Sprintf("unknown record version %d", v[0]))
	}
	flags := v[1]
	var r record
	if err := json.Unmarshal(js, &r); err != nil {
		return corrupt(err.Error())
	}
	if v[0] == recordV3 {
		// The version key comes from the decoded JSON: a record whose
		// JSON changed, or that sits at another key, fails the CRC.
		end := len(v) - len(rest)
		head := headCRC(bucket, key, versionKey(r.ModTime, r.VersionID), v, end)
		if head != binary.BigEndian.Uint32(v[2:]) {
			return corrupt("checksum mismatch")
		}
		if (opts.inline || opts.parts) && bodyCRC(head, v, end) != binary.BigEndian.Uint32(v[6:]) {
			return corrupt("checksum mismatch in parts or inline data")
		}
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

// encodeValue encodes x (an Upload or a Part) as a version-2 upload or
// part value: JSON behind its CRC32C.
func encodeValue(x any) ([]byte, error) {
	js, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(js))
	out[0] = valueV2
	binary.BigEndian.PutUint32(out[1:], crc32.Checksum(js, castagnoli))
	return append(out, js...), nil
}

// decodeValue decodes an upload or part value of either version into x
// (a pointer); a damaged value gives ErrCorrupt.
func decodeValue(v []byte, x any) error {
	js := v
	switch {
	case len(v) > 0 && v[0] == '{': // version 1: raw JSON
	case len(v) >= 5 && v[0] == valueV2:
		js = v[5:]
		if crc32.Checksum(js, castagnoli) != binary.BigEndian.Uint32(v[1:]) {
			return fmt.Errorf("drive: upload or part record: checksum mismatch: %w", ErrCorrupt)
		}
	default:
		return fmt.Errorf("drive: upload or part record of unknown version: %w", ErrCorrupt)
	}
	if err := json.Unmarshal(js, x); err != nil {
		return fmt.Errorf("drive: upload or part record: %v: %w", err, ErrCorrupt)
	}
	return nil
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
