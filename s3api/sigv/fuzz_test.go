package sigv

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzSigner is a fixed signing context for the fuzzer's signed modes.
func fuzzSigner(trailerSigned bool) streamSigner {
	return streamSigner{
		key:           deriveSigningKey("fuzz-secret", "20250101", "us-east-1", "s3"),
		amzDate:       "20250101T000000Z",
		scope:         "20250101/us-east-1/s3/aws4_request",
		seed:          sha256Hex("seed"),
		trailerSigned: trailerSigned,
	}
}

// sentinels are the errors a decoder over an in-memory body may return.
var sentinels = []error{ErrChunkMalformed, ErrChunkSignature, ErrIncompleteBody, ErrBodyTooLong, ErrBadChecksum}

// FuzzChunkedBody feeds arbitrary bodies to the aws-chunked decoder in
// each mode: it never panics, never returns more than the declared length,
// returns exactly that length when it succeeds, and fails only with a
// sentinel.
func FuzzChunkedBody(f *testing.F) {
	crc := func(s string) string { return "x-amz-checksum-crc32:" + want("CRC32", []byte(s)) }
	for mode := range byte(3) {
		var s streamSigner
		switch mode {
		case 0:
			s = streamSigner{unsigned: true}
		case 1:
			s = fuzzSigner(false)
		case 2:
			s = fuzzSigner(true)
		}
		var trailers []string
		if mode != 1 {
			trailers = []string{crc("hello world")}
		}
		f.Add([]byte(s.encode([]string{"hello", " world", ""}, trailers, nil)), uint16(11), mode, byte(3))
		f.Add([]byte(s.encode([]string{"hello world", ""}, trailers, nil)), uint16(11), mode, byte(200))
		f.Add([]byte(s.encode([]string{"hello", " world", ""}, trailers, nil)), uint16(5), mode, byte(1))
		f.Add([]byte(s.encode([]string{""}, nil, nil)), uint16(0), mode, byte(8))
	}
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint16(5), byte(0), byte(2))
	f.Add([]byte("ffffffff\r\n"), uint16(5), byte(0), byte(2))

	f.Fuzz(func(t *testing.T, raw []byte, declared uint16, mode, readSize byte) {
		mode %= 3
		var ds digests
		c := newChunkedReader(bytes.NewReader(raw), int64(declared), nil, map[string]string{})
		c.trailers = mode != 1
		if mode != 1 {
			if err := ds.add("x-amz-checksum-crc32", ""); err != nil {
				t.Fatal(err)
			}
			c.declared = []string{"x-amz-checksum-crc32"}
		}
		c.digests = ds
		if mode != 0 {
			s := fuzzSigner(mode == 2)
			c.signer = &chunkSigner{key: s.key, amzDate: s.amzDate, scope: s.scope, prev: s.seed}
		}
		buf := make([]byte, int(readSize)%256+1)
		var total int
		var err error
		for range len(raw) + 100 {
			var n int
			n, err = c.Read(buf)
			total += n
			if total > int(declared) {
				t.Fatalf("returned %d bytes, declared %d", total, declared)
			}
			if err != nil {
				break
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			if total != int(declared) {
				t.Fatalf("EOF after %d bytes, declared %d", total, declared)
			}
		case err == nil:
			t.Fatal("the decoder neither ended nor failed")
		default:
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error without a sentinel: %v", err)
			}
		}
	})
}
