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
	opListObjectsV1
	opListObjectsV2
	opPutObject
	opGetObject
	opHeadObject
	opDeleteObject
)

// String names the operation as AWS does (for logs).
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
	case opListObjectsV1:
		return "ListObjects"
	case opListObjectsV2:
		return "ListObjectsV2"
	case opPutObject:
		return "PutObject"
	case opGetObject:
		return "GetObject"
	case opHeadObject:
		return "HeadObject"
	case opDeleteObject:
		return "DeleteObject"
	}
	return "NotImplemented"
}

// isBucketSubresource reports bucket query parameters that select an
// operation other than the plain one. Only "location" is served so far; the
// rest answer NotImplemented rather than being mistaken for a listing or a
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
// operation other than the plain one; none is served yet.
func isObjectSubresource(name string) bool {
	switch name {
	case "acl", "attributes", "legal-hold", "partNumber", "restore", "retention",
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
			}
		case "HEAD":
			if sub == "" {
				return opHeadBucket
			}
		case "PUT":
			if sub == "" {
				return opCreateBucket
			}
		case "DELETE":
			if sub == "" {
				return opDeleteBucket
			}
		case "POST", "OPTIONS":
		default:
			return opMethodNotAllowed
		}
		return opNotImplemented
	}
	if subresource(q, isObjectSubresource) != "" {
		return opNotImplemented
	}
	// Versioning is not served yet: only the "null" version (the only one
	// an unversioned bucket has) is understood.
	if v, ok := q["versionId"]; ok && (len(v) != 1 || v[0] != "null") {
		return opNotImplemented
	}
	switch method {
	case "GET":
		return opGetObject
	case "HEAD":
		return opHeadObject
	case "PUT":
		if h("x-amz-copy-source") != "" {
			return opNotImplemented // CopyObject
		}
		return opPutObject
	case "DELETE":
		return opDeleteObject
	case "POST", "OPTIONS":
		return opNotImplemented
	}
	return opMethodNotAllowed
}
