package sigv

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// MaxSkew is how far a request's date may be from the server's clock.
	MaxSkew = 15 * time.Minute
	// MaxPresignExpiry is the largest X-Amz-Expires, 7 days.
	MaxPresignExpiry = 7 * 24 * time.Hour

	// DefaultKeyCacheSize is the number of signing keys a Verifier keeps
	// when NewVerifier is given a size <= 0.
	DefaultKeyCacheSize = 1024
)

// Verifier verifies requests like Verify, and caches derived signing keys
// (one per secret, date, region and service: four HMACs saved per request).
// The cache is bounded: the oldest entry goes first when it is full. A
// Verifier is safe for concurrent use; its zero value caches
// DefaultKeyCacheSize keys.
type Verifier struct {
	mu   sync.Mutex
	keys map[keyID][]byte
	ring []keyID // insertion order, for eviction
	next int     // next slot of ring to overwrite once full
}

// keyID identifies a signing key. The secret is part of it so that a
// changed secret never meets a key derived from the old one.
type keyID struct{ secret, date, region, service string }

// NewVerifier returns a Verifier whose signing key cache holds at most size
// entries (DefaultKeyCacheSize if size <= 0).
func NewVerifier(size int) *Verifier {
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	return &Verifier{keys: make(map[keyID][]byte, size), ring: make([]keyID, 0, size)}
}

// Verify is the package-level Verify with the signing key cache.
func (v *Verifier) Verify(r *Request, creds Credentials, now time.Time) (*Auth, error) {
	return verify(r, creds, now, v)
}

// signingKey returns the signing key for id, derived or from the cache.
// The returned slice is shared and must not be modified.
func (v *Verifier) signingKey(id keyID) []byte {
	if v == nil {
		return deriveSigningKey(id.secret, id.date, id.region, id.service)
	}
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok {
		return k
	}
	k = deriveSigningKey(id.secret, id.date, id.region, id.service)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys == nil {
		v.keys = make(map[keyID][]byte, DefaultKeyCacheSize)
		v.ring = make([]keyID, 0, DefaultKeyCacheSize)
	}
	if _, ok := v.keys[id]; ok {
		return k
	}
	if len(v.ring) < cap(v.ring) {
		v.ring = append(v.ring, id)
	} else {
		delete(v.keys, v.ring[v.next])
		v.ring[v.next] = id
		v.next = (v.next + 1) % len(v.ring)
	}
	v.keys[id] = k
	return k
}

// validService reports whether a credential scope may name service: s3,
// and sts for the STS query API served on the same port.
func validService(service string) bool { return service == "s3" || service == "sts" }

// credential is a parsed Credential / X-Amz-Credential value.
type credential struct{ accessKey, date, region, service string }

// scope is the credential scope, date/region/service/aws4_request.
func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + scopeTerminator
}

// parseCredential parses "AK/yyyymmdd/region/service/aws4_request". The
// last four fields are taken from the right, so the access key is the rest.
func parseCredential(s string, service func(string) bool) (credential, error) {
	parts := strings.Split(s, "/")
	n := len(parts)
	if n < 5 {
		return credential{}, fmt.Errorf("credential %q: want AK/date/region/service/aws4_request", s)
	}
	c := credential{
		accessKey: strings.Join(parts[:n-4], "/"),
		date:      parts[n-4],
		region:    parts[n-3],
		service:   parts[n-2],
	}
	switch {
	case c.accessKey == "":
		return credential{}, fmt.Errorf("credential %q: empty access key", s)
	case parts[n-1] != scopeTerminator:
		return credential{}, fmt.Errorf("credential %q: scope must end in %s", s, scopeTerminator)
	case c.region == "":
		return credential{}, fmt.Errorf("credential %q: empty region", s)
	case !service(c.service):
		return credential{}, fmt.Errorf("credential %q: service %q is not served here", s, c.service)
	}
	if _, err := time.Parse(scopeDateFormat, c.date); err != nil || len(c.date) != 8 {
		return credential{}, fmt.Errorf("credential %q: bad date", s)
	}
	return c, nil
}

// parseSignature decodes a 64-hex-digit signature.
func parseSignature(s string) ([]byte, bool) {
	if len(s) != 64 {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}

// signed is what both ways of signing carry.
type signed struct {
	cred          credential
	amzDate       string // the string-to-sign timestamp
	signedHeaders string
	headerNames   []string
	signature     []byte
	payloadHash   string // the canonical request's last line
	presigned     bool
}

// verify is Verify with an optional key cache (nil: derive every time).
func verify(r *Request, creds Credentials, now time.Time, cache *Verifier) (*Auth, error) {
	params := parseQuery(r.Query)
	authz := r.Header("authorization")
	_, nAlg := lookup(params, "X-Amz-Algorithm")
	_, nSig := lookup(params, "X-Amz-Signature")
	_, nCred := lookup(params, "X-Amz-Credential")
	presign := nAlg+nSig+nCred > 0

	var (
		s   signed
		err error
	)
	_, nV2 := lookup(params, v2AccessKey)
	switch {
	case authz != "" && (presign || nV2 > 0):
		return nil, fmt.Errorf("%w: only one auth mechanism allowed: Authorization header or presigned query", ErrAuthHeaderMalformed)
	case strings.HasPrefix(authz, v2HeaderPrefix):
		v2, err := parseV2Header(r, authz, now)
		if err != nil {
			return nil, err
		}
		return verifyV2(r, v2, params, creds)
	case authz != "":
		s, err = parseHeaderAuth(r, authz, now)
	case presign:
		s, err = parsePresigned(r, params, now)
	case nV2 > 0:
		v2, err := parseV2Query(r, params, now)
		if err != nil {
			return nil, err
		}
		return verifyV2(r, v2, params, creds)
	default:
		return anonymous(r)
	}
	if err != nil {
		return nil, err
	}

	secret, err := creds(s.cred.accessKey)
	if err != nil {
		return nil, err
	}
	key := cache.signingKey(keyID{secret, s.cred.date, s.cred.region, s.cred.service})

	scope := s.cred.scope()
	query := canonicalQuery(params, s.presigned)
	headers := canonicalHeaders(r, s.headerNames)
	uri, strictURI := canonicalURIs(r.Path)
	match := hmac.Equal(s.signature, hmacSHA256(key,
		stringToSign(s.amzDate, scope, canonicalRequest(r.Method, uri, query, headers, s.signedHeaders, s.payloadHash))))
	if !match && strictURI != "" {
		match = hmac.Equal(s.signature, hmacSHA256(key,
			stringToSign(s.amzDate, scope, canonicalRequest(r.Method, strictURI, query, headers, s.signedHeaders, s.payloadHash))))
	}
	if !match {
		return nil, ErrSignatureDoesNotMatch
	}

	a := newAuth(r)
	a.AccessKey = s.cred.accessKey
	a.Region = s.cred.region
	a.Service = s.cred.service
	a.SignatureVersion = 4
	a.Presigned = s.presigned
	a.key = key
	a.seed = hex.EncodeToString(s.signature)
	a.amzDate = s.amzDate
	a.scope = scope
	if s.presigned {
		a.SessionToken, _ = lookup(params, "X-Amz-Security-Token")
	} else {
		a.SessionToken = r.Header("x-amz-security-token")
	}
	if err := a.setPayload(s.payloadHash, true); err != nil {
		return nil, err
	}
	return a, nil
}

// newAuth captures the headers the body checks need, so that Body does not
// depend on r (whose header source may be recycled by then).
func newAuth(r *Request) *Auth {
	a := &Auth{
		contentLength: r.ContentLength,
		decodedLength: r.Header("x-amz-decoded-content-length"),
		trailer:       r.Header("x-amz-trailer"),
	}
	for _, name := range checksumHeaderNames() {
		if v := r.Header(name); v != "" {
			if a.headerSums == nil {
				a.headerSums = make(map[string]string, 1)
			}
			a.headerSums[name] = v
		}
	}
	if a.contentLength < -1 {
		a.contentLength = -1
	}
	return a
}

// anonymous is the Auth of an unsigned request. Its body is still checked
// as far as that needs no key: a hex x-amz-content-sha256, unsigned
// aws-chunked framing, checksums.
func anonymous(r *Request) (*Auth, error) {
	a := newAuth(r)
	if err := a.setPayload(r.Header("x-amz-content-sha256"), false); err != nil {
		return nil, err
	}
	return a, nil
}

// setPayload records the payload mode named by an x-amz-content-sha256
// value (or the presigned equivalent). Signed streaming needs a signature
// to chain from, so an anonymous request cannot use it.
func (a *Auth) setPayload(v string, signedReq bool) error {
	switch {
	case v == "":
		a.mode = payloadPlain
	case v == unsignedPayload:
		a.mode = payloadUnsigned
	case v == streamingUnsignedTrailer:
		a.mode = payloadChunkedUnsignedTrailer
	case v == streamingSigned, v == streamingSignedTrailer:
		if !signedReq {
			return fmt.Errorf("%w: %s on an unsigned request", ErrMissingAuth, v)
		}
		a.mode = payloadChunkedSigned
		if v == streamingSignedTrailer {
			a.mode = payloadChunkedSignedTrailer
		}
	case strings.HasPrefix(v, streamingECDSAPrefix):
		return fmt.Errorf("%w: %s (SigV4a)", ErrUnsupportedAlgorithm, v)
	default:
		sum, ok := parseSignature(v)
		if !ok {
			return fmt.Errorf("%w: %q", ErrBadContentSHA256, v)
		}
		a.mode = payloadSHA256
		a.payloadHash = sum
	}
	return nil
}

// parseHeaderAuth parses and checks (all but the signature) an
// Authorization: AWS4-HMAC-SHA256 header.
func parseHeaderAuth(r *Request, authz string, now time.Time) (signed, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
	if alg != algorithmHMAC {
		return signed{}, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	var cred, signedHeaders, signature string
	var seen [3]bool
	for field := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return signed{}, fmt.Errorf("%w: field %q", ErrAuthHeaderMalformed, field)
		}
		var i int
		switch k {
		case "Credential":
			i, cred = 0, v
		case "SignedHeaders":
			i, signedHeaders = 1, v
		case "Signature":
			i, signature = 2, v
		default:
			return signed{}, fmt.Errorf("%w: unknown field %q", ErrAuthHeaderMalformed, k)
		}
		if seen[i] {
			return signed{}, fmt.Errorf("%w: %s given twice", ErrAuthHeaderMalformed, k)
		}
		seen[i] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return signed{}, fmt.Errorf("%w: want Credential, SignedHeaders and Signature", ErrAuthHeaderMalformed)
	}
	c, err := parseCredential(cred, validService)
	if err != nil {
		return signed{}, fmt.Errorf("%w: %v", ErrAuthHeaderMalformed, err)
	}
	names, host := parseSignedHeaders(signedHeaders)
	if !host {
		return signed{}, fmt.Errorf("%w: SignedHeaders %q must be lower-case names including host", ErrAuthHeaderMalformed, signedHeaders)
	}
	sig, ok := parseSignature(signature)
	if !ok {
		return signed{}, fmt.Errorf("%w: Signature must be 64 hex digits", ErrAuthHeaderMalformed)
	}

	// The date: x-amz-date, else Date (RFC 1123), which then signs in ISO
	// 8601 form.
	var t time.Time
	amzDate := r.Header("x-amz-date")
	if amzDate != "" {
		if t, err = time.Parse(iso8601Basic, amzDate); err != nil {
			return signed{}, fmt.Errorf("%w: x-amz-date %q", ErrMissingDate, amzDate)
		}
	} else {
		d := r.Header("date")
		if d == "" {
			return signed{}, fmt.Errorf("%w: neither x-amz-date nor Date", ErrMissingDate)
		}
		if t, err = http.ParseTime(d); err != nil {
			return signed{}, fmt.Errorf("%w: Date %q", ErrMissingDate, d)
		}
		amzDate = t.UTC().Format(iso8601Basic)
	}
	if amzDate[:8] != c.date {
		return signed{}, fmt.Errorf("%w: credential date %s is not the request date %s", ErrAuthHeaderMalformed, c.date, amzDate[:8])
	}
	if d := now.Sub(t); d > MaxSkew || d < -MaxSkew {
		return signed{}, fmt.Errorf("%w: request time %s, server time %s", ErrTimeSkewed, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}

	payload := r.Header("x-amz-content-sha256")
	if payload == "" {
		if c.service == "s3" || r.PayloadSHA256 == "" {
			return signed{}, fmt.Errorf("%w: missing x-amz-content-sha256", ErrBadContentSHA256)
		}
		payload = r.PayloadSHA256
	}
	return signed{cred: c, amzDate: amzDate, signedHeaders: signedHeaders, headerNames: names, signature: sig, payloadHash: payload}, nil
}

// parsePresigned parses and checks (all but the signature) the X-Amz-*
// query parameters of a presigned URL.
func parsePresigned(r *Request, params []queryParam, now time.Time) (signed, error) {
	get := func(name string) (string, error) {
		v, n := lookup(params, name)
		switch {
		case n == 0 || v == "":
			return "", fmt.Errorf("%w: missing %s", ErrQueryAuthMalformed, name)
		case n > 1:
			return "", fmt.Errorf("%w: %s given %d times", ErrQueryAuthMalformed, name, n)
		}
		return v, nil
	}
	alg, err := get("X-Amz-Algorithm")
	if err != nil {
		return signed{}, err
	}
	if alg != algorithmHMAC {
		return signed{}, fmt.Errorf("%w: X-Amz-Algorithm %q", ErrUnsupportedAlgorithm, alg)
	}
	var v [5]string
	for i, name := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if v[i], err = get(name); err != nil {
			return signed{}, err
		}
	}
	credStr, amzDate, expiresStr, signedHeaders, signature := v[0], v[1], v[2], v[3], v[4]

	c, err := parseCredential(credStr, validService)
	if err != nil {
		return signed{}, fmt.Errorf("%w: %v", ErrQueryAuthMalformed, err)
	}
	t, err := time.Parse(iso8601Basic, amzDate)
	if err != nil {
		return signed{}, fmt.Errorf("%w: X-Amz-Date %q must be ISO 8601 basic (20060102T150405Z)", ErrQueryAuthMalformed, amzDate)
	}
	if amzDate[:8] != c.date {
		return signed{}, fmt.Errorf("%w: credential date %s is not X-Amz-Date %s", ErrQueryAuthMalformed, c.date, amzDate[:8])
	}
	expires, err := strconv.ParseInt(expiresStr, 10, 64)
	if err != nil || expires < 1 || expires > int64(MaxPresignExpiry/time.Second) {
		return signed{}, fmt.Errorf("%w: X-Amz-Expires %q must be 1 to %d seconds", ErrQueryAuthMalformed, expiresStr, int64(MaxPresignExpiry/time.Second))
	}
	names, host := parseSignedHeaders(signedHeaders)
	if !host {
		return signed{}, fmt.Errorf("%w: X-Amz-SignedHeaders %q must be lower-case names including host", ErrQueryAuthMalformed, signedHeaders)
	}
	sig, ok := parseSignature(signature)
	if !ok {
		return signed{}, fmt.Errorf("%w: X-Amz-Signature must be 64 hex digits", ErrQueryAuthMalformed)
	}
	if t.Sub(now) > MaxSkew {
		return signed{}, fmt.Errorf("%w: presigned request dated %s, server time %s", ErrTimeSkewed, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if now.After(t.Add(time.Duration(expires) * time.Second)) {
		return signed{}, fmt.Errorf("%w: at %s", ErrPresignExpired, t.Add(time.Duration(expires)*time.Second).UTC().Format(time.RFC3339))
	}

	// The payload: UNSIGNED-PAYLOAD unless the URL names a hash, or the
	// client signed an x-amz-content-sha256 header.
	payload, _ := lookup(params, "X-Amz-Content-Sha256")
	if payload == "" {
		for _, n := range names {
			if n == "x-amz-content-sha256" {
				payload = r.Header(n)
			}
		}
	}
	if payload == "" {
		payload = unsignedPayload
	}
	return signed{cred: c, amzDate: amzDate, signedHeaders: signedHeaders, headerNames: names, signature: sig, payloadHash: payload, presigned: true}, nil
}
