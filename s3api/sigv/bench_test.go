package sigv

import (
	"io"
	"strings"
	"testing"
	"time"
)

const benchSize = 8 << 20

// BenchmarkChunkedSigned decodes 64 KiB signed chunks (minio-go's framing):
// SHA-256 and an HMAC per chunk.
func BenchmarkChunkedSigned(b *testing.B) {
	benchChunked(b, streamingSignedTrailer)
}

// BenchmarkChunkedUnsignedTrailer decodes the SDK's default upload over
// TLS: 64 KiB unsigned chunks and a CRC32 trailer.
func BenchmarkChunkedUnsignedTrailer(b *testing.B) {
	benchChunked(b, streamingUnsignedTrailer)
}

func benchChunked(b *testing.B, mode string) {
	data := string(payload(benchSize))
	var chunks []string
	for i := 0; i < len(data); i += 64 << 10 {
		chunks = append(chunks, data[i:min(len(data), i+64<<10)])
	}
	chunks = append(chunks, "")
	r, s := streamRequest(b, mode, len(data), "x-amz-checksum-crc32", nil)
	raw := s.encode(chunks, []string{"x-amz-checksum-crc32:" + want("CRC32", []byte(data))}, nil)
	v := NewVerifier(0)
	buf := make([]byte, 128<<10)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		a, err := v.Verify(r, testCreds, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		body, _, err := a.Body(strings.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{body}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256Body checks a body against its hex x-amz-content-sha256
// (the SDK over plain HTTP), with its CRC32 header.
func BenchmarkSHA256Body(b *testing.B) {
	data := string(payload(benchSize))
	r := newRequest("PUT", "/b/k", map[string]string{"x-amz-content-sha256": sha256Hex(data),
		"x-amz-checksum-crc32": want("CRC32", []byte(data))}, benchSize)
	buf := make([]byte, 128<<10)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for b.Loop() {
		a, err := Verify(r, testCreds, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		body, _, err := a.Body(strings.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{body}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the cost of authenticating a header-signed request,
// with and without the signing key cache.
func BenchmarkVerify(b *testing.B) {
	r, _ := streamRequest(b, unsignedPayload, 0, "", nil)
	b.Run("cached", func(b *testing.B) {
		v := NewVerifier(0)
		for b.Loop() {
			if _, err := v.Verify(r, testCreds, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(r, testCreds, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
