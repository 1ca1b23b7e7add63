package lifecycle

import (
	"strings"
	"time"

	"github.com/strata-io/strata/meta"
)

// Action is what a lifecycle rule does to a version or an upload.
type Action uint8

// The actions.
const (
	// None: nothing is due.
	None Action = iota
	// ExpireCurrent expires the current version: a delete without version
	// id (a delete marker in a versioned bucket, the object removed in an
	// unversioned one).
	ExpireCurrent
	// RemoveMarker deletes an expired object delete marker by its version
	// id.
	RemoveMarker
	// DeleteVersion deletes a noncurrent version by its version id.
	DeleteVersion
	// AbortUpload aborts a multipart upload.
	AbortUpload
)

// String names the action for logs.
func (a Action) String() string {
	switch a {
	case ExpireCurrent:
		return "expire_current"
	case RemoveMarker:
		return "remove_marker"
	case DeleteVersion:
		return "delete_noncurrent"
	case AbortUpload:
		return "abort_upload"
	}
	return "none"
}

// Decision is what is due for a version or an upload, and the rule that
// decided it.
type Decision struct {
	Action Action
	Rule   string // the deciding rule's ID ("" when it has none, or for None)
}

// Version is one object version as a bucket walk sees it.
type Version struct {
	Key          string
	Size         int64 // 0 for a delete marker
	Tags         map[string]string
	ModTime      time.Time
	IsLatest     bool
	DeleteMarker bool
	// NoncurrentSince is when a noncurrent version stopped being current:
	// the creation time of the version that followed it. Zero for the
	// latest.
	NoncurrentSince time.Time
	// NewerNoncurrent is, for a noncurrent version, how many noncurrent
	// versions of the key are newer than it.
	NewerNoncurrent int
	// Noncurrent is, for the latest version, how many noncurrent versions
	// the key has: a latest delete marker with none is an expired object
	// delete marker.
	Noncurrent int
}

// ExpiryTime is when an action due days after t happens, as S3 counts
// it: midnight UTC after t plus days (an object created 2014-01-15 10:30
// UTC with 3 days expires 2014-01-19 00:00 UTC).
func ExpiryTime(t time.Time, days int) time.Time {
	return t.UTC().Add(time.Duration(days+1) * 24 * time.Hour).Truncate(24 * time.Hour)
}

// Policy is a bucket's rules, ready to evaluate. The zero Policy decides
// nothing.
type Policy struct {
	rules []rule
}

// rule is one enabled rule with its Date parsed.
type rule struct {
	meta.LifecycleRule
	date    time.Time
	hasDate bool
}

// Compile prepares rules for evaluation; disabled rules are left out.
// rules are expected to be valid (meta.ValidateLifecycle): a Date that
// does not parse is ignored.
func Compile(rules []meta.LifecycleRule) Policy {
	var p Policy
	for _, r := range rules {
		if r.Disabled {
			continue
		}
		c := rule{LifecycleRule: r}
		if r.Expiration != nil {
			c.date, c.hasDate = r.Expiration.DateTime()
		}
		p.rules = append(p.rules, c)
	}
	return p
}

// Empty reports whether no enabled rule has an action.
func (p Policy) Empty() bool { return len(p.rules) == 0 }

// AbortsUploads reports whether some enabled rule aborts uploads.
func (p Policy) AbortsUploads() bool {
	for _, r := range p.rules {
		if r.AbortAfterDays != nil {
			return true
		}
	}
	return false
}

// Matches reports whether an object version with this key, size and
// tags is selected by f.
func Matches(f meta.LifecycleFilter, key string, size int64, tags map[string]string) bool {
	if !strings.HasPrefix(key, f.Prefix) {
		return false
	}
	if f.SizeGreaterThan != nil && size <= *f.SizeGreaterThan {
		return false
	}
	if f.SizeLessThan != nil && size >= *f.SizeLessThan {
		return false
	}
	for _, t := range f.Tags {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// Version decides what is due for v at now.
func (p Policy) Version(v Version, now time.Time) Decision {
	size, tags := v.Size, v.Tags
	if v.DeleteMarker {
		size, tags = 0, nil
	}
	for _, r := range p.rules {
		if !Matches(r.Filter, v.Key, size, tags) {
			continue
		}
		switch {
		case !v.IsLatest:
			n := r.NoncurrentExpiration
			if n != nil && v.NewerNoncurrent >= n.NewerVersions && !now.Before(ExpiryTime(v.NoncurrentSince, n.Days)) {
				return Decision{Action: DeleteVersion, Rule: r.ID}
			}
		case v.DeleteMarker:
			if v.Noncurrent == 0 && r.expires(v.ModTime, now, true) {
				return Decision{Action: RemoveMarker, Rule: r.ID}
			}
		default:
			if r.expires(v.ModTime, now, false) {
				return Decision{Action: ExpireCurrent, Rule: r.ID}
			}
		}
	}
	return Decision{}
}

// expires reports whether r's Expiration is due at now for a current
// version created at mod; marker: the version is an expired object delete
// marker, which ExpiredObjectDeleteMarker also removes.
func (r rule) expires(mod, now time.Time, marker bool) bool {
	e := r.Expiration
	switch {
	case e == nil:
		return false
	case e.Days != nil:
		return !now.Before(ExpiryTime(mod, *e.Days))
	case r.hasDate:
		return !now.Before(r.date)
	}
	return marker && e.ExpiredObjectDeleteMarker
}

// Upload decides whether the multipart upload of key initiated at
// initiated is due to be aborted at now.
func (p Policy) Upload(key string, initiated, now time.Time) Decision {
	for _, r := range p.rules {
		f := r.Filter
		if r.AbortAfterDays == nil || f.SizeGreaterThan != nil || f.SizeLessThan != nil || len(f.Tags) > 0 || !strings.HasPrefix(key, f.Prefix) {
			continue
		}
		if !now.Before(ExpiryTime(initiated, *r.AbortAfterDays)) {
			return Decision{Action: AbortUpload, Rule: r.ID}
		}
	}
	return Decision{}
}
