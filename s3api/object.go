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
	"github.com/strata-io/strata/meta"
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

// bodyLength is what a handler requires of a request body's length.
type bodyLength int

const (
	// anyLength: a body without Content-Length reads as empty (bucket
	// configurations, XML requests).
	anyLength bodyLength = iota
	// lengthOrChunked: a Content-Length, an x-amz-decoded-content-length,
	// or Transfer-Encoding: chunked (size -1: read to the end).
	lengthOrChunked
	// lengthRequired: the decoded size must be known in advance.
	lengthRequired
)

// requestBody returns r's body decoded and verified as its signature
// requires (sigv), and its decoded size (-1 when unknown: a chunked
// transfer without x-amz-decoded-content-length). Reading it moves the
// connection's read deadline forward, and a body that ends before its
// Content-Length reads as io.ErrUnexpectedEOF (IncompleteBody). need says
// when a missing length is MissingContentLength.
func (s *Server) requestBody(r *request, need bodyLength) (io.Reader, int64, error) {
	h := &r.fctx.Request.Header
	cl := int64(h.ContentLength())
	decoded := r.header("x-amz-decoded-content-length")
	// fasthttp reports a request with neither Content-Length nor
	// Transfer-Encoding as length 0 and a chunked one as -1; only the raw
	// headers tell the first from an empty body.
	noLength := cl == 0 && !hasRawHeader(h.RawHeaders(), "content-length")
	if need != anyLength && decoded == "" && (noLength || (cl < 0 && need == lengthRequired)) {
		return nil, 0, apiError(codeMissingContentLength)
	}
	raw := r.bodyStream()
	want := cl
	if want < 0 {
		want = -1
	}
	body, size, err := r.auth.Body(&clientBody{r: raw, remaining: want, fctx: r.fctx, timeout: s.cfg.ReadTimeout})
	if err != nil {
		return nil, 0, err
	}
	if size < 0 && need == lengthRequired {
		return nil, 0, apiError(codeMissingContentLength)
	}
	return body, size, nil
}

// readSmallBody reads a request body that is parsed in memory (XML
// configurations and requests), at most limit bytes: a longer body is
// tooLarge. A Content-MD5 header is verified (InvalidDigest, BadDigest);
// checksum headers and trailers are verified by sigv as the body is read.
func (s *Server) readSmallBody(r *request, limit int64, tooLarge error) ([]byte, error) {
	md5sum, err := contentMD5(r)
	if err != nil {
		return nil, err
	}
	body, size, err := s.requestBody(r, anyLength)
	if err != nil {
		return nil, err
	}
	if size > limit {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge
	}
	if md5sum != nil {
		if sum := md5.Sum(data); !bytes.Equal(sum[:], md5sum) {
			return nil, apiError(codeBadDigest, "The Content-MD5 you specified did not match what we received.")
		}
	}
	return data, nil
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

// contentMD5 decodes a Content-MD5 header: nil when absent, InvalidDigest
// when it is not the base64 of 16 bytes.
func contentMD5(r *request) ([]byte, error) {
	v := r.header("content-md5")
	if v == "" {
		return nil, nil
	}
	sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(sum) != md5.Size {
		return nil, apiError(codeInvalidDigest)
	}
	return sum, nil
}

// checkKey refuses keys S3 refuses: longer than 1,024 bytes.
func checkKey(key string) error {
	if len(key) > maxKeyLength {
		return apiError(codeKeyTooLong)
	}
	return nil
}

// refuseSSE answers NotImplemented for server-side encryption requests.
func refuseSSE(r *request) error {
	if r.header("x-amz-server-side-encryption") != "" || r.header("x-amz-server-side-encryption-customer-algorithm") != "" {
		return apiError(codeNotImplemented, "Server-side encryption is not implemented.")
	}
	return nil
}

// validVersionID reports whether v can be a version id: "null" or an id
// of the data plane's form. Anything else is InvalidArgument rather than
// NoSuchVersion, as S3 answers.
func validVersionID(v string) bool { return dataplane.ValidVersionID(v) }

// versionParam returns the versionId query parameter ("" when absent).
func versionParam(r *request) (string, error) {
	vs, ok := r.query["versionId"]
	if !ok {
		return "", nil
	}
	switch {
	case len(vs) != 1:
		return "", apiError(codeInvalidArgument, "Invalid version id specified")
	case vs[0] == "":
		return "", apiError(codeInvalidArgument, "Version id cannot be the empty string")
	case !validVersionID(vs[0]):
		return "", apiError(codeInvalidArgument, "Invalid version id specified")
	}
	return vs[0], nil
}

// setVersionHeader answers x-amz-version-id for a bucket that is or was
// versioned; a never-versioned bucket's objects have no version id to
// report, as in S3.
func setVersionHeader(r *request, b meta.Bucket, versionID string) {
	if b.Versioning != meta.VersioningOff && versionID != "" {
		r.fctx.Response.Header.Set("x-amz-version-id", versionID)
	}
}

// objectMeta collects the attributes an object stores from the request
// headers: the standard content headers and x-amz-meta-* (names
// lower-cased, repeated headers joined by ','). User metadata over 2 KB is
// MetadataTooLarge.
func objectMeta(r *request) (map[string]string, error) {
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
		if !strings.HasPrefix(name, metaPrefix) {
			continue
		}
		if _, dup := m[name]; dup {
			m[name] += "," + string(v)
		} else {
			m[name] = string(v)
		}
		userMeta += len(name) - len(metaPrefix) + len(v)
	}
	if userMeta > maxUserMetaSize {
		return nil, apiError(codeMetadataTooLarge)
	}
	return m, nil
}

// putOptions collects what PutObject stores from the request: Content-MD5,
// the content headers and x-amz-meta-*, x-amz-tagging, the declared
// checksum and the conditional-write headers.
func putOptions(r *request, b meta.Bucket) (dataplane.PutOptions, declaredChecksum, error) {
	opts := dataplane.PutOptions{Versioning: b.Versioning}
	var err error
	if opts.ContentMD5, err = contentMD5(r); err != nil {
		return opts, declaredChecksum{}, err
	}
	if opts.Meta, err = objectMeta(r); err != nil {
		return opts, declaredChecksum{}, err
	}
	if opts.Tags, err = parseTaggingHeader(r.header("x-amz-tagging")); err != nil {
		return opts, declaredChecksum{}, err
	}
	cs, err := requestChecksum(r)
	if err != nil {
		return opts, declaredChecksum{}, err
	}
	opts.ChecksumAlgorithm, opts.ChecksumValue = cs.alg, cs.value
	if opts.IfMatch, opts.IfNoneMatch, err = writeConditions(r); err != nil {
		return opts, declaredChecksum{}, err
	}
	return opts, cs, nil
}

// writeConditions reads the conditional-write headers of PutObject and
// CompleteMultipartUpload: If-None-Match must be "*" (S3 answers
// NotImplemented for an ETag there), If-Match an ETag (quotes removed) or
// "*".
func writeConditions(r *request) (ifMatch, ifNoneMatch string, err error) {
	if v := strings.TrimSpace(r.header("if-none-match")); v != "" {
		if v != "*" {
			return "", "", apiError(codeNotImplemented, "A header you provided implies functionality that is not implemented: If-None-Match accepts only '*' on writes.")
		}
		ifNoneMatch = v
	}
	if v := strings.TrimSpace(r.header("if-match")); v != "" {
		if strings.Contains(v, ",") {
			return "", "", apiError(codeNotImplemented, "A header you provided implies functionality that is not implemented: If-Match accepts one ETag on writes.")
		}
		ifMatch = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	}
	return ifMatch, ifNoneMatch, nil
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

// limitedBody fails a body of unknown length (chunked) that grows past
// max with EntityTooLarge.
type limitedBody struct {
	r    io.Reader
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, apiError(codeEntityTooLarge)
	}
	return n, err
}

// objectBody prepares a verified request body for the data plane: an
// empty one is read here (the data plane need not read it, but sigv must
// still verify its payload hash, final chunk and trailers), one of unknown
// length is bounded by max.
func objectBody(body io.Reader, size, max int64) (io.Reader, error) {
	switch {
	case size == 0:
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, err
		}
		return bytes.NewReader(nil), nil
	case size < 0:
		return &limitedBody{r: body, left: max}, nil
	}
	return body, nil
}

// putObject serves PutObject: the body streamed to the data plane with
// its declared checksum, Content-MD5, metadata, tags and write conditions.
func (s *Server) putObject(r *request) error {
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := refuseSSE(r); err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	opts, cs, err := putOptions(r, b)
	if err != nil {
		return err
	}
	if opts.ACL, err = requestACL(r, false); err != nil {
		return err
	}
	body, size, err := s.requestBody(r, lengthOrChunked)
	if err != nil {
		return err
	}
	if size > s.cfg.MaxObjectSize {
		return apiError(codeEntityTooLarge)
	}
	ticket, err := s.admit(r, b, size)
	if err != nil {
		return err
	}
	defer ticket.Cancel()
	if body, err = objectBody(body, size, s.cfg.MaxObjectSize); err != nil {
		return withAlg(err, cs.alg)
	}
	if size < 0 {
		body = ticket.Reader(body)
	}
	info, err := s.deps.Objects.PutObject(r.ctx, r.bucket, r.key, body, size, opts)
	if err != nil {
		return withAlg(err, cs.alg)
	}
	written(ticket, info.Size, info.Freed)
	h := &r.fctx.Response.Header
	h.Set("ETag", `"`+info.ETag+`"`)
	setVersionHeader(r, b, info.VersionID)
	setChecksumHeaders(h, info.Checksum)
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// readSpan is the part of an object a GET or HEAD answers with.
type readSpan struct {
	start, length int64
	partial       bool               // 206 with Content-Range
	partsCount    int                // x-amz-mp-parts-count; 0 for none
	checksum      dataplane.Checksum // answered with x-amz-checksum-mode: ENABLED
}

// partNumberParam returns the partNumber query parameter (0 when absent).
func partNumberParam(r *request) (int, error) {
	vs, ok := r.query["partNumber"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	if err != nil || len(vs) != 1 || n < 1 || n > dataplane.MaxParts {
		return 0, apiError(codeInvalidArgument, msgPartNumber)
	}
	return n, nil
}

// span decides what of info a GET or HEAD returns: part partNumber (1 is
// the whole of an object not uploaded in parts), the Range, or all of it.
func span(r *request, info dataplane.ObjectInfo, partNumber int) (readSpan, error) {
	if partNumber > 0 {
		if r.header("range") != "" {
			return readSpan{}, apiError(codeInvalidRequest, "Cannot specify both Range header and partNumber query parameter")
		}
		if len(info.Parts) == 0 {
			if partNumber != 1 {
				return readSpan{}, apiError(codeInvalidPartNumber)
			}
			return readSpan{length: info.Size, partial: info.Size > 0, checksum: info.Checksum}, nil
		}
		if partNumber > len(info.Parts) {
			return readSpan{}, apiError(codeInvalidPartNumber)
		}
		sp := readSpan{partial: true, partsCount: len(info.Parts)}
		for _, p := range info.Parts[:partNumber-1] {
			sp.start += p.Size
		}
		part := info.Parts[partNumber-1]
		sp.length = part.Size
		if info.Checksum.Type == dataplane.ChecksumComposite {
			// A composite checksum is made of the parts' own: each part
			// read alone can be checked against its checksum.
			sp.checksum = part.Checksum
		}
		return sp, nil
	}
	rng := parseRange(r.header("range"), info.Size)
	if rng.unsatisfiable {
		r.fctx.Response.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		return readSpan{}, apiError(codeInvalidRange)
	}
	sp := readSpan{start: rng.start, length: rng.length, partial: rng.partial}
	if !rng.partial {
		sp.checksum = info.Checksum
	}
	return sp, nil
}

// hasResponseOverrides reports response-* query parameters on a GET/HEAD.
func hasResponseOverrides(r *request) bool {
	for _, name := range storedHeaders() {
		if _, ok := r.query["response-"+name]; ok {
			return true
		}
	}
	return false
}

// readTarget resolves the bucket, version and part of a GET or HEAD, and
// refuses what S3 refuses before looking the object up.
func (s *Server) readTarget(r *request) (b meta.Bucket, versionID string, partNumber int, err error) {
	if b, err = s.bucket(r.ctx, r.bucket); err != nil {
		return b, "", 0, err
	}
	if versionID, err = versionParam(r); err != nil {
		return b, "", 0, err
	}
	if partNumber, err = partNumberParam(r); err != nil {
		return b, "", 0, err
	}
	if hasResponseOverrides(r) && (r.auth == nil || r.auth.AccessKey == "") {
		return b, "", 0, apiError(codeInvalidRequest, "Request specific response headers cannot be used for anonymous GET requests.")
	}
	return b, versionID, partNumber, nil
}

// objectHeaders sets the headers GET and HEAD return for info: ETag,
// Last-Modified, the stored content headers (with the response-* query
// overrides), x-amz-meta-*, the version id, the tag count, the parts count
// and, when the client asks (x-amz-checksum-mode: ENABLED), the checksum of
// what is returned.
func (s *Server) objectHeaders(r *request, b meta.Bucket, info dataplane.ObjectInfo, sp readSpan) {
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
	for k, v := range info.Meta {
		if strings.HasPrefix(k, metaPrefix) {
			// Sent as stored (lower case, as S3 does): clients such as
			// botocore take the metadata key from the header name as is.
			h.SetCanonical([]byte(k), []byte(v))
		}
	}
	if !r.vhost && s.hasMounts() {
		// The object shares the origin of a mounted handler (Mount).
		h.Set("Content-Security-Policy", "sandbox")
	}
	setVersionHeader(r, b, info.VersionID)
	if len(info.Tags) > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(len(info.Tags)))
	}
	if sp.partsCount > 0 {
		h.Set("x-amz-mp-parts-count", strconv.Itoa(sp.partsCount))
	}
	if checksumMode(r) {
		setChecksumHeaders(h, sp.checksum)
	}
	if sp.partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", sp.start, sp.start+sp.length-1, info.Size))
	}
}

// getObject serves GetObject: a version, conditional headers, a byte range
// or a part, and the body streamed from the data plane.
func (s *Server) getObject(r *request) error {
	b, versionID, partNumber, err := s.readTarget(r)
	if err != nil {
		return err
	}
	obj, err := s.deps.Objects.GetObject(r.ctx, r.bucket, r.key, dataplane.GetOptions{VersionID: versionID})
	if err != nil {
		return err
	}
	info := obj.Info
	if done, err := s.preconditions(r, b, info); done || err != nil {
		return err
	}
	sp, err := span(r, info, partNumber)
	if err != nil {
		return err
	}
	var rc io.ReadCloser
	if sp.length > 0 {
		if rc, err = s.openReader(r.ctx, obj, sp.start, sp.length); err != nil {
			return err
		}
	}
	s.objectHeaders(r, b, info, sp)
	status := fasthttp.StatusOK
	if sp.partial {
		status = fasthttp.StatusPartialContent
	}
	r.fctx.SetStatusCode(status)
	if rc == nil {
		r.fctx.Response.Header.SetContentLength(0)
		return nil
	}
	// The stream now owns the request context: fasthttp closes it when the
	// body is written (or the write fails), which releases the reader and
	// cancels the context.
	r.stream = &objectStream{
		rc: rc, cancel: r.cancel, conn: r.fctx.Conn(), timeout: s.cfg.WriteTimeout,
		log: s.log, requestID: r.id,
	}
	r.fctx.SetBodyStream(r.stream, int(sp.length))
	r.cancel = nil
	return nil
}

// headObject serves HeadObject: GetObject's headers without a body.
func (s *Server) headObject(r *request) error {
	b, versionID, partNumber, err := s.readTarget(r)
	if err != nil {
		return err
	}
	info, err := s.deps.Objects.HeadObject(r.ctx, r.bucket, r.key, dataplane.GetOptions{VersionID: versionID})
	if err != nil {
		return err
	}
	if done, err := s.preconditions(r, b, info); done || err != nil {
		return err
	}
	sp, err := span(r, info, partNumber)
	if err != nil {
		return err
	}
	s.objectHeaders(r, b, info, sp)
	status := fasthttp.StatusOK
	if sp.partial {
		status = fasthttp.StatusPartialContent
	}
	r.fctx.SetStatusCode(status)
	r.fctx.Response.SkipBody = true
	r.fctx.Response.Header.SetContentLength(int(sp.length))
	return nil
}

// preconditions evaluates the conditional headers for GET and HEAD. done
// is true when the response is already written (304); a failed condition
// is returned as PreconditionFailed.
func (s *Server) preconditions(r *request, b meta.Bucket, info dataplane.ObjectInfo) (done bool, err error) {
	switch evalConditions(r.header, info.ETag, info.ModTime) {
	case condFailed:
		return true, apiError(codePreconditionFailed)
	case condNotModified:
		h := &r.fctx.Response.Header
		h.Set("ETag", `"`+info.ETag+`"`)
		h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
		setVersionHeader(r, b, info.VersionID)
		r.fctx.SetStatusCode(fasthttp.StatusNotModified)
		r.fctx.Response.SkipBody = true
		return true, nil
	}
	return false, nil
}

// deleteObject serves DeleteObject: 204 whether or not the key or version
// existed, with x-amz-version-id and x-amz-delete-marker as S3 reports
// them.
func (s *Server) deleteObject(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	versionID, err := versionParam(r)
	if err != nil {
		return err
	}
	res, err := s.deps.Objects.DeleteObject(r.ctx, r.bucket, r.key, dataplane.DeleteOptions{VersionID: versionID, Versioning: b.Versioning})
	if err != nil && !errors.Is(err, dataplane.ErrObjectNotFound) {
		return err
	}
	s.recordUsage(b, -res.Freed.Bytes, -res.Freed.Versions)
	h := &r.fctx.Response.Header
	if res.VersionID != "" && (b.Versioning != meta.VersioningOff || versionID != "") {
		h.Set("x-amz-version-id", res.VersionID)
	}
	if res.DeleteMarker {
		h.Set("x-amz-delete-marker", "true")
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// objectStream is a GET body handed to fasthttp. It moves the
// connection's write deadline forward while bytes leave, so a large
// download is bounded by its pauses rather than its length, and its Close
// (called by fasthttp when the response is done or failed) releases the
// data plane reader, cancels the request context and records the request
// (done, set by record) with the bytes sent.
type objectStream struct {
	rc        io.ReadCloser
	cancel    context.CancelFunc
	conn      net.Conn
	timeout   time.Duration
	moved     time.Time
	log       *slog.Logger
	requestID string
	sent      int64
	done      func(sent int64)
}

func (o *objectStream) Read(p []byte) (int, error) {
	if now := time.Now(); o.conn != nil && now.Sub(o.moved) >= deadlineStep {
		_ = o.conn.SetWriteDeadline(now.Add(o.timeout))
		o.moved = now
	}
	n, err := o.rc.Read(p)
	o.sent += int64(n)
	if err != nil && err != io.EOF {
		o.log.Warn("object read failed mid-response", "request_id", o.requestID, "err", err)
	}
	return n, err
}

func (o *objectStream) Close() error {
	err := o.rc.Close()
	o.cancel()
	if done := o.done; done != nil {
		o.done = nil
		done(o.sent)
	}
	return err
}
