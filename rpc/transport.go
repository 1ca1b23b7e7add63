package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

const (
	// closeWait bounds how long Close waits for server goroutines: a
	// handler that ignores its ctx must not hang shutdown forever.
	closeWait = 10 * time.Second
	// maxAcceptDelay caps the back-off after a failed Accept (EMFILE...).
	maxAcceptDelay = time.Second
)

// aLongTimeAgo is a deadline in the past, used to unblock pending I/O.
var aLongTimeAgo = time.Unix(1, 0)

// track registers a live connection so Close can close it. It returns false
// (and the caller must close c) once the transport is closed.
func (t *Transport) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

// closeConn forgets and closes c.
func (t *Transport) closeConn(c net.Conn) error {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	return c.Close()
}

func (t *Transport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	var delay time.Duration
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || t.isClosed() {
				return
			}
			// Resource exhaustion and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), maxAcceptDelay)
			t.log.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !t.track(c) {
			_ = c.Close()
			return
		}
		t.wg.Add(1)
		go t.serveConn(c)
	}
}

// serveConn authenticates an accepted connection and dispatches it by
// stream id.
func (t *Transport) serveConn(c net.Conn) {
	defer t.wg.Done()
	remote := c.RemoteAddr().String()
	if st := t.tls.Load(); st != nil {
		if err := c.SetDeadline(time.Now().Add(t.cfg.DialTimeout)); err != nil {
			_ = t.closeConn(c)
			return
		}
		tc, err := t.serverTLS(c, st)
		if err != nil {
			t.log.Warn("handshake failed", "remote", remote, "err", err)
			_ = t.closeConn(c)
			return
		}
		if !t.swap(c, tc) {
			_ = tc.Close()
			return
		}
		c = tc
	}
	stream, err := t.serverHandshake(c)
	if err != nil {
		t.log.Warn("handshake failed", "remote", remote, "err", err)
		_ = t.closeConn(c)
		return
	}
	if stream == streamCalls {
		t.serveCalls(c, remote)
		_ = t.closeConn(c)
		return
	}
	l := t.streamListener(stream)
	if l == nil {
		t.log.Warn("connection for unregistered stream", "remote", remote, "stream", stream)
		_ = t.closeConn(c)
		return
	}
	if !l.deliver(&streamConn{Conn: c, t: t}) {
		_ = t.closeConn(c)
	}
}

func (t *Transport) close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	conns := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	clear(t.conns)
	clear(t.idle)
	streams := make([]*streamListener, 0, len(t.streams))
	for _, l := range t.streams {
		streams = append(streams, l)
	}
	t.mu.Unlock()

	t.cancel()
	err := t.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	for _, l := range streams {
		_ = l.Close()
	}
	for _, c := range conns {
		_ = c.Close()
	}

	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.log.Warn("close: handlers still running after timeout", "timeout", closeWait)
	}
	if err != nil {
		return fmt.Errorf("rpc: close listener: %w", err)
	}
	return nil
}

// dial connects to addr and runs the client handshake for stream. The
// connection is tracked; the caller closes it with closeConn.
func (t *Transport) dial(ctx context.Context, addr string, stream byte) (net.Conn, error) {
	if t.isClosed() {
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, ErrClosed)
	}
	t.dials.Add(1)
	d := net.Dialer{Timeout: t.cfg.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("rpc: dial %s: %w", addr, ctxErr)
		}
		return nil, &ConnError{Addr: addr, Op: "dial", Err: err}
	}
	if !t.track(c) {
		_ = c.Close()
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, ErrClosed)
	}
	conn, err := t.clientHandshake(ctx, c, stream)
	if err != nil {
		_ = t.closeConn(c)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("rpc: handshake with %s: %w", addr, ctxErr)
		}
		if t.isClosed() {
			return nil, fmt.Errorf("rpc: handshake with %s: %w", addr, ErrClosed)
		}
		return nil, &ConnError{Addr: addr, Op: "handshake", Err: err}
	}
	if conn != c && !t.swap(c, conn) {
		_ = conn.Close()
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, ErrClosed)
	}
	return conn, nil
}
