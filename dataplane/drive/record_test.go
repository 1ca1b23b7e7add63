package drive

import (
	"bytes"
	"errors"
	"fmt"
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
	v, err := encodeRecord(v2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, golden2) {
		t.Fatalf("encoding changed:\n got %q\nwant %q", v, golden2)
	}
	got, err = decodeRecord("b", "k", golden2, decodeAll)
	if err != nil || !reflect.DeepEqual(got, v2) {
		t.Fatalf("golden v2 decodes to %+v, %v", got, err)
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
