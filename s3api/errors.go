package s3api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/quota"
	"github.com/strata-io/strata/s3api/sigv"
)

// errCode names one S3 error of the closed table in errCode.info. The
// numbers are private to this package; only the string codes go on the wire.
type errCode int

// The S3 errors Strata answers with. Keep info in step: a table test walks
// every value from 1 to numCodes-1.
const (
	codeAccessDenied errCode = iota + 1
	codeAccessForbidden
	codeAuthorizationHeaderMalformed
	codeAuthorizationQueryParametersError
	codeBadDigest
	codeBadRequest
	codeBucketAlreadyExists
	codeBucketAlreadyOwnedByYou
	codeBucketNotEmpty
	codeConditionalRequestConflict
	codeEntityTooLarge
	codeEntityTooSmall
	codeExpiredToken
	codeIllegalVersioningConfiguration
	codeIllegalLocationConstraint
	codeIncompleteBody
	codeIncorrectNumberOfFilesInPostRequest
	codeInternalError
	codeInvalidAccessKeyID
	codeInvalidArgument
	codeInvalidBucketName
	codeInvalidDigest
	codeInvalidPart
	codeInvalidPartNumber
	codeInvalidPartOrder
	codeInvalidPolicyDocument
	codeInvalidRange
	codeInvalidRequest
	codeInvalidTag
	codeInvalidToken
	codeInvalidURI
	codeKeyTooLong
	codeMalformedACLError
	codeMalformedPOSTRequest
	codeMalformedPolicy
	codeMalformedXML
	codeMaxPostPreDataLengthExceeded
	codeMetadataTooLarge
	codeMethodNotAllowed
	codeMissingContentLength
	codeNoSuchBucket
	codeNoSuchBucketPolicy
	codeNoSuchCORSConfiguration
	codeNoSuchKey
	codeNoSuchLifecycleConfiguration
	codeNoSuchUpload
	codeNoSuchVersion
	codeNotImplemented
	codePreconditionFailed
	codeQuotaExceeded
	codeRequestHeaderSectionTooLarge
	codeRequestTimeout
	codeRequestTimeTooSkewed
	codeServiceUnavailable
	codeSignatureDoesNotMatch
	codeXAmzContentSHA256Mismatch
	numCodes // not a code: one past the last
)

// info returns the wire code, the HTTP status and the default message of c,
// as Amazon S3 documents them.
func (c errCode) info() (code string, status int, message string) {
	switch c {
	case codeAccessDenied:
		return "AccessDenied", http.StatusForbidden, "Access Denied"
	case codeAccessForbidden:
		return "AccessForbidden", http.StatusForbidden, "CORSResponse: This CORS request is not allowed."
	case codeAuthorizationHeaderMalformed:
		return "AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed."
	case codeAuthorizationQueryParametersError:
		return "AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter or another presigned query parameter."
	case codeBadDigest:
		return "BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what was received."
	case codeBadRequest:
		return "BadRequest", http.StatusBadRequest, "Bad Request"
	case codeBucketAlreadyExists:
		return "BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
	case codeBucketAlreadyOwnedByYou:
		return "BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."
	case codeBucketNotEmpty:
		return "BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty."
	case codeConditionalRequestConflict:
		return "ConditionalRequestConflict", http.StatusConflict, "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part."
	case codeEntityTooLarge:
		return "EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."
	case codeEntityTooSmall:
		return "EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."
	case codeExpiredToken:
		return "ExpiredToken", http.StatusBadRequest, "The provided token has expired."
	case codeIllegalVersioningConfiguration:
		return "IllegalVersioningConfigurationException", http.StatusBadRequest, "The versioning configuration specified in the request is invalid."
	case codeIllegalLocationConstraint:
		return "IllegalLocationConstraintException", http.StatusBadRequest, "The location constraint is incompatible for the region specific endpoint this request was sent to."
	case codeIncompleteBody:
		return "IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."
	case codeInternalError:
		return "InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."
	case codeInvalidAccessKeyID:
		return "InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records."
	case codeInvalidArgument:
		return "InvalidArgument", http.StatusBadRequest, "Invalid Argument"
	case codeInvalidBucketName:
		return "InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."
	case codeInvalidDigest:
		return "InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."
	case codeInvalidPart:
		return "InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
	case codeInvalidPartNumber:
		return "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable"
	case codeInvalidPartOrder:
		return "InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."
	case codeInvalidRange:
		return "InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable"
	case codeInvalidRequest:
		return "InvalidRequest", http.StatusBadRequest, "Invalid Request"
	case codeInvalidTag:
		return "InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag."
	case codeInvalidToken:
		return "InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid."
	case codeInvalidURI:
		return "InvalidURI", http.StatusBadRequest, "Couldn't parse the specified URI."
	case codeKeyTooLong:
		return "KeyTooLongError", http.StatusBadRequest, "Your key is too long"
	case codeMalformedACLError:
		return "MalformedACLError", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."
	case codeMalformedPolicy:
		return "MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'"
	case codeMalformedXML:
		return "MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."
	case codeIncorrectNumberOfFilesInPostRequest:
		return "IncorrectNumberOfFilesInPostRequest", http.StatusBadRequest, "POST requires exactly one file upload per request."
	case codeInvalidPolicyDocument:
		return "InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document."
	case codeMalformedPOSTRequest:
		return "MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data."
	case codeMaxPostPreDataLengthExceeded:
		return "MaxPostPreDataLengthExceededError", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large."
	case codeMetadataTooLarge:
		return "MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."
	case codeMethodNotAllowed:
		return "MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."
	case codeMissingContentLength:
		return "MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."
	case codeNoSuchBucket:
		return "NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist"
	case codeNoSuchBucketPolicy:
		return "NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist"
	case codeNoSuchCORSConfiguration:
		return "NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist"
	case codeNoSuchKey:
		return "NoSuchKey", http.StatusNotFound, "The specified key does not exist."
	case codeNoSuchLifecycleConfiguration:
		return "NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist"
	case codeNoSuchUpload:
		return "NoSuchUpload", http.StatusNotFound, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
	case codeNoSuchVersion:
		return "NoSuchVersion", http.StatusNotFound, "The specified version does not exist."
	case codeNotImplemented:
		return "NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented."
	case codePreconditionFailed:
		return "PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"
	case codeQuotaExceeded:
		// Not an Amazon S3 code (S3 has no quotas): Ceph RGW's, with its
		// status (docs/s3-compatibility.md says why).
		return "QuotaExceeded", http.StatusForbidden, "Quota exceeded."
	case codeRequestHeaderSectionTooLarge:
		return "RequestHeaderSectionTooLarge", http.StatusBadRequest, "Your request header section exceeds the maximum allowed size."
	case codeRequestTimeout:
		return "RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period."
	case codeRequestTimeTooSkewed:
		return "RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large."
	case codeServiceUnavailable:
		return "ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate or try again later."
	case codeSignatureDoesNotMatch:
		return "SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	case codeXAmzContentSHA256Mismatch:
		return "XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed."
	}
	return "InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."
}

// APIError is one S3 error response: the wire code, the HTTP status and a
// human message. Handlers return it (it is an error); toS3Error turns every
// other error into one.
type APIError struct {
	Code    string // S3 error code, e.g. "NoSuchKey"
	Status  int    // HTTP status
	Message string // human-readable message
	code    errCode
}

// Error implements error.
func (e *APIError) Error() string { return "s3: " + e.Code + ": " + e.Message }

// apiError returns c as an error with its default message, or msg when given.
func apiError(c errCode, msg ...string) *APIError {
	code, status, m := c.info()
	if len(msg) > 0 && msg[0] != "" {
		m = msg[0]
	}
	return &APIError{Code: code, Status: status, Message: m, code: c}
}

// errAccessKeyDisabled is returned by the credentials lookup for a disabled
// user; it also wraps sigv.ErrInvalidAccessKeyID, which is how AWS answers
// for an inactive key.
var errAccessKeyDisabled = errors.New("s3api: access key is disabled")

// toS3Error maps any error from a handler, sigv, the data plane or the
// control plane to the S3 error to answer with. It is the only place that
// knows these mappings. An error it does not know becomes InternalError and
// its cause is logged; an error the node calls unavailable (no leader, no
// quorum) becomes ServiceUnavailable so that clients retry.
func (s *Server) toS3Error(err error) *APIError {
	if e, known := classify(err, s.deps.Unavailable); known {
		return e
	}
	s.log.Error("internal error", "err", err)
	return apiError(codeInternalError)
}

// classify is toS3Error without the logging; known is false for an error
// that is not in the table (reported as InternalError).
func classify(err error, unavailable func(error) bool) (e *APIError, known bool) {
	var apiErr *APIError
	var quorum *dataplane.QuorumError
	var marker *dataplane.DeleteMarkerError
	var corsErr *meta.CORSError
	var lifecycleErr *meta.LifecycleError
	var quotaErr *quota.ExceededError
	switch {
	case err == nil:
		return nil, true
	case errors.As(err, &apiErr):
		return apiErr, true

	// Authentication (s3api/sigv and our credentials lookup).
	case errors.Is(err, errAccessKeyDisabled):
		return apiError(codeInvalidAccessKeyID, "The access key you provided is disabled."), true
	case errors.Is(err, sigv.ErrMissingAuth):
		return apiError(codeAccessDenied), true
	case errors.Is(err, sigv.ErrInvalidAccessKeyID):
		return apiError(codeInvalidAccessKeyID), true
	case errors.Is(err, sigv.ErrSignatureDoesNotMatch), errors.Is(err, sigv.ErrChunkSignature):
		return apiError(codeSignatureDoesNotMatch), true
	case errors.Is(err, sigv.ErrAuthHeaderMalformed):
		return apiError(codeAuthorizationHeaderMalformed), true
	case errors.Is(err, sigv.ErrQueryAuthMalformed):
		return apiError(codeAuthorizationQueryParametersError), true
	case errors.Is(err, sigv.ErrUnsupportedAlgorithm):
		return apiError(codeInvalidRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."), true
	case errors.Is(err, sigv.ErrTimeSkewed):
		return apiError(codeRequestTimeTooSkewed), true
	case errors.Is(err, sigv.ErrPresignExpired):
		return apiError(codeAccessDenied, "Request has expired"), true
	case errors.Is(err, sigv.ErrMissingDate):
		return apiError(codeAccessDenied, "AWS authentication requires a valid Date or x-amz-date header"), true
	case errors.Is(err, sigv.ErrContentSHA256Mismatch):
		return apiError(codeXAmzContentSHA256Mismatch), true
	case errors.Is(err, sigv.ErrBadContentSHA256):
		return apiError(codeInvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a valid SHA-256 value."), true
	case errors.Is(err, sigv.ErrChunkMalformed):
		return apiError(codeIncompleteBody, "The aws-chunked request body is malformed or truncated."), true
	case errors.Is(err, sigv.ErrIncompleteBody), errors.Is(err, dataplane.ErrIncompleteBody), errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(codeIncompleteBody), true
	case errors.Is(err, sigv.ErrBodyTooLong):
		return apiError(codeIncompleteBody, "The request body is longer than its declared length."), true
	case errors.Is(err, sigv.ErrBadChecksum), errors.Is(err, dataplane.ErrBadChecksum):
		return apiError(codeBadDigest, badChecksumMessage(err)), true
	case errors.Is(err, sigv.ErrMissingDecodedLength):
		return apiError(codeMissingContentLength), true
	case errors.Is(err, sigv.ErrUnsupportedChecksum):
		return apiError(codeInvalidRequest, "The checksum algorithm is not supported."), true

	// Quotas (before the data plane: an unknown-length body refused while
	// it is read comes back wrapped by the data plane).
	case errors.As(err, &quotaErr):
		return apiError(codeQuotaExceeded, quotaMessage(quotaErr)), true

	// Data plane. A delete marker asked for by version id is 405 (a
	// current one is ErrObjectNotFound: NoSuchKey); writeError adds the
	// x-amz-delete-marker headers.
	case errors.As(err, &marker) && marker.ByVersion:
		return apiError(codeMethodNotAllowed), true
	case errors.Is(err, dataplane.ErrObjectNotFound):
		return apiError(codeNoSuchKey), true
	case errors.Is(err, dataplane.ErrNoSuchVersion):
		return apiError(codeNoSuchVersion), true
	case errors.Is(err, dataplane.ErrNoSuchUpload):
		return apiError(codeNoSuchUpload), true
	case errors.Is(err, dataplane.ErrInvalidPart):
		return apiError(codeInvalidPart), true
	case errors.Is(err, dataplane.ErrInvalidPartOrder):
		return apiError(codeInvalidPartOrder), true
	case errors.Is(err, dataplane.ErrEntityTooLarge):
		return apiError(codeEntityTooLarge), true
	case errors.Is(err, dataplane.ErrEntityTooSmall):
		return apiError(codeEntityTooSmall), true
	case errors.Is(err, dataplane.ErrTooManyParts):
		return apiError(codeInvalidArgument, msgPartNumber), true
	case errors.Is(err, dataplane.ErrInvalidChecksum):
		return apiError(codeInvalidRequest, "The checksum algorithm or checksum type is not valid here: it does not match the upload's, or S3 does not allow it with this type."), true
	case errors.Is(err, dataplane.ErrPreconditionFailed):
		return apiError(codePreconditionFailed), true
	case errors.Is(err, dataplane.ErrConditionalConflict):
		return apiError(codeConditionalRequestConflict), true
	case errors.Is(err, dataplane.ErrBadDigest):
		return apiError(codeBadDigest, "The Content-MD5 you specified did not match what we received."), true
	case errors.Is(err, dataplane.ErrInvalidRange):
		return apiError(codeInvalidRange), true
	case errors.Is(err, dataplane.ErrNoPlacement), errors.As(err, &quorum):
		return apiError(codeServiceUnavailable), true

	// Control plane.
	case errors.Is(err, meta.ErrBucketExists):
		return apiError(codeBucketAlreadyExists), true
	case errors.Is(err, meta.ErrNoSuchBucket):
		return apiError(codeNoSuchBucket), true
	case errors.Is(err, meta.ErrInvalidBucketName):
		return apiError(codeInvalidBucketName), true
	case errors.Is(err, meta.ErrNotBootstrapped):
		return apiError(codeServiceUnavailable, "The cluster is not bootstrapped yet."), true
	case errors.As(err, &corsErr):
		return corsError(corsErr), true
	case errors.As(err, &lifecycleErr):
		return lifecycleError(lifecycleErr), true

	case unavailable != nil && unavailable(err):
		return apiError(codeServiceUnavailable), true
	// A socket deadline: the client stopped sending or reading.
	case errors.Is(err, os.ErrDeadlineExceeded):
		return apiError(codeRequestTimeout), true
	// Our own per-request deadline, or shutdown: the cluster could not finish
	// in time; the client may retry.
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return apiError(codeServiceUnavailable, "The request could not be completed in time. Please try again."), true
	}
	return apiError(codeInternalError), false
}

// msgPartNumber is AWS's message for a part number outside 1..10000.
const msgPartNumber = "Part number must be an integer between 1 and 10000, inclusive"

// algError names the checksum algorithm a request declared, so that a
// checksum mismatch is reported as AWS reports it ("The CRC32 you
// specified ..."). Handlers wrap data plane and sigv errors with it.
type algError struct {
	alg string
	err error
}

func (e *algError) Error() string { return e.err.Error() + " (" + e.alg + ")" }
func (e *algError) Unwrap() error { return e.err }

// withAlg wraps err with the checksum algorithm of the request, if any.
func withAlg(err error, alg string) error {
	if err == nil || alg == "" {
		return err
	}
	return &algError{alg: alg, err: err}
}

// badChecksumMessage is the BadDigest message for a checksum mismatch.
func badChecksumMessage(err error) string {
	var ae *algError
	if errors.As(err, &ae) {
		return "The " + ae.alg + " you specified did not match the calculated checksum."
	}
	return "The checksum you specified did not match the calculated checksum."
}
