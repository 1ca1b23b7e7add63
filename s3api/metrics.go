package s3api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/valyala/fasthttp"
)

// MetricsPath is where the node's Prometheus metrics are served.
const MetricsPath = "/strata/metrics"

// actPrometheus is the IAM action that allows reading the metrics with a
// SigV4-signed request (a custom action, as MinIO's admin:Prometheus).
const actPrometheus = "admin:Prometheus"

// serveMetrics answers GET (or HEAD) /strata/metrics with Deps.Metrics'
// exposition, once authorizeMetrics lets the request in.
func (s *Server) serveMetrics(r *request) {
	if err := s.metricsError(r); err != nil {
		s.writeError(r, err)
		return
	}
	var buf bytes.Buffer
	ct, err := s.deps.Metrics(&buf)
	if err != nil {
		s.writeError(r, err)
		return
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	r.fctx.SetContentType(ct)
	if r.fctx.IsHead() {
		r.fctx.Response.SkipBody = true
		r.fctx.Response.Header.SetContentLength(buf.Len())
		return
	}
	r.fctx.SetBody(buf.Bytes())
}

// metricsError says why r may not read the metrics; nil when it may.
func (s *Server) metricsError(r *request) error {
	switch {
	case s.deps.Metrics == nil:
		return apiError(codeNotImplemented, "This node serves no metrics.")
	case r.method != fasthttp.MethodGet && r.method != fasthttp.MethodHead:
		return apiError(codeMethodNotAllowed)
	}
	return s.authorizeMetrics(r)
}

// authorizeMetrics checks r's access to the metrics, per configuration:
// the bearer token (compared in constant time) when one is set; nothing
// when they are public; else a SigV4-signed request of the root user or
// of a user whose policies allow admin:Prometheus.
func (s *Server) authorizeMetrics(r *request) error {
	if tok := s.cfg.MetricsToken; tok != "" {
		scheme, got, _ := strings.Cut(r.header("authorization"), " ")
		want, have := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
			r.fctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="strata metrics"`)
			return &APIError{Code: "Unauthorized", Status: fasthttp.StatusUnauthorized,
				Message: "The metrics need the bearer token of --metrics-token."}
		}
		return nil
	}
	if s.cfg.MetricsPublic {
		return nil
	}
	q, err := parseQuery(r.rawQuery)
	if err != nil {
		return err
	}
	r.query = q
	r.ctx, r.cancel = context.WithTimeout(s.base, s.cfg.RequestTimeout)
	if err := s.authenticate(r); err != nil {
		return err
	}
	if !r.who.authenticated() {
		return apiError(codeAccessDenied, "The metrics need a signed request, or the bearer token of --metrics-token.")
	}
	return s.check(r, actPrometheus, "", "", "")
}
