package rpc

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// streamListener hands authenticated connections for one stream id to its
// Accept. Delivery is unbuffered: the server's connection goroutine waits
// until the connection is accepted or the listener closes.
type streamListener struct {
	t    *Transport
	id   byte
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (t *Transport) listen(stream byte) net.Listener {
	if stream == streamCalls {
		panic("rpc: Listen: stream id 0 is reserved for calls")
	}
	l := &streamListener{t: t, id: stream, ch: make(chan net.Conn), done: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		close(l.done)
		return l
	}
	if old := t.streams[stream]; old != nil {
		panic(fmt.Sprintf("rpc: Listen: stream id %d already has a listener", stream))
	}
	t.streams[stream] = l
	return l
}

func (t *Transport) streamListener(stream byte) *streamListener {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.streams[stream]
}

// deliver passes c to Accept; false if the listener closed first.
func (l *streamListener) deliver(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

// Accept waits for the next connection for this stream id.
func (l *streamListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: net.ErrClosed}
	}
}

// Close stops this listener; its stream id may then be registered again.
func (l *streamListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.t.mu.Lock()
		if l.t.streams[l.id] == l {
			delete(l.t.streams, l.id)
		}
		l.t.mu.Unlock()
	})
	return nil
}

// Addr returns the transport's listening address.
func (l *streamListener) Addr() net.Addr { return l.t.ln.Addr() }

// streamConn is a raw stream connection, tracked by the transport until it
// is closed so that Transport.Close can close it.
type streamConn struct {
	net.Conn
	t    *Transport
	once sync.Once
	err  error
}

// Close closes the connection and forgets it.
func (c *streamConn) Close() error {
	c.once.Do(func() { c.err = c.t.closeConn(c.Conn) })
	return c.err
}

func (t *Transport) dialStream(ctx context.Context, addr string, stream byte) (net.Conn, error) {
	if stream == streamCalls {
		return nil, fmt.Errorf("rpc: dial stream on %s: %w", addr, ErrInvalidStream)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rpc: dial stream on %s: %w", addr, err)
	}
	c, err := t.dial(ctx, addr, stream)
	if err != nil {
		return nil, err
	}
	return &streamConn{Conn: c, t: t}, nil
}
