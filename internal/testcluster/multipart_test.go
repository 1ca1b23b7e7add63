package testcluster_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/internal/testcluster"
)

// TestMultipartBadInput: the real data plane behind the real frontend
// answers multipart mistakes with S3's codes and stores nothing.
func TestMultipartBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2"})
	c := cl.S3Client(0)
	ctx := context.Background()
	mustCreateBucket(t, c, "mp-bad")

	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	up := cr.UploadId
	parts := map[int32][]byte{1: payload(5<<20, 1), 2: payload(1<<20, 2), 3: payload(100, 3)}
	etags := map[int32]string{}
	for n, data := range parts {
		out, err := cl.S3Client(int(n)%4).UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj"),
			UploadId: up, PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		sum := md5.Sum(data)
		if want := `"` + hex.EncodeToString(sum[:]) + `"`; aws.ToString(out.ETag) != want {
			t.Fatalf("part %d ETag %s, want %s", n, aws.ToString(out.ETag), want)
		}
		etags[n] = aws.ToString(out.ETag)
	}
	part := func(n int32) s3types.CompletedPart {
		return s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etags[n])}
	}
	complete := func(ps ...s3types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj"),
			UploadId: up, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: ps}})
		return err
	}
	wrongETag := part(1)
	wrongETag.ETag = aws.String(`"00000000000000000000000000000000"`)
	for _, tc := range []struct {
		name  string
		parts []s3types.CompletedPart
		code  string
	}{
		{"wrong order", []s3types.CompletedPart{part(2), part(1)}, "InvalidPartOrder"},
		{"missing part", []s3types.CompletedPart{part(1), {PartNumber: aws.Int32(4), ETag: aws.String(etags[3])}}, "InvalidPart"},
		{"wrong etag", []s3types.CompletedPart{wrongETag, part(3)}, "InvalidPart"},
		{"small part not last", []s3types.CompletedPart{part(1), part(2), part(3)}, "EntityTooSmall"},
	} {
		if err := complete(tc.parts...); apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj")}); apiCode(err) != "NotFound" {
			t.Fatalf("%s: object visible after a failed complete: %v", tc.name, err)
		}
	}
	// A part whose declared checksum is wrong: BadDigest, nothing stored.
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj"), UploadId: up,
		PartNumber: aws.Int32(5), Body: bytes.NewReader([]byte("abc")), ChecksumCRC32: aws.String("AAAAAA==")})
	if apiCode(err) != "BadDigest" {
		t.Errorf("part with a wrong CRC32: %v", err)
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj"), UploadId: up})
	if err != nil || len(lp.Parts) != 3 {
		t.Fatalf("ListParts: %v, %d parts", err, len(lp.Parts))
	}
	// The right list completes; the ETag is md5-of-md5s-2.
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj"),
		UploadId: up, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{part(1), part(3)}}})
	if err != nil {
		t.Fatal(err)
	}
	var cat []byte
	for _, n := range []int32{1, 3} {
		b, _ := hex.DecodeString(strings.Trim(etags[n], `"`))
		cat = append(cat, b...)
	}
	sum := md5.Sum(cat)
	if want := fmt.Sprintf(`"%x-2"`, sum); aws.ToString(out.ETag) != want {
		t.Errorf("ETag %s, want %s", aws.ToString(out.ETag), want)
	}
	if got := get(t, cl.S3Client(3), "mp-bad", "obj", ""); !bytes.Equal(got, append(append([]byte{}, parts[1]...), parts[3]...)) {
		t.Fatal("completed object differs from parts 1+3")
	}
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mp-bad"), Key: aws.String("obj"), UploadId: up}); apiCode(err) != "NoSuchUpload" {
		t.Errorf("ListParts after complete: %v", err)
	}

	// Keys over 1,024 bytes.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mp-bad"), Key: aws.String(strings.Repeat("k", 1025)), Body: bytes.NewReader([]byte("x"))})
	if apiCode(err) != "KeyTooLongError" {
		t.Errorf("1,025-byte key: %v", err)
	}
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mp-bad"), Key: aws.String(strings.Repeat("k", 1025))})
	if apiCode(err) != "KeyTooLongError" {
		t.Errorf("1,025-byte key, multipart: %v", err)
	}
	// A wrong Content-MD5 and a wrong checksum on PUT.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mp-bad"), Key: aws.String("md5"), Body: bytes.NewReader([]byte("x")),
		ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
	if apiCode(err) != "BadDigest" {
		t.Errorf("wrong Content-MD5: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mp-bad"), Key: aws.String("sha"), Body: bytes.NewReader([]byte("x")),
		ChecksumSHA256: aws.String("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")})
	if apiCode(err) != "BadDigest" {
		t.Errorf("wrong SHA256: %v", err)
	}
	for _, k := range []string{"md5", "sha"} {
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mp-bad"), Key: aws.String(k)}); apiCode(err) != "NotFound" {
			t.Errorf("%s stored despite a bad digest: %v", k, err)
		}
	}
}
