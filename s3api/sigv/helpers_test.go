package sigv

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// vhostDomain is the virtual-host domain of the test servers: a request
// for bucket.vhostDomain (reaching the server as a proxy would) names the
// bucket in its Host header.
const vhostDomain = "s3.strata.test"

// fromHTTP is what the s3api layer does with fasthttp, done with net/http:
// the raw request target, split at the first '?', and headers by name. An
// absolute-form target (a request sent to the server as a proxy) is
// reduced to its path and query, and a host under vhostDomain names the
// virtual-hosted bucket.
func fromHTTP(r *http.Request) *Request {
	path, query, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(path, "/") {
		path, query = r.URL.EscapedPath(), r.URL.RawQuery
	}
	var vhost string
	if b, ok := strings.CutSuffix(r.Host, "."+vhostDomain); ok {
		vhost = b
	}
	return &Request{
		VirtualHostBucket: vhost,
		Method:            r.Method, Path: path, Query: query, ContentLength: r.ContentLength,
		Header: func(name string) string {
			if name == "host" {
				return r.Host
			}
			return strings.Join(r.Header.Values(name), ",")
		},
		HeaderNames: func() []string { return slices.Collect(maps.Keys(r.Header)) },
	}
}

// served is what the test server saw of one request.
type served struct {
	method, path, query string
	host                string
	header              http.Header
	auth                *Auth
	size                int64
	body                []byte
	checksums           map[string]string
	err                 error
}

// verifyServer is an HTTP server whose handler verifies every request with
// sigv and reads its body through Auth.Body, recording the outcome.
type verifyServer struct {
	*httptest.Server
	creds Credentials
	// tamper, if set, wraps the raw body before verification.
	tamper func(io.Reader) io.Reader

	mu   sync.Mutex
	seen []served
}

func newVerifyServer(t *testing.T, tls bool, creds Credentials) *verifyServer {
	s := &verifyServer{creds: creds}
	h := http.HandlerFunc(s.handle)
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *verifyServer) handle(w http.ResponseWriter, r *http.Request) {
	rec := served{method: r.Method, host: r.Host, header: r.Header.Clone()}
	req := fromHTTP(r)
	rec.path, rec.query = req.Path, req.Query
	raw := io.Reader(r.Body)
	if s.tamper != nil {
		raw = s.tamper(raw)
	}
	rec.auth, rec.err = Verify(req, s.creds, time.Now())
	if rec.err == nil {
		var body io.Reader
		body, rec.size, rec.err = rec.auth.Body(raw)
		if rec.err == nil {
			rec.body, rec.err = io.ReadAll(body)
			rec.checksums = rec.auth.Checksums()
		}
	}
	s.mu.Lock()
	s.seen = append(s.seen, rec)
	s.mu.Unlock()

	if rec.err != nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>`+
			strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(rec.err.Error())+`</Message></Error>`)
		return
	}
	w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
	w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// all returns the requests served and forgets them.
func (s *verifyServer) all() []served {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = nil
	return seen
}

// last returns the last request served and forgets all.
func (s *verifyServer) last(t *testing.T) served {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		t.Fatal("the server saw no request")
	}
	r := s.seen[len(s.seen)-1]
	s.seen = nil
	return r
}
