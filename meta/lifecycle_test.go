package meta_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func TestValidateLifecycle(t *testing.T) {
	rule := func(mod func(r *meta.LifecycleRule)) []meta.LifecycleRule {
		r := meta.LifecycleRule{ID: "r", Filter: meta.LifecycleFilter{Prefix: "logs/"}, Expiration: &meta.LifecycleExpiration{Days: new(30)}}
		mod(&r)
		return []meta.LifecycleRule{r}
	}
	same := func(*meta.LifecycleRule) {}
	many := make([]meta.LifecycleRule, meta.MaxLifecycleRules+1)
	for i := range many {
		many[i] = rule(func(r *meta.LifecycleRule) { r.ID = "" })[0]
	}
	tags := func(kv ...string) []meta.LifecycleTag {
		var out []meta.LifecycleTag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, meta.LifecycleTag{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	const (
		malformed = meta.LifecycleMalformed
		argument  = meta.LifecycleInvalidArgument
		request   = meta.LifecycleInvalidRequest
	)
	for _, tc := range []struct {
		name    string
		rules   []meta.LifecycleRule
		problem meta.LifecycleProblem // 0: valid
		message string
	}{
		{"valid", rule(same), 0, ""},
		{"1000 rules", many[:meta.MaxLifecycleRules], 0, ""},
		{"every action", rule(func(r *meta.LifecycleRule) {
			r.NoncurrentExpiration = &meta.NoncurrentExpiration{Days: 1, NewerVersions: 100}
			r.AbortAfterDays = new(1)
		}), 0, ""},
		{"date at midnight", rule(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{Date: "2030-06-01T00:00:00.000Z"}
		}), 0, ""},
		{"date without zone", rule(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{Date: "2030-06-01T00:00:00"} }), 0, ""},
		{"date at midnight UTC in another zone", rule(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{Date: "2030-06-01T02:00:00+02:00"}
		}), 0, ""},
		{"marker removal", rule(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true} }), 0, ""},
		{"EODM false", rule(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{} }), 0, ""},
		{"tags and sizes", rule(func(r *meta.LifecycleRule) {
			r.Filter = meta.LifecycleFilter{Tags: tags("a", "1", "b", ""), SizeGreaterThan: new(int64(0)), SizeLessThan: new(int64(1))}
		}), 0, ""},
		{"empty ids repeat", rule(func(r *meta.LifecycleRule) { r.ID = "" }), 0, ""},
		{"id of 255", rule(func(r *meta.LifecycleRule) { r.ID = strings.Repeat("é", 255) }), 0, ""},
		{"disabled", rule(func(r *meta.LifecycleRule) { r.Disabled = true }), 0, ""},

		{"no rules", nil, malformed, ""},
		{"1001 rules", many, malformed, ""},
		{"id too long", rule(func(r *meta.LifecycleRule) { r.ID = strings.Repeat("x", 256) }), argument, "ID length should not exceed allowed limit of 255"},
		{"duplicate id", append(rule(same), rule(same)...), argument, "Rule ID must be unique. Found same ID for more than one rule"},
		{"no action", rule(func(r *meta.LifecycleRule) { r.Expiration = nil }), request, "At least one action needs to be specified in a rule."},
		{"days zero", rule(func(r *meta.LifecycleRule) { r.Expiration.Days = new(0) }), argument, "'Days' for Expiration action must be a positive integer"},
		{"days negative", rule(func(r *meta.LifecycleRule) { r.Expiration.Days = new(-3) }), argument, "'Days' for Expiration action must be a positive integer"},
		{"days and date", rule(func(r *meta.LifecycleRule) { r.Expiration.Date = "2030-01-01T00:00:00Z" }), malformed, ""},
		{"days and marker", rule(func(r *meta.LifecycleRule) { r.Expiration.ExpiredObjectDeleteMarker = true }), malformed, ""},
		{"date not midnight", rule(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{Date: "2030-01-01T01:00:00Z"} }), argument, "'Date' must be at midnight GMT"},
		{"date a millisecond off", rule(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{Date: "2030-01-01T00:00:00.001Z"}
		}), argument, "'Date' must be at midnight GMT"},
		{"date midnight elsewhere", rule(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{Date: "2030-01-01T00:00:00+01:00"}
		}), argument, "'Date' must be at midnight GMT"},
		{"date not a date", rule(func(r *meta.LifecycleRule) { r.Expiration = &meta.LifecycleExpiration{Date: "next week"} }), argument, "'Date' must be in ISO 8601 format"},
		{"marker with tags", rule(func(r *meta.LifecycleRule) {
			r.Expiration = &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true}
			r.Filter.Tags = tags("a", "1")
		}), request, "ExpiredObjectDeleteMarker cannot be specified with Tags."},
		{"noncurrent days zero", rule(func(r *meta.LifecycleRule) { r.NoncurrentExpiration = &meta.NoncurrentExpiration{NewerVersions: 2} }), argument,
			"'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
		{"newer versions over 100", rule(func(r *meta.LifecycleRule) {
			r.NoncurrentExpiration = &meta.NoncurrentExpiration{Days: 1, NewerVersions: 101}
		}), argument, ""},
		{"abort zero", rule(func(r *meta.LifecycleRule) { r.AbortAfterDays = new(0) }), argument,
			"'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"},
		{"abort with tags", rule(func(r *meta.LifecycleRule) { r.AbortAfterDays = new(1); r.Filter.Tags = tags("a", "1") }), request,
			"AbortIncompleteMultipartUpload cannot be specified with Tags."},
		{"prefix too long", rule(func(r *meta.LifecycleRule) { r.Filter.Prefix = strings.Repeat("p", 1025) }), request, ""},
		{"empty tag key", rule(func(r *meta.LifecycleRule) { r.Filter.Tags = tags("", "v") }), request, ""},
		{"long tag value", rule(func(r *meta.LifecycleRule) { r.Filter.Tags = tags("k", strings.Repeat("v", 257)) }), request, ""},
		{"duplicate tag keys", rule(func(r *meta.LifecycleRule) { r.Filter.Tags = tags("k", "1", "k", "2") }), request, "Duplicate Tag Keys are not allowed."},
		{"negative size", rule(func(r *meta.LifecycleRule) { r.Filter.SizeGreaterThan = new(int64(-1)) }), request, ""},
		{"size less than zero bytes", rule(func(r *meta.LifecycleRule) { r.Filter.SizeLessThan = new(int64(0)) }), request, ""},
		{"size range empty", rule(func(r *meta.LifecycleRule) {
			r.Filter.SizeGreaterThan, r.Filter.SizeLessThan = new(int64(10)), new(int64(10))
		}), request, "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'."},
		{"legacy prefix with tags", rule(func(r *meta.LifecycleRule) { r.LegacyPrefix = true; r.Filter.Tags = tags("a", "1") }), malformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := meta.ValidateLifecycle(tc.rules)
			if tc.problem == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *meta.LifecycleError
			if !errors.As(err, &le) || le.Problem != tc.problem || !errors.Is(err, meta.ErrInvalid) || (tc.message != "" && le.Message != tc.message) {
				t.Fatalf("got %#v (%v), want problem %d %q", err, err, tc.problem, tc.message)
			}
		})
	}
}

func TestSetBucketLifecycle(t *testing.T) {
	s := metatest.State(t, metatest.Options{})
	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "logs"}})
	rules := []meta.LifecycleRule{
		{ID: "tmp", Filter: meta.LifecycleFilter{Prefix: "tmp/", Tags: []meta.LifecycleTag{{Key: "k", Value: "v"}}, SizeLessThan: new(int64(100))},
			Expiration: &meta.LifecycleExpiration{Days: new(3)}, NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 1}},
		{Filter: meta.LifecycleFilter{Tags: []meta.LifecycleTag{}}, AbortAfterDays: new(7)},
	}
	mustApply(t, s, meta.SetBucketLifecycle{Bucket: "logs", Rules: rules})
	got := s.Buckets["logs"].Lifecycle
	want := []meta.LifecycleRule{
		{ID: "tmp", Filter: meta.LifecycleFilter{Prefix: "tmp/", Tags: []meta.LifecycleTag{{Key: "k", Value: "v"}}, SizeLessThan: new(int64(100))},
			Expiration: &meta.LifecycleExpiration{Days: new(3)}, NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 1}},
		{AbortAfterDays: new(7)}, // an empty tag list is stored as nil, as a snapshot restores it
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %+v", got)
	}
	// Apply copies what it keeps, and so does a clone.
	rules[0].Filter.Tags[0].Value = "x"
	*rules[0].Expiration.Days = 9
	*rules[0].Filter.SizeLessThan = 1
	rules[0].NoncurrentExpiration.Days = 9
	*rules[1].AbortAfterDays = 9
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the state shares memory with the command")
	}
	c := s.Clone()
	c.Buckets["logs"].Lifecycle[0].Filter.Tags[0].Key = "y"
	*c.Buckets["logs"].Lifecycle[0].Expiration.Days = 8
	*c.Buckets["logs"].Lifecycle[1].AbortAfterDays = 8
	if !reflect.DeepEqual(s.Buckets["logs"].Lifecycle, want) {
		t.Fatal("a clone shares lifecycle rules with the original")
	}
	mustApply(t, s, meta.SetBucketLifecycle{Bucket: "logs"})
	if s.Buckets["logs"].Lifecycle != nil {
		t.Fatalf("remove: %+v", s.Buckets["logs"].Lifecycle)
	}

	bad := []meta.LifecycleRule{{Expiration: &meta.LifecycleExpiration{Days: new(0)}}}
	for _, tc := range []struct {
		name string
		cmd  meta.Command
		want error
	}{
		{"missing bucket", meta.SetBucketLifecycle{Bucket: "nope", Rules: want}, meta.ErrNoSuchBucket},
		{"invalid rules", meta.SetBucketLifecycle{Bucket: "logs", Rules: bad}, meta.ErrInvalid},
		{"create with invalid rules", meta.CreateBucket{Bucket: meta.Bucket{Name: "other", Lifecycle: bad}}, meta.ErrInvalid},
	} {
		before := s.Clone()
		if err := s.Apply(tc.cmd); !errors.Is(err, tc.want) {
			t.Fatalf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if !reflect.DeepEqual(s, before) {
			t.Fatalf("%s: a rejected command changed the state", tc.name)
		}
	}
	if err := meta.NewState().Apply(meta.SetBucketLifecycle{Bucket: "logs", Rules: want}); !errors.Is(err, meta.ErrNotBootstrapped) {
		t.Fatalf("not bootstrapped: %v", err)
	}
}

func TestLifecycleFilterPredicates(t *testing.T) {
	for _, tc := range []struct {
		f    meta.LifecycleFilter
		want int
	}{
		{meta.LifecycleFilter{}, 0},
		{meta.LifecycleFilter{Prefix: "a"}, 1},
		{meta.LifecycleFilter{Tags: []meta.LifecycleTag{{Key: "a"}, {Key: "b"}}}, 2},
		{meta.LifecycleFilter{Prefix: "a", SizeGreaterThan: new(int64(0)), SizeLessThan: new(int64(5))}, 3},
	} {
		if got := tc.f.Predicates(); got != tc.want {
			t.Errorf("%+v: %d predicates, want %d", tc.f, got, tc.want)
		}
	}
}
