package s3api

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/internal/tlstest"
)

// startTLSServer serves HTTPS with a pair of ca copied to files of its own,
// which the test may replace.
func startTLSServer(t *testing.T, ca *tlstest.CA, p tlstest.Pair) (ts *testServer, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	p.CopyTo(t, certFile, keyFile)
	ts = startTestServer(t, func(c *Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile })
	ts.url = "https://" + ts.Addr()
	return ts, certFile, keyFile
}

// servedSerial opens a TLS connection and returns the serial of the
// certificate the server presents.
func servedSerial(t *testing.T, ca *tlstest.CA, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, ca.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func TestTLSServing(t *testing.T) {
	ca := tlstest.NewCA(t, "s3 CA")
	ts, _, _ := startTLSServer(t, ca, ca.Issue("s3"))
	if !ts.TLS() {
		t.Fatal("TLS() is false")
	}
	isTLS := make(chan bool, 1)
	ts.HandleFunc("/strata/test/tls", func(ctx *fasthttp.RequestCtx) {
		isTLS <- ctx.IsTLS()
		ctx.SetBodyString("ok")
	})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}, Timeout: 10 * time.Second}

	for _, path := range []string{"/strata/health/live", "/strata/health/ready"} {
		resp, err := hc.Get(ts.url + path)
		if err != nil {
			t.Fatalf("%s over TLS: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("%s: status %d, tls %+v", path, resp.StatusCode, resp.TLS)
		}
	}
	resp, err := hc.Get(ts.url + "/strata/test/tls")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !<-isTLS {
		t.Fatal("RequestCtx.IsTLS is false for a request that came over TLS")
	}

	// A real client signs and streams over TLS.
	httpc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.TLSClientConfig = ca.ClientConfig() })
	c := s3.New(s3.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint: aws.String(ts.url), UsePathStyle: true, RetryMaxAttempts: 1, HTTPClient: httpc,
	})
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("secure")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("over tls "), 100000)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("secure"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("secure"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET over TLS: %v, %d bytes", err, len(got))
	}

	// Plain HTTP on the TLS port gets no S3 answer.
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + ts.Addr() + "/strata/health/live"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
	// TLS 1.1 is refused.
	old := ca.ClientConfig()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if c, err := tls.Dial("tcp", ts.Addr(), old); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

func TestTLSReload(t *testing.T) {
	ca := tlstest.NewCA(t, "s3 CA")
	first, second := ca.Issue("first"), ca.Issue("second")
	ts, certFile, keyFile := startTLSServer(t, ca, first)
	// A connection opened before the reload keeps its certificate.
	before, err := tls.Dial("tcp", ts.Addr(), ca.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()

	if got := servedSerial(t, ca, ts.Addr()); got != first.Cert.SerialNumber.String() {
		t.Fatalf("serial %s, want %s", got, first.Cert.SerialNumber)
	}
	second.CopyTo(t, certFile, keyFile)
	if err := ts.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, ca, ts.Addr()); got != second.Cert.SerialNumber.String() {
		t.Fatalf("after reload serial %s, want %s", got, second.Cert.SerialNumber)
	}
	if got := before.ConnectionState().PeerCertificates[0].SerialNumber.String(); got != first.Cert.SerialNumber.String() {
		t.Fatalf("open connection changed certificate: %s", got)
	}

	// Bad pairs are refused; the last good one keeps serving.
	for name, prep := range map[string]func(){
		"mismatched key": func() { copyFile(t, first.KeyFile, keyFile) },
		"garbage cert":   func() { os.WriteFile(certFile, []byte("junk"), 0o600) },
		"missing key":    func() { os.Remove(keyFile) },
	} {
		second.CopyTo(t, certFile, keyFile)
		prep()
		if err := ts.ReloadTLS(); !errors.Is(err, ErrTLSConfig) {
			t.Errorf("%s: reload returned %v, want ErrTLSConfig", name, err)
		}
		if got := servedSerial(t, ca, ts.Addr()); got != second.Cert.SerialNumber.String() {
			t.Errorf("%s: after a failed reload serial %s, want %s", name, got, second.Cert.SerialNumber)
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSStartupErrors(t *testing.T) {
	ca := tlstest.NewCA(t, "s3 CA")
	p, q := ca.Issue("p"), ca.Issue("q")
	// The port is free; none of these may bind it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for name, files := range map[string][2]string{
		"cert only":      {p.CertFile, ""},
		"key only":       {"", p.KeyFile},
		"missing key":    {p.CertFile, p.KeyFile + ".nope"},
		"missing cert":   {p.CertFile + ".nope", p.KeyFile},
		"mismatched key": {p.CertFile, q.KeyFile},
	} {
		ctl, objs := newFakeControl(), newFakeObjects(time.Now)
		srv, err := New(Config{Addr: addr, TLSCertFile: files[0], TLSKeyFile: files[1]}, Deps{Control: ctl, Objects: objs, Unseal: fakeUnseal}, nil)
		if err == nil {
			srv.Close()
			t.Errorf("%s: New succeeded", name)
			continue
		}
		if !errors.Is(err, ErrTLSConfig) {
			t.Errorf("%s: got %v, want ErrTLSConfig", name, err)
		}
	}
	if l, err := net.Listen("tcp", addr); err != nil {
		t.Errorf("a failed New left the port bound: %v", err)
	} else {
		l.Close()
	}
}
