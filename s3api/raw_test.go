package s3api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Requests the SDKs would not send, signed by hand with the SDK's signer.

type rawReq struct {
	method, path string
	host         string // overrides the Host header (virtual-host tests)
	body         []byte
	header       map[string]string
	chunked      bool // send with Transfer-Encoding: chunked
	unsigned     bool // UNSIGNED-PAYLOAD
}

func signed(t *testing.T, ts *testServer, rr rawReq) *http.Request {
	t.Helper()
	var body io.Reader = bytes.NewReader(rr.body)
	if rr.chunked {
		body = io.NopCloser(bytes.NewReader(rr.body)) // unknown length: chunked
	}
	req, err := http.NewRequest(rr.method, ts.url+rr.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rr.chunked {
		req.ContentLength = -1
	}
	if rr.host != "" {
		req.Host = rr.host
	}
	for k, v := range rr.header {
		req.Header.Set(k, v)
	}
	hash := "UNSIGNED-PAYLOAD"
	if !rr.unsigned {
		sum := sha256.Sum256(rr.body)
		hash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("x-amz-content-sha256", hash)
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
	if err := v4signer().SignHTTP(t.Context(), creds, req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// v4signer is the SDK's SigV4 signer, for requests built by hand.
func v4signer() *v4.Signer { return v4.NewSigner() }

func do(t *testing.T, ts *testServer, rr rawReq) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signed(t, ts, rr))
	if err != nil {
		t.Fatalf("%s %s: %v", rr.method, rr.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func wantS3Error(t *testing.T, what string, resp *http.Response, body string, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || (code != "" && !strings.Contains(body, "<Code>"+code+"</Code>")) {
		t.Errorf("%s: got %d %s, want %d %s", what, resp.StatusCode, body, status, code)
	}
}

func TestRawRequests(t *testing.T) {
	ts := startTestServer(t)
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/raw"})
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "/raw" {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}

	// No Content-Type: served as binary/octet-stream.
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/plain", body: []byte("x")})
	if resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, ts, rawReq{method: "HEAD", path: "/raw/plain"})
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "binary/octet-stream" || resp.ContentLength != 1 {
		t.Errorf("head: %d %q %d", resp.StatusCode, ct, resp.ContentLength)
	}

	// Transfer-Encoding: chunked without aws-chunked: the length is
	// unknown, the object is stored as it comes.
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/chunked", body: []byte("abc"), chunked: true, unsigned: true})
	if resp.StatusCode != 200 {
		t.Errorf("chunked put: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/raw/chunked"})
	if resp.StatusCode != 200 || body != "abc" {
		t.Errorf("chunked get: %d %q", resp.StatusCode, body)
	}
	// ... but a part must have a length.
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/chunked?partNumber=1&uploadId=x", body: []byte("abc"), chunked: true, unsigned: true})
	wantS3Error(t, "chunked part", resp, body, 411, "MissingContentLength")

	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/meta", body: []byte("x"), header: map[string]string{"x-amz-meta-big": strings.Repeat("m", 2100)}})
	wantS3Error(t, "metadata", resp, body, 400, "MetadataTooLarge")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/sse", body: []byte("x"), header: map[string]string{"x-amz-server-side-encryption": "AES256"}})
	wantS3Error(t, "sse", resp, body, 501, "NotImplemented")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/" + strings.Repeat("k", 1025), body: []byte("x")})
	wantS3Error(t, "long key", resp, body, 400, "KeyTooLongError")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw/bad", body: []byte("x"), header: map[string]string{"Content-MD5": "short"}})
	wantS3Error(t, "bad md5", resp, body, 400, "InvalidDigest")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw2", body: []byte("<CreateBucketConfiguration><LocationConstraint>")})
	wantS3Error(t, "malformed xml", resp, body, 400, "MalformedXML")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/raw2", body: []byte("<Other/>")})
	wantS3Error(t, "wrong root element", resp, body, 400, "MalformedXML")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/strata"})
	wantS3Error(t, "reserved bucket", resp, body, 400, "InvalidBucketName")
	resp, body = do(t, ts, rawReq{method: "PATCH", path: "/raw/x"})
	wantS3Error(t, "patch", resp, body, 405, "MethodNotAllowed")
	resp, body = do(t, ts, rawReq{method: "HEAD", path: "/nope"})
	if resp.StatusCode != 404 || body != "" || resp.Header.Get("x-amz-request-id") == "" {
		t.Errorf("head missing bucket: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/raw/plain", header: map[string]string{"Range": "bytes=5-"}})
	wantS3Error(t, "range", resp, body, 416, "InvalidRange")
	if cr := resp.Header.Get("Content-Range"); cr != "bytes */1" {
		t.Errorf("416 Content-Range %q", cr)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/raw/plain", header: map[string]string{"Range": "bytes=0-0,1-1"}})
	if resp.StatusCode != 200 || body != "x" {
		t.Errorf("multi-range: %d %q", resp.StatusCode, body)
	}

	// Virtual-host style: the bucket is in the Host header.
	_, port, _ := net.SplitHostPort(ts.Addr())
	resp, body = do(t, ts, rawReq{method: "GET", path: "/plain", host: "raw.localhost:" + port})
	if resp.StatusCode != 200 || body != "x" {
		t.Errorf("virtual host get: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/?list-type=2", host: "raw.s3.test:" + port})
	if resp.StatusCode != 200 || !strings.Contains(body, "<Key>plain</Key>") || !strings.Contains(body, "<Name>raw</Name>") {
		t.Errorf("virtual host list: %d %s", resp.StatusCode, body)
	}
	// A health path under a virtual host is an object key, not a route.
	resp, body = do(t, ts, rawReq{method: "GET", path: "/strata/health/live", host: "raw.localhost:" + port})
	wantS3Error(t, "vhost health path", resp, body, 404, "NoSuchKey")
}

func TestPresignedGet(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pre")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pre"), Key: aws.String("a b+c"), Body: strings.NewReader("shared")}); err != nil {
		t.Fatal(err)
	}
	p, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pre"), Key: aws.String("a b+c")},
		s3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, p.URL)
	if resp.StatusCode != 200 || body != "shared" {
		t.Errorf("presigned get: %d %s", resp.StatusCode, body)
	}
	i := strings.Index(p.URL, "X-Amz-Signature=") + len("X-Amz-Signature=")
	flip := "0"
	if p.URL[i] == '0' {
		flip = "1"
	}
	resp, body = get(t, p.URL[:i]+flip+p.URL[i+1:])
	wantS3Error(t, "tampered presigned url", resp, body, 403, "SignatureDoesNotMatch")
}

// rawExchange writes head and body on a fresh connection, half-closes it
// and reads the response.
func rawExchange(t *testing.T, ts *testServer, req *http.Request, declared int, sent []byte) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), req.Host, declared)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(append(head.Bytes(), sent...)); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestIncompleteBody(t *testing.T) {
	ts := startTestServer(t)
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/inc"}); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	// Small bodies are read by fasthttp before the handler, large ones are
	// streamed to it: both end early.
	for _, c := range []struct{ declared, sent int }{{100, 10}, {200000, 50000}} {
		req := signed(t, ts, rawReq{method: "PUT", path: "/inc/k", unsigned: true})
		resp, body := rawExchange(t, ts, req, c.declared, bytes.Repeat([]byte("z"), c.sent))
		wantS3Error(t, fmt.Sprintf("%d of %d bytes", c.sent, c.declared), resp, body, 400, "IncompleteBody")
	}
	n := ts.objs.currentCount("inc")
	if n != 0 {
		t.Errorf("an incomplete body was stored")
	}
}

// User metadata goes back with the header names as stored (lower case),
// like S3: botocore and others take the metadata key from the raw name.
func TestMetadataHeaderCase(t *testing.T) {
	ts := startTestServer(t)
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/metacase"}); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/metacase/k", body: []byte("x"), header: map[string]string{"X-Amz-Meta-Color": "blue"}}); resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	req := signed(t, ts, rawReq{method: "HEAD", path: "/metacase/k"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var raw bytes.Buffer
	buf := make([]byte, 4096)
	for !bytes.Contains(raw.Bytes(), []byte("\r\n\r\n")) {
		n, err := conn.Read(buf)
		raw.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !bytes.Contains(raw.Bytes(), []byte("\r\nx-amz-meta-color: blue\r\n")) {
		t.Fatalf("response head:\n%s", raw.String())
	}
}
