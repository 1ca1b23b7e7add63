package rpc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// Wire format of a call connection (stream id 0), after the handshake. All
// integers are big-endian.
//
//	request  = method header body
//	method   = u16 len, bytes
//	header   = u32 len (<= maxHeader), bytes
//	body     = *data-frame end
//	data     = u32 len (1..maxFrame), bytes
//	end      = u32 0                      body complete, connection reusable
//	         | u32 frameEndClose          body complete, sender closes the connection
//	                                      after this exchange (responses only)
//	         | u32 frameAbort, code, msg  the sender's body source failed; the body
//	                                      is over and the connection is not reused
//	code,msg = u16 len, bytes
//
//	response = status (header body | code msg)
//	status   = u8: statusOK or statusError, optionally | statusClose
//
// statusClose on an error response, and frameEndClose on an ok response, tell
// the client that the server will close the connection (it did not drain the
// rest of a large request body), so the client must not pool it.
const (
	maxMethod  = 1<<16 - 1
	maxHeader  = 1 << 20
	maxFrame   = 1 << 20
	maxString  = 1<<16 - 1
	drainLimit = 1 << 20 // unread request body the server reads to keep a connection

	frameEndClose = 0xFFFFFFFE
	frameAbort    = 0xFFFFFFFF

	statusOK    = 0
	statusError = 1
	statusClose = 0x80

	// bufSize is the bufio size on both sides. It must be at least
	// maxString+1 so a u16-length string can be Peeked in place.
	bufSize = 64 << 10

	// writevMin is the frame size from which a frame is written with one
	// writev (header + caller's bytes) instead of being copied into bufio.
	writevMin = 32 << 10
)

// abortError is what a frameReader returns when the peer aborted its body.
type abortError struct {
	code, msg string
}

func (e *abortError) Error() string { return "rpc: body aborted by peer: " + e.code + ": " + e.msg }

// bufPool hands out maxFrame-sized copy buffers. A nil *bufPool allocates.
type bufPool struct{ p sync.Pool }

func (bp *bufPool) get() *[]byte {
	if bp != nil {
		if b, ok := bp.p.Get().(*[]byte); ok {
			return b
		}
	}
	b := make([]byte, maxFrame)
	return &b
}

func (bp *bufPool) put(b *[]byte) {
	if bp != nil {
		bp.p.Put(b)
	}
}

// readU16 reads a big-endian uint16 without allocating.
func readU16(br *bufio.Reader) (int, error) {
	p, err := br.Peek(2)
	if err != nil {
		return 0, eofUnexpected(err)
	}
	n := int(binary.BigEndian.Uint16(p))
	_, _ = br.Discard(2)
	return n, nil
}

// readU32 reads a big-endian uint32 without allocating.
func readU32(br *bufio.Reader) (uint32, error) {
	p, err := br.Peek(4)
	if err != nil {
		return 0, eofUnexpected(err)
	}
	n := binary.BigEndian.Uint32(p)
	_, _ = br.Discard(4)
	return n, nil
}

// peekString16 reads a u16 length and returns the bytes in place (valid
// until the next read from br). br must be at least bufSize large.
func peekString16(br *bufio.Reader) ([]byte, error) {
	n, err := readU16(br)
	if err != nil {
		return nil, err
	}
	p, err := br.Peek(n)
	if err != nil {
		return nil, eofUnexpected(err)
	}
	_, _ = br.Discard(n)
	return p, nil
}

func readString16(br *bufio.Reader) (string, error) {
	p, err := peekString16(br)
	return string(p), err
}

// readBlob32 reads a u32-length byte string of at most limit bytes. It
// allocates only after the length has been checked.
func readBlob32(br *bufio.Reader, limit int) ([]byte, error) {
	n, err := readU32(br)
	if err != nil {
		return nil, err
	}
	if n > uint32(limit) {
		return nil, fmt.Errorf("%w: %d-byte header exceeds %d", ErrProtocol, n, limit)
	}
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, eofUnexpected(err)
	}
	return b, nil
}

// eofUnexpected turns a clean EOF in the middle of a message into
// io.ErrUnexpectedEOF.
func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func appendU16(b []byte, n int) []byte { return binary.BigEndian.AppendUint16(b, uint16(n)) }
func appendU32(b []byte, n int) []byte { return binary.BigEndian.AppendUint32(b, uint32(n)) }

// truncate bounds s to the u16 string limit.
func truncate(s string) string {
	if len(s) > maxString {
		return s[:maxString]
	}
	return s
}

// writeString16 writes a u16-length string into bw.
func writeString16(bw *bufio.Writer, s string) {
	s = truncate(s)
	_, _ = bw.Write(binary.BigEndian.AppendUint16(bw.AvailableBuffer(), uint16(len(s))))
	_, _ = bw.WriteString(s)
}

// writeU32 writes a u32 into bw without allocating.
func writeU32(bw *bufio.Writer, n uint32) {
	_, _ = bw.Write(binary.BigEndian.AppendUint32(bw.AvailableBuffer(), n))
}

// frameReader decodes one body: data frames up to its end marker. It is not
// safe for concurrent use. After the body ended (err != nil) it never touches
// br again, so the connection may be read by someone else.
type frameReader struct {
	br      *bufio.Reader
	pool    *bufPool
	left    int   // payload bytes left in the current frame
	err     error // terminal: io.EOF, *abortError, or a broken-stream error
	broken  bool  // err is an I/O or protocol error: the stream is out of step
	closing bool  // the body ended with frameEndClose
}

// ended reports whether the body is over and the stream is still in step.
func (fr *frameReader) ended() bool { return fr.err != nil && !fr.broken }

func (fr *frameReader) fail(err error) {
	fr.err, fr.broken, fr.left = eofUnexpected(err), true, 0
}

// next reads the next frame header.
func (fr *frameReader) next() {
	n, err := readU32(fr.br)
	if err != nil {
		fr.fail(err)
		return
	}
	switch {
	case n == 0:
		fr.err = io.EOF
	case n == frameEndClose:
		fr.err, fr.closing = io.EOF, true
	case n == frameAbort:
		code, err := readString16(fr.br)
		if err != nil {
			fr.fail(err)
			return
		}
		msg, err := readString16(fr.br)
		if err != nil {
			fr.fail(err)
			return
		}
		fr.err = &abortError{code: code, msg: msg}
	case n > maxFrame:
		fr.fail(fmt.Errorf("%w: %d-byte frame exceeds %d", ErrProtocol, n, maxFrame))
	default:
		fr.left = int(n)
	}
}

// Read reads body bytes. Large reads go straight from the socket into p.
func (fr *frameReader) Read(p []byte) (int, error) {
	for fr.left == 0 {
		if fr.err != nil {
			return 0, fr.err
		}
		fr.next()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > fr.left {
		p = p[:fr.left]
	}
	n, err := fr.br.Read(p)
	fr.left -= n
	if err != nil {
		fr.fail(err)
		return n, fr.err
	}
	return n, nil
}

// WriteTo copies the rest of the body to w in whole frames, so that io.Copy
// from a body issues large writes.
func (fr *frameReader) WriteTo(w io.Writer) (int64, error) {
	bp := fr.pool.get()
	defer fr.pool.put(bp)
	buf := *bp
	var total int64
	for {
		for fr.left == 0 {
			if fr.err != nil {
				if fr.err == io.EOF {
					return total, nil
				}
				return total, fr.err
			}
			fr.next()
		}
		n := min(fr.left, len(buf))
		if _, err := io.ReadFull(fr.br, buf[:n]); err != nil {
			fr.fail(err)
			return total, fr.err
		}
		fr.left -= n
		m, err := w.Write(buf[:n])
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
}

// endIfBuffered consumes a plain end marker that has already arrived, so an
// empty body nobody read counts as ended without blocking.
func (fr *frameReader) endIfBuffered() {
	if fr.err != nil || fr.left != 0 || fr.br.Buffered() < 4 {
		return
	}
	if p, _ := fr.br.Peek(4); p[0]|p[1]|p[2]|p[3] == 0 {
		_, _ = fr.br.Discard(4)
		fr.err = io.EOF
	}
}

// drain reads and discards the rest of the body if at most limit payload
// bytes remain. It reports whether the body ended with the stream in step.
func (fr *frameReader) drain(limit int) bool {
	for {
		if fr.left > 0 {
			if fr.left > limit {
				return false
			}
			limit -= fr.left
			n, err := fr.br.Discard(fr.left)
			fr.left -= n
			if err != nil {
				fr.fail(err)
				return false
			}
		}
		if fr.err != nil {
			return !fr.broken
		}
		fr.next()
	}
}

// frameWriter encodes a body into frames on bw; large frames bypass bw with
// one writev of header + payload. Write errors are sticky in err so that a
// copy can tell them apart from errors of the body's source.
type frameWriter struct {
	bw    *bufio.Writer
	conn  io.Writer // what bw writes to
	pool  *bufPool
	flush bool // flush after each Write (the source may block between reads)
	err   error
	hdr   [4]byte
	vec   [2][]byte
}

// Write frames p (split into maxFrame pieces).
func (w *frameWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxFrame)
		if err := w.frame(p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	if w.flush {
		if err := w.bw.Flush(); err != nil {
			w.err = err
			return written, err
		}
	}
	return written, nil
}

func (w *frameWriter) frame(p []byte) error {
	binary.BigEndian.PutUint32(w.hdr[:], uint32(len(p)))
	if len(p) < writevMin || w.conn == nil {
		_, _ = w.bw.Write(w.hdr[:])
		if _, err := w.bw.Write(p); err != nil {
			w.err = err
			return err
		}
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	w.vec[0], w.vec[1] = w.hdr[:], p
	bufs := net.Buffers(w.vec[:])
	_, err := bufs.WriteTo(w.conn)
	w.vec[0], w.vec[1] = nil, nil
	if err != nil {
		w.err = err
	}
	return err
}

// RegionSource is a body held in memory in whole regions that become
// ready one after the other (the dataplane's shard feed): the writer
// hands each region to the connection as it comes (WriteTo), instead of
// copying it into a buffer first.
type RegionSource interface {
	io.Reader
	io.WriterTo
	// Regions marks the type: WriteTo writes whole in-memory regions and
	// blocks only to wait for the next one. Its errors are the source's
	// unless a Write failed.
	Regions()
}

// copyFrom frames everything src yields. rerr is an error of src (the body
// should then be aborted in-band), werr an error of the connection.
func (w *frameWriter) copyFrom(src io.Reader) (rerr, werr error) {
	switch src.(type) {
	case *bytes.Reader, *bytes.Buffer, *strings.Reader, RegionSource:
		// In memory: written from where it lies, no copy. A whole body is
		// one big Write, not flushed per frame; a RegionSource's regions
		// are flushed one by one (the next may be a while).
		_, isRegions := src.(RegionSource)
		w.flush = isRegions
		_, err := src.(io.WriterTo).WriteTo(w)
		if w.err != nil {
			return nil, w.err
		}
		return err, nil
	}
	w.flush = true
	bp := w.pool.get()
	defer w.pool.put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return err, nil
		}
	}
}

// end writes an end marker (0 or frameEndClose) into bw; the caller flushes.
func (w *frameWriter) end(marker uint32) error {
	if w.err != nil {
		return w.err
	}
	writeU32(w.bw, marker)
	return nil
}

// abort writes an abort marker with code and msg into bw; the caller flushes.
func (w *frameWriter) abort(code, msg string) error {
	if w.err != nil {
		return w.err
	}
	writeU32(w.bw, frameAbort)
	writeString16(w.bw, code)
	writeString16(w.bw, msg)
	return nil
}

// errorCode maps a handler or body-source error to its wire code and message.
func errorCode(err error) (code, msg string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, e.Message
	}
	return CodeInternal, err.Error()
}

// readRequestHead decodes method and header. lookup is called with the
// method bytes in place (no allocation for registered methods) and returns
// the route or nil; method is the route's name, or a copy for unknown ones.
// A clean EOF before the first byte returns io.EOF (the client closed an
// idle connection).
func readRequestHead(br *bufio.Reader, lookup func([]byte) *route) (r *route, method string, hdr []byte, err error) {
	if _, err := br.Peek(1); err != nil {
		return nil, "", nil, err
	}
	m, err := peekString16(br)
	if err != nil {
		return nil, "", nil, err
	}
	if r = lookup(m); r != nil {
		method = r.name
	} else {
		method = string(m)
	}
	hdr, err = readBlob32(br, maxHeader)
	return r, method, hdr, err
}

// responseHead is a decoded response head.
type responseHead struct {
	status    byte
	header    []byte // statusOK
	code, msg string // statusError
}

// readResponseHead decodes the status byte and either the header (ok) or the
// code and message (error).
func readResponseHead(br *bufio.Reader) (responseHead, error) {
	var h responseHead
	st, err := br.ReadByte()
	if err != nil {
		return h, eofUnexpected(err)
	}
	h.status = st
	switch st &^ statusClose {
	case statusOK:
		if st&statusClose != 0 {
			return h, fmt.Errorf("%w: status %#x", ErrProtocol, st)
		}
		h.header, err = readBlob32(br, maxHeader)
	case statusError:
		if h.code, err = readString16(br); err == nil {
			h.msg, err = readString16(br)
		}
	default:
		return h, fmt.Errorf("%w: status %#x", ErrProtocol, st)
	}
	return h, err
}
