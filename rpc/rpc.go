package rpc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"time"
)

// Config configures a Transport.
type Config struct {
	// Addr is the TCP address to listen on, e.g. "127.0.0.1:9100" or ":0".
	Addr string
	// ClusterKey authenticates both ends of every connection (32+ bytes).
	ClusterKey []byte
	// DialTimeout bounds connection set-up including the handshake.
	DialTimeout time.Duration
	// IdleConns is the number of idle connections kept per peer address.
	IdleConns int
}

// DefaultConfig returns a Config with sensible timeouts; Addr and ClusterKey
// must still be set.
func DefaultConfig() Config {
	return Config{DialTimeout: 5 * time.Second, IdleConns: 16}
}

// Request is one incoming call as seen by a Handler.
type Request struct {
	Method string
	Header []byte    // opaque to rpc; the caller's encoded request
	Body   io.Reader // streamed request body; empty reader when none was sent
	Remote string    // remote address, for logs
}

// Handler serves one method. It returns an opaque response header and an
// optional body that the transport streams to the caller and then closes.
// A non-nil error is sent to the caller as a *RemoteError (Code from an
// *Error, "internal" otherwise). ctx is cancelled when the connection drops.
type Handler func(ctx context.Context, req *Request) (hdr []byte, body io.ReadCloser, err error)

// Response is the caller's view of a reply. Body must be closed; a fully read
// and closed body returns the connection to the pool.
type Response struct {
	Header []byte
	Body   io.ReadCloser
}

// Error is returned by a Handler to send a typed error code to the caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// RemoteError is what Call returns when the remote handler failed.
type RemoteError struct {
	Addr    string
	Method  string
	Code    string
	Message string
}

func (e *RemoteError) Error() string {
	return "rpc: " + e.Method + " on " + e.Addr + ": " + e.Code + ": " + e.Message
}

// Transport is both the server and the client side of internode traffic.
type Transport struct {
	// unexported fields: owned by the rpc implementation
}

// New listens on cfg.Addr. Register handlers and stream listeners, then Start.
func New(cfg Config, log *slog.Logger) (*Transport, error) { panic("rpc: not implemented") }

// Addr returns the address the transport listens on (resolved when ":0").
func (t *Transport) Addr() string { panic("rpc: not implemented") }

// Handle registers h for method. Call before Start.
func (t *Transport) Handle(method string, h Handler) { panic("rpc: not implemented") }

// Listen returns a listener that receives the authenticated connections
// dialled with DialStream for the same stream id (e.g. Raft's transport).
// Stream id 0 is reserved for calls. Call before Start.
func (t *Transport) Listen(stream byte) net.Listener { panic("rpc: not implemented") }

// DialStream opens an authenticated raw connection to addr for stream id.
func (t *Transport) DialStream(ctx context.Context, addr string, stream byte) (net.Conn, error) {
	panic("rpc: not implemented")
}

// Call invokes method on addr, streaming body (may be nil) to it.
func (t *Transport) Call(ctx context.Context, addr, method string, hdr []byte, body io.Reader) (*Response, error) {
	panic("rpc: not implemented")
}

// Start begins accepting connections.
func (t *Transport) Start() { panic("rpc: not implemented") }

// Close stops accepting, closes listeners and pooled connections.
func (t *Transport) Close() error { panic("rpc: not implemented") }
