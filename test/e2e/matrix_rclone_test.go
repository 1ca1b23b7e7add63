package e2e

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// rclone (the Debian package, 1.60): two remotes defined in the
// environment, "strata" on the cell's first endpoint and "strata2" on the
// second.

func rcloneSetup(x *clientEnv) error {
	if _, err := exec.LookPath("rclone"); err != nil {
		return fmt.Errorf("rclone is required (make test installs it): %w", err)
	}
	conf := filepath.Join(x.dir, "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		return err
	}
	x.conf["rclone.conf"] = conf
	return nil
}

func (x *cell) rcloneEnv() []string {
	// AWS_CA_BUNDLE (set on some machines for HTTPS proxies) makes rclone's
	// S3 SDK fail to build its HTTP client; the endpoints are plain HTTP.
	env := []string{"RCLONE_CONFIG=" + x.conf["rclone.conf"], "AWS_CA_BUNDLE="}
	for name, ep := range map[string]string{"STRATA": x.ep, "STRATA2": x.ep2} {
		p := "RCLONE_CONFIG_" + name + "_"
		env = append(env, p+"TYPE=s3", p+"PROVIDER=Other", p+"ENV_AUTH=false",
			p+"ACCESS_KEY_ID="+rootAK, p+"SECRET_ACCESS_KEY="+rootSK,
			p+"ENDPOINT=http://"+ep, p+"REGION=us-east-1", p+"FORCE_PATH_STYLE=true", p+"NO_CHECK_BUCKET=true")
	}
	return env
}

// rclone runs rclone with the cell's remotes; a failure is not retried as
// a whole (--retries 1), so it shows.
func (x *cell) rclone(args ...string) string {
	x.t.Helper()
	return x.must(x.rcloneEnv(), "rclone", append([]string{"--retries", "1"}, args...)...)
}

func rcloneClient() matrixClient {
	return matrixClient{
		name: "rclone", short: "rclone", setup: rcloneSetup,
		na: map[string]string{
			"post": "rclone has no presigned POST",
		},
		cells: map[string]func(*cell){
			"sync": func(x *cell) {
				dst := "strata:" + x.bucket + "/tree"
				if n := strings.Count(x.rclone("sync", x.fx.tree, dst, "--transfers", "8", "--checkers", "8", "-v"), "Copied (new)"); n != treeFiles {
					x.fail("rclone sync up: %d files copied, want %d", n, treeFiles)
				}
				// Size and modification time (rclone's mtime metadata) must
				// make a second sync a no-op.
				if out := x.rclone("sync", x.fx.tree, dst, "--transfers", "8", "--checkers", "8", "-v"); strings.Contains(out, "Copied") || strings.Contains(out, "Updated") {
					x.fail("second rclone sync up changed files:\n%s", clip(out, 1500))
				}
				dl := filepath.Join(x.dir, "dl")
				if n := strings.Count(x.rclone("sync", "strata2:"+x.bucket+"/tree", dl, "--transfers", "8", "--checkers", "8", "-v"), "Copied (new)"); n != treeFiles {
					x.fail("rclone sync down: %d files copied, want %d", n, treeFiles)
				}
				// rclone check compares the MD5s (the ETags) with the local files.
				x.rclone("check", x.fx.tree, "strata2:"+x.bucket+"/tree", "--checkers", "8")
				x.note("sync up twice (second one a no-op), sync down, rclone check (MD5 = ETag)")
				x.verifyTree("tree/", dl)
			},
			"multipart": func(x *cell) {
				obj := x.bucket + "/big.bin"
				up := timed(func() {
					x.rclone("copyto", x.fx.big.path, "strata:"+obj, "--s3-upload-cutoff", "16M", "--s3-chunk-size", "16M", "--s3-upload-concurrency", "4")
				})
				x.mibps = &throughput{up: throughputOf(up), how: "rclone copyto, 16 MiB parts (Content-MD5 each), 4 concurrent"}
				x.verifyBig("big.bin", 16*mib, "")
				// rclone keeps the MD5 of a multipart upload in metadata.
				if sum := strings.Fields(x.rclone("md5sum", "strata2:"+obj)); len(sum) == 0 || sum[0] != hex.EncodeToString(x.fx.big.md5[:]) {
					x.fail("rclone md5sum: %q, want %x", sum, x.fx.big.md5)
				}
				dl := filepath.Join(x.dir, "big.bin")
				x.mibps.down = throughputOf(timed(func() { x.rclone("copyto", "strata2:"+obj, dl) }))
				x.mibps.how += "; download in 4 ranged streams"
				x.wantBigFile(dl)
				os.Remove(dl)
				x.remove("big.bin")
			},
			"versioning": func(x *cell) {
				b := "strata:" + x.bucket
				if out := strings.TrimSpace(x.rclone("backend", "versioning", b, "Enabled")); out != "Enabled" {
					x.fail("rclone backend versioning Enabled: %q", out)
				}
				x.propagated("versioning Enabled", func() (bool, string) {
					out := strings.TrimSpace(x.rclone("backend", "versioning", "strata2:"+x.bucket))
					return out == "Enabled", out
				})
				for _, v := range []string{"v1", "v2"} {
					f := filepath.Join(x.dir, v)
					x.check(os.WriteFile(f, x.fx.texts[v], 0o644), v)
					x.rclone("copyto", f, b+"/doc.txt")
				}
				names := strings.Fields(x.rclone("lsf", "--s3-versions", "strata2:"+x.bucket))
				old := ""
				for _, n := range names {
					if strings.HasPrefix(n, "doc-v") && strings.HasSuffix(n, ".txt") {
						old = n
					}
				}
				if len(names) != 2 || old == "" {
					x.fail("rclone lsf --s3-versions after an overwrite: %q, want doc.txt and doc-v<time>.txt", names)
				}
				if got := x.rclone("cat", "--s3-versions", "strata2:"+x.bucket+"/"+old); got != string(x.fx.texts["v1"]) {
					x.fail("rclone cat --s3-versions %s: %q", old, got)
				}
				// Restore: a server-side copy of the old version (rclone sends
				// its versionId in x-amz-copy-source) over the current one.
				x.rclone("copyto", "--s3-versions", b+"/"+old, b+"/doc.txt")
				if got := x.rclone("cat", "strata2:"+x.bucket+"/doc.txt"); got != string(x.fx.texts["v1"]) {
					x.fail("rclone cat doc.txt after the restore: %q", got)
				}
				x.wantBody("doc.txt", x.fx.texts["v1"])
				if n := x.versionCount("doc.txt"); n != 3 {
					x.fail("checker: %d versions of doc.txt after the restore, want 3", n)
				}
			},
			"presign": func(x *cell) {
				x.put("presign/get.txt", x.fx.texts["presign"])
				url := strings.TrimSpace(x.rclone("link", "--expire", "10m", "strata:"+x.bucket+"/presign/get.txt"))
				x.curlGet("rclone link", url, x.fx.texts["presign"])
				x.curlDenied("rclone link", tamper(url))
				x.scope = "GET"
				x.note("GET only: rclone link makes %s GET URLs, it has no presigned PUT", sigVersion(url))
			},
			"copy": func(x *cell) {
				src := filepath.Join(x.dir, "src.txt")
				x.check(os.WriteFile(src, x.fx.texts["src"], 0o644), "src")
				b := "strata:" + x.bucket
				x.rclone("copyto", "-M", "--metadata-set", "origin=first", "--metadata-set", "content-type=text/plain", src, b+"/copy/src.txt")
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "first"}, false)
				// rclone 1.60 copies server-side with x-amz-metadata-directive
				// COPY (it ignores --metadata-set there): the server must carry
				// the metadata over.
				x.rclone("copyto", "-M", b+"/copy/src.txt", b+"/copy/dst.txt")
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/dst.txt", "text/plain", map[string]string{"origin": "first"}, false)
				// New metadata: rclone touch of an existing object copies it
				// onto itself with REPLACE and a new mtime (981173106).
				x.rclone("touch", "-t", "2001-02-03T04:05:06", b+"/copy/dst.txt")
				x.wantMeta("copy/dst.txt", "", map[string]string{"origin": "first", "mtime": "981173106"}, false)
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				var ls []struct {
					ModTime  string
					Metadata map[string]string
				}
				x.check(json.Unmarshal([]byte(x.rclone("lsjson", "-M", "strata2:"+x.bucket+"/copy/dst.txt")), &ls), "rclone lsjson -M")
				if len(ls) != 1 || !strings.HasPrefix(ls[0].ModTime, "2001-02-03T04:05:06") || ls[0].Metadata["origin"] != "first" {
					x.fail("rclone lsjson -M of the copy: %+v", ls)
				}
				x.note("server-side copy with COPY (metadata carried over), then rclone touch: self-copy with REPLACE and a new mtime")
			},
			"list": func(x *cell) {
				x.rclone("copy", x.fx.listTree, "strata:"+x.bucket+"/list")
				l := rcloneListing(x.rclone("lsf", "--s3-list-chunk", "1", "strata2:"+x.bucket+"/list"), "list/")
				x.wantListing("rclone lsf --s3-list-chunk 1 list", l, wantListTop)
				x.wantListing("rclone lsf list/b", rcloneListing(x.rclone("lsf", "strata2:"+x.bucket+"/list/b"), "list/b/"), wantListB)
			},
		},
	}
}

// rcloneListing reads `rclone lsf` output: names ending in "/" are
// folders (common prefixes).
func rcloneListing(out, prefix string) listing {
	var l listing
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
		case strings.HasSuffix(line, "/"):
			l.prefixes = append(l.prefixes, prefix+line)
		default:
			l.keys = append(l.keys, prefix+line)
		}
	}
	return l
}
