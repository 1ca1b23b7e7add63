package sigv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// The example credentials of the AWS documentation.
const (
	exampleAK     = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// exampleTime is the date of every AWS documentation example.
var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

// keys is a Credentials over a fixed map.
func keys(m map[string]string) Credentials {
	return func(ak string) (string, error) {
		if s, ok := m[ak]; ok {
			return s, nil
		}
		return "", ErrInvalidAccessKeyID
	}
}

var exampleCreds = keys(map[string]string{exampleAK: exampleSecret})

// newRequest builds a Request from a raw request target ("/path?query")
// and headers (any case).
func newRequest(method, target string, headers map[string]string, contentLength int64) *Request {
	path, query, _ := strings.Cut(target, "?")
	h := make(map[string]string, len(headers))
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	return &Request{
		Method: method, Path: path, Query: query, ContentLength: contentLength,
		Header:      func(name string) string { return h[name] },
		HeaderNames: func() []string { return slices.Collect(maps.Keys(h)) },
	}
}

func authz(signedHeaders, signature string) string {
	return "AWS4-HMAC-SHA256 Credential=" + exampleAK + "/20130524/us-east-1/s3/aws4_request, SignedHeaders=" +
		signedHeaders + ", Signature=" + signature
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// flipSig changes the last hex digit of a signature.
func flipSig(sig string) string {
	last := sig[len(sig)-1]
	if last == '0' {
		return sig[:len(sig)-1] + "1"
	}
	return sig[:len(sig)-1] + "0"
}

// The four examples of "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk".
func TestAWSHeaderExamples(t *testing.T) {
	const host = "examplebucket.s3.amazonaws.com"
	put := "Welcome to Amazon S3."
	tests := []struct {
		name, method, target string
		headers              map[string]string
		signedHeaders, sig   string
		body                 string
	}{
		{
			name: "GET Object", method: "GET", target: "/test.txt",
			headers:       map[string]string{"Host": host, "Range": "bytes=0-9", "x-amz-content-sha256": emptySHA256, "x-amz-date": "20130524T000000Z"},
			signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			sig:           "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			// The documentation sends the '$' raw and signs it as %24.
			name: "PUT Object", method: "PUT", target: "/test$file.text",
			headers: map[string]string{"Host": host, "Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-date": "20130524T000000Z",
				"x-amz-storage-class": "REDUCED_REDUNDANCY", "x-amz-content-sha256": sha256Hex(put)},
			signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			sig:           "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
			body:          put,
		},
		{
			name: "GET Bucket Lifecycle", method: "GET", target: "/?lifecycle",
			headers:       map[string]string{"Host": host, "x-amz-content-sha256": emptySHA256, "x-amz-date": "20130524T000000Z"},
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			sig:           "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name: "GET Bucket (List Objects)", method: "GET", target: "/?max-keys=2&prefix=J",
			headers:       map[string]string{"Host": host, "x-amz-content-sha256": emptySHA256, "x-amz-date": "20130524T000000Z"},
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			sig:           "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Authorization": authz(tc.signedHeaders, tc.sig)}
			for k, v := range tc.headers {
				h[k] = v
			}
			mk := func() *Request { return newRequest(tc.method, tc.target, h, int64(len(tc.body))) }
			a, err := Verify(mk(), exampleCreds, exampleTime)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if a.AccessKey != exampleAK || a.Region != "us-east-1" || a.Service != "s3" || a.Presigned {
				t.Errorf("Auth = %+v", a)
			}
			body, size, err := a.Body(strings.NewReader(tc.body))
			if err != nil || size != int64(len(tc.body)) {
				t.Fatalf("Body: size %d, %v", size, err)
			}
			if got, err := io.ReadAll(body); err != nil || string(got) != tc.body {
				t.Fatalf("read %q, %v", got, err)
			}

			// The same request with one more byte of body, a signature one
			// digit off, or another method must fail.
			a, _ = Verify(mk(), exampleCreds, exampleTime)
			body, _, _ = a.Body(strings.NewReader(tc.body + "x"))
			if _, err := io.ReadAll(body); err == nil {
				t.Error("a longer body was accepted")
			}
			h["Authorization"] = authz(tc.signedHeaders, flipSig(tc.sig))
			if _, err := Verify(mk(), exampleCreds, exampleTime); !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Errorf("altered signature: %v, want ErrSignatureDoesNotMatch", err)
			}
			h["Authorization"] = authz(tc.signedHeaders, tc.sig)
			r := mk()
			r.Method = "DELETE"
			if _, err := Verify(r, exampleCreds, exampleTime); !errors.Is(err, ErrSignatureDoesNotMatch) {
				t.Errorf("other method: %v, want ErrSignatureDoesNotMatch", err)
			}
		})
	}
}

// The example of "Authenticating Requests: Using Query Parameters".
func TestAWSPresignedExample(t *testing.T) {
	const sig = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	target := func(sig string) string {
		return "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
			"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig
	}
	h := map[string]string{"Host": "examplebucket.s3.amazonaws.com"}
	a, err := Verify(newRequest("GET", target(sig), h, 0), exampleCreds, exampleTime.Add(time.Hour))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if a.AccessKey != exampleAK || !a.Presigned {
		t.Errorf("Auth = %+v", a)
	}
	if _, err := Verify(newRequest("GET", target(flipSig(sig)), h, 0), exampleCreds, exampleTime); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("altered signature: %v", err)
	}
	if _, err := Verify(newRequest("GET", target(sig), h, 0), exampleCreds, exampleTime.Add(24*time.Hour+time.Second)); !errors.Is(err, ErrPresignExpired) {
		t.Errorf("after X-Amz-Expires: %v, want ErrPresignExpired", err)
	}
	if _, err := Verify(newRequest("GET", target(sig), h, 0), exampleCreds, exampleTime.Add(-16*time.Minute)); !errors.Is(err, ErrTimeSkewed) {
		t.Errorf("dated in the future: %v, want ErrTimeSkewed", err)
	}
}

// awsStreaming is one example of the chunked upload pages: 66560 bytes of
// 'a' sent as a 64 KiB chunk, a 1 KiB chunk and the final chunk.
type awsStreaming struct {
	mode, signedHeaders, seed string
	sigs                      [3]string
	trailer, trailerSig       string
}

var (
	// "Signature Calculations for the Authorization Header: Transferring
	// Payload in Multiple Chunks", example PUT Object.
	awsStreamingExample = awsStreaming{
		mode:          streamingSigned,
		signedHeaders: "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
		seed:          "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
		sigs: [3]string{
			"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
			"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
			"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
		},
	}
	// "Signature calculations for trailing headers (chunked uploads)".
	awsTrailerExample = awsStreaming{
		mode:          streamingSignedTrailer,
		signedHeaders: "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
		seed:          "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
		sigs: [3]string{
			"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
			"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
			"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
		},
		trailer:    "x-amz-checksum-crc32c:sOO8/Q==",
		trailerSig: "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
	}
)

var (
	awsChunk1 = strings.Repeat("a", 65536)
	awsChunk2 = strings.Repeat("a", 1024)
)

func (e awsStreaming) body() string {
	b := "10000;chunk-signature=" + e.sigs[0] + "\r\n" + awsChunk1 + "\r\n" +
		"400;chunk-signature=" + e.sigs[1] + "\r\n" + awsChunk2 + "\r\n" +
		"0;chunk-signature=" + e.sigs[2] + "\r\n"
	if e.trailer != "" {
		b += e.trailer + "\r\n" + "x-amz-trailer-signature:" + e.trailerSig + "\r\n"
	}
	return b + "\r\n"
}

func (e awsStreaming) request() *Request {
	h := map[string]string{
		"Host":                         "s3.amazonaws.com",
		"x-amz-date":                   "20130524T000000Z",
		"x-amz-storage-class":          "REDUCED_REDUNDANCY",
		"x-amz-content-sha256":         e.mode,
		"Content-Encoding":             "aws-chunked",
		"x-amz-decoded-content-length": "66560",
		"Content-Length":               "66824",
		"Authorization":                authz(e.signedHeaders, e.seed),
	}
	if e.trailer != "" {
		h["x-amz-trailer"] = "x-amz-checksum-crc32c"
	}
	return newRequest("PUT", "/examplebucket/chunkObject.txt", h, int64(len(e.body())))
}

// decode verifies e's request and reads body through it.
func (e awsStreaming) decode(t *testing.T, body string) (*Auth, []byte, error) {
	t.Helper()
	a, err := Verify(e.request(), exampleCreds, exampleTime)
	if err != nil {
		t.Fatalf("seed signature: %v", err)
	}
	r, size, err := a.Body(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	if size != 66560 {
		t.Fatalf("size %d, want 66560", size)
	}
	got, err := io.ReadAll(r)
	return a, got, err
}

func TestAWSStreamingExamples(t *testing.T) {
	for _, e := range []awsStreaming{awsStreamingExample, awsTrailerExample} {
		t.Run(e.mode, func(t *testing.T) {
			a, got, err := e.decode(t, e.body())
			if err != nil {
				t.Fatalf("documented body rejected: %v", err)
			}
			if string(got) != awsChunk1+awsChunk2 {
				t.Fatalf("decoded %d bytes, want 66560 bytes of 'a'", len(got))
			}
			if e.trailer != "" {
				if sums := a.Checksums(); sums["CRC32C"] != "sOO8/Q==" || len(sums) != 1 {
					t.Errorf("Checksums() = %v", sums)
				}
			}

			// Each documented signature is load-bearing.
			for i, sig := range e.sigs {
				bad := awsStreaming(e)
				bad.sigs[i] = flipSig(sig)
				if _, _, err := e.decode(t, bad.body()); !errors.Is(err, ErrChunkSignature) {
					t.Errorf("chunk %d signature altered: %v, want ErrChunkSignature", i, err)
				}
			}
			if e.trailer != "" {
				bad := e
				bad.trailerSig = flipSig(e.trailerSig)
				if _, _, err := e.decode(t, bad.body()); !errors.Is(err, ErrChunkSignature) {
					t.Errorf("trailer signature altered: %v, want ErrChunkSignature", err)
				}
			}
			// A data byte changed.
			body := e.body()
			i := strings.Index(body, "\r\n") + 100
			tampered := body[:i] + "b" + body[i+1:]
			if _, _, err := e.decode(t, tampered); !errors.Is(err, ErrChunkSignature) {
				t.Errorf("data altered: %v, want ErrChunkSignature", err)
			}
		})
	}
}
