package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"
)

// TestCORS runs bucket CORS against real nodes: the CORS API with
// aws-sdk-go-v2, preflights and actual requests sent by hand, and a real
// browser (headless Chromium driven by chromedp) on a page of another
// origin that uploads with a presigned PUT, downloads with a presigned GET
// and is refused for an origin that no rule allows.
func TestCORS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	procs := startCluster(t, 3, "2+1")
	ep := procs[0].s3
	ctx := t.Context()
	c := sdkAs(ep, rootAK, rootSK, "")
	const bucket = "cors-e2e"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// The page's origin: a second local server, on its own port.
	page := httptest.NewServer(http.HandlerFunc(servePage))
	defer page.Close()
	other := httptest.NewServer(http.HandlerFunc(servePage))
	defer other.Close()

	t.Run("api", func(t *testing.T) { corsAPI(t, c, bucket) })
	rules := []types.CORSRule{{
		ID:             aws.String("page"),
		AllowedOrigins: []string{page.URL},
		AllowedMethods: []string{"GET", "PUT", "HEAD"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  []string{"ETag", "x-amz-request-id"},
		MaxAgeSeconds:  aws.Int32(60),
	}}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket), CORSConfiguration: &types.CORSConfiguration{CORSRules: rules}}); err != nil {
		t.Fatal(err)
	}
	t.Run("preflight", func(t *testing.T) { corsPreflight(t, procs, bucket, page.URL, other.URL) })
	t.Run("browser", func(t *testing.T) { corsBrowser(t, c, bucket, page.URL, other.URL) })
}

// corsAPI: Put/Get/DeleteBucketCors round trip and S3's refusals.
func corsAPI(t *testing.T, c *s3.Client, bucket string) {
	ctx := t.Context()
	_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if code := apiErrorCode(err); code != "NoSuchCORSConfiguration" {
		t.Fatalf("get before put: %v", err)
	}
	in := []types.CORSRule{
		{ID: aws.String("uploads"), AllowedOrigins: []string{"https://*.example.org"}, AllowedMethods: []string{"PUT", "POST"},
			AllowedHeaders: []string{"x-amz-*", "content-type"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(3000)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "HEAD"}},
	}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket), CORSConfiguration: &types.CORSConfiguration{CORSRules: in}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CORSRules) != 2 || aws.ToString(out.CORSRules[0].ID) != "uploads" || aws.ToInt32(out.CORSRules[0].MaxAgeSeconds) != 3000 ||
		!slices.Equal(out.CORSRules[0].AllowedHeaders, in[0].AllowedHeaders) || !slices.Equal(out.CORSRules[1].AllowedMethods, in[1].AllowedMethods) {
		t.Fatalf("get returned %+v", out.CORSRules)
	}
	for name, rule := range map[string]types.CORSRule{
		"unsupported method": {AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}},
		"two wildcards":      {AllowedOrigins: []string{"https://*.*.example"}, AllowedMethods: []string{"GET"}},
		"expose wildcard":    {AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, ExposeHeaders: []string{"x-amz-meta-*"}},
	} {
		_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket), CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{rule}}})
		if code := apiErrorCode(err); code != "InvalidRequest" {
			t.Errorf("%s: %v", name, err)
		}
	}
	many := make([]types.CORSRule, 101)
	for i := range many {
		many[i] = in[1]
	}
	_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket), CORSConfiguration: &types.CORSConfiguration{CORSRules: many}})
	if code := apiErrorCode(err); code != "MalformedXML" {
		t.Errorf("101 rules: %v", err)
	}
	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if code := apiErrorCode(err); code != "NoSuchCORSConfiguration" {
		t.Fatalf("get after delete: %v", err)
	}
}

// httpDo sends req and returns the response with its body read.
func httpDo(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func preflightTo(t *testing.T, endpoint, path string, h map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("OPTIONS", "http://"+endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return httpDo(t, req)
}

// corsPreflight: raw preflights on every node (the configuration reaches
// the others through Raft) and the headers of an actual request.
func corsPreflight(t *testing.T, procs []*proc, bucket, origin, otherOrigin string) {
	ask := map[string]string{"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, x-amz-meta-note"}
	for _, p := range procs {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, body := preflightTo(t, p.s3, "/"+bucket+"/some/key", ask)
			if resp.StatusCode == 200 {
				for k, want := range map[string]string{
					"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
					"Access-Control-Allow-Methods": "GET, PUT, HEAD", "Access-Control-Allow-Headers": "content-type, x-amz-meta-note",
					"Access-Control-Expose-Headers": "ETag, x-amz-request-id", "Access-Control-Max-Age": "60",
					"Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
				} {
					if got := resp.Header.Get(k); got != want {
						t.Errorf("%s: %s = %q, want %q", p.id, k, got, want)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: preflight %d %s", p.id, resp.StatusCode, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	ep := procs[0].s3
	for name, h := range map[string]map[string]string{
		"other origin": {"Origin": otherOrigin, "Access-Control-Request-Method": "GET"},
		"method":       {"Origin": origin, "Access-Control-Request-Method": "DELETE"},
	} {
		resp, body := preflightTo(t, ep, "/"+bucket+"/k", h)
		if resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessForbidden</Code>") || !strings.Contains(body, "CORSResponse: This CORS request is not allowed") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	if resp, body := preflightTo(t, ep, "/"+bucket+"/k", map[string]string{"Access-Control-Request-Method": "GET"}); resp.StatusCode != 400 || !strings.Contains(body, "<Code>BadRequest</Code>") {
		t.Errorf("no origin: %d %s", resp.StatusCode, body)
	}

	// An actual request: anonymous, so refused, and the refusal carries the
	// headers for the page to read it.
	req, _ := http.NewRequest("GET", "http://"+ep+"/"+bucket+"/missing", nil)
	req.Header.Set("Origin", origin)
	resp, body := httpDo(t, req)
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("anonymous GET with Origin: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// pageHTML is the page the browser loads from the other origin. tryFetch
// reports what the page can see of a fetch: the status, the exposed ETag
// and the body, or the error the browser raised.
const pageHTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>strata cors</title></head>
<body><p>CORS test page</p>
<script>
async function tryFetch(url, init) {
  try {
    const r = await fetch(url, init);
    return {ok: true, status: r.status, etag: r.headers.get("ETag") || "", body: await r.text(), error: ""};
  } catch (e) {
    return {ok: false, status: 0, etag: "", body: "", error: e.name + ": " + e.message};
  }
}
</script></body></html>`

func servePage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, pageHTML)
}

// fetchResult is what tryFetch returns.
type fetchResult struct {
	OK     bool   `json:"ok"`
	Status int    `json:"status"`
	ETag   string `json:"etag"`
	Body   string `json:"body"`
	Error  string `json:"error"`
}

// chromiumPath finds Debian's chromium (or another Chromium-based browser).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// corsBrowser drives headless Chromium: from the allowed origin a
// presigned PUT (after the browser's own preflight) and a presigned GET
// work and the page reads an S3 error; from an origin no rule allows, the
// browser blocks both (fetch rejects with a TypeError).
func corsBrowser(t *testing.T, c *s3.Client, bucket, origin, otherOrigin string) {
	exe := chromiumPath()
	if exe == "" {
		t.Skip("chromium is not installed (apt-get install chromium; scripts/test-deps.sh installs it): the real-browser CORS test does not run")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	presign := s3.NewPresignClient(c)
	putReq, err := presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("browser/upload.txt")}, s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	getReq, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("browser/upload.txt")}, s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	missingReq, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("browser/missing.txt")}, s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}

	var browserLog bytes.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()), chromedp.CombinedOutput(&browserLog))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	defer func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", tail(browserLog.Bytes(), 3000))
		}
	}()

	fetchFrom := func(pageURL, url string, init map[string]any) fetchResult {
		t.Helper()
		u, _ := json.Marshal(url)
		i, _ := json.Marshal(init)
		expr := fmt.Sprintf("tryFetch(%s, %s)", u, i)
		res, err := chromedp.Run(bctx, func(ctx context.Context, tg *chromedp.Target) (fetchResult, error) {
			if _, err := chromedp.Navigate(pageURL)(ctx, tg); err != nil {
				return fetchResult{}, err
			}
			return chromedp.Evaluate[fetchResult](expr, chromedp.EvalAwaitPromise)(ctx, tg)
		})
		if err != nil {
			t.Fatalf("browser on %s: %v", pageURL, err)
		}
		return res
	}
	const content = "uploaded by a browser page on another origin"

	// From the allowed origin: the presigned PUT (non-simple: the browser
	// sends its preflight first), then the presigned GET.
	res := fetchFrom(origin, putReq.URL, map[string]any{"method": "PUT", "body": content})
	if !res.OK || res.Status != 200 || res.ETag == "" {
		t.Fatalf("PUT from the allowed origin: %+v", res)
	}
	res = fetchFrom(origin, getReq.URL, map[string]any{})
	if !res.OK || res.Status != 200 || res.Body != content {
		t.Fatalf("GET from the allowed origin: %+v", res)
	}
	// An S3 error is readable too: it carries the CORS headers.
	res = fetchFrom(origin, missingReq.URL, map[string]any{})
	if !res.OK || res.Status != 404 || !strings.Contains(res.Body, "<Code>NoSuchKey</Code>") {
		t.Fatalf("GET of a missing key from the allowed origin: %+v", res)
	}

	// From an origin no rule allows, the browser blocks the GET (the
	// response has no Access-Control-Allow-Origin) and the PUT (its
	// preflight is refused, so the PUT is never sent).
	res = fetchFrom(otherOrigin, getReq.URL, map[string]any{})
	if res.OK || !strings.HasPrefix(res.Error, "TypeError") {
		t.Fatalf("GET from a disallowed origin was not blocked: %+v", res)
	}
	res = fetchFrom(otherOrigin, putReq.URL, map[string]any{"method": "PUT", "body": "overwritten"})
	if res.OK || !strings.HasPrefix(res.Error, "TypeError") {
		t.Fatalf("PUT from a disallowed origin was not blocked: %+v", res)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("browser/upload.txt")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if b, _ := io.ReadAll(out.Body); string(b) != content {
		t.Fatalf("object after the blocked PUT: %q", b)
	}
	t.Logf("browser part: %v", time.Since(start).Round(time.Millisecond))
}
