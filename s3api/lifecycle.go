package s3api

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/meta"
)

// Bucket lifecycle: Put/Get/DeleteBucketLifecycleConfiguration in the AWS
// XML. The rules are stored in Raft as meta.LifecycleRule; parseLifecycle
// checks the document's shape (MalformedXML), meta.ValidateLifecycle its
// values (S3's InvalidArgument and InvalidRequest answers). Package ilm
// executes the rules. Transitions are refused with NotImplemented: Strata
// has a single storage class.

// maxLifecycleBodySize bounds a PutBucketLifecycleConfiguration body: room
// for 1,000 rules with long prefixes and tags.
const maxLifecycleBodySize = 2 << 20

// lifecycleRuleIDLen is the length of the ID given to a rule that has
// none (S3 names every rule).
const lifecycleRuleIDLen = 48

// lifecycleConfiguration is the LifecycleConfiguration document. The
// request's namespace is not required: some clients omit it.
type lifecycleConfiguration struct {
	XMLName xml.Name           `xml:"LifecycleConfiguration"`
	Xmlns   string             `xml:"xmlns,attr,omitempty"`
	Rules   []lifecycleRuleXML `xml:"Rule"`
}

// lifecycleRuleXML is one Rule. Pointers tell an element that is absent
// from one that is empty; the order of the fields is the order S3 writes
// them in.
type lifecycleRuleXML struct {
	ID         *string             `xml:"ID"`
	Prefix     *string             `xml:"Prefix"` // the deprecated Rule-level prefix
	Filter     *lifecycleFilterXML `xml:"Filter"`
	Status     string              `xml:"Status"`
	Expiration *lifecycleExpXML    `xml:"Expiration"`
	// Transitions are read only to be refused.
	Transitions                    []struct{}          `xml:"Transition"`
	NoncurrentVersionTransitions   []struct{}          `xml:"NoncurrentVersionTransition"`
	NoncurrentVersionExpiration    *lifecycleNcExpXML  `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *lifecycleAbortXML  `xml:"AbortIncompleteMultipartUpload"`
	Unknown                        []lifecycleOtherXML `xml:",any"`
}

// lifecycleOtherXML is an element of a rule this server does not know.
type lifecycleOtherXML struct {
	XMLName xml.Name
}

// lifecycleFilterXML is a Filter: exactly one of its elements, or none.
type lifecycleFilterXML struct {
	Prefix                *string          `xml:"Prefix"`
	Tags                  []tag            `xml:"Tag"`
	ObjectSizeGreaterThan *int64           `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64           `xml:"ObjectSizeLessThan"`
	And                   *lifecycleAndXML `xml:"And"`
}

// lifecycleAndXML is a Filter's And: two or more conditions.
type lifecycleAndXML struct {
	Prefix                *string `xml:"Prefix"`
	Tags                  []tag   `xml:"Tag"`
	ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan"`
}

type lifecycleExpXML struct {
	Date                      *string `xml:"Date"`
	Days                      *int    `xml:"Days"`
	ExpiredObjectDeleteMarker *bool   `xml:"ExpiredObjectDeleteMarker"`
}

type lifecycleNcExpXML struct {
	NoncurrentDays          *int `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions"`
}

type lifecycleAbortXML struct {
	DaysAfterInitiation *int `xml:"DaysAfterInitiation"`
}

// parseLifecycle parses a PutBucketLifecycleConfiguration body into rules.
// It checks the document's shape only (MalformedXML, or NotImplemented for
// transitions); meta.ValidateLifecycle checks the values.
func parseLifecycle(data []byte) ([]meta.LifecycleRule, error) {
	var c lifecycleConfiguration
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return nil, apiError(codeMalformedXML)
	}
	rules := make([]meta.LifecycleRule, len(c.Rules))
	for i, x := range c.Rules {
		r, err := parseLifecycleRule(x)
		if err != nil {
			return nil, err
		}
		rules[i] = r
	}
	return rules, nil
}

func parseLifecycleRule(x lifecycleRuleXML) (meta.LifecycleRule, error) {
	malformed := apiError(codeMalformedXML)
	var r meta.LifecycleRule
	if len(x.Transitions) > 0 || len(x.NoncurrentVersionTransitions) > 0 {
		return r, apiError(codeNotImplemented, "Lifecycle transitions are not supported: Strata has a single storage class.")
	}
	if len(x.Unknown) > 0 {
		return r, malformed
	}
	if x.ID != nil {
		r.ID = strings.TrimSpace(*x.ID)
	}
	switch strings.TrimSpace(x.Status) {
	case "Enabled":
	case "Disabled":
		r.Disabled = true
	default:
		return r, malformed
	}
	switch {
	case x.Prefix != nil && x.Filter != nil, x.Prefix == nil && x.Filter == nil:
		return r, malformed
	case x.Prefix != nil:
		r.LegacyPrefix, r.Filter.Prefix = true, *x.Prefix
	default:
		f, ok := parseLifecycleFilter(*x.Filter)
		if !ok {
			return r, malformed
		}
		r.Filter = f
	}
	if e := x.Expiration; e != nil {
		set := 0
		for _, present := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if present {
				set++
			}
		}
		if set != 1 {
			return r, malformed
		}
		r.Expiration = &meta.LifecycleExpiration{Days: e.Days}
		if e.Date != nil {
			r.Expiration.Date = strings.TrimSpace(*e.Date)
		}
		if e.ExpiredObjectDeleteMarker != nil {
			r.Expiration.ExpiredObjectDeleteMarker = *e.ExpiredObjectDeleteMarker
		}
	}
	if n := x.NoncurrentVersionExpiration; n != nil {
		// A missing NoncurrentDays is 0: S3 says it must be positive.
		r.NoncurrentExpiration = &meta.NoncurrentExpiration{}
		if n.NoncurrentDays != nil {
			r.NoncurrentExpiration.Days = *n.NoncurrentDays
		}
		if n.NewerNoncurrentVersions != nil {
			r.NoncurrentExpiration.NewerVersions = *n.NewerNoncurrentVersions
		}
	}
	if a := x.AbortIncompleteMultipartUpload; a != nil {
		days := 0
		if a.DaysAfterInitiation != nil {
			days = *a.DaysAfterInitiation
		}
		r.AbortAfterDays = &days
	}
	return r, nil
}

// parseLifecycleFilter converts a Filter; false when it has more than one
// element, or an And of fewer than two conditions.
func parseLifecycleFilter(x lifecycleFilterXML) (meta.LifecycleFilter, bool) {
	var f meta.LifecycleFilter
	set := 0
	for _, present := range []bool{x.Prefix != nil, len(x.Tags) > 0, x.ObjectSizeGreaterThan != nil, x.ObjectSizeLessThan != nil, x.And != nil} {
		if present {
			set++
		}
	}
	if set > 1 || len(x.Tags) > 1 {
		return f, false
	}
	prefix, tags, gt, lt := x.Prefix, x.Tags, x.ObjectSizeGreaterThan, x.ObjectSizeLessThan
	if a := x.And; a != nil {
		n := len(a.Tags)
		for _, present := range []bool{a.Prefix != nil, a.ObjectSizeGreaterThan != nil, a.ObjectSizeLessThan != nil} {
			if present {
				n++
			}
		}
		if n < 2 {
			return f, false
		}
		prefix, tags, gt, lt = a.Prefix, a.Tags, a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
	}
	if prefix != nil {
		f.Prefix = *prefix
	}
	for _, t := range tags {
		f.Tags = append(f.Tags, meta.LifecycleTag{Key: t.Key, Value: t.Value})
	}
	f.SizeGreaterThan, f.SizeLessThan = gt, lt
	return f, true
}

// lifecycleRuleOut renders a stored rule as S3 returns it: a filter of
// one condition as that condition, of several as an And, of none as an
// empty prefix.
func lifecycleRuleOut(r meta.LifecycleRule) lifecycleRuleXML {
	x := lifecycleRuleXML{Status: "Enabled"}
	if r.Disabled {
		x.Status = "Disabled"
	}
	if r.ID != "" {
		x.ID = &r.ID
	}
	f := r.Filter
	switch {
	case r.LegacyPrefix:
		x.Prefix = &f.Prefix
	case f.Predicates() > 1:
		a := &lifecycleAndXML{ObjectSizeGreaterThan: f.SizeGreaterThan, ObjectSizeLessThan: f.SizeLessThan}
		if f.Prefix != "" {
			a.Prefix = &f.Prefix
		}
		for _, t := range f.Tags {
			a.Tags = append(a.Tags, tag{Key: t.Key, Value: t.Value})
		}
		x.Filter = &lifecycleFilterXML{And: a}
	case len(f.Tags) == 1:
		x.Filter = &lifecycleFilterXML{Tags: []tag{{Key: f.Tags[0].Key, Value: f.Tags[0].Value}}}
	case f.SizeGreaterThan != nil || f.SizeLessThan != nil:
		x.Filter = &lifecycleFilterXML{ObjectSizeGreaterThan: f.SizeGreaterThan, ObjectSizeLessThan: f.SizeLessThan}
	default:
		x.Filter = &lifecycleFilterXML{Prefix: &f.Prefix}
	}
	if e := r.Expiration; e != nil {
		x.Expiration = &lifecycleExpXML{Days: e.Days}
		switch {
		case e.Date != "":
			x.Expiration.Date = &e.Date
		case e.Days == nil:
			x.Expiration.ExpiredObjectDeleteMarker = &e.ExpiredObjectDeleteMarker
		}
	}
	if n := r.NoncurrentExpiration; n != nil {
		x.NoncurrentVersionExpiration = &lifecycleNcExpXML{NoncurrentDays: &n.Days}
		if n.NewerVersions > 0 {
			x.NoncurrentVersionExpiration.NewerNoncurrentVersions = &n.NewerVersions
		}
	}
	if r.AbortAfterDays != nil {
		x.AbortIncompleteMultipartUpload = &lifecycleAbortXML{DaysAfterInitiation: r.AbortAfterDays}
	}
	return x
}

// lifecycleError is the S3 answer to a configuration
// meta.ValidateLifecycle refused.
func lifecycleError(e *meta.LifecycleError) *APIError {
	switch e.Problem {
	case meta.LifecycleInvalidArgument:
		return apiError(codeInvalidArgument, e.Message)
	case meta.LifecycleInvalidRequest:
		return apiError(codeInvalidRequest, e.Message)
	}
	return apiError(codeMalformedXML)
}

// putBucketLifecycle serves PutBucketLifecycleConfiguration (PUT
// ?lifecycle): the configuration replaces any previous one; 200 once it
// is in Raft. As S3, the body must carry Content-MD5 or an
// x-amz-checksum-*. A rule without an ID is given a random one.
func (s *Server) putBucketLifecycle(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	if !hasBodyChecksum(r) {
		return apiError(codeInvalidRequest, "Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
	}
	data, err := s.readSmallBody(r, maxLifecycleBodySize, apiError(codeMalformedXML))
	if err != nil {
		return err
	}
	rules, err := parseLifecycle(data)
	if err != nil {
		return err
	}
	// Validated here too so that the answer names the problem: a
	// rejection from the state machine may reach this node through the
	// leader without its type.
	if err := meta.ValidateLifecycle(rules); err != nil {
		return err
	}
	for i := range rules {
		if rules[i].ID == "" {
			id, err := randomString(lifecycleRuleIDLen, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
			if err != nil {
				return err
			}
			rules[i].ID = id
		}
	}
	if err := s.deps.Control.Propose(r.ctx, meta.SetBucketLifecycle{Bucket: r.bucket, Rules: rules}); err != nil {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// getBucketLifecycle serves GetBucketLifecycleConfiguration (GET
// ?lifecycle): the rules as stored, NoSuchLifecycleConfiguration when
// there are none.
func (s *Server) getBucketLifecycle(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.Lifecycle) == 0 {
		return apiError(codeNoSuchLifecycleConfiguration)
	}
	out := lifecycleConfiguration{Xmlns: s3Namespace, Rules: make([]lifecycleRuleXML, len(b.Lifecycle))}
	for i, rule := range b.Lifecycle {
		out.Rules[i] = lifecycleRuleOut(rule)
	}
	return s.writeXML(r, out)
}

// deleteBucketLifecycle serves DeleteBucketLifecycle (DELETE ?lifecycle):
// 204, whether or not the bucket had a configuration, as S3 answers.
func (s *Server) deleteBucketLifecycle(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if len(b.Lifecycle) > 0 {
		if err := s.deps.Control.Propose(r.ctx, meta.SetBucketLifecycle{Bucket: r.bucket}); err != nil {
			return err
		}
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}
