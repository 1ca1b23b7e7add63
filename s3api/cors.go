package s3api

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/meta"
)

// Bucket CORS: Put/Get/DeleteBucketCors in the AWS XML (the rules are
// stored in Raft as meta.CORSRule, validated by meta.ValidateCORS), the
// unauthenticated preflight OPTIONS on a bucket or object (preflight),
// and the Access-Control-* headers on the responses to cross-origin
// requests (setCORSHeaders), error responses included.
//
// A request matches a rule when its Origin matches one of the rule's
// AllowedOrigins (exactly, or around the pattern's one '*'; case-sensitive),
// its method (for a preflight, Access-Control-Request-Method) is one of the
// AllowedMethods, and, for a preflight, every header named in
// Access-Control-Request-Headers matches one of the AllowedHeaders
// (case-insensitively, with the same wildcard). The first matching rule of
// the configuration decides, as in S3.

// maxCORSBodySize bounds a PutBucketCors body (S3's 64 KB document limit).
const maxCORSBodySize = 64 << 10

// The messages of the preflight refusals, as S3 words them (its typo
// "evalution" included: clients and tests compare the text).
const (
	msgCORSNoOrigin   = "Insufficient information. Origin request header needed."
	msgCORSNoBucket   = "CORSResponse: Bucket not found"
	msgCORSNotEnabled = "CORSResponse: CORS is not enabled for this bucket."
	msgCORSNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
)

// The CORS response headers, and how S3 writes their lists.
const (
	headerAllowOrigin  = "Access-Control-Allow-Origin"
	headerAllowCreds   = "Access-Control-Allow-Credentials"
	headerAllowMethods = "Access-Control-Allow-Methods"
	headerAllowHeaders = "Access-Control-Allow-Headers"
	headerExposeHeads  = "Access-Control-Expose-Headers"
	headerMaxAge       = "Access-Control-Max-Age"
	corsListSeparator  = ", "
	// varyPreflight is the Vary of a preflight answer: it depends on the
	// three request headers that a preflight is evaluated on.
	varyPreflight = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
)

// corsConfiguration is the CORSConfiguration document of Put/GetBucketCors.
// The request's namespace is not required: some clients omit it.
type corsConfiguration struct {
	XMLName xml.Name      `xml:"CORSConfiguration"`
	Xmlns   string        `xml:"xmlns,attr,omitempty"`
	Rules   []corsRuleXML `xml:"CORSRule"`
}

// corsRuleXML is one CORSRule, its elements in the order S3 writes them.
type corsRuleXML struct {
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	ID             string   `xml:"ID,omitempty"`
	MaxAgeSeconds  *int64   `xml:"MaxAgeSeconds,omitempty"`
}

// parseCORS parses a PutBucketCors body into rules; values are trimmed of
// surrounding white space. It checks only that the body is a
// CORSConfiguration: meta.ValidateCORS checks the rules.
func parseCORS(data []byte) ([]meta.CORSRule, error) {
	var c corsConfiguration
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return nil, apiError(codeMalformedXML)
	}
	trim := func(vs []string) []string {
		for i := range vs {
			vs[i] = strings.TrimSpace(vs[i])
		}
		return vs
	}
	rules := make([]meta.CORSRule, len(c.Rules))
	for i, r := range c.Rules {
		rules[i] = meta.CORSRule{
			ID:             strings.TrimSpace(r.ID),
			AllowedOrigins: trim(r.AllowedOrigins),
			AllowedMethods: trim(r.AllowedMethods),
			AllowedHeaders: trim(r.AllowedHeaders),
			ExposeHeaders:  trim(r.ExposeHeaders),
			MaxAgeSeconds:  r.MaxAgeSeconds,
		}
	}
	return rules, nil
}

// corsError is the S3 answer to a CORS configuration meta.ValidateCORS
// refused.
func corsError(e *meta.CORSError) *APIError {
	switch e.Problem {
	case meta.CORSUnsupportedMethod:
		return apiError(codeInvalidRequest, "Found unsupported HTTP method in CORS config. Unsupported method is "+e.Value)
	case meta.CORSWildcards:
		return apiError(codeInvalidRequest, fmt.Sprintf("%s %q can not have more than one wildcard.", e.Field, e.Value))
	case meta.CORSExposeWildcard:
		return apiError(codeInvalidRequest, fmt.Sprintf("ExposeHeader %q contains wildcard. We currently do not support wildcard for ExposeHeader.", e.Value))
	case meta.CORSIDTooLong:
		return apiError(codeInvalidRequest, fmt.Sprintf("The ID of a CORSRule can not be longer than %d characters.", meta.MaxCORSRuleIDLen))
	case meta.CORSInvalidCharacter:
		return apiError(codeInvalidRequest, fmt.Sprintf("%s %q contains an invalid character.", e.Field, e.Value))
	}
	return apiError(codeMalformedXML)
}

// putBucketCORS serves PutBucketCors (PUT ?cors): the configuration
// replaces any previous one; 200 once it is in Raft. As S3, the body must
// carry Content-MD5 or an x-amz-checksum-*.
func (s *Server) putBucketCORS(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	if !hasBodyChecksum(r) {
		return apiError(codeInvalidRequest, "Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
	}
	data, err := s.readSmallBody(r, maxCORSBodySize, apiError(codeMalformedXML))
	if err != nil {
		return err
	}
	rules, err := parseCORS(data)
	if err != nil {
		return err
	}
	// Validated here too so that the answer names the problem: a
	// rejection from the state machine may reach this node through the
	// leader without its type.
	if err := meta.ValidateCORS(rules); err != nil {
		return err
	}
	if err := s.deps.Control.Propose(r.ctx, meta.SetBucketCORS{Bucket: r.bucket, Rules: rules}); err != nil {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// getBucketCORS serves GetBucketCors (GET ?cors): the rules as stored,
// NoSuchCORSConfiguration when there are none.
func (s *Server) getBucketCORS(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.CORS) == 0 {
		return apiError(codeNoSuchCORSConfiguration)
	}
	out := corsConfiguration{Xmlns: s3Namespace, Rules: make([]corsRuleXML, len(b.CORS))}
	for i, rule := range b.CORS {
		out.Rules[i] = corsRuleXML{
			ID:             rule.ID,
			AllowedOrigins: rule.AllowedOrigins,
			AllowedMethods: rule.AllowedMethods,
			AllowedHeaders: rule.AllowedHeaders,
			ExposeHeaders:  rule.ExposeHeaders,
			MaxAgeSeconds:  rule.MaxAgeSeconds,
		}
	}
	return s.writeXML(r, out)
}

// deleteBucketCORS serves DeleteBucketCors (DELETE ?cors): 204, whether or
// not the bucket had a configuration, as S3 answers.
func (s *Server) deleteBucketCORS(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.CORS) > 0 {
		if err := s.deps.Control.Propose(r.ctx, meta.SetBucketCORS{Bucket: r.bucket}); err != nil {
			return err
		}
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// wildcardMatch reports whether value matches pattern, which holds at most
// one '*' standing for any run of characters (the empty one included).
func wildcardMatch(pattern, value string) bool {
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == value
	}
	return len(value) >= len(before)+len(after) && strings.HasPrefix(value, before) && strings.HasSuffix(value, after)
}

// corsMatch returns the index of the first rule that allows a request from
// origin with method and every one of headers (the names of a preflight's
// Access-Control-Request-Headers; none for an actual request), or -1.
// anyOrigin reports that the rule allowed the origin only through a bare
// "*": S3 then answers Access-Control-Allow-Origin: * without credentials.
func corsMatch(rules []meta.CORSRule, origin, method string, headers []string) (i int, anyOrigin bool) {
	for i, r := range rules {
		star, named := false, false
		for _, o := range r.AllowedOrigins {
			if o == "*" {
				star = true
			} else if wildcardMatch(o, origin) {
				named = true
				break
			}
		}
		if !star && !named {
			continue
		}
		methodOK := false
		for _, m := range r.AllowedMethods {
			if m == method {
				methodOK = true
				break
			}
		}
		if !methodOK || !headersAllowed(r.AllowedHeaders, headers) {
			continue
		}
		return i, !named
	}
	return -1, false
}

// headersAllowed reports whether every header matches one of the allowed
// patterns, ignoring case.
func headersAllowed(allowed, headers []string) bool {
	for _, h := range headers {
		h = strings.ToLower(h)
		ok := false
		for _, a := range allowed {
			if wildcardMatch(strings.ToLower(a), h) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// splitHeaderList splits a comma-separated header list
// (Access-Control-Request-Headers), dropping white space and empty items.
func splitHeaderList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// corsAnswer is what a bucket's CORS configuration says about one
// request; matched is false when the bucket has no configuration or no
// rule matches.
type corsAnswer struct {
	bucketFound bool // the bucket exists on this node
	enabled     bool // it has a CORS configuration
	matched     bool
	allowOrigin string // the origin, or "*"
	credentials bool   // Access-Control-Allow-Credentials: true
	methods     string // the rule's methods, ", "-joined
	expose      string // the rule's exposed headers, ", "-joined
	maxAge      string // "" when the rule has none
}

// evalCORS evaluates the CORS configuration of bucket for a request from
// origin with method and headers, from the local state. It takes no read
// barrier: preflights are unauthenticated, and unsigned traffic must not
// load the leader.
func (s *Server) evalCORS(bucket, origin, method string, headers []string) corsAnswer {
	var a corsAnswer
	s.deps.Control.View(func(st *meta.State) {
		b := st.Buckets[bucket]
		if b == nil {
			return
		}
		a.bucketFound, a.enabled = true, len(b.CORS) > 0
		if origin == "" || !a.enabled {
			return
		}
		i, anyOrigin := corsMatch(b.CORS, origin, method, headers)
		if i < 0 {
			return
		}
		rule := b.CORS[i]
		a.matched = true
		a.allowOrigin, a.credentials = origin, !anyOrigin
		if anyOrigin {
			a.allowOrigin = "*"
		}
		a.methods = strings.Join(rule.AllowedMethods, corsListSeparator)
		a.expose = strings.Join(rule.ExposeHeaders, corsListSeparator)
		if rule.MaxAgeSeconds != nil {
			a.maxAge = strconv.FormatInt(*rule.MaxAgeSeconds, 10)
		}
	})
	return a
}

// write sets the Access-Control-* headers of a matched answer.
func (a *corsAnswer) write(h *fasthttp.ResponseHeader) {
	h.Set(headerAllowOrigin, a.allowOrigin)
	if a.credentials {
		h.Set(headerAllowCreds, "true")
	}
	h.Set(headerAllowMethods, a.methods)
	if a.expose != "" {
		h.Set(headerExposeHeads, a.expose)
	}
	if a.maxAge != "" {
		h.Set(headerMaxAge, a.maxAge)
	}
}

// preflight serves a CORS preflight (OPTIONS on a bucket or an object),
// unauthenticated as in S3: 200 with the Access-Control-* headers of the
// first matching rule, 400 without Origin or with an
// Access-Control-Request-Method that no rule could allow, and 403
// AccessForbidden when the bucket is unknown, has no CORS configuration
// or no rule matches.
func (s *Server) preflight(r *request) error {
	origin := r.header("origin")
	if origin == "" {
		return apiError(codeBadRequest, msgCORSNoOrigin)
	}
	method := r.header("access-control-request-method")
	if !meta.IsCORSMethod(method) {
		if method == "" {
			method = "null"
		}
		return apiError(codeBadRequest, "Invalid Access-Control-Request-Method: "+method)
	}
	headers := splitHeaderList(r.header("access-control-request-headers"))
	a := s.evalCORS(r.bucket, origin, method, headers)
	switch {
	case !a.bucketFound:
		return apiError(codeAccessForbidden, msgCORSNoBucket)
	case !a.enabled:
		return apiError(codeAccessForbidden, msgCORSNotEnabled)
	case !a.matched:
		return apiError(codeAccessForbidden, msgCORSNotAllowed)
	}
	h := &r.fctx.Response.Header
	a.write(h)
	if len(headers) > 0 {
		// Only the headers asked for, as the browser wrote them.
		h.Set(headerAllowHeaders, strings.Join(headers, corsListSeparator))
	}
	h.Set("Vary", varyPreflight)
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// setCORSHeaders adds to the response of an actual (non-preflight) request
// on a bucket with a CORS configuration the Access-Control-* headers of
// the first rule that allows its Origin and method, and Vary: Origin
// whether or not one does, so that a shared cache keeps the answers to
// different origins apart. It runs before authentication: an error answer
// (AccessDenied, NoSuchKey, ...) carries the headers too, so that the
// browser lets the page read it.
func (s *Server) setCORSHeaders(r *request) {
	if r.bucket == "" {
		return
	}
	a := s.evalCORS(r.bucket, r.header("origin"), r.method, nil)
	if !a.enabled {
		return
	}
	h := &r.fctx.Response.Header
	if a.matched {
		a.write(h)
	}
	h.Set("Vary", "Origin")
}
