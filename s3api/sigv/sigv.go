package sigv

import (
	"errors"
	"io"
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
)

// Request is the transport-independent view of an HTTP request that
// signature verification needs.
type Request struct {
	Method        string
	Path          string                   // raw request path as sent, percent-encoded
	Query         string                   // raw query string, without '?'
	Header        func(name string) string // header value by lower-case name, "" if absent
	ContentLength int64                    // the HTTP Content-Length, -1 if unknown
}

// Credentials returns the secret key of accessKey, or an error wrapping
// ErrInvalidAccessKeyID.
type Credentials func(accessKey string) (secret string, err error)

// Auth is a verified request.
type Auth struct {
	AccessKey string // empty for an anonymous request
	// unexported: payload mode, signing key, seed signature, scope, ...
}

// Verify authenticates r at time now (header SigV4 or presigned query; an
// unsigned request returns an anonymous Auth, AccessKey ""). It checks the
// date skew (15 minutes) and presign expiry (X-Amz-Expires up to 7 days).
func Verify(r *Request, creds Credentials, now time.Time) (*Auth, error) {
	panic("sigv: not implemented")
}

// Body wraps the raw request body so that reading it yields the decoded
// payload and verifies it as the payload mode requires (hex SHA-256 at EOF,
// chunk signatures, trailer checksum and trailer signature). size is the
// decoded length (x-amz-decoded-content-length for aws-chunked, else the
// Content-Length). Any failure is returned from Read wrapping a sentinel.
func (a *Auth) Body(raw io.Reader) (body io.Reader, size int64, err error) {
	panic("sigv: not implemented")
}

// Checksums returns the checksums verified so far (e.g. "CRC32" -> base64),
// complete once Body has been read to EOF.
func (a *Auth) Checksums() map[string]string { panic("sigv: not implemented") }
