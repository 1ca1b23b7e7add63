package sigv

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Browser-based uploads (POST Object): the form carries a base64 policy
// document and its signature, either Signature Version 4 (x-amz-algorithm,
// x-amz-credential, x-amz-date, x-amz-signature: hex HMAC-SHA256 of the
// base64 policy with the SigV4 signing key) or Version 2 (AWSAccessKeyId,
// signature: base64 HMAC-SHA1 of the base64 policy). The policy names an
// expiration and the conditions every form field must meet.

// Errors of POST uploads, besides the sentinels VerifyPost shares with
// Verify (ErrInvalidAccessKeyID, ErrSignatureDoesNotMatch,
// ErrUnsupportedAlgorithm, ErrMissingAuth).
var (
	ErrPostPolicyMalformed = errors.New("sigv: malformed POST policy")                               // InvalidPolicyDocument 400
	ErrPostFormMalformed   = errors.New("sigv: malformed POST form field")                           // InvalidArgument 400
	ErrPostTooLarge        = errors.New("sigv: file larger than the policy's content-length-range")  // EntityTooLarge 400
	ErrPostTooSmall        = errors.New("sigv: file smaller than the policy's content-length-range") // EntityTooSmall 400
)

// MissingFieldError is a signed POST form without a field it needs. S3
// answers InvalidArgument "Bucket POST must contain a field named
// '<Field>'. If it is specified, please check the order of the fields."
type MissingFieldError struct{ Field string }

func (e *MissingFieldError) Error() string { return "sigv: POST form lacks the field " + e.Field }

// PolicyError is a POST form its policy does not allow. S3 answers
// AccessDenied with the message "Invalid according to Policy: " + Reason.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "sigv: invalid according to policy: " + e.Reason }

// policyExempt reports whether a form field (lower-case) needs no
// condition: the file, the policy and its signature ("Each form field that
// you specify in a form (except x-amz-signature, file, policy, and field
// names that have an x-ignore- prefix) must appear in the list of
// conditions"; awsaccesskeyid and signature for Version 2), and the bucket,
// which comes from the URL.
func policyExempt(name string) bool {
	switch name {
	case "file", "policy", "x-amz-signature", "signature", "awsaccesskeyid", "bucket":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

// condition is one condition of a POST policy.
type condition struct {
	op       string // "eq", "starts-with" or "content-length-range"
	field    string // lower-case, without '$'
	value    string
	min, max int64 // content-length-range
}

// String renders c as S3 quotes it in "Policy Condition failed: ...".
func (c condition) String() string {
	if c.op == "content-length-range" {
		return fmt.Sprintf(`["content-length-range", %d, %d]`, c.min, c.max)
	}
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return "[" + q(c.op) + ", " + q("$"+c.field) + ", " + q(c.value) + "]"
}

// holds reports whether the form value v meets c (eq or starts-with). A
// Content-Type starts-with holds when every type of a comma-separated
// list starts with the prefix.
func (c condition) holds(v string) bool {
	if c.op == "eq" {
		return v == c.value
	}
	if c.field == "content-type" && strings.Contains(v, ",") {
		for t := range strings.SplitSeq(v, ",") {
			if !strings.HasPrefix(strings.TrimSpace(t), c.value) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(v, c.value)
}

// Policy is a decoded POST policy document.
type Policy struct {
	Expiration time.Time
	conditions []condition
	lengthMin  int64
	lengthMax  int64 // -1: no content-length-range
}

// maxPolicySize bounds the decoded policy document.
const maxPolicySize = 64 << 10

// ParsePolicy decodes a base64 POST policy document (JSON with an
// expiration, ISO 8601, and a list of conditions: {"field": "value"},
// ["eq", "$field", "value"], ["starts-with", "$field", "prefix"],
// ["content-length-range", min, max]). Anything else is an error wrapping
// ErrPostPolicyMalformed.
func ParsePolicy(b64 string) (*Policy, error) {
	// Line breaks (some encoders wrap base64 at 76 columns) and missing
	// padding are tolerated; the signature covers the text as sent.
	compact := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, b64)
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(compact, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: policy is not base64: %v", ErrPostPolicyMalformed, err)
	}
	if len(raw) > maxPolicySize {
		return nil, fmt.Errorf("%w: policy larger than %d bytes", ErrPostPolicyMalformed, maxPolicySize)
	}
	var doc struct {
		Expiration *string           `json:"expiration"`
		Conditions []json.RawMessage `json:"conditions"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPostPolicyMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the policy document", ErrPostPolicyMalformed)
	}
	if doc.Expiration == nil {
		return nil, fmt.Errorf("%w: policy missing expiration", ErrPostPolicyMalformed)
	}
	if doc.Conditions == nil {
		return nil, fmt.Errorf("%w: policy missing conditions", ErrPostPolicyMalformed)
	}
	p := &Policy{lengthMax: -1}
	if p.Expiration, err = time.Parse(time.RFC3339Nano, *doc.Expiration); err != nil {
		return nil, fmt.Errorf("%w: expiration %q is not ISO 8601", ErrPostPolicyMalformed, *doc.Expiration)
	}
	for _, c := range doc.Conditions {
		if err := p.addCondition(c); err != nil {
			return nil, fmt.Errorf("%w: condition %s: %v", ErrPostPolicyMalformed, c, err)
		}
	}
	return p, nil
}

// addCondition decodes one element of the conditions list.
func (p *Policy) addCondition(raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		// {"field": "value"}: exact matches, in the order written.
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		if len(m) == 0 {
			return errors.New("empty condition")
		}
		// Several pairs in one object: checked in name order, so that the
		// first failure reported does not depend on map order.
		var conds []condition
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("value of %q is not a string", k)
			}
			conds = append(conds, condition{op: "eq", field: strings.ToLower(strings.TrimPrefix(k, "$")), value: s})
		}
		slices.SortFunc(conds, func(a, b condition) int { return strings.Compare(a.field, b.field) })
		p.conditions = append(p.conditions, conds...)
		return nil
	case json.Delim('['):
		var a []any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&a); err != nil {
			return err
		}
		if len(a) != 3 {
			return errors.New("want 3 elements")
		}
		op, ok := a[0].(string)
		if !ok {
			return errors.New("operator is not a string")
		}
		switch op = strings.ToLower(op); op {
		case "eq", "starts-with":
			field, ok1 := a[1].(string)
			value, ok2 := a[2].(string)
			if !ok1 || !ok2 || !strings.HasPrefix(field, "$") || len(field) < 2 {
				return fmt.Errorf(`want ["%s", "$field", "value"]`, op)
			}
			p.conditions = append(p.conditions, condition{op: op, field: strings.ToLower(field[1:]), value: value})
			return nil
		case "content-length-range":
			lo, ok1 := policyInt(a[1])
			hi, ok2 := policyInt(a[2])
			if !ok1 || !ok2 || lo > hi {
				return errors.New("want two lengths, min <= max")
			}
			c := condition{op: op, min: lo, max: hi}
			p.conditions = append(p.conditions, c)
			if p.lengthMax < 0 {
				p.lengthMin, p.lengthMax = lo, hi
			} else {
				// Several ranges all apply.
				p.lengthMin, p.lengthMax = max(p.lengthMin, lo), min(p.lengthMax, hi)
			}
			return nil
		}
		return fmt.Errorf("unknown operator %q", op)
	}
	return errors.New("a condition is an object or a list")
}

// policyInt reads a non-negative length, a JSON integer or a string of
// digits (some encoders quote them).
func policyInt(v any) (int64, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt64 {
			return 0, false
		}
		n = int64(f)
	}
	return n, n >= 0
}

// LengthRange returns the content-length-range (the intersection of all
// of them); ok is false when the policy has none.
func (p *Policy) LengthRange() (lo, hi int64, ok bool) {
	return p.lengthMin, p.lengthMax, p.lengthMax >= 0
}

// CheckLength checks a file size against the content-length-range:
// ErrPostTooSmall or ErrPostTooLarge when outside.
func (p *Policy) CheckLength(n int64) error {
	switch {
	case p.lengthMax < 0:
		return nil
	case n > p.lengthMax:
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrPostTooLarge, n, p.lengthMax)
	case n < p.lengthMin:
		return fmt.Errorf("%w: %d bytes, at least %d needed", ErrPostTooSmall, n, p.lengthMin)
	}
	return nil
}

// Check checks the form fields (by lower-case name, the key with
// ${filename} already substituted) against the policy at time now: not
// expired, every condition met (the bucket is the one of the URL,
// whatever the form says), and every field but the exempt ones (file,
// policy, the signature fields, x-ignore-*) named by a condition. It
// returns a *PolicyError with S3's reason.
func (p *Policy) Check(bucket string, fields map[string]string, now time.Time) error {
	if now.After(p.Expiration) {
		return &PolicyError{Reason: "Policy expired."}
	}
	covered := make(map[string]bool, len(p.conditions))
	for _, c := range p.conditions {
		if c.op == "content-length-range" {
			continue
		}
		covered[c.field] = true
		v := fields[c.field]
		if c.field == "bucket" {
			v = bucket
		}
		if !c.holds(v) {
			return &PolicyError{Reason: "Policy Condition failed: " + c.String()}
		}
	}
	var extra []string
	for name := range fields {
		if !covered[name] && !policyExempt(name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return &PolicyError{Reason: "Extra input fields: " + strings.Join(extra, ", ")}
	}
	return nil
}

// PostAuth is a verified POST upload form: who signed it and its policy.
type PostAuth struct {
	AccessKey        string
	SignatureVersion int // 4 or 2
	// Region and Service are from the x-amz-credential scope (Version 4;
	// Version 2 names no region, and its service is s3).
	Region  string
	Service string
	// SessionToken is the x-amz-security-token field, "" if none; as for
	// Auth, the caller checks that it belongs to AccessKey.
	SessionToken string
	Policy       *Policy
}

// postSigned reports whether the form carries a signature: any of the
// Version 4 or Version 2 signing fields.
func postSigned(fields map[string]string) (v4, v2 bool) {
	for _, f := range []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"} {
		if _, ok := fields[f]; ok {
			v4 = true
		}
	}
	for _, f := range []string{"awsaccesskeyid", "signature"} {
		if _, ok := fields[f]; ok {
			v2 = true
		}
	}
	return v4, v2
}

// VerifyPost authenticates the form of a browser POST upload, its fields
// by lower-case name (the file excluded): it checks the signature of the
// policy (Version 4 or 2) and decodes the policy. A form without any
// signing field is anonymous: ErrMissingAuth. The caller then checks the
// fields with PostAuth.Policy.Check and the file size with CheckLength.
// Unlike Verify, there is no date skew check: the policy's expiration is
// what bounds the form's life.
func VerifyPost(fields map[string]string, creds Credentials) (*PostAuth, error) {
	v4, v2 := postSigned(fields)
	need := func(names ...string) error {
		for _, n := range names {
			if fields[n] == "" {
				return &MissingFieldError{Field: n}
			}
		}
		return nil
	}
	var a *PostAuth
	switch {
	case v4 && v2:
		return nil, fmt.Errorf("%w: both Signature Version 4 and Version 2 fields", ErrPostFormMalformed)
	case v4:
		if err := need("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "policy"); err != nil {
			return nil, err
		}
		if alg := fields["x-amz-algorithm"]; alg != algorithmHMAC {
			return nil, fmt.Errorf("%w: x-amz-algorithm %q", ErrUnsupportedAlgorithm, alg)
		}
		c, err := parseCredential(fields["x-amz-credential"], func(s string) bool { return s == "s3" })
		if err != nil {
			return nil, fmt.Errorf("%w: x-amz-credential: %v", ErrPostFormMalformed, err)
		}
		if _, err := time.Parse(iso8601Basic, fields["x-amz-date"]); err != nil {
			return nil, fmt.Errorf("%w: x-amz-date %q must be ISO 8601 basic (20060102T150405Z)", ErrPostFormMalformed, fields["x-amz-date"])
		}
		sig, ok := parseSignature(fields["x-amz-signature"])
		if !ok {
			return nil, fmt.Errorf("%w: x-amz-signature must be 64 hex digits", ErrPostFormMalformed)
		}
		secret, err := creds(c.accessKey)
		if err != nil {
			return nil, err
		}
		key := deriveSigningKey(secret, c.date, c.region, c.service)
		if !hmac.Equal(sig, hmacSHA256(key, fields["policy"])) {
			return nil, fmt.Errorf("%w: policy signature %s", ErrSignatureDoesNotMatch, hex.EncodeToString(sig))
		}
		a = &PostAuth{AccessKey: c.accessKey, SignatureVersion: 4, Region: c.region, Service: c.service}
	case v2:
		if err := need("awsaccesskeyid", "signature", "policy"); err != nil {
			return nil, err
		}
		secret, err := creds(fields["awsaccesskeyid"])
		if err != nil {
			return nil, err
		}
		sig, ok := parseSignatureV2(fields["signature"])
		if !ok || !hmac.Equal(sig, hmacSHA1(secret, fields["policy"])) {
			return nil, ErrSignatureDoesNotMatch
		}
		a = &PostAuth{AccessKey: fields["awsaccesskeyid"], SignatureVersion: 2, Service: "s3"}
	default:
		return nil, fmt.Errorf("%w: POST form without a signature", ErrMissingAuth)
	}
	a.SessionToken = fields["x-amz-security-token"]
	p, err := ParsePolicy(fields["policy"])
	if err != nil {
		return nil, err
	}
	a.Policy = p
	return a, nil
}
