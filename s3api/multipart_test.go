package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	rnd := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	return b
}

func mustBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

func getAll(t *testing.T, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(t.Context(), in)
	if err != nil {
		t.Fatalf("get %s: %v", aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s: %v", aws.ToString(in.Key), err)
	}
	return data, out
}

// multipartETag is the ETag S3 gives an object completed from parts.
func multipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	s := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), len(parts))
}

func TestSDKMultipart(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "mpu")

	// An upload created without an algorithm; parts sent as the SDK sends
	// them by default (with a CRC32 of their own).
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("big/obj"), ContentType: aws.String("application/x-big"),
		Metadata: map[string]string{"Origin": "test"}, Tagging: aws.String("a=1&b=two%20words"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cr.UploadId) == "" || aws.ToString(cr.Key) != "big/obj" || aws.ToString(cr.Bucket) != "mpu" {
		t.Fatalf("create: %+v", cr)
	}
	id := cr.UploadId
	p1, p2, p3 := randomBytes(5<<20, 1), randomBytes(5<<20, 2), randomBytes(1234, 3)
	var done []types.CompletedPart
	for i, p := range [][]byte{p1, p2, p3} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p),
		})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		if aws.ToString(out.ETag) != `"`+md5hex(p)+`"` {
			t.Errorf("part %d etag %s", i+1, aws.ToString(out.ETag))
		}
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32: out.ChecksumCRC32})
	}
	// Uploading a part again replaces it.
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id,
		PartNumber: aws.Int32(3), Body: bytes.NewReader(p3)}); err != nil {
		t.Fatal(err)
	}

	// ListParts, paged.
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id, MaxParts: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" ||
		aws.ToInt64(lp.Parts[1].Size) != 5<<20 || aws.ToString(lp.Parts[0].ETag) != `"`+md5hex(p1)+`"` ||
		lp.Initiator == nil || lp.StorageClass != types.StorageClassStandard {
		t.Errorf("list parts page 1: %+v", lp)
	}
	lp, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id, PartNumberMarker: lp.NextPartNumberMarker})
	if err != nil || len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 3 || aws.ToBool(lp.IsTruncated) {
		t.Errorf("list parts page 2: %v %+v", err, lp)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) || aws.ToString(lu.Uploads[0].Key) != "big/obj" {
		t.Errorf("list uploads: %v %+v", err, lu)
	}

	// Completing with a wrong ETag, out of order, or a small middle part
	// fails and leaves the upload in place.
	bad := slices.Clone(done)
	bad[1].ETag = aws.String(`"00000000000000000000000000000000"`)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: bad}})
	wantCode(t, "complete with a wrong etag", err, "InvalidPart")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[1], done[0]}}})
	wantCode(t, "complete out of order", err, "InvalidPartOrder")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{done[2], {ETag: done[2].ETag, PartNumber: aws.Int32(4)}}}})
	if code := apiCode(err); code != "InvalidPart" && code != "EntityTooSmall" {
		t.Errorf("complete with a missing part: %v", err)
	}

	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	want := multipartETag(p1, p2, p3)
	if aws.ToString(comp.ETag) != want || aws.ToString(comp.Key) != "big/obj" || !strings.HasSuffix(aws.ToString(comp.Location), "/mpu/big/obj") {
		t.Errorf("complete: %+v", comp)
	}
	// The default checksum: a full-object CRC64NVME.
	whole := slices.Concat(p1, p2, p3)
	nv := crc64nvme.New()
	nv.Write(whole)
	if comp.ChecksumType != types.ChecksumTypeFullObject || aws.ToString(comp.ChecksumCRC64NVME) != base64.StdEncoding.EncodeToString(nv.Sum(nil)) {
		t.Errorf("complete checksum: %s %s", comp.ChecksumType, aws.ToString(comp.ChecksumCRC64NVME))
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), UploadId: id, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantCode(t, "upload to a completed upload", err, "NoSuchUpload")

	data, got := getAll(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), ChecksumMode: types.ChecksumModeEnabled})
	if !bytes.Equal(data, whole) || aws.ToString(got.ETag) != want || aws.ToString(got.ContentType) != "application/x-big" ||
		got.Metadata["origin"] != "test" || aws.ToInt32(got.TagCount) != 2 || aws.ToString(got.ChecksumCRC64NVME) == "" {
		t.Errorf("get: %d bytes %+v", len(data), got)
	}
	// GET and HEAD by part number.
	data, got = getAll(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), PartNumber: aws.Int32(2)})
	if !bytes.Equal(data, p2) || aws.ToInt32(got.PartsCount) != 3 || aws.ToString(got.ContentRange) != fmt.Sprintf("bytes %d-%d/%d", 5<<20, 10<<20-1, len(whole)) {
		t.Errorf("get part 2: %d bytes, parts %d, range %s", len(data), aws.ToInt32(got.PartsCount), aws.ToString(got.ContentRange))
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), PartNumber: aws.Int32(3)})
	if err != nil || aws.ToInt64(head.ContentLength) != 1234 || aws.ToInt32(head.PartsCount) != 3 {
		t.Errorf("head part 3: %v %+v", err, head)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), PartNumber: aws.Int32(4)})
	wantCode(t, "part past the last", err, "InvalidPartNumber")
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"), PartNumber: aws.Int32(4)}); httpStatus(err) != 416 {
		t.Errorf("head part past the last: %v", err)
	}

	// GetObjectAttributes with part paging.
	attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectParts, types.ObjectAttributesObjectSize,
			types.ObjectAttributesStorageClass, types.ObjectAttributesChecksum},
		MaxParts: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(attrs.ETag) != strings.Trim(want, `"`) || aws.ToInt64(attrs.ObjectSize) != int64(len(whole)) ||
		attrs.StorageClass != types.StorageClassStandard || attrs.ObjectParts == nil ||
		aws.ToInt32(attrs.ObjectParts.TotalPartsCount) != 3 || len(attrs.ObjectParts.Parts) != 2 ||
		!aws.ToBool(attrs.ObjectParts.IsTruncated) || aws.ToString(attrs.ObjectParts.NextPartNumberMarker) != "2" ||
		attrs.Checksum == nil || attrs.Checksum.ChecksumType != types.ChecksumTypeFullObject || attrs.LastModified == nil {
		t.Errorf("attributes: %+v %+v", attrs, attrs.ObjectParts)
	}
	attrs, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("mpu"), Key: aws.String("big/obj"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts}, PartNumberMarker: aws.String("2")})
	if err != nil || len(attrs.ObjectParts.Parts) != 1 || aws.ToInt64(attrs.ObjectParts.Parts[0].Size) != 1234 || aws.ToBool(attrs.ObjectParts.IsTruncated) {
		t.Errorf("attributes page 2: %v %+v", err, attrs.ObjectParts)
	}

	// Abort.
	cr, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cr.UploadId}); err != nil {
		t.Errorf("abort: %v", err)
	}
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cr.UploadId})
	wantCode(t, "abort twice", err, "NoSuchUpload")
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cr.UploadId})
	wantCode(t, "list parts of an aborted upload", err, "NoSuchUpload")
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: aws.String("nope"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantCode(t, "upload to an unknown id", err, "NoSuchUpload")
}

func TestSDKMultipartChecksums(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "sums")
	p1, p2 := randomBytes(5<<20, 7), randomBytes(100, 8)

	// A composite CRC32 upload: the parts' checksums are stored, the object's
	// is composed from them, and GET reports it only with the mode enabled.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("c"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	if cr.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32 || cr.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("create: %s %s", cr.ChecksumAlgorithm, cr.ChecksumType)
	}
	var parts []types.CompletedPart
	var raw []byte
	for i, p := range [][]byte{p1, p2} {
		sum := crc32.ChecksumIEEE(p)
		b := []byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)}
		raw = append(raw, b...)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sums"), Key: aws.String("c"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.ChecksumCRC32) != base64.StdEncoding.EncodeToString(b) {
			t.Errorf("part %d crc32 %s", i+1, aws.ToString(out.ChecksumCRC32))
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32: out.ChecksumCRC32})
	}
	// A part checksum that does not match the part is InvalidPart.
	bad := slices.Clone(parts)
	bad[0].ChecksumCRC32 = aws.String("AAAAAA==")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("c"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: bad}})
	wantCode(t, "complete with a wrong part checksum", err, "InvalidPart")
	comp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("c"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	composite := base64.StdEncoding.EncodeToString(func() []byte {
		s := crc32.ChecksumIEEE(raw)
		return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
	}()) + "-2"
	if aws.ToString(comp.ChecksumCRC32) != composite || comp.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("complete: %s %s, want %s", aws.ToString(comp.ChecksumCRC32), comp.ChecksumType, composite)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("c"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(head.ChecksumCRC32) != composite || head.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("head with checksum mode: %v %+v", err, head)
	}
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("c")})
	if err != nil || head.ChecksumCRC32 != nil {
		t.Errorf("head without checksum mode: %v %v", err, aws.ToString(head.ChecksumCRC32))
	}
	// A part read alone carries its own checksum (the SDK validates it).
	data, got := getAll(t, c, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String("c"), PartNumber: aws.Int32(2), ChecksumMode: types.ChecksumModeEnabled})
	if !bytes.Equal(data, p2) || aws.ToString(got.ChecksumCRC32) != aws.ToString(parts[1].ChecksumCRC32) {
		t.Errorf("part 2 with checksum: %d bytes %s", len(data), aws.ToString(got.ChecksumCRC32))
	}

	// A full-object CRC32C upload whose expected checksum is sent on
	// Complete: a wrong one is BadDigest naming the algorithm.
	cr, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("f"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, ChecksumType: types.ChecksumTypeFullObject})
	if err != nil {
		t.Fatal(err)
	}
	parts = parts[:0]
	for i, p := range [][]byte{p1, p2} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sums"), Key: aws.String("f"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32C: out.ChecksumCRC32C})
	}
	sum := crc32.Checksum(slices.Concat(p1, p2), crc32.MakeTable(crc32.Castagnoli))
	wantSum := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("f"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, ChecksumCRC32C: aws.String("AAAAAA=="), ChecksumType: types.ChecksumTypeFullObject})
	wantCode(t, "complete with a wrong object checksum", err, "BadDigest")
	comp, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("f"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, ChecksumCRC32C: aws.String(wantSum), ChecksumType: types.ChecksumTypeFullObject})
	if err != nil || aws.ToString(comp.ChecksumCRC32C) != wantSum || comp.ChecksumType != types.ChecksumTypeFullObject {
		t.Errorf("complete full object: %v %+v", err, comp)
	}

	// Combinations S3 refuses.
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("x"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumType: types.ChecksumTypeFullObject})
	wantCode(t, "full-object sha256", err, "InvalidRequest")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("x"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme, ChecksumType: types.ChecksumTypeComposite})
	wantCode(t, "composite crc64nvme", err, "InvalidRequest")
	// A part of another algorithm than an explicit SHA256 upload's is
	// refused, as S3 does.
	cr, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("s"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sums"), Key: aws.String("s"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("abc"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	wantCode(t, "crc32 part of a sha256 upload", err, "InvalidRequest")
	// Without an algorithm at creation, a part's CRC32 (what SDKs send by
	// default) is checked against the body, not stored: a wrong one is
	// BadDigest, a right one is accepted.
	def, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sums"), Key: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sums"), Key: aws.String("d"), UploadId: def.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("abc"), ChecksumCRC32: aws.String("AAAAAA==")})
	wantCode(t, "part with a wrong crc32", err, "BadDigest")
	if _, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sums"), Key: aws.String("d"), UploadId: def.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("abc"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}); err != nil {
		t.Errorf("crc32 part of an upload without algorithm: %v", err)
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("sums"), Key: aws.String("s"), UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 0 || lp.ChecksumAlgorithm != types.ChecksumAlgorithmSha256 {
		t.Errorf("a part that failed its checksum was stored: %v %+v", err, lp)
	}
}

func TestMultipartRaw(t *testing.T) {
	ts := startTestServer(t)
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/mpraw"}); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, ts, rawReq{method: "POST", path: "/mpraw/k?uploads"})
	if resp.StatusCode != 200 || !strings.Contains(body, `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`) {
		t.Fatalf("initiate: %d %s", resp.StatusCode, body)
	}
	id := body[strings.Index(body, "<UploadId>")+10 : strings.Index(body, "</UploadId>")]
	for _, n := range []string{"0", "10001", "x", "-1"} {
		resp, body = do(t, ts, rawReq{method: "PUT", path: "/mpraw/k?partNumber=" + n + "&uploadId=" + id, body: []byte("x")})
		wantS3Error(t, "part number "+n, resp, body, 400, "InvalidArgument")
	}
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/mpraw/k?partNumber=1&uploadId=" + id, body: []byte("only part")})
	if resp.StatusCode != 200 {
		t.Fatalf("part: %d %s", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	for _, c := range []struct{ what, xml, code string }{
		{"not xml", "<CompleteMultipartUpload><Part>", "MalformedXML"},
		{"no parts", "<CompleteMultipartUpload></CompleteMultipartUpload>", "MalformedXML"},
		{"wrong root", "<Complete><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Complete>", "MalformedXML"},
		{"bad number", "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>", "MalformedXML"},
		{"number out of range", "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>", "InvalidArgument"},
		{"no etag", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>", "MalformedXML"},
		{"two checksums", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumSHA1>x</ChecksumSHA1></Part></CompleteMultipartUpload>", "InvalidRequest"},
	} {
		resp, body = do(t, ts, rawReq{method: "POST", path: "/mpraw/k?uploadId=" + id, body: []byte(c.xml)})
		wantS3Error(t, c.what, resp, body, 400, c.code)
	}
	// Sent chunked, so that the server reads it up to its limit.
	resp, body = do(t, ts, rawReq{method: "POST", path: "/mpraw/k?uploadId=" + id, body: bytes.Repeat([]byte(" "), maxCompleteBodySize+1), chunked: true, unsigned: true})
	wantS3Error(t, "too large", resp, body, 400, "MalformedXML")
	// A conditional Complete: If-None-Match "*" on a key that exists fails.
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/mpraw/k", body: []byte("existing")}); resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	complete := `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>` + etag + `</ETag></Part></CompleteMultipartUpload>`
	resp, body = do(t, ts, rawReq{method: "POST", path: "/mpraw/k?uploadId=" + id, body: []byte(complete), header: map[string]string{"If-None-Match": "*"}})
	wantS3Error(t, "complete if-none-match", resp, body, 412, "PreconditionFailed")
	resp, body = do(t, ts, rawReq{method: "POST", path: "/mpraw/k?uploadId=" + id, body: []byte(complete), header: map[string]string{"If-Match": `"` + md5hex([]byte("existing")) + `"`}})
	if resp.StatusCode != 200 || !strings.Contains(body, "<ETag>&#34;"+strings.Trim(multipartETag([]byte("only part")), `"`)+"&#34;</ETag>") {
		t.Errorf("complete if-match: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/mpraw/k"})
	if resp.StatusCode != 200 || body != "only part" {
		t.Errorf("get completed: %d %q", resp.StatusCode, body)
	}
}

// TestMultipartListUploads pages ListMultipartUploads with markers,
// prefixes and a delimiter, and url encoding.
func TestMultipartListUploads(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "ups")
	keys := []string{"a", "a", "b/1", "b/2", "c d", "e"}
	ids := map[string][]string{}
	for _, k := range keys {
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("ups"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = append(ids[k], aws.ToString(cr.UploadId))
	}
	var got []string
	p := s3.NewListMultipartUploadsPaginator(c, &s3.ListMultipartUploadsInput{Bucket: aws.String("ups"), MaxUploads: aws.Int32(2), Delimiter: aws.String("/")})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Uploads {
			got = append(got, aws.ToString(u.Key)+":"+aws.ToString(u.UploadId))
		}
		for _, cp := range out.CommonPrefixes {
			got = append(got, aws.ToString(cp.Prefix))
		}
	}
	want := []string{"a:" + ids["a"][0], "a:" + ids["a"][1], "b/", "c d:" + ids["c d"][0], "e:" + ids["e"][0]}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("uploads in %d pages:\n got %q\nwant %q", pages, got, want)
	}
	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("ups"), Prefix: aws.String("c"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Uploads) != 1 || aws.ToString(out.Uploads[0].Key) != "c+d" || out.EncodingType != types.EncodingTypeUrl {
		t.Errorf("encoded listing: %v %+v", err, out)
	}
	out, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("ups"), KeyMarker: aws.String("a"), UploadIdMarker: aws.String(ids["a"][0])})
	if err != nil || len(out.Uploads) != 5 || aws.ToString(out.Uploads[0].UploadId) != ids["a"][1] {
		t.Errorf("after the first upload of a: %v %+v", err, out)
	}
}

// TestMinioMultipart uploads with minio-go's own multipart path (its
// checksums and Complete body) and reads it back.
func TestMinioMultipart(t *testing.T) {
	ts := startTestServer(t)
	ctx := context.Background()
	mc, err := minio.New(ts.Addr(), &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, "mmp", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(11<<20+17, 9)
	info, err := mc.PutObject(ctx, "mmp", "large", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{PartSize: 5 << 20, ContentType: "x/y"})
	if err != nil {
		t.Fatalf("minio multipart put: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("etag %s", info.ETag)
	}
	obj, err := mc.GetObject(ctx, "mmp", "large", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(obj)
	obj.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Errorf("get: %v, %d bytes", err, len(back))
	}
	st, err := mc.StatObject(ctx, "mmp", "large", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "x/y" || st.Size != int64(len(data)) {
		t.Errorf("stat: %v %+v", err, st)
	}
	// An upload left behind is listed, then removed.
	up, err := minio.Core{Client: mc}.NewMultipartUpload(ctx, "mmp", "left", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for u := range mc.ListIncompleteUploads(ctx, "mmp", "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		if u.UploadID == up {
			n++
		}
	}
	if n != 1 {
		t.Errorf("incomplete upload listed %d times", n)
	}
	if err := mc.RemoveIncompleteUpload(ctx, "mmp", "left"); err != nil {
		t.Errorf("remove incomplete: %v", err)
	}
	resp, body := do(t, ts, rawReq{method: "GET", path: "/mmp?uploads"})
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<Upload>") {
		t.Errorf("uploads after removal: %d %s", resp.StatusCode, body)
	}
}
