package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// boto3: every workflow is a function of testdata/boto3_matrix.py; the Go
// side runs it, decodes what it prints and checks the result with curl and
// the checker client.

// boto3Setup finds a Python with boto3: python3 on the PATH, else the
// system one (scripts/test-deps.sh installs python3-boto3 when neither
// has it).
func boto3Setup(x *clientEnv) error {
	script, err := filepath.Abs(filepath.Join("testdata", "boto3_matrix.py"))
	if err != nil {
		return err
	}
	x.conf["script"] = script
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if err := exec.Command(py, "-c", "import boto3").Run(); err == nil {
			x.conf["python"] = py
			return nil
		}
	}
	return errors.New("no python3 with boto3 (make test installs python3-boto3)")
}

// boto3 runs a workflow of the script and decodes its JSON output into v.
func (x *cell) boto3(v any, workflow string, args ...string) {
	x.t.Helper()
	out := x.stdout(awsEnv("/dev/null"), x.conf["python"],
		append([]string{x.conf["script"], workflow, "http://" + x.ep, "http://" + x.ep2, x.bucket}, args...)...)
	if err := json.Unmarshal(out, v); err != nil {
		x.fail("boto3 %s: decoding the output: %v\n%s", workflow, err, clip(string(out), 600))
	}
}

func boto3Client() matrixClient {
	return matrixClient{
		name: "boto3", short: "boto3", setup: boto3Setup,
		cells: map[string]func(*cell){
			"sync": func(x *cell) {
				dl := filepath.Join(x.dir, "dl")
				var out struct{ Uploaded, Listed int }
				x.boto3(&out, "sync", x.fx.tree, dl)
				if out.Uploaded != treeFiles || out.Listed != treeFiles {
					x.fail("boto3 uploaded %d files and listed %d keys, want %d", out.Uploaded, out.Listed, treeFiles)
				}
				x.note("upload_file, list_objects_v2 pages of 250, download_file; 8 threads")
				x.verifyTree("tree/", dl)
			},
			"multipart": func(x *cell) {
				dl := filepath.Join(x.dir, "big.bin")
				var out struct {
					UploadS   float64 `json:"upload_s"`
					DownloadS float64 `json:"download_s"`
				}
				x.boto3(&out, "multipart", x.fx.big.path, dl)
				x.mibps = &throughput{up: throughputOf(out.UploadS), down: throughputOf(out.DownloadS),
					how: "upload_file ChecksumAlgorithm=CRC32, 16 MiB parts, 4 threads"}
				x.verifyBig("big.bin", 16*mib, "CRC32")
				x.wantBigFile(dl)
				os.Remove(dl)
				x.remove("big.bin")
			},
			"versioning": func(x *cell) {
				v1, v2 := filepath.Join(x.dir, "v1"), filepath.Join(x.dir, "v2")
				x.check(os.WriteFile(v1, x.fx.texts["v1"], 0o644), "v1")
				x.check(os.WriteFile(v2, x.fx.texts["v2"], 0o644), "v2")
				var out struct {
					Versions     []string
					PropagationS float64 `json:"propagation_s"`
				}
				x.boto3(&out, "versioning", v1, v2)
				x.note("versioning Enabled seen through the other node after %.2fs", out.PropagationS)
				x.wantBody("doc.txt", x.fx.texts["v1"])
			},
			"presign": func(x *cell) {
				x.put("presign/get.txt", x.fx.texts["presign"])
				var out map[string]struct{ Get, Put string }
				x.boto3(&out, "presign")
				for _, name := range []string{"default", "s3v4"} {
					u := out[name]
					what := "boto3 generate_presigned_url (" + name + " config, " + sigVersion(u.Get) + ")"
					x.curlGet(what, u.Get, x.fx.texts["presign"])
					x.curlDenied(what, tamper(u.Get))
					body := []byte("written through a presigned PUT URL, " + name + "\n")
					x.curlPut(what, u.Put, body)
					x.wantBody("presign/put-"+name+".txt", body)
					x.note("%s config: %s URLs, GET and PUT with curl; tampered URL refused", name, sigVersion(u.Put))
				}
			},
			"post": func(x *cell) {
				var out map[string]struct {
					URL    string
					Fields map[string]string
				}
				x.boto3(&out, "post")
				v4 := out["v4"]
				body := []byte("uploaded with a boto3 SigV4 POST policy\n")
				code, resp := x.postForm(v4.URL, v4.Fields, "local-name.txt", body)
				if code != 201 || !strings.Contains(string(resp), "<Key>post/boto3-v4.txt</Key>") || !strings.Contains(string(resp), "<ETag>") {
					x.fail("POST with a SigV4 policy and success_action_status 201: %d\n%s", code, clip(string(resp), 600))
				}
				x.wantBody("post/boto3-v4.txt", body)
				x.wantMeta("post/boto3-v4.txt", "text/plain", map[string]string{"origin": "boto3"}, true)
				// The policy is signed: changing a field it pins is refused.
				bad := map[string]string{}
				for k, v := range v4.Fields {
					bad[k] = v
				}
				bad["x-amz-meta-origin"] = "someone-else"
				if code, resp := x.postForm(v4.URL, bad, "local-name.txt", body); code != 403 {
					x.fail("POST with a field the policy does not allow: %d, want 403\n%s", code, clip(string(resp), 600))
				}
				if code, resp := x.postForm(v4.URL, v4.Fields, "too-big.bin", make([]byte, mib+1)); code != 400 || !strings.Contains(string(resp), "EntityTooLarge") {
					x.fail("POST of 1 MiB + 1 with content-length-range 1..1 MiB: %d, want 400 EntityTooLarge\n%s", code, clip(string(resp), 600))
				}
				v2 := out["v2"]
				body = []byte("uploaded with a boto3 SigV2 POST policy\n")
				if code, resp := x.postForm(v2.URL, v2.Fields, "hello.txt", body); code != 204 {
					x.fail("POST with a SigV2 policy and key post/v2/${filename}: %d, want 204\n%s", code, clip(string(resp), 600))
				}
				x.wantBody("post/v2/hello.txt", body)
				x.note("SigV4 policy (201 + XML, metadata, content-length-range, tampered field refused) and SigV2 policy with ${filename}")
			},
			"copy": func(x *cell) {
				src := filepath.Join(x.dir, "src.txt")
				x.check(os.WriteFile(src, x.fx.texts["src"], 0o644), "src")
				var out map[string]any
				x.boto3(&out, "copy", src)
				x.wantBody("copy/dst.txt", x.fx.texts["src"])
				x.wantMeta("copy/dst.txt", "application/x-strata-test", map[string]string{"color": "blue", "stage": "copied"}, true)
				x.wantMeta("copy/src.txt", "text/plain", map[string]string{"origin": "second"}, true)
			},
			"list": func(x *cell) {
				type l struct{ Keys, Prefixes []string }
				var out map[string]l
				x.boto3(&out, "list", x.fx.listTree)
				x.wantListing("boto3 list_objects_v2 Delimiter=/ PageSize=1", listing{out["v2"].Keys, out["v2"].Prefixes}, wantListTop)
				x.wantListing("boto3 list_objects Delimiter=/ PageSize=1", listing{out["v1"].Keys, out["v1"].Prefixes}, wantListTop)
				x.wantListing("boto3 list_objects_v2 Prefix=list/b/", listing{out["b"].Keys, out["b"].Prefixes}, wantListB)
			},
		},
	}
}
