package meta_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func TestValidateCORS(t *testing.T) {
	rule := func(mod func(r *meta.CORSRule)) []meta.CORSRule {
		r := meta.CORSRule{AllowedOrigins: []string{"https://*.example.org"}, AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}}
		mod(&r)
		return []meta.CORSRule{r}
	}
	same := func(*meta.CORSRule) {}
	many := make([]meta.CORSRule, meta.MaxCORSRules+1)
	for i := range many {
		many[i] = rule(same)[0]
	}
	for _, tc := range []struct {
		name    string
		rules   []meta.CORSRule
		problem meta.CORSProblem // 0: valid
		value   string
	}{
		{"valid", rule(same), 0, ""},
		{"100 rules", many[:meta.MaxCORSRules], 0, ""},
		{"star origin and header", rule(func(r *meta.CORSRule) { r.AllowedOrigins, r.AllowedHeaders = []string{"*"}, []string{"*"} }), 0, ""},
		{"max age zero", rule(func(r *meta.CORSRule) { r.MaxAgeSeconds = new(int64(0)) }), 0, ""},
		{"id of 255", rule(func(r *meta.CORSRule) { r.ID = strings.Repeat("x", 255) }), 0, ""},
		{"id of 255 characters in more bytes", rule(func(r *meta.CORSRule) { r.ID = strings.Repeat("é", 255) }), 0, ""},
		{"no rules", nil, meta.CORSMalformed, ""},
		{"101 rules", many, meta.CORSMalformed, ""},
		{"no origin", rule(func(r *meta.CORSRule) { r.AllowedOrigins = nil }), meta.CORSMalformed, ""},
		{"no method", rule(func(r *meta.CORSRule) { r.AllowedMethods = nil }), meta.CORSMalformed, ""},
		{"empty header", rule(func(r *meta.CORSRule) { r.AllowedHeaders = []string{""} }), meta.CORSMalformed, ""},
		{"negative max age", rule(func(r *meta.CORSRule) { r.MaxAgeSeconds = new(int64(-1)) }), meta.CORSMalformed, ""},
		{"unsupported method", rule(func(r *meta.CORSRule) { r.AllowedMethods = []string{"GET", "PATCH"} }), meta.CORSUnsupportedMethod, "PATCH"},
		{"lower-case method", rule(func(r *meta.CORSRule) { r.AllowedMethods = []string{"get"} }), meta.CORSUnsupportedMethod, "get"},
		{"two wildcards in origin", rule(func(r *meta.CORSRule) { r.AllowedOrigins = []string{"https://*.*.org"} }), meta.CORSWildcards, "https://*.*.org"},
		{"two wildcards in header", rule(func(r *meta.CORSRule) { r.AllowedHeaders = []string{"x-*-*"} }), meta.CORSWildcards, "x-*-*"},
		{"wildcard in expose", rule(func(r *meta.CORSRule) { r.ExposeHeaders = []string{"x-amz-meta-*"} }), meta.CORSExposeWildcard, "x-amz-meta-*"},
		{"id too long", rule(func(r *meta.CORSRule) { r.ID = strings.Repeat("x", 256) }), meta.CORSIDTooLong, strings.Repeat("x", 256)},
		{"control character", rule(func(r *meta.CORSRule) { r.ExposeHeaders = []string{"ETag\r\nX: y"} }), meta.CORSInvalidCharacter, "ETag\r\nX: y"},
		// The structure of every rule is checked before any value.
		{"shape before values", append(rule(func(r *meta.CORSRule) { r.AllowedMethods = []string{"PATCH"} }), rule(func(r *meta.CORSRule) { r.AllowedOrigins = nil })...), meta.CORSMalformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := meta.ValidateCORS(tc.rules)
			if tc.problem == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *meta.CORSError
			if !errors.As(err, &ce) || ce.Problem != tc.problem || ce.Value != tc.value || !errors.Is(err, meta.ErrInvalid) {
				t.Fatalf("got %#v (%v), want problem %d value %q", err, err, tc.problem, tc.value)
			}
		})
	}
}

func TestSetBucketCORS(t *testing.T) {
	s := metatest.State(t, metatest.Options{})
	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "web"}})
	rules := []meta.CORSRule{
		{ID: "r1", AllowedOrigins: []string{"https://a.example"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, MaxAgeSeconds: new(int64(60))},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
	}
	mustApply(t, s, meta.SetBucketCORS{Bucket: "web", Rules: rules})
	got := s.Buckets["web"].CORS
	// Stored as given, in order; an empty list is stored as nil (as a
	// snapshot restores it).
	want := []meta.CORSRule{
		{ID: "r1", AllowedOrigins: []string{"https://a.example"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: new(int64(60))},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %+v", got)
	}
	// Apply copies what it keeps.
	rules[0].AllowedOrigins[0] = "x"
	*rules[0].MaxAgeSeconds = 1
	if got[0].AllowedOrigins[0] != "https://a.example" || *got[0].MaxAgeSeconds != 60 {
		t.Fatal("the state shares memory with the command")
	}
	// A clone shares nothing either.
	c := s.Clone()
	c.Buckets["web"].CORS[0].AllowedMethods[0] = "PUT"
	*c.Buckets["web"].CORS[0].MaxAgeSeconds = 2
	if got[0].AllowedMethods[0] != "GET" || *got[0].MaxAgeSeconds != 60 {
		t.Fatal("a clone shares CORS rules with the original")
	}
	// Replaced whole, then removed.
	mustApply(t, s, meta.SetBucketCORS{Bucket: "web", Rules: want[1:]})
	if len(s.Buckets["web"].CORS) != 1 {
		t.Fatalf("replace: %+v", s.Buckets["web"].CORS)
	}
	mustApply(t, s, meta.SetBucketCORS{Bucket: "web"})
	if s.Buckets["web"].CORS != nil {
		t.Fatalf("remove: %+v", s.Buckets["web"].CORS)
	}
}

func TestSetBucketCORSRejections(t *testing.T) {
	s := metatest.State(t, metatest.Options{})
	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "web"}})
	ok := []meta.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}
	bad := []meta.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}
	for _, tc := range []struct {
		name string
		cmd  meta.Command
		want error
	}{
		{"missing bucket", meta.SetBucketCORS{Bucket: "nope", Rules: ok}, meta.ErrNoSuchBucket},
		{"invalid rules", meta.SetBucketCORS{Bucket: "web", Rules: bad}, meta.ErrInvalid},
		{"create with invalid rules", meta.CreateBucket{Bucket: meta.Bucket{Name: "other", CORS: bad}}, meta.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Clone()
			if err := s.Apply(tc.cmd); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(s, before) {
				t.Fatal("a rejected command changed the state")
			}
		})
	}
	if err := meta.NewState().Apply(meta.SetBucketCORS{Bucket: "web", Rules: ok}); !errors.Is(err, meta.ErrNotBootstrapped) {
		t.Fatalf("not bootstrapped: %v", err)
	}
}
