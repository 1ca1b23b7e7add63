package rpc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"time"
)

// The handshake authenticates both ends with the cluster key before any
// other byte is exchanged:
//
//	client -> server  magic "STRATA-RPC/1" | nc (32 random bytes)
//	server -> client  ns (32 random bytes) | HMAC-SHA256(key, "server" | nc | ns)
//	client -> server  HMAC-SHA256(key, "client" | nc | ns) | stream id (1 byte)
//
// Each side checks the other's MAC in constant time and closes the
// connection on a mismatch. Fresh nonces on both sides make every proof
// single-use, and the distinct labels stop a server's proof from being
// replayed as a client's. The key never crosses the wire. The handshake only
// authenticates: without Config.TLS, traffic after it is neither encrypted
// nor integrity-protected. With it, the exchange above runs inside mutual
// TLS (tls.go), and a TLS server answers a plain client's hello with
// tlsRefusal instead of a reply.
const (
	magic       = "STRATA-RPC/1"
	nonceLen    = 32
	macLen      = sha256.Size
	streamCalls = 0
)

// handshakeMAC computes HMAC-SHA256(key, label | nc | ns).
func handshakeMAC(key []byte, label string, nc, ns []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(nc)
	m.Write(ns)
	return m.Sum(nil)
}

// clientHandshake runs TLS when configured, then proves the key to the
// server and checks the server's proof. It returns the connection to use
// (c, or c wrapped in TLS). It is bounded by Config.DialTimeout and ctx, and
// leaves c without a deadline. A key mismatch returns ErrAuth; TLS on one
// side only returns ErrTLSMismatch.
func (t *Transport) clientHandshake(ctx context.Context, c net.Conn, stream byte) (net.Conn, error) {
	deadline := time.Now().Add(t.cfg.DialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(aLongTimeAgo) })
	conn, err := c, error(nil)
	if st := t.tls.Load(); st != nil {
		conn, err = clientTLS(ctx, c, st)
	}
	if err == nil {
		err = clientExchange(conn, t.key, stream)
	}
	if !stop() {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return conn, c.SetDeadline(time.Time{})
}

func clientExchange(c net.Conn, key []byte, stream byte) error {
	var hello [len(magic) + nonceLen]byte
	copy(hello[:], magic)
	nc := hello[len(magic):]
	if _, err := rand.Read(nc); err != nil {
		return err
	}
	if _, err := c.Write(hello[:]); err != nil {
		return err
	}
	var reply [nonceLen + macLen]byte
	if _, err := io.ReadFull(c, reply[:]); err != nil {
		return eofUnexpected(err)
	}
	if isTLSRefusal(reply[:]) {
		return fmt.Errorf("%w: the peer requires TLS but this node dialled without it (set --rpc-tls-* on every node)", ErrTLSMismatch)
	}
	ns, serverMAC := reply[:nonceLen], reply[nonceLen:]
	if !hmac.Equal(serverMAC, handshakeMAC(key, "server", nc, ns)) {
		return ErrAuth
	}
	proof := append(handshakeMAC(key, "client", nc, ns), stream)
	_, err := c.Write(proof)
	return err
}

// serverHandshake checks the client's proof and returns the requested stream
// id. It is bounded by Config.DialTimeout and leaves c without a deadline.
func (t *Transport) serverHandshake(c net.Conn) (byte, error) {
	if err := c.SetDeadline(time.Now().Add(t.cfg.DialTimeout)); err != nil {
		return 0, err
	}
	var hello [len(magic) + nonceLen]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil {
		return 0, eofUnexpected(err)
	}
	if string(hello[:len(magic)]) != magic {
		if hello[0] == recordHandshake {
			return 0, fmt.Errorf("%w: the peer dialled with TLS but this node has none (set --rpc-tls-* on every node)", ErrTLSMismatch)
		}
		return 0, fmt.Errorf("%w: bad magic", ErrAuth)
	}
	nc := hello[len(magic):]
	var reply [nonceLen + macLen]byte
	ns := reply[:nonceLen]
	if _, err := rand.Read(ns); err != nil {
		return 0, err
	}
	copy(reply[nonceLen:], handshakeMAC(t.key, "server", nc, ns))
	if _, err := c.Write(reply[:]); err != nil {
		return 0, err
	}
	var proof [macLen + 1]byte
	if _, err := io.ReadFull(c, proof[:]); err != nil {
		return 0, eofUnexpected(err)
	}
	if !hmac.Equal(proof[:macLen], handshakeMAC(t.key, "client", nc, ns)) {
		return 0, ErrAuth
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return 0, err
	}
	return proof[macLen], nil
}
