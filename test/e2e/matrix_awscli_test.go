package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The aws CLI, as two rows: the high-level `aws s3` commands (sync, cp,
// ls, presign) and the low-level `aws s3api` commands (one per S3
// operation).

// awsSetup checks the CLI and writes its configuration files: conf
// "config" (SigV2 presigned URLs, the CLI v1 default against a custom
// endpoint) and "config-v4" (signature_version = s3v4).
func awsSetup(x *clientEnv) error {
	if _, err := exec.LookPath("aws"); err != nil {
		return fmt.Errorf("the aws CLI is required (make test installs it): %w", err)
	}
	const s3conf = "[default]\nregion = us-east-1\ns3 =\n    max_concurrent_requests = 8\n    multipart_threshold = 16MB\n    multipart_chunksize = 16MB\n"
	x.conf["config"] = filepath.Join(x.dir, "aws-config")
	x.conf["config-v4"] = filepath.Join(x.dir, "aws-config-v4")
	if err := os.WriteFile(x.conf["config"], []byte(s3conf), 0o644); err != nil {
		return err
	}
	return os.WriteFile(x.conf["config-v4"], []byte(s3conf+"    signature_version = s3v4\n"), 0o644)
}

func awsEnv(config string) []string {
	return []string{"AWS_ACCESS_KEY_ID=" + rootAK, "AWS_SECRET_ACCESS_KEY=" + rootSK,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + config, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER="}
}

// aws runs the aws CLI against endpoint ep with the default configuration.
func (x *cell) aws(ep string, args ...string) string {
	x.t.Helper()
	return x.must(awsEnv(x.conf["config"]), "aws", append([]string{"--endpoint-url", "http://" + ep}, args...)...)
}

// awsJSON runs an aws s3api command and decodes its JSON output into v.
func (x *cell) awsJSON(ep string, v any, args ...string) {
	x.t.Helper()
	out := x.stdout(awsEnv(x.conf["config"]), "aws", append([]string{"--endpoint-url", "http://" + ep, "--output", "json"}, args...)...)
	if v == nil {
		return
	}
	if err := json.Unmarshal(out, v); err != nil {
		x.fail("aws %s: decoding the output: %v\n%s", strings.Join(args, " "), err, clip(string(out), 600))
	}
}

func countLines(out, prefix string) int {
	n := 0
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func awsS3Client() matrixClient {
	return matrixClient{
		name: "aws s3", short: "awss3", setup: awsSetup,
		na: map[string]string{
			"versioning": "the aws s3 commands have no versioning (aws s3api has)",
			"post":       "the aws CLI cannot make a presigned POST policy",
		},
		cells: map[string]func(*cell){
			"sync": func(x *cell) {
				dst := "s3://" + x.bucket + "/tree/"
				if n := countLines(x.aws(x.ep, "s3", "sync", x.fx.tree, dst, "--no-progress"), "upload: "); n != treeFiles {
					x.fail("aws s3 sync up: %d uploads, want %d", n, treeFiles)
				}
				// A second sync must find every object up to date (size and
				// Last-Modified as the CLI compares them).
				if n := countLines(x.aws(x.ep, "s3", "sync", x.fx.tree, dst, "--no-progress"), "upload: "); n != 0 {
					x.fail("second aws s3 sync up uploaded %d files again, want 0", n)
				}
				dl := filepath.Join(x.dir, "dl")
				if n := countLines(x.aws(x.ep2, "s3", "sync", dst, dl, "--no-progress"), "download: "); n != treeFiles {
					x.fail("aws s3 sync down: %d downloads, want %d", n, treeFiles)
				}
				x.verifyTree("tree/", dl)
			},
			"multipart": func(x *cell) {
				url := "s3://" + x.bucket + "/big.bin"
				up := timed(func() { x.aws(x.ep, "s3", "cp", x.fx.big.path, url, "--checksum-algorithm", "CRC32", "--no-progress") })
				x.mibps = &throughput{up: throughputOf(up), how: "aws s3 cp --checksum-algorithm CRC32, 16 MiB parts, 8 concurrent"}
				x.verifyBig("big.bin", 16*mib, "CRC32")
				dl := filepath.Join(x.dir, "big.bin")
				x.mibps.down = throughputOf(timed(func() { x.aws(x.ep2, "s3", "cp", url, dl, "--no-progress") }))
				x.wantBigFile(dl)
				os.Remove(dl)
				x.remove("big.bin")
			},
			"presign": func(x *cell) {
				x.put("presign/get.txt", x.fx.texts["presign"])
				for _, conf := range []string{"config", "config-v4"} {
					url := strings.TrimSpace(x.must(awsEnv(x.conf[conf]), "aws", "--endpoint-url", "http://"+x.ep,
						"s3", "presign", "s3://"+x.bucket+"/presign/get.txt", "--expires-in", "600"))
					what := "aws s3 presign (" + sigVersion(url) + ")"
					x.curlGet(what, url, x.fx.texts["presign"])
					x.curlDenied(what, tamper(url))
					x.note("%s URL read with curl; tampered URL refused", sigVersion(url))
				}
				x.scope = "GET"
				x.note("GET only: aws s3 presign cannot presign a PUT")
			},
			"copy": func(x *cell) {
				src := filepath.Join(x.dir, "src.txt")
				x.check(os.WriteFile(src, x.fx.texts["src"], 0o644), "writing src")
				b := "s3://" + x.bucket
				x.aws(x.ep, "s3", "cp", src, b+"/copy/src.txt", "--metadata", "origin=first", "--content-type", "text/plain")
				x.aws(x.ep, "s3", "cp", b+"/copy/src.txt", b+"/copy/dst.txt", "--metadata", "color=blue,stage=copied",
					"--metadata-directive", "REPLACE", "--content-type", "application/x-strata-test")
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/dst.txt", "application/x-strata-test", map[string]string{"color": "blue", "stage": "copied"}, true)
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "first"}, true)
			},
			"list": func(x *cell) {
				b := "s3://" + x.bucket
				x.aws(x.ep, "s3", "sync", x.fx.listTree, b+"/list/", "--no-progress")
				x.wantListing("aws s3 ls list/ --page-size 1", parseAWSLs(x.aws(x.ep2, "s3", "ls", b+"/list/", "--page-size", "1"), "list/"), wantListTop)
				x.wantListing("aws s3 ls list/b/", parseAWSLs(x.aws(x.ep2, "s3", "ls", b+"/list/b/"), "list/b/"), wantListB)
			},
		},
	}
}

// parseAWSLs reads `aws s3 ls s3://bucket/prefix` output: "PRE name/"
// lines are common prefixes, the others "date time size name".
func parseAWSLs(out, prefix string) listing {
	var l listing
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "PRE":
			l.prefixes = append(l.prefixes, prefix+f[1])
		case len(f) >= 4:
			l.keys = append(l.keys, prefix+strings.Join(f[3:], " "))
		}
	}
	return l
}

// s3apiListing is the JSON of list-objects(-v2) with a delimiter.
type s3apiListing struct {
	Contents       []struct{ Key string }
	CommonPrefixes []struct{ Prefix string }
}

func (s s3apiListing) listing() listing {
	var l listing
	for _, c := range s.Contents {
		l.keys = append(l.keys, c.Key)
	}
	for _, p := range s.CommonPrefixes {
		l.prefixes = append(l.prefixes, p.Prefix)
	}
	return l
}

type s3apiVersions struct {
	Versions []struct {
		Key, VersionId string
		IsLatest       bool
	}
	DeleteMarkers []struct{ Key, VersionId string }
}

func awsS3APIClient() matrixClient {
	return matrixClient{
		name: "aws s3api", short: "s3api", setup: awsSetup,
		na: map[string]string{
			"sync":    "aws s3api has no sync (aws s3 sync is the CLI's)",
			"presign": "aws s3api cannot presign (aws s3 presign is the CLI's)",
			"post":    "the aws CLI cannot make a presigned POST policy",
		},
		cells: map[string]func(*cell){
			"multipart": awsS3APIMultipart,
			"versioning": func(x *cell) {
				b := x.bucket
				x.awsJSON(x.ep, nil, "s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled")
				var st struct{ Status string }
				x.awsJSON(x.ep, &st, "s3api", "get-bucket-versioning", "--bucket", b)
				if st.Status != "Enabled" {
					x.fail("get-bucket-versioning: Status %q, want Enabled", st.Status)
				}
				x.propagated("versioning Enabled", func() (bool, string) {
					var st struct{ Status string }
					x.awsJSON(x.ep2, &st, "s3api", "get-bucket-versioning", "--bucket", b)
					return st.Status == "Enabled", st.Status
				})
				var ids []string
				for _, v := range []string{"v1", "v2"} {
					f := filepath.Join(x.dir, v)
					x.check(os.WriteFile(f, x.fx.texts[v], 0o644), "writing "+v)
					var out struct{ VersionId string }
					x.awsJSON(x.ep, &out, "s3api", "put-object", "--bucket", b, "--key", "doc.txt", "--body", f)
					ids = append(ids, out.VersionId)
				}
				if ids[0] == "" || ids[0] == ids[1] {
					x.fail("put-object twice in a versioned bucket: version ids %q", ids)
				}
				var vs s3apiVersions
				x.awsJSON(x.ep2, &vs, "s3api", "list-object-versions", "--bucket", b, "--prefix", "doc.txt")
				if len(vs.Versions) != 2 || !vs.Versions[0].IsLatest || vs.Versions[0].VersionId != ids[1] || vs.Versions[1].VersionId != ids[0] {
					x.fail("list-object-versions after an overwrite: %+v, want [%s (latest), %s]", vs.Versions, ids[1], ids[0])
				}
				old := filepath.Join(x.dir, "old")
				x.awsJSON(x.ep2, nil, "s3api", "get-object", "--bucket", b, "--key", "doc.txt", "--version-id", ids[0], old)
				if got, _ := os.ReadFile(old); string(got) != string(x.fx.texts["v1"]) {
					x.fail("get-object --version-id %s: %q, want %q", ids[0], got, x.fx.texts["v1"])
				}
				var cp struct{ VersionId, CopySourceVersionId string }
				x.awsJSON(x.ep, &cp, "s3api", "copy-object", "--bucket", b, "--key", "doc.txt", "--copy-source", b+"/doc.txt?versionId="+ids[0])
				if cp.VersionId == "" || slices.Contains(ids, cp.VersionId) || cp.CopySourceVersionId != ids[0] {
					x.fail("copy-object of version %s over the current one: VersionId %q CopySourceVersionId %q", ids[0], cp.VersionId, cp.CopySourceVersionId)
				}
				x.wantBody("doc.txt", x.fx.texts["v1"])
				x.awsJSON(x.ep2, &vs, "s3api", "list-object-versions", "--bucket", b, "--prefix", "doc.txt")
				if len(vs.Versions) != 3 || vs.Versions[0].VersionId != cp.VersionId || !vs.Versions[0].IsLatest {
					x.fail("list-object-versions after the restore: %+v, want 3 versions, %s latest", vs.Versions, cp.VersionId)
				}
			},
			"copy": func(x *cell) {
				b := x.bucket
				src := filepath.Join(x.dir, "src.txt")
				x.check(os.WriteFile(src, x.fx.texts["src"], 0o644), "writing src")
				x.awsJSON(x.ep, nil, "s3api", "put-object", "--bucket", b, "--key", "copy/src.txt", "--body", src,
					"--metadata", "origin=first", "--content-type", "text/plain")
				x.awsJSON(x.ep, nil, "s3api", "copy-object", "--bucket", b, "--key", "copy/dst.txt", "--copy-source", b+"/copy/src.txt",
					"--metadata-directive", "REPLACE", "--metadata", "color=blue,stage=copied", "--content-type", "application/x-strata-test")
				var h struct {
					ContentType string
					Metadata    map[string]string
				}
				x.awsJSON(x.ep2, &h, "s3api", "head-object", "--bucket", b, "--key", "copy/dst.txt")
				if h.ContentType != "application/x-strata-test" || len(h.Metadata) != 2 || h.Metadata["color"] != "blue" || h.Metadata["stage"] != "copied" {
					x.fail("head-object of the copy: %+v, want ContentType application/x-strata-test and Metadata map[color:blue stage:copied]", h)
				}
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "first"}, true)
				// Copying an object onto itself is how metadata is changed in
				// place; without REPLACE S3 refuses it (InvalidRequest).
				x.awsJSON(x.ep, nil, "s3api", "copy-object", "--bucket", b, "--key", "copy/src.txt", "--copy-source", b+"/copy/src.txt",
					"--metadata-directive", "REPLACE", "--metadata", "origin=second", "--content-type", "text/plain")
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "second"}, true)
				out, err := x.run(awsEnv(x.conf["config"]), "aws", "--endpoint-url", "http://"+x.ep, "s3api", "copy-object",
					"--bucket", b, "--key", "copy/src.txt", "--copy-source", b+"/copy/src.txt")
				if err == nil || !strings.Contains(out, "InvalidRequest") {
					x.fail("copy-object onto itself without REPLACE: err=%v, want InvalidRequest\n%s", err, clip(out, 600))
				}
			},
			"list": func(x *cell) {
				b := x.bucket
				for _, rel := range listTreeFiles {
					x.awsJSON(x.ep, nil, "s3api", "put-object", "--bucket", b, "--key", "list/"+rel, "--body", filepath.Join(x.fx.listTree, rel))
				}
				for _, op := range []string{"list-objects-v2", "list-objects"} {
					var l s3apiListing
					x.awsJSON(x.ep2, &l, "s3api", op, "--bucket", b, "--prefix", "list/", "--delimiter", "/", "--page-size", "1")
					x.wantListing("aws s3api "+op+" --prefix list/ --delimiter / --page-size 1", l.listing(), wantListTop)
				}
				var l s3apiListing
				x.awsJSON(x.ep2, &l, "s3api", "list-objects-v2", "--bucket", b, "--prefix", "list/b/", "--delimiter", "/")
				x.wantListing("aws s3api list-objects-v2 --prefix list/b/ --delimiter /", l.listing(), wantListB)
			},
		},
	}
}

// awsS3APIMultipart uploads the 300 MiB file with create-multipart-upload,
// upload-part (64 MiB parts, 3 at a time, each with its CRC32) and
// complete-multipart-upload, then reads it back with get-object.
func awsS3APIMultipart(x *cell) {
	const partSize = 64 * mib
	b, key := x.bucket, "big.bin"
	// upload-part takes a file per part.
	var files []string
	src, err := os.Open(x.fx.big.path)
	x.check(err, "opening the big file")
	for n := 1; ; n++ {
		p := filepath.Join(x.dir, "part"+strconv.Itoa(n))
		f, err := os.Create(p)
		x.check(err, "part file")
		w, err := io.CopyN(f, src, partSize)
		f.Close()
		if w == 0 {
			os.Remove(p)
			break
		}
		files = append(files, p)
		if err == io.EOF {
			break
		}
		x.check(err, "writing a part file")
	}
	src.Close()

	type part struct {
		ETag          string
		ChecksumCRC32 string `json:",omitempty"`
		PartNumber    int
	}
	parts := make([]part, len(files))
	var create struct{ UploadId string }
	up := timed(func() {
		x.awsJSON(x.ep, &create, "s3api", "create-multipart-upload", "--bucket", b, "--key", key, "--checksum-algorithm", "CRC32")
		var wg sync.WaitGroup
		errs := make([]string, len(files))
		sem := make(chan struct{}, 3)
		for i, f := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				args := []string{"--endpoint-url", "http://" + x.ep, "--output", "json", "s3api", "upload-part", "--bucket", b, "--key", key,
					"--upload-id", create.UploadId, "--part-number", strconv.Itoa(i + 1), "--body", f, "--checksum-algorithm", "CRC32"}
				cmd := exec.CommandContext(x.ctx, "aws", args...)
				cmd.Env = append(os.Environ(), awsEnv(x.conf["config"])...)
				out, err := cmd.Output()
				if err == nil {
					err = json.Unmarshal(out, &parts[i])
				}
				if err != nil {
					msg := err.Error()
					if ee, ok := err.(*exec.ExitError); ok {
						msg += "\n" + string(ee.Stderr)
					}
					errs[i] = fmt.Sprintf("upload-part %d: %s", i+1, clip(msg, 800))
				}
				parts[i].PartNumber = i + 1
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				x.fail("%s", e)
			}
		}
		var lp struct {
			Parts []struct{ PartNumber, Size int64 }
		}
		x.awsJSON(x.ep2, &lp, "s3api", "list-parts", "--bucket", b, "--key", key, "--upload-id", create.UploadId)
		if len(lp.Parts) != len(files) || lp.Parts[0].Size != partSize || lp.Parts[len(files)-1].PartNumber != int64(len(files)) {
			x.fail("list-parts: %+v, want %d parts of %d bytes (the last one smaller)", lp.Parts, len(files), partSize)
		}
		mp, _ := json.Marshal(map[string]any{"Parts": parts})
		mpFile := filepath.Join(x.dir, "parts.json")
		x.check(os.WriteFile(mpFile, mp, 0o644), "parts.json")
		x.awsJSON(x.ep, nil, "s3api", "complete-multipart-upload", "--bucket", b, "--key", key,
			"--upload-id", create.UploadId, "--multipart-upload", "file://"+mpFile)
	})
	for _, f := range files {
		os.Remove(f)
	}
	x.mibps = &throughput{up: throughputOf(up), how: "create-multipart-upload + upload-part x5 (64 MiB, 3 processes at a time, CRC32) + complete"}
	x.verifyBig(key, partSize, "CRC32")
	dl := filepath.Join(x.dir, "big.bin")
	x.mibps.down = throughputOf(timed(func() { x.awsJSON(x.ep2, nil, "s3api", "get-object", "--bucket", b, "--key", key, dl) }))
	x.wantBigFile(dl)
	os.Remove(dl)
	x.remove(key)
}
