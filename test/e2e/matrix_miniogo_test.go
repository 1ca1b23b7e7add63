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
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// minio-go, in process: path-style clients with trailing checksums
// (TrailingHeaders), so that uploads carry CRC32C trailers.

func minioGoSetup(*clientEnv) error { return nil }

func (x *cell) minio() (*minio.Client, *minio.Client) {
	x.t.Helper()
	mk := func(ep string) *minio.Client {
		c, err := minio.New(ep, &minio.Options{Creds: miniocreds.NewStaticV4(rootAK, rootSK, ""), Region: "us-east-1",
			BucketLookup: minio.BucketLookupPath, TrailingHeaders: true})
		x.check(err, "minio.New")
		return c
	}
	return mk(x.ep), mk(x.ep2)
}

// minioListing lists prefix non-recursively (delimiter "/").
func (x *cell) minioListing(c *minio.Client, opts minio.ListObjectsOptions) listing {
	x.t.Helper()
	var l listing
	for o := range c.ListObjects(x.ctx, x.bucket, opts) {
		x.check(o.Err, fmt.Sprintf("ListObjects %+v", opts))
		if strings.HasSuffix(o.Key, "/") {
			l.prefixes = append(l.prefixes, o.Key)
		} else {
			l.keys = append(l.keys, o.Key)
		}
	}
	return l
}

func minioGoClient() matrixClient {
	return matrixClient{
		name: "minio-go", short: "miniogo", setup: minioGoSetup,
		cells: map[string]func(*cell){
			"sync": func(x *cell) {
				c, c2 := x.minio()
				err := forEach(x.fx.treeRels, 8, func(rel string) error {
					_, err := c.FPutObject(x.ctx, x.bucket, "tree/"+rel, filepath.Join(x.fx.tree, filepath.FromSlash(rel)), minio.PutObjectOptions{})
					return err
				})
				x.check(err, "FPutObject of the tree")
				var keys []string
				for o := range c2.ListObjects(x.ctx, x.bucket, minio.ListObjectsOptions{Prefix: "tree/", Recursive: true, MaxKeys: 250}) {
					x.check(o.Err, "ListObjects tree/")
					keys = append(keys, o.Key)
				}
				if len(keys) != treeFiles {
					x.fail("ListObjects (recursive, pages of 250) found %d keys, want %d", len(keys), treeFiles)
				}
				dl := filepath.Join(x.dir, "dl")
				err = forEach(keys, 8, func(key string) error {
					return c2.FGetObject(x.ctx, x.bucket, key, filepath.Join(dl, filepath.FromSlash(strings.TrimPrefix(key, "tree/"))), minio.GetObjectOptions{})
				})
				x.check(err, "FGetObject of the tree")
				x.note("FPutObject, ListObjects pages of 250, FGetObject; 8 goroutines")
				x.verifyTree("tree/", dl)
			},
			"multipart": func(x *cell) {
				c, c2 := x.minio()
				f, err := os.Open(x.fx.big.path)
				x.check(err, "big file")
				defer f.Close()
				up := timed(func() {
					info, err := c.PutObject(x.ctx, x.bucket, "big.bin", f, bigSize, minio.PutObjectOptions{PartSize: 16 * mib, NumThreads: 4,
						Checksum: minio.ChecksumCRC32C, ContentType: "application/octet-stream"})
					x.check(err, "PutObject of 300 MiB in 16 MiB parts")
					if info.Size != bigSize {
						x.fail("PutObject: size %d", info.Size)
					}
				})
				x.mibps = &throughput{up: throughputOf(up), how: "PutObject Checksum=CRC32C, 16 MiB parts, NumThreads 4"}
				x.verifyBig("big.bin", 16*mib, "CRC32C")
				var sum []byte
				x.mibps.down = throughputOf(timed(func() {
					o, err := c2.GetObject(x.ctx, x.bucket, "big.bin", minio.GetObjectOptions{})
					x.check(err, "GetObject big.bin")
					defer o.Close()
					h := sha256.New()
					_, err = io.Copy(h, o)
					x.check(err, "reading big.bin")
					sum = h.Sum(nil)
				}))
				if !bytes.Equal(sum, x.fx.big.sha256[:]) {
					x.fail("GetObject big.bin: SHA-256 %x, want %x", sum, x.fx.big.sha256)
				}
				x.remove("big.bin")
			},
			"versioning": func(x *cell) {
				c, c2 := x.minio()
				x.check(c.EnableVersioning(x.ctx, x.bucket), "EnableVersioning")
				st, err := c.GetBucketVersioning(x.ctx, x.bucket)
				x.check(err, "GetBucketVersioning")
				if !st.Enabled() {
					x.fail("GetBucketVersioning: %+v, want Enabled", st)
				}
				x.propagated("versioning Enabled", func() (bool, string) {
					st, err := c2.GetBucketVersioning(x.ctx, x.bucket)
					x.check(err, "GetBucketVersioning")
					return st.Enabled(), st.Status
				})
				var ids []string
				for _, v := range []string{"v1", "v2"} {
					info, err := c.PutObject(x.ctx, x.bucket, "doc.txt", bytes.NewReader(x.fx.texts[v]), int64(len(x.fx.texts[v])), minio.PutObjectOptions{})
					x.check(err, "PutObject "+v)
					ids = append(ids, info.VersionID)
				}
				if ids[0] == "" || ids[0] == ids[1] {
					x.fail("PutObject twice in a versioned bucket: version ids %q", ids)
				}
				versions := func() (got []string, latest string) {
					for o := range c2.ListObjects(x.ctx, x.bucket, minio.ListObjectsOptions{Prefix: "doc.txt", WithVersions: true}) {
						x.check(o.Err, "ListObjects WithVersions")
						got = append(got, o.VersionID)
						if o.IsLatest {
							latest = o.VersionID
						}
					}
					return got, latest
				}
				if got, latest := versions(); !slices.Equal(got, []string{ids[1], ids[0]}) || latest != ids[1] {
					x.fail("ListObjects WithVersions after an overwrite: %q latest %q, want [%s %s] latest %s", got, latest, ids[1], ids[0], ids[1])
				}
				o, err := c2.GetObject(x.ctx, x.bucket, "doc.txt", minio.GetObjectOptions{VersionID: ids[0]})
				x.check(err, "GetObject VersionID")
				old, err := io.ReadAll(o)
				o.Close()
				x.check(err, "GetObject VersionID "+ids[0])
				if !bytes.Equal(old, x.fx.texts["v1"]) {
					x.fail("GetObject VersionID %s: %q", ids[0], old)
				}
				info, err := c.CopyObject(x.ctx, minio.CopyDestOptions{Bucket: x.bucket, Object: "doc.txt"},
					minio.CopySrcOptions{Bucket: x.bucket, Object: "doc.txt", VersionID: ids[0]})
				x.check(err, "CopyObject of the old version over the current one")
				if info.VersionID == "" || slices.Contains(ids, info.VersionID) {
					x.fail("CopyObject: new version id %q (old ones %q)", info.VersionID, ids)
				}
				x.wantBody("doc.txt", x.fx.texts["v1"])
				if got, latest := versions(); len(got) != 3 || latest != info.VersionID {
					x.fail("ListObjects WithVersions after the restore: %q latest %q, want 3 with %s latest", got, latest, info.VersionID)
				}
			},
			"presign": func(x *cell) {
				c, _ := x.minio()
				x.put("presign/get.txt", x.fx.texts["presign"])
				g, err := c.PresignedGetObject(x.ctx, x.bucket, "presign/get.txt", 10*time.Minute, nil)
				x.check(err, "PresignedGetObject")
				x.curlGet("PresignedGetObject", g.String(), x.fx.texts["presign"])
				x.curlDenied("PresignedGetObject", tamper(g.String()))
				p, err := c.PresignedPutObject(x.ctx, x.bucket, "presign/put.txt", 10*time.Minute)
				x.check(err, "PresignedPutObject")
				body := []byte("written through a minio-go presigned PUT\n")
				x.curlPut("PresignedPutObject", p.String(), body)
				x.wantBody("presign/put.txt", body)
				x.note("SigV4 GET and PUT URLs with curl; tampered URL refused")
			},
			"post": func(x *cell) {
				c, _ := x.minio()
				p := minio.NewPostPolicy()
				x.check(errors.Join(p.SetBucket(x.bucket), p.SetKey("post/minio.txt"), p.SetExpires(time.Now().Add(10*time.Minute)),
					p.SetContentType("text/plain"), p.SetContentLengthRange(1, mib), p.SetUserMetadata("origin", "minio-go")), "post policy")
				u, form, err := c.PresignedPostPolicy(x.ctx, p)
				x.check(err, "PresignedPostPolicy")
				body := []byte("uploaded with a minio-go POST policy\n")
				if code, resp := x.postForm(u.String(), form, "local.txt", body); code != 204 {
					x.fail("POST with the PresignedPostPolicy form: %d, want 204\n%s", code, clip(string(resp), 600))
				}
				x.wantBody("post/minio.txt", body)
				x.wantMeta("post/minio.txt", "text/plain", map[string]string{"origin": "minio-go"}, true)
				x.note("PresignedPostPolicy (SigV4) with Content-Type, metadata and content-length-range")
			},
			"copy": func(x *cell) {
				c, c2 := x.minio()
				_, err := c.PutObject(x.ctx, x.bucket, "copy/src.txt", bytes.NewReader(x.fx.texts["src"]), int64(len(x.fx.texts["src"])),
					minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"origin": "first"}})
				x.check(err, "PutObject copy/src.txt")
				_, err = c.CopyObject(x.ctx, minio.CopyDestOptions{Bucket: x.bucket, Object: "copy/dst.txt", ReplaceMetadata: true,
					UserMetadata: map[string]string{"color": "blue", "stage": "copied"}, ContentType: "application/x-strata-test"},
					minio.CopySrcOptions{Bucket: x.bucket, Object: "copy/src.txt"})
				x.check(err, "CopyObject ReplaceMetadata")
				st, err := c2.StatObject(x.ctx, x.bucket, "copy/dst.txt", minio.StatObjectOptions{})
				x.check(err, "StatObject copy/dst.txt")
				if st.ContentType != "application/x-strata-test" || st.UserMetadata["Color"] != "blue" || st.UserMetadata["Stage"] != "copied" {
					x.fail("StatObject of the copy: Content-Type %q metadata %v", st.ContentType, st.UserMetadata)
				}
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/dst.txt", "application/x-strata-test", map[string]string{"color": "blue", "stage": "copied"}, true)
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "first"}, true)
			},
			"list": func(x *cell) {
				c, c2 := x.minio()
				for _, rel := range listTreeFiles {
					_, err := c.FPutObject(x.ctx, x.bucket, "list/"+rel, filepath.Join(x.fx.listTree, rel), minio.PutObjectOptions{})
					x.check(err, "FPutObject list/"+rel)
				}
				x.wantListing("ListObjects Prefix=list/ MaxKeys=1", x.minioListing(c2, minio.ListObjectsOptions{Prefix: "list/", MaxKeys: 1}), wantListTop)
				x.wantListing("ListObjects (V1) Prefix=list/ MaxKeys=1", x.minioListing(c2, minio.ListObjectsOptions{Prefix: "list/", MaxKeys: 1, UseV1: true}), wantListTop)
				x.wantListing("ListObjects Prefix=list/b/", x.minioListing(c2, minio.ListObjectsOptions{Prefix: "list/b/"}), wantListB)
			},
		},
	}
}
