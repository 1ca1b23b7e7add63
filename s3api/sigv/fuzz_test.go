package sigv

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzSigner is a fixed signing context for the fuzzer's signed modes.
func fuzzSigner(trailerSigned bool) streamSigner {
	return streamSigner{
		key:           deriveSigningKey("fuzz-secret", "20250101", "us-east-1", "s3"),
		amzDate:       "20250101T000000Z",
		scope:         "20250101/us-east-1/s3/aws4_request",
		seed:          sha256Hex("seed"),
		trailerSigned: trailerSigned,
	}
}

// sentinels are the errors a decoder over an in-memory body may return.
var sentinels = []error{ErrChunkMalformed, ErrChunkSignature, ErrIncompleteBody, ErrBodyTooLong, ErrBadChecksum}

// FuzzChunkedBody feeds arbitrary bodies to the aws-chunked decoder in
// each mode: it never panics, never returns more than the declared length,
// returns exactly that length when it succeeds, and fails only with a
// sentinel.
func FuzzChunkedBody(f *testing.F) {
	crc := func(s string) string { return "x-amz-checksum-crc32:" + want("CRC32", []byte(s)) }
	for mode := range byte(3) {
		var s streamSigner
		switch mode {
		case 0:
			s = streamSigner{unsigned: true}
		case 1:
			s = fuzzSigner(false)
		case 2:
			s = fuzzSigner(true)
		}
		var trailers []string
		if mode != 1 {
			trailers = []string{crc("hello world")}
		}
		f.Add([]byte(s.encode([]string{"hello", " world", ""}, trailers, nil)), uint16(11), mode, byte(3))
		f.Add([]byte(s.encode([]string{"hello world", ""}, trailers, nil)), uint16(11), mode, byte(200))
		f.Add([]byte(s.encode([]string{"hello", " world", ""}, trailers, nil)), uint16(5), mode, byte(1))
		f.Add([]byte(s.encode([]string{""}, nil, nil)), uint16(0), mode, byte(8))
	}
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint16(5), byte(0), byte(2))
	f.Add([]byte("ffffffff\r\n"), uint16(5), byte(0), byte(2))

	f.Fuzz(func(t *testing.T, raw []byte, declared uint16, mode, readSize byte) {
		mode %= 3
		var ds digests
		c := newChunkedReader(bytes.NewReader(raw), int64(declared), nil, map[string]string{})
		c.trailers = mode != 1
		if mode != 1 {
			if err := ds.add("x-amz-checksum-crc32", ""); err != nil {
				t.Fatal(err)
			}
			c.declared = []string{"x-amz-checksum-crc32"}
		}
		c.digests = ds
		if mode != 0 {
			s := fuzzSigner(mode == 2)
			c.signer = &chunkSigner{key: s.key, amzDate: s.amzDate, scope: s.scope, prev: s.seed}
		}
		buf := make([]byte, int(readSize)%256+1)
		var total int
		var err error
		for range len(raw) + 100 {
			var n int
			n, err = c.Read(buf)
			total += n
			if total > int(declared) {
				t.Fatalf("returned %d bytes, declared %d", total, declared)
			}
			if err != nil {
				break
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			if total != int(declared) {
				t.Fatalf("EOF after %d bytes, declared %d", total, declared)
			}
		case err == nil:
			t.Fatal("the decoder neither ended nor failed")
		default:
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error without a sentinel: %v", err)
			}
		}
	})
}

// FuzzCanonicalRequest checks the SigV4 canonical request against the SDK
// signer: a request with any path, query and header value the SDK can
// sign verifies, and no longer verifies once the header changes. It also
// checks that the canonical forms are fixed points (canonicalising a
// canonical path or query again changes nothing).
func FuzzCanonicalRequest(f *testing.F) {
	for _, pc := range pathCases {
		p := pc.rawPath
		if p == "" {
			p = (&url.URL{Path: pc.path}).EscapedPath()
		}
		for _, q := range queryCases {
			f.Add(p, q, " a  b ")
		}
	}
	f.Fuzz(func(t *testing.T, rawPath, rawQuery, value string) {
		if _, strict := canonicalURIs(rawPath); strict != "" {
			if a, b := canonicalURIs(strict); a != strict || b != "" {
				t.Fatalf("canonicalURIs(%q) = %q, not a fixed point: %q, %q", rawPath, strict, a, b)
			}
		}
		cq := canonicalQuery(parseQuery(rawQuery), false)
		if again := canonicalQuery(parseQuery(cq), false); again != cq {
			t.Fatalf("canonicalQuery(%q) = %q, then %q", rawQuery, cq, again)
		}

		// The differential part needs a request the SDK can sign: a path it
		// sends as given, a query it parses, a header value of printable
		// bytes (the SDK and SigV4 trim spaces, not tabs).
		decoded, err := url.PathUnescape(rawPath)
		if err != nil || !strings.HasPrefix(rawPath, "/") {
			return
		}
		u := &url.URL{Scheme: "http", Host: "h.example", Path: decoded, RawPath: rawPath, RawQuery: rawQuery}
		if u.EscapedPath() != rawPath || strings.Contains(rawQuery, ";") {
			return
		}
		if _, err := url.ParseQuery(rawQuery); err != nil {
			return
		}
		for i := 0; i < len(value); i++ {
			if value[i] < 0x20 || value[i] >= 0x7f {
				return
			}
		}
		req := &http.Request{Method: http.MethodGet, URL: u, Host: "h.example", Header: http.Header{}}
		req.Header.Set("X-Amz-Meta-V", value)
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, emptySHA256, "s3", "us-east-1", at); err != nil {
			return
		}
		r := clientSide(req)
		r.Path, r.Query = rawPath, rawQuery // as sent, whatever the signer did to the URL
		if _, err := Verify(r, testCreds, at); err != nil {
			t.Fatalf("path %q query %q value %q: %v", rawPath, rawQuery, value, err)
		}
		req.Header.Set("X-Amz-Meta-V", value+"x")
		r = clientSide(req)
		r.Path, r.Query = rawPath, rawQuery
		if _, err := Verify(r, testCreds, at); !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Fatalf("changed header: %v", err)
		}
	})
}

// v2Reference is the Signature Version 2 string to sign of a request
// written out from AWS's rules, independently of v2.go; ok is false for a
// query it does not handle (an invalid escape).
func v2Reference(method, rawPath, rawQuery, contentType, date, amz string) (string, bool) {
	type sub struct{ k, v string }
	var subs []sub
	for part := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.PathUnescape(k)
		v, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return "", false
		}
		if v2SubResource(k) {
			subs = append(subs, sub{k, v})
		}
	}
	slices.SortStableFunc(subs, func(a, b sub) int { return strings.Compare(a.k, b.k) })
	resource := rawPath
	if resource == "" {
		resource = "/"
	}
	for i, s := range subs {
		resource += map[bool]string{true: "?", false: "&"}[i == 0] + s.k
		if s.v != "" {
			resource += "=" + s.v
		}
	}
	return method + "\n\n" + contentType + "\n" + date + "\n" + amz + resource, true
}

// FuzzStringToSignV2 signs requests with the reference string to sign and
// checks that they verify (and fail once the method changes), and that an
// arbitrary V2 Authorization header or presigned query fails only with a
// sentinel.
func FuzzStringToSignV2(f *testing.F) {
	f.Add("GET", "/b/k", "acl&versionId=a%2Bb", "text/plain", " v ", "AKID:bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
	f.Add("PUT", "/b", "uploads&prefix=x&response-content-type=a%20b", "", "1,2", ":")
	f.Add("DELETE", "/", "tagging=&delete", "a/b", "", "x:abc=")
	f.Add("POST", "/b/%E2%82%AC%2F", "uploadId=u&partNumber=1", "c", "ü", "AWSAccessKeyId=x&Expires=1&Signature=%3D")
	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, contentType, amzValue, junk string) {
		now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		date := now.Format(time.RFC1123Z)
		headers := map[string]string{"date": date, "content-type": contentType, "x-amz-meta-f": amzValue, "host": "h"}

		// Junk credentials fail with a sentinel, never a panic.
		for _, r := range []*Request{
			newRequest(method, rawPath+"?"+rawQuery, map[string]string{"authorization": "AWS " + junk, "date": date}, -1),
			newRequest(method, rawPath+"?"+junk, map[string]string{"date": date}, -1),
		} {
			if _, err := Verify(r, testCreds, now); err != nil {
				known := false
				for _, s := range []error{ErrAuthHeaderMalformed, ErrQueryAuthMalformed, ErrSignatureDoesNotMatch, ErrInvalidAccessKeyID,
					ErrPresignExpired, ErrTimeSkewed, ErrMissingDate, ErrUnsupportedAlgorithm, ErrBadContentSHA256, ErrMissingAuth} {
					known = known || errors.Is(err, s)
				}
				if !known {
					t.Fatalf("error without a sentinel: %v", err)
				}
			}
		}

		if method == "" || strings.ContainsAny(method, "\n") || strings.Contains(rawQuery, "#") {
			return
		}
		sts, ok := v2Reference(method, rawPath, rawQuery, contentType, date, "x-amz-meta-f:"+strings.TrimSpace(amzValue)+"\n")
		if !ok {
			return
		}
		headers["authorization"] = "AWS " + testAK + ":" + signV2(testSecret, sts)
		r := newRequest(method, rawPath+"?"+rawQuery, headers, -1)
		if strings.Contains(rawPath, "?") {
			r.Path, r.Query = rawPath, rawQuery
		}
		a, err := Verify(r, testCreds, now)
		if err != nil {
			t.Fatalf("%q: %v", sts, err)
		}
		if a.SignatureVersion != 2 || a.AccessKey != testAK {
			t.Fatalf("auth %+v", a)
		}
		r.Method += "X"
		if _, err := Verify(r, testCreds, now); !errors.Is(err, ErrSignatureDoesNotMatch) {
			t.Fatalf("method changed: %v", err)
		}
	})
}

// FuzzPostPolicy feeds arbitrary policy documents to the POST policy
// code: a document either fails with ErrPostPolicyMalformed or yields a
// policy whose checks answer nil or a *PolicyError, whose length range is
// ordered, and whose Version 2 signed form verifies.
func FuzzPostPolicy(f *testing.F) {
	f.Add([]byte(`{"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bucket": "b"}, ["starts-with", "$key", "u/"], ["content-length-range", 1, 10]]}`), "u/x", int64(5))
	f.Add([]byte(`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "$x-amz-meta-a", "u/x"], {"key": "u/x", "acl": "private"}]}`), "u/x", int64(0))
	f.Add([]byte(`{"expiration": "2000-01-01T00:00:00Z", "conditions": []}`), "", int64(-1))
	f.Add([]byte(`{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", "0", 1e3], ["starts-with", "$Content-Type", ""]]}`), "k", int64(1000))
	f.Add([]byte(`{"conditions": [[]]}`), "k", int64(1))
	f.Fuzz(func(t *testing.T, doc []byte, key string, size int64) {
		policy := base64.StdEncoding.EncodeToString(doc)
		p, err := ParsePolicy(policy)
		if err != nil {
			if !errors.Is(err, ErrPostPolicyMalformed) {
				t.Fatalf("error without ErrPostPolicyMalformed: %v", err)
			}
			return
		}
		if lo, hi, ok := p.LengthRange(); ok {
			if lo < 0 || lo > hi {
				t.Fatalf("range %d..%d", lo, hi)
			}
			err := p.CheckLength(size)
			switch {
			case size > hi && !errors.Is(err, ErrPostTooLarge), size < lo && !errors.Is(err, ErrPostTooSmall),
				size >= lo && size <= hi && err != nil:
				t.Fatalf("CheckLength(%d) in %d..%d: %v", size, lo, hi, err)
			}
		} else if err := p.CheckLength(size); err != nil {
			t.Fatalf("CheckLength without a range: %v", err)
		}
		fields := map[string]string{"key": key, "x-amz-meta-a": key, "content-type": key}
		if err := p.Check("b", fields, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("Check: %v", err)
			}
		}
		form := map[string]string{"awsaccesskeyid": testAK, "policy": policy, "signature": signV2(testSecret, policy)}
		a, err := VerifyPost(form, testCreds)
		if err != nil {
			t.Fatalf("signed form: %v", err)
		}
		if len(a.Policy.conditions) != len(p.conditions) || !a.Policy.Expiration.Equal(p.Expiration) {
			t.Fatal("the form's policy differs from the document")
		}
	})
}
