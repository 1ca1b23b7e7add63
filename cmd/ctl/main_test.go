package main

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
)

func noenv(string) string { return "" }

func TestKeygen(t *testing.T) {
	var a, b bytes.Buffer
	if err := run([]string{"cluster", "keygen"}, noenv, &a); err != nil {
		t.Fatal(err)
	}
	run([]string{"cluster", "keygen"}, noenv, &b)
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.String()))
	if err != nil || len(key) != 32 {
		t.Fatalf("key %q: %v (len %d)", a.String(), err, len(key))
	}
	if a.String() == b.String() {
		t.Fatal("two keygens returned the same key")
	}
}

func TestBadUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"cluster", "nope"}, {"--bogus"}, {}, {"cluster", "status"}} {
		if err := run(args, noenv, &out); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"900s": 900 * time.Second, "60m": time.Hour, "12h": 12 * time.Hour, "2d": 48 * time.Hour, "1w": 168 * time.Hour, "1h30m": 90 * time.Minute} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0s", "-1h", "1.5d", "xd", "1y", "w"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPresignURL(t *testing.T) {
	env := map[string]string{"STRATA_ENDPOINT": "http://127.0.0.1:9000", "STRATA_ACCESS_KEY": "AKIDEXAMPLE", "STRATA_SECRET_KEY": "secret-key-123"}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run([]string{"presign", "get", "s3://photos/a dir/ü.jpg", "--expires", "2d"}, getenv, &out); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.EscapedPath() != "/photos/a%20dir/%C3%BC.jpg" || q.Get("X-Amz-Expires") != "172800" || q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" ||
		!strings.HasPrefix(q.Get("X-Amz-Credential"), "AKIDEXAMPLE/") || len(q.Get("X-Amz-Signature")) != 64 {
		t.Fatalf("presigned URL %s", u)
	}
	for _, args := range [][]string{
		{"presign", "get", "photos/a"},                              // not s3://
		{"presign", "get", "s3://photos"},                           // no key
		{"presign", "post", "s3://photos/a"},                        // method
		{"presign", "get", "s3://photos/a", "--expires", "8d"},      // too long
		{"presign", "get", "s3://photos/a", "--expires", "forever"}, // unparsable
	} {
		if err := run(args, getenv, &out); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
