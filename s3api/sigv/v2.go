package sigv

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signature Version 2 ("Signing and authenticating REST requests" in the
// S3 API reference): HMAC-SHA1 over
//
//	Method \n Content-MD5 \n Content-Type \n Date \n
//	CanonicalizedAmzHeaders CanonicalizedResource
//
// sent as "Authorization: AWS AccessKeyId:Signature" or, presigned, as the
// query parameters AWSAccessKeyId, Expires (unix seconds, standing for the
// Date) and Signature.
const (
	v2HeaderPrefix = "AWS " // Authorization: AWS AccessKeyId:Signature
	v2AccessKey    = "AWSAccessKeyId"
	v2Signature    = "Signature"
	v2Expires      = "Expires"
)

// v2SubResource reports whether a query parameter is a sub-resource that
// Signature Version 2 signs as part of the canonical resource. The list is
// AWS's (acl, lifecycle, location, logging, notification, partNumber,
// policy, requestPayment, torrent, uploadId, uploads, versionId,
// versioning, versions, website, the response-* overrides) and the
// sub-resources added since that the SDKs sign (botocore's QSAOfInterest,
// minio-go's and the Java SDK's lists): a client signs every one of them it
// sends, as S3 does.
func v2SubResource(name string) bool {
	switch name {
	case "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "encryption",
		"inventory", "legal-hold", "lifecycle", "location", "logging", "metrics", "notification",
		"object-lock", "partNumber", "policy", "replication", "requestPayment", "restore", "retention",
		"select", "select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads",
		"versionId", "versioning", "versions", "website",
		"response-cache-control", "response-content-disposition", "response-content-encoding",
		"response-content-language", "response-content-type", "response-expires":
		return true
	}
	return false
}

// subResource is one signed sub-resource of the query, its value decoded.
type subResource struct {
	name, value string
	eq          bool // sent as "name=" or "name=value"
}

// v2SubResources returns the sub-resources of a raw query string in
// signing order: sorted by name, values of one name in the order sent.
// Values are percent-decoded ('+' stays '+'), as the SDKs sign them.
func v2SubResources(rawQuery string) []subResource {
	var subs []subResource
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, eq := strings.Cut(part, "=")
		if k = pctDecode(k); v2SubResource(k) {
			subs = append(subs, subResource{k, pctDecode(v), eq})
		}
	}
	slices.SortStableFunc(subs, func(a, b subResource) int { return strings.Compare(a.name, b.name) })
	return subs
}

// pctDecode decodes %XX escapes only ('+' is kept); an invalid escape is
// kept literally.
func pctDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if d, ok := pctByte(s, i); ok {
			b = append(b, d)
			i += 2
		} else {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// canonicalResourceV2 is the CanonicalizedResource: "/bucket" for a
// virtual-hosted-style request, the path as sent, and the sub-resources
// ("?acl&versionId=x"). A sub-resource with an empty value signs as its
// bare name; with emptyEq, one sent as "name=" keeps its '=' (what
// botocore signs for such a URL).
func canonicalResourceV2(vhostBucket, path string, subs []subResource, emptyEq bool) string {
	var b strings.Builder
	if vhostBucket != "" {
		b.WriteByte('/')
		b.WriteString(vhostBucket)
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	for i, s := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(s.name)
		if s.value != "" || (emptyEq && s.eq) {
			b.WriteByte('=')
			b.WriteString(s.value)
		}
	}
	return b.String()
}

// canonicalAmzHeadersV2 is the CanonicalizedAmzHeaders block: every
// x-amz-* header but drop, lower-case, sorted, "name:value\n", repeated
// headers joined by ','. extra holds x-amz-* query parameters of a
// presigned URL, which stand for headers the request does not carry
// (botocore moves the signed headers of a presigned URL into its query).
func canonicalAmzHeadersV2(r *Request, extra map[string]string, drop string) string {
	values := make(map[string]string, len(extra))
	for k, v := range extra {
		values[k] = v
	}
	if r.HeaderNames != nil {
		for _, name := range r.HeaderNames() {
			name = strings.ToLower(name)
			if strings.HasPrefix(name, "x-amz-") {
				values[name] = r.Header(name)
			}
		}
	}
	delete(values, drop)
	if len(values) == 0 {
		return ""
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(values[name]))
		b.WriteByte('\n')
	}
	return b.String()
}

// stringToSignV2 joins the parts of a Signature Version 2 string to sign.
func stringToSignV2(method, contentMD5, contentType, date, amzHeaders, resource string) string {
	return method + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n" + amzHeaders + resource
}

func hmacSHA1(key, data string) []byte {
	h := hmac.New(sha1.New, []byte(key))
	h.Write([]byte(data))
	return h.Sum(nil)
}

// parseSignatureV2 decodes a base64 HMAC-SHA1 signature. In a query a raw
// '+' reads as a space; it is put back. A malformed one gives nil, false.
func parseSignatureV2(s string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), " ", "+"))
	if err != nil || len(b) != sha1.Size {
		return nil, false
	}
	return b, true
}

// parseDateV2 parses a Date or x-amz-date header: an HTTP date (RFC 1123
// with GMT or a numeric zone, RFC 850, asctime), or ISO 8601 basic.
func parseDateV2(s string) (time.Time, bool) {
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, iso8601Basic} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// v2Signed is a parsed Signature Version 2 request, all checked but the
// signature.
type v2Signed struct {
	accessKey string
	signature []byte
	md5, ctyp string
	variants  []v2Variant // the forms to try, AWS's first
	presigned bool
}

// v2Variant is a Date line and the CanonicalizedAmzHeaders that go with it.
type v2Variant struct{ date, amz string }

// parseV2Header parses "Authorization: AWS AccessKeyId:Signature" and
// checks the request date.
func parseV2Header(r *Request, authz string, now time.Time) (v2Signed, error) {
	cred := strings.TrimSpace(authz[len(v2HeaderPrefix):])
	i := strings.LastIndexByte(cred, ':')
	if i <= 0 {
		return v2Signed{}, fmt.Errorf("%w: want AWS AccessKeyId:Signature", ErrAuthHeaderMalformed)
	}
	// A signature that is not a base64 HMAC-SHA1 cannot match: S3
	// compares V2 signatures as strings and answers SignatureDoesNotMatch,
	// so it is kept (nil) and fails the comparison like any wrong one.
	sig, _ := parseSignatureV2(cred[i+1:])
	s := v2Signed{accessKey: cred[:i], signature: sig, md5: r.Header("content-md5"), ctyp: r.Header("content-type")}

	// With x-amz-date, the Date line is empty and x-amz-date is signed
	// among the x-amz-* headers (AWS's rule). Two other forms are accepted,
	// both covering the timestamp: the Date header signed as well (clients
	// that send both), and the x-amz-date value in the Date line, not
	// repeated among the headers (the DELETE example of AWS's
	// documentation).
	date, amzDate := r.Header("date"), r.Header("x-amz-date")
	amz := canonicalAmzHeadersV2(r, nil, "")
	stamp := date
	if amzDate != "" {
		stamp = amzDate
		s.variants = []v2Variant{{"", amz}}
		if date != "" {
			s.variants = append(s.variants, v2Variant{date, amz})
		}
		s.variants = append(s.variants, v2Variant{amzDate, canonicalAmzHeadersV2(r, nil, "x-amz-date")})
	} else {
		s.variants = []v2Variant{{date, amz}}
	}
	if stamp == "" {
		return v2Signed{}, fmt.Errorf("%w: neither x-amz-date nor Date", ErrMissingDate)
	}
	t, ok := parseDateV2(stamp)
	if !ok {
		return v2Signed{}, fmt.Errorf("%w: %q", ErrMissingDate, stamp)
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return v2Signed{}, fmt.Errorf("%w: request time %s, server time %s", ErrTimeSkewed, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return s, nil
}

// parseV2Query parses the AWSAccessKeyId, Expires and Signature query
// parameters of a presigned URL and checks the expiry.
func parseV2Query(r *Request, params []queryParam, now time.Time) (v2Signed, error) {
	var v [3]string
	for i, name := range []string{v2AccessKey, v2Signature, v2Expires} {
		val, n := lookup(params, name)
		switch {
		case n == 0 || val == "":
			return v2Signed{}, fmt.Errorf("%w: query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters", ErrQueryAuthMalformed)
		case n > 1:
			return v2Signed{}, fmt.Errorf("%w: %s given %d times", ErrQueryAuthMalformed, name, n)
		}
		v[i] = val
	}
	sig, _ := parseSignatureV2(v[1]) // malformed: nil, never matches (see parseV2Header)
	expires, err := strconv.ParseInt(v[2], 10, 64)
	if err != nil || expires < 0 {
		return v2Signed{}, fmt.Errorf("%w: Expires %q must be unix seconds", ErrQueryAuthMalformed, v[2])
	}
	if now.Unix() > expires {
		return v2Signed{}, fmt.Errorf("%w: at %s", ErrPresignExpired, time.Unix(expires, 0).UTC().Format(time.RFC3339))
	}

	// Content-MD5, Content-Type and x-amz-* may travel in the query of a
	// presigned URL (botocore puts them there); a header of the same name
	// is what the request carries, so it is what must have been signed.
	s := v2Signed{accessKey: v[0], signature: sig, presigned: true}
	s.md5, s.ctyp = r.Header("content-md5"), r.Header("content-type")
	extra := map[string]string{}
	for _, p := range params {
		name := strings.ToLower(p.key)
		switch {
		case name == "content-md5" && s.md5 == "":
			s.md5 = p.value
		case name == "content-type" && s.ctyp == "":
			s.ctyp = p.value
		case strings.HasPrefix(name, "x-amz-"):
			if _, dup := extra[name]; dup {
				extra[name] += "," + p.value
			} else {
				extra[name] = p.value
			}
		}
	}
	s.variants = []v2Variant{{v[2], canonicalAmzHeadersV2(r, extra, "")}}
	return s, nil
}

// verifyV2 checks a parsed Signature Version 2 request and returns its
// Auth. The payload is unsigned; Content-MD5 is the data plane's to check.
func verifyV2(r *Request, s v2Signed, params []queryParam, creds Credentials) (*Auth, error) {
	payload := r.Header("x-amz-content-sha256")
	if payload == streamingSigned || payload == streamingSignedTrailer {
		return nil, fmt.Errorf("%w: %s needs Signature Version 4", ErrUnsupportedAlgorithm, payload)
	}
	secret, err := creds(s.accessKey)
	if err != nil {
		return nil, err
	}
	subs := v2SubResources(r.Query)
	emptyEq := []bool{false}
	for _, sub := range subs {
		if sub.eq && sub.value == "" {
			emptyEq = append(emptyEq, true)
			break
		}
	}
	paths := []string{r.Path}
	if _, strict := canonicalURIs(r.Path); strict != "" {
		paths = append(paths, strict)
	}
	if r.VirtualHostBucket == "" && len(r.Path) > 1 && strings.Count(r.Path, "/") == 1 {
		// A path-style bucket request ("/bucket"): botocore signs the
		// bucket as "/bucket/", as a virtual-hosted request would.
		paths = append(paths, r.Path+"/")
	}
	match := false
	for _, path := range paths {
		for _, eq := range emptyEq {
			resource := canonicalResourceV2(r.VirtualHostBucket, path, subs, eq)
			for _, v := range s.variants {
				sts := stringToSignV2(r.Method, s.md5, s.ctyp, v.date, v.amz, resource)
				match = match || hmac.Equal(s.signature, hmacSHA1(secret, sts))
			}
		}
	}
	if !match {
		return nil, ErrSignatureDoesNotMatch
	}

	a := newAuth(r)
	a.AccessKey = s.accessKey
	a.Service = "s3"
	a.SignatureVersion = 2
	a.Presigned = s.presigned
	a.SessionToken = r.Header("x-amz-security-token")
	if a.SessionToken == "" && s.presigned {
		for _, p := range params {
			if strings.EqualFold(p.key, "x-amz-security-token") {
				a.SessionToken = p.value
			}
		}
	}
	if err := a.setPayload(payload, false); err != nil {
		return nil, err
	}
	return a, nil
}
