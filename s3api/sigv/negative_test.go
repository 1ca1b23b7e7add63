package sigv

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signedGet is a GET signed by the SDK signer at t, with extra headers.
func signedGet(t *testing.T, at time.Time, creds Credentials, mutate func(*http.Request)) (*Request, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://s3.example.net/bucket/key?acl", nil)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, emptySHA256, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(req)
	}
	r := clientSide(req)
	_, err := Verify(r, creds, time.Now())
	return r, err
}

func TestVerifyErrors(t *testing.T) {
	now := time.Now()
	setAuth := func(v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("Authorization", v) } }
	editAuth := func(old, new string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		}
	}
	tests := []struct {
		name   string
		at     time.Time
		creds  Credentials
		mutate func(*http.Request)
		want   error
	}{
		{"valid", now, testCreds, nil, nil},
		{"14 minutes early", now.Add(-14 * time.Minute), testCreds, nil, nil},
		{"14 minutes late", now.Add(14 * time.Minute), testCreds, nil, nil},
		{"wrong secret", now, keys(map[string]string{testAK: "other"}), nil, ErrSignatureDoesNotMatch},
		{"unknown key", now, keys(nil), nil, ErrInvalidAccessKeyID},
		{"16 minutes old", now.Add(-16 * time.Minute), testCreds, nil, ErrTimeSkewed},
		{"16 minutes ahead", now.Add(16 * time.Minute), testCreds, nil, ErrTimeSkewed},
		{"header changed", now, testCreds, func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) }, ErrSignatureDoesNotMatch},
		{"query changed", now, testCreds, func(r *http.Request) { r.URL.RawQuery = "acl&x=1" }, ErrSignatureDoesNotMatch},
		{"path changed", now, testCreds, func(r *http.Request) { r.URL.Path = "/bucket/kex" }, ErrSignatureDoesNotMatch},
		{"host changed", now, testCreds, func(r *http.Request) { r.Host = "evil.example.net" }, ErrSignatureDoesNotMatch},
		{"SigV2 wrong signature", now, testCreds, setAuth("AWS " + testAK + ":frJIUN8DYpKDtOLCwo//yllqDzg="), ErrSignatureDoesNotMatch},
		{"SigV4a", now, testCreds, editAuth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), ErrUnsupportedAlgorithm},
		{"no Signature", now, testCreds, func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, ErrAuthHeaderMalformed},
		{"unknown field", now, testCreds, editAuth("SignedHeaders=", "Foo=1, SignedHeaders="), ErrAuthHeaderMalformed},
		{"Credential twice", now, testCreds, editAuth("SignedHeaders=", "Credential=x, SignedHeaders="), ErrAuthHeaderMalformed},
		{"short credential", now, testCreds, editAuth("/us-east-1/s3/", "/s3/"), ErrAuthHeaderMalformed},
		{"bad terminator", now, testCreds, editAuth("aws4_request", "aws5_request"), ErrAuthHeaderMalformed},
		{"service iam", now, testCreds, editAuth("/s3/", "/iam/"), ErrAuthHeaderMalformed},
		{"host not signed", now, testCreds, editAuth("SignedHeaders=host;", "SignedHeaders="), ErrAuthHeaderMalformed},
		{"upper-case signed header", now, testCreds, editAuth("SignedHeaders=host;", "SignedHeaders=Host;"), ErrAuthHeaderMalformed},
		{"signature not hex", now, testCreds, func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+"z")
		}, ErrAuthHeaderMalformed},
		{"credential date not request date", now, testCreds, editAuth("/"+now.UTC().Format("20060102")+"/", "/20000101/"), ErrAuthHeaderMalformed},
		{"no date", now, testCreds, func(r *http.Request) { r.Header.Del("X-Amz-Date") }, ErrMissingDate},
		{"bad x-amz-date", now, testCreds, func(r *http.Request) { r.Header.Set("X-Amz-Date", "yesterday") }, ErrMissingDate},
		{"bad Date", now, testCreds, func(r *http.Request) { r.Header.Del("X-Amz-Date"); r.Header.Set("Date", "soon") }, ErrMissingDate},
		{"no x-amz-content-sha256", now, testCreds, func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, ErrBadContentSHA256},
		{"both auth forms", now, testCreds, func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Signature=00" }, ErrAuthHeaderMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signedGet(t, tc.at, tc.creds, tc.mutate)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

// A bad x-amz-content-sha256 value is refused even when signed.
func TestBadContentSHA256Values(t *testing.T) {
	for v, want := range map[string]error{
		"abc":                             ErrBadContentSHA256,
		strings.Repeat("g", 64):           ErrBadContentSHA256,
		"STREAMING-SOMETHING":             ErrBadContentSHA256,
		streamingECDSAPrefix:              ErrUnsupportedAlgorithm,
		streamingECDSAPrefix + "-TRAILER": ErrUnsupportedAlgorithm,
	} {
		req, _ := http.NewRequest(http.MethodPut, "http://s3.example.net/bucket/key", nil)
		req.Header.Set("X-Amz-Content-Sha256", v)
		if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, v, "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(clientSide(req), testCreds, time.Now()); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", v, err, want)
		}
	}
}

func TestPresignErrors(t *testing.T) {
	presign := func(expires string, at time.Time) string {
		req, _ := http.NewRequest(http.MethodGet, "http://s3.example.net/bucket/key?X-Amz-Expires="+expires, nil)
		u, _, err := s3Signer().PresignHTTP(context.Background(), testAWSCreds, req, unsignedPayload, "s3", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	verifyURL := func(u string, now time.Time) error {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		_, err := Verify(clientSide(req), testCreds, now)
		return err
	}
	now := time.Now()
	u := presign("60", now)
	if err := verifyURL(u, now.Add(59*time.Second)); err != nil {
		t.Errorf("within X-Amz-Expires: %v", err)
	}
	if err := verifyURL(u, now.Add(61*time.Second)); !errors.Is(err, ErrPresignExpired) {
		t.Errorf("after X-Amz-Expires: %v, want ErrPresignExpired", err)
	}
	week := presign("604800", now)
	if err := verifyURL(week, now.Add(6*24*time.Hour)); err != nil {
		t.Errorf("a week-long URL after 6 days: %v", err)
	}
	if err := verifyURL(presign("60", now.Add(20*time.Minute)), now); !errors.Is(err, ErrTimeSkewed) {
		t.Errorf("dated 20 minutes ahead: %v, want ErrTimeSkewed", err)
	}
	if err := verifyURL(presign("60", now.Add(10*time.Minute)), now); err != nil {
		t.Errorf("dated 10 minutes ahead: %v", err)
	}
	if err := verifyURL(strings.Replace(u, "/bucket/key", "/bucket/kez", 1), now); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("other key: %v", err)
	}
	for name, edit := range map[string]func(string) string{
		"expires 0":            func(u string) string { return strings.Replace(u, "X-Amz-Expires=60", "X-Amz-Expires=0", 1) },
		"expires over a week":  func(u string) string { return strings.Replace(u, "X-Amz-Expires=60", "X-Amz-Expires=604801", 1) },
		"expires not a number": func(u string) string { return strings.Replace(u, "X-Amz-Expires=60", "X-Amz-Expires=1m", 1) },
		"no credential":        func(u string) string { return strings.Replace(u, "X-Amz-Credential=", "X-Amz-Credentia=", 1) },
		"no expires":           func(u string) string { return strings.Replace(u, "X-Amz-Expires=60", "", 1) },
		"bad date":             func(u string) string { return strings.Replace(u, "X-Amz-Date=", "X-Amz-Date=1", 1) },
		"signature twice":      func(u string) string { return u + "&X-Amz-Signature=" + strings.Repeat("0", 64) },
		"host not signed": func(u string) string {
			return strings.Replace(u, "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x", 1)
		},
		"short signature":    func(u string) string { return u[:len(u)-2] },
		"sigv4a algorithm":   func(u string) string { return strings.Replace(u, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) },
		"credential service": func(u string) string { return strings.Replace(u, "%2Fs3%2F", "%2Fec2%2F", 1) },
		"credential date other": func(u string) string {
			return strings.Replace(u, "X-Amz-Credential="+testAK+"%2F2", "X-Amz-Credential="+testAK+"%2F1", 1)
		},
	} {
		err := verifyURL(edit(u), now)
		want := ErrQueryAuthMalformed
		if name == "sigv4a algorithm" {
			want = ErrUnsupportedAlgorithm
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	// Signature Version 2 query authentication with a signature that is
	// no HMAC-SHA1: it cannot match, and S3 says so (v2_test.go covers the
	// rest).
	req, _ := http.NewRequest(http.MethodGet, "http://s3.example.net/bucket/key?AWSAccessKeyId="+testAK+"&Expires="+strconv.FormatInt(now.Unix()+600, 10)+"&Signature=abc%3D", nil)
	if _, err := Verify(clientSide(req), testCreds, now); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("SigV2 query: %v, want ErrSignatureDoesNotMatch", err)
	}
}

// An unsigned request is anonymous; its body is still checked as far as
// that needs no key.
func TestAnonymous(t *testing.T) {
	r := newRequest("PUT", "/bucket/key", map[string]string{"host": "h"}, 5)
	a, err := Verify(r, testCreds, time.Now())
	if err != nil || a.AccessKey != "" {
		t.Fatalf("anonymous: %+v, %v", a, err)
	}
	body, size, err := a.Body(strings.NewReader("hello"))
	if err != nil || size != 5 {
		t.Fatal(size, err)
	}
	if b, err := io.ReadAll(body); err != nil || string(b) != "hello" {
		t.Fatalf("%q %v", b, err)
	}

	r = newRequest("PUT", "/bucket/key", map[string]string{"x-amz-content-sha256": sha256Hex("hello")}, 5)
	a, _ = Verify(r, testCreds, time.Now())
	body, _, _ = a.Body(strings.NewReader("hellO"))
	if _, err := io.ReadAll(body); !errors.Is(err, ErrContentSHA256Mismatch) {
		t.Errorf("anonymous with a wrong hash: %v", err)
	}

	r = newRequest("PUT", "/bucket/key", map[string]string{"x-amz-content-sha256": streamingSigned}, 5)
	if _, err := Verify(r, testCreds, time.Now()); !errors.Is(err, ErrMissingAuth) {
		t.Errorf("anonymous signed streaming: %v, want ErrMissingAuth", err)
	}

	r = newRequest("PUT", "/bucket/key", map[string]string{"x-amz-content-sha256": streamingUnsignedTrailer,
		"x-amz-decoded-content-length": "5", "x-amz-trailer": "x-amz-checksum-crc32"}, -1)
	a, err = Verify(r, testCreds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body, _, _ = a.Body(strings.NewReader("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"))
	if b, err := io.ReadAll(body); err != nil || string(b) != "hello" || a.Checksums()["CRC32"] != "NhCmhg==" {
		t.Errorf("anonymous unsigned trailer: %q %v %v", b, err, a.Checksums())
	}
}

// readBody verifies r and reads raw through its body.
func readBody(t *testing.T, r *Request, raw string) ([]byte, *Auth, error) {
	t.Helper()
	a, err := Verify(r, testCreds, time.Now())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	body, _, err := a.Body(strings.NewReader(raw))
	if err != nil {
		return nil, a, err
	}
	b, err := io.ReadAll(body)
	return b, a, err
}

func TestPlainBodyErrors(t *testing.T) {
	put := func(hash string, cl int64, extra map[string]string) *Request {
		req, _ := http.NewRequest(http.MethodPut, "http://s3.example.net/bucket/key", nil)
		req.Header.Set("X-Amz-Content-Sha256", hash)
		for k, v := range extra {
			req.Header.Set(k, v)
		}
		if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, hash, "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		r := clientSide(req)
		r.ContentLength = cl
		return r
	}
	tests := []struct {
		name string
		r    *Request
		raw  string
		want error
	}{
		{"sha256 ok", put(sha256Hex("hello"), 5, nil), "hello", nil},
		{"sha256 mismatch", put(sha256Hex("hello"), 5, nil), "hellO", ErrContentSHA256Mismatch},
		{"sha256 unknown length", put(sha256Hex("hello"), -1, nil), "hello", nil},
		{"sha256 unknown length mismatch", put(sha256Hex("hello"), -1, nil), "hell", ErrContentSHA256Mismatch},
		{"unsigned ok", put(unsignedPayload, 5, nil), "hello", nil},
		{"unsigned short", put(unsignedPayload, 5, nil), "hell", ErrIncompleteBody},
		{"unsigned long", put(unsignedPayload, 5, nil), "hello!", ErrBodyTooLong},
		{"crc32 header ok", put(unsignedPayload, 5, map[string]string{"X-Amz-Checksum-Crc32": "NhCmhg==", "X-Amz-Sdk-Checksum-Algorithm": "CRC32"}), "hello", nil},
		{"crc32 header mismatch", put(unsignedPayload, 5, map[string]string{"X-Amz-Checksum-Crc32": "NhCmhg=="}), "hellO", ErrBadChecksum},
		{"sha256 checksum header ok", put(sha256Hex("hello"), 5, map[string]string{"X-Amz-Checksum-Sha256": "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}), "hello", nil},
		{"sha256 checksum header mismatch", put(sha256Hex("hello"), 5, map[string]string{"X-Amz-Checksum-Sha256": "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCA="}), "hello", ErrBadChecksum},
		{"checksum header not base64", put(unsignedPayload, 5, map[string]string{"X-Amz-Checksum-Crc32": "?"}), "hello", ErrBadChecksum},
		{"checksum header wrong size", put(unsignedPayload, 5, map[string]string{"X-Amz-Checksum-Crc32": "AAAAAAAAAAA="}), "hello", ErrBadChecksum},
		{"xxhash header", put(unsignedPayload, 5, map[string]string{"X-Amz-Checksum-Xxhash64": "AAAAAAAAAAA="}), "hello", ErrUnsupportedChecksum},
		{"trailer on a sha256 payload", put(sha256Hex("hello"), 5, map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}), "hello", ErrChunkMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readBody(t, tc.r, tc.raw)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%v, want %v", err, tc.want)
			}
		})
	}

	// CompleteMultipartUpload: the checksum headers are the object's.
	r := put(unsignedPayload, 5, map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="})
	a, _ := Verify(r, testCreds, time.Now())
	a.IgnoreHeaderChecksums()
	body, _, _ := a.Body(strings.NewReader("hello"))
	if _, err := io.ReadAll(body); err != nil {
		t.Errorf("IgnoreHeaderChecksums: %v", err)
	}
}

func TestChunkedErrors(t *testing.T) {
	data := strings.Repeat("0123456789abcdef", 1024) // 16 KiB
	c1, c2 := data[:10000], data[10000:]
	type tcase struct {
		name string
		raw  func(s streamSigner) string
		want error
	}
	ok := func(s streamSigner) string { return s.encode([]string{c1, c2, ""}, nil, nil) }
	tests := []tcase{
		{"ok", ok, nil},
		{"one chunk", func(s streamSigner) string { return s.encode([]string{data, ""}, nil, nil) }, nil},
		{"truncated in data", func(s streamSigner) string { return ok(s)[:5000] }, ErrIncompleteBody},
		{"truncated in a header", func(s streamSigner) string { return ok(s)[:10100+60] }, ErrIncompleteBody},
		{"truncated before the final chunk", func(s streamSigner) string {
			return s.encode([]string{c1, c2}, nil, nil)[:len(s.encode([]string{c1, c2}, nil, nil))-2]
		}, ErrIncompleteBody},
		{"no final chunk", func(s streamSigner) string { return strings.TrimSuffix(s.encode([]string{c1, c2}, nil, nil), "\r\n") }, ErrIncompleteBody},
		{"short decoded length", func(s streamSigner) string { return s.encode([]string{c1, ""}, nil, nil) }, ErrIncompleteBody},
		{"extra chunk", func(s streamSigner) string { return s.encode([]string{c1, c2, "x", ""}, nil, nil) }, ErrBodyTooLong},
		{"chunk past the end", func(s streamSigner) string { return s.encode([]string{c1, c2 + "x", ""}, nil, nil) }, ErrBodyTooLong},
		{"bytes after the end", func(s streamSigner) string { return ok(s) + "garbage" }, ErrChunkMalformed},
		{"CRLFs after the end", func(s streamSigner) string { return ok(s) + strings.Repeat("\r\n", 10) }, ErrBodyTooLong},
		{"bad chunk signature", func(s streamSigner) string {
			return s.encode([]string{c1, c2, ""}, nil, map[int]string{1: strings.Repeat("0", 64)})
		}, ErrChunkSignature},
		{"bad final signature", func(s streamSigner) string {
			return s.encode([]string{c1, c2, ""}, nil, map[int]string{2: strings.Repeat("a", 64)})
		}, ErrChunkSignature},
		{"swapped chunks", func(s streamSigner) string {
			a := s.encode([]string{c1, c2, ""}, nil, nil)
			i := strings.Index(a, "\r\n") + 2 + len(c1) + 2
			j := i + strings.Index(a[i:], "\r\n") + 2 + len(c2) + 2
			return a[i:j] + a[:i] + a[j:]
		}, ErrChunkSignature},
		{"no chunk signature", func(s streamSigner) string {
			return strings.Replace(ok(s), ";chunk-signature=", ";x=", 1)
		}, ErrChunkMalformed},
		{"malformed size", func(s streamSigner) string { return "xyz" + ok(s)[4:] }, ErrChunkMalformed},
		{"size with space", func(s streamSigner) string { return "2710 " + ok(s)[4:] }, ErrChunkMalformed},
		{"chunk too large", func(s streamSigner) string { return "1000001;chunk-signature=" + strings.Repeat("0", 64) + "\r\n" }, ErrChunkMalformed},
		{"huge size", func(s streamSigner) string { return "ffffffffffffffffff\r\n" }, ErrChunkMalformed},
		{"header line too long", func(s streamSigner) string { return "10;" + strings.Repeat("x", 70000) }, ErrChunkMalformed},
		{"bare LF header", func(s streamSigner) string { return strings.Replace(ok(s), "\r\n", "\n", 1) }, ErrChunkMalformed},
		{"data not followed by CRLF", func(s streamSigner) string {
			a := ok(s)
			i := strings.Index(a, c1) + len(c1)
			return a[:i] + "XX" + a[i+2:]
		}, ErrChunkMalformed},
		{"trailer on a payload without", func(s streamSigner) string {
			return strings.TrimSuffix(ok(s), "\r\n") + "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
		}, ErrChunkMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, s := streamRequest(t, streamingSigned, len(data), "", nil)
			got, _, err := readBody(t, r, tc.raw(s))
			if tc.want == nil {
				if err != nil || got == nil || string(got) != data {
					t.Fatalf("%v, %d bytes", err, len(got))
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("%v, want %v", err, tc.want)
			}
		})
	}

	r, s := streamRequest(t, streamingSigned, -1, "", nil)
	if _, _, err := readBody(t, r, s.encode([]string{data, ""}, nil, nil)); !errors.Is(err, ErrMissingDecodedLength) {
		t.Errorf("no x-amz-decoded-content-length: %v", err)
	}
	r, s = streamRequest(t, streamingSigned, len(data), "", map[string]string{"X-Amz-Decoded-Content-Length": "-3"})
	if _, _, err := readBody(t, r, s.encode([]string{data, ""}, nil, nil)); !errors.Is(err, ErrMissingDecodedLength) {
		t.Errorf("negative x-amz-decoded-content-length: %v", err)
	}
	r, s = streamRequest(t, streamingSigned, len(data), "x-amz-checksum-crc32", nil)
	if _, _, err := readBody(t, r, s.encode([]string{data, ""}, nil, nil)); !errors.Is(err, ErrChunkMalformed) {
		t.Errorf("x-amz-trailer with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: %v", err)
	}
}

func TestTrailerErrors(t *testing.T) {
	data := strings.Repeat("trailing checksums ", 2000)
	c1, c2 := data[:20000], data[20000:]
	crc := "x-amz-checksum-crc32:" + want("CRC32", []byte(data))
	for _, mode := range []string{streamingSignedTrailer, streamingUnsignedTrailer} {
		tests := []struct {
			name    string
			trailer string // x-amz-trailer
			raw     func(s streamSigner) string
			want    error
		}{
			{"ok", "x-amz-checksum-crc32", func(s streamSigner) string { return s.encode([]string{c1, c2, ""}, []string{crc}, nil) }, nil},
			{"bad checksum", "x-amz-checksum-crc32", func(s streamSigner) string {
				return s.encode([]string{c1, c2, ""}, []string{"x-amz-checksum-crc32:AAAAAA=="}, nil)
			}, ErrBadChecksum},
			{"checksum not base64", "x-amz-checksum-crc32", func(s streamSigner) string {
				return s.encode([]string{c1, c2, ""}, []string{"x-amz-checksum-crc32:*"}, nil)
			}, ErrBadChecksum},
			{"data changed", "x-amz-checksum-crc32", func(s streamSigner) string {
				return s.encode([]string{c1, strings.Replace(c2, "t", "T", 1), ""}, []string{crc}, nil)
			}, ErrBadChecksum},
			{"declared trailer missing", "x-amz-checksum-crc32", func(s streamSigner) string { return s.encode([]string{c1, c2, ""}, nil, nil) }, ErrChunkMalformed},
			{"undeclared trailer", "x-amz-checksum-crc32", func(s streamSigner) string {
				return s.encode([]string{c1, c2, ""}, []string{crc, "x-amz-meta-x:1"}, nil)
			}, ErrChunkMalformed},
			{"trailer repeated", "x-amz-checksum-crc32", func(s streamSigner) string {
				return s.encode([]string{c1, c2, ""}, []string{crc, crc}, nil)
			}, ErrChunkMalformed},
			{"trailer without colon", "x-amz-checksum-crc32", func(s streamSigner) string {
				return s.encode([]string{c1, c2, ""}, []string{"x-amz-checksum-crc32"}, nil)
			}, ErrChunkMalformed},
			{"unsupported trailer", "x-amz-checksum-xxhash3", func(s streamSigner) string { return s.encode([]string{c1, c2, ""}, nil, nil) }, ErrUnsupportedChecksum},
			{"non-checksum trailer", "x-amz-meta-x", func(s streamSigner) string { return s.encode([]string{c1, c2, ""}, nil, nil) }, ErrChunkMalformed},
			{"truncated in the trailer", "x-amz-checksum-crc32", func(s streamSigner) string {
				a := s.encode([]string{c1, c2, ""}, []string{crc}, nil)
				return a[:strings.Index(a, crc)+len(crc)-3]
			}, map[string]error{streamingSignedTrailer: ErrChunkSignature, streamingUnsignedTrailer: ErrBadChecksum}[mode]},
		}
		if mode == streamingSignedTrailer {
			tests = append(tests,
				struct {
					name, trailer string
					raw           func(s streamSigner) string
					want          error
				}{"bad trailer signature", "x-amz-checksum-crc32", func(s streamSigner) string {
					return s.encode([]string{c1, c2, ""}, []string{crc}, map[int]string{-1: strings.Repeat("1", 64)})
				}, ErrChunkSignature},
				struct {
					name, trailer string
					raw           func(s streamSigner) string
					want          error
				}{"no trailer signature", "x-amz-checksum-crc32", func(s streamSigner) string {
					s.trailerSigned = false
					return s.encode([]string{c1, c2, ""}, []string{crc}, nil)
				}, ErrChunkSignature},
				struct {
					name, trailer string
					raw           func(s streamSigner) string
					want          error
				}{"trailer after the signature", "x-amz-checksum-crc32", func(s streamSigner) string {
					a := s.encode([]string{c1, c2, ""}, []string{crc}, nil)
					return strings.TrimSuffix(a, "\r\n") + "x-amz-checksum-crc32c:AAAAAA==\r\n\r\n"
				}, ErrChunkMalformed},
			)
		}
		for _, tc := range tests {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				r, s := streamRequest(t, mode, len(data), tc.trailer, nil)
				got, a, err := readBody(t, r, tc.raw(s))
				if tc.want == nil {
					if err != nil || string(got) != data {
						t.Fatalf("%v, %d bytes", err, len(got))
					}
					if a.Checksums()["CRC32"] != want("CRC32", []byte(data)) {
						t.Errorf("Checksums() = %v", a.Checksums())
					}
					return
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("%v, want %v", err, tc.want)
				}
			})
		}
	}
}

// The bytes that complete the body are only handed out once the whole
// body has been verified, so a reader that stops at the declared size has
// still checked the trailer. Errors stick.
func TestVerifiedBeforeLastByte(t *testing.T) {
	data := strings.Repeat("z", 70000)
	for _, mode := range []string{streamingSignedTrailer, streamingUnsignedTrailer} {
		r, s := streamRequest(t, mode, len(data), "x-amz-checksum-crc32c", nil)
		a, err := Verify(r, testCreds, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		body, size, err := a.Body(strings.NewReader(s.encode([]string{data[:65536], data[65536:], ""}, []string{"x-amz-checksum-crc32c:AAAAAA=="}, nil)))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(body, buf); !errors.Is(err, ErrBadChecksum) {
			t.Errorf("%s: ReadFull of the declared size: %v, want ErrBadChecksum", mode, err)
		}
		if _, err := body.Read(buf); !errors.Is(err, ErrBadChecksum) {
			t.Errorf("%s: the next Read: %v, want the same error", mode, err)
		}
	}

	r := newRequest("PUT", "/b/k", map[string]string{"x-amz-content-sha256": sha256Hex("hello")}, 5)
	a, _ := Verify(r, testCreds, time.Now())
	body, _, _ := a.Body(strings.NewReader("hellO"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(body, buf); !errors.Is(err, ErrContentSHA256Mismatch) {
		t.Errorf("sha256: ReadFull of the declared size: %v", err)
	}
}

// Transport errors of the raw body pass through unchanged, for the caller
// to classify (a deadline is not a client's malformed body).
func TestRawErrorPassesThrough(t *testing.T) {
	boom := errors.New("read tcp: i/o timeout")
	r, s := streamRequest(t, streamingUnsignedTrailer, 10, "", nil)
	a, _ := Verify(r, testCreds, time.Now())
	body, _, _ := a.Body(io.MultiReader(strings.NewReader(s.encode([]string{"01234"}, nil, nil)[:8]), errReader{boom}))
	if _, err := io.ReadAll(body); !errors.Is(err, boom) {
		t.Errorf("chunked: %v, want %v", err, boom)
	}
	r = newRequest("PUT", "/b/k", map[string]string{"x-amz-content-sha256": unsignedPayload}, 10)
	a, _ = Verify(r, testCreds, time.Now())
	body, _, _ = a.Body(io.MultiReader(strings.NewReader("01234"), errReader{boom}))
	if _, err := io.ReadAll(body); !errors.Is(err, boom) {
		t.Errorf("plain: %v, want %v", err, boom)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
