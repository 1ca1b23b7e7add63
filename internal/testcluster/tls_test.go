package testcluster_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-io/strata/internal/testcluster"
)

// tlsFront is a TLS-terminating reverse proxy in front of one node, as
// operators deploy Strata. Over TLS the AWS SDKs and minio-go switch to
// aws-chunked bodies with trailing checksums, which plain HTTP never shows;
// the proxy records the payload mode of every request it forwards.
type tlsFront struct {
	srv *httptest.Server
	mu  sync.Mutex
	// seen holds "x-amz-content-sha256 / x-amz-trailer" of each PUT.
	seen []string
}

func newTLSFront(t *testing.T, target string, useTLS bool) *tlsFront {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &tlsFront{}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // the client signed the Host it dialled
	}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			f.mu.Lock()
			f.seen = append(f.seen, r.Header.Get("X-Amz-Content-Sha256")+" / "+r.Header.Get("X-Amz-Trailer"))
			f.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	if useTLS {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *tlsFront) lastPut() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return ""
	}
	return f.seen[len(f.seen)-1]
}

// sdkClient is an aws-sdk-go-v2 client with the default configuration that
// trusts only the proxy's certificate.
func (f *tlsFront) sdkClient(t *testing.T) *s3.Client {
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(testcluster.RootAccessKey, testcluster.RootSecretKey, "")),
		config.WithHTTPClient(awshttp.NewBuildableClient()),
		config.WithCustomCABundle(bytes.NewReader(pemCert)),
	)
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(f.srv.URL)
		o.UsePathStyle = true
	})
}

func (f *tlsFront) minioClient(t *testing.T) *minio.Client {
	opts := &minio.Options{
		Creds:           miniocreds.NewStaticV4(testcluster.RootAccessKey, testcluster.RootSecretKey, ""),
		Region:          "us-east-1",
		TrailingHeaders: true, // as the mc CLI sets it
	}
	if f.srv.TLS != nil {
		pool := x509.NewCertPool()
		pool.AddCert(f.srv.Certificate())
		opts.Secure = true
		opts.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	mc, err := minio.New(f.srv.Listener.Addr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// onlyReader hides Seek, so the SDK cannot hash the body before sending.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestTrailingChecksumModes sends objects through the payload modes that
// current clients use over TLS, into a real cluster, and reads them back.
func TestTrailingChecksumModes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2"})
	front := newTLSFront(t, cl.Endpoint(1), true)
	ctx := context.Background()
	c := front.sdkClient(t)
	mustCreateBucket(t, c, "trailers")

	for _, n := range []int{0, 1, 100 << 10, 3<<20 + 7} {
		data := payload(n, int64(n))
		for _, seekable := range []bool{true, false} {
			var body io.Reader = bytes.NewReader(data)
			if !seekable {
				body = onlyReader{bytes.NewReader(data)}
			}
			key := "sdk/" + map[bool]string{true: "seekable", false: "stream"}[seekable] + "/" + string(rune('a'+n%26))
			_, err := c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("trailers"), Key: aws.String(key), Body: body, ContentLength: aws.Int64(int64(n)),
			})
			if err != nil {
				t.Fatalf("PutObject %s (%d bytes): %v", key, n, err)
			}
			// An empty body goes as UNSIGNED-PAYLOAD with the checksum in
			// a header; every other one in the trailer mode.
			if mode := front.lastPut(); n > 0 && mode != "STREAMING-UNSIGNED-PAYLOAD-TRAILER / x-amz-checksum-crc32" {
				t.Fatalf("PutObject %s was sent as %q; the test expects the SDK's default trailer mode", key, mode)
			}
			if got := get(t, cl.S3Client(2), "trailers", key, ""); sum(got) != sum(data) {
				t.Fatalf("%s: read back %d bytes, differ from the %d written", key, len(got), n)
			}
		}
	}

	// minio-go signs every chunk over plain HTTP and adds a signed trailer
	// when asked for a checksum; over TLS it sends UNSIGNED-PAYLOAD, with
	// an unsigned trailer when asked for a checksum.
	plain := newTLSFront(t, cl.Endpoint(2), false)
	for _, tc := range []struct {
		front *tlsFront
		opts  minio.PutObjectOptions
		mode  string
	}{
		{plain, minio.PutObjectOptions{DisableMultipart: true}, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD / "},
		{plain, minio.PutObjectOptions{DisableMultipart: true, Checksum: minio.ChecksumCRC32C}, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER / x-amz-checksum-crc32c"},
		{front, minio.PutObjectOptions{DisableMultipart: true}, "UNSIGNED-PAYLOAD / "},
		{front, minio.PutObjectOptions{DisableMultipart: true, Checksum: minio.ChecksumCRC32C}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER / x-amz-checksum-crc32c"},
	} {
		data := payload(2<<20+3, int64(len(tc.mode)))
		key := "minio/" + strings.Fields(tc.mode)[0]
		if _, err := tc.front.minioClient(t).PutObject(ctx, "trailers", key, bytes.NewReader(data), int64(len(data)), tc.opts); err != nil {
			t.Fatalf("minio PutObject %s: %v", key, err)
		}
		if mode := tc.front.lastPut(); mode != tc.mode {
			t.Fatalf("minio-go PutObject was sent as %q, want %q", mode, tc.mode)
		}
		if got := get(t, cl.S3Client(3), "trailers", key, ""); sum(got) != sum(data) {
			t.Fatalf("%s differs", key)
		}
	}
}
