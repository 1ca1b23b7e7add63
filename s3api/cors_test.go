package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/meta"
)

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, value string
		want           bool
	}{
		{"*", "", true},
		{"*", "https://a.example", true},
		{"https://a.example", "https://a.example", true},
		{"https://a.example", "https://a.example:443", false},
		{"https://*.example", "https://b.example", true},
		{"https://*.example", "https://x.y.example", true},
		{"https://*.example", "https://.example", true},
		{"https://*.example", "https://example", false},
		{"http://*.sample.com", "http://this.sample.com:80", false},
		{"x-amz-*", "x-amz-date", true},
		{"x-amz-*", "x-amz-", true},
		{"x-amz-*", "x-am", false},
		{"ab*ba", "aba", false}, // prefix and suffix must not overlap
		{"ab*ba", "abba", true},
	} {
		if got := wildcardMatch(c.pattern, c.value); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", c.pattern, c.value, got)
		}
	}
}

// TestCORSMatch pins how a request picks its rule: the first rule whose
// origins, methods and (for a preflight) headers all allow it.
func TestCORSMatch(t *testing.T) {
	rules := []meta.CORSRule{
		{AllowedOrigins: []string{"http://www.example1.com"}, AllowedMethods: []string{"PUT", "POST", "DELETE"}, AllowedHeaders: []string{"*"}},
		{AllowedOrigins: []string{"http://www.example2.com"}, AllowedMethods: []string{"GET"}},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
		{AllowedOrigins: []string{"http://www.corstest*.com", "http://*.sample.com"}, AllowedMethods: []string{"GET", "HEAD", "PUT", "POST", "DELETE"},
			AllowedHeaders: []string{"x-amz-*", "Content-*"}},
		{AllowedOrigins: []string{"*", "https://named.example"}, AllowedMethods: []string{"GET"}},
	}
	for _, c := range []struct {
		origin, method string
		headers        []string
		want           int
		anyOrigin      bool
	}{
		{"http://www.example1.com", "POST", nil, 0, false},
		{"http://www.example1.com", "PUT", []string{"x-anything", "content-type"}, 0, false},
		{"http://www.example2.com", "GET", nil, 1, false},
		// A header no rule allows for the origin (rule 4 allows no header).
		{"http://www.example2.com", "GET", []string{"x-amz-date"}, -1, false},
		{"http://www.mycorssite1.com", "HEAD", nil, 2, true},
		{"http://www.example1.com", "HEAD", nil, 2, true},
		{"http://this.sample.com", "DELETE", nil, 3, false},
		{"http://this.sample.com:80", "DELETE", nil, -1, false},
		{"http://www.corstest1.com", "DELETE", []string{"X-Amz-Date", "Content-Length"}, 3, false},
		{"http://www.corstest1.com", "DELETE", []string{"x-amz-date", "Date"}, -1, false},
		{"http://www.mycorssite1.com", "GET", nil, 4, true},
		// Named beside "*": the origin is echoed, with credentials.
		{"https://named.example", "GET", nil, 4, false},
		{"HTTP://WWW.EXAMPLE2.COM", "PUT", nil, -1, false}, // origins are case-sensitive
		{"http://www.mycorssite1.com", "PATCH", nil, -1, false},
	} {
		i, anyOrigin := corsMatch(rules, c.origin, c.method, c.headers)
		if i != c.want || anyOrigin != c.anyOrigin {
			t.Errorf("%s %s %v: rule %d any=%v, want %d any=%v", c.origin, c.method, c.headers, i, anyOrigin, c.want, c.anyOrigin)
		}
	}
	if got := splitHeaderList(" x-amz-date,, Content-Type ,"); !slices.Equal(got, []string{"x-amz-date", "Content-Type"}) {
		t.Errorf("splitHeaderList: %q", got)
	}
}

const corsDoc = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule><ID>writers</ID>
    <AllowedOrigin>https://app.example</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>content-type</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
  </CORSRule>
</CORSConfiguration>`

// TestBucketCORSAPI: Put/Get/DeleteBucketCors with the SDK and the
// validation answers of PutBucketCors.
func TestBucketCORSAPI(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("web")})
	mustOK(t, "create", err)

	_, err = root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("web")})
	if apiCode(err) != "NoSuchCORSConfiguration" {
		t.Fatalf("get before put: %v", err)
	}
	in := types.CORSConfiguration{CORSRules: []types.CORSRule{
		{ID: aws.String("writers"), AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"PUT", "POST"},
			AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(3000)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}}
	_, err = root.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("web"), CORSConfiguration: &in})
	mustOK(t, "put", err)
	out, err := root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("web")})
	mustOK(t, "get", err)
	if len(out.CORSRules) != 2 || aws.ToString(out.CORSRules[0].ID) != "writers" || aws.ToInt32(out.CORSRules[0].MaxAgeSeconds) != 3000 ||
		!slices.Equal(out.CORSRules[0].AllowedMethods, []string{"PUT", "POST"}) || !slices.Equal(out.CORSRules[0].ExposeHeaders, []string{"ETag"}) ||
		out.CORSRules[1].ID != nil || out.CORSRules[1].MaxAgeSeconds != nil || !slices.Equal(out.CORSRules[1].AllowedOrigins, []string{"*"}) {
		t.Fatalf("get returned %+v", out.CORSRules)
	}
	_, err = root.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("web")})
	mustOK(t, "delete", err)
	_, err = root.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("web")})
	mustOK(t, "delete again", err)
	if _, err = root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("web")}); apiCode(err) != "NoSuchCORSConfiguration" {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err = root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("nope")}); apiCode(err) != "NoSuchBucket" {
		t.Fatalf("get on a missing bucket: %v", err)
	}

	// The raw document: stored as written, read back in S3's element order.
	withMD5 := func(b string) map[string]string {
		sum := md5.Sum([]byte(b))
		return map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}
	}
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/web?cors", body: []byte(corsDoc), header: withMD5(corsDoc)})
	if resp.StatusCode != 200 {
		t.Fatalf("raw put: %d %s", resp.StatusCode, body)
	}
	_, body = do(t, ts, rawReq{method: "GET", path: "/web?cors"})
	want := `<CORSRule><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>content-type</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>` +
		`<AllowedOrigin>https://app.example</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader><ID>writers</ID><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>`
	if !strings.Contains(body, `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+want) {
		t.Fatalf("raw get:\n%s", body)
	}

	rule := func(inner string) string {
		return "<CORSConfiguration><CORSRule>" + inner + "</CORSRule></CORSConfiguration>"
	}
	many := "<CORSConfiguration>" + strings.Repeat("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>", 101) + "</CORSConfiguration>"
	for _, c := range []struct {
		name, doc, code, msg string
	}{
		{"not xml", "<CORSConfiguration", "MalformedXML", ""},
		{"other root", "<Tagging/>", "MalformedXML", ""},
		{"no rules", "<CORSConfiguration/>", "MalformedXML", ""},
		{"101 rules", many, "MalformedXML", ""},
		{"no origin", rule("<AllowedMethod>GET</AllowedMethod>"), "MalformedXML", ""},
		{"no method", rule("<AllowedOrigin>*</AllowedOrigin>"), "MalformedXML", ""},
		{"max age not a number", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds>"), "MalformedXML", ""},
		{"method", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"), "InvalidRequest",
			"Found unsupported HTTP method in CORS config. Unsupported method is PATCH"},
		{"origin wildcards", rule("<AllowedOrigin>http://*.*.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), "InvalidRequest",
			`AllowedOrigin "http://*.*.example" can not have more than one wildcard.`},
		{"header wildcards", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader>"), "InvalidRequest",
			`AllowedHeader "x-*-*" can not have more than one wildcard.`},
		{"expose wildcard", rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-amz-meta-*</ExposeHeader>"), "InvalidRequest",
			`ExposeHeader "x-amz-meta-*" contains wildcard. We currently do not support wildcard for ExposeHeader.`},
		{"long id", rule("<ID>" + strings.Repeat("i", 256) + "</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), "InvalidRequest", ""},
	} {
		resp, body := do(t, ts, rawReq{method: "PUT", path: "/web?cors", body: []byte(c.doc), header: withMD5(c.doc)})
		wantS3Error(t, c.name, resp, body, 400, c.code)
		if c.msg != "" && !strings.Contains(body, "<Message>"+xmlEscape(c.msg)+"</Message>") {
			t.Errorf("%s: message in %s", c.name, body)
		}
	}
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/web?cors", body: []byte(corsDoc)})
	wantS3Error(t, "no Content-MD5", resp, body, 400, "InvalidRequest")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/web?cors", body: []byte(corsDoc), header: withMD5("other")})
	wantS3Error(t, "wrong Content-MD5", resp, body, 400, "BadDigest")
	// The refused documents left the stored one alone.
	if _, body = do(t, ts, rawReq{method: "GET", path: "/web?cors"}); !strings.Contains(body, want) {
		t.Fatalf("after refused puts:\n%s", body)
	}
}

// xmlEscape escapes s as encoding/xml writes character data.
func xmlEscape(s string) string {
	return strings.NewReplacer(`"`, "&#34;", "'", "&#39;", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}

// TestBucketCORSAuthorization: the CORS API needs s3:GetBucketCORS and
// s3:PutBucketCORS (DeleteBucketCors too, as AWS); the bucket owner has
// them without a policy.
func TestBucketCORSAuthorization(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")})
	mustOK(t, "create", err)
	addPolicy(t, ts, "cors-admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutBucketCORS","s3:GetBucketCORS"],"Resource":"arn:aws:s3:::shared"}]}`)
	addPolicy(t, ts, "cors-reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetBucketCORS","Resource":"arn:aws:s3:::shared"}]}`)
	addUser(t, ts, "admin", "admin-secret-1", "cors-admin")
	addUser(t, ts, "reader", "reader-secret-1", "cors-reader")
	addUser(t, ts, "owner", "owner-secret-1")
	admin, reader := sdkClient(t, ts, "admin", "admin-secret-1"), sdkClient(t, ts, "reader", "reader-secret-1")
	owner := sdkClient(t, ts, "owner", "owner-secret-1")

	conf := &types.CORSConfiguration{CORSRules: []types.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}
	_, err = reader.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("shared"), CORSConfiguration: conf})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("put without s3:PutBucketCORS: %v", err)
	}
	_, err = admin.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("shared"), CORSConfiguration: conf})
	mustOK(t, "put with s3:PutBucketCORS", err)
	_, err = reader.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("shared")})
	mustOK(t, "get with s3:GetBucketCORS", err)
	_, err = reader.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("shared")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("delete with only s3:GetBucketCORS: %v", err)
	}
	_, err = admin.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("shared")})
	mustOK(t, "delete with s3:PutBucketCORS", err)

	// The owner of a bucket manages its CORS without a policy.
	propose(t, ts, meta.CreateBucket{Bucket: meta.Bucket{Name: "owned", Owner: "owner"}})
	_, err = owner.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("owned"), CORSConfiguration: conf})
	mustOK(t, "owner puts", err)
	_, err = owner.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("owned")})
	mustOK(t, "owner gets", err)
	_, err = admin.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("owned")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("get of another's bucket outside the policy: %v", err)
	}
}

// preflightReq sends an unauthenticated OPTIONS with the given headers.
func preflightReq(t *testing.T, url string, h map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("OPTIONS", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return sendReq(t, req)
}

func sendReq(t *testing.T, req *http.Request) (*http.Response, string) {
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

// wantHeaders checks response headers; "" means absent.
func wantHeaders(t *testing.T, what string, resp *http.Response, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

// TestCORSPreflight: OPTIONS answered per the first matching rule without
// authentication, and refused as S3 refuses.
func TestCORSPreflight(t *testing.T) {
	ts := startTestServer(t)
	propose(t, ts, meta.CreateBucket{Bucket: meta.Bucket{Name: "site", Owner: testAccessKey}})
	propose(t, ts, meta.CreateBucket{Bucket: meta.Bucket{Name: "plain", Owner: testAccessKey}})
	u := ts.url + "/site/some/key"
	origin := func(o, m string) map[string]string {
		return map[string]string{"Origin": o, "Access-Control-Request-Method": m}
	}

	resp, body := preflightReq(t, u, nil)
	wantS3Error(t, "no origin", resp, body, 400, "BadRequest")
	if !strings.Contains(body, msgCORSNoOrigin) {
		t.Errorf("no origin: %s", body)
	}
	resp, body = preflightReq(t, u, map[string]string{"Origin": "https://app.example"})
	wantS3Error(t, "no method", resp, body, 400, "BadRequest")
	if !strings.Contains(body, "Invalid Access-Control-Request-Method: null") {
		t.Errorf("no method: %s", body)
	}
	resp, body = preflightReq(t, u, origin("https://app.example", "OPTIONS"))
	wantS3Error(t, "bad method", resp, body, 400, "BadRequest")
	resp, body = preflightReq(t, ts.url+"/plain/k", origin("https://app.example", "GET"))
	wantS3Error(t, "no configuration", resp, body, 403, "AccessForbidden")
	if !strings.Contains(body, msgCORSNotEnabled) {
		t.Errorf("no configuration: %s", body)
	}
	resp, body = preflightReq(t, ts.url+"/missing/k", origin("https://app.example", "GET"))
	wantS3Error(t, "no bucket", resp, body, 403, "AccessForbidden")

	propose(t, ts, meta.SetBucketCORS{Bucket: "site", Rules: []meta.CORSRule{
		{AllowedOrigins: []string{"https://app.example", "https://*.app.example"}, AllowedMethods: []string{"PUT", "POST", "DELETE"},
			AllowedHeaders: []string{"x-amz-*", "content-type"}, ExposeHeaders: []string{"ETag", "x-amz-request-id"}, MaxAgeSeconds: new(int64(3000))},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "HEAD"}},
	}})
	resp, body = preflightReq(t, u, map[string]string{"Origin": "https://eu.app.example", "Access-Control-Request-Method": "PUT",
		"Access-Control-Request-Headers": "Content-Type,x-amz-date"})
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("allowed preflight: %d %s", resp.StatusCode, body)
	}
	wantHeaders(t, "allowed preflight", resp, map[string]string{
		headerAllowOrigin: "https://eu.app.example", headerAllowCreds: "true", headerAllowMethods: "PUT, POST, DELETE",
		headerAllowHeaders: "Content-Type, x-amz-date", headerExposeHeads: "ETag, x-amz-request-id", headerMaxAge: "3000",
		"Vary": varyPreflight, "Content-Length": "0",
	})
	// Any origin may GET: "*" without credentials, on the bucket as on a key.
	for _, target := range []string{u, ts.url + "/site", ts.url + "/site?uploads"} {
		resp, body = preflightReq(t, target, origin("https://elsewhere.example", "GET"))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", target, resp.StatusCode, body)
		}
		wantHeaders(t, "any origin", resp, map[string]string{
			headerAllowOrigin: "*", headerAllowCreds: "", headerAllowMethods: "GET, HEAD", headerAllowHeaders: "",
			headerExposeHeads: "", headerMaxAge: "", "Vary": varyPreflight,
		})
	}
	// Virtual-host style.
	req, _ := http.NewRequest("OPTIONS", ts.url+"/k", nil)
	req.Host = "site.s3.test"
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "DELETE")
	if resp, body = sendReq(t, req); resp.StatusCode != 200 || resp.Header.Get(headerAllowOrigin) != "https://app.example" {
		t.Errorf("virtual host: %d %s", resp.StatusCode, body)
	}
	for name, h := range map[string]map[string]string{
		"origin":  origin("https://evil.example", "PUT"),
		"method":  origin("https://app.example", "HEAD"), // rule 1 lacks HEAD; rule 2 allows it for anyone
		"header":  {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-amz-date, authorization"},
		"port":    origin("https://app.example:8443", "PUT"),
		"no rule": origin("https://evil.example", "DELETE"),
	} {
		resp, body = preflightReq(t, u, h)
		if name == "method" {
			if resp.StatusCode != 200 || resp.Header.Get(headerAllowOrigin) != "*" {
				t.Errorf("method: rule 2 should answer: %d %s", resp.StatusCode, body)
			}
			continue
		}
		wantS3Error(t, "refused "+name, resp, body, 403, "AccessForbidden")
		if !strings.Contains(body, xmlEscape(msgCORSNotAllowed)) || resp.Header.Get(headerAllowOrigin) != "" || resp.Header.Get("Vary") != "" {
			t.Errorf("refused %s: %v %s", name, resp.Header, body)
		}
	}
}

// TestCORSActualResponses: the Access-Control-* headers on responses to
// cross-origin requests, error responses included, and Vary: Origin.
func TestCORSActualResponses(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	for _, b := range []string{"site", "plain"} {
		_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		mustOK(t, "create "+b, err)
		mustOK(t, "seed "+b, put(t, root, b, "obj", "hello"))
	}
	_, err := root.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("site"), CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{
		{AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"GET", "PUT"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(60)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
	}}})
	mustOK(t, "put cors", err)

	get := func(bucket, key, origin string, signed bool) (*http.Response, string) {
		t.Helper()
		if signed {
			h := map[string]string{}
			if origin != "" {
				h["Origin"] = origin
			}
			return do(t, ts, rawReq{method: "GET", path: "/" + bucket + "/" + key, header: h})
		}
		req, _ := http.NewRequest("GET", ts.url+"/"+bucket+"/"+key, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		return sendReq(t, req)
	}
	matched := map[string]string{
		headerAllowOrigin: "https://app.example", headerAllowCreds: "true", headerAllowMethods: "GET, PUT",
		headerExposeHeads: "ETag", headerMaxAge: "60", headerAllowHeaders: "", "Vary": "Origin",
	}
	resp, body := get("site", "obj", "https://app.example", true)
	if resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("signed get: %d %s", resp.StatusCode, body)
	}
	wantHeaders(t, "signed get", resp, matched)
	// Error answers carry them too, so that the page can read the error.
	resp, body = get("site", "missing", "https://app.example", true)
	wantS3Error(t, "missing key", resp, body, 404, "NoSuchKey")
	wantHeaders(t, "missing key", resp, matched)
	resp, body = get("site", "obj", "https://app.example", false)
	wantS3Error(t, "anonymous", resp, body, 403, "AccessDenied")
	wantHeaders(t, "anonymous", resp, matched)

	// No matching rule (origin, or method: only HEAD is allowed to any
	// origin), or no Origin: no Access-Control-* headers, but Vary.
	none := map[string]string{headerAllowOrigin: "", headerAllowMethods: "", headerAllowCreds: "", "Vary": "Origin"}
	resp, _ = get("site", "obj", "https://evil.example", true)
	wantHeaders(t, "other origin", resp, none)
	resp, _ = get("site", "obj", "", true)
	wantHeaders(t, "no origin", resp, none)
	resp, _ = do(t, ts, rawReq{method: "HEAD", path: "/site/obj", header: map[string]string{"Origin": "https://evil.example"}})
	wantHeaders(t, "head from anywhere", resp, map[string]string{headerAllowOrigin: "*", headerAllowCreds: "", headerAllowMethods: "HEAD", "Vary": "Origin"})
	// A bucket without CORS: nothing.
	resp, _ = get("plain", "obj", "https://app.example", true)
	wantHeaders(t, "bucket without cors", resp, map[string]string{headerAllowOrigin: "", "Vary": ""})
	// A PUT from the allowed origin, with its ETag exposed.
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/site/new", body: []byte("x"), header: map[string]string{"Origin": "https://app.example"}})
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	wantHeaders(t, "put", resp, matched)
}
