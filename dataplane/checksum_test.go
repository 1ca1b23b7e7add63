package dataplane

import (
	"bytes"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"
)

func sumOf(h hash.Hash, b []byte) string {
	h.Write(b)
	return checksumValue(h.Sum(nil))
}

// TestCRCCombine checks the combination of part CRCs against a direct CRC
// of the concatenation, for every CRC S3 uses, with part sizes around the
// powers of two the squaring loop walks.
func TestCRCCombine(t *testing.T) {
	data := randBytes(1, 3<<20+12345)
	cuts := [][]int{{0}, {1}, {7, 8}, {1 << 20, 1<<20 + 1, 2 << 20}, {5, 4096, 65536 + 3, 3 << 20}, {len(data)}}
	for _, algo := range []string{ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME} {
		want := sumOf(newChecksumHash(algo), data)
		for _, cut := range cuts {
			var values []string
			var sizes []int64
			prev := 0
			for _, c := range append(cut, len(data)) {
				if c < prev {
					continue
				}
				part := data[prev:c]
				values = append(values, sumOf(newChecksumHash(algo), part))
				sizes = append(sizes, int64(len(part)))
				prev = c
			}
			got, err := composeChecksum(algo, ChecksumFullObject, values, sizes)
			if err != nil || got != want {
				t.Fatalf("%s cuts %v: combined %s, direct %s (%v)", algo, cut, got, want, err)
			}
		}
	}
	if _, err := composeChecksum(ChecksumSHA256, ChecksumFullObject, []string{"AA=="}, []int64{1}); !errors.Is(err, ErrInvalidChecksum) {
		t.Fatalf("SHA256 full object: %v", err)
	}
}

// TestCompositeChecksum: the checksum of the concatenated raw part digests,
// then "-N".
func TestCompositeChecksum(t *testing.T) {
	parts := [][]byte{randBytes(2, 1000), randBytes(3, 77)}
	for _, algo := range []string{ChecksumCRC32, ChecksumCRC32C, ChecksumSHA1, ChecksumSHA256} {
		var values []string
		var raw []byte
		for _, p := range parts {
			h := newChecksumHash(algo)
			h.Write(p)
			d := h.Sum(nil)
			raw = append(raw, d...)
			values = append(values, base64.StdEncoding.EncodeToString(d))
		}
		want := sumOf(newChecksumHash(algo), raw) + "-2"
		got, err := composeChecksum(algo, ChecksumComposite, values, []int64{1000, 77})
		if err != nil || got != want {
			t.Fatalf("%s: %s, want %s (%v)", algo, got, want, err)
		}
	}
}

func TestResolveChecksumType(t *testing.T) {
	cases := []struct{ algo, typ, wantAlgo, wantType string }{
		{"", "", ChecksumCRC64NVME, ChecksumFullObject},
		{"", "FULL_OBJECT", ChecksumCRC64NVME, ChecksumFullObject},
		{"crc32", "", ChecksumCRC32, ChecksumComposite},
		{"CRC32C", "FULL_OBJECT", ChecksumCRC32C, ChecksumFullObject},
		{"CRC32", "COMPOSITE", ChecksumCRC32, ChecksumComposite},
		{"CRC64NVME", "", ChecksumCRC64NVME, ChecksumFullObject},
		{"SHA1", "", ChecksumSHA1, ChecksumComposite},
		{"SHA256", "COMPOSITE", ChecksumSHA256, ChecksumComposite},
	}
	for _, c := range cases {
		a, ty, err := resolveChecksumType(c.algo, c.typ)
		if err != nil || a != c.wantAlgo || ty != c.wantType {
			t.Errorf("%q/%q = %q/%q, %v", c.algo, c.typ, a, ty, err)
		}
	}
	for _, bad := range [][2]string{{"", "COMPOSITE"}, {"CRC64NVME", "COMPOSITE"}, {"SHA1", "FULL_OBJECT"}, {"SHA256", "FULL_OBJECT"}, {"MD5", ""}, {"CRC32", "PARTIAL"}} {
		if _, _, err := resolveChecksumType(bad[0], bad[1]); !errors.Is(err, ErrInvalidChecksum) {
			t.Errorf("%q/%q accepted: %v", bad[0], bad[1], err)
		}
	}
}

// TestPutChecksums: every algorithm is computed over the body while it is
// written (inline and streamed), stored, returned, and a wrong declared
// value refuses the PUT.
func TestPutChecksums(t *testing.T) {
	e := newEnv(t, 2, 2)
	for _, size := range []int64{0, 1000, 3<<20 + 1} {
		data := randBytes(uint64(size), size)
		for _, algo := range []string{"", ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256} {
			want := algo
			if want == "" {
				want = ChecksumCRC64NVME
			}
			value := sumOf(newChecksumHash(want), data)
			key := "k-" + want
			info, err := e.store.PutObject(ctxb, "b", key, bytes.NewReader(data), size, PutOptions{ChecksumAlgorithm: strings.ToLower(algo), ChecksumValue: valueIf(algo != "", value)})
			if err != nil {
				t.Fatalf("%d %s: %v", size, algo, err)
			}
			if info.Checksum != (Checksum{Algorithm: want, Value: value, Type: ChecksumFullObject}) {
				t.Fatalf("%d %s: checksum %+v, want %s", size, algo, info.Checksum, value)
			}
			head, err := e.store.HeadObject(ctxb, "b", key, GetOptions{})
			if err != nil || head.Checksum != info.Checksum {
				t.Fatalf("head checksum %+v, %v", head.Checksum, err)
			}
			if algo == "" {
				continue
			}
			bad := sumOf(newChecksumHash(want), append([]byte("x"), data...))
			_, err = e.store.PutObject(ctxb, "b", key+"-bad", bytes.NewReader(data), size, PutOptions{ChecksumAlgorithm: algo, ChecksumValue: bad})
			if !errors.Is(err, ErrBadChecksum) {
				t.Fatalf("%d %s: wrong checksum accepted: %v", size, algo, err)
			}
			if _, err := e.store.HeadObject(ctxb, "b", key+"-bad", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("refused PUT visible: %v", err)
			}
		}
	}
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(nil), 0, PutOptions{ChecksumAlgorithm: "MD5"}); !errors.Is(err, ErrInvalidChecksum) {
		t.Fatalf("unknown algorithm: %v", err)
	}
}

func valueIf(ok bool, v string) string {
	if ok {
		return v
	}
	return ""
}
