package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// s3cmd (the Debian package, 2.3): SigV4, path style, one configuration
// file per endpoint.

func s3cmdSetup(x *clientEnv) error {
	if _, err := exec.LookPath("s3cmd"); err != nil {
		return fmt.Errorf("s3cmd is required (make test installs it): %w", err)
	}
	for name, ep := range map[string]string{"s3cfg": x.ep, "s3cfg2": x.ep2} {
		conf := fmt.Sprintf("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %s\n"+
			"use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\nprogress_meter = False\nmax_retries = 2\n",
			rootAK, rootSK, ep, ep)
		x.conf[name] = filepath.Join(x.dir, name)
		if err := os.WriteFile(x.conf[name], []byte(conf), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// s3cmd runs s3cmd with configuration conf ("s3cfg" or "s3cfg2").
func (x *cell) s3cmd(conf string, args ...string) string {
	x.t.Helper()
	return x.must([]string{"HOME=" + x.dir}, "s3cmd", append([]string{"-c", x.conf[conf]}, args...)...)
}

func s3cmdClient() matrixClient {
	return matrixClient{
		name: "s3cmd", short: "s3cmd", setup: s3cmdSetup,
		na: map[string]string{
			"versioning": "s3cmd 2.3 has no bucket versioning commands",
			"post":       "s3cmd has no presigned POST",
		},
		cells: map[string]func(*cell){
			"sync": func(x *cell) {
				dst := "s3://" + x.bucket + "/tree/"
				if n := countLines(x.s3cmd("s3cfg", "sync", x.fx.tree+"/", dst), "upload: "); n != treeFiles {
					x.fail("s3cmd sync up: %d uploads, want %d", n, treeFiles)
				}
				// s3cmd compares size and MD5 (the ETag): nothing to upload.
				if n := countLines(x.s3cmd("s3cfg", "sync", x.fx.tree+"/", dst), "upload: "); n != 0 {
					x.fail("second s3cmd sync up uploaded %d files again, want 0", n)
				}
				dl := filepath.Join(x.dir, "dl")
				if n := countLines(x.s3cmd("s3cfg2", "sync", dst, dl+"/"), "download: "); n != treeFiles {
					x.fail("s3cmd sync down: %d downloads, want %d", n, treeFiles)
				}
				x.note("one request at a time (s3cmd has no parallelism)")
				x.verifyTree("tree/", dl)
			},
			"multipart": func(x *cell) {
				url := "s3://" + x.bucket + "/big.bin"
				up := timed(func() { x.s3cmd("s3cfg", "put", x.fx.big.path, url, "--multipart-chunk-size-mb=16") })
				x.mibps = &throughput{up: throughputOf(up), how: "s3cmd put, 16 MiB parts (Content-MD5 each), one at a time"}
				x.verifyBig("big.bin", 16*mib, "")
				dl := filepath.Join(x.dir, "big.bin")
				x.mibps.down = throughputOf(timed(func() { x.s3cmd("s3cfg2", "get", url, dl) }))
				x.wantBigFile(dl)
				os.Remove(dl)
				x.remove("big.bin")
			},
			"presign": func(x *cell) {
				x.put("presign/get.txt", x.fx.texts["presign"])
				url := strings.TrimSpace(x.s3cmd("s3cfg", "signurl", "s3://"+x.bucket+"/presign/get.txt", "+600"))
				x.curlGet("s3cmd signurl", url, x.fx.texts["presign"])
				x.curlDenied("s3cmd signurl", tamper(url))
				x.scope = "GET"
				x.note("GET only: s3cmd signurl makes %s GET URLs, it cannot presign a PUT", sigVersion(url))
			},
			"copy": func(x *cell) {
				src := filepath.Join(x.dir, "src.txt")
				x.check(os.WriteFile(src, x.fx.texts["src"], 0o644), "src")
				b := "s3://" + x.bucket
				x.s3cmd("s3cfg", "put", src, b+"/copy/src.txt", "--no-guess-mime-type", "--mime-type=text/plain", "--add-header=x-amz-meta-origin:first")
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "first"}, false)
				// s3cmd cp with new headers copies with REPLACE; it carries
				// the source's own metadata over as well.
				x.s3cmd("s3cfg", "cp", b+"/copy/src.txt", b+"/copy/dst.txt", "--no-guess-mime-type", "--mime-type=application/x-strata-test",
					"--add-header=x-amz-meta-color:blue", "--add-header=x-amz-meta-stage:copied")
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/dst.txt", "application/x-strata-test", map[string]string{"color": "blue", "stage": "copied"}, false)
				// s3cmd modify: a copy of the object onto itself with REPLACE.
				x.s3cmd("s3cfg", "modify", b+"/copy/src.txt", "--add-header=x-amz-meta-origin:second")
				x.wantMeta("copy/src.txt", "", map[string]string{"origin": "second"}, false)
				x.wantBody("copy/src.txt", x.fx.texts["src"])
			},
			"list": func(x *cell) {
				b := "s3://" + x.bucket
				x.s3cmd("s3cfg", "sync", x.fx.listTree+"/", b+"/list/")
				x.wantListing("s3cmd ls list/", s3cmdListing(x.s3cmd("s3cfg2", "ls", b+"/list/"), b+"/"), wantListTop)
				x.wantListing("s3cmd ls list/b/", s3cmdListing(x.s3cmd("s3cfg2", "ls", b+"/list/b/"), b+"/"), wantListB)
			},
		},
	}
}

// s3cmdListing reads `s3cmd ls` output: "DIR s3://bucket/prefix/" lines
// are common prefixes, the others "date time size s3://bucket/key".
func s3cmdListing(out, base string) listing {
	var l listing
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[len(f)-1], base) {
			continue
		}
		name := strings.TrimPrefix(f[len(f)-1], base)
		if f[len(f)-2] == "DIR" {
			l.prefixes = append(l.prefixes, name)
		} else {
			l.keys = append(l.keys, name)
		}
	}
	return l
}
