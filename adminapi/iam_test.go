package adminapi

import (
	"net/url"
	"testing"
)

func TestPathSegment(t *testing.T) {
	for in, want := range map[string]string{
		"alice":        "alice",
		"a+b=c,d@e":    "a%2Bb%3Dc%2Cd%40e",
		"a b/c":        "a%20b%2Fc",
		"Az09-._~":     "Az09-._~",
		"ü":            "%C3%BC",
		"AKIA/../root": "AKIA%2F..%2Froot",
	} {
		got := PathSegment(in)
		if got != want {
			t.Errorf("PathSegment(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != in {
			t.Errorf("PathSegment(%q) does not unescape back: %q %v", in, back, err)
		}
	}
	if got := join(PathUsers, "a/b", "disable"); got != PathPrefix+"users/a%2Fb/disable" {
		t.Errorf("join = %q", got)
	}
}
