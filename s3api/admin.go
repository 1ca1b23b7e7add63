package s3api

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

// Admin is what the admin API (JSON under adminapi.PathPrefix, SigV4
// signed) serves beyond the IAM routes of admin_iam.go. The node
// implements it.
type Admin interface {
	ClusterStatus(ctx context.Context) (adminapi.ClusterStatus, error)
	// Decommission drains a node; CancelDecommission stops a drain.
	// Refusals are *adminapi.Error values with their code and status.
	Decommission(ctx context.Context, id string, force bool) (adminapi.DecommissionResult, error)
	CancelDecommission(ctx context.Context, id string) (adminapi.DecommissionResult, error)
}

// isAdminPath reports whether a path-style request is for the admin API.
func isAdminPath(t target) bool {
	return !t.vhost && strings.HasPrefix(t.rawPath, adminapi.PathPrefix)
}

// adminCall is one admin API request after authentication.
type adminCall struct {
	r      *request
	caller meta.User // the user whose keys signed the request
	segs   []string  // the path after adminapi.PathPrefix, split at '/' and unescaped
}

// serveAdmin authenticates r like any S3 request and answers with JSON:
// the adminapi types on success, adminapi.Error on failure. Every route is
// for the root user, except the service-account routes, which a user (not
// a service account, not temporary credentials, not root) calls to manage
// its own service accounts.
func (s *Server) serveAdmin(r *request) {
	// Named by its route before authentication, so that refused calls
	// are audited under the API they tried.
	r.api = "admin"
	segs, ok := adminSegments(r.rawPath)
	if rt, _ := findAdminRoute(r.method, segs); ok && rt != nil {
		r.api = "admin:" + rt.name
	}
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
	switch {
	case r.auth == nil || r.auth.AccessKey == "":
		s.writeAdminError(r, apiError(codeAccessDenied, "The admin API needs a signed request."))
		return
	case r.auth.SessionToken != "":
		s.writeAdminError(r, apiError(codeAccessDenied, "The admin API does not accept temporary credentials."))
		return
	}
	if !ok {
		s.writeAdminError(r, noSuchAdminRoute(r))
		return
	}
	u, err := s.user(r.ctx, r.auth.AccessKey)
	if err != nil {
		s.writeAdminError(r, s.toS3Error(err))
		return
	}
	call := &adminCall{r: r, caller: u, segs: segs}
	selfService := isSelfServicePath(segs)
	switch {
	case selfService && u.Root:
		s.writeAdminError(r, apiError(codeAccessDenied, "The root user has no service accounts; service accounts are created by the user that owns them."))
		return
	case selfService && u.Parent != "":
		s.writeAdminError(r, apiError(codeAccessDenied, "A service account cannot manage service accounts."))
		return
	case !selfService && !u.Root:
		s.writeAdminError(r, apiError(codeAccessDenied, "The admin API is for the root user."))
		return
	}
	out, err := s.dispatchAdmin(call)
	if err != nil {
		s.writeAdminError(r, s.adminError(err))
		return
	}
	if out == nil {
		r.fctx.SetStatusCode(fasthttp.StatusNoContent)
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

// adminSegments splits the path after adminapi.PathPrefix into unescaped
// segments; false for an empty or undecodable path or an empty segment.
func adminSegments(rawPath string) ([]string, bool) {
	rest := strings.TrimPrefix(rawPath, adminapi.PathPrefix)
	if rest == "" {
		return nil, false
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		v, err := url.PathUnescape(seg)
		if err != nil || v == "" {
			return nil, false
		}
		segs[i] = v
	}
	return segs, true
}

func (s *Server) adminClusterStatus(c *adminCall) (any, error) {
	if s.deps.Admin == nil {
		return nil, apiError(codeNotImplemented, "This node serves no cluster status.")
	}
	return s.deps.Admin.ClusterStatus(c.r.ctx)
}

func (s *Server) adminDecommission(c *adminCall) (any, error) {
	if s.deps.Admin == nil {
		return nil, apiError(codeNotImplemented, "This node cannot decommission nodes.")
	}
	var req adminapi.DecommissionRequest
	if c.r.fctx.Request.Header.ContentLength() != 0 {
		if err := s.readAdminJSON(c, &req); err != nil {
			return nil, err
		}
	}
	return s.deps.Admin.Decommission(c.r.ctx, c.segs[1], req.Force)
}

func (s *Server) adminCancelDecommission(c *adminCall) (any, error) {
	if s.deps.Admin == nil {
		return nil, apiError(codeNotImplemented, "This node cannot decommission nodes.")
	}
	return s.deps.Admin.CancelDecommission(c.r.ctx, c.segs[1])
}

func noSuchAdminRoute(r *request) *APIError {
	return &APIError{Code: "NoSuchAdminRoute", Status: fasthttp.StatusNotFound,
		Message: "No admin API route " + r.method + " " + r.rawPath + "."}
}

func (s *Server) writeAdminError(r *request, e *APIError) {
	r.errCode = e.Code
	if e.Status >= 500 {
		s.log.Warn("admin request failed", "request_id", r.id, "path", r.rawPath, "code", e.Code, "err", e.Message)
	}
	body, _ := json.Marshal(adminapi.Error{Code: e.Code, Message: e.Message})
	r.fctx.Response.ResetBody()
	r.fctx.SetStatusCode(e.Status)
	r.fctx.SetContentType("application/json")
	r.fctx.SetBody(body)
}
