package s3api

import (
	"bytes"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/dataplane"
)

func TestSDKCopyObject(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "src")
	mustBucket(t, c, "dst")
	body := randomBytes(300<<10, 11)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), Body: bytes.NewReader(body),
		ContentType: aws.String("image/png"), Metadata: map[string]string{"k": "v"}, Tagging: aws.String("t=1"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil || put.ChecksumSHA256 == nil {
		t.Fatalf("put: %v %+v", err, put)
	}
	source := "src/" + url.PathEscape("dir/a b+c")

	// COPY (the default): metadata and tags come from the source; the
	// checksum algorithm too.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String(source),
		ContentType: aws.String("text/ignored")})
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if cp.CopyObjectResult == nil || aws.ToString(cp.CopyObjectResult.ETag) != aws.ToString(put.ETag) ||
		cp.CopyObjectResult.LastModified == nil || aws.ToString(cp.CopyObjectResult.ChecksumSHA256) != aws.ToString(put.ChecksumSHA256) {
		t.Errorf("copy result: %+v", cp.CopyObjectResult)
	}
	data, got := getAll(t, c, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if !bytes.Equal(data, body) || aws.ToString(got.ContentType) != "image/png" || got.Metadata["k"] != "v" || aws.ToInt32(got.TagCount) != 1 {
		t.Errorf("copy: %d bytes %+v", len(data), got)
	}

	// REPLACE: metadata and tags from the request.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced"), CopySource: aws.String(source),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"n": "w"},
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("x=1&y=2")}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced")})
	if err != nil || aws.ToString(head.ContentType) != "text/new" || head.Metadata["n"] != "w" || head.Metadata["k"] != "" || aws.ToInt32(head.TagCount) != 2 {
		t.Errorf("replaced: %v %+v", err, head)
	}

	// Copying onto itself needs REPLACE.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), CopySource: aws.String(source)})
	wantCode(t, "copy onto itself", err, "InvalidRequest")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/a b+c"), CopySource: aws.String(source),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("image/jpeg")}); err != nil {
		t.Errorf("copy onto itself with REPLACE: %v", err)
	}

	// Copy-source conditions: a failed one is 412, never 304.
	etag := aws.ToString(put.ETag)
	for name, in := range map[string]*s3.CopyObjectInput{
		"if-match":            {CopySourceIfMatch: aws.String(`"nope"`)},
		"if-none-match":       {CopySourceIfNoneMatch: aws.String(etag)},
		"if-modified-since":   {CopySourceIfModifiedSince: aws.Time(time.Now().Add(time.Hour))},
		"if-unmodified-since": {CopySourceIfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))},
	} {
		in.Bucket, in.Key, in.CopySource = aws.String("dst"), aws.String("cond"), aws.String(source)
		_, err := c.CopyObject(ctx, in)
		wantCode(t, "copy "+name, err, "PreconditionFailed")
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("cond"), CopySource: aws.String(source),
		CopySourceIfMatch: aws.String(etag), CopySourceIfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))}); err != nil {
		t.Errorf("if-match true wins over if-unmodified-since false: %v", err)
	}

	// Missing sources, bad directives.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantCode(t, "missing source key", err, "NoSuchKey")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("nobucket/k")})
	wantCode(t, "missing source bucket", err, "NoSuchBucket")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String(source), MetadataDirective: "MOVE"})
	wantCode(t, "bad directive", err, "InvalidArgument")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("justabucket")})
	wantCode(t, "source without key", err, "InvalidArgument")

	// A source version, and the version headers.
	setVersioning(t, c, "src", types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(putString(t, c, "src", "v", "first").VersionId)
	putString(t, c, "src", "v", "second")
	cp, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("old"), CopySource: aws.String("src/v?versionId=" + v1)})
	if err != nil || aws.ToString(cp.CopySourceVersionId) != v1 || cp.VersionId != nil {
		t.Fatalf("copy of a version: %v %+v", err, cp)
	}
	if s, _ := getString(t, c, "dst", "old", ""); s != "first" {
		t.Errorf("copied version: %q", s)
	}
	// An older version may be copied onto its own key.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("v"), CopySource: aws.String("src/v?versionId=" + v1)}); err != nil {
		t.Errorf("restore an old version: %v", err)
	}
	if s, _ := getString(t, c, "src", "v", ""); s != "first" {
		t.Errorf("restored: %q", s)
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("src"), Key: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/v?versionId=" + aws.ToString(del.VersionId))})
	wantCode(t, "copy of a delete marker by id", err, "InvalidRequest")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/v")})
	wantCode(t, "copy behind a delete marker", err, "NoSuchKey")
}

func TestSDKUploadPartCopy(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "upc")
	src := randomBytes(6<<20, 12)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("upc"), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("upc"), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String("upc/src")})
	if err != nil {
		t.Fatalf("part copy: %v", err)
	}
	p2, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(2), CopySource: aws.String("/upc/src"), CopySourceRange: aws.String("bytes=100-199")})
	if err != nil {
		t.Fatalf("ranged part copy: %v", err)
	}
	if aws.ToString(p2.CopyPartResult.ETag) != `"`+md5hex(src[100:200])+`"` || p2.CopyPartResult.LastModified == nil {
		t.Errorf("ranged copy result: %+v", p2.CopyPartResult)
	}
	for _, rng := range []string{"bytes=5-", "bytes=9-3", "100-200", "bytes=0-" + "6291456"} {
		_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(3), CopySource: aws.String("upc/src"), CopySourceRange: aws.String(rng)})
		wantCode(t, "range "+rng, err, "InvalidArgument")
	}
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(3), CopySource: aws.String("upc/src"), CopySourceIfNoneMatch: aws.String(`"` + md5hex(src) + `"`)})
	wantCode(t, "part copy if-none-match", err, "PreconditionFailed")
	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{ETag: p1.CopyPartResult.ETag, PartNumber: aws.Int32(1)}, {ETag: p2.CopyPartResult.ETag, PartNumber: aws.Int32(2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(comp.ETag) != multipartETag(src, src[100:200]) {
		t.Errorf("etag %s", aws.ToString(comp.ETag))
	}
	data, _ := getAll(t, c, &s3.GetObjectInput{Bucket: aws.String("upc"), Key: aws.String("dst")})
	if !bytes.Equal(data, append(append([]byte{}, src...), src[100:200]...)) {
		t.Errorf("assembled object: %d bytes", len(data))
	}
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: aws.String("gone"),
		PartNumber: aws.Int32(1), CopySource: aws.String("upc/src")})
	wantCode(t, "part copy to an unknown upload", err, "NoSuchUpload")
}

func TestParseCopySource(t *testing.T) {
	vid := dataplane.NewVersionID(time.Now())
	cases := []struct {
		in, bucket, key, version string
		bad                      bool
	}{
		{in: "b/k", bucket: "b", key: "k"},
		{in: "/b/dir/k", bucket: "b", key: "dir/k"},
		{in: "b/a%20b%2Bc", bucket: "b", key: "a b+c"},
		{in: "b/a+b", bucket: "b", key: "a+b"},
		{in: "b/q%3Fmark", bucket: "b", key: "q?mark"},
		{in: "b/k?versionId=" + vid, bucket: "b", key: "k", version: vid},
		{in: "b/k?versionId=null", bucket: "b", key: "k", version: "null"},
		{in: "b/k?versionId=", bad: true},
		{in: "b/k?versionId=abc", bad: true},
		{in: "b", bad: true},
		{in: "b/", bad: true},
		{in: "/", bad: true},
		{in: "b/%zz", bad: true},
	}
	for _, c := range cases {
		b, k, v, err := parseCopySource(c.in)
		if (err != nil) != c.bad || (!c.bad && (b != c.bucket || k != c.key || v != c.version)) {
			t.Errorf("%q: %q %q %q %v", c.in, b, k, v, err)
		}
	}
	if _, _, err := parseCopyRange("bytes=0-9", 10); err != nil {
		t.Error(err)
	}
	if s, n, err := parseCopyRange("bytes=3-5", 10); err != nil || s != 3 || n != 3 {
		t.Errorf("3-5: %d %d %v", s, n, err)
	}
	for _, r := range []string{"bytes=0-10", "bytes=-5", "bytes=5-", "0-1", "bytes=a-b"} {
		if _, _, err := parseCopyRange(r, 10); err == nil {
			t.Errorf("%q accepted", r)
		}
	}
}
