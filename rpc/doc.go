// Package rpc is Strata's internode transport: one TCP listener per node
// that carries Raft's streams and all shard traffic, authenticated with the
// cluster key.
//
// It owns connections (dialling, the mutual HMAC-SHA256 handshake, a pool of
// idle call connections per peer), the call wire format (method, opaque
// header, streamed body frames, typed remote errors) and raw authenticated
// streams multiplexed by a one-byte stream id. It knows nothing of shards,
// Raft or metadata: callers encode their own headers and own their methods
// and handlers.
//
// Main types: Transport (both server and client: New, Handle, Listen,
// Start, Call, DialStream, ReloadTLS, Close), Config and TLSConfig, Handler
// and Request (server side), Response (client side), Error (a handler's
// typed error), RemoteError (what the caller gets), ConnError and
// IsUnavailable (the peer cannot be reached).
//
// Usage: New binds the listener; register methods with Handle and stream
// ids with Listen; Start accepts. Call from any goroutine; always close
// Response.Body. Close shuts everything down, including calls in flight.
//
// The cluster-key handshake authenticates but does not encrypt. With
// Config.TLS (tls.go) every connection first runs mutual TLS 1.2+ against a
// CA bundle, the handshake then runs inside it, and everything is encrypted;
// ReloadTLS re-reads the files for new connections. A node with TLS and one
// without refuse each other quickly with ErrTLSMismatch.
//
// rpc imports only the standard library; it must not import any other
// Strata package (everything else sits above it).
package rpc
