package rpc

import (
	"context"
	"errors"
)

// Sentinel errors. Match them with errors.Is; they are usually wrapped with
// the peer address and method.
var (
	// ErrAuth means the mutual handshake failed: the peer does not hold the
	// same cluster key (or is not a Strata node).
	ErrAuth = errors.New("rpc: authentication failed")
	// ErrClosed is returned by calls made through a closed Transport.
	ErrClosed = errors.New("rpc: transport closed")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("rpc: invalid config")
	// ErrTooLarge is returned when a method name or header exceeds the
	// wire limits (64 KiB - 1 and 1 MiB).
	ErrTooLarge = errors.New("rpc: method or header too large")
	// ErrProtocol means the peer sent bytes that do not follow the wire
	// format; the connection is dropped.
	ErrProtocol = errors.New("rpc: protocol error")
	// ErrBodyClosed is returned by Read on a Response.Body after Close.
	ErrBodyClosed = errors.New("rpc: read on closed response body")
	// ErrInvalidStream is returned by DialStream for the reserved stream id 0.
	ErrInvalidStream = errors.New("rpc: stream id 0 is reserved for calls")
	// ErrTLSConfig reports TLS files that cannot be used: partly set,
	// missing, unreadable, or a certificate that does not match its key.
	ErrTLSConfig = errors.New("rpc: invalid TLS configuration")
	// ErrTLSMismatch means one end of a connection uses TLS and the other
	// does not (Config.TLS differs between the nodes).
	ErrTLSMismatch = errors.New("rpc: TLS on one side only")
)

// Error codes the transport itself sends in a *RemoteError.
const (
	// CodeInternal is sent for handler errors that are not an *Error, and
	// for recovered handler panics.
	CodeInternal = "internal"
	// CodeUnknownMethod is sent when no handler is registered for a method.
	CodeUnknownMethod = "unknown_method"
	// CodeAborted is sent in-band when the sender of a body failed to
	// produce it (its reader returned an error) after the body had started.
	CodeAborted = "aborted"
)

// ConnError reports a failure to reach or to talk to a peer: a dial error, a
// failed handshake (wrapping ErrAuth), or a connection that broke or carried
// malformed data mid-call. It means "the node may be down or unreachable".
//
// Op says how far the exchange got. "dial" and "handshake" mean no request
// byte was sent, so any call is safe to retry. "write request", "read
// response" and "read response body" mean the handler may have run.
// "read request body" is what a handler sees when its caller's connection
// broke.
type ConnError struct {
	Addr   string // peer address (as given to Call/DialStream, or the remote address)
	Op     string // "dial", "handshake", "write request", "read response", ...
	Method string // the call's method; empty for dial, handshake and streams
	Err    error  // the underlying net or TLS error, ErrAuth, ErrTLSMismatch or ErrProtocol
}

func (e *ConnError) Error() string {
	if e.Method != "" {
		return "rpc: " + e.Method + " on " + e.Addr + ": " + e.Op + ": " + e.Err.Error()
	}
	return "rpc: " + e.Op + " " + e.Addr + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ConnError) Unwrap() error { return e.Err }

// IsUnavailable reports whether err means the peer could not be reached or
// talked to: a dial or connection error (*ConnError) or an authentication
// failure (ErrAuth). It is false for a *RemoteError (the peer answered), for
// context cancellation or deadline (the caller gave up; decide separately),
// for ErrClosed (this transport is shutting down) and for nil.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed) {
		return false
	}
	if errors.Is(err, ErrAuth) {
		return true
	}
	var ce *ConnError
	return errors.As(err, &ce)
}
