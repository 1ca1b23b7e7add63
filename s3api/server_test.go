package s3api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
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

func TestHealth(t *testing.T) {
	ts := startTestServer(t)
	resp, _ := get(t, ts.url+"/strata/health/live")
	if resp.StatusCode != 200 {
		t.Errorf("live: %d", resp.StatusCode)
	}
	if resp.Header.Get("x-amz-request-id") == "" || resp.Header.Get("x-amz-id-2") == "" {
		t.Errorf("health response lacks request ids: %v", resp.Header)
	}
	if resp.Header.Get("Server") != "Strata" || resp.Header.Get("Date") == "" {
		t.Errorf("Server/Date: %v", resp.Header)
	}
	resp, _ = get(t, ts.url+"/strata/health/ready")
	if resp.StatusCode != 200 {
		t.Errorf("ready: %d", resp.StatusCode)
	}
	ts.ctl.mu.Lock()
	ts.ctl.ready = false
	ts.ctl.mu.Unlock()
	resp, _ = get(t, ts.url+"/strata/health/ready")
	if resp.StatusCode != 503 {
		t.Errorf("not ready: %d", resp.StatusCode)
	}
}

func TestExtraRoute(t *testing.T) {
	ts := startTestServer(t)
	ts.HandleFunc("/metrics", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("metrics here") })
	resp, body := get(t, ts.url+"/metrics")
	if resp.StatusCode != 200 || body != "metrics here" {
		t.Errorf("metrics: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("x-amz-request-id") == "" {
		t.Error("extra route lacks request id")
	}
	if !ts.reservedBucket("metrics") || !ts.reservedBucket("strata") || ts.reservedBucket("data") {
		t.Error("reserved bucket names wrong")
	}
}

func TestRequestIDsUnique(t *testing.T) {
	ts := startTestServer(t)
	seen := map[string]bool{}
	for range 20 {
		id := ts.newRequestID()
		if len(id) != 16 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestPortInUse(t *testing.T) {
	ts := startTestServer(t)
	_, err := New(Config{Addr: ts.Addr()}, Deps{Control: ts.ctl, Objects: ts.objs, Unseal: fakeUnseal}, nil)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("second server on %s: %v", ts.Addr(), err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.Domains = []string{"ok.example.com", ".bad"}
	if err := c.Validate(); err == nil {
		t.Error("domain with a leading dot accepted")
	}
	c = DefaultConfig()
	c.ReadTimeout = -1
	if err := c.Validate(); err == nil {
		t.Error("negative timeout accepted")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

// TestAnonymousDenied checks that an unsigned request is refused with an S3
// error body that carries the request id.
func TestAnonymousDenied(t *testing.T) {
	ts := startTestServer(t)
	resp, body := get(t, ts.url+"/bkt/key")
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("anonymous GET: %d %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("x-amz-request-id")
	if id == "" || !strings.Contains(body, "<RequestId>"+id+"</RequestId>") || !strings.Contains(body, "<Resource>/bkt/key</Resource>") {
		t.Errorf("error body/headers: %v %s", resp.Header, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("content-type %q", ct)
	}
}

func TestCloseWithoutServe(t *testing.T) {
	ctl := newFakeControl()
	srv, err := New(Config{Addr: "127.0.0.1:0"}, Deps{Control: ctl, Objects: newFakeObjects(nil), Unseal: fakeUnseal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// The port is free again.
	srv2, err := New(Config{Addr: addr}, Deps{Control: ctl, Objects: newFakeObjects(nil), Unseal: fakeUnseal}, nil)
	if err != nil {
		t.Fatalf("rebind %s: %v", addr, err)
	}
	if err := srv2.Close(); err != nil {
		t.Fatal(err)
	}
}
