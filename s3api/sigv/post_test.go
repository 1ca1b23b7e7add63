package sigv

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The example of "Example: Browser-Based Upload using HTTP POST (Using AWS
// Signature Version 4)": its policy and the signature AWS published.
const (
	examplePolicy    = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
	examplePolicySig = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
)

// exampleForm is the example's form, names lower-cased, the key's
// ${filename} already substituted.
func exampleForm() map[string]string {
	return map[string]string{
		"key":                          "user/user1/photo.jpg",
		"acl":                          "public-read",
		"success_action_redirect":      "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
		"content-type":                 "image/jpeg",
		"x-amz-meta-uuid":              "14365123651274",
		"x-amz-server-side-encryption": "AES256",
		"x-amz-credential":             "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
		"x-amz-algorithm":              "AWS4-HMAC-SHA256",
		"x-amz-date":                   "20151229T000000Z",
		"x-amz-meta-tag":               "",
		"policy":                       examplePolicy,
		"x-amz-signature":              examplePolicySig,
	}
}

// v4PolicySig signs a base64 policy independently of the code under test.
func v4PolicySig(secret, date, region, policy string) string {
	mac := func(k []byte, s string) []byte {
		h := hmac.New(sha256.New, k)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, "s3")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, policy))
}

func TestPostAWSExample(t *testing.T) {
	if got := v4PolicySig(exampleSecret, "20151229", "us-east-1", examplePolicy); got != examplePolicySig {
		t.Fatalf("HMAC of the published policy = %s, published %s", got, examplePolicySig)
	}
	during := time.Date(2015, 12, 29, 10, 0, 0, 0, time.UTC)
	a, err := VerifyPost(exampleForm(), exampleCreds)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKey != exampleAK || a.SignatureVersion != 4 || a.Region != "us-east-1" || a.Service != "s3" {
		t.Fatalf("auth %+v", a)
	}
	if want := time.Date(2015, 12, 30, 12, 0, 0, 0, time.UTC); !a.Policy.Expiration.Equal(want) {
		t.Fatalf("expiration %v", a.Policy.Expiration)
	}
	if _, _, ok := a.Policy.LengthRange(); ok {
		t.Fatal("a content-length-range out of nowhere")
	}
	if err := a.Policy.Check("sigv4examplebucket", exampleForm(), during); err != nil {
		t.Fatal(err)
	}

	set := func(k, v string) map[string]string {
		f := exampleForm()
		f[k] = v
		return f
	}
	del := func(k string) map[string]string {
		f := exampleForm()
		delete(f, k)
		return f
	}
	for _, tc := range []struct {
		name   string
		bucket string
		fields map[string]string
		at     time.Time
		reason string // "" = allowed
	}{
		{"x-ignore field", "sigv4examplebucket", set("x-ignore-me", "1"), during, ""},
		{"Content-Type list", "sigv4examplebucket", set("content-type", "image/png, image/gif"), during, ""},
		{"bucket field ignored", "sigv4examplebucket", set("bucket", "other"), during, ""},
		{"expired", "sigv4examplebucket", exampleForm(), time.Date(2015, 12, 30, 12, 0, 1, 0, time.UTC), "Policy expired."},
		{"other bucket", "other", exampleForm(), during, `Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]`},
		{"key prefix", "sigv4examplebucket", set("key", "user/user2/photo.jpg"), during, `Policy Condition failed: ["starts-with", "$key", "user/user1/"]`},
		{"acl", "sigv4examplebucket", set("acl", "private"), during, `Policy Condition failed: ["eq", "$acl", "public-read"]`},
		{"missing acl", "sigv4examplebucket", del("acl"), during, `Policy Condition failed: ["eq", "$acl", "public-read"]`},
		{"content type", "sigv4examplebucket", set("content-type", "text/plain"), during, `Policy Condition failed: ["starts-with", "$content-type", "image/"]`},
		{"Content-Type list", "sigv4examplebucket", set("content-type", "image/png, text/html"), during, `Policy Condition failed: ["starts-with", "$content-type", "image/"]`},
		{"meta", "sigv4examplebucket", set("x-amz-meta-uuid", "1"), during, `Policy Condition failed: ["eq", "$x-amz-meta-uuid", "14365123651274"]`},
		{"extra fields", "sigv4examplebucket", set("x-amz-meta-b", "1"), during, "Extra input fields: x-amz-meta-b"},
		{"extra fields sorted", "sigv4examplebucket", set("cache-control", "x"), during, "Extra input fields: cache-control"},
	} {
		err := a.Policy.Check(tc.bucket, tc.fields, tc.at)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Reason != tc.reason {
			t.Errorf("%s: %v, want reason %q", tc.name, err, tc.reason)
		}
	}
	f := set("x-amz-meta-b", "1")
	f["cache-control"] = "x"
	var pe *PolicyError
	if err := a.Policy.Check("sigv4examplebucket", f, during); !errors.As(err, &pe) || pe.Reason != "Extra input fields: cache-control, x-amz-meta-b" {
		t.Errorf("two extra fields: %v", err)
	}

	// The signature.
	for _, tc := range []struct {
		name   string
		fields map[string]string
		creds  Credentials
		want   error
	}{
		{"policy changed", set("policy", strings.Replace(examplePolicy, "eyAi", "eyBi", 1)), exampleCreds, ErrSignatureDoesNotMatch},
		{"signature changed", set("x-amz-signature", flipSig(examplePolicySig)), exampleCreds, ErrSignatureDoesNotMatch},
		{"other region signed", set("x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"), exampleCreds, ErrSignatureDoesNotMatch},
		{"wrong secret", exampleForm(), keys(map[string]string{exampleAK: "x"}), ErrSignatureDoesNotMatch},
		{"unknown key", exampleForm(), keys(nil), ErrInvalidAccessKeyID},
		{"algorithm", set("x-amz-algorithm", "AWS4-ECDSA-P256-SHA256"), exampleCreds, ErrUnsupportedAlgorithm},
		{"credential", set("x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/ec2/aws4_request"), exampleCreds, ErrPostFormMalformed},
		{"date", set("x-amz-date", "2015-12-29"), exampleCreds, ErrPostFormMalformed},
		{"hex", set("x-amz-signature", "zz"), exampleCreds, ErrPostFormMalformed},
		{"V2 and V4", set("signature", "x"), exampleCreds, ErrPostFormMalformed},
		{"anonymous", map[string]string{"key": "k", "policy": examplePolicy}, exampleCreds, ErrMissingAuth},
	} {
		if _, err := VerifyPost(tc.fields, tc.creds); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, missing := range []string{"x-amz-credential", "x-amz-date", "policy", "x-amz-signature"} {
		var me *MissingFieldError
		if _, err := VerifyPost(del(missing), exampleCreds); !errors.As(err, &me) || me.Field != missing {
			t.Errorf("without %s: %v", missing, err)
		}
	}
}

// b64 encodes a policy document as a form carries it.
func b64(doc string) string { return base64.StdEncoding.EncodeToString([]byte(doc)) }

func TestPostV2(t *testing.T) {
	policy := b64(`{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"bucket": "b"}, ["starts-with", "$key", "up/"], ["content-length-range", 1, 10]]}`)
	form := map[string]string{"key": "up/x", "awsaccesskeyid": testAK, "policy": policy, "signature": signV2(testSecret, policy)}
	a, err := VerifyPost(form, testCreds)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKey != testAK || a.SignatureVersion != 2 || a.Service != "s3" {
		t.Fatalf("auth %+v", a)
	}
	if err := a.Policy.Check("b", form, time.Now()); err != nil {
		t.Fatal(err)
	}
	if lo, hi, ok := a.Policy.LengthRange(); !ok || lo != 1 || hi != 10 {
		t.Fatalf("range %d %d %v", lo, hi, ok)
	}
	for n, want := range map[int64]error{0: ErrPostTooSmall, 1: nil, 10: nil, 11: ErrPostTooLarge} {
		if err := a.Policy.CheckLength(n); !errors.Is(err, want) {
			t.Errorf("CheckLength(%d) = %v, want %v", n, err, want)
		}
	}
	bad := map[string]string{"key": "up/x", "awsaccesskeyid": testAK, "policy": policy, "signature": signV2("other", policy)}
	if _, err := VerifyPost(bad, testCreds); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("wrong signature: %v", err)
	}
	var me *MissingFieldError
	if _, err := VerifyPost(map[string]string{"signature": "x", "policy": policy}, testCreds); !errors.As(err, &me) || me.Field != "awsaccesskeyid" {
		t.Fatalf("no access key: %v", err)
	}
	// A policy wrapped at 76 columns (Python's base64.encodebytes) is
	// decoded; its signature covers it as sent.
	var wrapped strings.Builder
	for i := 0; i < len(policy); i += 76 {
		wrapped.WriteString(policy[i:min(i+76, len(policy))])
		wrapped.WriteString("\n")
	}
	form = map[string]string{"awsaccesskeyid": testAK, "policy": wrapped.String(), "signature": signV2(testSecret, wrapped.String())}
	if a, err := VerifyPost(form, testCreds); err != nil || a.Policy.lengthMax != 10 {
		t.Fatalf("wrapped policy: %v", err)
	}
}

func TestParsePolicy(t *testing.T) {
	good := []struct {
		doc    string
		conds  []condition
		lo, hi int64
	}{
		{`{"expiration": "2030-01-01T00:00:00.000Z", "conditions": []}`, nil, 0, -1},
		{`{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"Key": "a", "acl": "private"}, ["EQ", "$X-Amz-Meta-A", "b"],
		  ["starts-with", "$key", ""], ["content-length-range", "5", 100], ["content-length-range", 0, 50.0]]}`,
			[]condition{{op: "eq", field: "acl", value: "private"}, {op: "eq", field: "key", value: "a"},
				{op: "eq", field: "x-amz-meta-a", value: "b"}, {op: "starts-with", field: "key"},
				{op: "content-length-range", min: 5, max: 100}, {op: "content-length-range", max: 50}},
			5, 50},
	}
	for _, tc := range good {
		p, err := ParsePolicy(b64(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.doc, err)
		}
		if len(p.conditions) != len(tc.conds) {
			t.Fatalf("%s: conditions %+v", tc.doc, p.conditions)
		}
		for i := range tc.conds {
			if p.conditions[i] != tc.conds[i] {
				t.Errorf("%s: condition %d = %+v, want %+v", tc.doc, i, p.conditions[i], tc.conds[i])
			}
		}
		if p.lengthMin != tc.lo || p.lengthMax != tc.hi {
			t.Errorf("%s: range %d..%d", tc.doc, p.lengthMin, p.lengthMax)
		}
	}
	for _, doc := range []string{
		``,
		`[]`,
		`{"conditions": []}`,
		`{"expiration": "2030-01-01T00:00:00Z"}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": null}`,
		`{"expiration": "tomorrow", "conditions": []}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [], "extra": 1}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": []} {}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": ["acl"]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"acl": 1}]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "a"]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$", "a"]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$key"]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["matches", "$key", "a"]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 10, 1]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 1]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 1.5, 2]]}`,
		`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", "x", 2]]}`,
	} {
		if _, err := ParsePolicy(b64(doc)); !errors.Is(err, ErrPostPolicyMalformed) {
			t.Errorf("%s: %v, want ErrPostPolicyMalformed", doc, err)
		}
	}
	if _, err := ParsePolicy("not base64!"); !errors.Is(err, ErrPostPolicyMalformed) {
		t.Errorf("not base64: %v", err)
	}
}

// boto3's generate_presigned_post, Signature Version 4 (its default) and
// Version 2 (signature_version "s3"): the fields it returns verify, and
// its policy holds the conditions it was given.
func TestPostBoto3(t *testing.T) {
	needBoto3(t)
	const script = `
import json, sys, boto3
from botocore.config import Config
out = {}
for sv in ('s3v4', 's3'):
    c = boto3.client('s3', endpoint_url='http://127.0.0.1:9', region_name='eu-west-3', config=Config(signature_version=sv))
    out[sv] = c.generate_presigned_post('bkt', 'uploads/${filename}',
        Fields={'acl': 'public-read', 'Content-Type': 'image/png', 'success_action_status': '201', 'x-amz-meta-a': 'b'},
        Conditions=[{'acl': 'public-read'}, ['starts-with', '$Content-Type', 'image/'], {'success_action_status': '201'},
                    {'x-amz-meta-a': 'b'}, ['content-length-range', 1, 1048576]],
        ExpiresIn=600)
json.dump(out, sys.stdout)
`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-c", script)
	cmd.Env = clientEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderr.String())
	}
	var posts map[string]struct {
		URL    string            `json:"url"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(out, &posts); err != nil {
		t.Fatal(err)
	}
	for sv, wantVersion := range map[string]int{"s3v4": 4, "s3": 2} {
		post, ok := posts[sv]
		if !ok {
			t.Fatalf("no %s post in %s", sv, out)
		}
		fields := map[string]string{}
		for k, v := range post.Fields {
			fields[strings.ToLower(k)] = v
		}
		a, err := VerifyPost(fields, testCreds)
		if err != nil {
			t.Fatalf("%s: %v (fields %v)", sv, err, fields)
		}
		if a.SignatureVersion != wantVersion || a.AccessKey != testAK {
			t.Fatalf("%s: auth %+v", sv, a)
		}
		fields["key"] = strings.ReplaceAll(fields["key"], "${filename}", "cat.png")
		if err := a.Policy.Check("bkt", fields, time.Now()); err != nil {
			t.Fatalf("%s: %v", sv, err)
		}
		if lo, hi, ok := a.Policy.LengthRange(); !ok || lo != 1 || hi != 1<<20 {
			t.Fatalf("%s: range %d %d %v", sv, lo, hi, ok)
		}
		var pe *PolicyError
		if err := a.Policy.Check("other", fields, time.Now()); !errors.As(err, &pe) {
			t.Fatalf("%s: other bucket: %v", sv, err)
		}
		if err := a.Policy.Check("bkt", fields, time.Now().Add(11*time.Minute)); !errors.As(err, &pe) || pe.Reason != "Policy expired." {
			t.Fatalf("%s: after expiry: %v", sv, err)
		}
		fields["content-type"] = "text/plain"
		if err := a.Policy.Check("bkt", fields, time.Now()); !errors.As(err, &pe) {
			t.Fatalf("%s: text/plain: %v", sv, err)
		}
	}
}
