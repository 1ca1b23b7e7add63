package sigv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// Names and formats of SigV4.
const (
	algorithmHMAC   = "AWS4-HMAC-SHA256"
	iso8601Basic    = "20060102T150405Z"
	scopeDateFormat = "20060102"
	scopeTerminator = "aws4_request"

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// x-amz-content-sha256 values other than a hex digest.
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingECDSAPrefix     = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"

	// String-to-sign algorithm lines of the chunk and trailer signatures.
	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
)

// unreserved reports whether c is in RFC 3986's unreserved set, the only
// bytes SigV4's UriEncode leaves alone.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// uriEncode is SigV4's UriEncode: every byte outside the unreserved set
// becomes %XX (upper-case hex), '/' included.
func uriEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pctByte decodes the escape "%XX" at s[i:], if there is a valid one.
func pctByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	h, ok1 := unhex(s[i+1])
	l, ok2 := unhex(s[i+2])
	return h<<4 | l, ok1 && ok2
}

// canonicalURIs returns the canonical URI candidates for a raw request
// path. S3 signs the path as it is sent, without the second encoding other
// services apply (aws-sdk-go-v2 signs S3 with DisableURIPathEscaping), so
// the first candidate is the raw path itself. Clients that send a byte raw
// which UriEncode escapes (say '$' or '!'), or escape in lower-case hex,
// sign the strictly encoded form, which is the second candidate (returned
// only when it differs): each escape is decoded and re-encoded by UriEncode
// while a literal '/' stays a separator, so an escaped "%2F" stays escaped.
// Both forms name the same key, so accepting either grants nothing more.
func canonicalURIs(raw string) (string, string) {
	if raw == "" {
		return "/", ""
	}
	var b strings.Builder
	b.Grow(len(raw) + 8)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if d, ok := pctByte(raw, i); ok {
			c = d
			i += 2
		} else if c == '/' {
			b.WriteByte('/')
			continue
		}
		if unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	if strict := b.String(); strict != raw {
		return raw, strict
	}
	return raw, ""
}

// queryParam is one query parameter, decoded.
type queryParam struct{ key, value string }

// unescapeQuery decodes a query component as clients and the SDK signers
// read it: %XX escapes and '+' for a space. An invalid escape is kept
// literally (it then signs as "%25..."), so a sloppy URL gets a signature
// mismatch rather than a parse failure.
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%':
			if d, ok := pctByte(s, i); ok {
				b = append(b, d)
				i += 2
			} else {
				b = append(b, c)
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// parseQuery splits a raw query string into decoded parameters, in order;
// a parameter without '=' has an empty value.
func parseQuery(raw string) []queryParam {
	var params []queryParam
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		params = append(params, queryParam{unescapeQuery(k), unescapeQuery(v)})
	}
	return params
}

// lookup returns the value of the parameter named key (case-sensitive, as
// AWS matches X-Amz-*) and how many times it occurs.
func lookup(params []queryParam, key string) (value string, n int) {
	for _, p := range params {
		if p.key == key {
			if n == 0 {
				value = p.value
			}
			n++
		}
	}
	return value, n
}

// canonicalQuery is the CanonicalQueryString: every parameter (but
// X-Amz-Signature of a presigned request), name and value UriEncoded,
// sorted by encoded name then encoded value, "name=value" joined by '&'.
func canonicalQuery(params []queryParam, presigned bool) string {
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryParam{uriEncode(p.key), uriEncode(p.value)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// trimAll is SigV4's Trimall on a header value: leading and trailing spaces
// removed, runs of spaces collapsed to one (what the SDK signers do).
func trimAll(v string) string {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

// canonicalHeaders is the CanonicalHeaders block ("name:value\n" for every
// signed header, in the order of SignedHeaders) for the signed header names.
func canonicalHeaders(r *Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		v := r.Header(name)
		if v == "" && name == "content-length" && r.ContentLength >= 0 {
			// Some front ends keep Content-Length out of the header map.
			v = strconv.FormatInt(r.ContentLength, 10)
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(trimAll(v))
		b.WriteByte('\n')
	}
	return b.String()
}

// parseSignedHeaders splits SignedHeaders ("host;x-amz-date"). Every name
// must be non-empty and lower-case, and host must be signed.
func parseSignedHeaders(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	names := strings.Split(s, ";")
	host := false
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) {
			return nil, false
		}
		host = host || n == "host"
	}
	return names, host
}

// stringToSign builds the SigV4 string to sign of a canonical request.
func stringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return algorithmHMAC + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// canonicalRequest joins the six parts of a SigV4 canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// deriveSigningKey is kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date),
// region), service), "aws4_request").
func deriveSigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, scopeTerminator)
}
