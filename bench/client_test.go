package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeS3 keeps PUT bodies and serves them back, recording the headers of
// every request; corrupt flips a byte of what GET serves, etag overrides
// the ETag it answers.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	headers map[string]http.Header // by method
	corrupt bool
	etag    string
	status  int // answer every request with it (a SlowDown), when set
	count   int // requests
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.headers[r.Method] = r.Header.Clone()
	f.count++
	if f.status != 0 {
		w.WriteHeader(f.status)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>`)
		return
	}
	switch r.Method {
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		f.objects[r.URL.Path] = b
		w.Header().Set("ETag", `"put-etag"`)
	case http.MethodGet:
		b := append([]byte(nil), f.objects[r.URL.Path]...)
		if f.corrupt {
			b[len(b)/2] ^= 1
		}
		etag := `"put-etag"`
		if f.etag != "" {
			etag = f.etag
		}
		w.Header().Set("ETag", etag)
		w.Write(b)
	}
}

// TestClientSignsAndChecks pins what docs/benchmarks.md says of the client:
// SigV4 with a signed payload and a CRC32 on PUT, checksum mode on GET, no
// retries; and that GET's checks catch a wrong byte, size or ETag.
func TestClientSignsAndChecks(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{}, headers: map[string]http.Header{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Endpoints, cfg.AccessKey, cfg.SecretKey = []string{srv.URL}, "AKID", "secret"
	cfg.Workloads, _ = Select("1m")
	r, err := newRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{r: r, s3: r.clients[0], rng: rand.New(rand.NewPCG(1, 1)), rec: new(recorder), errs: &errorLog{}, pool: &pool{}, size: mib}
	ctx := context.Background()
	if err := c.put(ctx, "1m"); err != nil {
		t.Fatal(err)
	}
	o := c.pool.objs[0]
	h := f.headers[http.MethodPut]
	sum := sha256.Sum256(r.data.bytes(o.off, o.size))
	if !strings.HasPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/") || h.Get("X-Amz-Content-Sha256") != hex.EncodeToString(sum[:]) ||
		h.Get("X-Amz-Checksum-Crc32") == "" || h.Get("Content-Encoding") != "" || h.Get("Content-Length") != "1048576" {
		t.Errorf("PUT headers %v", h)
	}
	if o.etag != `"put-etag"` || !strings.HasPrefix(o.key, r.prefix+"/1m/") {
		t.Errorf("object %+v", o)
	}
	for i, want := range []string{"", "differs from what was written", "ETag", ""} {
		f.corrupt, f.etag = i == 1, map[bool]string{true: `"other"`}[i == 2]
		n, err := c.fetch(ctx, o, true)
		switch {
		case want == "" && (err != nil || n != mib):
			t.Errorf("GET %d: %d bytes, %v", i, n, err)
		case want != "" && (!errors.Is(err, errVerify) || !strings.Contains(err.Error(), want)):
			t.Errorf("GET %d: %v, want an error with %q", i, err, want)
		}
	}
	if f.headers[http.MethodGet].Get("X-Amz-Checksum-Mode") != "ENABLED" {
		t.Errorf("GET headers %v", f.headers[http.MethodGet])
	}
	// A byte flipped goes unseen by a GET that does not compare bytes...
	f.corrupt = true
	if _, err := c.fetch(ctx, o, false); err != nil {
		t.Errorf("unverified GET: %v", err)
	}
	// ...while a short body is always caught.
	o2 := *o
	o2.size = mib + 1
	if _, err := c.fetch(ctx, &o2, false); !errors.Is(err, errVerify) {
		t.Errorf("short body: %v", err)
	}
	// get counts a failed check as an error, with the message kept.
	c.gets = 0
	c.get(ctx, o)
	if c.rec[OpGet].errors != 1 || len(c.errs.samples()) != 1 {
		t.Errorf("errors %d, samples %q", c.rec[OpGet].errors, c.errs.samples())
	}
	// No retries: a 503 is one request and one error.
	f.status, f.count = http.StatusServiceUnavailable, 0
	if err := c.put(ctx, "1m"); err == nil || f.count != 1 || c.rec[OpPut].errors != 1 {
		t.Errorf("503: %v after %d requests, %d errors", err, f.count, c.rec[OpPut].errors)
	}
	if s := c.errs.samples(); len(s) != 2 || s[1] != "PUT: SlowDown: Reduce your request rate. (once)" {
		t.Errorf("samples %q", s)
	}
}
