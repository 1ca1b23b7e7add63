package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
)

const (
	maxKeyLength    = 1024    // bytes, as S3
	maxUserMetaSize = 2 << 10 // bytes of x-amz-meta-* names and values, as S3
	metaPrefix      = "x-amz-meta-"
	checksumPrefix  = "x-amz-checksum-"
	defaultCType    = "binary/octet-stream" // what S3 answers for an object stored without one
	deadlineStep    = time.Second           // how often a streaming read or write moves its deadline
)

// storedHeaders returns the standard request headers PutObject keeps and
// GET/HEAD return, by lower-case name.
func storedHeaders() [6]string {
	return [6]string{
		"content-type", "content-encoding", "content-disposition",
		"cache-control", "expires", "content-language",
	}
}

// requestBody returns r's body decoded and verified as its signature
// requires (sigv), and its decoded size. Reading it moves the connection's
// read deadline forward, and a body that ends before its Content-Length
// reads as io.ErrUnexpectedEOF (IncompleteBody). With requireLength, a
// request whose length is unknown (no Content-Length and no
// x-amz-decoded-content-length) is MissingContentLength.
func (s *Server) requestBody(r *request, requireLength bool) (io.Reader, int64, error) {
	h := &r.fctx.Request.Header
	cl := int64(h.ContentLength())
	decoded := r.header("x-amz-decoded-content-length")
	if requireLength && decoded == "" {
		// fasthttp reports a request with neither Content-Length nor
		// Transfer-Encoding as length 0; only the raw headers tell.
		if cl < 0 || (cl == 0 && !hasRawHeader(h.RawHeaders(), "content-length")) {
			return nil, 0, apiError(codeMissingContentLength)
		}
	}
	raw := r.fctx.RequestBodyStream()
	if raw == nil {
		raw = bytes.NewReader(nil)
	}
	want := cl
	if want < 0 {
		want = -1
	}
	body, size, err := r.auth.Body(&clientBody{r: raw, remaining: want, fctx: r.fctx, timeout: s.cfg.ReadTimeout})
	if err != nil {
		return nil, 0, err
	}
	return body, size, nil
}

// hasRawHeader reports whether the raw request headers contain name
// (lower-case).
func hasRawHeader(raw []byte, name string) bool {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		k, _, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			return true
		}
	}
	return false
}

// clientBody reads the raw request body from the connection: it moves the
// read deadline forward while bytes arrive, so a live upload is bounded by
// its pauses rather than its length, and reports a body that ends early as
// io.ErrUnexpectedEOF.
type clientBody struct {
	r         io.Reader
	remaining int64 // bytes still expected; -1 when unknown (chunked)
	fctx      *fasthttp.RequestCtx
	timeout   time.Duration
	moved     time.Time
}

func (b *clientBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.moved) >= deadlineStep {
		// An error here means fasthttp no longer lets the handler move
		// deadlines (timed out); the read then fails on its own.
		_ = b.fctx.SetReadDeadline(now.Add(b.timeout))
		b.moved = now
	}
	n, err := b.r.Read(p)
	if b.remaining >= 0 {
		b.remaining -= int64(n)
		if errors.Is(err, io.EOF) && b.remaining > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	return n, err
}

// putOptions collects the attributes PutObject stores: Content-MD5, the
// standard content headers and x-amz-meta-*. Checksums are added once sigv
// has verified them (see checksumsAtEnd).
func putOptions(r *request) (dataplane.PutOptions, error) {
	var opts dataplane.PutOptions
	if v := r.header("content-md5"); v != "" {
		sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(sum) != md5.Size {
			return opts, apiError(codeInvalidDigest)
		}
		opts.ContentMD5 = sum
	}
	m := map[string]string{}
	for _, name := range storedHeaders() {
		v := r.header(name)
		if name == "content-encoding" {
			v = stripAWSChunked(v)
		}
		if v != "" {
			m[name] = v
		}
	}
	userMeta := 0
	for k, v := range r.fctx.Request.Header.All() {
		name := strings.ToLower(string(k))
		switch {
		case strings.HasPrefix(name, metaPrefix):
			if _, dup := m[name]; dup {
				m[name] += "," + string(v)
			} else {
				m[name] = string(v)
			}
			userMeta += len(name) - len(metaPrefix) + len(v)
		}
	}
	if userMeta > maxUserMetaSize {
		return opts, apiError(codeMetadataTooLarge)
	}
	opts.Meta = m
	return opts, nil
}

// stripAWSChunked removes the aws-chunked coding, which describes the
// transfer and not the object, from a Content-Encoding value.
func stripAWSChunked(v string) string {
	if !strings.Contains(strings.ToLower(v), "aws-chunked") {
		return v
	}
	var keep []string
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "aws-chunked") {
			keep = append(keep, c)
		}
	}
	return strings.Join(keep, ",")
}

// checksumsAtEnd completes the object's metadata with the checksums sigv
// verified (header or trailing ones) once the whole body has been handed
// out: sigv hands out the last byte only after verifying everything, and
// the data plane reads exactly size bytes and commits the record after
// reading them, so the metadata is complete before it is stored.
type checksumsAtEnd struct {
	r    io.Reader
	left int64 // bytes not yet read
	done func()
	seen bool
}

func (c *checksumsAtEnd) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if !c.seen && (c.left <= 0 && (err == nil || err == io.EOF)) {
		c.seen = true
		c.done()
	}
	return n, err
}

// putObject serves PutObject.
func (s *Server) putObject(r *request) error {
	if len(r.key) > maxKeyLength {
		return apiError(codeKeyTooLong)
	}
	if r.header("x-amz-server-side-encryption") != "" || r.header("x-amz-server-side-encryption-customer-algorithm") != "" {
		return apiError(codeNotImplemented, "Server-side encryption is not implemented.")
	}
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	opts, err := putOptions(r)
	if err != nil {
		return err
	}
	body, size, err := s.requestBody(r, true)
	if err != nil {
		return err
	}
	if size < 0 {
		return apiError(codeMissingContentLength)
	}
	if size > s.cfg.MaxObjectSize {
		return apiError(codeEntityTooLarge)
	}
	auth := r.auth
	addChecksums := func() {
		for alg, v := range auth.Checksums() {
			opts.Meta[checksumPrefix+strings.ToLower(alg)] = v
		}
	}
	if size == 0 {
		// The data plane need not read an empty body, but it still carries
		// what sigv must verify (the payload hash, an aws-chunked final
		// chunk and its trailers): verify it here.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return err
		}
		addChecksums()
		body = bytes.NewReader(nil)
	} else {
		body = &checksumsAtEnd{r: body, left: size, done: addChecksums}
	}
	info, err := s.deps.Objects.PutObject(r.ctx, r.bucket, r.key, body, size, opts)
	if err != nil {
		return err
	}
	h := &r.fctx.Response.Header
	h.Set("ETag", `"`+info.ETag+`"`)
	for alg, v := range auth.Checksums() {
		h.Set(checksumPrefix+strings.ToLower(alg), v)
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// objectHeaders sets the headers GET and HEAD return for info: ETag,
// Last-Modified, Content-Type, the stored content headers (with the
// response-* query overrides) and x-amz-meta-*. Checksums are returned
// when the client asks (x-amz-checksum-mode: ENABLED) for the whole object.
func (s *Server) objectHeaders(r *request, info dataplane.ObjectInfo, whole bool) {
	h := &r.fctx.Response.Header
	h.Set("ETag", `"`+info.ETag+`"`)
	h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	for _, name := range storedHeaders() {
		v := info.Meta[name]
		if o := r.query.Get("response-" + name); o != "" && headerSafe(o) {
			v = o
		}
		if name == "content-type" && v == "" {
			v = defaultCType
		}
		if v != "" {
			h.Set(name, v)
		}
	}
	checksums := whole && strings.EqualFold(r.header("x-amz-checksum-mode"), "ENABLED")
	for k, v := range info.Meta {
		switch {
		case strings.HasPrefix(k, metaPrefix):
			h.Set(k, v)
		case checksums && strings.HasPrefix(k, checksumPrefix):
			h.Set(k, v)
		}
	}
}

// getObject serves GetObject: conditional headers, a single byte range,
// and the body streamed from the data plane.
func (s *Server) getObject(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	obj, err := s.deps.Objects.GetObject(r.ctx, r.bucket, r.key)
	if err != nil {
		return err
	}
	info := obj.Info
	if done, err := s.preconditions(r, info); done || err != nil {
		return err
	}
	rng := parseRange(r.header("range"), info.Size)
	if rng.unsatisfiable {
		r.fctx.Response.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		return apiError(codeInvalidRange)
	}
	var rc io.ReadCloser
	if rng.length > 0 {
		if rc, err = s.openReader(r.ctx, obj, rng.start, rng.length); err != nil {
			return err
		}
	}
	s.objectHeaders(r, info, !rng.partial)
	status := fasthttp.StatusOK
	if rng.partial {
		status = fasthttp.StatusPartialContent
		r.fctx.Response.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, rng.start+rng.length-1, info.Size))
	}
	r.fctx.SetStatusCode(status)
	if rc == nil {
		r.fctx.Response.Header.SetContentLength(0)
		return nil
	}
	// The stream now owns the request context: fasthttp closes it when the
	// body is written (or the write fails), which releases the reader and
	// cancels the context.
	r.fctx.SetBodyStream(&objectStream{
		rc: rc, cancel: r.cancel, conn: r.fctx.Conn(), timeout: s.cfg.WriteTimeout,
		log: s.log, requestID: r.id,
	}, int(rng.length))
	r.cancel = nil
	return nil
}

// headObject serves HeadObject: GetObject's headers without a body.
func (s *Server) headObject(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	info, err := s.deps.Objects.HeadObject(r.ctx, r.bucket, r.key)
	if err != nil {
		return err
	}
	if done, err := s.preconditions(r, info); done || err != nil {
		return err
	}
	rng := parseRange(r.header("range"), info.Size)
	if rng.unsatisfiable {
		r.fctx.Response.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		return apiError(codeInvalidRange)
	}
	s.objectHeaders(r, info, !rng.partial)
	status := fasthttp.StatusOK
	if rng.partial {
		status = fasthttp.StatusPartialContent
		r.fctx.Response.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, rng.start+rng.length-1, info.Size))
	}
	r.fctx.SetStatusCode(status)
	r.fctx.Response.SkipBody = true
	r.fctx.Response.Header.SetContentLength(int(rng.length))
	return nil
}

// preconditions evaluates the conditional headers for GET and HEAD. done
// is true when the response is already written (304); a failed condition
// is returned as PreconditionFailed.
func (s *Server) preconditions(r *request, info dataplane.ObjectInfo) (done bool, err error) {
	switch evalConditions(r.header, info.ETag, info.ModTime) {
	case condFailed:
		return true, apiError(codePreconditionFailed)
	case condNotModified:
		h := &r.fctx.Response.Header
		h.Set("ETag", `"`+info.ETag+`"`)
		h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
		r.fctx.SetStatusCode(fasthttp.StatusNotModified)
		r.fctx.Response.SkipBody = true
		return true, nil
	}
	return false, nil
}

// deleteObject serves DeleteObject: 204 whether or not the key existed.
func (s *Server) deleteObject(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	if err := s.deps.Objects.DeleteObject(r.ctx, r.bucket, r.key); err != nil && !errors.Is(err, dataplane.ErrObjectNotFound) {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// objectStream is a GET body handed to fasthttp. It moves the
// connection's write deadline forward while bytes leave, so a large
// download is bounded by its pauses rather than its length, and its Close
// (called by fasthttp when the response is done or failed) releases the
// data plane reader and cancels the request context.
type objectStream struct {
	rc        io.ReadCloser
	cancel    context.CancelFunc
	conn      net.Conn
	timeout   time.Duration
	moved     time.Time
	log       *slog.Logger
	requestID string
}

func (o *objectStream) Read(p []byte) (int, error) {
	if now := time.Now(); o.conn != nil && now.Sub(o.moved) >= deadlineStep {
		_ = o.conn.SetWriteDeadline(now.Add(o.timeout))
		o.moved = now
	}
	n, err := o.rc.Read(p)
	if err != nil && err != io.EOF {
		o.log.Warn("object read failed mid-response", "request_id", o.requestID, "err", err)
	}
	return n, err
}

func (o *objectStream) Close() error {
	err := o.rc.Close()
	o.cancel()
	return err
}
