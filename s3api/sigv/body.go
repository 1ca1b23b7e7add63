package sigv

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
)

// payloadMode is how the body relates to the signature, from
// x-amz-content-sha256.
type payloadMode uint8

const (
	payloadPlain                  payloadMode = iota // no x-amz-content-sha256: anonymous, or a body the caller read
	payloadSHA256                                    // hex SHA-256 of the body
	payloadUnsigned                                  // UNSIGNED-PAYLOAD
	payloadChunkedSigned                             // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	payloadChunkedSignedTrailer                      // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	payloadChunkedUnsignedTrailer                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

// body implements Auth.Body.
func (a *Auth) body(raw io.Reader) (io.Reader, int64, error) {
	a.checksums = make(map[string]string)
	var ds digests
	if !a.ignoreHeaders {
		names := make([]string, 0, len(a.headerSums))
		for name := range a.headerSums {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			want := a.headerSums[name]
			if err := ds.add(name, want); err != nil {
				return nil, 0, err
			}
			if d := ds[len(ds)-1]; !validChecksumValue(want, d.h) {
				return nil, 0, fmt.Errorf("%w: %s header %q is not a base64 %s", ErrBadChecksum, name, want, d.name)
			}
		}
	}

	mode := a.mode
	trailers := parseTrailerNames(a.trailer)
	if len(trailers) > 0 && (mode == payloadPlain || mode == payloadUnsigned) {
		// x-amz-trailer only makes sense on an aws-chunked body; a client
		// that sends it with UNSIGNED-PAYLOAD frames the body that way.
		mode = payloadChunkedUnsignedTrailer
	}

	switch mode {
	case payloadPlain, payloadUnsigned, payloadSHA256:
		if len(trailers) > 0 {
			return nil, 0, fmt.Errorf("%w: x-amz-trailer with a payload that carries no trailer", ErrChunkMalformed)
		}
		p := &plainReader{raw: raw, limit: a.contentLength, digests: ds, out: a.checksums}
		if mode == payloadSHA256 {
			p.sha, p.want = sha256.New(), a.payloadHash
		}
		return p, a.contentLength, nil
	}

	// aws-chunked.
	if a.decodedLength == "" {
		return nil, 0, ErrMissingDecodedLength
	}
	size, err := strconv.ParseInt(a.decodedLength, 10, 64)
	if err != nil || size < 0 {
		return nil, 0, fmt.Errorf("%w: x-amz-decoded-content-length %q is not a length", ErrMissingDecodedLength, a.decodedLength)
	}
	if mode == payloadChunkedSigned && len(trailers) > 0 {
		return nil, 0, fmt.Errorf("%w: x-amz-trailer with %s, which signs no trailer", ErrChunkMalformed, streamingSigned)
	}
	for _, t := range trailers {
		if len(t) <= len(checksumPrefix) || t[:len(checksumPrefix)] != checksumPrefix {
			return nil, 0, fmt.Errorf("%w: trailer %q is not a checksum", ErrChunkMalformed, t)
		}
		if err := ds.add(t, ""); err != nil {
			return nil, 0, err
		}
	}
	c := newChunkedReader(raw, size, ds, a.checksums)
	c.declared = trailers
	c.trailers = mode != payloadChunkedSigned
	if mode != payloadChunkedUnsignedTrailer {
		c.signer = &chunkSigner{key: a.key, amzDate: a.amzDate, scope: a.scope, prev: a.seed}
	}
	return c, size, nil
}

// validChecksumValue reports whether v is the base64 of a sum of h's size.
func validChecksumValue(v string, h hash.Hash) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && len(b) == h.Size()
}

// rawError turns an error of the raw body into the one Read returns: an
// early end is an incomplete body; anything else (a deadline, a reset) is
// the transport's and goes through unchanged for the caller to classify.
func rawError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: body ended early", ErrIncompleteBody)
	}
	return err
}

// expectEOF checks that r has nothing left. A reader may return (0, nil);
// a few such reads are tolerated before giving up on it.
func expectEOF(r io.Reader) error {
	var b [1]byte
	for range 100 {
		n, err := r.Read(b[:])
		if n > 0 {
			return fmt.Errorf("%w: data after the end of the body", ErrBodyTooLong)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: body does not end", ErrBodyTooLong)
}

// plainReader passes a body through (UNSIGNED-PAYLOAD, or no hash at all)
// or checks it against its hex SHA-256, and checks its length against
// Content-Length and its checksum headers.
type plainReader struct {
	raw     io.Reader
	limit   int64 // Content-Length, -1 if unknown
	n       int64
	sha     hash.Hash // nil unless x-amz-content-sha256 is a digest
	want    []byte
	digests digests
	out     map[string]string
	done    bool
	err     error
}

func (p *plainReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.done {
		return 0, io.EOF
	}
	if p.limit >= 0 {
		if p.n == p.limit {
			if err := p.finish(true); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		if rem := p.limit - p.n; int64(len(b)) > rem {
			b = b[:rem]
		}
	}
	n, err := p.raw.Read(b)
	p.n += int64(n)
	if p.sha != nil {
		p.sha.Write(b[:n])
	}
	p.digests.write(b[:n])
	switch {
	case errors.Is(err, io.EOF):
		if p.limit >= 0 && p.n < p.limit {
			return 0, p.fail(fmt.Errorf("%w: %d of %d bytes", ErrIncompleteBody, p.n, p.limit))
		}
		if err := p.finish(false); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, p.fail(rawError(err))
	case p.limit >= 0 && p.n == p.limit:
		// The last byte: verify before handing it out.
		if err := p.finish(true); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (p *plainReader) fail(err error) error {
	p.err = err
	return err
}

// finish runs the end-of-body checks; probe checks that raw ends too.
func (p *plainReader) finish(probe bool) error {
	if probe {
		if err := expectEOF(p.raw); err != nil {
			return p.fail(err)
		}
	}
	if p.sha != nil {
		if got := p.sha.Sum(nil); !bytes.Equal(got, p.want) {
			return p.fail(fmt.Errorf("%w: computed %x, declared %x", ErrContentSHA256Mismatch, got, p.want))
		}
	}
	if err := p.digests.verify(p.out); err != nil {
		return p.fail(err)
	}
	p.done = true
	return nil
}
