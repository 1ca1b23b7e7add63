package dataplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
)

// fillAll sets every field of the struct v points to, recursively, to a
// value that is not zero (n makes them differ), and fails on a field kind it
// does not know: a field added to drive.FileInfo, drive.Part or drive.Upload
// then fails TestListWireRoundTrip until listwire.go carries it.
func fillAll(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * 1000003)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillAll(t, k, n)
			fillAll(t, e, n)
			_ = i
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillAll(t, s.Index(i), n)
		}
		v.Set(s)
	case reflect.Uint8:
		v.SetUint(uint64(*n % 251))
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(t, v.Field(i), n)
			if v.Field(i).IsZero() {
				t.Fatalf("%s.%s left zero", v.Type(), v.Type().Field(i).Name)
			}
		}
	default:
		t.Fatalf("fillAll: field kind %s (%s) not handled: teach listwire.go and this test", v.Kind(), v.Type())
	}
}

// TestListWireRoundTrip: every field of every record of a node page
// survives the binary encoding, and JSON replies (older nodes) still decode.
func TestListWireRoundTrip(t *testing.T) {
	n := 0
	full := func() drive.FileInfo {
		var fi drive.FileInfo
		fillAll(t, reflect.ValueOf(&fi).Elem(), &n)
		return fi
	}
	var up drive.Upload
	fillAll(t, reflect.ValueOf(&up).Elem(), &n)
	a, b := full(), full() // a: its own key and bucket
	b.Key, b.Bucket = "k2", a.Bucket
	c := drive.FileInfo{Key: "k2", Bucket: "other", VersionID: "v", Inline: []byte{}} // empty but present inline
	p := listPage{
		Items: []listItem{
			{Name: "a/", Prefix: true},
			{Name: "k1", Versions: []listVersion{{FI: a, Count: 3}}, More: true},
			{Name: "k2", Versions: []listVersion{{FI: b, Count: 1}, {FI: c, Count: 2}}},
			{Name: "k3", Uploads: []listUpload{{U: up, Count: 4}}},
		},
		More: true, Last: "k3", LastSub: &subPos{Mod: -5, ID: "u"},
		Drives: []string{"d1", "d2"},
	}
	body, err := encodeNodePage(p, listEncBinary)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeNodePage(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("binary round trip:\n got %+v\nwant %+v", got, p)
	}
	// Every truncation is an error, never a panic or a shorter page.
	for i := 1; i < len(body); i++ {
		if _, err := decodeNodePage(body[:i]); !errors.Is(err, errListWire) {
			t.Fatalf("page cut at %d of %d bytes: %v", i, len(body), err)
		}
	}
	if _, err := decodeNodePage(append(body, 0)); !errors.Is(err, errListWire) {
		t.Fatalf("trailing byte: %v", err)
	}
	// The least sizes the decoder bounds counts with.
	empty := appendListPage(nil, listPage{})
	one := appendListPage(nil, listPage{Items: []listItem{{Versions: []listVersion{{}}}}})
	if n := len(one) - len(empty); n != minItemBytes+minVersionBytes {
		t.Fatalf("an empty item with an empty record takes %d bytes, want %d", n, minItemBytes+minVersionBytes)
	}

	// A node that predates the binary page answers JSON.
	js, err := encodeNodePage(p, "")
	if err != nil || !json.Valid(js) {
		t.Fatalf("json reply: %v", err)
	}
	c.Inline = nil // JSON drops an empty inline
	p.Items[2].Versions[1].FI = c
	if got, err := decodeNodePage(js); err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("json round trip: %v\n got %+v\nwant %+v", err, got, p)
	}
}

// BenchmarkListWire measures encoding and decoding one node's page of
// 1,000 keys, binary and JSON.
func BenchmarkListWire(b *testing.B) {
	var p listPage
	for i := range 1000 {
		name := fmt.Sprintf("run-1/list/%08d", i)
		fi := drive.FileInfo{Bucket: "bench", Key: name, VersionID: "0123456789abcdef0123456789abcdef", Null: true, ModTime: 1764460000000000000 + int64(i),
			Size: 4096, ETag: "0123456789abcdef0123456789abcdef", Meta: map[string]string{"content-type": "application/octet-stream"},
			ChecksumAlgo: "CRC32", ChecksumValue: "AAAAAA==", ChecksumType: "FULL_OBJECT", K: 6, M: 2, BlockSize: 1 << 20, Shard: 3}
		p.Items = append(p.Items, listItem{Name: name, Versions: []listVersion{{FI: fi, Count: 2}}})
	}
	for _, enc := range []string{listEncBinary, "json"} {
		b.Run(enc, func(b *testing.B) {
			var body []byte
			for b.Loop() {
				var err error
				if body, err = encodeNodePage(p, enc); err != nil {
					b.Fatal(err)
				}
				if _, err := decodeNodePage(body); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(body)), "bytes/page")
		})
	}
}
