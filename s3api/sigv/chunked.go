package sigv

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
)

// Bounds of the aws-chunked decoder: the memory a request may hold.
const (
	// MaxChunkSize is the largest aws-chunked chunk accepted. A signed
	// chunk is held whole until its signature checks, so this bounds the
	// memory of a request. The SDKs send 64 KiB chunks (at least 8 KiB by
	// AWS's rule for all but the last).
	MaxChunkSize = 16 << 20

	maxLineLen     = 4096 // a chunk header or trailer line
	maxTrailers    = 16
	maxBlankLines  = 4 // around the trailers, see readTrailers
	readBufferSize = 32 << 10
)

const trailerSignatureName = "x-amz-trailer-signature"

// chunkSigner computes the chained chunk and trailer signatures: each one
// signs the previous one, starting from the request's own signature.
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string // hex signature of the previous link
	mac     hash.Hash
}

// sign returns HMAC(key, alg \n date \n scope \n prev \n lines...).
func (s *chunkSigner) sign(alg string, lines ...[]byte) []byte {
	if s.mac == nil {
		s.mac = hmac.New(sha256.New, s.key)
	} else {
		s.mac.Reset()
	}
	io.WriteString(s.mac, alg+"\n"+s.amzDate+"\n"+s.scope+"\n"+s.prev)
	for _, l := range lines {
		s.mac.Write([]byte{'\n'})
		s.mac.Write(l)
	}
	return s.mac.Sum(nil)
}

func hexSHA256(b []byte) []byte {
	sum := sha256.Sum256(b)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum[:])
	return out
}

// chunk checks the signature of a chunk (data empty for the final one)
// and advances the chain.
func (s *chunkSigner) chunk(data, sig []byte) bool {
	want := s.sign(chunkAlgorithm, []byte(emptySHA256), hexSHA256(data))
	if !hmac.Equal(want, sig) {
		return false
	}
	s.prev = hex.EncodeToString(sig)
	return true
}

// trailer checks the trailer signature over the canonical trailers.
func (s *chunkSigner) trailer(canonical, sig []byte) bool {
	return hmac.Equal(s.sign(trailerAlgorithm, hexSHA256(canonical)), sig)
}

// chunkedReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n
//	[name:value\r\n ... [x-amz-trailer-signature:sig\r\n]] \r\n
//
// With a signer, every chunk is read whole and its signature checked
// before any of its bytes is returned; without one, data streams through.
// The bytes that complete the declared length are returned only after the
// rest of the body (final chunk, trailers, checksums) has checked out.
type chunkedReader struct {
	br       *bufio.Reader
	size     int64        // x-amz-decoded-content-length
	total    int64        // decoded bytes announced by chunk headers so far
	signer   *chunkSigner // nil for STREAMING-UNSIGNED-PAYLOAD-TRAILER
	trailers bool         // a trailer section may follow the final chunk
	declared []string     // x-amz-trailer names
	digests  digests
	out      map[string]string

	buf  []byte // signed: the verified chunk being handed out
	off  int
	left int64 // unsigned: bytes of the current chunk not yet read
	done bool
	err  error
}

func newChunkedReader(raw io.Reader, size int64, ds digests, out map[string]string) *chunkedReader {
	return &chunkedReader{br: bufio.NewReaderSize(raw, readBufferSize), size: size, digests: ds, out: out}
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for {
		if c.off < len(c.buf) {
			n := copy(p, c.buf[c.off:])
			c.off += n
			return n, nil
		}
		if c.left > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			q := p
			if int64(len(q)) > c.left {
				q = q[:c.left]
			}
			n, err := c.br.Read(q)
			if n == 0 {
				if err == nil {
					return 0, nil
				}
				return 0, c.fail(rawError(err))
			}
			c.left -= int64(n)
			c.digests.write(q[:n])
			if c.left == 0 {
				if err := c.endChunk(); err != nil {
					return 0, c.fail(err)
				}
			}
			return n, nil
		}
		if c.done {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, c.fail(err)
		}
	}
}

func (c *chunkedReader) fail(err error) error {
	c.err = err
	c.buf, c.off = nil, 0
	return err
}

// next reads the next chunk header and, for a signed chunk, its data.
func (c *chunkedReader) next() error {
	size, sig, err := c.readHeader()
	if err != nil {
		return err
	}
	if size == 0 {
		return c.final(sig)
	}
	if size > c.size-c.total {
		return fmt.Errorf("%w: chunks exceed x-amz-decoded-content-length %d", ErrBodyTooLong, c.size)
	}
	c.total += size
	if c.signer == nil {
		c.left = size
		return nil
	}
	if int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	c.buf, c.off = c.buf[:size], 0
	if _, err := io.ReadFull(c.br, c.buf); err != nil {
		return rawError(err)
	}
	if err := c.readCRLF(); err != nil {
		return err
	}
	if !c.signer.chunk(c.buf, sig) {
		return fmt.Errorf("%w: chunk ending at byte %d", ErrChunkSignature, c.total)
	}
	c.digests.write(c.buf)
	if c.total == c.size {
		return c.finish()
	}
	return nil
}

// endChunk ends an unsigned chunk whose data has all been read.
func (c *chunkedReader) endChunk() error {
	if err := c.readCRLF(); err != nil {
		return err
	}
	if c.total == c.size {
		return c.finish()
	}
	return nil
}

// finish reads what follows the last data byte: the final chunk, which
// must come now, and the trailers.
func (c *chunkedReader) finish() error {
	size, sig, err := c.readHeader()
	if err != nil {
		return err
	}
	if size != 0 {
		return fmt.Errorf("%w: chunks exceed x-amz-decoded-content-length %d", ErrBodyTooLong, c.size)
	}
	return c.final(sig)
}

// final handles the zero-length chunk and everything after it.
func (c *chunkedReader) final(sig []byte) error {
	if c.total < c.size {
		return fmt.Errorf("%w: %d of %d decoded bytes", ErrIncompleteBody, c.total, c.size)
	}
	if c.signer != nil && !c.signer.chunk(nil, sig) {
		return fmt.Errorf("%w: final chunk", ErrChunkSignature)
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	if err := c.digests.verify(c.out); err != nil {
		return err
	}
	c.done = true
	return nil
}

type trailerField struct{ name, value string }

// readTrailers reads the trailer section to the end of the body and
// checks the trailer signature, and sets the expected checksum values.
// Clients differ in the blank lines they put around it: AWS ends it with
// one CRLF, minio-go puts one before x-amz-trailer-signature and two at
// the end, some leave out the last. Blank lines are therefore skipped (a
// few of them) and the section ends where the body does; anything else
// after the trailers is an error.
func (c *chunkedReader) readTrailers() error {
	var (
		fields []trailerField
		sig    []byte
		sigSet bool
		blank  int
	)
	for {
		line, err := c.readLine(true)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(line) == 0 {
			if blank++; blank > maxBlankLines {
				return fmt.Errorf("%w: data after the end of the body", ErrBodyTooLong)
			}
			continue
		}
		if !c.trailers {
			return fmt.Errorf("%w: data after the final chunk of %s", ErrChunkMalformed, streamingSigned)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return fmt.Errorf("%w: trailer line without ':'", ErrChunkMalformed)
		}
		n := strings.ToLower(string(bytes.TrimSpace(name)))
		v := string(bytes.Trim(value, " \t"))
		switch {
		case sigSet:
			return fmt.Errorf("%w: trailer after %s", ErrChunkMalformed, trailerSignatureName)
		case n == trailerSignatureName:
			var ok bool
			if sig, ok = parseSignature(v); !ok {
				return fmt.Errorf("%w: %s must be 64 hex digits", ErrChunkMalformed, trailerSignatureName)
			}
			sigSet = true
		case len(fields) == maxTrailers:
			return fmt.Errorf("%w: more than %d trailers", ErrChunkMalformed, maxTrailers)
		case slices.ContainsFunc(fields, func(f trailerField) bool { return f.name == n }):
			return fmt.Errorf("%w: trailer %s repeated", ErrChunkMalformed, n)
		default:
			fields = append(fields, trailerField{n, v})
		}
	}

	if c.signer != nil && c.trailers {
		if !sigSet {
			return fmt.Errorf("%w: missing %s", ErrChunkSignature, trailerSignatureName)
		}
		sorted := slices.Clone(fields)
		slices.SortFunc(sorted, func(a, b trailerField) int { return strings.Compare(a.name, b.name) })
		var canon []byte
		for _, f := range sorted {
			canon = append(canon, f.name...)
			canon = append(canon, ':')
			canon = append(canon, f.value...)
			canon = append(canon, '\n')
		}
		if !c.signer.trailer(canon, sig) {
			return fmt.Errorf("%w: trailer signature", ErrChunkSignature)
		}
	}

	for _, name := range c.declared {
		if !slices.ContainsFunc(fields, func(f trailerField) bool { return f.name == name }) {
			return fmt.Errorf("%w: trailer %s declared by x-amz-trailer is missing", ErrChunkMalformed, name)
		}
	}
	for _, f := range fields {
		if !slices.Contains(c.declared, f.name) {
			return fmt.Errorf("%w: trailer %s not declared by x-amz-trailer", ErrChunkMalformed, f.name)
		}
		i := slices.IndexFunc(c.digests, func(d *digest) bool { return d.header == f.name })
		if !validChecksumValue(f.value, c.digests[i].h) {
			return fmt.Errorf("%w: trailer %s %q is not a base64 %s", ErrBadChecksum, f.name, f.value, c.digests[i].name)
		}
		c.digests[i].want = f.value
	}
	return nil
}

// readHeader reads "hex-size[;ext]\r\n". A signed chunk must carry exactly
// chunk-signature=<64 hex>; an unsigned one may carry extensions, which
// are ignored.
func (c *chunkedReader) readHeader() (int64, []byte, error) {
	line, err := c.readLine(false)
	if err != nil {
		return 0, nil, err
	}
	sizeField, ext, hasExt := bytes.Cut(line, []byte{';'})
	if len(sizeField) == 0 || len(sizeField) > 16 {
		return 0, nil, fmt.Errorf("%w: chunk size %q", ErrChunkMalformed, sizeField)
	}
	var size int64
	for _, ch := range sizeField {
		d, ok := unhex(ch)
		if !ok {
			return 0, nil, fmt.Errorf("%w: chunk size %q", ErrChunkMalformed, sizeField)
		}
		size = size<<4 | int64(d)
		if size > MaxChunkSize {
			return 0, nil, fmt.Errorf("%w: chunk larger than %d bytes", ErrChunkMalformed, MaxChunkSize)
		}
	}
	if c.signer == nil {
		return size, nil, nil
	}
	if !hasExt {
		return 0, nil, fmt.Errorf("%w: chunk without chunk-signature", ErrChunkSignature)
	}
	v, ok := bytes.CutPrefix(ext, []byte("chunk-signature="))
	if !ok {
		return 0, nil, fmt.Errorf("%w: chunk extension %q", ErrChunkMalformed, ext)
	}
	sig, ok := parseSignature(string(v))
	if !ok {
		return 0, nil, fmt.Errorf("%w: chunk-signature must be 64 hex digits", ErrChunkMalformed)
	}
	return size, sig, nil
}

// readLine reads a line and returns it without its end. Chunk headers
// (lenient false) must end in CRLF; trailer lines may end in a bare LF, or
// at the end of the body (a clean end before any byte is io.EOF). The
// returned slice is valid until the next read.
func (c *chunkedReader) readLine(lenient bool) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrChunkMalformed, maxLineLen)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, rawError(err)
	case len(line) > maxLineLen:
		return nil, fmt.Errorf("%w: line longer than %d bytes", ErrChunkMalformed, maxLineLen)
	case err != nil: // io.EOF
		if !lenient {
			return nil, fmt.Errorf("%w: body ends inside the chunk framing", ErrIncompleteBody)
		}
		if len(line) == 0 {
			return nil, io.EOF
		}
		return bytes.TrimSuffix(line, []byte{'\r'}), nil
	}
	line = line[:len(line)-1]
	if l := len(line); l > 0 && line[l-1] == '\r' {
		return line[:l-1], nil
	}
	if !lenient {
		return nil, fmt.Errorf("%w: line not ended by CRLF", ErrChunkMalformed)
	}
	return line, nil
}

// readCRLF reads the CRLF that ends a chunk's data.
func (c *chunkedReader) readCRLF() error {
	var b [2]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil {
		return rawError(err)
	}
	if b != [2]byte{'\r', '\n'} {
		return fmt.Errorf("%w: chunk data not followed by CRLF", ErrChunkMalformed)
	}
	return nil
}
