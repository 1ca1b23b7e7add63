package sigv

import (
	"errors"
	"io"
	"maps"
	"time"
)

// Sentinel errors; s3api/errors.go maps each to its S3 error code.
var (
	ErrMissingAuth           = errors.New("sigv: request is not signed")                       // AccessDenied (anonymous where auth needed)
	ErrInvalidAccessKeyID    = errors.New("sigv: unknown access key")                          // InvalidAccessKeyId 403
	ErrSignatureDoesNotMatch = errors.New("sigv: signature does not match")                    // SignatureDoesNotMatch 403
	ErrAuthHeaderMalformed   = errors.New("sigv: malformed Authorization header")              // AuthorizationHeaderMalformed 400
	ErrQueryAuthMalformed    = errors.New("sigv: malformed presigned query")                   // AuthorizationQueryParametersError 400
	ErrUnsupportedAlgorithm  = errors.New("sigv: unsupported signing algorithm")               // InvalidRequest / AccessDenied
	ErrTimeSkewed            = errors.New("sigv: request time too skewed")                     // RequestTimeTooSkewed 403
	ErrPresignExpired        = errors.New("sigv: presigned request expired")                   // AccessDenied 403 ("Request has expired")
	ErrMissingDate           = errors.New("sigv: missing or malformed date")                   // AccessDenied 403
	ErrContentSHA256Mismatch = errors.New("sigv: payload does not match x-amz-content-sha256") // XAmzContentSHA256Mismatch 400
	ErrBadContentSHA256      = errors.New("sigv: malformed x-amz-content-sha256")              // InvalidArgument 400
	ErrChunkMalformed        = errors.New("sigv: malformed aws-chunked body")                  // IncompleteBody / InvalidRequest 400
	ErrChunkSignature        = errors.New("sigv: chunk signature does not match")              // SignatureDoesNotMatch 403
	ErrIncompleteBody        = errors.New("sigv: body shorter than declared")                  // IncompleteBody 400
	ErrBodyTooLong           = errors.New("sigv: body longer than declared")                   // IncompleteBody/InvalidRequest 400
	ErrBadChecksum           = errors.New("sigv: trailing checksum does not match")            // BadDigest 400
	ErrMissingDecodedLength  = errors.New("sigv: missing x-amz-decoded-content-length")        // MissingContentLength 411
	ErrUnsupportedChecksum   = errors.New("sigv: unsupported checksum algorithm")              // InvalidRequest 400
)

// Request is the transport-independent view of an HTTP request that
// signature verification needs.
//
// Path and Query must be the bytes of the request line as the client sent
// them (not decoded, not normalised): the signature covers them.
type Request struct {
	Method        string
	Path          string                   // raw request path as sent, percent-encoded
	Query         string                   // raw query string, without '?'
	Header        func(name string) string // header value by lower-case name, "" if absent
	ContentLength int64                    // the HTTP Content-Length, -1 if unknown

	// HeaderNames returns the names of the headers the request carries (any
	// case; a name may repeat). Signature Version 2 signs every x-amz-*
	// header, so it must find them; nil reads as no header at all.
	HeaderNames func() []string
	// VirtualHostBucket is the bucket named by the Host header of a
	// virtual-hosted-style request ("" for path style): Signature Version 2
	// signs the resource as "/bucket/key" whatever the addressing style.
	VirtualHostBucket string

	// PayloadSHA256 is the hex SHA-256 of a body the caller has already
	// read. It stands for a missing x-amz-content-sha256 header on requests
	// signed for a service other than s3 (the STS query API, whose clients
	// sign the body hash without sending it as a header). It is ignored for
	// s3, which requires the header, as AWS does.
	PayloadSHA256 string
}

// Credentials returns the secret key of accessKey, or an error wrapping
// ErrInvalidAccessKeyID.
type Credentials func(accessKey string) (secret string, err error)

// Auth is a verified request: who signed it, and what its body must be
// checked against. An Auth belongs to one request and one goroutine.
type Auth struct {
	AccessKey string // empty for an anonymous request

	// SessionToken is the X-Amz-Security-Token sent with the request
	// (header or presigned query), "" if none. sigv does not check it: the
	// caller verifies it belongs to AccessKey.
	SessionToken string
	// Region and Service are from the credential scope ("s3" or "sts");
	// the caller must refuse a Service that is not the API it serves.
	// Signature Version 2 names no region ("") and always means "s3".
	Region  string
	Service string
	// SignatureVersion is 4 (AWS4-HMAC-SHA256) or 2 (HMAC-SHA1, whose
	// payload is never signed), 0 for an anonymous request.
	SignatureVersion int
	// Presigned is true for query-string (presigned URL) authentication.
	Presigned bool

	mode          payloadMode
	payloadHash   []byte // decoded hex, for payloadSHA256
	key           []byte // signing key, for chunk and trailer signatures
	seed          string // request signature (hex), first link of the chunk chain
	amzDate       string // ISO 8601 timestamp of the string to sign
	scope         string // date/region/service/aws4_request
	contentLength int64
	decodedLength string            // x-amz-decoded-content-length as sent
	trailer       string            // x-amz-trailer as sent
	headerSums    map[string]string // x-amz-checksum-* header -> value, as sent
	ignoreHeaders bool
	checksums     map[string]string // verified algorithm -> base64
}

// Verify authenticates r at time now: Signature Version 4 (Authorization
// header, or presigned X-Amz-* query), or Signature Version 2
// (Authorization: AWS AccessKeyId:Signature, or presigned AWSAccessKeyId,
// Expires and Signature query parameters). An unsigned request returns an
// anonymous Auth, AccessKey "". It checks the date skew (15 minutes, for
// both header forms) and the presign expiry (V4: X-Amz-Expires up to 7
// days; V2: Expires, unix seconds). It derives the SigV4 signing key
// afresh; a Verifier caches derived keys.
func Verify(r *Request, creds Credentials, now time.Time) (*Auth, error) {
	return verify(r, creds, now, nil)
}

// Body wraps the raw request body so that reading it yields the decoded
// payload and verifies it as the payload mode requires (hex SHA-256 at EOF,
// chunk signatures, trailer checksum and trailer signature). size is the
// decoded length (x-amz-decoded-content-length for aws-chunked, else the
// Content-Length). Any failure is returned from Read wrapping a sentinel.
//
// The last byte of the payload is only handed out once everything has been
// verified, so a reader that stops after size bytes has still checked the
// whole body; a consumer must nonetheless treat the body as good only once
// it has read size bytes (or io.EOF) without error. raw must end (io.EOF)
// where the request body ends. Body may be called once per Auth.
func (a *Auth) Body(raw io.Reader) (body io.Reader, size int64, err error) {
	return a.body(raw)
}

// Checksums returns the checksums verified so far (e.g. "CRC32" -> base64),
// complete once Body has been read to EOF.
func (a *Auth) Checksums() map[string]string { return maps.Clone(a.checksums) }

// IgnoreHeaderChecksums makes Body skip the x-amz-checksum-* request
// headers. Call it before Body for a request whose checksum headers do not
// describe its body: CompleteMultipartUpload, where they are the object's
// checksum. Trailing checksums are always verified.
func (a *Auth) IgnoreHeaderChecksums() { a.ignoreHeaders = true }
