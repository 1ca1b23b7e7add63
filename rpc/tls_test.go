package rpc_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/internal/tlstest"
	"github.com/strata-io/strata/rpc"
)

// nodeTLS issues a certificate from ca and returns the TLS settings of a
// node trusting ca.
func nodeTLS(ca *tlstest.CA, name string) rpc.TLSConfig {
	p := ca.Issue(name)
	return rpc.TLSConfig{CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: ca.File}
}

// newTLSTransport is newTransport with TLS settings.
func newTLSTransport(t testing.TB, tc rpc.TLSConfig, setup func(*rpc.Transport)) *rpc.Transport {
	t.Helper()
	cfg := rpc.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.ClusterKey = testKey
	cfg.TLS = tc
	tr, err := rpc.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(tr)
	}
	tr.Start()
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return tr
}

// tap is a TCP relay that records every byte sent from client to server.
type tap struct {
	ln   net.Listener
	mu   sync.Mutex
	sent bytes.Buffer
}

func newTap(t *testing.T, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() {
				defer s.Close()
				io.Copy(s, io.TeeReader(c, tp))
			}()
			go func() {
				defer c.Close()
				io.Copy(c, s)
			}()
		}
	}()
	return tp
}

func (tp *tap) Write(p []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.sent.Write(p)
}

func (tp *tap) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.sent.Bytes())
}

func TestTLSRoundTrip(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster CA")
	var ln net.Listener
	srv := newTLSTransport(t, nodeTLS(ca, "n1"), func(tr *rpc.Transport) {
		dataHandlers(tr)
		ln = tr.Listen(7)
	})
	cl := newTLSTransport(t, nodeTLS(ca, "n2"), nil)
	tp := newTap(t, srv.Addr())
	addr := tp.ln.Addr().String()

	secret := bytes.Repeat([]byte("plaintext-marker "), 4096)
	want, _ := sum(t, bytes.NewReader(secret))
	for range 5 {
		upload(t, cl, addr, bytes.NewReader(secret), want, int64(len(secret)))
	}
	for _, size := range []int64{0, 1000, 8<<20 + 3} {
		download(t, cl, addr, uint64(size), size)
		w, _ := sum(t, gen(uint64(size), size))
		upload(t, cl, addr, gen(uint64(size), size), w, size)
	}
	if d := rpc.Dials(cl); d != 1 {
		t.Fatalf("sequential TLS calls dialled %d times, want 1 (idle connections must be reused)", d)
	}

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	c, err := cl.DialStream(context.Background(), addr, 7)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write(secret)
	echo := make([]byte, len(secret))
	if _, err := io.ReadFull(c, echo); err != nil || !bytes.Equal(echo, secret) {
		t.Fatalf("stream echo over TLS: %v", err)
	}

	wire := tp.bytes()
	if len(wire) < len(secret) || wire[0] != 0x16 {
		t.Fatalf("the wire does not start with a TLS handshake record (%d bytes, first %#x)", len(wire), wire[0])
	}
	if bytes.Contains(wire, []byte("plaintext-marker")) || bytes.Contains(wire, []byte("STRATA-RPC/1")) || bytes.Contains(wire, []byte("upload")) {
		t.Fatal("plaintext on the wire: TLS is not in use")
	}
}

// TestTLSRefusals covers every way a peer can fail mutual TLS; each one
// fails fast, before any handler runs.
func TestTLSRefusals(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster CA")
	other := tlstest.NewCA(t, "another CA")
	var runs atomic.Int64
	handlers := func(tr *rpc.Transport) {
		tr.Handle("m", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			runs.Add(1)
			return nil, nil, nil
		})
	}
	srv := newTLSTransport(t, nodeTLS(ca, "n1"), handlers)
	good := newTLSTransport(t, nodeTLS(ca, "n2"), nil)
	if resp, err := good.Call(context.Background(), srv.Addr(), "m", nil, nil); err != nil {
		t.Fatalf("same CA: %v", err)
	} else {
		resp.Body.Close()
	}
	t.Cleanup(func() {
		if n := runs.Load(); n != 1 {
			t.Errorf("handler ran %d times, want once (the good call only)", n)
		}
	})

	call := func(t *testing.T, from *rpc.Transport, to string) error {
		t.Helper()
		start := time.Now()
		resp, err := from.Call(context.Background(), to, "m", nil, nil)
		if err == nil {
			resp.Body.Close()
			t.Fatal("call succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("refusal took %v", d)
		}
		var ce *rpc.ConnError
		if !errors.As(err, &ce) || ce.Op != "handshake" || !rpc.IsUnavailable(err) {
			t.Fatalf("got %v, want a handshake ConnError", err)
		}
		t.Logf("refused: %v", err)
		return err
	}

	t.Run("client cert from another CA", func(t *testing.T) {
		// The client trusts the server's CA but holds a certificate of
		// another: the server rejects it.
		p := other.Issue("intruder")
		cl := newTLSTransport(t, rpc.TLSConfig{CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: ca.File}, nil)
		err := call(t, cl, srv.Addr())
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("error does not say the certificate was refused: %v", err)
		}
	})
	t.Run("server cert from another CA", func(t *testing.T) {
		rogue := newTLSTransport(t, nodeTLS(other, "rogue"), handlers)
		err := call(t, good, rogue.Addr())
		if !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("error does not name the unknown authority: %v", err)
		}
	})
	t.Run("plain client to TLS server", func(t *testing.T) {
		plain := newTransport(t, testKey, nil)
		if err := call(t, plain, srv.Addr()); !errors.Is(err, rpc.ErrTLSMismatch) {
			t.Fatalf("got %v, want ErrTLSMismatch", err)
		}
		if _, err := plain.DialStream(context.Background(), srv.Addr(), 5); !errors.Is(err, rpc.ErrTLSMismatch) {
			t.Fatalf("stream: got %v, want ErrTLSMismatch", err)
		}
	})
	t.Run("TLS client to plain server", func(t *testing.T) {
		plainSrv := newTransport(t, testKey, handlers)
		if err := call(t, good, plainSrv.Addr()); !errors.Is(err, rpc.ErrTLSMismatch) {
			t.Fatalf("got %v, want ErrTLSMismatch", err)
		}
	})
	t.Run("client without a certificate", func(t *testing.T) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", srv.Addr(), ca.ClientConfig())
		if err == nil {
			// TLS 1.3: the client finishes first; the refusal comes as an
			// alert on the first read.
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write(append([]byte("STRATA-RPC/1"), make([]byte, 32)...))
			_, err = io.ReadFull(c, make([]byte, 64))
		}
		if err == nil || isTimeout(err) || !strings.Contains(err.Error(), "certificate required") {
			t.Fatalf("a client without a certificate got %v, want the server's certificate-required alert", err)
		}
	})
	t.Run("cluster key still checked under TLS", func(t *testing.T) {
		cfg := rpc.DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		cfg.ClusterKey = otherKey
		cfg.TLS = nodeTLS(ca, "wrong-key")
		cl, err := rpc.New(cfg, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := call(t, cl, srv.Addr()); !errors.Is(err, rpc.ErrAuth) {
			t.Fatalf("got %v, want ErrAuth", err)
		}
	})
}

// servedSerial dials addr with a certificate of ca and returns the serial
// number of the certificate the server presents.
func servedSerial(t *testing.T, ca *tlstest.CA, client tlstest.Pair, addr string) string {
	t.Helper()
	cfg := ca.ClientConfig(client.KeyPair(t))
	cfg.ServerName = "localhost"
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func TestTLSReload(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster CA")
	first, second := ca.Issue("first"), ca.Issue("second")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "node.pem"), filepath.Join(dir, "node-key.pem")
	first.CopyTo(t, certFile, keyFile)
	srv := newTLSTransport(t, rpc.TLSConfig{CertFile: certFile, KeyFile: keyFile, CAFile: ca.File}, dataHandlers)
	cl := newTLSTransport(t, nodeTLS(ca, "client"), nil)
	clientPair := ca.Issue("probe")

	if got := servedSerial(t, ca, clientPair, srv.Addr()); got != first.Cert.SerialNumber.String() {
		t.Fatalf("serving serial %s, want %s", got, first.Cert.SerialNumber)
	}
	second.CopyTo(t, certFile, keyFile)
	if got := servedSerial(t, ca, clientPair, srv.Addr()); got != first.Cert.SerialNumber.String() {
		t.Fatalf("certificate changed before ReloadTLS: %s", got)
	}
	if err := srv.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, ca, clientPair, srv.Addr()); got != second.Cert.SerialNumber.String() {
		t.Fatalf("after reload serving serial %s, want %s", got, second.Cert.SerialNumber)
	}

	// A broken pair (key of another certificate) is refused and the last
	// good one keeps serving.
	if err := os.WriteFile(keyFile, mustRead(t, first.KeyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.ReloadTLS(); !errors.Is(err, rpc.ErrTLSConfig) {
		t.Fatalf("reload of a mismatched pair: %v, want ErrTLSConfig", err)
	}
	os.Remove(keyFile)
	if err := srv.ReloadTLS(); !errors.Is(err, rpc.ErrTLSConfig) {
		t.Fatalf("reload of a missing key: %v, want ErrTLSConfig", err)
	}
	if got := servedSerial(t, ca, clientPair, srv.Addr()); got != second.Cert.SerialNumber.String() {
		t.Fatalf("after a failed reload serving serial %s, want %s", got, second.Cert.SerialNumber)
	}
	download(t, cl, srv.Addr(), 1, 1000)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTLSConfigErrors(t *testing.T) {
	ca := tlstest.NewCA(t, "cluster CA")
	p := ca.Issue("n1")
	q := ca.Issue("n2")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	for name, tc := range map[string]rpc.TLSConfig{
		"no CA":          {CertFile: p.CertFile, KeyFile: p.KeyFile},
		"no key":         {CertFile: p.CertFile, CAFile: ca.File},
		"missing cert":   {CertFile: p.CertFile + ".nope", KeyFile: p.KeyFile, CAFile: ca.File},
		"mismatched key": {CertFile: p.CertFile, KeyFile: q.KeyFile, CAFile: ca.File},
		"garbage CA":     {CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: garbage},
		"missing CA":     {CertFile: p.CertFile, KeyFile: p.KeyFile, CAFile: garbage + ".nope"},
	} {
		cfg := rpc.DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		cfg.ClusterKey = testKey
		cfg.TLS = tc
		tr, err := rpc.New(cfg, nil)
		if err == nil {
			tr.Close()
			t.Errorf("%s: New succeeded", name)
			continue
		}
		if !errors.Is(err, rpc.ErrTLSConfig) {
			t.Errorf("%s: got %v, want ErrTLSConfig", name, err)
		}
	}
}

// BenchmarkTLS is BenchmarkCall64MiB's upload and BenchmarkSmallCall over
// mutual TLS, to compare with the plain transport.
func BenchmarkTLS(b *testing.B) {
	ca := tlstest.NewCA(b, "bench CA")
	const size = 64 << 20
	srv := newTLSTransport(b, nodeTLS(ca, "srv"), func(tr *rpc.Transport) {
		tr.Handle("sink", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			_, err := io.Copy(io.Discard, req.Body)
			return nil, nil, err
		})
		tr.Handle("ping", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return req.Header, nil, nil
		})
	})
	cl := newTLSTransport(b, nodeTLS(ca, "cl"), nil)
	ctx := context.Background()
	call := func(b *testing.B, method string, hdr []byte, body io.Reader) {
		resp, err := cl.Call(ctx, srv.Addr(), method, hdr, body)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	b.Run("upload64MiB", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			call(b, "sink", nil, &zeroReader{n: size})
		}
	})
	b.Run("small", func(b *testing.B) {
		hdr := make([]byte, 64)
		b.ReportAllocs()
		for b.Loop() {
			call(b, "ping", hdr, nil)
		}
	})
}
