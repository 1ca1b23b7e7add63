package meta

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A bucket's CORS configuration (PutBucketCors) is its list of rules in
// the order the client gave them: the first rule that matches a
// cross-origin request decides it. meta stores and validates the rules;
// s3api parses the XML and evaluates the rules on requests.

// CORS configuration limits, as Amazon S3 has them.
const (
	// MaxCORSRules is the most rules one configuration may have.
	MaxCORSRules = 100
	// MaxCORSRuleIDLen bounds a rule's ID.
	MaxCORSRuleIDLen = 255
)

// corsMethods are the methods a rule may allow; read-only.
var corsMethods = []string{"GET", "PUT", "HEAD", "POST", "DELETE"}

// IsCORSMethod reports whether a CORS rule may allow method: GET, PUT,
// HEAD, POST or DELETE (case-sensitive, as S3).
func IsCORSMethod(method string) bool { return slices.Contains(corsMethods, method) }

// CORSRule is one rule of a bucket's CORS configuration. Origins and
// allowed headers may hold one '*' wildcard each; methods are among GET,
// PUT, HEAD, POST and DELETE.
type CORSRule struct {
	ID             string   `json:"id,omitempty"`
	AllowedOrigins []string `json:"allowed_origins"`
	AllowedMethods []string `json:"allowed_methods"`
	AllowedHeaders []string `json:"allowed_headers,omitempty"`
	ExposeHeaders  []string `json:"expose_headers,omitempty"`
	// MaxAgeSeconds is how long a browser may cache a preflight answer;
	// nil when the rule does not say.
	MaxAgeSeconds *int64 `json:"max_age_seconds,omitempty"`
}

// SetBucketCORS sets (Rules non-empty) or removes (empty) a bucket's CORS
// configuration.
type SetBucketCORS struct {
	Bucket string     `json:"bucket"`
	Rules  []CORSRule `json:"rules,omitempty"`
}

// Kind implements Command.
func (SetBucketCORS) Kind() Kind { return KindSetBucketCORS }

// CORSProblem says what is wrong with a CORS configuration.
type CORSProblem uint8

// The problems ValidateCORS reports. CORSMalformed is a configuration
// that does not have the required shape (no rules or too many, a rule
// without an origin or a method, an empty value); the others name one
// value that breaks a rule.
const (
	CORSMalformed         CORSProblem = iota + 1
	CORSUnsupportedMethod             // Value is a method S3 does not allow in a rule
	CORSWildcards                     // Value (an AllowedOrigin or AllowedHeader) has more than one '*'
	CORSExposeWildcard                // Value is an ExposeHeader with a '*'
	CORSIDTooLong                     // Value is an ID longer than MaxCORSRuleIDLen
	CORSInvalidCharacter              // Value holds a control character
)

// CORSError is a CORS configuration ValidateCORS refuses. It wraps
// ErrInvalid.
type CORSError struct {
	Problem CORSProblem
	Field   string // "AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "ID" or "" for the document
	Value   string // the offending value
	Detail  string // what is wrong, for CORSMalformed
}

// Error implements error.
func (e *CORSError) Error() string {
	switch e.Problem {
	case CORSUnsupportedMethod:
		return fmt.Sprintf("cors: unsupported method %q", e.Value)
	case CORSWildcards:
		return fmt.Sprintf("cors: %s %q has more than one wildcard", e.Field, e.Value)
	case CORSExposeWildcard:
		return fmt.Sprintf("cors: %s %q has a wildcard", e.Field, e.Value)
	case CORSIDTooLong:
		return fmt.Sprintf("cors: rule ID of %d characters exceeds %d", utf8.RuneCountInString(e.Value), MaxCORSRuleIDLen)
	case CORSInvalidCharacter:
		return fmt.Sprintf("cors: %s %q has a control character", e.Field, e.Value)
	}
	return "cors: malformed configuration: " + e.Detail
}

// Unwrap makes a CORSError match ErrInvalid.
func (e *CORSError) Unwrap() error { return ErrInvalid }

// ValidateCORS checks a CORS configuration as S3 does: 1 to MaxCORSRules
// rules, each with at least one origin and one method; methods among
// GET, PUT, HEAD, POST and DELETE; at most one '*' in an origin or an
// allowed header and none in an exposed header; IDs of at most
// MaxCORSRuleIDLen characters; no empty value and no control character in
// any value (they are echoed in response headers). The structure of every
// rule is checked before any value, so a document with both kinds of
// error is CORSMalformed, as S3 answers. The error is a *CORSError.
func ValidateCORS(rules []CORSRule) error {
	malformed := func(format string, args ...any) error {
		return &CORSError{Problem: CORSMalformed, Detail: fmt.Sprintf(format, args...)}
	}
	if len(rules) == 0 || len(rules) > MaxCORSRules {
		return malformed("%d rules (want 1 to %d)", len(rules), MaxCORSRules)
	}
	for i, r := range rules {
		switch {
		case len(r.AllowedOrigins) == 0:
			return malformed("rule %d has no AllowedOrigin", i+1)
		case len(r.AllowedMethods) == 0:
			return malformed("rule %d has no AllowedMethod", i+1)
		case slices.Contains(r.AllowedOrigins, ""), slices.Contains(r.AllowedMethods, ""),
			slices.Contains(r.AllowedHeaders, ""), slices.Contains(r.ExposeHeaders, ""):
			return malformed("rule %d has an empty value", i+1)
		case r.MaxAgeSeconds != nil && *r.MaxAgeSeconds < 0:
			return malformed("rule %d has a negative MaxAgeSeconds", i+1)
		}
	}
	for _, r := range rules {
		if utf8.RuneCountInString(r.ID) > MaxCORSRuleIDLen {
			return &CORSError{Problem: CORSIDTooLong, Field: "ID", Value: r.ID}
		}
		for _, m := range r.AllowedMethods {
			if !IsCORSMethod(m) {
				return &CORSError{Problem: CORSUnsupportedMethod, Field: "AllowedMethod", Value: m}
			}
		}
		for _, f := range []struct {
			name   string
			values []string
		}{{"ID", []string{r.ID}}, {"AllowedOrigin", r.AllowedOrigins}, {"AllowedHeader", r.AllowedHeaders}, {"ExposeHeader", r.ExposeHeaders}} {
			for _, v := range f.values {
				if strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
					return &CORSError{Problem: CORSInvalidCharacter, Field: f.name, Value: v}
				}
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return &CORSError{Problem: CORSWildcards, Field: "AllowedOrigin", Value: o}
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return &CORSError{Problem: CORSWildcards, Field: "AllowedHeader", Value: h}
			}
		}
		for _, h := range r.ExposeHeaders {
			if strings.Contains(h, "*") {
				return &CORSError{Problem: CORSExposeWildcard, Field: "ExposeHeader", Value: h}
			}
		}
	}
	return nil
}

func (s *State) applySetBucketCORS(c SetBucketCORS) error {
	return s.updateBucket(c.Bucket, func(nb *Bucket) error {
		if len(c.Rules) > 0 {
			if err := ValidateCORS(c.Rules); err != nil {
				return fmt.Errorf("bucket %s: %w", c.Bucket, err)
			}
		}
		nb.CORS = cloneCORS(c.Rules)
		return nil
	})
}

// cloneCORS deep-copies rules; empty slices become nil, as a snapshot
// round trip restores them.
func cloneCORS(rules []CORSRule) []CORSRule {
	if len(rules) == 0 {
		return nil
	}
	out := make([]CORSRule, len(rules))
	for i, r := range rules {
		out[i] = CORSRule{
			ID:             r.ID,
			AllowedOrigins: nilIfEmpty(slices.Clone(r.AllowedOrigins)),
			AllowedMethods: nilIfEmpty(slices.Clone(r.AllowedMethods)),
			AllowedHeaders: nilIfEmpty(slices.Clone(r.AllowedHeaders)),
			ExposeHeaders:  nilIfEmpty(slices.Clone(r.ExposeHeaders)),
		}
		if r.MaxAgeSeconds != nil {
			v := *r.MaxAgeSeconds
			out[i].MaxAgeSeconds = &v
		}
	}
	return out
}
