package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// The keys the fake S3 endpoint knows: an admin (the admin API answers
// it), a user (it has service accounts) and nothing else.
const (
	adminKey, adminSecret = "ADMINKEY", "admin-secret-0123456789"
	userKey, userSecret   = "USERKEY", "user-secret-0123456789"
)

// fakeS3 stands for the node's S3 port: it reads who signed a request from
// the SigV4 credential (without checking the signature: the real
// verification is s3api's, exercised by test/console) and answers the few
// calls the console makes here. It records the requests it got.
type fakeS3 struct {
	mu   sync.Mutex
	reqs []string // "METHOD path?query by AK"
}

var credRe = regexp.MustCompile(`Credential=([^/]+)/`)

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ak := ""
	if m := credRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		ak = m[1]
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, r.Method+" "+r.URL.RequestURI()+" by "+ak)
	f.mu.Unlock()
	s3err := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("x-amz-request-id", "REQ1")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message><RequestId>REQ1</RequestId></Error>", code, msg)
	}
	if ak != adminKey && ak != userKey {
		s3err(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, adminapi.PathPrefix):
		switch {
		case r.URL.Path == adminapi.PathClusterStatus && ak == adminKey:
			w.Write([]byte(`{"cluster_id":"c1","nodes":[{"id":"n1","alive":true,"state":"up"}],"raft":{"leader":"n1"}}`))
		case r.URL.Path == adminapi.PathServiceAccounts && ak == userKey:
			w.Write([]byte(`{"service_accounts":[]}`))
		default:
			w.WriteHeader(403)
			w.Write([]byte(`{"code":"AccessDenied","message":"The admin API is for the root user."}`))
		}
	case r.Method == http.MethodGet && r.URL.Path == "/":
		w.Write([]byte(`<ListAllMyBucketsResult><Buckets><Bucket><Name>b1</Name><CreationDate>2026-01-02T03:04:05Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>`))
	case r.Method == http.MethodPut && strings.Count(r.URL.Path, "/") == 1:
		w.WriteHeader(200) // CreateBucket
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		w.Write([]byte(`<ListBucketResult><Contents><Key>%3Cscript%3Ealert%281%29%3C%2Fscript%3E</Key><Size>5</Size><ETag>"e"</ETag><LastModified>2026-01-02T03:04:05Z</LastModified></Contents></ListBucketResult>`))
	case r.Method == http.MethodHead:
		s3err(404, "NoSuchKey", "")
	case r.Method == http.MethodPut && r.Header.Get("If-Match") != "":
		s3err(404, "NoSuchKey", "The specified key does not exist.") // the write probe: allowed
	default:
		s3err(501, "NotImplemented", "not in the fake")
	}
}

func (f *fakeS3) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

// clock is a settable time for sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	fake  *fakeS3
	clock *clock
	srv   *httptest.Server
	logs  *bytes.Buffer
	jar   map[string]*http.Cookie
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	fake := &fakeS3{}
	s3 := httptest.NewServer(fake)
	t.Cleanup(s3.Close)
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	logs := &bytes.Buffer{}
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) }), &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(Config{Endpoint: s3.URL, Now: clk.now, SessionIdle: time.Hour, SessionLifetime: 12 * time.Hour}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &harness{t: t, fake: fake, clock: clk, srv: srv, logs: logs, jar: map[string]*http.Cookie{}}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// do sends a request with the harness's cookies and keeps the ones set.
func (h *harness) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range h.jar {
		req.AddCookie(c)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(h.jar, c.Name)
		} else {
			h.jar[c.Name] = c
		}
	}
	return resp, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs in with the login form, as a browser does.
func (h *harness) login(ak, sk string) *http.Response {
	h.t.Helper()
	_, page := h.do("GET", "/console/login", nil, nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		h.t.Fatalf("login page has no token:\n%s", page)
	}
	resp, _ := h.do("POST", "/console/login", url.Values{"csrf": {m[1]}, "access_key": {ak}, "secret_key": {sk}, "next": {"/console/buckets"}}, nil)
	return resp
}

// token returns the session's CSRF token from a page.
func (h *harness) token() string {
	h.t.Helper()
	_, page := h.do("GET", "/console/buckets", nil, nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		h.t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	return m[1]
}

func TestLogin(t *testing.T) {
	h := newHarness(t)
	resp, _ := h.do("GET", "/console/buckets", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/login?next=") {
		t.Fatalf("page without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if !strings.HasPrefix(resp.Header.Get(name), want) {
			t.Errorf("header %s: %q", name, resp.Header.Get(name))
		}
	}

	// The login form's token must match its cookie.
	h.do("GET", "/console/login", nil, nil)
	if h.jar[loginCookie] == nil {
		t.Fatal("login page set no login cookie")
	}
	resp, page := h.do("POST", "/console/login", url.Values{"csrf": {"forged"}, "access_key": {adminKey}, "secret_key": {adminSecret}}, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "InvalidCSRFToken") || h.jar[sessionCookie] != nil {
		t.Fatalf("login with a forged token: %d, cookie %v", resp.StatusCode, h.jar[sessionCookie])
	}

	// Keys S3 does not know: refused with S3's error, no session.
	resp = h.login("NOPE", "wrong-secret")
	if resp.StatusCode != http.StatusUnauthorized || h.jar[sessionCookie] != nil {
		t.Fatalf("bad keys: %d", resp.StatusCode)
	}

	resp = h.login(adminKey, adminSecret)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/buckets" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := h.jar[sessionCookie]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure {
		t.Fatalf("session cookie: %+v", ck)
	}
	_, page = h.do("GET", "/console/buckets", nil, nil)
	if !strings.Contains(page, `href="/console/admin/cluster"`) || !strings.Contains(page, ">b1<") {
		t.Errorf("buckets page of the admin lacks the admin navigation or the bucket")
	}
	if strings.Contains(page, adminSecret) || strings.Contains(h.logs.String(), adminSecret) || strings.Contains(h.logs.String(), "wrong-secret") {
		t.Error("a secret key reached a page or the log")
	}

	// Logout forgets the session: the old cookie is refused.
	old := *h.jar[sessionCookie]
	resp, _ = h.do("POST", "/console/logout", url.Values{"csrf": {h.token()}}, nil)
	if resp.StatusCode != http.StatusSeeOther || h.jar[sessionCookie] != nil {
		t.Fatalf("logout: %d %v", resp.StatusCode, h.jar[sessionCookie])
	}
	h.jar[sessionCookie] = &old
	if resp, _ := h.do("GET", "/console/buckets", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("old session cookie after logout: %d", resp.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/browse?bucket=b": "/console/browse?bucket=b",
		"//evil.example/console/":  "/console/buckets",
		"https://evil.example/":    "/console/buckets",
		"/console/\\evil":          "/console/buckets",
		"":                         "/console/buckets",
		"/strata/admin/v1/users":   "/console/buckets",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCSRF refuses state-changing requests without the session's token,
// from another origin or site, and lets the right one through.
func TestCSRF(t *testing.T) {
	h := newHarness(t)
	h.login(adminKey, adminSecret)
	tok := h.token()
	created := func() int {
		n := 0
		for _, r := range h.fake.requests() {
			if strings.HasPrefix(r, "PUT /newbucket ") {
				n++
			}
		}
		return n
	}
	form := url.Values{"action": {"create"}, "name": {"newbucket"}}
	cases := []struct {
		name string
		csrf string
		hdr  map[string]string
	}{
		{"no token", "", nil},
		{"wrong token", "x" + tok, nil},
		{"another origin", tok, map[string]string{"Origin": "http://evil.example"}},
		{"cross-site fetch", tok, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same-site fetch (another port)", tok, map[string]string{"Sec-Fetch-Site": "same-site"}},
	}
	for _, c := range cases {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if c.csrf != "" {
			f.Set("csrf", c.csrf)
		}
		resp, page := h.do("POST", "/console/buckets", f, c.hdr)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "InvalidCSRFToken") {
			t.Errorf("%s: %d", c.name, resp.StatusCode)
		}
	}
	// A script call without the header gets a JSON refusal.
	resp, body := h.do("POST", "/console/api/upload/start", nil, nil)
	var je jsonError
	if resp.StatusCode != http.StatusForbidden || json.Unmarshal([]byte(body), &je) != nil || je.Code != "InvalidCSRFToken" {
		t.Errorf("API call without token: %d %s", resp.StatusCode, body)
	}
	if n := created(); n != 0 {
		t.Fatalf("refused posts reached S3 %d times", n)
	}
	f := url.Values{"csrf": {tok}}
	for k, v := range form {
		f[k] = v
	}
	resp, _ = h.do("POST", "/console/buckets", f, map[string]string{"Origin": h.srv.URL, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || created() != 1 {
		t.Errorf("post with the token: %d, %d creates", resp.StatusCode, created())
	}
}

// TestSessionExpiry ends sessions when idle too long and at their
// lifetime, whatever the activity.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	h.login(adminKey, adminSecret)
	tok := h.token()
	h.clock.add(59 * time.Minute)
	if resp, _ := h.do("GET", "/console/buckets", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("active session: %d", resp.StatusCode)
	}
	h.clock.add(61 * time.Minute)
	resp, _ := h.do("POST", "/console/buckets", url.Values{"csrf": {tok}, "action": {"create"}, "name": {"late"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("post on an idle session: %d", resp.StatusCode)
	}
	resp, _ = h.do("GET", "/console/buckets", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/console/login") {
		t.Fatalf("page on an idle session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The lifetime ends even a session in use.
	h.login(adminKey, adminSecret)
	for range 12 {
		h.clock.add(59 * time.Minute)
		if resp, _ := h.do("GET", "/console/buckets", nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("session in use within its lifetime: %d", resp.StatusCode)
		}
	}
	h.clock.add(20 * time.Minute) // 12h08m after login
	resp, _ = h.do("GET", "/console/buckets", nil, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "expired=1") {
		t.Fatalf("session past its lifetime: %d %s", resp.StatusCode, loc)
	}
}

func TestSessionTable(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tab := newSessions(time.Hour, 10*time.Minute, 3, func() time.Time { return now })
	ids := map[string]bool{}
	var first string
	for i := range 3 {
		id := tab.create(&session{accessKey: fmt.Sprint("k", i)})
		if ids[id] || len(id) < 40 {
			t.Fatalf("session id %q repeated or short", id)
		}
		ids[id] = true
		if i == 0 {
			first = id
		}
		now = now.Add(time.Minute)
	}
	if _, err := tab.get(first); err != nil { // the first is now the most recently used
		t.Fatal(err)
	}
	tab.create(&session{accessKey: "k3"})
	if tab.len() != 3 {
		t.Fatalf("table holds %d sessions, max 3", tab.len())
	}
	if _, err := tab.get(first); err != nil {
		t.Errorf("the most recently used session was evicted: %v", err)
	}
	for k := range tab.m {
		if ids[string(k[:])] {
			t.Error("the table is keyed by the raw id")
		}
	}
	now = now.Add(11 * time.Minute)
	if _, err := tab.get(first); err != errSessionExpired {
		t.Errorf("idle session: %v", err)
	}
	if _, err := tab.get(first); err != errNoSession {
		t.Errorf("expired session asked again: %v", err)
	}
	if _, err := tab.get(""); err != errNoSession {
		t.Errorf("no cookie: %v", err)
	}
}

// TestAccess keeps the admin pages from identities the admin API refuses,
// and service accounts pages from root.
func TestAccess(t *testing.T) {
	h := newHarness(t)
	h.login(userKey, userSecret)
	_, page := h.do("GET", "/console/buckets", nil, nil)
	if strings.Contains(page, "/console/admin/") || !strings.Contains(page, `href="/console/service-accounts"`) {
		t.Error("a user's navigation: admin links shown or service accounts missing")
	}
	for _, p := range []string{"/console/admin/users", "/console/admin/cluster", "/console/admin/policy?name=readonly"} {
		if resp, page := h.do("GET", p, nil, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "AccessDenied") {
			t.Errorf("%s for a user: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := h.do("GET", "/console/service-accounts", nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("service accounts page for a user: %d", resp.StatusCode)
	}
	if resp, page := h.do("GET", "/console/nowhere", nil, nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "NotFound") {
		t.Errorf("unknown page: %d", resp.StatusCode)
	}
	// An S3 error becomes a page with its code, message and request id.
	resp, page := h.do("GET", "/console/object?bucket=b1&key=k", nil, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "NotFound") || !strings.Contains(page, "REQ1") {
		t.Errorf("error page: %d\n%s", resp.StatusCode, page)
	}
}

// TestEscaping shows a key with markup as text.
func TestEscaping(t *testing.T) {
	h := newHarness(t)
	h.login(adminKey, adminSecret)
	resp, page := h.do("GET", "/console/browse?bucket=b1", nil, nil)
	if resp.StatusCode != 200 || strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("listing of a key with markup: %d\n%s", resp.StatusCode, page)
	}
}

// TestTemplates renders every page with empty and with filled data.
func TestTemplates(t *testing.T) {
	c, err := New(Config{Endpoint: "http://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{accessKey: "AK", admin: true, selfService: true, csrf: "TOKEN"}
	e := &Error{Status: 403, Code: "AccessDenied", Message: "no", RequestID: "R"}
	now := time.Now()
	filled := map[string]any{
		"login":    loginView{Next: "/console/buckets", Err: e, Expired: true},
		"error":    errorView{Err: e},
		"buckets":  bucketsView{Buckets: []bucketEntry{{"b", now}}},
		"browse":   browseView{Bucket: "b", Prefix: "a/b/", Crumbs: crumbs("a/b/"), Listing: listing{Prefixes: []string{"a/b/c/"}, Objects: []objectEntry{{"a/b/x", 3, "e", now}}, NextToken: "t"}, UploadErr: e},
		"object":   objectView{Bucket: "b", Key: "k", Checksums: []kv{{"CRC32", "x"}}, Versions: []versionEntry{{VersionID: "v1", IsLatest: true}, {VersionID: "v0", DeleteMarker: true}}, Share: &shareLink{URL: "http://x/b/k?sig", Expires: now}, Expiries: expiries},
		"accounts": accountsView{Accounts: []adminapi.ServiceAccount{{AccessKey: "SA", Policy: json.RawMessage(`{}`)}}, Created: &adminapi.CreateServiceAccountResponse{SecretKey: "S"}, FormErr: e},
		"admin_users": usersView{Users: []adminapi.User{{AccessKey: "u", Policies: []string{"readonly"}}}, Created: &adminapi.CreateUserResponse{SecretKey: "S"},
			Policies: []adminapi.Policy{{Name: "readonly", Predefined: true}}},
		"admin_user":     userPageView{User: adminapi.User{AccessKey: "u", Policies: []string{"p"}}, Groups: []adminapi.Group{{Name: "g"}}},
		"admin_groups":   groupsView{Groups: []adminapi.Group{{Name: "g", Members: []string{"u"}}}},
		"admin_group":    groupPageView{Group: adminapi.Group{Name: "g", Members: []string{"u"}, Policies: []string{"p"}}},
		"admin_policies": policiesView{Policies: []adminapi.Policy{{Name: "p"}}},
		"admin_policy":   policyView{Name: "p", Document: "{}", DocErr: e},
		"admin_buckets":  adminBucketsView{Buckets: []adminapi.Bucket{{Name: "b", QuotaBytes: 10, UsageBytes: 5}}},
		"admin_bucket":   adminBucketView{Bucket: adminapi.Bucket{Name: "b"}, Docs: []bucketDoc{{Sub: "policy", Label: "P", Err: e}, {Sub: "cors", Label: "C", Text: "<x/>"}}},
		"admin_cluster": clusterView{Status: adminapi.ClusterStatus{Nodes: []adminapi.NodeStatus{{ID: "n1", Alive: true, State: "up",
			Drives: []adminapi.DriveStatus{{ID: "d", Online: true}}, Heal: &adminapi.NodeHeal{Scanning: true}}},
			Heal: adminapi.TaskProgress{Active: true, PGsDone: 1, PGsTotal: 4}, Moving: adminapi.RebalanceInfo{MovingPGs: 2, MovingTotal: 8}}},
		"admin_audit": auditView{Webhooks: []adminapi.AuditWebhook{{URL: "https://x", HasToken: true}}},
	}
	for name := range c.pages {
		for i, data := range []any{nil, filled[name]} {
			if i == 1 && data == nil {
				t.Errorf("page %s has no filled test data", name)
				continue
			}
			if i == 0 {
				// The zero value of the page's own data type.
				data = zeroOf(filled[name])
			}
			w := httptest.NewRecorder()
			c.render(w, httptest.NewRequest("GET", "/console/x", nil), s, 200, name, "T", data)
			if w.Code != 200 || !strings.Contains(w.Body.String(), "</html>") {
				t.Errorf("page %s (data %d): %d\n%s", name, i, w.Code, w.Body.String())
			}
			if strings.Contains(w.Body.String(), "<form method=\"post\"") && !strings.Contains(w.Body.String(), `value="TOKEN"`) {
				t.Errorf("page %s has a form without the CSRF token", name)
			}
		}
	}
}

// zeroOf returns a zero value of v's type.
func zeroOf(v any) any {
	switch v.(type) {
	case loginView:
		return loginView{}
	case errorView:
		return errorView{Err: &Error{}}
	case bucketsView:
		return bucketsView{}
	case browseView:
		return browseView{}
	case objectView:
		return objectView{}
	case accountsView:
		return accountsView{}
	case usersView:
		return usersView{}
	case userPageView:
		return userPageView{}
	case groupsView:
		return groupsView{}
	case groupPageView:
		return groupPageView{}
	case policiesView:
		return policiesView{}
	case policyView:
		return policyView{}
	case adminBucketsView:
		return adminBucketsView{}
	case adminBucketView:
		return adminBucketView{}
	case clusterView:
		return clusterView{}
	case auditView:
		return auditView{}
	}
	return v
}

func TestHelpers(t *testing.T) {
	if got := s3Escape("a b/ü+%", false); got != "a%20b/%C3%BC%2B%25" {
		t.Errorf("s3Escape key: %s", got)
	}
	if got := s3Escape("a/b", true); got != "a%2Fb" {
		t.Errorf("s3Escape segment: %s", got)
	}
	q := url.Values{"prefix": {"a b+c"}, "versioning": {""}, "list-type": {"2"}}
	if got := encodeQuery(q); got != "list-type=2&prefix=a%20b%2Bc&versioning" {
		t.Errorf("encodeQuery: %s", got)
	}
	if cs := crumbs("a/b/c"); len(cs) != 2 || cs[1].Name != "b" || cs[1].Prefix != "a/b/" {
		t.Errorf("crumbs: %+v", cs)
	}
	tags, err := parseTags("k=v\n\n x = y=z \n")
	if err != nil || len(tags) != 2 || tags[1].Key != "x" || tags[1].Value != "y=z" {
		t.Errorf("parseTags: %+v %v", tags, err)
	}
	if _, err := parseTags("novalue"); err == nil {
		t.Error("parseTags accepted a line without '='")
	}
	c := &Console{cfg: Config{PartSize: 8 << 20}}
	if p := c.partSize(1 << 30); p != 8<<20 {
		t.Errorf("part size of 1 GiB: %d", p)
	}
	if p := c.partSize(5 << 40); p*maxParts < 5<<40 || p%(1<<20) != 0 {
		t.Errorf("part size of 5 TiB: %d (needs more than 10,000 parts or is not whole MiB)", p)
	}
	for _, bad := range []Config{{}, {Endpoint: "ftp://x"}, {Endpoint: "http://x", PartSize: 1 << 20}, {Endpoint: "http://x", SharePort: "nope!"}} {
		if _, err := New(bad, nil); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestIndentXML(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://a&amp;b</AllowedOrigin></CORSRule></CORSConfiguration>`
	want := `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedOrigin>https://a&amp;b</AllowedOrigin>
  </CORSRule>
</CORSConfiguration>`
	if got := indentXML(in); got != want {
		t.Errorf("indentXML:\n%s\nwant\n%s", got, want)
	}
	for _, odd := range []string{"<a><b>x</a>", "<a>text<b/>more</a>", "not xml"} {
		if got := indentXML(odd); got != odd {
			t.Errorf("indentXML(%q) = %q, want it unchanged", odd, got)
		}
	}
}
