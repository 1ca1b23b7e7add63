package s3api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/s3api/sigv"
)

// The STS query API on the S3 port: AssumeRole (Version 2011-06-15), POST
// with a form body or GET with the parameters in the query, signed with
// SigV4 for service "sts". As in MinIO, the role is not looked up: the
// session has the caller's own permissions, narrowed by the optional
// session Policy. Minting writes nothing to Raft: the credentials are a
// self-contained token (iam.MintSession) that every node verifies with
// Deps.STSKey, and that stops working when its user is removed or
// disabled (authenticate looks the user up on every request).

const (
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	stsVersion   = "2011-06-15"
	// maxSTSBody bounds an STS form body: a session policy of
	// iam.MaxPolicySize URL-encoded, and the other parameters.
	maxSTSBody = 4 * iam.MaxPolicySize
	// Session durations AssumeRole accepts, and its default.
	minSessionDuration     = 15 * time.Minute
	maxSessionDuration     = 7 * 24 * time.Hour
	defaultSessionDuration = time.Hour
)

// isSTSRequest reports a request for the STS query API: to the service
// root (path style, no bucket), a POST with a form body or a request with
// an Action query parameter. ListBuckets (GET /) has neither.
func isSTSRequest(r *request) bool {
	if r.bucket != "" || r.vhost {
		return false
	}
	if _, ok := r.query["Action"]; ok {
		return r.method == fasthttp.MethodGet || r.method == fasthttp.MethodPost
	}
	mt, _, _ := strings.Cut(r.header("content-type"), ";")
	return r.method == fasthttp.MethodPost && strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// stsError is one STS error response: the HTTP status, the error type
// (Sender for the client's fault, Receiver for ours), code and message.
type stsError struct {
	status   int
	receiver bool
	code     string
	message  string
}

func (e *stsError) Error() string { return "sts: " + e.code + ": " + e.message }

func stsSender(status int, code, message string) *stsError {
	return &stsError{status: status, code: code, message: message}
}

// validationError is STS's answer to a parameter outside its constraints.
func validationError(format string, args ...any) *stsError {
	return stsSender(http.StatusBadRequest, "ValidationError", "1 validation error detected: "+fmt.Sprintf(format, args...))
}

// toSTSError translates an error of authentication or of the cluster into
// the STS error with the same meaning.
func (s *Server) toSTSError(err error) *stsError {
	var se *stsError
	if errors.As(err, &se) {
		return se
	}
	e := s.toS3Error(err)
	switch e.code {
	case codeInvalidAccessKeyID, codeInvalidToken:
		return stsSender(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	case codeExpiredToken:
		return stsSender(http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired")
	case codeSignatureDoesNotMatch:
		return stsSender(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	case codeRequestTimeTooSkewed:
		return stsSender(http.StatusForbidden, "SignatureDoesNotMatch", "Signature expired: the request time is too far from the server time.")
	case codeAccessDenied:
		return stsSender(http.StatusForbidden, "AccessDenied", e.Message)
	case codeServiceUnavailable:
		return &stsError{status: http.StatusServiceUnavailable, receiver: true, code: "ServiceUnavailable", message: e.Message}
	case codeInternalError:
		return &stsError{status: http.StatusInternalServerError, receiver: true, code: "InternalFailure", message: "The request processing has failed because of an unknown error, exception or failure."}
	}
	if e.Status >= 500 {
		return &stsError{status: e.Status, receiver: true, code: "InternalFailure", message: e.Message}
	}
	return stsSender(http.StatusBadRequest, "IncompleteSignature", e.Message)
}

// serveSTS answers an STS request; its errors are written as STS
// ErrorResponse documents, so it always returns nil.
func (s *Server) serveSTS(r *request) error {
	r.api = "AssumeRole"
	r.ctx, r.cancel = context.WithTimeout(s.base, s.cfg.RequestTimeout)
	res, err := s.assumeRole(r)
	if err != nil {
		s.writeSTSError(r, s.toSTSError(err))
		return nil
	}
	body, err := marshalXML(res)
	if err != nil {
		s.writeSTSError(r, s.toSTSError(err))
		return nil
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	r.fctx.SetContentType("text/xml")
	r.fctx.SetBody(body)
	return nil
}

// stsErrorResponse is the STS ErrorResponse document.
type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func (s *Server) writeSTSError(r *request, e *stsError) {
	r.errCode = e.code
	if e.receiver {
		s.log.Warn("sts request failed", "request_id", r.id, "code", e.code, "err", e.message)
	}
	doc := stsErrorResponse{Xmlns: stsNamespace, RequestID: r.id}
	doc.Error.Type, doc.Error.Code, doc.Error.Message = "Sender", e.code, e.message
	if e.receiver {
		doc.Error.Type = "Receiver"
	}
	body, _ := marshalXML(doc)
	r.fctx.Response.ResetBody()
	r.fctx.SetStatusCode(e.status)
	r.fctx.SetContentType("text/xml")
	r.fctx.SetBody(body)
}

// assumeRoleResponse is the AssumeRoleResponse document, as AWS writes it.
type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		} `xml:"Credentials"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// stsParams reads the request's parameters (query, then form body) and
// authenticates it; it returns the parameters.
func (s *Server) stsParams(r *request) (url.Values, error) {
	var body []byte
	if r.method == fasthttp.MethodPost {
		raw := r.bodyStream()
		cl := int64(r.fctx.Request.Header.ContentLength())
		if cl < 0 {
			cl = -1
		}
		var err error
		body, err = io.ReadAll(io.LimitReader(&clientBody{r: raw, remaining: cl, fctx: r.fctx, timeout: s.cfg.ReadTimeout}, maxSTSBody+1))
		if err != nil {
			return nil, err
		}
		if len(body) > maxSTSBody {
			return nil, stsSender(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than "+strconv.Itoa(maxSTSBody)+" bytes.")
		}
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if v := r.header("x-amz-content-sha256"); v != "" && v != payload {
		// The signature covers the header; the body must match it.
		return nil, apiError(codeSignatureDoesNotMatch)
	}
	cl := int64(len(body))
	sr := &sigv.Request{
		Method: r.method, Path: r.rawPath, Query: r.rawQuery, Header: r.header, HeaderNames: r.headerNames,
		ContentLength: cl, PayloadSHA256: payload,
	}
	kr := s.newKeyResolver(r.ctx, requestToken(r))
	auth, err := sigv.Verify(sr, kr.lookup, s.cfg.Now())
	if err := kr.failure(err); err != nil {
		return nil, err
	}
	switch {
	case auth.AccessKey == "":
		return nil, stsSender(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case auth.Service != "sts":
		return nil, stsSender(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'.")
	case auth.SessionToken != kr.token:
		return nil, apiError(codeInvalidToken)
	}
	r.auth, r.who = auth, kr.who
	params := url.Values{}
	for k, v := range r.query {
		params[k] = append(params[k], v...)
	}
	if len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, stsSender(http.StatusBadRequest, "MalformedQueryString", "The form body is not a valid URL-encoded query.")
		}
		for k, v := range form {
			params[k] = append(params[k], v...)
		}
	}
	return params, nil
}

// validSessionName reports a RoleSessionName STS accepts: 2 to 64 of
// [\w+=,.@-].
func validSessionName(v string) bool {
	if len(v) < 2 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_+=,.@-", c)
		if !ok {
			return false
		}
	}
	return true
}

// assumeRole serves AssumeRole: new temporary credentials with the
// caller's permissions (narrowed by Policy) for DurationSeconds.
func (s *Server) assumeRole(r *request) (*assumeRoleResponse, error) {
	p, err := s.stsParams(r)
	if err != nil {
		return nil, err
	}
	action, version := p.Get("Action"), p.Get("Version")
	switch {
	case action == "":
		return nil, stsSender(http.StatusBadRequest, "MissingAction", "Missing Action")
	case action != "AssumeRole" || version != stsVersion:
		return nil, stsSender(http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+version)
	}
	if len(s.deps.STSKey) == 0 {
		return nil, &stsError{status: http.StatusServiceUnavailable, receiver: true, code: "ServiceUnavailable", message: "This node issues no temporary credentials."}
	}
	if k := r.who.kind; k == identServiceAccount || k == identSession {
		return nil, stsSender(http.StatusForbidden, "AccessDenied", "Temporary credentials and service accounts cannot call AssumeRole; use the keys of a user.")
	}
	roleArn, session := p.Get("RoleArn"), p.Get("RoleSessionName")
	switch {
	case roleArn == "":
		return nil, validationError("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case len(roleArn) < 20 || len(roleArn) > 2048:
		return nil, validationError("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048", roleArn)
	case session == "":
		return nil, validationError("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case !validSessionName(session):
		return nil, validationError("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", session)
	}
	duration := defaultSessionDuration
	if v := p.Get("DurationSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return nil, stsSender(http.StatusBadRequest, "InvalidParameterValue", "DurationSeconds must be an integer.")
		case n < int64(minSessionDuration/time.Second):
			return nil, validationError("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", v, int64(minSessionDuration/time.Second))
		case n > int64(maxSessionDuration/time.Second):
			return nil, validationError("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", v, int64(maxSessionDuration/time.Second))
		}
		duration = time.Duration(n) * time.Second
	}
	var policy []byte
	if v := p.Get("Policy"); v != "" {
		if len(v) > iam.MaxPolicySize {
			return nil, stsSender(http.StatusBadRequest, "PackedPolicyTooLarge", "The session policy is larger than "+strconv.Itoa(iam.MaxPolicySize)+" bytes.")
		}
		if _, err := iam.ParsePolicy([]byte(v), iam.IdentityPolicy, ""); err != nil {
			return nil, stsSender(http.StatusBadRequest, "MalformedPolicyDocument", err.Error())
		}
		policy = []byte(v)
	}
	// Expiration is reported to the second: the session ends exactly then.
	expires := s.cfg.Now().Add(duration).Truncate(time.Second)
	ak, sk, token, err := iam.MintSession(s.deps.STSKey, iam.SessionClaims{Parent: r.who.accessKey, Expires: expires, Policy: policy})
	if err != nil {
		return nil, fmt.Errorf("mint session: %w", err)
	}
	acct := r.who.user.Account
	if acct == "" {
		acct = meta.DefaultAccount
	}
	role := roleArn
	if i := strings.LastIndex(role, "/"); i >= 0 {
		role = role[i+1:]
	}
	res := &assumeRoleResponse{Xmlns: stsNamespace, RequestID: r.id}
	res.Result.AssumedRoleUser.Arn = "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session
	res.Result.AssumedRoleUser.AssumedRoleID = ak + ":" + session
	c := &res.Result.Credentials
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = ak, sk, token
	c.Expiration = expires.UTC().Format(time.RFC3339)
	return res, nil
}
