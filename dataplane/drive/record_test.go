package drive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	parts := []Part{
		{Number: 1, Size: 5 << 20, ETag: "0123456789abcdef0123456789abcdef", Checksum: "AAAAAA==", DataDir: "0123456789abcdef0123456789abcdef"},
		{Number: 7, Size: 3, ETag: "not-hex", Checksum: "not base64", DataDir: "Odd_Name-1"},
		{Number: 10000, Size: 0, ETag: "", Checksum: "", DataDir: "ab"},
	}
	cases := []FileInfo{
		{Bucket: "b", Key: "k", VersionID: "v"},
		{Bucket: "b", Key: "k", VersionID: "v", ModTime: -5, Deleted: true},
		{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1700000000000000000, Size: 1 << 40, ETag: "e",
			Meta: map[string]string{"content-type": "text/plain", "x-amz-meta-a": ""}, K: 4, M: 2, BlockSize: 1 << 20, Shard: 5, DataDir: "dd"},
		{Bucket: "b", Key: "k", VersionID: "v", Inline: []byte{}},
		{Bucket: "b", Key: "k", VersionID: "v", Inline: bytes.Repeat([]byte{0, 0xff}, 70000)},
		{Bucket: "b", Key: "k", VersionID: "v", Null: true, Deleted: true, Tombstone: true, ModTime: 3},
		{Bucket: "b", Key: "k", VersionID: "v", Tags: map[string]string{"a": "b"}, TagTime: 9, ChecksumAlgo: "CRC32",
			ChecksumValue: "AAAAAA==-3", ChecksumType: "COMPOSITE", UploadID: "u1", Parts: parts, PartCount: 3, Missing: []int{7}, Inline: []byte("x")},
	}
	for i, fi := range cases {
		v, err := encodeRecord(fi)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(fi.Bucket, fi.Key, v, decodeAll)
		if err != nil || !reflect.DeepEqual(got, fi) {
			t.Errorf("case %d: decode = %+v, %v", i, got, err)
		}
		header := fi
		header.Inline, header.Parts = nil, nil
		got, err = decodeRecord(fi.Bucket, fi.Key, v, decodeHeader)
		if err != nil || !reflect.DeepEqual(got, header) {
			t.Errorf("case %d: decode of the header = %+v, %v", i, got, err)
		}
		// The result must not alias the value (bbolt reuses that memory).
		got, _ = decodeRecord(fi.Bucket, fi.Key, v, decodeAll)
		for j := range v {
			v[j] = 0xee
		}
		if !reflect.DeepEqual(got, fi) {
			t.Errorf("case %d: decoded record aliases the value", i)
		}
	}
}

// TestRecordGolden pins the value encodings: records already on drives
// must keep decoding. A version-1 record (written before versioning) is
// its key's null version, a version-1 deleted record a tombstone.
func TestRecordGolden(t *testing.T) {
	v1 := FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 42, Size: 3, ETag: "e",
		Meta: map[string]string{"ct": "x"}, K: 2, M: 1, BlockSize: 1024, Shard: 2, DataDir: "dd", Inline: []byte("abc")}
	golden1 := []byte("\x01\x01\x53" + `{"v":"v1","t":42,"s":3,"e":"e","m":{"ct":"x"},"k":2,"p":1,"b":1024,"i":2,"dd":"dd"}` + "abc")
	want := v1
	want.Null = true
	got, err := decodeRecord("b", "k", golden1, decodeAll)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v1 decodes to %+v, %v", got, err)
	}
	tomb1 := []byte("\x01\x00\x18" + `{"v":"t","t":7,"d":true}`)
	got, err = decodeRecord("b", "k", tomb1, decodeAll)
	if err != nil || !got.Deleted || !got.Tombstone || !got.Null || got.VersionID != "t" {
		t.Fatalf("v1 tombstone decodes to %+v, %v", got, err)
	}

	v2 := FileInfo{Bucket: "b", Key: "k", VersionID: "v2", Null: true, ModTime: 42, Size: 3, ETag: "e-2",
		Tags: map[string]string{"t": "1"}, ChecksumAlgo: "CRC32", ChecksumValue: "AAAAAQ==", ChecksumType: "FULL_OBJECT",
		K: 2, M: 1, BlockSize: 1024, Shard: 2, UploadID: "u", PartCount: 1,
		Parts: []Part{{Number: 1, Size: 3, ETag: "00ff", Checksum: "AAAAAQ==", DataDir: "abcd"}}}
	golden2 := []byte("\x02\x00\x92\x01" + `{"v":"v2","t":42,"s":3,"e":"e-2","k":2,"p":1,"b":1024,"i":2,"n":true,"g":{"t":"1"},"ca":"CRC32","cv":"AAAAAQ==","ct":"FULL_OBJECT","u":"u","pc":1}` +
		"\x0d\x01\x03\x09\x00\xff\x12\x00\x00\x00\x01\x09\xab\xcd")
	got, err = decodeRecord("b", "k", golden2, decodeAll)
	if err != nil || !reflect.DeepEqual(got, v2) {
		t.Fatalf("golden v2 decodes to %+v, %v", got, err)
	}

	// Version 3, written now: version 2 behind two CRC32C.
	v3 := FileInfo{Bucket: "b", Key: "k", VersionID: "v3", ModTime: 42, Size: 3, ETag: "e", K: 2, M: 1, BlockSize: 1024, Shard: 1,
		UploadID: "u", PartCount: 1, Parts: []Part{{Number: 1, Size: 3, ETag: "00ff", DataDir: "abcd"}}, Inline: []byte("xy")}
	golden3 := []byte("\x03\x01\xaf1\a\xa5l\xf4WrI" + `{"v":"v3","t":42,"s":3,"e":"e","k":2,"p":1,"b":1024,"i":1,"u":"u","pc":1}` +
		"\t\x01\x03\t\x00\xff\x00\t\xab\xcd" + "xy")
	v, err := encodeRecord(v3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, golden3) {
		t.Fatalf("encoding changed:\n got %q\nwant %q", v, golden3)
	}
	got, err = decodeRecord("b", "k", golden3, decodeAll)
	if err != nil || !reflect.DeepEqual(got, v3) {
		t.Fatalf("golden v3 decodes to %+v, %v", got, err)
	}
	// The CRCs are what the encoding comment says, computed the plain way:
	// head over the place (uvarint lengths and bytes of bucket, key,
	// version key), the version and flags bytes, the JSON length and JSON;
	// body over the same then the rest.
	vk := versionKey(42, "v3")
	place := append([]byte{1, 'b', 1, 'k', byte(len(vk))}, vk...)
	headEnd := v3Fixed + 1 + 0x49
	head := append(append(append([]byte{}, place...), golden3[:2]...), golden3[v3Fixed:headEnd]...)
	body := append(append([]byte{}, head...), golden3[headEnd:]...)
	if crc32.Checksum(head, crc32.MakeTable(crc32.Castagnoli)) != binary.BigEndian.Uint32(golden3[2:]) ||
		crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != binary.BigEndian.Uint32(golden3[6:]) {
		t.Fatal("golden v3 CRCs do not follow the documented layout")
	}

	// Upload and part values: raw JSON (version 1) still reads; version 2
	// is the JSON behind its CRC32C.
	var p Part
	if err := decodeValue([]byte(`{"n":2,"s":5,"d":"dd"}`), &p); err != nil || p != (Part{Number: 2, Size: 5, DataDir: "dd"}) {
		t.Fatalf("version-1 part value decodes to %+v, %v", p, err)
	}
	pv, err := encodeValue(Part{Number: 2, Size: 5, DataDir: "dd"})
	if err != nil {
		t.Fatal(err)
	}
	goldenPart := []byte("\x02\xf8\x91;\x94" + `{"n":2,"s":5,"d":"dd"}`)
	if !bytes.Equal(pv, goldenPart) {
		t.Fatalf("part value encoding changed:\n got %q\nwant %q", pv, goldenPart)
	}
}

// TestRecordBitFlips flips every bit of version-3 values, one at a time:
// each decode fails with ErrCorrupt, except that reading only the header
// of a record whose parts or inline bytes were hit may also return the
// intact header; never other data. An upload or part value likewise.
func TestRecordBitFlips(t *testing.T) {
	fi := FileInfo{Bucket: "bkt", Key: "dir/key", VersionID: "0123abcd", ModTime: 1700000000000000000, Size: 70, ETag: "0123456789abcdef0123456789abcdef",
		Meta: map[string]string{"content-type": "text/plain"}, Tags: map[string]string{"a": "b"}, K: 2, M: 2, BlockSize: 1 << 20, Shard: 3,
		UploadID: "up", PartCount: 2, Parts: []Part{{Number: 1, Size: 40, ETag: "aa", DataDir: "d1"}, {Number: 2, Size: 30, DataDir: "d2"}},
		Inline: []byte("inline shard bytes")}
	v, err := encodeRecord(fi)
	if err != nil {
		t.Fatal(err)
	}
	header := fi
	header.Parts, header.Inline = nil, nil
	headEnd, _ := v3HeadEnd(v)
	for bit := range len(v) * 8 {
		bad := bytes.Clone(v)
		bad[bit/8] ^= 1 << (bit % 8)
		if got, err := decodeRecord(fi.Bucket, fi.Key, bad, decodeAll); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d flipped: full decode = %+v, %v; want ErrCorrupt", bit, got, err)
		}
		got, err := decodeRecord(fi.Bucket, fi.Key, bad, decodeHeader)
		switch {
		case bit/8 >= headEnd || bit/8 >= 6 && bit/8 < v3Fixed: // body or body CRC: the header is intact
			if err == nil && !reflect.DeepEqual(got, header) || err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("bit %d flipped (body): header decode = %+v, %v", bit, got, err)
			}
		case !errors.Is(err, ErrCorrupt):
			t.Fatalf("bit %d flipped: header decode = %+v, %v; want ErrCorrupt", bit, got, err)
		}
		if err := checkRecordV3(fi.Bucket, fi.Key, versionKey(fi.ModTime, fi.VersionID), bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d flipped: check = %v", bit, err)
		}
	}
	// The place is part of the checksum: the same bytes under another
	// bucket, key or version key are corrupt.
	for _, place := range [][2]string{{"bkt", "dir/kez"}, {"bku", "dir/key"}} {
		if _, err := decodeRecord(place[0], place[1], v, decodeHeader); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("record read at %v: %v", place, err)
		}
	}
	if err := checkRecordV3(fi.Bucket, fi.Key, versionKey(fi.ModTime+1, fi.VersionID), v); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("record checked at another version key: %v", err)
	}
	if err := checkRecordV3(fi.Bucket, fi.Key, versionKey(fi.ModTime, fi.VersionID), v); err != nil {
		t.Fatal(err)
	}

	u := Upload{Bucket: "bkt", Key: "k", UploadID: "u1", Initiated: 5, K: 2, M: 2, BlockSize: 1 << 20, Shard: 1}
	uv, err := encodeValue(u)
	if err != nil {
		t.Fatal(err)
	}
	for bit := range len(uv) * 8 {
		bad := bytes.Clone(uv)
		bad[bit/8] ^= 1 << (bit % 8)
		var got Upload
		if err := decodeValue(bad, &got); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("upload value, bit %d flipped: %+v, %v", bit, got, err)
		}
	}
}

// TestPartsRecordSize measures a record of a 10,000-part object (the most
// S3 allows): its parts take about 50 bytes each.
func TestPartsRecordSize(t *testing.T) {
	parts := make([]Part, 10000)
	for i := range parts {
		parts[i] = Part{Number: i + 1, Size: 512 << 20, ETag: fmt.Sprintf("%032x", i*7919), Checksum: "AAAAAAAAAAA=", DataDir: fmt.Sprintf("%032x", i*104729)}
	}
	fi := FileInfo{Bucket: "b", Key: "k", VersionID: "0123456789abcdefghijklmnop", ModTime: 1, Size: 5 << 40, ETag: "0123456789abcdef0123456789abcdef-10000",
		K: 4, M: 2, BlockSize: 1 << 20, UploadID: "0123456789abcdefghijklmnop", ChecksumAlgo: "CRC64NVME", ChecksumValue: "AAAAAAAAAAA=", ChecksumType: "FULL_OBJECT", Parts: parts, PartCount: len(parts)}
	v, err := encodeRecord(fi)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("record of a 10,000-part object: %d bytes (%.1f per part)", len(v), float64(len(v))/10000)
	if len(v) > 600<<10 {
		t.Fatalf("record of 10,000 parts is %d bytes", len(v))
	}
	got, err := decodeRecord("b", "k", v, decodeAll)
	if err != nil || !reflect.DeepEqual(got, fi) {
		t.Fatalf("round trip of 10,000 parts: %v", err)
	}
}

func TestRecordCorrupt(t *testing.T) {
	for _, v := range [][]byte{nil, {1}, {2, 0, 2, '{', '}'}, {1, 0, 0x7f, '{'}, {1, 0, 2, 'x', 'y'}, {1, 0, 0xff}} {
		if _, err := decodeRecord("b", "k", v, decodeAll); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode(%q) = %v, want ErrCorrupt", v, err)
		}
	}
}

func TestPrefixSuccessor(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a", "b"}, {"a/", "a0"}, {"a\xff", "b"}, {"a\xff\xff", "b"}, {"\xfe\xff", "\xff"},
	}
	for _, tc := range cases {
		if got := prefixSuccessor([]byte(tc.in)); string(got) != tc.want {
			t.Errorf("prefixSuccessor(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "\xff", "\xff\xff"} {
		if got := prefixSuccessor([]byte(in)); got != nil {
			t.Errorf("prefixSuccessor(%q) = %q, want nil", in, got)
		}
	}
}

func TestNewer(t *testing.T) {
	a := FileInfo{ModTime: 1, VersionID: "b"}
	cases := []struct {
		fi   FileInfo
		want bool
	}{
		{FileInfo{ModTime: 2, VersionID: "a"}, true},
		{FileInfo{ModTime: 0, VersionID: "z"}, false},
		{FileInfo{ModTime: 1, VersionID: "c"}, true},
		{FileInfo{ModTime: 1, VersionID: "a"}, false},
		{FileInfo{ModTime: 1, VersionID: "b"}, true}, // a retry replaces itself
	}
	for _, tc := range cases {
		if got := newer(tc.fi, a); got != tc.want {
			t.Errorf("newer(%+v, %+v) = %v", tc.fi, a, got)
		}
	}
}
