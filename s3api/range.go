package s3api

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// byteRange is the outcome of a Range header against an object size.
type byteRange struct {
	start, length int64
	partial       bool // serve [start, start+length) with 206
	unsatisfiable bool // answer 416 InvalidRange
}

// parseRange evaluates a Range header (RFC 9110 14.2) against size, as S3
// does: a single "bytes=a-b", "bytes=a-" or "bytes=-n" range is served
// partially (b is clamped to the last byte, n to the size); a range that
// starts at or beyond the end, a zero suffix, or any range of an empty
// object is unsatisfiable; a header that is absent, malformed or asks for
// several ranges is ignored and the whole object is served.
func parseRange(h string, size int64) byteRange {
	full := byteRange{start: 0, length: size}
	h = strings.TrimSpace(h)
	if h == "" {
		return full
	}
	unit, spec, ok := strings.Cut(h, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return full
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		return full
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return full
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// Suffix range: the last n bytes.
		n, ok := parseDigits(last)
		if !ok {
			return full
		}
		if n == 0 || size == 0 {
			return byteRange{unsatisfiable: true}
		}
		n = min(n, size)
		return byteRange{start: size - n, length: n, partial: true}
	}
	a, ok := parseDigits(first)
	if !ok {
		return full
	}
	end := size - 1
	if last != "" {
		b, ok := parseDigits(last)
		if !ok || b < a {
			return full
		}
		end = min(b, size-1)
	}
	if a >= size {
		return byteRange{unsatisfiable: true}
	}
	return byteRange{start: a, length: end - a + 1, partial: true}
}

// parseDigits parses a non-empty run of ASCII digits; values beyond int64
// saturate (a range past any size is still a valid range).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 1<<63 - 1, true
	}
	return n, true
}

// precondition is the outcome of the conditional request headers.
type precondition int

const (
	condProceed     precondition = iota
	condNotModified              // 304
	condFailed                   // 412 PreconditionFailed
)

// evalConditions applies If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since to an object with etag (unquoted) and modTime, in the
// order of RFC 9110 13.2.2, which is also S3's: If-Match decides over
// If-Unmodified-Since, If-None-Match over If-Modified-Since. Dates are
// compared at one-second precision, as HTTP dates carry.
func evalConditions(header func(string) string, etag string, modTime time.Time) precondition {
	mod := modTime.UTC().Truncate(time.Second)
	if v := header("if-match"); v != "" {
		if !etagListMatches(v, etag) {
			return condFailed
		}
	} else if t, ok := parseHTTPDate(header("if-unmodified-since")); ok && mod.After(t) {
		return condFailed
	}
	if v := header("if-none-match"); v != "" {
		if etagListMatches(v, etag) {
			return condNotModified
		}
	} else if t, ok := parseHTTPDate(header("if-modified-since")); ok && !mod.After(t) {
		return condNotModified
	}
	return condProceed
}

// etagListMatches reports whether a comma-separated list of entity tags
// (quoted or not, weak or strong, or "*") names etag. S3 compares weakly.
func etagListMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		t = strings.Trim(t, `"`)
		if t == etag {
			return true
		}
	}
	return false
}

// parseHTTPDate parses an HTTP date in any of the three RFC 9110 formats.
func parseHTTPDate(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
