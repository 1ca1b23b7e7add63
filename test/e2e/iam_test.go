package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/strata-io/strata/adminapi"
)

// IAM end to end, on built binaries: users and policies made with
// stratactl, S3 with the aws CLI, boto3, curl and the Go SDK. (Session
// expiry is tested in process, with a clock: internal/testcluster.)

// awsAs runs the aws CLI with the given keys (and session token).
func awsAs(t *testing.T, endpoint, ak, sk, token string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", "http://" + endpoint}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk, "AWS_SESSION_TOKEN="+token,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ctlAs runs stratactl with the given keys.
func ctlAs(t *testing.T, endpoint, ak, sk string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "stratactl"), args...)
	cmd.Env = append(os.Environ(), "STRATA_ENDPOINT=http://"+endpoint, "STRATA_ACCESS_KEY="+ak, "STRATA_SECRET_KEY="+sk)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("stratactl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func wantDenied(t *testing.T, what, out string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(out, "AccessDenied") {
		t.Errorf("%s: want AccessDenied, got err=%v\n%s", what, err, out)
	}
}

func wantOK(t *testing.T, what, out string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v\n%s", what, err, out)
	}
}

// assumed is the Credentials object of `aws sts assume-role`.
type assumed struct {
	Credentials struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
}

func sdkAs(endpoint, ak, sk, token string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + endpoint), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, token),
	})
}

func TestIAMEndToEnd(t *testing.T) {
	procs := startCluster(t, 3, "2+1")
	ep := procs[0].s3
	tmp := t.TempDir()
	file := filepath.Join(tmp, "f.txt")
	os.WriteFile(file, []byte("hello iam"), 0o644)
	narrow := filepath.Join(tmp, "narrow.json")
	os.WriteFile(narrow, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::iam-data/narrow/*"}]}`), 0o644)
	toolsOnly := filepath.Join(tmp, "tools.json")
	os.WriteFile(toolsOnly, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::iam-data/tools/*"}]}`), 0o644)

	// Root makes the users and the bucket.
	for _, u := range []struct{ name, policy string }{{"reader", "readonly"}, {"writer", "writeonly"}, {"worker", "readwrite"}, {"doomed", "readwrite"}} {
		ctlAs(t, ep, rootAK, rootSK, "user", "create", u.name, "--secret-key", u.name+"-secret-key-123")
		ctlAs(t, ep, rootAK, rootSK, "policy", "attach", u.policy, "--user", u.name)
	}
	mustAWS(t, ep, "s3", "mb", "s3://iam-data")
	mustAWS(t, ep, "s3", "cp", file, "s3://iam-data/obj")

	// readonly: GET yes, PUT AccessDenied.
	out, err := awsAs(t, ep, "reader", "reader-secret-key-123", "", "s3api", "get-object", "--bucket", "iam-data", "--key", "obj", filepath.Join(tmp, "r.txt"))
	wantOK(t, "readonly get", out, err)
	out, err = awsAs(t, ep, "reader", "reader-secret-key-123", "", "s3", "cp", file, "s3://iam-data/by-reader")
	wantDenied(t, "readonly put", out, err)
	// writeonly: PUT yes, GET AccessDenied.
	out, err = awsAs(t, ep, "writer", "writer-secret-key-123", "", "s3api", "put-object", "--bucket", "iam-data", "--key", "by-writer", "--body", file)
	wantOK(t, "writeonly put", out, err)
	out, err = awsAs(t, ep, "writer", "writer-secret-key-123", "", "s3api", "get-object", "--bucket", "iam-data", "--key", "obj", filepath.Join(tmp, "w.txt"))
	wantDenied(t, "writeonly get", out, err)

	// aws sts assume-role with a narrower session policy and 900 s.
	out, err = awsAs(t, ep, "worker", "worker-secret-key-123", "", "sts", "assume-role",
		"--role-arn", "arn:aws:iam::x:role/x", "--role-session-name", "s1", "--duration-seconds", "900",
		"--policy", "file://"+narrow)
	if err != nil {
		t.Fatalf("aws sts assume-role: %v\n%s", err, out)
	}
	var as assumed
	if err := json.Unmarshal([]byte(out), &as); err != nil || as.Credentials.SessionToken == "" {
		t.Fatalf("assume-role output: %v\n%s", err, out)
	}
	exp, err := time.Parse(time.RFC3339, as.Credentials.Expiration)
	if d := time.Until(exp); err != nil || d > 900*time.Second || d < 800*time.Second {
		t.Errorf("expiration %q: %v from now", as.Credentials.Expiration, d)
	}
	c := as.Credentials
	out, err = awsAs(t, procs[1].s3, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, "s3api", "put-object", "--bucket", "iam-data", "--key", "narrow/a", "--body", file)
	wantOK(t, "session put inside its policy (another node)", out, err)
	out, err = awsAs(t, ep, c.AccessKeyID, c.SecretAccessKey, c.SessionToken, "s3api", "put-object", "--bucket", "iam-data", "--key", "wide", "--body", file)
	wantDenied(t, "session put outside its policy", out, err)

	// boto3: the same through botocore's STS and S3 clients.
	script := `
import boto3, sys, json
ep, ak, sk = sys.argv[1], sys.argv[2], sys.argv[3]
sts = boto3.client("sts", endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk, region_name="us-east-1")
c = sts.assume_role(RoleArn="arn:aws:iam::x:role/x", RoleSessionName="boto", DurationSeconds=900, Policy=open(sys.argv[4]).read())["Credentials"]
s3 = boto3.client("s3", endpoint_url=ep, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"], region_name="us-east-1")
s3.put_object(Bucket="iam-data", Key="narrow/boto", Body=b"b")
body = s3.get_object(Bucket="iam-data", Key="narrow/boto")["Body"].read()
try:
    s3.put_object(Bucket="iam-data", Key="elsewhere", Body=b"x")
    denied = "no"
except Exception as e:
    denied = e.response["Error"]["Code"]
print(json.dumps({"body": body.decode(), "denied": denied}))
`
	py := exec.Command("python3", "-c", script, "http://"+ep, "worker", "worker-secret-key-123", narrow)
	py.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	pyOut, err := py.CombinedOutput()
	if err != nil || !strings.Contains(string(pyOut), `"body": "b"`) || !strings.Contains(string(pyOut), `"denied": "AccessDenied"`) {
		t.Errorf("boto3 assume-role: %v\n%s", err, pyOut)
	}

	// stratactl sts assume-role, the secret key read from stdin.
	cmd := exec.Command(filepath.Join(binDir, "stratactl"), "sts", "assume-role", "--access-key", "worker", "--duration", "1w", "--policy-file", narrow)
	cmd.Env = append(os.Environ(), "STRATA_ENDPOINT=http://"+ep, "STRATA_SECRET_KEY=")
	cmd.Stdin = strings.NewReader("worker-secret-key-123\n")
	ctlOut, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(ctlOut), "export AWS_SESSION_TOKEN=") {
		t.Errorf("stratactl sts assume-role: %v\n%s", err, ctlOut)
	}

	// A service account limited to one prefix, made by its user.
	var sa adminapi.CreateServiceAccountResponse
	saOut := ctlAs(t, ep, "worker", "worker-secret-key-123", "service-account", "create", "--policy-file", toolsOnly, "--name", "tools", "--json")
	if err := json.Unmarshal([]byte(saOut), &sa); err != nil || sa.SecretKey == "" {
		t.Fatalf("service-account create: %v\n%s", err, saOut)
	}
	out, err = awsAs(t, ep, sa.ServiceAccount.AccessKey, sa.SecretKey, "", "s3api", "put-object", "--bucket", "iam-data", "--key", "tools/t", "--body", file)
	wantOK(t, "service account inside its prefix", out, err)
	out, err = awsAs(t, ep, sa.ServiceAccount.AccessKey, sa.SecretKey, "", "s3api", "put-object", "--bucket", "iam-data", "--key", "other/t", "--body", file)
	wantDenied(t, "service account outside its prefix", out, err)

	// A public-read bucket: curl reads without credentials, anonymous PUT
	// is refused.
	mustAWS(t, ep, "s3", "mb", "s3://iam-public")
	mustAWS(t, ep, "s3", "cp", file, "s3://iam-public/index.txt")
	mustAWS(t, ep, "s3api", "put-bucket-policy", "--bucket", "iam-public", "--policy",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::iam-public/*"}]}`)
	if st := mustAWS(t, ep, "s3api", "get-bucket-policy-status", "--bucket", "iam-public"); !strings.Contains(st, `"IsPublic": true`) {
		t.Errorf("policy status: %s", st)
	}
	curl := func(args ...string) string {
		out, err := exec.Command("curl", append([]string{"-s", "-o", "/dev/null", "-w", "%{http_code}"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(out)
	}
	if code := curl("http://" + procs[2].s3 + "/iam-public/index.txt"); code != "200" {
		t.Errorf("curl GET public object: %s", code)
	}
	if code := curl("-X", "PUT", "--data-binary", "evil", "http://"+ep+"/iam-public/evil.txt"); code != "403" {
		t.Errorf("curl anonymous PUT: %s", code)
	}
	if code := curl("http://" + ep + "/iam-data/obj"); code != "403" {
		t.Errorf("curl GET private object: %s", code)
	}

	// Removing a user ends its sessions and service accounts on every node
	// within a second.
	out, err = awsAs(t, ep, "doomed", "doomed-secret-key-123", "", "sts", "assume-role", "--role-arn", "arn:aws:iam::x:role/x", "--role-session-name", "d1")
	if err != nil {
		t.Fatalf("doomed assume-role: %v\n%s", err, out)
	}
	var das assumed
	if err := json.Unmarshal([]byte(out), &das); err != nil {
		t.Fatal(err)
	}
	var dsa adminapi.CreateServiceAccountResponse
	if err := json.Unmarshal([]byte(ctlAs(t, ep, "doomed", "doomed-secret-key-123", "service-account", "create", "--json")), &dsa); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var clients []*s3.Client
	for _, p := range procs {
		clients = append(clients,
			sdkAs(p.s3, das.Credentials.AccessKeyID, das.Credentials.SecretAccessKey, das.Credentials.SessionToken),
			sdkAs(p.s3, dsa.ServiceAccount.AccessKey, dsa.SecretKey, ""))
	}
	head := func(c *s3.Client) error {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("iam-data"), Key: aws.String("obj")})
		return err
	}
	for i, c := range clients {
		if err := head(c); err != nil {
			t.Fatalf("client %d before removal: %v", i, err)
		}
	}
	ctlAs(t, ep, rootAK, rootSK, "user", "remove", "doomed")
	removed := time.Now()
	for i, c := range clients {
		for {
			err := head(c)
			var re interface{ HTTPStatusCode() int }
			if err != nil && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden {
				break
			}
			if time.Since(removed) > time.Second {
				t.Errorf("client %d (node %d) still served a second after the removal: %v", i, i/2+1, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	_, err = sdkAs(ep, dsa.ServiceAccount.AccessKey, dsa.SecretKey, "").ListBuckets(ctx, &s3.ListBucketsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAccessKeyId" {
		t.Errorf("removed user's service account: %v", err)
	}
	t.Logf("removal seen by every node and key within %v", time.Since(removed).Round(time.Millisecond))
}
