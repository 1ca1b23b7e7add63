package sigv

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc64"
	"testing"
)

// Known values of "hello world" (aws-sdk-go-v2 service/internal/checksum
// tests) and the CRC-64/NVME check value of "123456789".
func TestChecksumVectors(t *testing.T) {
	tests := []struct{ header, input, want string }{
		{"x-amz-checksum-crc32", "hello world", "DUoRhQ=="},
		{"x-amz-checksum-crc32c", "hello world", "yZRlqg=="},
		{"x-amz-checksum-crc64nvme", "hello world", "jSnVw/bqjr4="},
		{"x-amz-checksum-sha1", "hello world", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
		{"x-amz-checksum-sha256", "hello world", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
		{"x-amz-checksum-sha512", "hello world", "MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw=="},
		{"x-amz-checksum-md5", "hello world", "XrY7u+Ae7tCTyyK7j1rNww=="},
		{"x-amz-checksum-crc32", "", "AAAAAA=="},
		{"x-amz-checksum-crc64nvme", "123456789", base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, 0xAE8B14860A799888))},
	}
	for _, tc := range tests {
		var ds digests
		if err := ds.add(tc.header, tc.want); err != nil {
			t.Fatal(err)
		}
		ds.write([]byte(tc.input))
		out := map[string]string{}
		if err := ds.verify(out); err != nil {
			t.Errorf("%s(%q): %v", tc.header, tc.input, err)
		}
		ds[0].h.Reset()
		ds.write([]byte(tc.input + "!"))
		if err := ds.verify(out); !errors.Is(err, ErrBadChecksum) {
			t.Errorf("%s of other data: %v", tc.header, err)
		}
	}
}

// The NVMe CRC-64 (assembly in minio/crc64nvme) equals the standard
// library's table implementation, whatever the length and split.
func TestCRC64NVMEMatchesStdlib(t *testing.T) {
	tab := crc64.MakeTable(0x9a6c9329ac4bc9b5)
	data := payload(1 << 20)
	for _, n := range []int{0, 1, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096, 65537, 1 << 20} {
		_, h, err := newChecksum("x-amz-checksum-crc64nvme")
		if err != nil {
			t.Fatal(err)
		}
		// Feed in uneven pieces.
		for i, step := 0, 1; i < n; i, step = i+step, step*3+1 {
			h.Write(data[i:min(n, i+step)])
		}
		if got, want := binary.BigEndian.Uint64(h.Sum(nil)), crc64.Checksum(data[:n], tab); got != want {
			t.Errorf("%d bytes: %x, want %x", n, got, want)
		}
	}
}

func TestUnsupportedChecksums(t *testing.T) {
	for _, h := range []string{"x-amz-checksum-xxhash64", "x-amz-checksum-xxhash3", "x-amz-checksum-xxhash128", "x-amz-checksum-foo"} {
		if _, _, err := newChecksum(h); !errors.Is(err, ErrUnsupportedChecksum) {
			t.Errorf("%s: %v", h, err)
		}
	}
}
