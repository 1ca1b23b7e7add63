package dataplane

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/strata-io/strata/dataplane/drive"
)

// The reply of dp.list_node: a node's listing page, sent from every node to
// the coordinator of every listing page. It was JSON; encoding and decoding
// 1,000 records' JSON cost as much CPU as the drives' own index reads, so a
// coordinator that sets listReq.Enc to listEncBinary gets this compact
// binary form instead. A node that does not know the field (an older
// version, during a rolling upgrade) ignores it and answers JSON; the
// coordinator tells the two apart by the first byte (JSON starts with '{').
//
// Layout (uvarint: unsigned varint; varint: zig-zag varint; str: uvarint
// length + bytes; map: uvarint count + str key/value pairs, nil when 0):
//
//	page    = magic flags(uvarint: 1 More, 2 LastSub) str(Last)
//	          [varint(LastSub.Mod) str(LastSub.ID)] uvarint(n) n*str(Drives)
//	          uvarint(n) n*item
//	item    = str(Name) flags(uvarint: 1 Prefix, 2 More)
//	          uvarint(n) n*(uvarint(Count) fileinfo) uvarint(n) n*(uvarint(Count) upload)
//	fileinfo, upload: every field in the order of encodeFI and encodeUpload
//
// A FileInfo's Key is left out when it equals its item's Name, its Bucket
// when it equals the previous record's. The round-trip test fills every
// field of drive.FileInfo, drive.Part and drive.Upload, so a field added to
// them without a place here fails it.

// listEncBinary is listReq.Enc asking for the binary page.
const listEncBinary = "bin1"

// listWireMagic starts a binary page; no JSON text starts with it.
const listWireMagic = 0xB1

// fileinfo flags.
const (
	fiNull = 1 << iota
	fiDeleted
	fiTombstone
	fiKeyIsName
	fiBucketSame
	fiInline
)

// encodeNodePage is the body of a dp.list_node reply in the encoding the
// request asked for.
func encodeNodePage(p listPage, enc string) ([]byte, error) {
	if enc != listEncBinary {
		return json.Marshal(p)
	}
	return appendListPage(make([]byte, 0, 4<<10+256*len(p.Items)), p), nil
}

// decodeNodePage decodes a dp.list_node reply, binary or JSON.
func decodeNodePage(b []byte) (listPage, error) {
	var p listPage
	if len(b) > 0 && b[0] == listWireMagic {
		return readListPage(b)
	}
	err := json.Unmarshal(b, &p)
	return p, err
}

// appendListPage appends p's binary form to b.
func appendListPage(b []byte, p listPage) []byte {
	b = append(b, listWireMagic)
	var flags uint64
	if p.More {
		flags |= 1
	}
	if p.LastSub != nil {
		flags |= 2
	}
	b = binary.AppendUvarint(b, flags)
	b = appendStr(b, p.Last)
	if p.LastSub != nil {
		b = binary.AppendVarint(b, p.LastSub.Mod)
		b = appendStr(b, p.LastSub.ID)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Drives)))
	for _, d := range p.Drives {
		b = appendStr(b, d)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Items)))
	bucket := ""
	for _, it := range p.Items {
		b = appendStr(b, it.Name)
		flags = 0
		if it.Prefix {
			flags |= 1
		}
		if it.More {
			flags |= 2
		}
		b = binary.AppendUvarint(b, flags)
		b = binary.AppendUvarint(b, uint64(len(it.Versions)))
		for _, v := range it.Versions {
			b = binary.AppendUvarint(b, uint64(v.Count))
			b = appendFI(b, v.FI, it.Name, bucket)
			bucket = v.FI.Bucket
		}
		b = binary.AppendUvarint(b, uint64(len(it.Uploads)))
		for _, u := range it.Uploads {
			b = binary.AppendUvarint(b, uint64(u.Count))
			b = appendUpload(b, u.U)
		}
	}
	return b
}

// appendFI appends one record; name is its item's name, bucket the
// previous record's bucket.
func appendFI(b []byte, fi drive.FileInfo, name, bucket string) []byte {
	var flags uint64
	for _, f := range []struct {
		on  bool
		bit uint64
	}{{fi.Null, fiNull}, {fi.Deleted, fiDeleted}, {fi.Tombstone, fiTombstone}, {fi.Key == name, fiKeyIsName}, {fi.Bucket == bucket, fiBucketSame}, {fi.Inline != nil, fiInline}} {
		if f.on {
			flags |= f.bit
		}
	}
	b = binary.AppendUvarint(b, flags)
	if flags&fiBucketSame == 0 {
		b = appendStr(b, fi.Bucket)
	}
	if flags&fiKeyIsName == 0 {
		b = appendStr(b, fi.Key)
	}
	b = appendStr(b, fi.VersionID)
	b = binary.AppendVarint(b, fi.ModTime)
	b = binary.AppendVarint(b, fi.Size)
	b = appendStr(b, fi.ETag)
	b = appendMap(b, fi.Meta)
	b = appendMap(b, fi.Tags)
	b = binary.AppendVarint(b, fi.TagTime)
	b = appendStr(b, fi.ChecksumAlgo)
	b = appendStr(b, fi.ChecksumValue)
	b = appendStr(b, fi.ChecksumType)
	b = binary.AppendVarint(b, int64(fi.K))
	b = binary.AppendVarint(b, int64(fi.M))
	b = binary.AppendVarint(b, fi.BlockSize)
	b = binary.AppendVarint(b, int64(fi.Shard))
	b = appendStr(b, fi.DataDir)
	b = appendStr(b, fi.UploadID)
	b = binary.AppendUvarint(b, uint64(len(fi.Parts)))
	for _, p := range fi.Parts {
		b = binary.AppendVarint(b, int64(p.Number))
		b = binary.AppendVarint(b, p.Size)
		b = appendStr(b, p.ETag)
		b = appendStr(b, p.Checksum)
		b = appendStr(b, p.DataDir)
		b = binary.AppendVarint(b, p.ModTime)
	}
	b = binary.AppendVarint(b, int64(fi.PartCount))
	b = binary.AppendUvarint(b, uint64(len(fi.Missing)))
	for _, n := range fi.Missing {
		b = binary.AppendVarint(b, int64(n))
	}
	if fi.Inline != nil {
		b = binary.AppendUvarint(b, uint64(len(fi.Inline)))
		b = append(b, fi.Inline...)
	}
	return b
}

// appendUpload appends one upload.
func appendUpload(b []byte, u drive.Upload) []byte {
	b = appendStr(b, u.Bucket)
	b = appendStr(b, u.Key)
	b = appendStr(b, u.UploadID)
	b = binary.AppendVarint(b, u.Initiated)
	b = appendMap(b, u.Meta)
	b = appendMap(b, u.Tags)
	b = appendStr(b, u.ChecksumAlgo)
	b = appendStr(b, u.ChecksumType)
	var flags uint64
	if u.ChecksumDefaulted {
		flags = 1
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendVarint(b, int64(u.K))
	b = binary.AppendVarint(b, int64(u.M))
	b = binary.AppendVarint(b, u.BlockSize)
	return binary.AppendVarint(b, int64(u.Shard))
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for k, v := range m {
		b = appendStr(appendStr(b, k), v)
	}
	return b
}

// errListWire is a binary page that does not decode.
var errListWire = errors.New("dataplane: malformed binary list page")

// wireReader reads a binary page. Strings are cut from one string copy
// of the whole page (one allocation, not one per string). The first error
// sticks and every later read returns zero values.
type wireReader struct {
	b   []byte
	s   string // b as a string
	off int
	err error
}

func (r *wireReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errListWire, what)
	}
	r.off = len(r.b)
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad uvarint")
		return 0
	}
	r.off += n
	return v
}

func (r *wireReader) varint() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// int reads a varint that must fit an int.
func (r *wireReader) int() int {
	v := r.varint()
	if v < math.MinInt || v > math.MaxInt {
		r.fail("integer out of range")
		return 0
	}
	return int(v)
}

// count reads a length of elements that take at least one byte each, so
// that a corrupt length cannot make a huge allocation.
func (r *wireReader) count() int { return r.countOf(1) }

// countOf reads a length of elements that take at least size bytes each.
func (r *wireReader) countOf(size int) int {
	n := r.uvarint()
	if n > uint64((len(r.b)-r.off)/size) {
		r.fail("count beyond the end")
		return 0
	}
	return int(n)
}

// Least encoded sizes of an item and of a record (a count, flags and the
// one-byte lengths and zero values of every field).
const (
	minItemBytes    = 4
	minVersionBytes = 21
)

func (r *wireReader) str() string {
	n := r.count()
	out := r.s[r.off : r.off+n]
	r.off += n
	return out
}

func (r *wireReader) strMap() map[string]string {
	n := r.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

// readListPage decodes a page appendListPage made.
func readListPage(b []byte) (listPage, error) {
	r := &wireReader{b: b, s: string(b), off: 1}
	var p listPage
	flags := r.uvarint()
	p.More = flags&1 != 0
	p.Last = r.str()
	if flags&2 != 0 {
		p.LastSub = &subPos{Mod: r.varint(), ID: r.str()}
	}
	if n := r.count(); n > 0 {
		p.Drives = make([]string, n)
		for i := range p.Drives {
			p.Drives[i] = r.str()
		}
	}
	n := r.countOf(minItemBytes)
	p.Items = make([]listItem, n)
	bucket := ""
	var slab []listVersion // versions of several items, one allocation
	for i := range p.Items {
		it := &p.Items[i]
		it.Name = r.str()
		flags := r.uvarint()
		it.Prefix, it.More = flags&1 != 0, flags&2 != 0
		if nv := r.countOf(minVersionBytes); nv > 0 {
			if cap(slab)-len(slab) < nv {
				slab = make([]listVersion, 0, max(nv, n-i))
			}
			slab = slab[:len(slab)+nv]
			it.Versions = slab[len(slab)-nv : len(slab) : len(slab)]
			for j := range it.Versions {
				it.Versions[j].Count = int(r.uvarint())
				it.Versions[j].FI = r.fileInfo(it.Name, bucket)
				bucket = it.Versions[j].FI.Bucket
			}
		}
		if nu := r.count(); nu > 0 {
			it.Uploads = make([]listUpload, nu)
			for j := range it.Uploads {
				it.Uploads[j].Count = int(r.uvarint())
				it.Uploads[j].U = r.upload()
			}
		}
	}
	if r.err == nil && r.off < len(r.b) {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return listPage{}, r.err
	}
	return p, nil
}

func (r *wireReader) fileInfo(name, bucket string) drive.FileInfo {
	var fi drive.FileInfo
	flags := r.uvarint()
	fi.Null, fi.Deleted, fi.Tombstone = flags&fiNull != 0, flags&fiDeleted != 0, flags&fiTombstone != 0
	fi.Bucket, fi.Key = bucket, name
	if flags&fiBucketSame == 0 {
		fi.Bucket = r.str()
	}
	if flags&fiKeyIsName == 0 {
		fi.Key = r.str()
	}
	fi.VersionID = r.str()
	fi.ModTime = r.varint()
	fi.Size = r.varint()
	fi.ETag = r.str()
	fi.Meta = r.strMap()
	fi.Tags = r.strMap()
	fi.TagTime = r.varint()
	fi.ChecksumAlgo = r.str()
	fi.ChecksumValue = r.str()
	fi.ChecksumType = r.str()
	fi.K = r.int()
	fi.M = r.int()
	fi.BlockSize = r.varint()
	fi.Shard = r.int()
	fi.DataDir = r.str()
	fi.UploadID = r.str()
	if n := r.count(); n > 0 {
		fi.Parts = make([]drive.Part, n)
		for i := range fi.Parts {
			p := &fi.Parts[i]
			p.Number = r.int()
			p.Size = r.varint()
			p.ETag = r.str()
			p.Checksum = r.str()
			p.DataDir = r.str()
			p.ModTime = r.varint()
		}
	}
	fi.PartCount = r.int()
	if n := r.count(); n > 0 {
		fi.Missing = make([]int, n)
		for i := range fi.Missing {
			fi.Missing[i] = r.int()
		}
	}
	if flags&fiInline != 0 {
		fi.Inline = []byte(r.str())
	}
	return fi
}

func (r *wireReader) upload() drive.Upload {
	var u drive.Upload
	u.Bucket = r.str()
	u.Key = r.str()
	u.UploadID = r.str()
	u.Initiated = r.varint()
	u.Meta = r.strMap()
	u.Tags = r.strMap()
	u.ChecksumAlgo = r.str()
	u.ChecksumType = r.str()
	u.ChecksumDefaulted = r.uvarint()&1 != 0
	u.K = r.int()
	u.M = r.int()
	u.BlockSize = r.varint()
	u.Shard = r.int()
	return u
}
