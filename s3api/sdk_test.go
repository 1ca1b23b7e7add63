package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-io/strata/meta"
)

// End-to-end tests of the handler stack with real S3 clients against a
// Server backed by the in-memory fakes.

func sdkClient(t *testing.T, ts *testServer, ak, sk string) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint:     aws.String(ts.url),
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
	})
}

// apiCode returns the S3 error code of err, or "" if it has none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of an SDK error, or 0.
func httpStatus(err error) int {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		return hs.HTTPStatusCode()
	}
	return 0
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %s", what, code)
		return
	}
	if got := apiCode(err); got != code {
		t.Errorf("%s: got %q (%v), want %s", what, got, err, code)
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestSDKBucketsAndObjects(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()

	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")})
	wantCode(t, "create again", err, "BucketAlreadyOwnedByYou")
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantCode(t, "create bad name", err, "InvalidBucketName")
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                    aws.String("elsewhere"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1},
	})
	wantCode(t, "create in another region", err, "IllegalLocationConstraintException")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket:                    aws.String("here"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-east-1"},
	}); err != nil {
		t.Errorf("create with our own region: %v", err)
	}

	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Errorf("head bucket: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")}); httpStatus(err) != 404 {
		t.Errorf("head missing bucket: %v", err)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if !slices.Equal(names, []string{"bkt", "here"}) {
		t.Errorf("list buckets: %v", names)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("bkt")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("location: %v %q", err, loc.LocationConstraint)
	}

	// Put, get, head.
	body := []byte("hello world")
	put, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bkt"), Key: aws.String("a.txt"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"color": "blue"},
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if aws.ToString(put.ETag) != `"`+md5hex(body)+`"` {
		t.Errorf("put etag %s", aws.ToString(put.ETag))
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(data) != string(body) || aws.ToString(got.ContentType) != "text/plain" ||
		aws.ToString(got.CacheControl) != "max-age=60" || got.Metadata["color"] != "blue" ||
		aws.ToString(got.ETag) != `"`+md5hex(body)+`"` || aws.ToInt64(got.ContentLength) != 11 ||
		aws.ToString(got.AcceptRanges) != "bytes" || got.LastModified == nil {
		t.Errorf("get: %q %+v", data, got)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt")})
	if err != nil || aws.ToInt64(head.ContentLength) != 11 || head.Metadata["color"] != "blue" {
		t.Errorf("head: %v %+v", err, head)
	}
	// An empty object.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("empty"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatalf("put empty: %v", err)
	}
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("empty")})
	if err != nil || aws.ToInt64(head.ContentLength) != 0 || aws.ToString(head.ETag) != `"`+md5hex(nil)+`"` {
		t.Errorf("head empty: %v %+v", err, head)
	}

	// Response overrides.
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt"),
		ResponseContentType: aws.String("application/json"), ResponseContentDisposition: aws.String("attachment")})
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if aws.ToString(got.ContentType) != "application/json" || aws.ToString(got.ContentDisposition) != "attachment" {
		t.Errorf("overrides: %+v", got)
	}

	// Ranges.
	for _, rc := range []struct{ rng, want, contentRange string }{
		{"bytes=0-4", "hello", "bytes 0-4/11"},
		{"bytes=6-", "world", "bytes 6-10/11"},
		{"bytes=-3", "rld", "bytes 8-10/11"},
		{"bytes=4-100", "o world", "bytes 4-10/11"},
	} {
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt"), Range: aws.String(rc.rng)})
		if err != nil {
			t.Errorf("%s: %v", rc.rng, err)
			continue
		}
		data, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if string(data) != rc.want || aws.ToString(got.ContentRange) != rc.contentRange {
			t.Errorf("%s: %q %q", rc.rng, data, aws.ToString(got.ContentRange))
		}
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt"), Range: aws.String("bytes=11-")})
	wantCode(t, "range past end", err, "InvalidRange")

	// Conditional requests.
	etag := `"` + md5hex(body) + `"`
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt"), IfNoneMatch: aws.String(etag)})
	if httpStatus(err) != http.StatusNotModified {
		t.Errorf("if-none-match: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt"), IfMatch: aws.String(`"nope"`)})
	wantCode(t, "if-match", err, "PreconditionFailed")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt"), IfModifiedSince: aws.Time(time.Now().Add(time.Hour))})
	if httpStatus(err) != http.StatusNotModified {
		t.Errorf("head if-modified-since: %v", err)
	}

	// Missing things, in AWS's order: bucket first.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("a.txt")})
	wantCode(t, "get from missing bucket", err, "NoSuchBucket")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	wantCode(t, "get missing key", err, "NoSuchKey")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nope"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "put to missing bucket", err, "NoSuchBucket")
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")}); httpStatus(err) != 404 {
		t.Errorf("head missing key: %v", err)
	}

	// Delete: the bucket must be empty first.
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt")})
	wantCode(t, "delete non-empty bucket", err, "BucketNotEmpty")
	for _, k := range []string{"a.txt", "empty", "a.txt"} { // deleting twice is fine
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k)}); err != nil {
			t.Errorf("delete %s: %v", k, err)
		}
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a.txt")})
	wantCode(t, "get deleted", err, "NoSuchKey")
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Errorf("delete bucket: %v", err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt")})
	wantCode(t, "delete deleted bucket", err, "NoSuchBucket")

	// Unsupported operations answer 501.
	_, err = c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("here")})
	wantCode(t, "website", err, "NotImplemented")
}

func TestSDKKeysKeptExactly(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("keys")}); err != nil {
		t.Fatal(err)
	}
	keys := []string{
		"with space", "plus+sign", "slash/in/key", "double//slash", "/leading", "trailing/",
		"été € 日本", "percent%2Fliteral", "q?mark&amp=1", "dot/./dot/../x", "tilde~star*", "semi;colon",
	}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keys"), Key: aws.String(k), Body: strings.NewReader("v:" + k)}); err != nil {
			t.Errorf("put %q: %v", k, err)
			continue
		}
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("keys"), Key: aws.String(k)})
		if err != nil {
			t.Errorf("get %q: %v", k, err)
			continue
		}
		data, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if string(data) != "v:"+k {
			t.Errorf("get %q: %q", k, data)
		}
	}
	for _, enc := range []types.EncodingType{"", types.EncodingTypeUrl} {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("keys"), EncodingType: enc})
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			if enc == types.EncodingTypeUrl { // the SDK leaves decoding to the caller
				if k, err = url.QueryUnescape(k); err != nil {
					t.Fatal(err)
				}
			}
			listed = append(listed, k)
		}
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(listed, want) {
			t.Errorf("list (encoding %q):\n got %q\nwant %q", enc, listed, want)
		}
	}
	stored := ts.objs.currentCount("keys")
	if stored != len(keys) {
		t.Errorf("%d keys stored, want %d", stored, len(keys))
	}
}

func TestSDKListPagination(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("list")}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"a", "b/1", "b/2", "b/c/3", "c", "d/4", "e", "f/5", "f/6", "g"}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("list"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}

	// V2 with a delimiter, two items a page.
	var items []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if n := len(out.Contents) + len(out.CommonPrefixes); int32(n) != aws.ToInt32(out.KeyCount) || n > 2 {
			t.Errorf("page %d: %d items, KeyCount %d", pages, n, aws.ToInt32(out.KeyCount))
		}
		for _, o := range out.Contents {
			items = append(items, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			items = append(items, aws.ToString(cp.Prefix))
		}
	}
	slices.Sort(items)
	if want := []string{"a", "b/", "c", "d/", "e", "f/", "g"}; !slices.Equal(items, want) || pages != 4 {
		t.Errorf("v2 delimiter listing in %d pages: %q, want %q", pages, items, want)
	}

	// V2 with a prefix, start-after, fetch-owner.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), Prefix: aws.String("b/"), StartAfter: aws.String("b/1"), FetchOwner: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "b/2" || out.Contents[0].Owner == nil ||
		aws.ToString(out.Contents[0].Owner.DisplayName) != "root" || aws.ToString(out.StartAfter) != "b/1" ||
		aws.ToInt64(out.Contents[0].Size) != 3 || out.Contents[0].StorageClass != types.ObjectStorageClassStandard {
		t.Errorf("prefix listing: %+v", out)
	}
	// max-keys=0 and a bad max-keys.
	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) {
		t.Errorf("max-keys 0: %v %+v", err, out)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(-1)})
	wantCode(t, "max-keys -1", err, "InvalidArgument")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("list"), ContinuationToken: aws.String("!!!")})
	wantCode(t, "bad token", err, "InvalidArgument")

	// V1 without a delimiter: resume from the last key.
	var v1 []string
	marker := ""
	for range 20 {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("list"), Marker: aws.String(marker), MaxKeys: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			v1 = append(v1, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		if out.NextMarker != nil {
			t.Errorf("NextMarker without a delimiter: %q", aws.ToString(out.NextMarker))
		}
		marker = v1[len(v1)-1]
	}
	if !slices.Equal(v1, keys) {
		t.Errorf("v1: %q", v1)
	}
	// V1 with a delimiter gives NextMarker.
	out1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	if err != nil || !aws.ToBool(out1.IsTruncated) || aws.ToString(out1.NextMarker) != "b/" {
		t.Errorf("v1 delimiter: %v %+v", err, out1)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("nope")})
	wantCode(t, "list missing bucket", err, "NoSuchBucket")
}

func TestSDKAuthFailures(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	_, err := sdkClient(t, ts, testAccessKey, "wrong-secret").ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, "wrong secret", err, "SignatureDoesNotMatch")
	_, err = sdkClient(t, ts, "AKIAUNKNOWN", testSecretKey).ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, "unknown key", err, "InvalidAccessKeyId")
	before := ts.ctl.barriers
	if before == 0 {
		t.Error("an unknown access key was refused without a read barrier")
	}

	// A disabled user is refused like an unknown key.
	ts.ctl.mu.Lock()
	ts.ctl.st.Users["AKIADISABLED"] = &meta.User{AccessKey: "AKIADISABLED", SecretSealed: []byte(sealPrefix + "s3cr3t-s3cr3t"), Name: "off", Disabled: true}
	ts.ctl.mu.Unlock()
	_, err = sdkClient(t, ts, "AKIADISABLED", "s3cr3t-s3cr3t").ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, "disabled key", err, "InvalidAccessKeyId")

	// A key a lagging node has not applied yet is found after the barrier.
	ts.ctl.mu.Lock()
	ts.ctl.pending.Users["AKIANEW"] = &meta.User{AccessKey: "AKIANEW", SecretSealed: []byte(sealPrefix + "new-secret-123"), Name: "new"}
	ts.ctl.pending.Buckets["late"] = &meta.Bucket{Name: "late", Owner: "AKIANEW"}
	ts.ctl.mu.Unlock()
	if _, err := sdkClient(t, ts, "AKIANEW", "new-secret-123").ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("new key after barrier: %v", err)
	}
	ts.ctl.mu.Lock()
	ts.ctl.pending.Buckets["later"] = &meta.Bucket{Name: "later", Owner: testAccessKey}
	ts.ctl.mu.Unlock()
	if _, err := sdkClient(t, ts, testAccessKey, testSecretKey).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("later")}); err != nil {
		t.Errorf("bucket after barrier: %v", err)
	}

	// CreateBucket of a bucket this node still has but the leader deleted
	// creates it, instead of a stale BucketAlreadyOwnedByYou.
	ts.ctl.mu.Lock()
	ts.ctl.st.Buckets["stale"] = &meta.Bucket{Name: "stale", Owner: testAccessKey}
	ts.ctl.goneAtBarrier = []string{"stale"}
	ts.ctl.mu.Unlock()
	if _, err := sdkClient(t, ts, testAccessKey, testSecretKey).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("stale")}); err != nil {
		t.Errorf("CreateBucket of a bucket deleted at the leader: %v", err)
	}
	_, err = sdkClient(t, ts, testAccessKey, testSecretKey).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("stale")})
	wantCode(t, "CreateBucket again", err, "BucketAlreadyOwnedByYou")

	// No leader for the barrier: 503, not a false "no such bucket".
	ts.ctl.mu.Lock()
	ts.ctl.failNext = errTestNoLeader
	ts.ctl.mu.Unlock()
	_, err = sdkClient(t, ts, testAccessKey, testSecretKey).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("ghost")})
	wantCode(t, "barrier without leader", err, "ServiceUnavailable")
}

func TestSDKChecksumsAndLargeObject(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20+12345)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("big"), Key: aws.String("blob"), Body: bytes.NewReader(data),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if put.ChecksumCRC32 == nil {
		t.Error("put: checksum not echoed")
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("blob"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("get: %v, %d bytes", err, len(back))
	}
	if aws.ToString(got.ChecksumCRC32) != aws.ToString(put.ChecksumCRC32) {
		t.Errorf("checksum on get %q, put %q", aws.ToString(got.ChecksumCRC32), aws.ToString(put.ChecksumCRC32))
	}
	// A ranged read of a large object.
	got, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("blob"), Range: aws.String("bytes=1048570-2097160")})
	if err != nil {
		t.Fatal(err)
	}
	back, _ = io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(back, data[1048570:2097161]) {
		t.Errorf("range: %d bytes", len(back))
	}

	// A wrong Content-MD5 is BadDigest; a malformed one InvalidDigest.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("big"), Key: aws.String("md5"), Body: strings.NewReader("abc"),
		ContentMD5: aws.String("AAAAAAAAAAAAAAAAAAAAAA==")})
	wantCode(t, "wrong md5", err, "BadDigest")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("big"), Key: aws.String("md5"), Body: strings.NewReader("abc"),
		ContentMD5: aws.String("not-base64")})
	wantCode(t, "malformed md5", err, "InvalidDigest")
}

func TestSDKEntityTooLarge(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.MaxObjectSize = 1000 })
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("small")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("small"), Key: aws.String("k"), Body: bytes.NewReader(make([]byte, 1001))})
	wantCode(t, "too large", err, "EntityTooLarge")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("small"), Key: aws.String("k"), Body: bytes.NewReader(make([]byte, 1000))}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

func TestMinioClient(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	mc, err := minio.New(ts.Addr(), &minio.Options{
		Creds:  miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""),
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, "mbkt", minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	ok, err := mc.BucketExists(ctx, "mbkt")
	if err != nil || !ok {
		t.Errorf("bucket exists: %v %v", ok, err)
	}
	ok, err = mc.BucketExists(ctx, "nope")
	if err != nil || ok {
		t.Errorf("missing bucket exists: %v %v", ok, err)
	}
	for i, size := range []int{0, 10, 70 << 10} {
		data := bytes.Repeat([]byte{byte('a' + i)}, size)
		key := fmt.Sprintf("dir/obj %d+", i)
		info, err := mc.PutObject(ctx, "mbkt", key, bytes.NewReader(data), int64(size), minio.PutObjectOptions{
			ContentType: "application/x-test", UserMetadata: map[string]string{"n": fmt.Sprint(i)},
		})
		if err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
		if info.ETag != md5hex(data) {
			t.Errorf("put %q etag %s", key, info.ETag)
		}
		obj, err := mc.GetObject(ctx, "mbkt", key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(back, data) {
			t.Errorf("get %q: %v, %d bytes", key, err, len(back))
		}
		st, err := mc.StatObject(ctx, "mbkt", key, minio.StatObjectOptions{})
		if err != nil || st.Size != int64(size) || st.ContentType != "application/x-test" || st.UserMetadata["N"] != fmt.Sprint(i) {
			t.Errorf("stat %q: %v %+v", key, err, st)
		}
	}
	var listed []string
	for o := range mc.ListObjects(ctx, "mbkt", minio.ListObjectsOptions{Prefix: "dir/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		listed = append(listed, o.Key)
	}
	if want := []string{"dir/obj 0+", "dir/obj 1+", "dir/obj 2+"}; !slices.Equal(listed, want) {
		t.Errorf("list: %q", listed)
	}
	var top []string
	for o := range mc.ListObjects(ctx, "mbkt", minio.ListObjectsOptions{}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		top = append(top, o.Key)
	}
	if !slices.Equal(top, []string{"dir/"}) {
		t.Errorf("top-level list: %q", top)
	}
	_, err = mc.StatObject(ctx, "mbkt", "missing", minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Errorf("stat missing: %v", err)
	}
	if err := mc.RemoveBucket(ctx, "mbkt"); minio.ToErrorResponse(err).Code != "BucketNotEmpty" {
		t.Errorf("remove non-empty: %v", err)
	}
	for _, k := range listed {
		if err := mc.RemoveObject(ctx, "mbkt", k, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("remove %q: %v", k, err)
		}
	}
	if err := mc.RemoveBucket(ctx, "mbkt"); err != nil {
		t.Errorf("remove bucket: %v", err)
	}
	bad, err := minio.New(ts.Addr(), &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, "wrong", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.ListBuckets(ctx); minio.ToErrorResponse(err).Code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
}
