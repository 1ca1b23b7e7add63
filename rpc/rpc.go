package rpc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
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
	// A call holds a connection to itself, so this should cover the calls
	// a node has in flight to one peer under load (every request fans out
	// to the peer's drives): fewer, and connections are closed and dialled
	// again (a TCP and cluster-key handshake each) all the time.
	IdleConns int
	// TLS, when set, runs every connection over mutual TLS beneath the
	// cluster-key handshake. Every node of a cluster must agree on it.
	TLS TLSConfig
}

// DefaultConfig returns a Config with sensible timeouts; Addr and ClusterKey
// must still be set.
func DefaultConfig() Config {
	return Config{DialTimeout: 5 * time.Second, IdleConns: 64}
}

// LogValue redacts the cluster key so a logged Config never leaks it.
func (cfg Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", cfg.Addr),
		slog.String("cluster_key", "REDACTED"),
		slog.Duration("dial_timeout", cfg.DialTimeout),
		slog.Int("idle_conns", cfg.IdleConns),
		slog.String("tls_cert", cfg.TLS.CertFile),
		slog.String("tls_ca", cfg.TLS.CAFile),
	)
}

// MinKeyLen is the minimum length of Config.ClusterKey.
const MinKeyLen = 32

// Validate checks cfg. A zero DialTimeout or IdleConns means the default.
func (cfg Config) Validate() error {
	if len(cfg.ClusterKey) < MinKeyLen {
		return fmt.Errorf("%w: cluster key is %d bytes, need at least %d", ErrConfig, len(cfg.ClusterKey), MinKeyLen)
	}
	if cfg.DialTimeout < 0 {
		return fmt.Errorf("%w: negative dial timeout %v", ErrConfig, cfg.DialTimeout)
	}
	if cfg.IdleConns < 0 {
		return fmt.Errorf("%w: negative idle connection count %d", ErrConfig, cfg.IdleConns)
	}
	return cfg.TLS.Validate()
}

// Request is one incoming call as seen by a Handler.
//
// Body may be read by the handler until it returns, and by the response body
// it returns until that is closed (full duplex: a handler may stream the
// request back). Whatever is left unread afterwards is discarded. Body.Read
// returns a *RemoteError with Code CodeAborted if the caller's body source
// failed mid-stream, and an error wrapped in *ConnError if the connection
// broke (the handler's ctx is then cancelled too).
type Request struct {
	Method string
	Header []byte    // opaque to rpc; the caller's encoded request
	Body   io.Reader // streamed request body; empty reader when none was sent
	Remote string    // remote address, for logs
}

// Handler serves one method. It returns an opaque response header and an
// optional body that the transport streams to the caller and then closes.
// A non-nil error is sent to the caller as a *RemoteError (Code from an
// *Error, "internal" otherwise); a returned body is then closed and ignored.
// ctx is cancelled when the transport closes, and (best effort) when the
// connection drops: on a failed read of the request body, on a failed write
// of the response, or when the caller goes away while the response streams.
// If the body's Read fails mid-stream the caller's Response.Body.Read returns
// a *RemoteError built from that error the same way. A panic is recovered,
// logged and sent as CodeInternal. The header may be at most 1 MiB (a larger
// one is sent as a CodeInternal error); codes and messages are truncated to
// 65535 bytes.
type Handler func(ctx context.Context, req *Request) (hdr []byte, body io.ReadCloser, err error)

// Response is the caller's view of a reply. Body must be closed; a fully read
// and closed body returns the connection to the pool. Closing Body before EOF
// closes the connection (a large remaining body is not drained). Body is
// never nil; it is not safe for concurrent use. Its Read returns io.EOF at
// the end, a *RemoteError if the handler's body failed mid-stream, the
// (wrapped) error of the request body's source if that failed, the context's
// error if the call's ctx ended, or a *ConnError.
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

// RemoteError is what Call returns when the remote handler failed, and what
// a body Read returns when the peer aborted the body mid-stream.
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
//
// Every TCP connection starts (after mutual TLS when Config.TLS is set, see
// tls.go) with a mutual HMAC-SHA256 challenge-response over the cluster key
// (see handshake.go) and then carries either calls
// (stream id 0) or a raw byte stream for a Listen-ed stream id. A call owns
// one connection for its duration; idle call connections are pooled per
// address. All methods are safe for concurrent use.
type Transport struct {
	cfg  Config
	key  []byte
	log  *slog.Logger
	ln   net.Listener
	addr string

	// ctx is the parent of every handler's ctx; cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc

	tls    atomic.Pointer[tlsState] // nil: plain TCP
	bufs   bufPool
	routes atomic.Pointer[map[string]*route] // copy on write
	dials  atomic.Int64                      // dial attempts, for tests

	started sync.Once
	wg      sync.WaitGroup // accept loop and server connection goroutines

	mu      sync.Mutex
	closed  bool
	streams map[byte]*streamListener
	idle    map[string][]*clientConn // LIFO per peer address
	conns   map[net.Conn]struct{}    // every open connection, to close on Close
}

// route is one registered method.
type route struct {
	name string
	h    Handler
}

// New listens on cfg.Addr. Register handlers and stream listeners, then Start.
// A zero DialTimeout or IdleConns takes the DefaultConfig value; a nil log
// discards. The listener is bound here, so an address in use fails New with
// an error wrapping the OS error; unusable TLS files fail it with
// ErrTLSConfig.
func New(cfg Config, log *slog.Logger) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var st *tlsState
	if cfg.TLS.Enabled() {
		var err error
		if st, err = loadTLS(cfg.TLS); err != nil {
			return nil, err
		}
	}
	def := DefaultConfig()
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = def.DialTimeout
	}
	if cfg.IdleConns == 0 {
		cfg.IdleConns = def.IdleConns
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("rpc: listen on %q: %w", cfg.Addr, err)
	}
	t := &Transport{
		cfg:     cfg,
		key:     append([]byte(nil), cfg.ClusterKey...),
		log:     log.With("component", "rpc"),
		ln:      ln,
		addr:    ln.Addr().String(),
		streams: make(map[byte]*streamListener),
		idle:    make(map[string][]*clientConn),
		conns:   make(map[net.Conn]struct{}),
	}
	t.cfg.ClusterKey = nil // keep the one private copy in t.key
	t.tls.Store(st)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.routes.Store(&map[string]*route{})
	return t, nil
}

// Addr returns the address the transport listens on (resolved when ":0").
func (t *Transport) Addr() string { return t.addr }

// Handle registers h for method. Call before Start (it is safe later too).
// It panics on an empty or over-long method, a nil handler or a duplicate.
func (t *Transport) Handle(method string, h Handler) {
	if method == "" || len(method) > maxMethod || h == nil {
		panic(fmt.Sprintf("rpc: invalid handler registration for method %q", method))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.routes.Load()
	if _, dup := old[method]; dup {
		panic(fmt.Sprintf("rpc: duplicate handler for method %q", method))
	}
	m := make(map[string]*route, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[method] = &route{name: method, h: h}
	t.routes.Store(&m)
}

// lookup finds the route for method bytes without allocating.
func (t *Transport) lookup(method []byte) *route {
	return (*t.routes.Load())[string(method)]
}

// Listen returns a listener that receives the authenticated connections
// dialled with DialStream for the same stream id (e.g. Raft's transport).
// Stream id 0 is reserved for calls. Call before Start.
//
// Accept blocks until a connection for the id arrives; after the listener's
// or the transport's Close it returns an error wrapping net.ErrClosed. A
// closed listener's id may be registered again. Listen panics for id 0 or an
// id that already has an open listener. Connections for an id without a
// listener are closed by the server.
func (t *Transport) Listen(stream byte) net.Listener { return t.listen(stream) }

// DialStream opens an authenticated raw connection to addr for stream id.
// The handshake is bounded by Config.DialTimeout and ctx; ctx does not
// affect the returned connection. Failures are *ConnError (wrapping ErrAuth
// for a key mismatch) or the ctx error.
func (t *Transport) DialStream(ctx context.Context, addr string, stream byte) (net.Conn, error) {
	return t.dialStream(ctx, addr, stream)
}

// Call invokes method on addr, streaming body (may be nil) to it.
//
// The request body is read and sent concurrently with waiting for the reply
// (from another goroutine unless it is small and in memory), so the handler
// may answer before it has read everything. Call may return the Response
// while body is still being sent; body is no longer read once Call returned
// an error or Response.Body reached its end or was closed. If body can block
// (a pipe), the caller must unblock it when ctx ends.
//
// Errors: *RemoteError when the handler failed; *ConnError (IsUnavailable)
// when addr cannot be reached, fails authentication (ErrAuth) or the
// connection breaks; the ctx error (wrapped) when ctx ends first — at any
// point, including while the body streams; ErrClosed after Close; the
// request body source's error (wrapped) when it failed; ErrTooLarge for a
// method over 65535 bytes or a header over 1 MiB.
func (t *Transport) Call(ctx context.Context, addr, method string, hdr []byte, body io.Reader) (*Response, error) {
	return t.call(ctx, addr, method, hdr, body)
}

// Start begins accepting connections. Further calls do nothing.
func (t *Transport) Start() {
	t.started.Do(func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.closed {
			return
		}
		t.wg.Add(1)
		go t.acceptLoop()
	})
}

// Close stops accepting, closes listeners and pooled connections.
// It also closes connections in use (calls in flight fail with ErrClosed,
// handlers' ctx is cancelled, raw stream connections are closed) and waits,
// for at most closeWait, until the accept loop and the server's connection
// goroutines (including running handlers) have returned. It is idempotent.
func (t *Transport) Close() error { return t.close() }
