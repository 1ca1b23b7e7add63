package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"time"
)

// serverConn serves the calls of one connection, one after the other.
type serverConn struct {
	t      *Transport
	c      net.Conn
	remote string
	br     *bufio.Reader
	bw     *bufio.Writer
	fr     frameReader // the current request's body
}

func (t *Transport) serveCalls(c net.Conn, remote string) {
	sc := &serverConn{
		t:      t,
		c:      c,
		remote: remote,
		br:     bufio.NewReaderSize(c, bufSize),
		bw:     bufio.NewWriterSize(c, bufSize),
	}
	for sc.serveOne() {
	}
}

// serveOne serves one call and reports whether the connection may carry
// another.
func (sc *serverConn) serveOne() bool {
	t := sc.t
	r, method, hdr, err := readRequestHead(sc.br, t.lookup)
	if err != nil {
		if err != io.EOF && !t.isClosed() {
			level := t.log.Debug
			if errors.Is(err, ErrProtocol) {
				level = t.log.Warn
			}
			level("reading request failed", "remote", sc.remote, "err", err)
		}
		return false
	}
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	sc.fr = frameReader{br: sc.br, pool: &t.bufs}
	req := &Request{
		Method: method,
		Header: hdr,
		Body:   &serverBody{fr: &sc.fr, cancel: cancel, remote: sc.remote, method: method},
		Remote: sc.remote,
	}

	var (
		rhdr  []byte
		rbody io.ReadCloser
		herr  error
	)
	if r == nil {
		herr = &Error{Code: CodeUnknownMethod, Message: "no handler for method " + strconv.Quote(method)}
	} else {
		rhdr, rbody, herr = t.invoke(ctx, r, req)
	}
	if herr == nil && len(rhdr) > maxHeader {
		herr = &Error{Code: CodeInternal, Message: fmt.Sprintf("response header of %d bytes exceeds %d", len(rhdr), maxHeader)}
	}

	if herr != nil {
		if rbody != nil {
			_ = rbody.Close()
		}
		keep := sc.drain()
		st := byte(statusError)
		if !keep {
			st |= statusClose
		}
		code, msg := errorCode(herr)
		_ = sc.bw.WriteByte(st)
		writeString16(sc.bw, code)
		writeString16(sc.bw, msg)
		if err := sc.bw.Flush(); err != nil {
			t.log.Debug("writing response failed", "remote", sc.remote, "method", method, "err", err)
			return false
		}
		return keep
	}

	_ = sc.bw.WriteByte(statusOK)
	writeU32(sc.bw, uint32(len(rhdr)))
	_, _ = sc.bw.Write(rhdr)
	fw := frameWriter{bw: sc.bw, conn: sc.c, pool: &t.bufs}
	if rbody != nil {
		rerr, werr := sc.streamBody(&fw, rbody, cancel)
		if werr != nil {
			cancel()
			t.log.Debug("writing response body failed", "remote", sc.remote, "method", method, "err", werr)
			return false
		}
		if rerr != nil {
			// Headers are out: tell the caller in-band, then drop the
			// connection (an aborted body never leaves it reusable).
			code, msg := errorCode(rerr)
			_ = fw.abort(code, msg)
			_ = sc.bw.Flush()
			return false
		}
	}
	keep := sc.drain()
	marker := uint32(0)
	if !keep {
		marker = frameEndClose
	}
	_ = fw.end(marker)
	if err := sc.bw.Flush(); err != nil {
		t.log.Debug("writing response failed", "remote", sc.remote, "method", method, "err", err)
		return false
	}
	return keep
}

// invoke runs the handler, turning a panic into a CodeInternal error.
func (t *Transport) invoke(ctx context.Context, r *route, req *Request) (hdr []byte, body io.ReadCloser, err error) {
	defer func() {
		if p := recover(); p != nil {
			t.log.Error("handler panic", "method", req.Method, "remote", req.Remote,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			hdr, body, err = nil, nil, &Error{Code: CodeInternal, Message: "handler panicked"}
		}
	}()
	return r.h(ctx, req)
}

// drain discards what is left of the request body if it is small, and
// reports whether the connection is still in step and may be kept.
func (sc *serverConn) drain() bool {
	if sc.fr.err == nil {
		// The client may still be sending: bound the wait.
		_ = sc.c.SetReadDeadline(time.Now().Add(sc.t.cfg.DialTimeout))
		sc.fr.drain(drainLimit)
		_ = sc.c.SetReadDeadline(time.Time{})
	}
	return sc.fr.ended() && !sc.fr.closing
}

// streamBody frames the handler's response body out and closes it. While
// it streams, if the request body is already fully read, a watcher reads
// the connection: the client sends nothing before our end marker, so any
// read error means it went away, and the handler's ctx is cancelled.
func (sc *serverConn) streamBody(fw *frameWriter, body io.ReadCloser, cancel context.CancelFunc) (rerr, werr error) {
	var watch chan struct{}
	sc.fr.endIfBuffered()
	if sc.fr.err != nil {
		watch = make(chan struct{})
		go func() {
			defer close(watch)
			if _, err := sc.br.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				cancel()
			}
		}()
	}
	rerr, werr = sc.copyBody(fw, body)
	if err := body.Close(); err != nil && rerr == nil {
		// A source may report a late failure (e.g. a checksum) on Close.
		rerr = err
	}
	if watch != nil {
		_ = sc.c.SetReadDeadline(aLongTimeAgo)
		<-watch
		_ = sc.c.SetReadDeadline(time.Time{})
	}
	return rerr, werr
}

// copyBody is fw.copyFrom with a panic in the body's Read recovered.
func (sc *serverConn) copyBody(fw *frameWriter, body io.Reader) (rerr, werr error) {
	defer func() {
		if p := recover(); p != nil {
			sc.t.log.Error("response body panic", "remote", sc.remote,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			rerr, werr = &Error{Code: CodeInternal, Message: "response body panicked"}, fw.err
		}
	}()
	return fw.copyFrom(body)
}

// serverBody is Request.Body: the request's frames, with errors mapped to
// the package's types.
type serverBody struct {
	fr     *frameReader
	cancel context.CancelFunc
	remote string
	method string
}

func (b *serverBody) Read(p []byte) (int, error) {
	n, err := b.fr.Read(p)
	if err != nil {
		err = b.mapErr(err)
	}
	return n, err
}

// WriteTo makes io.Copy from the body use whole frames.
func (b *serverBody) WriteTo(w io.Writer) (int64, error) {
	n, err := b.fr.WriteTo(w)
	if err != nil && err == b.fr.err {
		err = b.mapErr(err)
	}
	return n, err
}

func (b *serverBody) mapErr(err error) error {
	if err == io.EOF {
		return err
	}
	var ae *abortError
	if errors.As(err, &ae) {
		return &RemoteError{Addr: b.remote, Method: b.method, Code: ae.code, Message: ae.msg}
	}
	b.cancel()
	return &ConnError{Addr: b.remote, Op: "read request body", Method: b.method, Err: err}
}
