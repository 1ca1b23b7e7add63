package sigv

import "testing"

func TestCanonicalURIs(t *testing.T) {
	tests := []struct{ raw, first, second string }{
		{"", "/", ""},
		{"/", "/", ""},
		{"/bucket/key", "/bucket/key", ""},
		{"/test$file.text", "/test$file.text", "/test%24file.text"},
		{"/a%20b", "/a%20b", ""},
		{"/a%2fb", "/a%2fb", "/a%2Fb"}, // an escaped slash stays escaped
		{"/a%2Fb", "/a%2Fb", ""},
		{"/%7Euser", "/%7Euser", "/~user"},
		{"/a+b=c", "/a+b=c", "/a%2Bb%3Dc"},
		{"/ü", "/ü", "/%C3%BC"},
		{"/100%", "/100%", "/100%25"},
		{"/bad%zz", "/bad%zz", "/bad%25zz"},
		{"//x/./../y", "//x/./../y", ""}, // never normalised
	}
	for _, tc := range tests {
		first, second := canonicalURIs(tc.raw)
		if first != tc.first || second != tc.second {
			t.Errorf("canonicalURIs(%q) = %q, %q; want %q, %q", tc.raw, first, second, tc.first, tc.second)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		raw       string
		presigned bool
		want      string
	}{
		{"", false, ""},
		{"acl", false, "acl="},
		{"b=2&a=1&a=0&c", false, "a=0&a=1&b=2&c="},
		// Sorted after encoding: "a-b" (0x2D) sorts after "a%2F" (0x25).
		{"k=a-b&k=a/b", false, "k=a%2Fb&k=a-b"},
		{"q=a+b&r=a%2Bb&s=%7e&t=*", false, "q=a%20b&r=a%2Bb&s=~&t=%2A"},
		{"&&x=1&&", false, "x=1"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", true, "X-Amz-Date=1"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", false, "X-Amz-Date=1&X-Amz-Signature=abc"},
		{"bad=%zz", false, "bad=%25zz"},
		{"k%20=v=w", false, "k%20=v%3Dw"},
	}
	for _, tc := range tests {
		if got := canonicalQuery(parseQuery(tc.raw), tc.presigned); got != tc.want {
			t.Errorf("canonicalQuery(%q, %v) = %q, want %q", tc.raw, tc.presigned, got, tc.want)
		}
	}
}

func TestTrimAll(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"a":                 "a",
		"  a  ":             "a",
		"a    b  c":         "a b c",
		"\ta b\t":           "a b",
		"bytes=0-9":         "bytes=0-9",
		"  x   y    z     ": "x y z",
	} {
		if got := trimAll(in); got != want {
			t.Errorf("trimAll(%q) = %q, want %q", in, got, want)
		}
	}
}
