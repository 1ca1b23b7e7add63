package rpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// TLSConfig turns on mutual TLS for every connection, beneath the
// cluster-key handshake: set all three files or none.
//
// Each node presents CertFile as server and as client; both ends verify the
// peer's chain against the CAs of CAFile (and its extended key usage:
// serverAuth for the server, clientAuth for the client). Host names are not
// checked: nodes dial each other by advertised address, and membership is
// already proven by the cluster key; the CA is what vouches for the peer.
type TLSConfig struct {
	CertFile string // PEM certificate (chain) this node presents
	KeyFile  string // PEM private key of CertFile
	CAFile   string // PEM bundle of the CAs that sign the nodes' certificates
}

// Enabled reports whether any file is set.
func (c TLSConfig) Enabled() bool { return c.CertFile != "" || c.KeyFile != "" || c.CAFile != "" }

// Validate reports a partial configuration.
func (c TLSConfig) Validate() error {
	if c.Enabled() && (c.CertFile == "" || c.KeyFile == "" || c.CAFile == "") {
		return fmt.Errorf("%w: certificate, key and CA files go together (cert %q, key %q, ca %q)", ErrTLSConfig, c.CertFile, c.KeyFile, c.CAFile)
	}
	return nil
}

// tlsState is one loaded generation of the TLS files. A connection takes
// the configs current when it starts, so a reload affects new connections
// only.
type tlsState struct {
	server *tls.Config
	client *tls.Config
	leaf   *x509.Certificate
}

// loadTLS reads the files of c and builds both sides' configs.
func loadTLS(c TLSConfig) (*tlsState, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: key pair (cert %s, key %s): %v", ErrTLSConfig, c.CertFile, c.KeyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%w: cert %s: %v", ErrTLSConfig, c.CertFile, err)
		}
	}
	caPEM, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%w: CA bundle: %v", ErrTLSConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%w: CA bundle %s holds no PEM certificate", ErrTLSConfig, c.CAFile)
	}
	server := &tls.Config{
		MinVersion:             tls.VersionTLS12,
		Certificates:           []tls.Certificate{cert},
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              pool,
		SessionTicketsDisabled: true, // nothing may arrive on an idle connection
	}
	client := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Always present the certificate, even when the server's list of
		// acceptable CAs does not name its issuer: the server then reports
		// the real reason (unknown authority) instead of a missing cert.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
		// The chain is verified against the CA below; the host name is
		// deliberately not (see TLSConfig).
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, pool)
		},
	}
	return &tlsState{server: server, client: client, leaf: leaf}, nil
}

func verifyChain(chain []*x509.Certificate, roots *x509.CertPool) error {
	if len(chain) == 0 {
		return errors.New("tls: server presented no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := chain[0].Verify(opts)
	return err
}

// ReloadTLS reads the TLS files again; new connections use them, open ones
// keep theirs. On an error (a file missing, unreadable or a mismatched
// pair) the previous files stay in use. Without TLS it does nothing.
func (t *Transport) ReloadTLS() error {
	if !t.cfg.TLS.Enabled() {
		return nil
	}
	st, err := loadTLS(t.cfg.TLS)
	if err != nil {
		return err
	}
	t.tls.Store(st)
	t.log.Info("tls certificate loaded", "serial", st.leaf.SerialNumber.String(), "not_after", st.leaf.NotAfter)
	return nil
}

// tlsConn is a TLS connection whose Close closes the TCP connection at once
// without a close_notify alert: the call protocol has its own end markers,
// and an alert written to a peer that stopped reading could block Close.
type tlsConn struct {
	*tls.Conn
	raw net.Conn
}

func (c *tlsConn) Close() error { return c.raw.Close() }

// rawConn returns the TCP connection under c.
func rawConn(c net.Conn) net.Conn {
	if tc, ok := c.(*tlsConn); ok {
		return tc.raw
	}
	return c
}

// swap replaces the tracked connection old by its wrapper c. It returns
// false (and the caller must close c) once the transport is closed.
func (t *Transport) swap(old, c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	delete(t.conns, old)
	t.conns[c] = struct{}{}
	return true
}

// tlsRefusal is what a TLS server sends a plain client in place of the
// handshake reply, so that the client can name the problem; it is as long
// as a reply.
var tlsRefusal = func() []byte {
	b := make([]byte, nonceLen+macLen)
	copy(b, magic+" TLS REQUIRED")
	return b
}()

// recordHandshake is the first byte of a TLS connection (a handshake record).
const recordHandshake = 0x16

// serverTLS runs the server side of TLS on c within the handshake deadline
// already set. A plain Strata client is told that TLS is required.
func (t *Transport) serverTLS(c net.Conn, st *tlsState) (net.Conn, error) {
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return nil, eofUnexpected(err)
	}
	if first[0] != recordHandshake {
		var hello [len(magic) + nonceLen]byte
		hello[0] = first[0]
		if _, err := io.ReadFull(c, hello[1:]); err == nil && string(hello[:len(magic)]) == magic {
			_, _ = c.Write(tlsRefusal)
			return nil, fmt.Errorf("%w: the peer dialled without TLS but this node requires it (set --rpc-tls-* on every node)", ErrTLSMismatch)
		}
		return nil, fmt.Errorf("%w: first bytes are neither TLS nor a Strata handshake", ErrAuth)
	}
	tc := tls.Server(&prefixConn{Conn: c, prefix: first[:]}, st.server)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return &tlsConn{Conn: tc, raw: c}, nil
}

// clientTLS runs the client side of TLS on c within the deadline already
// set.
func clientTLS(ctx context.Context, c net.Conn, st *tlsState) (net.Conn, error) {
	tc := tls.Client(c, st.client)
	if err := tc.HandshakeContext(ctx); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
			return nil, fmt.Errorf("%w: the peer closed the connection during the TLS handshake (does it run without --rpc-tls-*, or reject this node's certificate?): %v", ErrTLSMismatch, err)
		}
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return &tlsConn{Conn: tc, raw: c}, nil
}

// prefixConn replays bytes already read from Conn before reading it.
type prefixConn struct {
	net.Conn
	mu     sync.Mutex
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// isTLSRefusal reports whether a handshake reply is a TLS server's refusal
// of a plain client.
func isTLSRefusal(reply []byte) bool { return bytes.Equal(reply, tlsRefusal) }
