package rpc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// inlineBodyMax is the largest in-memory request body written by the
// calling goroutine itself; it fits in the socket buffers, so writing it
// before reading the reply cannot deadlock. Larger or streaming bodies are
// written from a goroutine.
const inlineBodyMax = 16 << 10

// clientConn is one authenticated call connection to a peer.
type clientConn struct {
	c     net.Conn
	addr  string
	br    *bufio.Reader
	bw    *bufio.Writer
	probe probe  // liveness check of the idle connection
	kill  func() // closes c; bound once, used as every call's ctx watcher
}

// getConn takes a live idle connection to addr from the pool, or dials.
func (t *Transport) getConn(ctx context.Context, addr string) (*clientConn, error) {
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, fmt.Errorf("rpc: call %s: %w", addr, ErrClosed)
		}
		list := t.idle[addr]
		if len(list) == 0 {
			t.mu.Unlock()
			break
		}
		cc := list[len(list)-1]
		list[len(list)-1] = nil
		t.idle[addr] = list[:len(list)-1]
		t.mu.Unlock()
		// The peer may have closed it while idle (restart, shutdown);
		// using it would fail a call that a fresh connection would serve.
		if cc.br.Buffered() == 0 && cc.probe.alive() {
			return cc, nil
		}
		_ = t.closeConn(cc.c)
	}
	c, err := t.dial(ctx, addr, streamCalls)
	if err != nil {
		return nil, err
	}
	cc := &clientConn{
		c:    c,
		addr: addr,
		br:   bufio.NewReaderSize(c, bufSize),
		bw:   bufio.NewWriterSize(c, bufSize),
	}
	cc.probe.init(rawConn(c)) // TLS: peek at the socket under it
	cc.kill = func() { _ = c.Close() }
	return cc, nil
}

// putConn returns a connection in step to the pool, or closes it when the
// pool is full or the transport closed.
func (t *Transport) putConn(cc *clientConn) {
	t.mu.Lock()
	if !t.closed && len(t.idle[cc.addr]) < t.cfg.IdleConns {
		t.idle[cc.addr] = append(t.idle[cc.addr], cc)
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	_ = t.closeConn(cc.c)
}

// call is the client side of one call in flight.
type call struct {
	t      *Transport
	cc     *clientConn
	ctx    context.Context
	addr   string
	method string
	stop   func() bool // unregisters the ctx watcher

	fr   frameReader // response body
	body respBody    // Response.Body

	wdone   chan struct{} // closed when the body writer goroutine ended; nil if none
	werr    error         // connection write error of the request
	bodyErr error         // error of the request body's source (body aborted in-band)

	finished bool
}

func (t *Transport) call(ctx context.Context, addr, method string, hdr []byte, body io.Reader) (*Response, error) {
	if len(method) > maxMethod || len(hdr) > maxHeader {
		return nil, fmt.Errorf("rpc: %s on %s: %w", method, addr, ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rpc: %s on %s: %w", method, addr, err)
	}
	cc, err := t.getConn(ctx, addr)
	if err != nil {
		return nil, err
	}
	c := &call{t: t, cc: cc, ctx: ctx, addr: addr, method: method}
	c.fr = frameReader{br: cc.br, pool: &t.bufs}
	// Closing the connection unblocks whatever I/O the call is in.
	c.stop = context.AfterFunc(ctx, cc.kill)

	bw := cc.bw
	writeString16(bw, method)
	writeU32(bw, uint32(len(hdr)))
	_, _ = bw.Write(hdr)
	if body == nil || inlineBody(body) {
		if body != nil {
			c.writeBody(body)
		} else if c.werr = (&frameWriter{bw: bw}).end(0); c.werr == nil {
			c.werr = bw.Flush()
		}
		if c.werr != nil {
			return nil, c.fail("write request", c.werr)
		}
	} else {
		c.wdone = make(chan struct{})
		go func() {
			defer close(c.wdone)
			c.writeBody(body)
		}()
	}

	h, err := readResponseHead(cc.br)
	if err != nil {
		return nil, c.fail("read response", err)
	}
	if h.status&^statusClose == statusError {
		c.finish(h.status&statusClose == 0)
		if c.bodyErr != nil {
			return nil, fmt.Errorf("rpc: %s on %s: reading request body: %w", method, addr, c.bodyErr)
		}
		return nil, &RemoteError{Addr: addr, Method: method, Code: h.code, Message: h.msg}
	}
	rb := &c.body
	rb.c = c
	// A bodiless reply usually arrives whole: finish now, so the connection
	// is back in the pool even before the caller closes Body.
	if c.fr.endIfBuffered(); c.fr.err == io.EOF {
		rb.end(io.EOF)
	}
	return &Response{Header: h.header, Body: rb}, nil
}

// inlineBody reports whether body is small and in memory.
func inlineBody(body io.Reader) bool {
	switch b := body.(type) {
	case *bytes.Reader:
		return b.Len() <= inlineBodyMax
	case *bytes.Buffer:
		return b.Len() <= inlineBodyMax
	case *strings.Reader:
		return b.Len() <= inlineBodyMax
	}
	return false
}

// writeBody frames body out and ends it, recording the outcome in werr and
// bodyErr.
func (c *call) writeBody(body io.Reader) {
	fw := frameWriter{bw: c.cc.bw, conn: c.cc.c, pool: &c.t.bufs}
	rerr, werr := fw.copyFrom(body)
	if werr == nil {
		if rerr != nil {
			c.bodyErr = rerr
			werr = fw.abort(CodeAborted, rerr.Error())
		} else {
			werr = fw.end(0)
		}
		if werr == nil {
			werr = c.cc.bw.Flush()
		}
	}
	c.werr = werr
}

// finish ends the call: it stops watching ctx, waits for the body writer,
// and pools the connection if keep and everything went in step, else
// closes it. It is idempotent.
func (c *call) finish(keep bool) {
	if c.finished {
		return
	}
	c.finished = true
	if !c.stop() {
		keep = false // ctx ended: the connection is being closed
	}
	if !keep {
		// Unblocks the writer if it is stuck on the connection.
		_ = c.cc.c.Close()
	}
	if c.wdone != nil {
		<-c.wdone
	}
	if keep && c.werr == nil && c.bodyErr == nil {
		c.t.putConn(c.cc)
		return
	}
	_ = c.t.closeConn(c.cc.c)
}

// fail finishes a broken call and returns the error to report for a failed
// op: the ctx error if ctx ended, ErrClosed if the transport closed, else a
// *ConnError.
func (c *call) fail(op string, err error) error {
	c.finish(false)
	return c.wrapErr(op, err)
}

func (c *call) wrapErr(op string, err error) error {
	if ctxErr := c.ctx.Err(); ctxErr != nil {
		return fmt.Errorf("rpc: %s on %s: %w", c.method, c.addr, ctxErr)
	}
	if c.t.isClosed() {
		return fmt.Errorf("rpc: %s on %s: %w", c.method, c.addr, ErrClosed)
	}
	return &ConnError{Addr: c.addr, Op: op, Method: c.method, Err: err}
}

// respBody is Response.Body.
type respBody struct {
	c    *call
	done bool
	err  error // returned once done
}

// Read reads the response body.
func (b *respBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	n, err := b.c.fr.Read(p)
	if err != nil {
		b.end(err)
		return n, b.err
	}
	return n, nil
}

// WriteTo makes io.Copy from the body use whole frames.
func (b *respBody) WriteTo(w io.Writer) (int64, error) {
	if b.done {
		if b.err == io.EOF {
			return 0, nil
		}
		return 0, b.err
	}
	n, err := b.c.fr.WriteTo(w)
	if b.c.fr.err == nil {
		// w failed; the body is not over.
		return n, err
	}
	b.end(b.c.fr.err)
	if b.err == io.EOF {
		return n, nil
	}
	return n, b.err
}

// end finishes the call once the frame reader stopped with err.
func (b *respBody) end(err error) {
	b.done = true
	c := b.c
	ae, aborted := err.(*abortError)
	switch {
	case err == io.EOF:
		c.finish(!c.fr.closing)
		b.err = io.EOF
		if c.bodyErr != nil {
			b.err = fmt.Errorf("rpc: %s on %s: reading request body: %w", c.method, c.addr, c.bodyErr)
		}
	case aborted:
		c.finish(false)
		b.err = &RemoteError{Addr: c.addr, Method: c.method, Code: ae.code, Message: ae.msg}
	default:
		b.err = c.fail("read response body", err)
	}
}

// endMarkerWait bounds how long Close waits for the end marker of a body
// read to its last byte (it normally follows the data at once).
var endMarkerWait = 50 * time.Millisecond

// Close releases the call. A body read to its last byte ends normally when
// its end marker arrives within endMarkerWait (its connection goes back to
// the pool: a reader that stops at the length it asked for does not cost a
// new connection); otherwise Close closes the connection instead of
// draining it.
func (b *respBody) Close() error {
	if !b.done {
		if fr := &b.c.fr; fr.err == nil && fr.left == 0 {
			if fr.br.Buffered() < 4 {
				_ = b.c.cc.c.SetReadDeadline(time.Now().Add(endMarkerWait))
			}
			fr.next() // the marker, or a frame header: the body was not over
			_ = b.c.cc.c.SetReadDeadline(time.Time{})
		}
		if b.c.fr.err == io.EOF {
			b.end(io.EOF)
		} else {
			b.done = true
			b.c.finish(false)
		}
	}
	b.err = ErrBodyClosed
	return nil
}
