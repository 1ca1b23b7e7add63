package s3api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

func TestSDKConditionalWrites(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "cond")
	put := func(key, body string, mod func(*s3.PutObjectInput)) (*s3.PutObjectOutput, error) {
		in := &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String(key), Body: strings.NewReader(body)}
		mod(in)
		return c.PutObject(ctx, in)
	}
	if _, err := put("k", "first", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
		t.Fatalf("if-none-match on a new key: %v", err)
	}
	_, err := put("k", "second", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	wantCode(t, "if-none-match on an existing key", err, "PreconditionFailed")
	_, err = put("k", "second", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"0123"`) })
	wantCode(t, "if-match with another etag", err, "PreconditionFailed")
	if _, err := put("k", "second", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"` + md5hex([]byte("first")) + `"`) }); err != nil {
		t.Errorf("if-match with the etag: %v", err)
	}
	_, err = put("missing", "x", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"0123"`) })
	wantCode(t, "if-match on a missing key", err, "NoSuchKey")
	_, err = put("k", "x", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String(`"0123"`) })
	wantCode(t, "if-none-match with an etag", err, "NotImplemented")
	if s, _ := getString(t, c, "cond", "k", ""); s != "second" {
		t.Errorf("content %q", s)
	}
	// A write that lost a race.
	ts.objs.mu.Lock()
	ts.objs.failNext = fmt.Errorf("commit: %w", dataplane.ErrConditionalConflict)
	ts.objs.mu.Unlock()
	_, err = put("k", "x", func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	wantCode(t, "conflict", err, "ConditionalRequestConflict")
	if httpStatus(err) != http.StatusConflict {
		t.Errorf("conflict status %d", httpStatus(err))
	}
}

func TestChecksumRequests(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "cks")
	body := []byte("checksummed body")
	sha := sha256.Sum256(body)
	shaB64 := base64.StdEncoding.EncodeToString(sha[:])
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cks"), Key: aws.String("s"), Body: bytes.NewReader(body), ChecksumSHA256: aws.String(shaB64)})
	if err != nil || aws.ToString(put.ChecksumSHA256) != shaB64 || put.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("put with sha256: %v %+v", err, put)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cks"), Key: aws.String("bad"), Body: bytes.NewReader(body), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32)))})
	wantCode(t, "wrong sha256", err, "BadDigest")
	got, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cks"), Key: aws.String("s"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(got.ChecksumSHA256) != shaB64 || got.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("head with checksum mode: %v %+v", err, got)
	}

	// Raw: what the SDK will not send.
	resp, rb := do(t, ts, rawReq{method: "PUT", path: "/cks/r", body: body, header: map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}})
	wantS3Error(t, "wrong crc32", resp, rb, 400, "BadDigest")
	if !strings.Contains(rb, "The CRC32 you specified did not match the calculated checksum.") {
		t.Errorf("message: %s", rb)
	}
	resp, rb = do(t, ts, rawReq{method: "PUT", path: "/cks/r", body: body, header: map[string]string{"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha256": shaB64}})
	wantS3Error(t, "two checksums", resp, rb, 400, "InvalidRequest")
	resp, rb = do(t, ts, rawReq{method: "PUT", path: "/cks/r", body: body, header: map[string]string{"x-amz-checksum-sha256": "short"}})
	wantS3Error(t, "malformed value", resp, rb, 400, "InvalidRequest")
	resp, rb = do(t, ts, rawReq{method: "PUT", path: "/cks/r", body: body, header: map[string]string{"x-amz-checksum-sha256": shaB64, "x-amz-sdk-checksum-algorithm": "CRC32"}})
	wantS3Error(t, "sdk algorithm mismatch", resp, rb, 400, "InvalidRequest")
	resp, rb = do(t, ts, rawReq{method: "PUT", path: "/cks/r", body: body, header: map[string]string{"x-amz-sdk-checksum-algorithm": "CRC32"}})
	wantS3Error(t, "sdk algorithm without a checksum", resp, rb, 400, "InvalidRequest")
	resp, rb = do(t, ts, rawReq{method: "PUT", path: "/cks/r", body: body, header: map[string]string{"x-amz-checksum-sha512": "AAAA"}})
	wantS3Error(t, "unsupported algorithm", resp, rb, 400, "InvalidRequest")
	// Without a checksum, the default CRC64NVME is stored and returned.
	resp, rb = do(t, ts, rawReq{method: "PUT", path: "/cks/plain", body: body})
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc64nvme") == "" || resp.Header.Get("x-amz-checksum-type") != "FULL_OBJECT" {
		t.Errorf("plain put: %d %s %v", resp.StatusCode, rb, resp.Header)
	}
	crc := resp.Header.Get("x-amz-checksum-crc64nvme")
	resp, _ = do(t, ts, rawReq{method: "GET", path: "/cks/plain", header: map[string]string{"x-amz-checksum-mode": "ENABLED"}})
	if resp.Header.Get("x-amz-checksum-crc64nvme") != crc {
		t.Errorf("get with checksum mode: %v", resp.Header)
	}
	resp, _ = do(t, ts, rawReq{method: "GET", path: "/cks/plain", header: map[string]string{"x-amz-checksum-mode": "ENABLED", "Range": "bytes=0-1"}})
	if resp.StatusCode != 206 || resp.Header.Get("x-amz-checksum-crc64nvme") != "" {
		t.Errorf("a range carries no whole-object checksum: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestPartNumberOfSimpleObject(t *testing.T) {
	ts := startTestServer(t)
	do(t, ts, rawReq{method: "PUT", path: "/pnum"})
	do(t, ts, rawReq{method: "PUT", path: "/pnum/k", body: []byte("0123456789")})
	resp, body := do(t, ts, rawReq{method: "GET", path: "/pnum/k?partNumber=1"})
	if resp.StatusCode != 206 || body != "0123456789" || resp.Header.Get("Content-Range") != "bytes 0-9/10" || resp.Header.Get("x-amz-mp-parts-count") != "" {
		t.Errorf("part 1: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/pnum/k?partNumber=2"})
	wantS3Error(t, "part 2", resp, body, 416, "InvalidPartNumber")
	resp, body = do(t, ts, rawReq{method: "GET", path: "/pnum/k?partNumber=1", header: map[string]string{"Range": "bytes=0-1"}})
	wantS3Error(t, "part and range", resp, body, 400, "InvalidRequest")
	resp, body = do(t, ts, rawReq{method: "HEAD", path: "/pnum/k?partNumber=0"})
	if resp.StatusCode != 400 || body != "" {
		t.Errorf("head part 0: %d %q", resp.StatusCode, body)
	}
}

func TestMetadataAndOverrides(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "meta")
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/meta/k", body: []byte("x"), header: map[string]string{
		"X-Amz-Meta-Mixed-Case": "Value", "Content-Language": "fr", "Content-Encoding": "identity",
		"Content-Disposition": "inline", "Cache-Control": "no-cache", "Expires": expires.Format(http.TimeFormat),
	}})
	if resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("meta"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if got.Metadata["mixed-case"] != "Value" || aws.ToString(got.ContentLanguage) != "fr" || aws.ToString(got.ContentEncoding) != "identity" ||
		aws.ToString(got.ContentDisposition) != "inline" || aws.ToString(got.CacheControl) != "no-cache" || aws.ToString(got.ExpiresString) != expires.Format(http.TimeFormat) {
		t.Errorf("stored headers: %+v", got)
	}
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("meta"), Key: aws.String("k"),
		ResponseCacheControl: aws.String("max-age=1"), ResponseContentLanguage: aws.String("de"), ResponseContentEncoding: aws.String("gzip"),
		ResponseExpires: aws.Time(expires.Add(time.Hour)), ResponseContentType: aws.String("text/x"), ResponseContentDisposition: aws.String("attachment")})
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if aws.ToString(got.CacheControl) != "max-age=1" || aws.ToString(got.ContentLanguage) != "de" || aws.ToString(got.ContentEncoding) != "gzip" ||
		aws.ToString(got.ExpiresString) != expires.Add(time.Hour).Format(http.TimeFormat) || aws.ToString(got.ContentType) != "text/x" ||
		aws.ToString(got.ContentDisposition) != "attachment" {
		t.Errorf("overrides: %+v", got)
	}
	// 2 KB of user metadata, names and values, is the limit.
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/meta/big", body: []byte("x"), header: map[string]string{"x-amz-meta-a": strings.Repeat("v", 2047)}})
	if resp.StatusCode != 200 {
		t.Errorf("2 KB of metadata: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/meta/big", body: []byte("x"), header: map[string]string{"x-amz-meta-ab": strings.Repeat("v", 2047)}})
	wantS3Error(t, "over 2 KB", resp, body, 400, "MetadataTooLarge")

	// GetObjectAttributes of an object uploaded whole: no parts.
	attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("meta"), Key: aws.String("k"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectParts, types.ObjectAttributesChecksum}})
	if err != nil || aws.ToString(attrs.ETag) != md5hex([]byte("x")) || attrs.ObjectParts != nil || attrs.Checksum == nil ||
		aws.ToString(attrs.Checksum.ChecksumCRC64NVME) == "" || attrs.ObjectSize != nil {
		t.Errorf("attributes: %v %+v", err, attrs)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/meta/k?attributes", header: map[string]string{"x-amz-object-attributes": "Colour"}})
	wantS3Error(t, "unknown attribute", resp, body, 400, "InvalidArgument")
	resp, body = do(t, ts, rawReq{method: "GET", path: "/meta/k?attributes"})
	wantS3Error(t, "no attribute", resp, body, 400, "InvalidArgument")
}

// TestExpectContinue sends a PUT with Expect: 100-continue the way curl
// does: the body only after the interim response.
func TestExpectContinue(t *testing.T) {
	ts := startTestServer(t)
	do(t, ts, rawReq{method: "PUT", path: "/cont"})
	payload := randomBytes(200<<10, 5)
	req := signed(t, ts, rawReq{method: "PUT", path: "/cont/k", unsigned: true})
	conn, err := net.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head bytes.Buffer
	fmt.Fprintf(&head, "PUT /cont/k HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n", req.Host, len(payload))
	for k, vs := range req.Header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, vs[0])
	}
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 Continue") {
		t.Fatalf("interim response: %q %v", line, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q", blank)
	}
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"`+md5hex(payload)+`"` {
		t.Errorf("put after 100-continue: %d %v", resp.StatusCode, resp.Header)
	}
}

// vhostClient is an SDK client in virtual-host style: every bucket.s3.test
// name is dialled at the test server.
func vhostClient(t *testing.T, ts *testServer) *s3.Client {
	_, port, _ := net.SplitHostPort(ts.Addr())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, ts.Addr())
	}
	t.Cleanup(tr.CloseIdleConnections)
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint:     aws.String("http://s3.test:" + port),
		HTTPClient:       &http.Client{Transport: tr},
		RetryMaxAttempts: 1,
	})
}

// TestVirtualHostOperations runs the operations of this package through
// bucket.domain/key requests.
func TestVirtualHostOperations(t *testing.T) {
	ts := startTestServer(t)
	c := vhostClient(t, ts)
	ctx := t.Context()
	seen := map[string]bool{}
	ts.objs.mu.Lock()
	ts.objs.failNext = nil
	ts.objs.mu.Unlock()

	mustBucket(t, c, "vhost")
	setVersioning(t, c, "vhost", types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(putString(t, c, "vhost", "dir/a b", "one").VersionId)
	putString(t, c, "vhost", "dir/a b", "two")
	if s, _ := getString(t, c, "vhost", "dir/a b", v1); s != "one" {
		t.Errorf("get version: %q", s)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("vhost"), Key: aws.String("copy"), CopySource: aws.String("vhost/dir/a%20b")}); err != nil {
		t.Errorf("copy: %v", err)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("vhost"), Key: aws.String("copy"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
		t.Errorf("tagging: %v", err)
	}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("vhost"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("vhost"), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("vhost")})
	if err != nil || len(lu.Uploads) != 1 {
		t.Errorf("list uploads: %v %+v", err, lu)
	}
	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("vhost"), Key: aws.String("mp"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1), ChecksumCRC32: up.ChecksumCRC32}}}})
	if err != nil || !strings.HasPrefix(aws.ToString(comp.Location), "http://vhost.s3.test:") || !strings.HasSuffix(aws.ToString(comp.Location), "/mp") {
		t.Errorf("complete: %v %+v", err, comp)
	}
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("vhost")})
	if err != nil || len(lv.Versions) != 4 {
		t.Errorf("versions: %v %d", err, len(lv.Versions))
	}
	for _, v := range lv.Versions {
		seen[aws.ToString(v.Key)] = true
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("vhost"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("copy")}, {Key: aws.String("mp")}}}})
	if err != nil || len(out.Deleted) != 2 {
		t.Errorf("delete objects: %v %+v", err, out)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("vhost")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("location: %v", err)
	}
	hb, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("vhost")})
	if err != nil || aws.ToString(hb.BucketRegion) != "us-east-1" {
		t.Errorf("head bucket: %v %+v", err, hb)
	}
	if want := []string{"copy", "dir/a b", "mp"}; !slices.Equal(slices.Sorted(func(yield func(string) bool) {
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	}), want) {
		t.Errorf("keys seen %v", seen)
	}
}

func TestSDKListBucketsPaging(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	var names []string
	for i := range 7 {
		n := fmt.Sprintf("pb-%d", i)
		mustBucket(t, c, n)
		names = append(names, n)
	}
	mustBucket(t, c, "other")
	ts.ctl.mu.Lock()
	ts.ctl.st.Buckets["pb-far"] = &meta.Bucket{Name: "pb-far", Owner: testAccessKey, Region: "eu-west-1"}
	ts.ctl.mu.Unlock()

	var got []string
	pages := 0
	p := s3.NewListBucketsPaginator(c, &s3.ListBucketsInput{MaxBuckets: aws.Int32(3), Prefix: aws.String("pb-"), BucketRegion: aws.String("us-east-1")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if aws.ToString(out.Prefix) != "pb-" {
			t.Errorf("prefix %q", aws.ToString(out.Prefix))
		}
		for _, b := range out.Buckets {
			got = append(got, aws.ToString(b.Name))
		}
	}
	if !slices.Equal(got, names) || pages != 3 {
		t.Errorf("%d pages: %q", pages, got)
	}
	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{BucketRegion: aws.String("eu-west-1")})
	if err != nil || len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].BucketRegion) != "eu-west-1" {
		t.Errorf("region filter: %v %+v", err, out)
	}
	_, err = c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(0)})
	wantCode(t, "max-buckets 0", err, "InvalidArgument")
	_, err = c.ListBuckets(ctx, &s3.ListBucketsInput{ContinuationToken: aws.String("!!")})
	wantCode(t, "bad token", err, "InvalidArgument")
}

// TestListObjectsV1Encoding checks encoding-type=url on V1 and that
// NextMarker comes only with a delimiter, as in S3.
func TestListObjectsV1Encoding(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "v1enc")
	for _, k := range []string{"a b/1", "a b/2", "c+d", "e"} {
		putString(t, c, "v1enc", k, k)
	}
	out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("v1enc"), EncodingType: types.EncodingTypeUrl, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "a+b/" || aws.ToString(out.Contents[0].Key) != "c%2Bd" ||
		aws.ToString(out.NextMarker) != "c%2Bd" || !aws.ToBool(out.IsTruncated) {
		t.Errorf("v1 encoded: %v %+v", err, out)
	}
	resp, body := do(t, ts, rawReq{method: "GET", path: "/v1enc?max-keys=1"})
	if resp.StatusCode != 200 || strings.Contains(body, "NextMarker") || !strings.Contains(body, "<IsTruncated>true</IsTruncated>") {
		t.Errorf("v1 without delimiter: %s", body)
	}
}

// TestUnknownLengthPut sends a plain chunked body of unknown length, too
// large for a small MaxObjectSize.
func TestUnknownLengthPut(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.MaxObjectSize = 1000 })
	do(t, ts, rawReq{method: "PUT", path: "/unk"})
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/unk/k", body: bytes.Repeat([]byte("z"), 1001), chunked: true, unsigned: true})
	wantS3Error(t, "chunked over the limit", resp, body, 400, "EntityTooLarge")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/unk/k", body: bytes.Repeat([]byte("z"), 1000), chunked: true, unsigned: true})
	if resp.StatusCode != 200 {
		t.Errorf("chunked at the limit: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/unk/k"})
	if resp.StatusCode != 200 || len(body) != 1000 {
		t.Errorf("get: %d %d", resp.StatusCode, len(body))
	}
	_, _ = io.Copy(io.Discard, strings.NewReader(body))
}

// TestAWSChunkedWithoutContentLength sends an aws-chunked body with a
// trailing checksum over Transfer-Encoding: chunked, without
// Content-Length: the size comes from x-amz-decoded-content-length.
func TestAWSChunkedWithoutContentLength(t *testing.T) {
	ts := startTestServer(t)
	do(t, ts, rawReq{method: "PUT", path: "/awsch"})
	payload := randomBytes(70000, 21)
	send := func(key string, crc []byte) *http.Response {
		var b bytes.Buffer
		for off := 0; off < len(payload); off += 32 << 10 {
			chunk := payload[off:min(off+32<<10, len(payload))]
			fmt.Fprintf(&b, "%x\r\n", len(chunk))
			b.Write(chunk)
			b.WriteString("\r\n")
		}
		fmt.Fprintf(&b, "0\r\nx-amz-checksum-crc32:%s\r\n\r\n", base64.StdEncoding.EncodeToString(crc))
		req, err := http.NewRequest("PUT", ts.url+"/awsch/"+key, io.NopCloser(&b))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("x-amz-decoded-content-length", fmt.Sprint(len(payload)))
		req.Header.Set("x-amz-trailer", "x-amz-checksum-crc32")
		req.Header.Set("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}
		if err := v4signer().SignHTTP(t.Context(), creds, req, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	sum := crc32Sum(payload)
	if resp := send("good", sum); resp.StatusCode != 200 || resp.Header.Get("x-amz-checksum-crc32") != base64.StdEncoding.EncodeToString(sum) {
		t.Fatalf("put: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := do(t, ts, rawReq{method: "GET", path: "/awsch/good"})
	if resp.StatusCode != 200 || body != string(payload) || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("get: %d %d bytes %v", resp.StatusCode, len(body), resp.Header)
	}
	if resp := send("bad", []byte{1, 2, 3, 4}); resp.StatusCode != 400 {
		t.Errorf("wrong trailer: %d", resp.StatusCode)
	}
	if n := ts.objs.currentCount("awsch"); n != 1 {
		t.Errorf("%d objects stored", n)
	}
}

func crc32Sum(b []byte) []byte {
	s := crc32.ChecksumIEEE(b)
	return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}
