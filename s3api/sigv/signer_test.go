package sigv

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAK     = "AKIDSTRATATEST"
	testSecret = "s3cr3t/with+odd=chars"
)

var (
	testCreds    = keys(map[string]string{testAK: testSecret})
	testAWSCreds = aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret}
)

// s3Signer signs like the S3 client: the path is signed as sent.
func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// pathCases are request paths with the bytes clients treat differently.
// rawPath, when set, is how the path goes on the wire (URL.RawPath);
// otherwise Go's own escaping of path decides.
var pathCases = []struct{ name, path, rawPath string }{
	{"plain", "/bucket/plain.txt", ""},
	{"space", "/bucket/with space", ""},
	{"unicode", "/bucket/ü-日本語/ﬁ", ""},
	{"plus", "/bucket/a+b", ""},
	{"equals", "/bucket/a=b", ""},
	{"tilde", "/bucket/a~b", ""},
	{"sub-delims raw", "/bucket/!$&'()*,;:@", ""},
	{"sub-delims escaped", "/bucket/!$&'()*,;:@+=", "/bucket/" + uriEncode("!$&'()*,;:@+=")},
	{"percent", "/bucket/100%", ""},
	{"encoded slash", "/bucket/dir/file", "/bucket/dir%2Ffile"},
	{"lower-case escape", "/bucket/a/b c", "/bucket/a%2fb%20c"},
	{"double slash", "/bucket//x/./../y", ""},
	{"bucket only", "/bucket", ""},
	{"root", "/", ""},
}

// queryCases are raw query strings, sent as written (the signer rewrites
// RawQuery into canonical order; the test puts the original back).
var queryCases = []string{
	"",
	"acl",
	"uploads=",
	"z=1&acl&a=2&a=1&a=10&empty=",
	"prefix=a%20b&delimiter=%2F&plus=a%2Bb&space=a+b&uni=%C3%BC&tilde=~&star=%2A&bang=!",
	"versionId=3%2Fabc%3D%3D&x-id=GetObject&list-type=2&max-keys=10&continuation-token=a%2Bb%2F%3D",
	"k%20with%20space=v&%C3%A9=%C3%A9",
}

func TestSignHTTPRoundTrip(t *testing.T) {
	srv := newVerifyServer(t, false, testCreds)
	base, _ := url.Parse(srv.URL)
	for _, pc := range pathCases {
		for _, rawQuery := range queryCases {
			t.Run(pc.name+"?"+rawQuery, func(t *testing.T) {
				body := "payload of " + pc.name
				u := &url.URL{Scheme: "http", Host: base.Host, Path: pc.path, RawPath: pc.rawPath, RawQuery: rawQuery}
				req, err := http.NewRequest(http.MethodPut, u.String(), strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
				req.Header.Set("Content-Type", "text/plain")
				req.Header.Set("X-Amz-Meta-Spaces", "  a   b  c ")
				req.Header.Add("X-Amz-Meta-Multi", "one")
				req.Header.Add("X-Amz-Meta-Multi", "two")
				if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, sha256Hex(body), "s3", "eu-west-3", time.Now()); err != nil {
					t.Fatal(err)
				}
				req.URL.RawQuery = rawQuery
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := srv.last(t)
				if got.err != nil {
					t.Fatalf("%s %s?%s: %v", got.method, got.path, got.query, got.err)
				}
				if string(got.body) != body || got.auth.AccessKey != testAK || got.auth.Region != "eu-west-3" {
					t.Errorf("body %q, auth %+v", got.body, got.auth)
				}
			})
		}
	}
}

func TestPresignHTTPRoundTrip(t *testing.T) {
	srv := newVerifyServer(t, false, testCreds)
	base, _ := url.Parse(srv.URL)
	creds := testAWSCreds
	creds.SessionToken = "FwoGZXIvYXdzE+token/with=odd"
	for _, pc := range pathCases {
		for _, rawQuery := range queryCases {
			t.Run(pc.name+"?"+rawQuery, func(t *testing.T) {
				q := rawQuery
				if q != "" {
					q += "&"
				}
				u := &url.URL{Scheme: "http", Host: base.Host, Path: pc.path, RawPath: pc.rawPath, RawQuery: q + "X-Amz-Expires=300"}
				req, err := http.NewRequest(http.MethodGet, u.String(), nil)
				if err != nil {
					t.Fatal(err)
				}
				signed, hdr, err := s3Signer().PresignHTTP(context.Background(), creds, req, unsignedPayload, "s3", "us-east-1", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				get, err := http.NewRequest(http.MethodGet, signed, nil)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range hdr {
					if k != "Host" {
						get.Header[k] = v
					}
				}
				resp, err := http.DefaultClient.Do(get)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := srv.last(t)
				if got.err != nil {
					t.Fatalf("%s?%s: %v", got.path, got.query, got.err)
				}
				if !got.auth.Presigned || got.auth.SessionToken != creds.SessionToken || got.auth.AccessKey != testAK {
					t.Errorf("auth %+v", got.auth)
				}
			})
		}
	}
}

// A presigned PUT carries its body unsigned; a header-signed request with
// a session token exposes it.
func TestPresignedPutAndSessionToken(t *testing.T) {
	srv := newVerifyServer(t, false, testCreds)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/bucket/key?X-Amz-Expires=60", nil)
	signed, _, err := s3Signer().PresignHTTP(context.Background(), testAWSCreds, req, unsignedPayload, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	put, _ := http.NewRequest(http.MethodPut, signed, strings.NewReader("presigned body"))
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := srv.last(t); got.err != nil || string(got.body) != "presigned body" || got.size != 14 {
		t.Fatalf("presigned PUT: %v, body %q, size %d", got.err, got.body, got.size)
	}

	creds := testAWSCreds
	creds.SessionToken = "session-token"
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/bucket/key", nil)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := s3Signer().SignHTTP(context.Background(), creds, req, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := srv.last(t); got.err != nil || got.auth.SessionToken != "session-token" {
		t.Fatalf("header auth with token: %v, %+v", got.err, got.auth)
	}
}

// clientSide turns a request built (and signed) on the client side into a
// Request, for tests that need no server.
func clientSide(r *http.Request) *Request {
	h := r.Header.Clone()
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	return &Request{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, ContentLength: r.ContentLength,
		Header: func(name string) string {
			if name == "host" {
				return host
			}
			return strings.Join(h.Values(name), ",")
		},
		HeaderNames: func() []string { return slices.Collect(maps.Keys(h)) },
	}
}

// STS query-API clients sign the body hash without sending it: the caller
// reads the small form body and passes its hash.
func TestSTSPayloadHash(t *testing.T) {
	form := "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&RoleSessionName=s"
	req, _ := http.NewRequest(http.MethodPost, "http://sts.example.net/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := v4.NewSigner().SignHTTP(context.Background(), testAWSCreds, req, sha256Hex(form), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	r := clientSide(req)
	if _, err := Verify(r, testCreds, time.Now()); !errors.Is(err, ErrBadContentSHA256) {
		t.Fatalf("without the body hash: %v, want ErrBadContentSHA256", err)
	}
	r.PayloadSHA256 = sha256Hex(form)
	a, err := Verify(r, testCreds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a.Service != "sts" {
		t.Errorf("Service = %q", a.Service)
	}
	r.PayloadSHA256 = sha256Hex(form + "&x=1")
	if _, err := Verify(r, testCreds, time.Now()); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("other body: %v", err)
	}

	// An S3 request must send x-amz-content-sha256, whatever the caller says.
	req, _ = http.NewRequest(http.MethodGet, "http://s3.example.net/bucket/key", nil)
	if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, emptySHA256, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	r = clientSide(req)
	r.PayloadSHA256 = emptySHA256
	if _, err := Verify(r, testCreds, time.Now()); !errors.Is(err, ErrBadContentSHA256) {
		t.Errorf("s3 without x-amz-content-sha256: %v, want ErrBadContentSHA256", err)
	}
}

// Services other than s3 and sts are refused in the scope.
func TestScopeService(t *testing.T) {
	for _, svc := range []string{"s3", "sts", "iam", "execute-api"} {
		req, _ := http.NewRequest(http.MethodGet, "http://s3.example.net/bucket/key", nil)
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, emptySHA256, svc, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(clientSide(req), testCreds, time.Now())
		if ok := svc == "s3" || svc == "sts"; ok != (err == nil) {
			t.Errorf("service %s: %v", svc, err)
		}
		if err != nil && !errors.Is(err, ErrAuthHeaderMalformed) {
			t.Errorf("service %s: %v, want ErrAuthHeaderMalformed", svc, err)
		}
	}
}

// The Verifier's key cache gives the same answers, changes with the
// secret, and stays within its bound.
func TestVerifierCache(t *testing.T) {
	v := NewVerifier(2)
	secret := testSecret
	creds := func(string) (string, error) { return secret, nil }
	sign := func(region string) *Request {
		req, _ := http.NewRequest(http.MethodGet, "http://s3.example.net/bucket/key", nil)
		req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := s3Signer().SignHTTP(context.Background(), testAWSCreds, req, emptySHA256, "s3", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		return clientSide(req)
	}
	for range 2 {
		for _, region := range []string{"r1", "r2", "r3", "r4"} {
			if _, err := v.Verify(sign(region), creds, time.Now()); err != nil {
				t.Fatalf("%s: %v", region, err)
			}
		}
	}
	if len(v.keys) > 2 || len(v.ring) > 2 {
		t.Errorf("cache holds %d keys, ring %d, bound 2", len(v.keys), len(v.ring))
	}
	secret = "rotated"
	if _, err := v.Verify(sign("r4"), creds, time.Now()); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("after the secret changed: %v, want ErrSignatureDoesNotMatch", err)
	}
	var zero Verifier
	secret = testSecret
	for range 2 {
		if _, err := zero.Verify(sign("r1"), creds, time.Now()); err != nil {
			t.Errorf("zero Verifier: %v", err)
		}
	}
}

// The body of a signed request is read through io.Reader semantics: a
// short Read buffer changes nothing.
func TestSmallReads(t *testing.T) {
	e := awsTrailerExample
	a, err := Verify(e.request(), exampleCreds, exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := a.Body(strings.NewReader(e.body()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(oneByteReader{r})
	if err != nil || len(got) != 66560 {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
