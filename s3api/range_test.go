package s3api

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	full := func(size int64) byteRange { return byteRange{start: 0, length: size} }
	part := func(start, length int64) byteRange { return byteRange{start: start, length: length, partial: true} }
	bad := byteRange{unsatisfiable: true}
	cases := []struct {
		h    string
		size int64
		want byteRange
	}{
		{"", 100, full(100)},
		{"bytes=0-9", 100, part(0, 10)},
		{"bytes=10-19", 100, part(10, 10)},
		{"bytes=90-", 100, part(90, 10)},
		{"bytes=0-", 100, part(0, 100)},
		{"bytes=99-99", 100, part(99, 1)},
		{"bytes=50-1000", 100, part(50, 50)},
		{"bytes=0-99999999999999999999999", 100, part(0, 100)},
		{"bytes=-10", 100, part(90, 10)},
		{"bytes=-100", 100, part(0, 100)},
		{"bytes=-1000", 100, part(0, 100)},
		{"Bytes = 1-2", 100, part(1, 2)},
		{"bytes=100-", 100, bad},
		{"bytes=100-200", 100, bad},
		{"bytes=-0", 100, bad},
		{"bytes=0-", 0, bad},
		{"bytes=-5", 0, bad},
		// Ignored: malformed, other units, several ranges.
		{"bytes=5-2", 100, full(100)},
		{"bytes=a-b", 100, full(100)},
		{"bytes=-", 100, full(100)},
		{"bytes=1", 100, full(100)},
		{"bytes=+1-2", 100, full(100)},
		{"items=0-1", 100, full(100)},
		{"0-1", 100, full(100)},
		{"bytes=0-1,5-6", 100, full(100)},
	}
	for _, c := range cases {
		if got := parseRange(c.h, c.size); got != c.want {
			t.Errorf("%q size %d: got %+v, want %+v", c.h, c.size, got, c.want)
		}
	}
}

func TestEvalConditions(t *testing.T) {
	mod := time.Date(2024, 5, 1, 12, 0, 0, 500e6, time.UTC)
	before := mod.Add(-time.Hour).Format(http.TimeFormat)
	same := mod.Format(http.TimeFormat) // second precision: equal to mod
	after := mod.Add(time.Hour).Format(http.TimeFormat)
	const etag = "0123abcd"
	cases := []struct {
		h    map[string]string
		want precondition
	}{
		{map[string]string{}, condProceed},
		{map[string]string{"if-match": `"0123abcd"`}, condProceed},
		{map[string]string{"if-match": `0123abcd`}, condProceed},
		{map[string]string{"if-match": `"x", "0123abcd"`}, condProceed},
		{map[string]string{"if-match": `*`}, condProceed},
		{map[string]string{"if-match": `"other"`}, condFailed},
		{map[string]string{"if-none-match": `"0123abcd"`}, condNotModified},
		{map[string]string{"if-none-match": `W/"0123abcd"`}, condNotModified},
		{map[string]string{"if-none-match": `*`}, condNotModified},
		{map[string]string{"if-none-match": `"other"`}, condProceed},
		{map[string]string{"if-modified-since": before}, condProceed},
		{map[string]string{"if-modified-since": same}, condNotModified},
		{map[string]string{"if-modified-since": after}, condNotModified},
		{map[string]string{"if-modified-since": "garbage"}, condProceed},
		{map[string]string{"if-unmodified-since": before}, condFailed},
		{map[string]string{"if-unmodified-since": same}, condProceed},
		{map[string]string{"if-unmodified-since": after}, condProceed},
		// S3: If-Match true wins over If-Unmodified-Since false.
		{map[string]string{"if-match": `"0123abcd"`, "if-unmodified-since": before}, condProceed},
		// S3: If-None-Match false (matches) with If-Modified-Since true is 304.
		{map[string]string{"if-none-match": `"0123abcd"`, "if-modified-since": before}, condNotModified},
		// If-None-Match true overrides If-Modified-Since false.
		{map[string]string{"if-none-match": `"other"`, "if-modified-since": after}, condProceed},
		// 412 is decided before 304.
		{map[string]string{"if-match": `"other"`, "if-none-match": `"0123abcd"`}, condFailed},
	}
	for _, c := range cases {
		h := func(n string) string { return c.h[n] }
		if got := evalConditions(h, etag, mod); got != c.want {
			t.Errorf("%v: got %d, want %d", c.h, got, c.want)
		}
	}
}
