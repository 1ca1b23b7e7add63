package testcluster_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"

	"github.com/strata-io/strata/internal/testcluster"
)

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

func mustCreateBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func put(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("PutObject %s/%s (%d bytes): %v", bucket, key, len(data), err)
	}
}

func get(t *testing.T, c *s3.Client, bucket, key string, rng string) []byte {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s/%s %s: %v", bucket, key, rng, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s/%s body: %v", bucket, key, err)
	}
	return b
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestRoundTripsAndRanges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	start := time.Now()
	cl := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2"})
	c := cl.S3Client(0)
	mustCreateBucket(t, c, "round-trips")
	put(t, c, "round-trips", "first", []byte("first"))
	t.Logf("4-node cluster started and acknowledged its first PUT in %v", time.Since(start))

	sizes := []int{0, 1, 100 << 10, 1<<20 + 1, 64 << 20}
	objs := map[string][]byte{}
	for i, n := range sizes {
		key := fmt.Sprintf("obj-%d", n)
		objs[key] = payload(n, int64(i))
		put(t, cl.S3Client(i%4), "round-trips", key, objs[key])
	}
	for key, want := range objs {
		for i := 0; i < 4; i++ {
			if got := get(t, cl.S3Client(i), "round-trips", key, ""); sum(got) != sum(want) {
				t.Fatalf("node %d: %s: content differs (%d vs %d bytes)", i, key, len(got), len(want))
			}
		}
	}

	big := objs[fmt.Sprintf("obj-%d", 64<<20)]
	for _, r := range []struct {
		hdr      string
		from, to int // inclusive
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=0-99", 0, 99},
		{"bytes=1048575-1048577", 1048575, 1048577},
		{"bytes=5000000-9999999", 5000000, 9999999},
		{fmt.Sprintf("bytes=%d-", len(big)-10), len(big) - 10, len(big) - 1},
		{"bytes=-1000", len(big) - 1000, len(big) - 1},
		{fmt.Sprintf("bytes=%d-%d", len(big)-5, len(big)+100), len(big) - 5, len(big) - 1},
	} {
		got := get(t, cl.S3Client(1), "round-trips", "obj-67108864", r.hdr)
		if !bytes.Equal(got, big[r.from:r.to+1]) {
			t.Errorf("range %s: got %d bytes, want %d", r.hdr, len(got), r.to-r.from+1)
		}
	}
	small := objs[fmt.Sprintf("obj-%d", 100<<10)]
	if got := get(t, c, "round-trips", "obj-102400", "bytes=100-50000"); !bytes.Equal(got, small[100:50001]) {
		t.Error("range inside an inline object differs")
	}
	_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("round-trips"), Key: aws.String("obj-1"), Range: aws.String("bytes=5-9")})
	if apiCode(err) != "InvalidRange" {
		t.Errorf("unsatisfiable range: got %v, want InvalidRange", err)
	}

	// minio-go writes and reads too, across nodes.
	mc := cl.MinioClient(2)
	data := payload(3<<20+7, 99)
	if _, err := mc.PutObject(context.Background(), "round-trips", "minio/obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "application/x-test"}); err != nil {
		t.Fatal(err)
	}
	obj, err := cl.MinioClient(3).GetObject(context.Background(), "round-trips", "minio/obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || sum(got) != sum(data) {
		t.Fatalf("minio round trip: %v, %d bytes", err, len(got))
	}
	st, err := obj.Stat()
	if err != nil || st.ContentType != "application/x-test" {
		t.Fatalf("minio stat: %+v %v", st, err)
	}

	// Overwrite and delete.
	put(t, c, "round-trips", "obj-1", []byte("new"))
	if got := get(t, cl.S3Client(3), "round-trips", "obj-1", ""); string(got) != "new" {
		t.Fatalf("overwrite: got %q", got)
	}
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("round-trips"), Key: aws.String("obj-1")}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.S3Client(2).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("round-trips"), Key: aws.String("obj-1")})
	if apiCode(err) != "NoSuchKey" {
		t.Fatalf("get after delete: %v", err)
	}
	_, err = c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("round-trips"), Key: aws.String("obj-1")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("head after delete: %v", err)
	}
}

func TestListing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2"})
	c := cl.S3Client(0)
	mustCreateBucket(t, c, "list")
	var keys []string
	for d := 0; d < 12; d++ {
		for f := 0; f < 90; f++ {
			keys = append(keys, fmt.Sprintf("dir%02d/file%03d", d, f))
		}
	}
	keys = append(keys, "top-a", "top-b", "dir05", "dir05x/y")
	sem := make(chan struct{}, 16)
	errs := make(chan error, len(keys))
	for _, k := range keys {
		sem <- struct{}{}
		go func(k string) {
			defer func() { <-sem }()
			_, err := cl.S3Client(len(k)%4).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("list"), Key: aws.String(k), Body: strings.NewReader(k)})
			errs <- err
		}(k)
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(keys)

	// Without a delimiter, pages of 100 from every node.
	for node := 0; node < 4; node++ {
		var got []string
		p := s3.NewListObjectsV2Paginator(cl.S3Client(node), &s3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(100)})
		pages := 0
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, o := range page.Contents {
				got = append(got, *o.Key)
			}
		}
		if strings.Join(got, ",") != strings.Join(keys, ",") {
			t.Fatalf("node %d: listed %d keys, want %d", node, len(got), len(keys))
		}
		if pages < 10 {
			t.Fatalf("node %d: %d pages for %d keys at 100 per page", node, pages, len(keys))
		}
	}

	// With a delimiter: 12 + 1 common prefixes (dir05x/) and 3 top-level keys.
	var prefixes, top []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, cp := range page.CommonPrefixes {
			prefixes = append(prefixes, *cp.Prefix)
		}
		for _, o := range page.Contents {
			top = append(top, *o.Key)
		}
	}
	if len(prefixes) != 13 || strings.Join(top, ",") != "dir05,top-a,top-b" {
		t.Fatalf("delimiter listing: prefixes %v, keys %v", prefixes, top)
	}

	// Prefix + delimiter + start-after.
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("list"), Prefix: aws.String("dir03/"), StartAfter: aws.String("dir03/file079")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 10 || *out.Contents[0].Key != "dir03/file080" {
		t.Fatalf("prefix+start-after: %d keys", len(out.Contents))
	}
}

func TestNodeDownAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2"})
	c := cl.S3Client(0)
	mustCreateBucket(t, c, "down")
	objs := map[string][]byte{}
	for i, n := range []int{10, 100 << 10, 3<<20 + 5} {
		for j := 0; j < 8; j++ {
			key := fmt.Sprintf("k%d-%d", i, j)
			objs[key] = payload(n, int64(i*100+j))
			put(t, c, "down", key, objs[key])
		}
	}
	cl.Stop(3)
	for key, want := range objs {
		if got := get(t, cl.S3Client(1), "down", key, ""); sum(got) != sum(want) {
			t.Fatalf("with n4 down: %s differs", key)
		}
	}
	// Writes still succeed with one node of four down (quorum 3 of 4).
	put(t, cl.S3Client(2), "down", "while-down", payload(2<<20, 7))

	cl.Restart(3)
	cl.WaitReady(30 * time.Second)
	fresh := payload(5<<20, 8)
	put(t, cl.S3Client(3), "down", "after-restart", fresh)
	// With n1 and n2 down, the object is readable only if n4 (restarted) holds
	// its shard: proof that new writes land on it again.
	cl.Stop(0)
	cl.Stop(1)
	if got := get(t, cl.S3Client(3), "down", "after-restart", ""); sum(got) != sum(fresh) {
		t.Fatal("after restart: content differs")
	}
}

func TestFourthNodeJoins(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 3, EC: "2+1"})
	c := cl.S3Client(0)
	mustCreateBucket(t, c, "join")
	data := payload(2<<20, 1)
	put(t, c, "join", "before", data)
	i := cl.AddNode()
	if i != 3 {
		t.Fatalf("new node index %d", i)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var found, voter bool
		for _, s := range cl.Instance(0).Node().Raft().Servers() {
			if s.ID == "n4" {
				found, voter = true, s.Voter
			}
		}
		if found && !voter {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n4 not a non-voter: found=%v voter=%v", found, voter)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The new node serves S3 for the existing cluster.
	if got := get(t, cl.S3Client(3), "join", "before", ""); sum(got) != sum(data) {
		t.Fatal("read through the new node differs")
	}
	put(t, cl.S3Client(3), "join", "after", []byte("hello"))
	if got := get(t, c, "join", "after", ""); string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
}

func TestBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 3, EC: "2+1"})
	c := cl.S3Client(1)
	ctx := context.Background()
	for _, name := range []string{"ab", "UPPER", "under_score", "-dash", "dots..x", "192.168.1.1", "xn--punycode", strings.Repeat("a", 64)} {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		if apiCode(err) != "InvalidBucketName" {
			t.Errorf("bucket %q: got %v, want InvalidBucketName", name, err)
		}
	}
	mustCreateBucket(t, c, "bad-input")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bad-input")})
	if code := apiCode(err); code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
		t.Errorf("duplicate bucket: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("unknown bucket: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bad-input"), Key: aws.String("nope")})
	if apiCode(err) != "NoSuchKey" {
		t.Errorf("unknown key: %v", err)
	}
	put(t, c, "bad-input", "k", []byte("v"))
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bad-input")})
	if apiCode(err) != "BucketNotEmpty" {
		t.Errorf("delete non-empty bucket: %v", err)
	}

	// A wrong secret: SignatureDoesNotMatch, and nothing is written.
	bad := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: testcluster.RootAccessKey, SecretAccessKey: "wrong-secret"}, nil
	})}, func(o *s3.Options) { o.BaseEndpoint = aws.String(cl.Endpoint(0)); o.UsePathStyle = true })
	_, err = bad.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bad-input"), Key: aws.String("forged"), Body: strings.NewReader("x")})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	unknown := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "NOSUCHKEY", SecretAccessKey: "whatever"}, nil
	})}, func(o *s3.Options) { o.BaseEndpoint = aws.String(cl.Endpoint(0)); o.UsePathStyle = true })
	_, err = unknown.ListBuckets(ctx, &s3.ListBucketsInput{})
	if apiCode(err) != "InvalidAccessKeyId" {
		t.Errorf("unknown access key: %v", err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bad-input"), Key: aws.String("forged")})
	if err == nil {
		t.Error("forged object exists")
	}

	// Anonymous request: AccessDenied with a request id.
	hresp, err := http.Get(cl.Endpoint(0) + "/bad-input/k")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if hresp.StatusCode != 403 || !bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) || hresp.Header.Get("x-amz-request-id") == "" {
		t.Errorf("anonymous GET: %d %s", hresp.StatusCode, body)
	}

	// Malformed XML on CreateBucket: MalformedXML, no bucket.
	resp := signedDo(t, "PUT", cl.Endpoint(0)+"/xml-bucket", []byte("<CreateBucketConfiguration><LocationConstraint>"), time.Now())
	if resp.status != 400 || !strings.Contains(resp.body, "MalformedXML") {
		t.Errorf("malformed XML: %d %s", resp.status, resp.body)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("xml-bucket")}); err == nil {
		t.Error("bucket created despite malformed XML")
	}
	// A request signed an hour ago: RequestTimeTooSkewed.
	resp = signedDo(t, "PUT", cl.Endpoint(0)+"/bad-input/skewed", []byte("x"), time.Now().Add(-time.Hour))
	if resp.status != 403 || !strings.Contains(resp.body, "RequestTimeTooSkewed") {
		t.Errorf("skewed date: %d %s", resp.status, resp.body)
	}
	// A body shorter than its Content-Length: an error, nothing stored.
	addr := cl.Instance(0).Config.S3Addr
	if r := rawPut(t, addr, "/bad-input/short", 1000, bytes.Repeat([]byte("a"), 400), "UNSIGNED-PAYLOAD"); r.status != 0 && r.status < 400 {
		t.Errorf("short body: status %d", r.status)
	}
	// A body longer than its Content-Length: the request ends at the
	// declared length, so the signed SHA-256 of the whole body does not
	// match what was received; nothing is stored.
	long := bytes.Repeat([]byte("b"), 20)
	h := sha256.Sum256(long)
	if r := rawPut(t, addr, "/bad-input/long", 10, long, hex.EncodeToString(h[:])); r.status != 400 || !strings.Contains(r.body, "XAmzContentSHA256Mismatch") {
		t.Errorf("long body: %d %s", r.status, r.body)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bad-input"), Key: aws.String("long")}); err == nil {
		t.Error("object stored from a body longer than its Content-Length")
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bad-input"), Key: aws.String("short")}); err == nil {
		t.Error("object stored from a short body")
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bad-input"), Key: aws.String("skewed")}); err == nil {
		t.Error("object stored from a skewed request")
	}
}

type rawResponse struct {
	status int
	body   string
}

// signedDo sends a SigV4-signed request (payload hash signed) dated at.
func signedDo(t *testing.T, method, url string, body []byte, at time.Time) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(body)
	hash := hex.EncodeToString(h[:])
	req.Header.Set("x-amz-content-sha256", hash)
	creds := aws.Credentials{AccessKeyID: testcluster.RootAccessKey, SecretAccessKey: testcluster.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, string(b)}
}

// rawPut sends a signed PUT declaring Content-Length: length, then the
// bytes of body (fewer or more than length), then half-closes. payloadHash
// is the signed x-amz-content-sha256. It returns the first response's
// status and body, status 0 when the server closed without answering.
func rawPut(t *testing.T, addr, path string, length int, body []byte, payloadHash string) rawResponse {
	t.Helper()
	req, _ := http.NewRequest("PUT", "http://"+addr+path, nil)
	req.ContentLength = int64(length)
	req.Header.Set("x-amz-content-sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: testcluster.RootAccessKey, SecretAccessKey: testcluster.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, addr, length)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	head.Write(body)
	conn.Write(head.Bytes())
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return rawResponse{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, string(b)}
}
