package s3api

import (
	"net"
	"net/url"
	"strings"
)

// target is where a request points: the bucket and key decoded from the
// host and path, plus the raw path and query exactly as sent (SigV4 signs
// those).
type target struct {
	rawPath  string // as sent, percent-encoded, never cleaned
	rawQuery string // as sent, without '?'
	bucket   string // "" for the service (ListBuckets)
	key      string // "" for a bucket operation
	vhost    bool   // the bucket came from the Host header
}

// splitRequestURI splits a request target as sent into its raw path and raw
// query. An absolute-form target (http://host/path) is reduced to its path.
func splitRequestURI(uri string) (rawPath, rawQuery string) {
	if i := strings.Index(uri, "://"); i >= 0 && !strings.HasPrefix(uri, "/") {
		rest := uri[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			uri = rest[j:]
		} else {
			uri = "/"
		}
	}
	rawPath, rawQuery, _ = strings.Cut(uri, "?")
	if rawPath == "" {
		rawPath = "/"
	}
	return rawPath, rawQuery
}

// vhostBucket returns the bucket named by host when host is
// <bucket>.<domain> for one of domains (lower-case), else "".
func vhostBucket(host string, domains []string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		if len(host) > len(d)+1 && strings.HasSuffix(host, d) && host[len(host)-len(d)-1] == '.' {
			return host[:len(host)-len(d)-1]
		}
	}
	return ""
}

// parseTarget decodes bucket and key from host and the raw request URI.
// The key is the rest of the path after the bucket, percent-decoded once
// and otherwise kept exactly ('+' stays '+', "//" stays "//", "%2F"
// becomes '/'). A malformed escape is InvalidURI.
func parseTarget(host, uri string, domains []string) (target, error) {
	t := target{}
	t.rawPath, t.rawQuery = splitRequestURI(uri)
	if !strings.HasPrefix(t.rawPath, "/") {
		return t, apiError(codeInvalidURI)
	}
	if b := vhostBucket(host, domains); b != "" {
		t.vhost = true
		t.bucket = b
		key, err := url.PathUnescape(t.rawPath[1:])
		if err != nil {
			return t, apiError(codeInvalidURI)
		}
		t.key = key
		return t, nil
	}
	rawBucket, rawKey, _ := strings.Cut(t.rawPath[1:], "/")
	bucket, err := url.PathUnescape(rawBucket)
	if err != nil {
		return t, apiError(codeInvalidURI)
	}
	key, err := url.PathUnescape(rawKey)
	if err != nil {
		return t, apiError(codeInvalidURI)
	}
	t.bucket, t.key = bucket, key
	return t, nil
}

// parseQuery decodes a raw query string. Unlike url.ParseQuery it accepts
// ';' in values and keeps the presence of valueless keys ("?location"). A
// malformed escape is InvalidURI.
func parseQuery(raw string) (url.Values, error) {
	q := url.Values{}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return nil, apiError(codeInvalidURI)
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return nil, apiError(codeInvalidURI)
		}
		q[k] = append(q[k], v)
	}
	return q, nil
}

// op is one S3 operation the router can select.
type op int

// Operations.
const (
	opNotImplemented op = iota
	opMethodNotAllowed
	opListBuckets
	opCreateBucket
	opHeadBucket
	opDeleteBucket
	opGetBucketLocation
	opGetBucketVersioning
	opPutBucketVersioning
	opListObjectsV1
	opListObjectsV2
	opListObjectVersions
	opListMultipartUploads
	opDeleteObjects
	opPostObject
	opPutObject
	opCopyObject
	opGetObject
	opHeadObject
	opDeleteObject
	opGetObjectAttributes
	opGetObjectTagging
	opPutObjectTagging
	opDeleteObjectTagging
	opCreateMultipartUpload
	opUploadPart
	opUploadPartCopy
	opCompleteMultipartUpload
	opAbortMultipartUpload
	opListParts
	opGetBucketPolicy
	opPutBucketPolicy
	opDeleteBucketPolicy
	opGetBucketPolicyStatus
	opGetBucketACL
	opPutBucketACL
	opGetObjectACL
	opPutObjectACL
	opGetBucketCORS
	opPutBucketCORS
	opDeleteBucketCORS
	opGetBucketLifecycle
	opPutBucketLifecycle
	opDeleteBucketLifecycle
	opPreflight
	numOps // not an operation: one past the last
)

// String names the operation as AWS does (for logs and policies).
func (o op) String() string {
	switch o {
	case opMethodNotAllowed:
		return "MethodNotAllowed"
	case opListBuckets:
		return "ListBuckets"
	case opCreateBucket:
		return "CreateBucket"
	case opHeadBucket:
		return "HeadBucket"
	case opDeleteBucket:
		return "DeleteBucket"
	case opGetBucketLocation:
		return "GetBucketLocation"
	case opGetBucketVersioning:
		return "GetBucketVersioning"
	case opPutBucketVersioning:
		return "PutBucketVersioning"
	case opListObjectsV1:
		return "ListObjects"
	case opListObjectsV2:
		return "ListObjectsV2"
	case opListObjectVersions:
		return "ListObjectVersions"
	case opListMultipartUploads:
		return "ListMultipartUploads"
	case opDeleteObjects:
		return "DeleteObjects"
	case opPostObject:
		return "PostObject"
	case opPutObject:
		return "PutObject"
	case opCopyObject:
		return "CopyObject"
	case opGetObject:
		return "GetObject"
	case opHeadObject:
		return "HeadObject"
	case opDeleteObject:
		return "DeleteObject"
	case opGetObjectAttributes:
		return "GetObjectAttributes"
	case opGetObjectTagging:
		return "GetObjectTagging"
	case opPutObjectTagging:
		return "PutObjectTagging"
	case opDeleteObjectTagging:
		return "DeleteObjectTagging"
	case opCreateMultipartUpload:
		return "CreateMultipartUpload"
	case opUploadPart:
		return "UploadPart"
	case opUploadPartCopy:
		return "UploadPartCopy"
	case opCompleteMultipartUpload:
		return "CompleteMultipartUpload"
	case opAbortMultipartUpload:
		return "AbortMultipartUpload"
	case opListParts:
		return "ListParts"
	case opGetBucketPolicy:
		return "GetBucketPolicy"
	case opPutBucketPolicy:
		return "PutBucketPolicy"
	case opDeleteBucketPolicy:
		return "DeleteBucketPolicy"
	case opGetBucketPolicyStatus:
		return "GetBucketPolicyStatus"
	case opGetBucketACL:
		return "GetBucketAcl"
	case opPutBucketACL:
		return "PutBucketAcl"
	case opGetObjectACL:
		return "GetObjectAcl"
	case opPutObjectACL:
		return "PutObjectAcl"
	case opGetBucketCORS:
		return "GetBucketCors"
	case opPutBucketCORS:
		return "PutBucketCors"
	case opDeleteBucketCORS:
		return "DeleteBucketCors"
	case opGetBucketLifecycle:
		return "GetBucketLifecycleConfiguration"
	case opPutBucketLifecycle:
		return "PutBucketLifecycleConfiguration"
	case opDeleteBucketLifecycle:
		return "DeleteBucketLifecycle"
	case opPreflight:
		return "PreflightRequest"
	}
	return "NotImplemented"
}

// transfersData reports operations that move object data: they get
// Config.TransferTimeout instead of RequestTimeout.
func (o op) transfersData() bool {
	switch o {
	case opPutObject, opGetObject, opCopyObject, opUploadPart, opUploadPartCopy,
		opCompleteMultipartUpload, opPostObject:
		return true
	}
	return false
}

// isBucketSubresource reports bucket query parameters that select an
// operation other than the plain one. Those not served answer
// NotImplemented rather than being mistaken for a listing or a
// CreateBucket.
func isBucketSubresource(name string) bool {
	switch name {
	case "accelerate", "acl", "analytics", "cors", "delete", "encryption",
		"intelligent-tiering", "inventory", "lifecycle", "location", "logging",
		"metadataConfiguration", "metadataTable", "metrics", "notification",
		"object-lock", "ownershipControls", "policy", "policyStatus",
		"publicAccessBlock", "replication", "requestPayment", "session",
		"tagging", "uploads", "versioning", "versions", "website":
		return true
	}
	return false
}

// isObjectSubresource reports object query parameters that select an
// operation other than the plain one. partNumber and versionId are not
// among them: they qualify GET, HEAD and UploadPart.
func isObjectSubresource(name string) bool {
	switch name {
	case "acl", "attributes", "legal-hold", "restore", "retention",
		"select", "tagging", "torrent", "uploadId", "uploads":
		return true
	}
	return false
}

// subresource returns the subresource q selects: "" for none, the name when
// there is exactly one, and "*" for several.
func subresource(q url.Values, is func(string) bool) string {
	sub := ""
	for k := range q {
		if is(k) {
			if sub != "" {
				return "*"
			}
			sub = k
		}
	}
	return sub
}

// isFormUpload reports a browser POST upload: a multipart/form-data body.
func isFormUpload(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "multipart/form-data")
}

// selectOp picks the operation for method on t with query q and request
// headers h (lower-case names).
func selectOp(method string, t target, q url.Values, h func(string) string) op {
	if t.bucket == "" {
		if method == "GET" {
			return opListBuckets
		}
		return opNotImplemented
	}
	if t.key == "" {
		return selectBucketOp(method, q, h)
	}
	sub := subresource(q, isObjectSubresource)
	_, hasPart := q["partNumber"]
	switch method {
	case "GET":
		switch sub {
		case "":
			return opGetObject
		case "attributes":
			return opGetObjectAttributes
		case "tagging":
			return opGetObjectTagging
		case "uploadId":
			return opListParts
		case "acl":
			return opGetObjectACL
		}
	case "HEAD":
		if sub == "" {
			return opHeadObject
		}
	case "PUT":
		switch {
		case sub == "uploadId" && hasPart:
			if h("x-amz-copy-source") != "" {
				return opUploadPartCopy
			}
			return opUploadPart
		case sub == "tagging":
			return opPutObjectTagging
		case sub == "acl":
			return opPutObjectACL
		case sub == "" && h("x-amz-copy-source") != "":
			return opCopyObject
		case sub == "":
			return opPutObject
		}
	case "DELETE":
		switch sub {
		case "":
			return opDeleteObject
		case "tagging":
			return opDeleteObjectTagging
		case "uploadId":
			return opAbortMultipartUpload
		}
	case "POST":
		switch sub {
		case "uploads":
			return opCreateMultipartUpload
		case "uploadId":
			return opCompleteMultipartUpload
		}
	case "OPTIONS":
		// A CORS preflight, whatever the query: it asks about the
		// request that will follow.
		return opPreflight
	default:
		return opMethodNotAllowed
	}
	return opNotImplemented
}

// selectBucketOp is selectOp for a request on a bucket (no key).
func selectBucketOp(method string, q url.Values, h func(string) string) op {
	sub := subresource(q, isBucketSubresource)
	switch method {
	case "GET":
		switch sub {
		case "":
			if q.Get("list-type") == "2" {
				return opListObjectsV2
			}
			return opListObjectsV1
		case "location":
			return opGetBucketLocation
		case "versioning":
			return opGetBucketVersioning
		case "versions":
			return opListObjectVersions
		case "uploads":
			return opListMultipartUploads
		case "policy":
			return opGetBucketPolicy
		case "policyStatus":
			return opGetBucketPolicyStatus
		case "acl":
			return opGetBucketACL
		case "cors":
			return opGetBucketCORS
		case "lifecycle":
			return opGetBucketLifecycle
		}
	case "HEAD":
		if sub == "" {
			return opHeadBucket
		}
	case "PUT":
		switch sub {
		case "":
			return opCreateBucket
		case "versioning":
			return opPutBucketVersioning
		case "policy":
			return opPutBucketPolicy
		case "acl":
			return opPutBucketACL
		case "cors":
			return opPutBucketCORS
		case "lifecycle":
			return opPutBucketLifecycle
		}
	case "DELETE":
		switch sub {
		case "":
			return opDeleteBucket
		case "policy":
			return opDeleteBucketPolicy
		case "cors":
			return opDeleteBucketCORS
		case "lifecycle":
			return opDeleteBucketLifecycle
		}
	case "POST":
		switch {
		case sub == "delete":
			return opDeleteObjects
		case sub == "" && isFormUpload(h("content-type")):
			return opPostObject
		}
	case "OPTIONS":
		return opPreflight
	default:
		return opMethodNotAllowed
	}
	return opNotImplemented
}
