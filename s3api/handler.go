package s3api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/s3api/sigv"
)

// request is one S3 request being served. It lives for one call of handle;
// only ctx (through a GET body stream) may outlive it.
type request struct {
	fctx *fasthttp.RequestCtx
	// ctx is the request's own context: fctx.Done fires only at server
	// shutdown, and fctx is reused after the handler returns.
	ctx    context.Context
	cancel context.CancelFunc
	id     string
	method string
	target
	query url.Values
	op    op
	auth  *sigv.Auth
	who   *identity // who signed the request (set by authenticate)
	// postACL is the acl field of a browser POST upload, the x-amz-acl
	// of that request for the policy condition s3:x-amz-acl.
	postACL string

	// For the audit event (audit.go).
	start   time.Time
	routed  bool          // op was selected
	api     string        // the API name when it is not op's (STS, admin, routes)
	errCode string        // the error code answered, if any
	bytesIn atomic.Int64  // request body bytes read
	stream  *objectStream // a GET body still to be sent when handle returns
}

// header returns the request header name (lower-case), repeated values
// joined by ',' as SigV4 canonicalises them, "" if absent.
func (r *request) header(name string) string {
	vs := r.fctx.Request.Header.PeekAll(name)
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return string(vs[0])
	}
	return string(bytes.Join(vs, []byte(",")))
}

// headerNames returns the names of the request's headers (SigV2 signs
// every x-amz-* header, whatever the client put in SignedHeaders).
func (r *request) headerNames() []string {
	var names []string
	for k := range r.fctx.Request.Header.All() {
		names = append(names, string(k))
	}
	return names
}

// resource is the path-style resource the request names, for error bodies.
func (r *request) resource() string {
	switch {
	case r.bucket == "":
		return "/"
	case r.key == "":
		return "/" + r.bucket
	}
	return "/" + r.bucket + "/" + r.key
}

// handle is the fasthttp handler: health and extra routes, then S3. Every
// request ends in one audit record (audit.go).
func (s *Server) handle(fctx *fasthttp.RequestCtx) {
	start := time.Now()
	id := s.newRequestID()
	s.setCommonHeaders(fctx, id)

	host := string(fctx.Request.Header.Host())
	uri := string(fctx.Request.Header.RequestURI())
	t, terr := parseTarget(host, uri, s.domains)
	r := &request{fctx: fctx, id: id, method: string(fctx.Method()), target: t, start: start}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in handler", "err", fmt.Sprint(v), "request_id", id, "stack", string(debug.Stack()))
			fctx.Response.Reset()
			r.stream = nil
			s.setCommonHeaders(fctx, id)
			s.writeError(r, apiError(codeInternalError))
		}
		if r.cancel != nil {
			r.cancel()
		}
		s.log.Debug("request", "request_id", id, "op", r.apiName(), "method", r.method,
			"bucket", r.bucket, "key", r.key, "status", fctx.Response.StatusCode(),
			"dur", time.Since(start))
		s.record(r)
	}()
	if !t.vhost {
		if api, h := s.route(t.rawPath); h != nil {
			r.api = api
			h(r)
			return
		}
		if m := s.mounted(r.method, t.rawPath); m != nil {
			s.serveMount(r, m)
			return
		}
	}
	if terr != nil {
		s.writeError(r, terr)
		return
	}
	if isAdminPath(t) {
		s.serveAdmin(r)
		return
	}
	if err := s.serve(r); err != nil {
		s.writeError(r, err)
	}
}

// serve parses, authenticates and dispatches r. The returned error is
// written as an S3 error; a nil error means the response is written.
func (s *Server) serve(r *request) error {
	q, err := parseQuery(r.rawQuery)
	if err != nil {
		return err
	}
	r.query = q
	if isSTSRequest(r) {
		// The STS query API shares the port: POST / (or GET /?Action=...).
		return s.serveSTS(r)
	}
	r.op, r.routed = selectOp(r.method, r.target, q, r.header), true

	timeout := s.cfg.RequestTimeout
	if r.op.transfersData() {
		timeout = s.cfg.TransferTimeout
	}
	r.ctx, r.cancel = context.WithTimeout(s.base, timeout)

	if r.op == opPreflight {
		// CORS preflights are answered without authentication, as S3 does:
		// browsers send them without credentials.
		return s.preflight(r)
	}
	// Before authentication, so that error answers carry them too.
	s.setCORSHeaders(r)
	if r.op == opPostObject {
		// A browser form upload carries its signature and policy in the
		// form fields, not in the headers: postObject authenticates it.
		return s.postObject(r)
	}
	if err := s.authenticate(r); err != nil {
		return err
	}
	if err := s.authorize(r); err != nil {
		return err
	}
	return s.dispatch(r)
}

// dispatch runs the handler of r.op on an authenticated and authorized
// request.
func (s *Server) dispatch(r *request) error {
	switch r.op {
	case opListBuckets:
		return s.listBuckets(r)
	case opCreateBucket:
		return s.createBucket(r)
	case opHeadBucket:
		return s.headBucket(r)
	case opDeleteBucket:
		return s.deleteBucket(r)
	case opGetBucketLocation:
		return s.getBucketLocation(r)
	case opGetBucketVersioning:
		return s.getBucketVersioning(r)
	case opPutBucketVersioning:
		return s.putBucketVersioning(r)
	case opListObjectsV1:
		return s.listObjectsV1(r)
	case opListObjectsV2:
		return s.listObjectsV2(r)
	case opListObjectVersions:
		return s.listObjectVersions(r)
	case opListMultipartUploads:
		return s.listMultipartUploads(r)
	case opDeleteObjects:
		return s.deleteObjects(r)
	case opPutObject:
		return s.putObject(r)
	case opCopyObject:
		return s.copyObject(r)
	case opGetObject:
		return s.getObject(r)
	case opHeadObject:
		return s.headObject(r)
	case opDeleteObject:
		return s.deleteObject(r)
	case opGetObjectAttributes:
		return s.getObjectAttributes(r)
	case opGetObjectTagging:
		return s.getObjectTagging(r)
	case opPutObjectTagging:
		return s.putObjectTagging(r)
	case opDeleteObjectTagging:
		return s.deleteObjectTagging(r)
	case opCreateMultipartUpload:
		return s.createMultipartUpload(r)
	case opUploadPart:
		return s.uploadPart(r)
	case opUploadPartCopy:
		return s.uploadPartCopy(r)
	case opCompleteMultipartUpload:
		return s.completeMultipartUpload(r)
	case opAbortMultipartUpload:
		return s.abortMultipartUpload(r)
	case opListParts:
		return s.listParts(r)
	case opGetBucketPolicy:
		return s.getBucketPolicy(r)
	case opPutBucketPolicy:
		return s.putBucketPolicy(r)
	case opDeleteBucketPolicy:
		return s.deleteBucketPolicy(r)
	case opGetBucketPolicyStatus:
		return s.getBucketPolicyStatus(r)
	case opGetBucketACL:
		return s.getBucketACL(r)
	case opPutBucketACL:
		return s.putBucketACL(r)
	case opGetObjectACL:
		return s.getObjectACL(r)
	case opPutObjectACL:
		return s.putObjectACL(r)
	case opGetBucketCORS:
		return s.getBucketCORS(r)
	case opPutBucketCORS:
		return s.putBucketCORS(r)
	case opDeleteBucketCORS:
		return s.deleteBucketCORS(r)
	case opGetBucketLifecycle:
		return s.getBucketLifecycle(r)
	case opPutBucketLifecycle:
		return s.putBucketLifecycle(r)
	case opDeleteBucketLifecycle:
		return s.deleteBucketLifecycle(r)
	case opMethodNotAllowed:
		return apiError(codeMethodNotAllowed)
	}
	return apiError(codeNotImplemented)
}

// writeError answers r with err translated by toS3Error. HEAD responses
// carry the status and headers only.
func (s *Server) writeError(r *request, err error) {
	e := s.toS3Error(err)
	r.errCode = e.Code
	if e.code == codeQuotaExceeded {
		s.drainRefused(r)
	}
	if e.Status >= 500 && e.code != codeNotImplemented {
		s.log.Warn("request failed", "request_id", r.id, "op", r.op.String(), "bucket", r.bucket, "key", r.key, "code", e.Code, "err", err)
	}
	var bucket, key string
	switch e.code {
	case codeNoSuchBucket, codeBucketNotEmpty, codeBucketAlreadyExists, codeBucketAlreadyOwnedByYou, codeInvalidBucketName:
		bucket = r.bucket
	case codeNoSuchKey:
		key = r.key
	}
	if e.code == codeServiceUnavailable {
		r.fctx.Response.Header.Set("Retry-After", "1")
	}
	var marker *dataplane.DeleteMarkerError
	if errors.As(err, &marker) && r.op != opCopyObject && r.op != opUploadPartCopy {
		// The key's current version, or the version asked for, is a delete
		// marker: S3 says so in headers (404 NoSuchKey or 405).
		h := &r.fctx.Response.Header
		h.Set("x-amz-delete-marker", "true")
		if marker.Info.VersionID != "" {
			h.Set("x-amz-version-id", marker.Info.VersionID)
		}
		if marker.ByVersion && !marker.Info.ModTime.IsZero() {
			h.Set("Last-Modified", marker.Info.ModTime.UTC().Format(http.TimeFormat))
		}
	}
	s.writeErrorBody(r.fctx, e, bucket, key, r.resource(), r.id)
}

// writeErrorBody writes e as the response, with an XML body unless the
// request is HEAD.
func (s *Server) writeErrorBody(fctx *fasthttp.RequestCtx, e *APIError, bucket, key, resource, id string) {
	fctx.Response.ResetBody()
	fctx.SetStatusCode(e.Status)
	if fctx.IsHead() {
		fctx.Response.Header.SetContentLength(0)
		return
	}
	body, err := marshalXML(errorResponse{
		Code: e.Code, Message: e.Message, BucketName: bucket, Key: key,
		Resource: resource, RequestID: id, HostID: s.hostID,
	})
	if err != nil {
		s.log.Error("encode error body", "err", err)
		return
	}
	fctx.SetContentType("application/xml")
	fctx.SetBody(body)
}

// writeXML answers r with status 200 and v as the XML body.
func (s *Server) writeXML(r *request, v any) error {
	body, err := marshalXML(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	r.fctx.SetContentType("application/xml")
	r.fctx.SetBody(body)
	return nil
}

// headerSafe reports whether a header value is safe to echo in a response
// header (no control characters).
func headerSafe(v string) bool {
	return !strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 && c != '\t' || c == 0x7f })
}
