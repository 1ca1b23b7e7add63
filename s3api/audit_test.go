package s3api

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-io/strata/audit"
	"github.com/strata-io/strata/meta"
)

// observed collects the events a Server hands to Deps.Observe.
type observed struct {
	mu     sync.Mutex
	events map[string][]audit.Event // by request id
}

func (o *observed) observe(ev *audit.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events[ev.RequestID] = append(o.events[ev.RequestID], *ev)
}

// one returns the single event of request id, waiting a little for a
// streamed body's event.
func (o *observed) one(t *testing.T, id string) audit.Event {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		o.mu.Lock()
		evs := o.events[id]
		o.mu.Unlock()
		if len(evs) == 1 {
			return evs[0]
		}
		if len(evs) > 1 || time.Now().After(deadline) {
			t.Fatalf("request %s has %d events: %+v", id, len(evs), evs)
		}
	}
}

// TestAuditEvents: every kind of request ends in one event with its
// request id, API, caller, status, error code and body bytes.
func TestAuditEvents(t *testing.T) {
	obs := &observed{events: map[string][]audit.Event{}}
	ts := startTestServerDeps(t, func(d *Deps) { d.Observe = obs.observe })
	addUser(t, ts, "alice", "alice-secret-key", "readwrite")
	addServiceAccount(t, ts, "SVCALICE", "svc-secret-key", "alice", "")
	propose(t, ts, meta.CreateBucket{Bucket: meta.Bucket{Name: "bkt", Owner: "alice"}})
	propose(t, ts, meta.SetBucketCORS{Bucket: "bkt", Rules: []meta.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}})

	type want struct {
		api, bucket, key, accessKey, user, parent, code string
		status                                          int
		in, out                                         int64
	}
	check := func(what string, resp *http.Response, w want) {
		t.Helper()
		id := resp.Header.Get("x-amz-request-id")
		ev := obs.one(t, id)
		got := want{ev.API, ev.Bucket, ev.Key, ev.AccessKey, ev.User, ev.ParentUser, ev.ErrorCode, ev.Status, ev.BytesIn, ev.BytesOut}
		if got != w {
			t.Errorf("%s: event %+v\nwant %+v", what, got, w)
		}
		if ev.SourceIP != "127.0.0.1" || ev.Duration <= 0 || ev.Time.IsZero() || ev.Method != resp.Request.Method {
			t.Errorf("%s: event %+v", what, ev)
		}
	}
	do := func(req *http.Request) *http.Response {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	body := []byte("twelve bytes")
	now := time.Now()

	live, _ := get(t, ts.url+"/strata/health/live")
	check("health", live, want{api: "HealthLive", status: 200, out: 3})

	put := do(signedAs(t, ts, "PUT", "/bkt/k1", body, "alice", "alice-secret-key", "", now))
	check("put", put, want{api: "PutObject", bucket: "bkt", key: "k1", accessKey: "alice", user: "alice", status: 200, in: 12})

	getResp := do(signedAs(t, ts, "GET", "/bkt/k1", nil, "SVCALICE", "svc-secret-key", "", now))
	check("get by a service account", getResp, want{api: "GetObject", bucket: "bkt", key: "k1", accessKey: "SVCALICE", user: "alice", parent: "alice", status: 200, out: 12})

	head := do(signedAs(t, ts, "HEAD", "/bkt/k1", nil, "alice", "alice-secret-key", "", now))
	check("head", head, want{api: "HeadObject", bucket: "bkt", key: "k1", accessKey: "alice", user: "alice", status: 200})

	missing := do(signedAs(t, ts, "GET", "/bkt/nope", nil, "alice", "alice-secret-key", "", now))
	check("missing key", missing, want{api: "GetObject", bucket: "bkt", key: "nope", accessKey: "alice", user: "alice", status: 404, code: "NoSuchKey",
		out: int64(missing.ContentLength)})

	anon := do(mustRequest(t, "GET", ts.url+"/bkt/k1", nil))
	check("anonymous", anon, want{api: "GetObject", bucket: "bkt", key: "k1", status: 403, code: "AccessDenied", out: int64(anon.ContentLength)})

	pre := mustRequest(t, "OPTIONS", ts.url+"/bkt/k1", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "GET")
	check("preflight", do(pre), want{api: "PreflightRequest", bucket: "bkt", key: "k1", status: 200})

	admin := do(signedAs(t, ts, "GET", "/strata/admin/v1/users", nil, testAccessKey, testSecretKey, "", now))
	check("admin", admin, want{api: "admin:ListUsers", accessKey: testAccessKey, user: "root", status: 200, out: int64(admin.ContentLength)})

	denied := do(signedAs(t, ts, "GET", "/strata/admin/v1/users", nil, "alice", "alice-secret-key", "", now))
	check("admin denied", denied, want{api: "admin:ListUsers", accessKey: "alice", user: "alice", status: 403, code: "AccessDenied", out: int64(denied.ContentLength)})

	// An SDK client's multi-request workflow: each request once.
	c := sdkClient(t, ts, "alice", "alice-secret-key")
	if _, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	lists := 0
	for _, evs := range obs.events {
		if len(evs) != 1 {
			t.Errorf("request with %d events: %+v", len(evs), evs)
		}
		if evs[0].API == "ListObjectsV2" {
			lists++
		}
	}
	if lists != 1 {
		t.Errorf("%d ListObjectsV2 events", lists)
	}
}

func mustRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestMetricsAccess: the three ways into /strata/metrics.
func TestMetricsAccess(t *testing.T) {
	metricsDep := func(d *Deps) {
		d.Metrics = func(w io.Writer) (string, error) {
			_, err := io.WriteString(w, "strata_test 1\n")
			return "text/plain; version=0.0.4", err
		}
	}
	status := func(req *http.Request) int {
		t.Helper()
		resp, body := send(t, req)
		if resp.StatusCode == 200 && (body != "strata_test 1\n" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain")) {
			t.Fatalf("metrics body %q, type %q", body, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode
	}
	url := func(ts *testServer) string { return ts.url + MetricsPath }
	now := time.Now()

	t.Run("token", func(t *testing.T) {
		ts := startTestServerDeps(t, metricsDep, func(c *Config) { c.MetricsToken = "prom-token" })
		req := mustRequest(t, "GET", url(ts), nil)
		if got := status(req); got != 401 {
			t.Fatalf("no token: %d", got)
		}
		req.Header.Set("Authorization", "Bearer wrong")
		if got := status(req); got != 401 {
			t.Fatalf("wrong token: %d", got)
		}
		req.Header.Set("Authorization", "Bearer prom-token")
		if got := status(req); got != 200 {
			t.Fatalf("token: %d", got)
		}
		// With a token set, signatures do not open the door.
		if got := status(signedAs(t, ts, "GET", MetricsPath, nil, testAccessKey, testSecretKey, "", now)); got != 401 {
			t.Fatalf("signed by root with a token configured: %d", got)
		}
	})
	t.Run("public", func(t *testing.T) {
		ts := startTestServerDeps(t, metricsDep, func(c *Config) { c.MetricsPublic = true })
		if got := status(mustRequest(t, "GET", url(ts), nil)); got != 200 {
			t.Fatalf("public: %d", got)
		}
	})
	t.Run("policy", func(t *testing.T) {
		ts := startTestServerDeps(t, metricsDep)
		addPolicy(t, ts, "prometheus", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"admin:Prometheus","Resource":"*"}]}`)
		addUser(t, ts, "prom", "prom-secret-key", "prometheus")
		addUser(t, ts, "bob", "bob-secret-key", "readwrite")
		for _, c := range []struct {
			who    string
			req    *http.Request
			status int
		}{
			{"anonymous", mustRequest(t, "GET", url(ts), nil), 403},
			{"root", signedAs(t, ts, "GET", MetricsPath, nil, testAccessKey, testSecretKey, "", now), 200},
			{"allowed user", signedAs(t, ts, "GET", MetricsPath, nil, "prom", "prom-secret-key", "", now), 200},
			{"other user", signedAs(t, ts, "GET", MetricsPath, nil, "bob", "bob-secret-key", "", now), 403},
			{"bad signature", signedAs(t, ts, "GET", MetricsPath, nil, "prom", "wrong-secret-key", "", now), 403},
			{"POST", signedAs(t, ts, "POST", MetricsPath, nil, testAccessKey, testSecretKey, "", now), 405},
		} {
			if got := status(c.req); got != c.status {
				t.Errorf("%s: %d, want %d", c.who, got, c.status)
			}
		}
	})
}
