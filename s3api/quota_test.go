package s3api

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/quota"
)

// TestQuotaHandlers: with an accountant, the handlers refuse what would
// pass a bucket's quota — a PUT of known length (even a large one the
// client is still sending: it reads the answer, not a reset), a chunked
// PUT and a browser POST (counted while they stream) — and record what
// writes add and deletes free.
func TestQuotaHandlers(t *testing.T) {
	var acc *quota.Accountant
	ts := startTestServerDeps(t, func(d *Deps) {
		var err error
		acc, err = quota.New(quota.Config{NodeID: "n1", RecountInterval: -1}, d.Control.(*fakeControl), d.Objects.(*fakeObjects), nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Quota = acc
	})
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/qb1"}); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	if err := ts.ctl.Propose(context.Background(), meta.SetBucketQuota{Bucket: "qb1", Bytes: 2000}); err != nil {
		t.Fatal(err)
	}
	var b meta.Bucket
	ts.ctl.View(func(st *meta.State) { b = *st.Buckets["qb1"] })
	pending := func() int64 {
		n, _ := acc.Pending(b)
		return n
	}

	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/qb1/a", body: make([]byte, 1500)}); resp.StatusCode != 200 {
		t.Fatalf("put under the quota: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/qb1/b", body: make([]byte, 600)})
	wantS3Error(t, "put over the quota", resp, body, 403, "QuotaExceeded")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/qb1/big", body: make([]byte, 8<<20)})
	wantS3Error(t, "large put over the quota", resp, body, 403, "QuotaExceeded")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/qb1/c", body: make([]byte, 600), chunked: true, unsigned: true})
	wantS3Error(t, "chunked put over the quota", resp, body, 403, "QuotaExceeded")

	// A browser POST is counted as it streams.
	later := time.Now().Add(time.Hour)
	post := func(key string, n int) (int, string) {
		fields := append([]formField{{"key", key}}, signV4Form(testSecretKey, later, map[string]string{"bucket": "qb1"}, []string{"starts-with", "$key", ""})...)
		resp, body := sendPost(t, postUpload{bucketURL: ts.url + "/qb1", fields: fields, filename: "f", file: bytes.Repeat([]byte("x"), n)})
		return resp.StatusCode, body
	}
	if st, body := post("d", 600); st != 403 || !bytes.Contains([]byte(body), []byte("QuotaExceeded")) {
		t.Fatalf("post over the quota: %d %s", st, body)
	}
	for _, key := range []string{"b", "big", "c", "d"} {
		if stored(t, ts, "qb1", key) != nil {
			t.Fatalf("refused %s was stored", key)
		}
	}
	if got := pending(); got != 1500 {
		t.Fatalf("counted %d bytes, want 1500", got)
	}
	if st, body := post("e", 400); st != 204 {
		t.Fatalf("post under the quota: %d %s", st, body)
	}
	// A delete frees, an overwrite counts the difference.
	if resp, body := do(t, ts, rawReq{method: "DELETE", path: "/qb1/a"}); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if got := pending(); got != 400 {
		t.Fatalf("after the delete: %d bytes, want 400", got)
	}
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/qb1/c", body: make([]byte, 600), chunked: true, unsigned: true}); resp.StatusCode != 200 {
		t.Fatalf("chunked put under the quota: %d %s", resp.StatusCode, body)
	}
	if got := pending(); got != 1000 {
		t.Fatalf("after the chunked put: %d bytes, want 1000", got)
	}
	if err := acc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.ctl.View(func(st *meta.State) { b = *st.Buckets["qb1"] })
	if b.Usage.Bytes != 1000 || b.Usage.Objects != 2 || pending() != 0 {
		t.Fatalf("replicated usage %+v", b.Usage)
	}
}
