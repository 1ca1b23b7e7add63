package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/quota"
	"github.com/strata-io/strata/s3api/sigv"
)

// TestErrorTable checks every code of the closed table: a distinct wire
// code, a real HTTP status, a message, and the round trip through apiError.
func TestErrorTable(t *testing.T) {
	seen := map[string]errCode{}
	for c := errCode(1); c < numCodes; c++ {
		code, status, msg := c.info()
		if code == "" || msg == "" || http.StatusText(status) == "" {
			t.Errorf("code %d: incomplete entry %q %d %q", c, code, status, msg)
		}
		if code == "InternalError" && c != codeInternalError {
			t.Errorf("code %d has no entry in info (falls back to InternalError)", c)
		}
		if prev, dup := seen[code]; dup {
			t.Errorf("codes %d and %d share the wire code %s", prev, c, code)
		}
		seen[code] = c
		e := apiError(c)
		if e.Code != code || e.Status != status || e.Message != msg || e.code != c {
			t.Errorf("apiError(%d) = %+v", c, e)
		}
		if got := apiError(c, "custom").Message; got != "custom" {
			t.Errorf("apiError(%d, custom).Message = %q", c, got)
		}
	}
	if len(seen) != int(numCodes)-1 {
		t.Errorf("%d codes, %d distinct", numCodes-1, len(seen))
	}
}

// TestToS3Error pins the translation of every sentinel and type this
// package knows, each wrapped as callers wrap them.
func TestToS3Error(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("layer: %w", err) }
	cases := []struct {
		err    error
		code   string
		status int
	}{
		{apiError(codeNoSuchKey), "NoSuchKey", 404},
		{wrap(apiError(codeBucketNotEmpty)), "BucketNotEmpty", 409},
		{fmt.Errorf("%w: %w", sigv.ErrInvalidAccessKeyID, errAccessKeyDisabled), "InvalidAccessKeyId", 403},
		{wrap(sigv.ErrMissingAuth), "AccessDenied", 403},
		{wrap(sigv.ErrInvalidAccessKeyID), "InvalidAccessKeyId", 403},
		{wrap(sigv.ErrSignatureDoesNotMatch), "SignatureDoesNotMatch", 403},
		{wrap(sigv.ErrChunkSignature), "SignatureDoesNotMatch", 403},
		{wrap(sigv.ErrAuthHeaderMalformed), "AuthorizationHeaderMalformed", 400},
		{wrap(sigv.ErrQueryAuthMalformed), "AuthorizationQueryParametersError", 400},
		{wrap(sigv.ErrUnsupportedAlgorithm), "InvalidRequest", 400},
		{wrap(sigv.ErrTimeSkewed), "RequestTimeTooSkewed", 403},
		{wrap(sigv.ErrPresignExpired), "AccessDenied", 403},
		{wrap(sigv.ErrMissingDate), "AccessDenied", 403},
		{wrap(sigv.ErrContentSHA256Mismatch), "XAmzContentSHA256Mismatch", 400},
		{wrap(sigv.ErrBadContentSHA256), "InvalidArgument", 400},
		{wrap(sigv.ErrChunkMalformed), "IncompleteBody", 400},
		{wrap(sigv.ErrIncompleteBody), "IncompleteBody", 400},
		{wrap(sigv.ErrBodyTooLong), "IncompleteBody", 400},
		{wrap(sigv.ErrBadChecksum), "BadDigest", 400},
		{wrap(sigv.ErrMissingDecodedLength), "MissingContentLength", 411},
		{wrap(sigv.ErrUnsupportedChecksum), "InvalidRequest", 400},
		{wrap(io.ErrUnexpectedEOF), "IncompleteBody", 400},
		{wrap(dataplane.ErrIncompleteBody), "IncompleteBody", 400},
		{wrap(dataplane.ErrObjectNotFound), "NoSuchKey", 404},
		{wrap(dataplane.ErrBadDigest), "BadDigest", 400},
		{wrap(dataplane.ErrNoPlacement), "ServiceUnavailable", 503},
		{wrap(&dataplane.QuorumError{Op: "write", Have: 1, Need: 3}), "ServiceUnavailable", 503},
		{wrap(meta.ErrBucketExists), "BucketAlreadyExists", 409},
		{wrap(meta.ErrNoSuchBucket), "NoSuchBucket", 404},
		{wrap(meta.ErrInvalidBucketName), "InvalidBucketName", 400},
		{wrap(meta.ErrNotBootstrapped), "ServiceUnavailable", 503},
		{wrap(errTestNoLeader), "ServiceUnavailable", 503},
		{wrap(os.ErrDeadlineExceeded), "RequestTimeout", 400},
		{wrap(context.DeadlineExceeded), "ServiceUnavailable", 503},
		{wrap(context.Canceled), "ServiceUnavailable", 503},
		{wrap(dataplane.ErrNoSuchVersion), "NoSuchVersion", 404},
		{wrap(dataplane.ErrNoSuchUpload), "NoSuchUpload", 404},
		{wrap(dataplane.ErrInvalidPart), "InvalidPart", 400},
		{wrap(dataplane.ErrInvalidPartOrder), "InvalidPartOrder", 400},
		{wrap(dataplane.ErrEntityTooLarge), "EntityTooLarge", 400},
		{wrap(dataplane.ErrEntityTooSmall), "EntityTooSmall", 400},
		{wrap(dataplane.ErrTooManyParts), "InvalidArgument", 400},
		{wrap(dataplane.ErrBadChecksum), "BadDigest", 400},
		{wrap(dataplane.ErrInvalidChecksum), "InvalidRequest", 400},
		{wrap(dataplane.ErrPreconditionFailed), "PreconditionFailed", 412},
		{wrap(dataplane.ErrConditionalConflict), "ConditionalRequestConflict", 409},
		{wrap(dataplane.ErrInvalidRange), "InvalidRange", 416},
		{wrap(&dataplane.DeleteMarkerError{Info: dataplane.ObjectInfo{VersionID: "v"}}), "NoSuchKey", 404},
		{wrap(&dataplane.DeleteMarkerError{Info: dataplane.ObjectInfo{VersionID: "v"}, ByVersion: true}), "MethodNotAllowed", 405},
		{wrap(&meta.CORSError{Problem: meta.CORSMalformed}), "MalformedXML", 400},
		{wrap(&meta.CORSError{Problem: meta.CORSUnsupportedMethod, Value: "PATCH"}), "InvalidRequest", 400},
		{wrap(&meta.CORSError{Problem: meta.CORSWildcards, Field: "AllowedOrigin", Value: "*.*"}), "InvalidRequest", 400},
		{wrap(&meta.CORSError{Problem: meta.CORSExposeWildcard, Value: "x-*"}), "InvalidRequest", 400},
		{wrap(&meta.CORSError{Problem: meta.CORSIDTooLong}), "InvalidRequest", 400},
		{wrap(&meta.CORSError{Problem: meta.CORSInvalidCharacter}), "InvalidRequest", 400},
		{wrap(&quota.ExceededError{Bucket: "b", Quota: 10, Used: 5, Size: 6}), "QuotaExceeded", 403},
		{fmt.Errorf("dataplane: reading body: %w", &quota.ExceededError{User: true, Bucket: "b", Owner: "alice"}), "QuotaExceeded", 403},
		{errors.New("something unexpected"), "InternalError", 500},
		{wrap(dataplane.ErrCorrupt), "InternalError", 500},
	}
	unavailable := func(err error) bool { return errors.Is(err, errTestNoLeader) }
	for _, c := range cases {
		e, _ := classify(c.err, unavailable)
		if e.Code != c.code || e.Status != c.status {
			t.Errorf("%v: got %s %d, want %s %d", c.err, e.Code, e.Status, c.code, c.status)
		}
	}
	if _, known := classify(errors.New("x"), unavailable); known {
		t.Error("an unknown error is classified as known")
	}
	if e, _ := classify(errTestNoLeader, nil); e.Code != "InternalError" {
		t.Errorf("nil Unavailable: got %s", e.Code)
	}
}

// TestErrorBodyXML checks the error body shape clients parse.
func TestErrorBodyXML(t *testing.T) {
	b, err := marshalXML(errorResponse{Code: "NoSuchKey", Message: "The specified key does not exist.", Key: "a/b", Resource: "/bkt/a/b", RequestID: "0123456789ABCDEF", HostID: "aG9zdA=="})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a/b</Key><Resource>/bkt/a/b</Resource><RequestId>0123456789ABCDEF</RequestId><HostId>aG9zdA==</HostId></Error>`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	var back errorResponse
	if err := xml.Unmarshal(b, &back); err != nil || back.Code != "NoSuchKey" {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

// TestChecksumMessages checks BadDigest names the algorithm the request
// declared, as S3's message does.
func TestChecksumMessages(t *testing.T) {
	e, _ := classify(withAlg(fmt.Errorf("read: %w", dataplane.ErrBadChecksum), "SHA256"), nil)
	if e.Code != "BadDigest" || e.Message != "The SHA256 you specified did not match the calculated checksum." {
		t.Errorf("data plane: %+v", e)
	}
	e, _ = classify(withAlg(sigv.ErrBadChecksum, "CRC32C"), nil)
	if e.Message != "The CRC32C you specified did not match the calculated checksum." {
		t.Errorf("sigv: %+v", e)
	}
	e, _ = classify(dataplane.ErrBadChecksum, nil)
	if e.Code != "BadDigest" || strings.Contains(e.Message, "The  ") {
		t.Errorf("no algorithm: %+v", e)
	}
	if withAlg(nil, "CRC32") != nil || withAlg(io.EOF, "") != io.EOF {
		t.Error("withAlg wraps what it should not")
	}
}

// TestQuotaMessages: the message of QuotaExceeded says which quota and
// the numbers.
func TestQuotaMessages(t *testing.T) {
	e, _ := classify(&quota.ExceededError{Bucket: "photos", Quota: 100, Used: 90, Size: 11}, nil)
	if e.Message != "Bucket quota exceeded: bucket photos uses 90 of its 100 bytes; an upload of 11 bytes does not fit." {
		t.Errorf("bucket: %q", e.Message)
	}
	e, _ = classify(&quota.ExceededError{User: true, Bucket: "photos", Owner: "alice", Quota: 100, Used: 90, Size: 11}, nil)
	if !strings.HasPrefix(e.Message, "User quota exceeded: the owner of bucket photos uses 90 of its 100 bytes") {
		t.Errorf("user: %q", e.Message)
	}
}
