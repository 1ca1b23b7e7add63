package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSTS answers AssumeRole like the S3 port does, recording the form
// and the Authorization header it received.
func fakeSTS(t *testing.T, status int, body string) (*httptest.Server, *url.Values, *string) {
	t.Helper()
	var form url.Values
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ = url.ParseQuery(string(b))
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &form, &auth
}

const okAssumeRole = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<AssumedRoleUser><Arn>arn:aws:sts::default:assumed-role/stratactl/s</Arn><AssumedRoleId>ASIAX:s</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret/key</SecretAccessKey><SessionToken>tok-en</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>
</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`

func TestSTSAssumeRole(t *testing.T) {
	srv, form, auth := fakeSTS(t, 200, okAssumeRole)
	pol := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(pol, []byte(`{"Version":"2012-10-17","Statement":[]}`), 0o600)
	env := func(string) string { return "" }
	var out bytes.Buffer
	err := run([]string{"--endpoint", srv.URL, "--access-key", "alice", "--secret-key", "alice-secret", "sts", "assume-role", "--duration", "1w", "--policy-file", pol}, env, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\nexport AWS_SECRET_ACCESS_KEY=secret/key\nexport AWS_SESSION_TOKEN=tok-en\n# expires 2030-01-01T00:00:00Z\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	f := *form
	if f.Get("Action") != "AssumeRole" || f.Get("Version") != "2011-06-15" || f.Get("DurationSeconds") != "604800" ||
		!strings.Contains(f.Get("Policy"), `"Statement"`) || f.Get("RoleArn") == "" || f.Get("RoleSessionName") == "" {
		t.Errorf("form sent: %v", f)
	}
	if !strings.Contains(*auth, "Credential=alice/") || !strings.Contains(*auth, "/sts/aws4_request") {
		t.Errorf("not signed for sts by alice: %q", *auth)
	}
}

func TestSTSAssumeRoleErrors(t *testing.T) {
	srv, _, _ := fakeSTS(t, 400, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>too long</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	env := func(string) string { return "" }
	base := []string{"--endpoint", srv.URL, "--access-key", "alice", "--secret-key", "s", "sts", "assume-role"}
	err := run(base, env, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ValidationError: too long") {
		t.Errorf("STS error: %v", err)
	}
	for _, d := range []string{"10m", "2w", "1500ms", "soon"} {
		if err := run(append(base, "--duration", d), env, io.Discard); err == nil || !strings.Contains(err.Error(), "--duration") {
			t.Errorf("--duration %s: %v", d, err)
		}
	}
	if err := run([]string{"--endpoint", srv.URL, "--access-key", "alice", "--secret-key", "s", "sts", "get-session-token"}, env, io.Discard); err == nil {
		t.Error("unknown sts command accepted")
	}
}

func TestAskSecret(t *testing.T) {
	got, err := askSecret(strings.NewReader("from-stdin\nrest"), io.Discard, "Secret: ")
	if err != nil || got != "from-stdin" {
		t.Errorf("askSecret = %q, %v", got, err)
	}
	if _, err := askSecret(strings.NewReader(""), io.Discard, "Secret: "); err == nil {
		t.Error("empty stdin accepted")
	}
}
