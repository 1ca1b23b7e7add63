package sigv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Real Signature Version 2 clients: boto3 (signature_version "s3", and
// its default for presigned URLs against a custom endpoint) and the aws
// CLI v1 ("aws s3 presign"), against a server that verifies with sigv.

// clientEnv is the environment of a Python or aws CLI client: the test
// credentials, and nothing of the machine's AWS configuration.
func clientEnv() []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + testAK,
		"AWS_SECRET_ACCESS_KEY=" + testSecret,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=", "no_proxy=",
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && !strings.EqualFold(k, "no_proxy") &&
			!strings.EqualFold(k, "http_proxy") && !strings.EqualFold(k, "https_proxy") {
			env = append(env, kv)
		}
	}
	return env
}

// needBoto3 skips the test when python3 with boto3 is not installed.
func needBoto3(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
}

// boto3Script makes header-signed calls with signature_version "s3" (each
// may fail on the test server's empty answers: the server's record is what
// counts), then prints presigned URLs, one "METHOD URL" per line. argv:
// endpoint, addressing style ("path" or "virtual": the client then talks
// to http://s3.strata.test through the server as its proxy).
const boto3Script = `
import sys, boto3
from botocore.config import Config
ep, style = sys.argv[1], sys.argv[2]
kw = dict(signature_version='s3', s3={'addressing_style': style}, retries={'max_attempts': 1})
endpoint = ep
if style == 'virtual':
    kw['proxies'] = {'http': ep}
    endpoint = 'http://s3.strata.test'
c = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', config=Config(**kw))
key = 'dir/a b+c=ü~!*(1).txt'
calls = [
    lambda: c.put_object(Bucket='bkt', Key=key, Body=b'hello', ContentType='text/plain',
                         Metadata={'Color': 'blue', 'n': '1'}, ACL='public-read', Tagging='a=b&c=d',
                         CacheControl='no-cache'),
    lambda: c.get_object(Bucket='bkt', Key=key, Range='bytes=0-1', ResponseContentType='text/x; y=1',
                         ResponseCacheControl='max-age=1', VersionId='v+1/2='),
    lambda: c.head_object(Bucket='bkt', Key=key),
    lambda: c.delete_object(Bucket='bkt', Key=key, VersionId='v1'),
    lambda: c.get_object_acl(Bucket='bkt', Key=key),
    lambda: c.get_object_tagging(Bucket='bkt', Key=key),
    lambda: c.put_object_tagging(Bucket='bkt', Key=key, Tagging={'TagSet': [{'Key': 'k', 'Value': 'v'}]}),
    lambda: c.create_multipart_upload(Bucket='bkt', Key=key),
    lambda: c.upload_part(Bucket='bkt', Key=key, UploadId='u/1+2', PartNumber=3, Body=b'part'),
    lambda: c.list_objects(Bucket='bkt', Prefix='dir/', Marker='a b', Delimiter='/'),
    lambda: c.list_object_versions(Bucket='bkt', Prefix='p'),
    lambda: c.get_bucket_location(Bucket='bkt'),
    lambda: c.get_bucket_versioning(Bucket='bkt'),
    lambda: c.delete_objects(Bucket='bkt', Delete={'Objects': [{'Key': 'x'}, {'Key': 'y'}]}),
    lambda: c.copy_object(Bucket='bkt', Key='copy', CopySource={'Bucket': 'bkt', 'Key': key}),
    lambda: c.list_buckets(),
]
for call in calls:
    try:
        call()
    except Exception as e:
        print('call failed:', type(e).__name__, e, file=sys.stderr)
print('CALLS', len(calls))
p = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1',
                 config=Config(signature_version='s3', s3={'addressing_style': style}))
d = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', config=Config(s3={'addressing_style': style}))
for client in (p, d):
    print('GET', client.generate_presigned_url('get_object', Params={'Bucket': 'bkt', 'Key': key}))
    print('GET', client.generate_presigned_url('get_object', Params={'Bucket': 'bkt', 'Key': key,
          'ResponseContentType': 'text/plain; charset=utf-8', 'ResponseContentDisposition': 'attachment; filename="x y"', 'VersionId': 'v+1'}))
    print('PUT', client.generate_presigned_url('put_object', Params={'Bucket': 'bkt', 'Key': key,
          'ContentType': 'text/plain', 'Metadata': {'a': 'b c'}}))
    print('DELETE', client.generate_presigned_url('delete_object', Params={'Bucket': 'bkt', 'Key': key}))
    print('GET', client.generate_presigned_url('list_objects', Params={'Bucket': 'bkt', 'Prefix': 'a b'}))
print('EXPIRED', p.generate_presigned_url('get_object', Params={'Bucket': 'bkt', 'Key': key}, ExpiresIn=-10))
`

func TestV2Boto3(t *testing.T) {
	needBoto3(t)
	for _, style := range []string{"path", "virtual"} {
		t.Run(style, func(t *testing.T) {
			srv := newVerifyServer(t, false, testCreds)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "python3", "-c", boto3Script, srv.URL, style)
			cmd.Env = clientEnv()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("boto3: %v\n%s", err, stderr.String())
			}
			t.Logf("boto3 stderr:\n%s", stderr.String())

			calls := srv.all()
			if len(calls) < 16 {
				t.Fatalf("the server saw %d requests, want at least 16\n%s", len(calls), out)
			}
			vhosted := 0 // GetBucketLocation and ListBuckets stay path-style
			for _, c := range calls {
				if c.err != nil {
					t.Errorf("%s %s?%s: %v", c.method, c.path, c.query, c.err)
					continue
				}
				if c.auth.SignatureVersion != 2 || c.auth.AccessKey != testAK || c.auth.Presigned {
					t.Errorf("%s %s?%s: auth %+v", c.method, c.path, c.query, c.auth)
				}
				if c.host == "bkt."+vhostDomain {
					vhosted++
				}
				if c.method == http.MethodPut && strings.Contains(c.query, "partNumber") && string(c.body) != "part" {
					t.Errorf("UploadPart body %q", c.body)
				}
			}

			if style == "virtual" && vhosted < len(calls)-2 {
				t.Errorf("%d of %d requests virtual-hosted", vhosted, len(calls))
			}

			client := srv.Client()
			if style == "virtual" {
				proxy, _ := url.Parse(srv.URL)
				client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			urls := 0
			for sc.Scan() {
				method, u, ok := strings.Cut(sc.Text(), " ")
				if !ok || method == "CALLS" {
					continue
				}
				expired := method == "EXPIRED"
				if expired {
					method = http.MethodGet
				}
				urls++
				var body io.Reader
				if method == http.MethodPut {
					body = strings.NewReader("presigned body")
				}
				req, err := http.NewRequest(method, u, body)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := srv.last(t)
				switch {
				case expired:
					if !errors.Is(got.err, ErrPresignExpired) {
						t.Errorf("expired URL %s: %v", u, got.err)
					}
				case got.err != nil:
					t.Errorf("%s %s: %v", method, u, got.err)
				case !got.auth.Presigned || got.auth.AccessKey != testAK || got.auth.SignatureVersion == 0:
					t.Errorf("%s %s: auth %+v", method, u, got.auth)
				case method == http.MethodPut && string(got.body) != "presigned body":
					t.Errorf("%s %s: body %q", method, u, got.body)
				}
				if got.err == nil && strings.Contains(u, "AWSAccessKeyId=") != (got.auth.SignatureVersion == 2) {
					t.Errorf("%s: signature version %d", u, got.auth.SignatureVersion)
				}
				if style == "virtual" && got.host != "bkt."+vhostDomain {
					t.Errorf("%s: host %q, want the virtual host", u, got.host)
				}
			}
			if urls != 11 {
				t.Fatalf("%d presigned URLs, want 11:\n%s", urls, out)
			}
		})
	}
}

// The aws CLI v1 presigns with Signature Version 2 against a custom
// endpoint.
func TestV2AWSCLIPresign(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	srv := newVerifyServer(t, false, testCreds)
	for _, key := range []string{"plain.txt", "dir/a b+c=ü~!*'().txt", "100%"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "aws", "s3", "presign", "s3://bkt/"+key, "--endpoint-url", srv.URL, "--expires-in", "300")
		cmd.Env = clientEnv()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("aws s3 presign: %v\n%s", err, stderr.String())
		}
		u := strings.TrimSpace(string(out))
		if !strings.Contains(u, "AWSAccessKeyId=") {
			t.Logf("the CLI presigned with Signature Version 4: %s", u)
		}
		resp, err := srv.Client().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := srv.last(t)
		if got.err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", u, resp.StatusCode, got.err)
		}
		if !got.auth.Presigned || got.auth.AccessKey != testAK {
			t.Fatalf("%s: auth %+v", u, got.auth)
		}
		if strings.Contains(u, "AWSAccessKeyId=") && got.auth.SignatureVersion != 2 {
			t.Fatalf("%s: signature version %d", u, got.auth.SignatureVersion)
		}
		// The URL is refused once changed.
		resp, err = srv.Client().Get(strings.Replace(u, "bkt", "bkx", 1))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := srv.last(t); !errors.Is(got.err, ErrSignatureDoesNotMatch) {
			t.Fatalf("changed URL: %v", got.err)
		}
	}
}
