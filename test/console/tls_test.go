package console

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-io/strata/internal/testcluster"
)

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	shareURL  = regexp.MustCompile(`<textarea id="share-url"[^>]*>([^<]+)</textarea>`)
)

// TestConsoleTLS uses the console of a node whose S3 port serves HTTPS:
// its cookies are Secure, its own requests reach the S3 listener on
// loopback (whose certificate names no 127.0.0.1: the console pins it),
// and share links are https URLs that work.
func TestConsoleTLS(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1, EC: "1+0", TLS: true})
	base := c.Endpoint(0) + "/console/"
	jar, _ := cookiejar.New(nil)
	hc := c.HTTPClient()
	hc.Jar = jar
	fetch := func(method, path string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, base+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	token := func(page string) string {
		t.Helper()
		m := csrfField.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token on the page:\n%s", page)
		}
		return m[1]
	}

	resp, page := fetch("GET", "login", nil)
	if ck := resp.Cookies(); len(ck) != 1 || !ck[0].Secure || !ck[0].HttpOnly {
		t.Fatalf("login cookie over TLS: %+v", ck)
	}
	resp, page = fetch("POST", "login", url.Values{"csrf": {token(page)}, "access_key": {testcluster.RootAccessKey},
		"secret_key": {testcluster.RootSecretKey}, "next": {"/console/buckets"}})
	if resp.StatusCode != 200 || !strings.Contains(page, `href="/console/admin/cluster"`) {
		t.Fatalf("login over TLS: %d\n%s", resp.StatusCode, page)
	}
	u, _ := url.Parse(base)
	for _, ck := range resp.Request.Response.Cookies() {
		if ck.Name == "strata_console" && (!ck.Secure || !ck.HttpOnly) {
			t.Errorf("session cookie over TLS: %+v", ck)
		}
	}
	if len(jar.Cookies(u)) == 0 {
		t.Fatal("no session cookie kept")
	}

	resp, page = fetch("POST", "buckets", url.Values{"csrf": {token(page)}, "action": {"create"}, "name": {"secure"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Bucket secure created.") {
		t.Fatalf("create bucket over TLS: %d\n%s", resp.StatusCode, page)
	}
	s3c := c.S3Client(0)
	if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("secure"), Key: aws.String("k"), Body: strings.NewReader("over tls")}); err != nil {
		t.Fatal(err)
	}
	resp, page = fetch("POST", "object", url.Values{"csrf": {token(page)}, "action": {"share"}, "bucket": {"secure"}, "key": {"k"}, "expires": {"15m"}})
	m := shareURL.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("share over TLS: %d\n%s", resp.StatusCode, page)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.HasPrefix(link, c.Endpoint(0)+"/secure/k?") {
		t.Fatalf("share link %q", link)
	}
	got, err := c.HTTPClient().Get(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != 200 || string(b) != "over tls" {
		t.Errorf("share link over TLS: %d %q", got.StatusCode, b)
	}
}
