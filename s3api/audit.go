package s3api

import (
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/audit"
)

// Every request served on the port (S3, STS, admin API, health, metrics,
// and requests fasthttp could not parse) ends in exactly one call of
// Deps.Observe with its audit.Event: record builds it once the response is
// complete, from what the request learnt on its way (API name, signer,
// error code, body bytes read). A GET whose body streams after the
// handler returned is recorded when the stream is closed, with the bytes
// actually sent.

// apiName names r's operation for audit and metrics.
func (r *request) apiName() string {
	switch {
	case r.api != "":
		return r.api
	case r.routed:
		return r.op.String()
	}
	return "Unknown"
}

// bodyStream returns the request body as fasthttp streams it, counting
// the bytes read (Event.BytesIn).
func (r *request) bodyStream() io.Reader {
	raw := r.fctx.RequestBodyStream()
	if raw == nil {
		return strings.NewReader("")
	}
	return &countingReader{r: raw, n: &r.bytesIn}
}

// countingReader counts the bytes read through it; the data plane may read
// from another goroutine, hence the atomic.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// record hands r's audit event to Deps.Observe: now, or when r's object
// stream is closed after its body was sent.
func (s *Server) record(r *request) {
	if s.deps.Observe == nil {
		return
	}
	fctx := r.fctx
	ev := &audit.Event{
		Time: r.start.UTC(), RequestID: r.id, API: r.apiName(), Method: r.method,
		Bucket: r.bucket, Key: r.key, SourceIP: fctx.RemoteIP().String(), UserAgent: string(fctx.UserAgent()),
		Status: fctx.Response.StatusCode(), ErrorCode: r.errCode, BytesIn: r.bytesIn.Load(),
	}
	if !r.vhost && strings.HasPrefix(r.rawPath, "/strata/") {
		// The frontend's own routes (admin API, health, metrics): the
		// reserved bucket name "strata" is no bucket.
		ev.Bucket, ev.Key = "", ""
	}
	if w := r.who; w != nil && w.authenticated() {
		ev.AccessKey, ev.User = w.accessKey, w.user.Name
		if w.kind == identServiceAccount || w.kind == identSession {
			ev.ParentUser = w.user.Name
		}
	}
	if r.stream != nil {
		start := r.start
		r.stream.done = func(sent int64) {
			ev.BytesOut, ev.Duration = sent, time.Since(start)
			s.deps.Observe(ev)
		}
		return
	}
	if !fctx.Response.IsBodyStream() { // Body() would read a stream into memory
		ev.BytesOut = int64(len(fctx.Response.Body()))
	}
	ev.Duration = time.Since(r.start)
	s.deps.Observe(ev)
}
