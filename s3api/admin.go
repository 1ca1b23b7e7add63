package s3api

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/adminapi"
)

// Admin is what the admin API (JSON under adminapi.PathPrefix, SigV4
// signed, root only) serves. The node implements it.
type Admin interface {
	ClusterStatus(ctx context.Context) (adminapi.ClusterStatus, error)
}

// isAdminPath reports whether a path-style request is for the admin API.
func isAdminPath(t target) bool {
	return !t.vhost && strings.HasPrefix(t.rawPath, adminapi.PathPrefix)
}

// serveAdmin authenticates r like any S3 request, requires the root user,
// and answers with JSON: the adminapi types on success, adminapi.Error on
// failure.
func (s *Server) serveAdmin(r *request) {
	q, err := parseQuery(r.rawQuery)
	if err != nil {
		s.writeAdminError(r, s.toS3Error(err))
		return
	}
	r.query = q
	r.ctx, r.cancel = context.WithTimeout(s.base, s.cfg.RequestTimeout)
	if err := s.authenticate(r); err != nil {
		s.writeAdminError(r, s.toS3Error(err))
		return
	}
	u, err := s.user(r.ctx, r.auth.AccessKey)
	if err != nil {
		s.writeAdminError(r, s.toS3Error(err))
		return
	}
	if !u.Root {
		s.writeAdminError(r, apiError(codeAccessDenied, "The admin API is for the root user."))
		return
	}
	if s.deps.Admin == nil {
		s.writeAdminError(r, apiError(codeNotImplemented, "This node serves no admin API."))
		return
	}
	var out any
	switch {
	case r.rawPath == adminapi.PathClusterStatus && r.method == fasthttp.MethodGet:
		out, err = s.deps.Admin.ClusterStatus(r.ctx)
	case r.rawPath == adminapi.PathClusterStatus:
		s.writeAdminError(r, apiError(codeMethodNotAllowed))
		return
	default:
		s.writeAdminError(r, &APIError{Code: "NoSuchAdminRoute", Status: fasthttp.StatusNotFound,
			Message: "No admin API route " + r.method + " " + r.rawPath + "."})
		return
	}
	if err != nil {
		s.writeAdminError(r, s.toS3Error(err))
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.writeAdminError(r, s.toS3Error(err))
		return
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	r.fctx.SetContentType("application/json")
	r.fctx.SetBody(body)
}

func (s *Server) writeAdminError(r *request, e *APIError) {
	if e.Status >= 500 {
		s.log.Warn("admin request failed", "request_id", r.id, "path", r.rawPath, "code", e.Code, "err", e.Message)
	}
	body, _ := json.Marshal(adminapi.Error{Code: e.Code, Message: e.Message})
	r.fctx.Response.ResetBody()
	r.fctx.SetStatusCode(e.Status)
	r.fctx.SetContentType("application/json")
	r.fctx.SetBody(body)
}
