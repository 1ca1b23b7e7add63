package s3api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// testClock is the server's clock in STS tests: real time moved by an
// offset, so that sessions expire without sleeping.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

var testSTSKey = bytes.Repeat([]byte{0x5a}, 32)

// startSTSServer is a test server with STS on and a movable clock.
func startSTSServer(t *testing.T) (*testServer, *testClock) {
	t.Helper()
	clock := &testClock{}
	ts := startTestServerDeps(t, func(d *Deps) { d.STSKey = testSTSKey }, func(c *Config) { c.Now = clock.Now })
	return ts, clock
}

func stsClient(ts *testServer, ak, sk, token string) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, token),
		BaseEndpoint:     aws.String(ts.url),
		RetryMaxAttempts: 1,
	})
}

func sessionS3(t *testing.T, ts *testServer, c *sts.AssumeRoleOutput) *s3.Client {
	t.Helper()
	k := c.Credentials
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), aws.ToString(k.SessionToken)),
		BaseEndpoint:     aws.String(ts.url),
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
	})
}

const narrowPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::data/narrow/*"}]}`

// TestAssumeRole: the SDK's STS client gets credentials that work with
// the S3 client, carry the caller's permissions narrowed by the session
// policy, and expire exactly on time.
func TestAssumeRole(t *testing.T) {
	ts, clock := startSTSServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")})
	mustOK(t, "create", err)
	mustOK(t, "seed", put(t, root, "data", "wide", "w"))
	addUser(t, ts, "worker", "worker-secret-1", "readwrite")

	start := clock.Now()
	out, err := stsClient(ts, "worker", "worker-secret-1", "").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/uploader"), RoleSessionName: aws.String("nightly"),
		DurationSeconds: aws.Int32(900), Policy: aws.String(narrowPolicy),
	})
	mustOK(t, "assume role", err)
	c := out.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), iam.AccessKeyPrefix) || aws.ToString(c.SessionToken) == "" || aws.ToString(c.SecretAccessKey) == "" {
		t.Fatalf("credentials: %+v", c)
	}
	exp := aws.ToTime(c.Expiration)
	if d := exp.Sub(start); d < 899*time.Second || d > 901*time.Second {
		t.Errorf("expiration %v is %v after the call, want 900s", exp, d)
	}
	if arn := aws.ToString(out.AssumedRoleUser.Arn); arn != "arn:aws:sts::default:assumed-role/uploader/nightly" {
		t.Errorf("assumed role arn %q", arn)
	}

	sess := sessionS3(t, ts, out)
	mustOK(t, "session put in its prefix", put(t, sess, "data", "narrow/a", "a"))
	if got, err := getBody(t, sess, "data", "narrow/a"); err != nil || got != "a" {
		t.Errorf("session get: %q %v", got, err)
	}
	wantCode(t, "session outside its policy", put(t, sess, "data", "wide2", "x"), "AccessDenied")
	_, err = getBody(t, sess, "data", "wide")
	wantCode(t, "session read outside its policy", err, "AccessDenied")

	// Expiry, on the server's clock: still valid a second before, refused
	// from the instant itself.
	ak, sk, tok := aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)
	clock.advance(exp.Sub(clock.Now()) - time.Second)
	if resp, body := send(t, signedAs(t, ts, "GET", "/data/narrow/a", nil, ak, sk, tok, clock.Now())); resp.StatusCode != 200 {
		t.Errorf("a second before expiry: %d %s", resp.StatusCode, body)
	}
	clock.advance(time.Second)
	resp, body := send(t, signedAs(t, ts, "GET", "/data/narrow/a", nil, ak, sk, tok, clock.Now()))
	wantS3Error(t, "at expiry", resp, body, 400, "ExpiredToken")

	// A tampered token, or the token of another key, is InvalidToken.
	resp, body = send(t, signedAs(t, ts, "GET", "/data/narrow/a", nil, ak, sk, tok[:len(tok)-2]+"xx", clock.Now()))
	wantS3Error(t, "tampered token", resp, body, 400, "InvalidToken")
	resp, body = send(t, signedAs(t, ts, "GET", "/data/narrow/a", nil, testAccessKey, testSecretKey, tok, clock.Now()))
	wantS3Error(t, "token of another key", resp, body, 400, "InvalidToken")
}

// TestSessionsEndWithTheirUser: removing or disabling the user ends its
// sessions at once; a session without a policy has all of its user's
// permissions.
func TestSessionsEndWithTheirUser(t *testing.T) {
	ts, _ := startSTSServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")})
	mustOK(t, "create", err)
	addUser(t, ts, "temp", "temp-secret-123", "readwrite")
	out, err := stsClient(ts, "temp", "temp-secret-123", "").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::000000000000:role/x"), RoleSessionName: aws.String("s1")})
	mustOK(t, "assume role", err)
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("default duration %v, want an hour", d)
	}
	sess := sessionS3(t, ts, out)
	mustOK(t, "session put", put(t, sess, "data", "k", "v"))
	// A session cannot mint further sessions.
	k := out.Credentials
	_, err = stsClient(ts, aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), aws.ToString(k.SessionToken)).AssumeRole(ctx,
		&sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/x"), RoleSessionName: aws.String("s2")})
	wantCode(t, "session assumes", err, "AccessDenied")

	setUser(t, ts, "temp", func(u *meta.User) { u.Disabled = true })
	wantCode(t, "user disabled", put(t, sess, "data", "k", "v"), "InvalidAccessKeyId")
	setUser(t, ts, "temp", func(u *meta.User) { u.Disabled = false })
	mustOK(t, "user enabled", put(t, sess, "data", "k", "v"))
	propose(t, ts, meta.DeleteUser{AccessKey: "temp"})
	wantCode(t, "user removed", put(t, sess, "data", "k", "v"), "InvalidAccessKeyId")
	// A new user of the same name does not revive the old sessions'
	// permissions beyond its own: it has none.
	addUser(t, ts, "temp", "temp-secret-456")
	wantCode(t, "same name, new user", put(t, sess, "data", "k", "v"), "AccessDenied")
}

// stsRaw sends an STS form POST signed for service sts by ak/sk.
func stsRaw(t *testing.T, ts *testServer, form url.Values, ak, sk, service string) (*http.Response, string) {
	t.Helper()
	body := []byte(form.Encode())
	req, err := http.NewRequest("POST", ts.url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if service == "s3" {
		req.Header.Set("x-amz-content-sha256", sha256Hex(body)) // as S3 clients sign
	}
	if ak != "" {
		if err := v4signer().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, sha256Hex(body), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return send(t, req)
}

// TestAssumeRoleErrors: the STS ErrorResponse for every refusal.
func TestAssumeRoleErrors(t *testing.T) {
	ts, _ := startSTSServer(t)
	addUser(t, ts, "u", "u-secret-123456", "readonly")
	addServiceAccount(t, ts, "SAKEY", "sa-secret-12345", "u", "")
	base := func() url.Values {
		return url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
			"RoleArn": {"arn:aws:iam::000000000000:role/x"}, "RoleSessionName": {"sess"}}
	}
	with := func(k, v string) url.Values {
		f := base()
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name        string
		form        url.Values
		ak, sk, svc string
		status      int
		code        string
	}{
		{"ok", base(), "u", "u-secret-123456", "sts", 200, ""},
		{"root may assume", base(), testAccessKey, testSecretKey, "sts", 200, ""},
		{"too short", with("DurationSeconds", "899"), "u", "u-secret-123456", "sts", 400, "ValidationError"},
		{"too long", with("DurationSeconds", "604801"), "u", "u-secret-123456", "sts", 400, "ValidationError"},
		{"a week", with("DurationSeconds", "604800"), "u", "u-secret-123456", "sts", 200, ""},
		{"not a number", with("DurationSeconds", "soon"), "u", "u-secret-123456", "sts", 400, "InvalidParameterValue"},
		{"bad policy", with("Policy", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`), "u", "u-secret-123456", "sts", 400, "MalformedPolicyDocument"},
		{"no role", with("RoleArn", ""), "u", "u-secret-123456", "sts", 400, "ValidationError"},
		{"bad session name", with("RoleSessionName", "a b"), "u", "u-secret-123456", "sts", 400, "ValidationError"},
		{"other action", with("Action", "GetSessionToken"), "u", "u-secret-123456", "sts", 400, "InvalidAction"},
		{"other version", with("Version", "2011-06-14"), "u", "u-secret-123456", "sts", 400, "InvalidAction"},
		{"service account", base(), "SAKEY", "sa-secret-12345", "sts", 403, "AccessDenied"},
		{"unsigned", base(), "", "", "", 403, "MissingAuthenticationToken"},
		{"wrong secret", base(), "u", "wrong-secret-000", "sts", 403, "SignatureDoesNotMatch"},
		{"unknown key", base(), "nobody", "u-secret-123456", "sts", 403, "InvalidClientTokenId"},
		{"signed for s3", base(), "u", "u-secret-123456", "s3", 403, "SignatureDoesNotMatch"},
	}
	for _, c := range cases {
		resp, body := stsRaw(t, ts, c.form, c.ak, c.sk, c.svc)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.StatusCode, c.status, body)
			continue
		}
		if c.code == "" {
			var ok assumeRoleResponse
			if err := xml.Unmarshal([]byte(body), &ok); err != nil || ok.Result.Credentials.AccessKeyID == "" || ok.RequestID == "" {
				t.Errorf("%s: response %s (%v)", c.name, body, err)
			}
			continue
		}
		var e stsErrorResponse
		if err := xml.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != c.code || e.Error.Type != "Sender" || e.RequestID == "" || e.Xmlns != stsNamespace {
			t.Errorf("%s: error %s, want %s", c.name, body, c.code)
		}
	}
	// GET with the parameters in the query works too (presigned or signed).
	q := base()
	req, _ := http.NewRequest("GET", ts.url+"/?"+q.Encode(), nil)
	if err := v4signer().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: "u", SecretAccessKey: "u-secret-123456"}, req, sha256Hex(nil), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if resp, body := send(t, req); resp.StatusCode != 200 || !strings.Contains(body, "<AssumeRoleResponse") {
		t.Errorf("GET AssumeRole: %d %s", resp.StatusCode, body)
	}
	// Without an STS key, no node mints credentials.
	off := startTestServer(t)
	addUser(t, off, "u", "u-secret-123456")
	if resp, body := stsRaw(t, off, base(), "u", "u-secret-123456", "sts"); resp.StatusCode != 503 {
		t.Errorf("STS off: %d %s", resp.StatusCode, body)
	}
}

// BenchmarkAssumeRole measures AssumeRole calls per second over HTTP on
// one server (signature check, parameter checks, minting; nothing is
// written to Raft).
func BenchmarkAssumeRole(b *testing.B) {
	ts := startTestServerDeps(b, func(d *Deps) { d.STSKey = testSTSKey })
	if err := ts.ctl.Propose(b.Context(), meta.PutUser{User: meta.User{AccessKey: "bench", Name: "bench",
		SecretSealed: []byte(sealPrefix + "bench-secret-123"), Policies: []string{"readwrite"}}}); err != nil {
		b.Fatal(err)
	}
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::000000000000:role/x"},
		"RoleSessionName": {"bench"}, "DurationSeconds": {"900"}, "Policy": {narrowPolicy}}
	body := []byte(form.Encode())
	hash := sha256Hex(body)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", ts.url+"/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := v4signer().SignHTTP(b.Context(), aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "bench-secret-123"}, req, hash, "sts", "us-east-1", time.Now()); err != nil {
				b.Error(err)
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d: %s", resp.StatusCode, buf.String())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
