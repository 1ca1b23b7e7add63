package drive

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	cases := []FileInfo{
		{Bucket: "b", Key: "k"},
		{Bucket: "b", Key: "k", VersionID: "v", ModTime: -5, Deleted: true},
		{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1700000000000000000, Size: 1 << 40, ETag: "e",
			Meta: map[string]string{"content-type": "text/plain", "x-amz-meta-a": ""}, K: 4, M: 2, BlockSize: 1 << 20, Shard: 5, DataDir: "dd"},
		{Bucket: "b", Key: "k", Inline: []byte{}},
		{Bucket: "b", Key: "k", Inline: bytes.Repeat([]byte{0, 0xff}, 70000)},
	}
	for i, fi := range cases {
		v, err := encodeRecord(fi)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(fi.Bucket, fi.Key, v, true)
		if err != nil || !reflect.DeepEqual(got, fi) {
			t.Errorf("case %d: decode = %+v, %v", i, got, err)
		}
		noInline := fi
		noInline.Inline = nil
		got, err = decodeRecord(fi.Bucket, fi.Key, v, false)
		if err != nil || !reflect.DeepEqual(got, noInline) {
			t.Errorf("case %d: decode without inline = %+v, %v", i, got, err)
		}
		// The result must not alias the value (bbolt reuses that memory).
		got, _ = decodeRecord(fi.Bucket, fi.Key, v, true)
		for j := range v {
			v[j] = 0xee
		}
		if !reflect.DeepEqual(got, fi) {
			t.Errorf("case %d: decoded record aliases the value", i)
		}
	}
}

// TestRecordGolden pins the version-1 value encoding: records already on
// drives must keep decoding.
func TestRecordGolden(t *testing.T) {
	fi := FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 42, Size: 3, ETag: "e",
		Meta: map[string]string{"ct": "x"}, K: 2, M: 1, BlockSize: 1024, Shard: 2, DataDir: "dd", Inline: []byte("abc")}
	golden := []byte("\x01\x01\x53" + `{"v":"v1","t":42,"s":3,"e":"e","m":{"ct":"x"},"k":2,"p":1,"b":1024,"i":2,"dd":"dd"}` + "abc")
	v, err := encodeRecord(fi)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, golden) {
		t.Fatalf("encoding changed:\n got %q\nwant %q", v, golden)
	}
	got, err := decodeRecord("b", "k", golden, true)
	if err != nil || !reflect.DeepEqual(got, fi) {
		t.Fatalf("golden decodes to %+v, %v", got, err)
	}
}

func TestRecordCorrupt(t *testing.T) {
	for _, v := range [][]byte{nil, {1}, {2, 0, 2, '{', '}'}, {1, 0, 0x7f, '{'}, {1, 0, 2, 'x', 'y'}, {1, 0, 0xff}} {
		if _, err := decodeRecord("b", "k", v, true); !errors.Is(err, ErrCorrupt) {
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
