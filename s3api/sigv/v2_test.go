package sigv

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signV2 is an independent Signature Version 2 signer for the tests: the
// base64 HMAC-SHA1 of a string to sign written out by hand.
func signV2(secret, stringToSign string) string {
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// The examples of "Signing and authenticating REST requests" (Signature
// Version 2), with the signatures AWS published for them. Each is checked
// three ways: the published signature is the HMAC of the published string
// to sign, Verify accepts the request, and Verify refuses it with any
// other signature.
func TestV2AWSExamples(t *testing.T) {
	tests := []struct {
		name, method, target, vhost string
		headers                     map[string]string
		stringToSign, sig           string
		at                          time.Time
	}{
		{
			name: "object GET", method: "GET", target: "/photos/puppy.jpg", vhost: "johnsmith",
			headers:      map[string]string{"Host": "johnsmith.s3.amazonaws.com", "Date": "Tue, 27 Mar 2007 19:36:42 +0000"},
			stringToSign: "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
			sig:          "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
		},
		{
			name: "object PUT", method: "PUT", target: "/photos/puppy.jpg", vhost: "johnsmith",
			headers: map[string]string{"Host": "johnsmith.s3.amazonaws.com", "Date": "Tue, 27 Mar 2007 21:15:45 +0000",
				"Content-Type": "image/jpeg", "Content-Length": "94328"},
			stringToSign: "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg",
			sig:          "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
		},
		{
			name: "list", method: "GET", target: "/?prefix=photos&max-keys=50&marker=puppy", vhost: "johnsmith",
			headers:      map[string]string{"Host": "johnsmith.s3.amazonaws.com", "Date": "Tue, 27 Mar 2007 19:42:41 +0000", "User-Agent": "Mozilla/5.0"},
			stringToSign: "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/",
			sig:          "htDYFYduRNen8P9ZfE/s9SuKy0U=",
		},
		{
			name: "fetch ACL", method: "GET", target: "/?acl", vhost: "johnsmith",
			headers:      map[string]string{"Host": "johnsmith.s3.amazonaws.com", "Date": "Tue, 27 Mar 2007 19:44:46 +0000"},
			stringToSign: "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl",
			sig:          "c2WLPFtWHVgbEmeEG93a4cG37dM=",
		},
		{
			// Path style, with x-amz-date overriding Date; the example signs
			// the x-amz-date value in the Date line.
			name: "delete", method: "DELETE", target: "/johnsmith/photos/puppy.jpg",
			headers: map[string]string{"Host": "s3.amazonaws.com", "User-Agent": "dotnet",
				"Date": "Tue, 27 Mar 2007 21:20:27 +0000", "x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000"},
			stringToSign: "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg",
			sig:          "lx3byBScXR6KzyMaifNkardMwNk=",
		},
		{
			// A CNAME: the whole host is the bucket. Repeated
			// X-Amz-Meta-ReviewedBy headers arrive joined by ','.
			name: "upload", method: "PUT", target: "/db-backup.dat.gz", vhost: "static.johnsmith.net",
			headers: map[string]string{"Host": "static.johnsmith.net:8080", "Date": "Tue, 27 Mar 2007 21:06:08 +0000",
				"User-Agent": "curl/7.15.5", "x-amz-acl": "public-read", "content-type": "application/x-download",
				"Content-MD5": "4gJE4saaMU4BqNR0kLY+lw==", "X-Amz-Meta-ReviewedBy": "joe@johnsmith.net,jane@johnsmith.net",
				"X-Amz-Meta-FileChecksum": "0x02661779", "X-Amz-Meta-ChecksumAlgorithm": "crc32",
				"Content-Disposition": "attachment; filename=database.dat", "Content-Encoding": "gzip", "Content-Length": "5913339"},
			stringToSign: "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
				"x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n" +
				"x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz",
			sig: "ilyl83RwaSoYIEdixDQcA4OnAnc=",
		},
		{
			name: "list all buckets", method: "GET", target: "/",
			headers:      map[string]string{"Host": "s3.amazonaws.com", "Date": "Wed, 28 Mar 2007 01:29:59 +0000"},
			stringToSign: "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
			sig:          "qGdzdERIC03wnaRNKh6OqZehG9s=",
		},
		{
			// The path is signed as sent, lower-case escapes included.
			name: "unicode keys", method: "GET", target: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
			headers:      map[string]string{"Host": "s3.amazonaws.com", "Date": "Wed, 28 Mar 2007 01:49:49 +0000"},
			stringToSign: "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
			sig:          "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := signV2(exampleSecret, tc.stringToSign); got != tc.sig {
				t.Fatalf("HMAC of the published string to sign = %s, published %s", got, tc.sig)
			}
			d := tc.headers["Date"]
			if v, ok := tc.headers["x-amz-date"]; ok {
				d = v
			}
			at, err := time.Parse(time.RFC1123Z, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, sig := range []string{tc.sig, signV2("other", tc.stringToSign)} {
				h := map[string]string{"Authorization": "AWS " + exampleAK + ":" + sig}
				for k, v := range tc.headers {
					h[k] = v
				}
				r := newRequest(tc.method, tc.target, h, -1)
				r.VirtualHostBucket = tc.vhost
				a, err := Verify(r, exampleCreds, at.Add(time.Minute))
				if sig != tc.sig {
					if !errors.Is(err, ErrSignatureDoesNotMatch) {
						t.Fatalf("wrong signature: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if a.AccessKey != exampleAK || a.SignatureVersion != 2 || a.Service != "s3" || a.Presigned {
					t.Fatalf("auth %+v", a)
				}
			}
		})
	}
}

// The query string authentication example: GET /photos/puppy.jpg,
// Expires=1175139620.
func TestV2AWSQueryExample(t *testing.T) {
	const sts = "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"
	const published = "NpgCjnDzrM+WFzoENXmpNDUsSn8="
	if got := signV2(exampleSecret, sts); got != published {
		t.Fatalf("HMAC = %s, published %s", got, published)
	}
	target := "/photos/puppy.jpg?AWSAccessKeyId=" + exampleAK + "&Signature=" + url.QueryEscape(published) + "&Expires=1175139620"
	r := newRequest("GET", target, map[string]string{"Host": "johnsmith.s3.amazonaws.com"}, -1)
	r.VirtualHostBucket = "johnsmith"
	expires := time.Unix(1175139620, 0)
	a, err := Verify(r, exampleCreds, expires.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Presigned || a.SignatureVersion != 2 || a.AccessKey != exampleAK {
		t.Fatalf("auth %+v", a)
	}
	if _, err := Verify(r, exampleCreds, expires); err != nil {
		t.Fatalf("at Expires: %v", err)
	}
	if _, err := Verify(r, exampleCreds, expires.Add(time.Second)); !errors.Is(err, ErrPresignExpired) {
		t.Fatalf("after Expires: %v, want ErrPresignExpired", err)
	}
	// A raw '+' in the signature (reads as a space) is put back.
	r.Query = strings.Replace(r.Query, url.QueryEscape(published), published, 1)
	if _, err := Verify(r, exampleCreds, expires.Add(-time.Hour)); err != nil {
		t.Fatalf("raw '+': %v", err)
	}
}

func TestV2CanonicalResource(t *testing.T) {
	tests := []struct {
		vhost, path, query string
		want, wantEq       string
	}{
		{"", "/b/k", "", "/b/k", ""},
		{"b", "/", "", "/b/", ""},
		{"b", "", "", "/b/", ""},
		{"b", "/k", "prefix=a&max-keys=5", "/b/k", ""},
		// Sorted by name, values decoded ('+' kept), unsigned ones dropped.
		{"", "/b/k", "versionId=a%2Bb+c&acl&x-id=GetObject&response-content-type=text%2Fplain%3B%20x%3D1",
			"/b/k?acl&response-content-type=text/plain; x=1&versionId=a+b+c", ""},
		// Repeated names keep their order.
		{"", "/b", "tagging&delete&tagging=x", "/b?delete&tagging&tagging=x", ""},
		{"", "/b/k", "partNumber=2&uploadId=u1", "/b/k?partNumber=2&uploadId=u1", ""},
		// "uploads=" signs as "uploads"; botocore's "uploads=" is the
		// alternative.
		{"", "/b/k", "uploads=", "/b/k?uploads", "/b/k?uploads="},
	}
	for _, tc := range tests {
		subs := v2SubResources(tc.query)
		if got := canonicalResourceV2(tc.vhost, tc.path, subs, false); got != tc.want {
			t.Errorf("%q %q %q: %q, want %q", tc.vhost, tc.path, tc.query, got, tc.want)
		}
		if tc.wantEq != "" {
			if got := canonicalResourceV2(tc.vhost, tc.path, subs, true); got != tc.wantEq {
				t.Errorf("%q %q %q with '=': %q, want %q", tc.vhost, tc.path, tc.query, got, tc.wantEq)
			}
		}
	}
}

// v2Header signs a request with Signature Version 2 for the tests: the
// string to sign is written out by the caller.
func v2Header(secret, sts string) string {
	return "AWS " + testAK + ":" + signV2(secret, sts)
}

func TestV2Errors(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	date := now.Format(time.RFC1123Z)
	sts := "PUT\n\ntext/plain\n" + date + "\nx-amz-meta-a:1\n/b/k?acl"
	good := map[string]string{"Host": "h", "Date": date, "Content-Type": "text/plain", "x-amz-meta-a": "1",
		"Authorization": v2Header(testSecret, sts)}
	edit := func(k, v string) map[string]string {
		h := map[string]string{}
		for k, v := range good {
			h[k] = v
		}
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	presigned := func(expires int64, sts string) string {
		return "/b/k?acl&AWSAccessKeyId=" + testAK + "&Expires=" + strconv.FormatInt(expires, 10) +
			"&Signature=" + url.QueryEscape(signV2(testSecret, sts))
	}
	exp := now.Add(time.Hour).Unix()
	qsts := "GET\n\n\n" + strconv.FormatInt(exp, 10) + "\n/b/k?acl"
	tests := []struct {
		name    string
		target  string
		headers map[string]string
		creds   Credentials
		at      time.Time
		want    error
	}{
		{"valid", "/b/k?acl", good, testCreds, now, nil},
		{"14 minutes late", "/b/k?acl", good, testCreds, now.Add(14 * time.Minute), nil},
		{"16 minutes late", "/b/k?acl", good, testCreds, now.Add(16 * time.Minute), ErrTimeSkewed},
		{"16 minutes early", "/b/k?acl", good, testCreds, now.Add(-16 * time.Minute), ErrTimeSkewed},
		{"no date", "/b/k?acl", edit("Date", ""), testCreds, now, ErrMissingDate},
		{"bad date", "/b/k?acl", edit("Date", "yesterday"), testCreds, now, ErrMissingDate},
		{"unknown key", "/b/k?acl", good, keys(nil), now, ErrInvalidAccessKeyID},
		{"wrong secret", "/b/k?acl", good, keys(map[string]string{testAK: "x"}), now, ErrSignatureDoesNotMatch},
		{"sub-resource dropped", "/b/k", good, testCreds, now, ErrSignatureDoesNotMatch},
		{"sub-resource added", "/b/k?acl&tagging", good, testCreds, now, ErrSignatureDoesNotMatch},
		{"unsigned query added", "/b/k?acl&prefix=x", good, testCreds, now, nil},
		{"path changed", "/b/j?acl", good, testCreds, now, ErrSignatureDoesNotMatch},
		{"x-amz header changed", "/b/k?acl", edit("x-amz-meta-a", "2"), testCreds, now, ErrSignatureDoesNotMatch},
		{"x-amz header added", "/b/k?acl", edit("x-amz-acl", "public-read"), testCreds, now, ErrSignatureDoesNotMatch},
		{"content-type changed", "/b/k?acl", edit("Content-Type", "text/html"), testCreds, now, ErrSignatureDoesNotMatch},
		{"content-md5 added", "/b/k?acl", edit("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="), testCreds, now, ErrSignatureDoesNotMatch},
		{"no colon", "/b/k?acl", edit("Authorization", "AWS "+testAK), testCreds, now, ErrAuthHeaderMalformed},
		{"short signature", "/b/k?acl", edit("Authorization", "AWS "+testAK+":abcd"), testCreds, now, ErrSignatureDoesNotMatch},
		{"header and query", presigned(exp, qsts), good, testCreds, now, ErrAuthHeaderMalformed},
		{"signed streaming", "/b/k?acl", edit("x-amz-content-sha256", streamingSigned), testCreds, now, ErrUnsupportedAlgorithm},

		{"presigned", presigned(exp, qsts), map[string]string{"Host": "h"}, testCreds, now, nil},
		{"presigned expired", presigned(now.Add(-time.Second).Unix(), "GET\n\n\n"+strconv.FormatInt(now.Add(-time.Second).Unix(), 10)+"\n/b/k?acl"),
			map[string]string{"Host": "h"}, testCreds, now, ErrPresignExpired},
		{"presigned expires changed", strings.Replace(presigned(exp, qsts), "Expires=", "Expires=1", 1), map[string]string{"Host": "h"}, testCreds, now, ErrSignatureDoesNotMatch},
		{"presigned no Expires", "/b/k?AWSAccessKeyId=" + testAK + "&Signature=" + url.QueryEscape(signV2(testSecret, qsts)), map[string]string{"Host": "h"}, testCreds, now, ErrQueryAuthMalformed},
		{"presigned no Signature", "/b/k?AWSAccessKeyId=" + testAK + "&Expires=1", map[string]string{"Host": "h"}, testCreds, now, ErrQueryAuthMalformed},
		{"presigned Expires not a number", "/b/k?AWSAccessKeyId=" + testAK + "&Expires=soon&Signature=" + url.QueryEscape(signV2(testSecret, qsts)), map[string]string{"Host": "h"}, testCreds, now, ErrQueryAuthMalformed},
		{"presigned key twice", presigned(exp, qsts) + "&AWSAccessKeyId=" + testAK, map[string]string{"Host": "h"}, testCreds, now, ErrQueryAuthMalformed},
		{"presigned with a header", presigned(exp, qsts), map[string]string{"Host": "h", "x-amz-meta-a": "1"}, testCreds, now, ErrSignatureDoesNotMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "PUT"
			if strings.HasPrefix(tc.name, "presigned") {
				method = "GET"
			}
			a, err := Verify(newRequest(method, tc.target, tc.headers, -1), tc.creds, tc.at)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if a.SignatureVersion != 2 || a.AccessKey != testAK {
					t.Fatalf("auth %+v", a)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}
}
