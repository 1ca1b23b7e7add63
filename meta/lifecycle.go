package meta

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// A bucket's lifecycle configuration (PutBucketLifecycleConfiguration) is
// its list of rules in the order the client gave them. meta stores them and
// checks their values as S3 does (ValidateLifecycle); s3api parses the XML
// and checks the document's shape; package lifecycle decides what a rule
// does to an object version; package ilm acts on it.

// Lifecycle configuration limits, as Amazon S3 has them.
const (
	// MaxLifecycleRules is the most rules one configuration may have.
	MaxLifecycleRules = 1000
	// MaxLifecycleRuleIDLen bounds a rule's ID (characters).
	MaxLifecycleRuleIDLen = 255
	// MaxLifecyclePrefixLen bounds a filter's prefix (bytes).
	MaxLifecyclePrefixLen = 1024
	// MaxNewerNoncurrentVersions bounds NewerNoncurrentVersions.
	MaxNewerNoncurrentVersions = 100
	// MaxLifecycleObjectSize bounds the object size filters (bytes).
	MaxLifecycleObjectSize int64 = 1000 << 40
	// MaxLifecycleTagKeyLen and MaxLifecycleTagValueLen bound a filter
	// tag (characters), as object tags are bounded.
	MaxLifecycleTagKeyLen   = 128
	MaxLifecycleTagValueLen = 256
)

// LifecycleRule is one rule of a bucket's lifecycle configuration: which
// object versions and uploads it applies to (Filter) and what it does to
// them (at least one of Expiration, NoncurrentExpiration and
// AbortAfterDays).
type LifecycleRule struct {
	ID string `json:"id,omitempty"`
	// Disabled is S3's Status Disabled: the rule is kept and does nothing.
	Disabled bool `json:"disabled,omitempty"`
	// LegacyPrefix: the rule named its prefix in the deprecated Rule-level
	// Prefix element instead of a Filter; Filter then holds only that
	// prefix.
	LegacyPrefix bool            `json:"legacy_prefix,omitempty"`
	Filter       LifecycleFilter `json:"filter,omitzero"`
	// Expiration expires current versions (and removes expired object
	// delete markers); nil when the rule has none.
	Expiration *LifecycleExpiration `json:"expiration,omitempty"`
	// NoncurrentExpiration deletes noncurrent versions; nil when none.
	NoncurrentExpiration *NoncurrentExpiration `json:"noncurrent_expiration,omitempty"`
	// AbortAfterDays is AbortIncompleteMultipartUpload's
	// DaysAfterInitiation; nil when the rule has no such action.
	AbortAfterDays *int `json:"abort_after_days,omitempty"`
}

// LifecycleFilter selects what a rule applies to: all of its conditions
// hold (an empty filter selects everything). A version matches when its
// key starts with Prefix, it carries every tag of Tags (same key, same
// value; a delete marker carries none), and its size (0 for a delete
// marker) is above SizeGreaterThan and below SizeLessThan when they are
// set.
type LifecycleFilter struct {
	Prefix          string         `json:"prefix,omitempty"`
	Tags            []LifecycleTag `json:"tags,omitempty"`
	SizeGreaterThan *int64         `json:"size_greater_than,omitempty"`
	SizeLessThan    *int64         `json:"size_less_than,omitempty"`
}

// LifecycleTag is one object tag a filter requires.
type LifecycleTag struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Predicates counts the filter's conditions: a non-empty prefix, each
// tag, each size bound. S3 writes a filter of one condition as that
// condition and one of several as an And.
func (f LifecycleFilter) Predicates() int {
	n := len(f.Tags)
	if f.Prefix != "" {
		n++
	}
	if f.SizeGreaterThan != nil {
		n++
	}
	if f.SizeLessThan != nil {
		n++
	}
	return n
}

// LifecycleExpiration is a rule's Expiration action: at most one of Days,
// Date and ExpiredObjectDeleteMarker (all unset is the document's
// <ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker>: no
// effect).
type LifecycleExpiration struct {
	// Days after a current version's creation it expires; nil when unset.
	Days *int `json:"days,omitempty"`
	// Date (ISO 8601, midnight UTC, as the client wrote it) from which
	// every matching current version expires; "" when unset.
	Date string `json:"date,omitempty"`
	// ExpiredObjectDeleteMarker removes delete markers that have no
	// noncurrent version left.
	ExpiredObjectDeleteMarker bool `json:"expired_object_delete_marker,omitempty"`
}

// DateTime returns Date as a time; false when Date is unset or does not
// parse (ValidateLifecycle refuses those).
func (e LifecycleExpiration) DateTime() (time.Time, bool) {
	if e.Date == "" {
		return time.Time{}, false
	}
	t, err := ParseLifecycleDate(e.Date)
	return t, err == nil
}

// lifecycleDateLayouts are the ISO 8601 forms a Date may take: with a
// zone (the fraction is optional in both), or without one (UTC).
var lifecycleDateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// ParseLifecycleDate parses an Expiration Date as S3 accepts it.
func ParseLifecycleDate(s string) (time.Time, error) {
	var err error
	for _, layout := range lifecycleDateLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// NoncurrentExpiration is a rule's NoncurrentVersionExpiration action: a
// noncurrent version is deleted Days after it became noncurrent, once
// NewerVersions noncurrent versions of its key are newer than it (0: any).
type NoncurrentExpiration struct {
	Days          int `json:"days"`
	NewerVersions int `json:"newer_versions,omitempty"`
}

// SetBucketLifecycle sets (Rules non-empty) or removes (empty) a bucket's
// lifecycle configuration.
type SetBucketLifecycle struct {
	Bucket string          `json:"bucket"`
	Rules  []LifecycleRule `json:"rules,omitempty"`
}

// Kind implements Command.
func (SetBucketLifecycle) Kind() Kind { return KindSetBucketLifecycle }

// LifecycleProblem says which S3 error a refused lifecycle configuration
// is.
type LifecycleProblem uint8

// The problems ValidateLifecycle reports, named for the S3 error they
// are answered with.
const (
	// LifecycleMalformed: the configuration does not have the required
	// shape (S3: MalformedXML).
	LifecycleMalformed LifecycleProblem = iota + 1
	// LifecycleInvalidArgument: a value S3 refuses with InvalidArgument.
	LifecycleInvalidArgument
	// LifecycleInvalidRequest: a combination S3 refuses with
	// InvalidRequest.
	LifecycleInvalidRequest
)

// LifecycleError is a lifecycle configuration ValidateLifecycle refuses:
// Message is S3's message for it. It wraps ErrInvalid.
type LifecycleError struct {
	Problem LifecycleProblem
	Message string
}

// Error implements error.
func (e *LifecycleError) Error() string { return "lifecycle: " + e.Message }

// Unwrap makes a LifecycleError match ErrInvalid.
func (e *LifecycleError) Unwrap() error { return ErrInvalid }

// ValidateLifecycle checks a lifecycle configuration's values as S3 does:
// 1 to MaxLifecycleRules rules; rule IDs unique and at most
// MaxLifecycleRuleIDLen characters; at least one action per rule; day
// counts positive; a Date at midnight UTC; at most one of an Expiration's
// Days, Date and ExpiredObjectDeleteMarker; no tag filter with
// ExpiredObjectDeleteMarker or AbortIncompleteMultipartUpload; prefixes,
// tags and size bounds within S3's limits. The error is a
// *LifecycleError carrying S3's message.
func ValidateLifecycle(rules []LifecycleRule) error {
	if len(rules) == 0 || len(rules) > MaxLifecycleRules {
		return lcError(LifecycleMalformed, "%d rules (want 1 to %d)", len(rules), MaxLifecycleRules)
	}
	ids := make(map[string]bool, len(rules))
	for _, r := range rules {
		if utf8.RuneCountInString(r.ID) > MaxLifecycleRuleIDLen {
			return lcError(LifecycleInvalidArgument, "ID length should not exceed allowed limit of %d", MaxLifecycleRuleIDLen)
		}
		if r.ID != "" {
			if ids[r.ID] {
				return lcError(LifecycleInvalidArgument, "Rule ID must be unique. Found same ID for more than one rule")
			}
			ids[r.ID] = true
		}
		if err := validateLifecycleRule(r); err != nil {
			return err
		}
	}
	return nil
}

func validateLifecycleRule(r LifecycleRule) error {
	f := r.Filter
	if r.LegacyPrefix && (len(f.Tags) > 0 || f.SizeGreaterThan != nil || f.SizeLessThan != nil) {
		return lcError(LifecycleMalformed, "a rule-level Prefix cannot carry tags or sizes")
	}
	if len(f.Prefix) > MaxLifecyclePrefixLen {
		return lcError(LifecycleInvalidRequest, "The maximum size of a prefix is %d.", MaxLifecyclePrefixLen)
	}
	keys := make(map[string]bool, len(f.Tags))
	for _, t := range f.Tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > MaxLifecycleTagKeyLen {
			return lcError(LifecycleInvalidRequest, "The TagKey you have provided is invalid: it must be 1 to %d characters long.", MaxLifecycleTagKeyLen)
		}
		if utf8.RuneCountInString(t.Value) > MaxLifecycleTagValueLen {
			return lcError(LifecycleInvalidRequest, "The TagValue you have provided is too long, max %d.", MaxLifecycleTagValueLen)
		}
		if keys[t.Key] {
			return lcError(LifecycleInvalidRequest, "Duplicate Tag Keys are not allowed.")
		}
		keys[t.Key] = true
	}
	if gt := f.SizeGreaterThan; gt != nil && (*gt < 0 || *gt > MaxLifecycleObjectSize) {
		return lcError(LifecycleInvalidRequest, "'ObjectSizeGreaterThan' should be between 0 and %d.", MaxLifecycleObjectSize)
	}
	if lt := f.SizeLessThan; lt != nil && (*lt < 1 || *lt > MaxLifecycleObjectSize) {
		return lcError(LifecycleInvalidRequest, "'ObjectSizeLessThan' should be between 1 and %d.", MaxLifecycleObjectSize)
	}
	if f.SizeGreaterThan != nil && f.SizeLessThan != nil && *f.SizeGreaterThan >= *f.SizeLessThan {
		return lcError(LifecycleInvalidRequest, "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'.")
	}
	if r.Expiration == nil && r.NoncurrentExpiration == nil && r.AbortAfterDays == nil {
		return lcError(LifecycleInvalidRequest, "At least one action needs to be specified in a rule.")
	}
	if e := r.Expiration; e != nil {
		set := 0
		for _, b := range []bool{e.Days != nil, e.Date != "", e.ExpiredObjectDeleteMarker} {
			if b {
				set++
			}
		}
		if set > 1 {
			return lcError(LifecycleMalformed, "an Expiration sets more than one of Days, Date and ExpiredObjectDeleteMarker")
		}
		if e.Days != nil && *e.Days < 1 {
			return lcError(LifecycleInvalidArgument, "'Days' for Expiration action must be a positive integer")
		}
		if e.Date != "" {
			t, err := ParseLifecycleDate(e.Date)
			if err != nil {
				return lcError(LifecycleInvalidArgument, "'Date' must be in ISO 8601 format")
			}
			if !t.Equal(t.Truncate(24 * time.Hour)) {
				return lcError(LifecycleInvalidArgument, "'Date' must be at midnight GMT")
			}
		}
		if e.ExpiredObjectDeleteMarker && len(f.Tags) > 0 {
			return lcError(LifecycleInvalidRequest, "ExpiredObjectDeleteMarker cannot be specified with Tags.")
		}
	}
	if n := r.NoncurrentExpiration; n != nil {
		if n.Days < 1 {
			return lcError(LifecycleInvalidArgument, "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
		}
		if n.NewerVersions < 0 || n.NewerVersions > MaxNewerNoncurrentVersions {
			return lcError(LifecycleInvalidArgument, "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to %d", MaxNewerNoncurrentVersions)
		}
	}
	if d := r.AbortAfterDays; d != nil {
		if *d < 1 {
			return lcError(LifecycleInvalidArgument, "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		}
		if len(f.Tags) > 0 {
			return lcError(LifecycleInvalidRequest, "AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	return nil
}

func lcError(p LifecycleProblem, format string, args ...any) *LifecycleError {
	return &LifecycleError{Problem: p, Message: fmt.Sprintf(format, args...)}
}

func (s *State) applySetBucketLifecycle(c SetBucketLifecycle) error {
	return s.updateBucket(c.Bucket, func(nb *Bucket) error {
		if len(c.Rules) > 0 {
			if err := ValidateLifecycle(c.Rules); err != nil {
				return fmt.Errorf("bucket %s: %w", c.Bucket, err)
			}
		}
		nb.Lifecycle = cloneLifecycle(c.Rules)
		return nil
	})
}

// cloneLifecycle deep-copies rules; empty slices become nil, as a
// snapshot round trip restores them.
func cloneLifecycle(rules []LifecycleRule) []LifecycleRule {
	if len(rules) == 0 {
		return nil
	}
	out := make([]LifecycleRule, len(rules))
	for i, r := range rules {
		c := r
		c.Filter.Tags = nilIfEmpty(append([]LifecycleTag(nil), r.Filter.Tags...))
		c.Filter.SizeGreaterThan = clonePtr(r.Filter.SizeGreaterThan)
		c.Filter.SizeLessThan = clonePtr(r.Filter.SizeLessThan)
		c.AbortAfterDays = clonePtr(r.AbortAfterDays)
		if r.Expiration != nil {
			e := *r.Expiration
			e.Days = clonePtr(r.Expiration.Days)
			c.Expiration = &e
		}
		if r.NoncurrentExpiration != nil {
			n := *r.NoncurrentExpiration
			c.NoncurrentExpiration = &n
		}
		out[i] = c
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
