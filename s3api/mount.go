package s3api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/meta"
)

// A mount is a net/http handler served on the S3 port under a path prefix
// (the web console under /console/). Mounted handlers authenticate on
// their own: they are reached before S3 routing and S3 authentication.

// mountBuffer is how much of a mounted handler's response is held before
// it is streamed: pages are answered with a Content-Length, downloads
// stream.
const mountBuffer = 64 << 10

// errBodyDetached is what a mounted handler reads from the request body
// once its response streams: the connection belongs to the response then.
var errBodyDetached = errors.New("s3api: request body read after the response began streaming")

type mount struct {
	api    string // audit and metrics API name
	prefix string // "/NAME/"
	h      http.Handler
}

// Mount serves with h every path-style request whose path is prefix or
// below it, and GET and HEAD of prefix without its trailing slash (other
// methods there are S3's, which refuses NAME as a bucket). prefix is "/NAME/" with
// NAME a valid bucket name, which becomes reserved: CreateBucket refuses
// it, so a bucket never hides behind the handler. Virtual-host requests
// never reach h. api names the requests in audit events and metrics.
// Register before Serve.
//
// h gets a *http.Request whose body streams from the connection (as S3
// bodies do) and whose context ends with the request. Its response is
// buffered until it flushes (http.Flusher) or writes more than 64 KiB,
// then streamed (with the Content-Length h set, if any); h must be done
// with the request body by then. Once something is mounted, objects read
// by path-style GET and HEAD carry Content-Security-Policy: sandbox: they
// share the handler's origin, and a script in an uploaded HTML or SVG
// file must not run with that origin's cookies.
func (s *Server) Mount(api, prefix string, h http.Handler) {
	name := strings.Trim(prefix, "/")
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") || strings.Contains(name, "/") || meta.ValidateBucketName(name) != nil {
		panic("s3api: Mount prefix must be /NAME/ with NAME a valid bucket name: " + prefix)
	}
	s.routesMu.Lock()
	s.mounts = append(s.mounts, mount{api: api, prefix: prefix, h: h})
	s.routesMu.Unlock()
}

// mounted returns the mount serving a request for rawPath, nil when
// none. The prefix without its slash is the handler's for GET and HEAD
// (a browser typing the address) and S3's otherwise, where the reserved
// name is refused as a bucket (CreateBucket: InvalidBucketName).
func (s *Server) mounted(method, rawPath string) *mount {
	s.routesMu.RLock()
	defer s.routesMu.RUnlock()
	for i := range s.mounts {
		m := &s.mounts[i]
		if strings.HasPrefix(rawPath, m.prefix) ||
			rawPath == strings.TrimSuffix(m.prefix, "/") && (method == http.MethodGet || method == http.MethodHead) {
			return m
		}
	}
	return nil
}

// hasMounts reports whether a handler shares the S3 port's origin.
func (s *Server) hasMounts() bool {
	s.routesMu.RLock()
	defer s.routesMu.RUnlock()
	return len(s.mounts) > 0
}

// serveMount runs m's handler for r: the request converted for net/http
// with its body streaming, the response buffered or streamed (Mount).
func (s *Server) serveMount(r *request, m *mount) {
	fctx := r.fctx
	r.api = m.api
	r.bucket, r.key = "", "" // a reserved name, no bucket
	ctx, cancel := context.WithTimeout(s.base, s.cfg.TransferTimeout)
	r.ctx, r.cancel = ctx, cancel

	size := int64(fctx.Request.Header.ContentLength())
	switch {
	case size == -1: // chunked
	case size < 0: // neither a length nor chunked: no body (RFC 9112 6.3)
		size = 0
	}
	body := &mountBody{}
	if raw := fctx.RequestBodyStream(); raw != nil && size != 0 {
		body.r = &clientBody{r: r.bodyStream(), remaining: size, fctx: fctx, timeout: s.cfg.ReadTimeout}
	}
	uri := string(fctx.Request.Header.RequestURI())
	req, err := http.NewRequestWithContext(ctx, r.method, uri, body)
	if err != nil {
		s.writeError(r, apiError(codeInvalidURI))
		return
	}
	if size == 0 {
		req.Body = http.NoBody
	}
	req.RequestURI = uri
	req.ContentLength = size
	req.Host = string(fctx.Host())
	req.RemoteAddr = fctx.RemoteAddr().String()
	req.TLS = fctx.TLSConnectionState()
	for k, v := range fctx.Request.Header.All() {
		switch name := string(k); http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length", "Transfer-Encoding":
		default:
			req.Header.Add(name, string(v))
		}
	}

	w := &mountWriter{header: http.Header{}, commit: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			v := recover()
			if v != nil && v != http.ErrAbortHandler {
				s.log.Error("panic in mounted handler", "api", m.api, "err", fmt.Sprint(v), "request_id", r.id, "stack", string(debug.Stack()))
			}
			w.panicked = v != nil
			if w.streaming {
				if v != nil {
					_ = w.pw.CloseWithError(io.ErrUnexpectedEOF) // the client sees a cut response
				} else {
					_ = w.pw.Close()
				}
			}
		}()
		m.h.ServeHTTP(w, req)
	}()
	select {
	case <-w.commit:
	case <-done:
	}
	if !w.streaming {
		// The handler has returned (commit is closed only to stream).
		defer cancel()
		r.cancel = nil
		if w.panicked {
			s.writeError(r, apiError(codeInternalError))
			return
		}
		w.copyHeader(&fctx.Response.Header)
		fctx.SetStatusCode(w.code())
		fctx.SetBody(w.buf)
		return
	}
	// Streaming: the connection is the response's from here on.
	body.detach()
	w.copyHeader(&fctx.Response.Header)
	fctx.SetStatusCode(w.code())
	length := -1
	if n, err := strconv.Atoi(w.header.Get("Content-Length")); err == nil && n >= 0 {
		length = n
	}
	rc := &mountStream{r: io.MultiReader(bytes.NewReader(w.buf), w.pr), pr: w.pr}
	r.stream = &objectStream{rc: rc, cancel: cancel, conn: fctx.Conn(), timeout: s.cfg.WriteTimeout, log: s.log, requestID: r.id}
	fctx.SetBodyStream(r.stream, length)
	r.cancel = nil // the stream cancels the context when it is closed
}

// mountBody is a mounted handler's request body: the client's, until the
// response streams.
type mountBody struct {
	mu       sync.Mutex
	r        io.Reader // nil: empty
	detached bool
}

func (b *mountBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.detached:
		return 0, errBodyDetached
	case b.r == nil:
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *mountBody) Close() error { return nil }

func (b *mountBody) detach() {
	b.mu.Lock()
	b.detached = true
	b.mu.Unlock()
}

// mountWriter is the http.ResponseWriter of a mounted handler. Only the
// handler's goroutine writes to it; the fasthttp side reads it after
// commit is closed (streaming) or the handler returned.
type mountWriter struct {
	header    http.Header
	status    int
	buf       []byte
	streaming bool
	commit    chan struct{} // closed when the response starts streaming
	pr        *io.PipeReader
	pw        *io.PipeWriter
	panicked  bool
}

func (w *mountWriter) Header() http.Header { return w.header }

func (w *mountWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
}

func (w *mountWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.streaming {
		return w.pw.Write(p)
	}
	if len(w.buf)+len(p) <= mountBuffer {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	w.stream()
	return w.pw.Write(p)
}

// Flush starts streaming the response (http.Flusher).
func (w *mountWriter) Flush() {
	w.WriteHeader(http.StatusOK)
	if !w.streaming {
		w.stream()
	}
}

func (w *mountWriter) stream() {
	w.streaming = true
	w.pr, w.pw = io.Pipe()
	close(w.commit)
}

func (w *mountWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// copyHeader sets the handler's headers on the fasthttp response; the
// framing headers are fasthttp's.
func (w *mountWriter) copyHeader(h *fasthttp.ResponseHeader) {
	for k, vs := range w.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
}

// mountStream is a streamed response read by fasthttp; closing it (done
// or failed) makes the handler's further writes fail.
type mountStream struct {
	r  io.Reader
	pr *io.PipeReader
}

func (m *mountStream) Read(p []byte) (int, error) { return m.r.Read(p) }

func (m *mountStream) Close() error { return m.pr.Close() }
