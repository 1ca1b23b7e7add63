package e2e

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// aws-sdk-go-v2, in process: a client with the SDK's defaults (request
// checksums when supported, path style) on each of the cell's endpoints.

func sdkGoSetup(*clientEnv) error { return nil }

func (x *cell) sdk() (*s3.Client, *s3.Client) {
	return sdkClient("http://"+x.ep, 3), sdkClient("http://"+x.ep2, 3)
}

// forEach runs fn on every item with n goroutines and returns the first
// error.
func forEach[T any](items []T, n int, fn func(T) error) error {
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	ch := make(chan T)
	for range n {
		wg.Go(func() {
			for it := range ch {
				if err := fn(it); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return first
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func sdkGoClient() matrixClient {
	return matrixClient{
		name: "aws-sdk-go-v2", short: "sdkgo", setup: sdkGoSetup,
		cells: map[string]func(*cell){
			"sync": func(x *cell) {
				c, c2 := x.sdk()
				b := aws.String(x.bucket)
				err := forEach(x.fx.treeRels, 8, func(rel string) error {
					f, err := os.Open(filepath.Join(x.fx.tree, filepath.FromSlash(rel)))
					if err != nil {
						return err
					}
					defer f.Close()
					_, err = c.PutObject(x.ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("tree/" + rel), Body: f})
					return err
				})
				x.check(err, "PutObject of the tree")
				var keys []string
				p := s3.NewListObjectsV2Paginator(c2, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("tree/"), MaxKeys: aws.Int32(250)})
				for p.HasMorePages() {
					page, err := p.NextPage(x.ctx)
					x.check(err, "ListObjectsV2 tree/")
					for _, o := range page.Contents {
						keys = append(keys, aws.ToString(o.Key))
					}
				}
				if len(keys) != treeFiles {
					x.fail("ListObjectsV2 (pages of 250) found %d keys, want %d", len(keys), treeFiles)
				}
				dl := filepath.Join(x.dir, "dl")
				err = forEach(keys, 8, func(key string) error {
					out, err := c2.GetObject(x.ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String(key)})
					if err != nil {
						return fmt.Errorf("GetObject %s: %w", key, err)
					}
					defer out.Body.Close()
					data, err := io.ReadAll(out.Body)
					if err != nil {
						return err
					}
					p := filepath.Join(dl, filepath.FromSlash(strings.TrimPrefix(key, "tree/")))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						return err
					}
					return os.WriteFile(p, data, 0o644)
				})
				x.check(err, "GetObject of the tree")
				x.note("PutObject, ListObjectsV2 pages of 250, GetObject; 8 goroutines")
				x.verifyTree("tree/", dl)
			},
			"multipart": sdkGoMultipart,
			"versioning": func(x *cell) {
				c, c2 := x.sdk()
				b, k := aws.String(x.bucket), aws.String("doc.txt")
				_, err := c.PutBucketVersioning(x.ctx, &s3.PutBucketVersioningInput{Bucket: b,
					VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
				x.check(err, "PutBucketVersioning Enabled")
				st, err := c.GetBucketVersioning(x.ctx, &s3.GetBucketVersioningInput{Bucket: b})
				x.check(err, "GetBucketVersioning")
				if st.Status != types.BucketVersioningStatusEnabled {
					x.fail("GetBucketVersioning: %q, want Enabled", st.Status)
				}
				x.propagated("versioning Enabled", func() (bool, string) {
					st, err := c2.GetBucketVersioning(x.ctx, &s3.GetBucketVersioningInput{Bucket: b})
					x.check(err, "GetBucketVersioning")
					return st.Status == types.BucketVersioningStatusEnabled, string(st.Status)
				})
				var ids []string
				for _, v := range []string{"v1", "v2"} {
					out, err := c.PutObject(x.ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: bytes.NewReader(x.fx.texts[v])})
					x.check(err, "PutObject "+v)
					ids = append(ids, aws.ToString(out.VersionId))
				}
				if ids[0] == "" || ids[0] == ids[1] {
					x.fail("PutObject twice in a versioned bucket: version ids %q", ids)
				}
				vs, err := c2.ListObjectVersions(x.ctx, &s3.ListObjectVersionsInput{Bucket: b, Prefix: k})
				x.check(err, "ListObjectVersions")
				if len(vs.Versions) != 2 || aws.ToString(vs.Versions[0].VersionId) != ids[1] || !aws.ToBool(vs.Versions[0].IsLatest) ||
					aws.ToString(vs.Versions[1].VersionId) != ids[0] || aws.ToBool(vs.Versions[1].IsLatest) {
					x.fail("ListObjectVersions after an overwrite: %s, want [%s (latest), %s]", versionsString(vs.Versions), ids[1], ids[0])
				}
				if got := x.get("doc.txt", ids[0]); !bytes.Equal(got, x.fx.texts["v1"]) {
					x.fail("GetObject versionId %s: %q", ids[0], got)
				}
				cp, err := c.CopyObject(x.ctx, &s3.CopyObjectInput{Bucket: b, Key: k, CopySource: aws.String(x.bucket + "/doc.txt?versionId=" + ids[0])})
				x.check(err, "CopyObject of the old version over the current one")
				if v := aws.ToString(cp.VersionId); v == "" || slices.Contains(ids, v) || aws.ToString(cp.CopySourceVersionId) != ids[0] {
					x.fail("CopyObject: VersionId %q CopySourceVersionId %q", v, aws.ToString(cp.CopySourceVersionId))
				}
				cur, err := c2.GetObject(x.ctx, &s3.GetObjectInput{Bucket: b, Key: k})
				x.check(err, "GetObject after the restore")
				got, err := io.ReadAll(cur.Body)
				cur.Body.Close()
				x.check(err, "reading the restored object")
				if !bytes.Equal(got, x.fx.texts["v1"]) || aws.ToString(cur.VersionId) != aws.ToString(cp.VersionId) {
					x.fail("after the restore: version %q %q, want %q with the first body", aws.ToString(cur.VersionId), got, aws.ToString(cp.VersionId))
				}
				vs, err = c2.ListObjectVersions(x.ctx, &s3.ListObjectVersionsInput{Bucket: b, Prefix: k})
				x.check(err, "ListObjectVersions")
				if len(vs.Versions) != 3 || aws.ToString(vs.Versions[0].VersionId) != aws.ToString(cp.VersionId) {
					x.fail("ListObjectVersions after the restore: %s", versionsString(vs.Versions))
				}
			},
			"presign": func(x *cell) {
				c, _ := x.sdk()
				x.put("presign/get.txt", x.fx.texts["presign"])
				pc := s3.NewPresignClient(c, s3.WithPresignExpires(10*time.Minute))
				g, err := pc.PresignGetObject(x.ctx, &s3.GetObjectInput{Bucket: aws.String(x.bucket), Key: aws.String("presign/get.txt")})
				x.check(err, "PresignGetObject")
				x.curlGet("PresignGetObject", g.URL, x.fx.texts["presign"])
				x.curlDenied("PresignGetObject", tamper(g.URL))
				p, err := pc.PresignPutObject(x.ctx, &s3.PutObjectInput{Bucket: aws.String(x.bucket), Key: aws.String("presign/put.txt")})
				x.check(err, "PresignPutObject")
				body := []byte("written through an aws-sdk-go-v2 presigned PUT\n")
				x.curlPut("PresignPutObject", p.URL, body)
				x.wantBody("presign/put.txt", body)
				x.note("SigV4 GET and PUT URLs with curl; tampered URL refused")
			},
			"post": func(x *cell) {
				c, _ := x.sdk()
				pc := s3.NewPresignClient(c)
				p, err := pc.PresignPostObject(x.ctx, &s3.PutObjectInput{Bucket: aws.String(x.bucket), Key: aws.String("post/sdk.txt")},
					func(o *s3.PresignPostOptions) {
						o.Expires = 10 * time.Minute
						o.Conditions = []any{[]any{"content-length-range", 1, mib}}
					})
				x.check(err, "PresignPostObject")
				body := []byte("uploaded with an aws-sdk-go-v2 POST policy\n")
				if code, resp := x.postForm(p.URL, p.Values, "local.txt", body); code != 204 {
					x.fail("POST with the PresignPostObject form: %d, want 204\n%s", code, clip(string(resp), 600))
				}
				x.wantBody("post/sdk.txt", body)
				bad := map[string]string{}
				for k, v := range p.Values {
					bad[k] = v
				}
				bad["key"] = "post/elsewhere.txt"
				if code, resp := x.postForm(p.URL, bad, "local.txt", body); code != 403 {
					x.fail("POST to a key the policy does not name: %d, want 403\n%s", code, clip(string(resp), 600))
				}
				x.note("PresignPostObject (SigV4) with content-length-range; another key refused")
			},
			"copy": func(x *cell) {
				c, c2 := x.sdk()
				b := aws.String(x.bucket)
				_, err := c.PutObject(x.ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("copy/src.txt"), Body: bytes.NewReader(x.fx.texts["src"]),
					ContentType: aws.String("text/plain"), Metadata: map[string]string{"origin": "first"}})
				x.check(err, "PutObject copy/src.txt")
				_, err = c.CopyObject(x.ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy/dst.txt"), CopySource: aws.String(x.bucket + "/copy/src.txt"),
					MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"color": "blue", "stage": "copied"},
					ContentType: aws.String("application/x-strata-test")})
				x.check(err, "CopyObject with MetadataDirective REPLACE")
				h, err := c2.HeadObject(x.ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("copy/dst.txt")})
				x.check(err, "HeadObject copy/dst.txt")
				if aws.ToString(h.ContentType) != "application/x-strata-test" || len(h.Metadata) != 2 || h.Metadata["color"] != "blue" {
					x.fail("HeadObject of the copy: Content-Type %q metadata %v", aws.ToString(h.ContentType), h.Metadata)
				}
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "first"}, true)
				_, err = c.CopyObject(x.ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy/src.txt"), CopySource: aws.String(x.bucket + "/copy/src.txt")})
				if apiErrorCode(err) != "InvalidRequest" {
					x.fail("CopyObject onto itself without REPLACE: %v, want InvalidRequest", err)
				}
			},
			"list": func(x *cell) {
				c, c2 := x.sdk()
				b := aws.String(x.bucket)
				for _, rel := range listTreeFiles {
					body, err := os.ReadFile(filepath.Join(x.fx.listTree, rel))
					x.check(err, "fixture")
					_, err = c.PutObject(x.ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("list/" + rel), Body: bytes.NewReader(body)})
					x.check(err, "PutObject list/"+rel)
				}
				var v2 listing
				p := s3.NewListObjectsV2Paginator(c2, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("list/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
				pages := 0
				for p.HasMorePages() {
					page, err := p.NextPage(x.ctx)
					x.check(err, "ListObjectsV2")
					pages++
					for _, o := range page.Contents {
						v2.keys = append(v2.keys, aws.ToString(o.Key))
					}
					for _, cp := range page.CommonPrefixes {
						v2.prefixes = append(v2.prefixes, aws.ToString(cp.Prefix))
					}
					if pages > 10 {
						x.fail("ListObjectsV2 MaxKeys=1 does not end after 10 pages")
					}
				}
				x.wantListing("ListObjectsV2 Delimiter=/ MaxKeys=1", v2, wantListTop)
				if pages != 4 {
					x.fail("ListObjectsV2 Delimiter=/ MaxKeys=1 took %d pages, want 4 (one per key or common prefix)", pages)
				}
				var v1 listing
				var marker *string
				for range 10 {
					out, err := c2.ListObjects(x.ctx, &s3.ListObjectsInput{Bucket: b, Prefix: aws.String("list/"), Delimiter: aws.String("/"),
						MaxKeys: aws.Int32(1), Marker: marker})
					x.check(err, "ListObjects")
					for _, o := range out.Contents {
						v1.keys = append(v1.keys, aws.ToString(o.Key))
					}
					for _, cp := range out.CommonPrefixes {
						v1.prefixes = append(v1.prefixes, aws.ToString(cp.Prefix))
					}
					if !aws.ToBool(out.IsTruncated) {
						break
					}
					if marker = out.NextMarker; aws.ToString(marker) == "" {
						x.fail("ListObjects with a delimiter: truncated without NextMarker")
					}
				}
				x.wantListing("ListObjects (V1) Delimiter=/ MaxKeys=1", v1, wantListTop)
				out, err := c2.ListObjectsV2(x.ctx, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("list/b/"), Delimiter: aws.String("/")})
				x.check(err, "ListObjectsV2 list/b/")
				var lb listing
				for _, cp := range out.CommonPrefixes {
					lb.prefixes = append(lb.prefixes, aws.ToString(cp.Prefix))
				}
				for _, o := range out.Contents {
					lb.keys = append(lb.keys, aws.ToString(o.Key))
				}
				x.wantListing("ListObjectsV2 Prefix=list/b/ Delimiter=/", lb, wantListB)
			},
		},
	}
}

func versionsString(vs []types.ObjectVersion) string {
	var s []string
	for _, v := range vs {
		s = append(s, fmt.Sprintf("%s@%s latest=%v", aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest)))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// sdkGoMultipart uploads the 300 MiB file with CreateMultipartUpload,
// UploadPart (16 MiB, 4 goroutines, CRC32 each) and
// CompleteMultipartUpload, and streams it back with GetObject.
func sdkGoMultipart(x *cell) {
	const partSize = 16 * mib
	c, c2 := x.sdk()
	b, k := aws.String(x.bucket), aws.String("big.bin")
	f, err := os.Open(x.fx.big.path)
	x.check(err, "big file")
	defer f.Close()
	n := int((bigSize + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	up := timed(func() {
		cr, err := c.CreateMultipartUpload(x.ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		x.check(err, "CreateMultipartUpload")
		nums := make([]int, n)
		for i := range nums {
			nums[i] = i
		}
		err = forEach(nums, 4, func(i int) error {
			size := min(int64(partSize), bigSize-int64(i)*partSize)
			out, err := c.UploadPart(x.ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				Body: io.NewSectionReader(f, int64(i)*partSize, size), ContentLength: aws.Int64(size), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if err != nil {
				return fmt.Errorf("UploadPart %d: %w", i+1, err)
			}
			parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
			return nil
		})
		if err != nil {
			c.AbortMultipartUpload(x.ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId})
			x.fail("%v", err)
		}
		_, err = c.CompleteMultipartUpload(x.ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		x.check(err, "CompleteMultipartUpload")
	})
	x.mibps = &throughput{up: throughputOf(up), how: "UploadPart CRC32, 16 MiB parts, 4 goroutines"}
	x.verifyBig("big.bin", partSize, "CRC32")
	var got []byte
	x.mibps.down = throughputOf(timed(func() {
		out, err := c2.GetObject(x.ctx, &s3.GetObjectInput{Bucket: b, Key: k})
		x.check(err, "GetObject big.bin")
		defer out.Body.Close()
		h := sha256.New()
		_, err = io.Copy(h, out.Body)
		x.check(err, "reading big.bin")
		got = h.Sum(nil)
	}))
	if !bytes.Equal(got, x.fx.big.sha256[:]) {
		x.fail("GetObject big.bin: SHA-256 %x, want %x", got, x.fx.big.sha256)
	}
	x.remove("big.bin")
}
