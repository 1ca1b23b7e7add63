package s3api

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
)

// ErrTLSConfig reports a certificate and key that cannot be served: only
// one of the two set, a file missing or unreadable, or a key that does not
// match the certificate.
var ErrTLSConfig = errors.New("s3api: invalid TLS configuration")

// certStore holds the certificate the listener presents. Each handshake
// reads the current one, so ReloadTLS swaps it without touching the
// listener or open connections.
type certStore struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func newCertStore(certFile, keyFile string) (*certStore, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("%w: certificate and key go together (cert %q, key %q)", ErrTLSConfig, certFile, keyFile)
	}
	c := &certStore{certFile: certFile, keyFile: keyFile}
	cert, err := c.load()
	if err != nil {
		return nil, err
	}
	c.cur.Store(cert)
	return c, nil
}

// load reads and checks the pair from disk.
func (c *certStore) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: key pair (cert %s, key %s): %v", ErrTLSConfig, c.certFile, c.keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("%w: cert %s: %v", ErrTLSConfig, c.certFile, err)
		}
	}
	return &cert, nil
}

// config is the listener's TLS configuration: TLS 1.2 and later, HTTP/1.1
// (what fasthttp speaks), the current certificate.
func (c *certStore) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// listen binds cfg.Addr; with Config.TLSCertFile/TLSKeyFile set, the pair
// is loaded first and the listener speaks TLS only (fasthttp then reports
// RequestCtx.IsTLS, which aws:SecureTransport reads).
func listen(cfg Config) (net.Listener, *certStore, error) {
	var certs *certStore
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		var err error
		if certs, err = newCertStore(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, nil, err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("s3api: listen: %w", err)
	}
	if certs != nil {
		ln = tls.NewListener(ln, certs.config())
	}
	return ln, certs, nil
}

// TLS reports whether the frontend serves HTTPS.
func (s *Server) TLS() bool { return s.certs != nil }

// TLSConfig returns a TLS configuration presenting the S3 listener's
// current certificate (ReloadTLS swaps it for both), for another listener
// of the node that serves the same clients (the web console's own port);
// nil without TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.certs == nil {
		return nil
	}
	return s.certs.config()
}

// ReloadTLS reads the certificate and key files again (the node calls it on
// SIGHUP). New connections get the new pair; open ones keep theirs. A
// missing, unreadable or mismatched pair returns an error wrapping
// ErrTLSConfig and the previous pair keeps serving. Without TLS it does
// nothing.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return nil
	}
	cert, err := s.certs.load()
	if err != nil {
		return err
	}
	s.certs.cur.Store(cert)
	s.log.Info("tls certificate loaded", "serial", cert.Leaf.SerialNumber.String(), "not_after", cert.Leaf.NotAfter)
	return nil
}
