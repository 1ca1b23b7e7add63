package iam

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// STS: self-contained temporary credentials. Minting writes nothing to
// Raft: everything a node needs to check a session is in its token.
//
// A token is base64url (unpadded) of
//
//	[version 1][nonce 12][AES-256-GCM ciphertext + tag]
//
// sealed with a key derived from the STS key, the version and the access
// key as additional data. The plaintext holds the claims and the access
// key. The access key is "ASIA" + 16 base32 characters drawn at random;
// the 40-character secret key is an HMAC of the access key and the nonce
// under another derived key, so it is recomputed on verification and
// never stored.

var (
	// ErrInvalidToken is returned for a token that is forged, garbled,
	// sealed with another key or presented with another access key.
	ErrInvalidToken = errors.New("iam: invalid session token")
	// ErrExpiredToken is returned for an authentic token at or after its
	// expiry.
	ErrExpiredToken = errors.New("iam: session token expired")
)

// SessionClaims are what a session token carries.
type SessionClaims struct {
	Parent  string    // access key of the user who called AssumeRole (a user, not a service account)
	Expires time.Time // exact expiry: the token is expired from this instant on
	Policy  []byte    // optional session policy document (IdentityPolicy), nil = none
}

const (
	tokenVersion = 1
	// AccessKeyPrefix starts every temporary access key, as in AWS.
	AccessKeyPrefix = "ASIA"
	// MinSTSKeySize is the least key material MintSession accepts.
	MinSTSKeySize = 16
	accessKeyRand = 10 // bytes: 16 base32 characters
	secretKeyLen  = 40
	nonceSize     = 12
	maxParentLen  = 1 << 10
)

var accessKeyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// stsKeys are the two keys derived from the STS key: one seals tokens,
// one derives secret keys. Using distinct keys keeps the two uses apart.
type stsKeys struct {
	aead   cipher.AEAD
	secret []byte
}

func deriveSTSKeys(key []byte) (stsKeys, error) {
	if len(key) < MinSTSKeySize {
		return stsKeys{}, fmt.Errorf("iam: STS key must be at least %d bytes, got %d", MinSTSKeySize, len(key))
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("strata sts token sealing v1"))
	if err != nil {
		return stsKeys{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return stsKeys{}, err
	}
	return stsKeys{aead: aead, secret: derive("strata sts secret key v1")}, nil
}

func (k stsKeys) secretKey(accessKey string, nonce []byte) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(accessKey))
	m.Write(nonce)
	sum := m.Sum(nil)
	// 30 bytes are 40 base64 characters, the length of AWS secret keys.
	return base64.StdEncoding.EncodeToString(sum[:secretKeyLen*3/4])
}

// MintSession returns a new access key ("ASIA" + 16 characters), its
// secret key (40 characters) and a session token (URL-safe, authenticated
// and encrypted with key so that it can be neither forged nor read). c.Policy,
// when set, is stored compacted and compressed; it should have been
// validated with ParsePolicy.
func MintSession(key []byte, c SessionClaims) (accessKey, secretKey, token string, err error) {
	k, err := deriveSTSKeys(key)
	if err != nil {
		return "", "", "", err
	}
	switch {
	case c.Parent == "" || len(c.Parent) > maxParentLen:
		return "", "", "", errors.New("iam: session needs a parent access key of at most 1 KiB")
	case c.Expires.IsZero() || !time.Unix(0, c.Expires.UnixNano()).Equal(c.Expires):
		return "", "", "", errors.New("iam: session needs an expiry between 1678 and 2262")
	case len(c.Policy) > MaxPolicySize:
		return "", "", "", fmt.Errorf("iam: session policy larger than %d bytes", MaxPolicySize)
	}
	var random [accessKeyRand + nonceSize]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", "", "", fmt.Errorf("iam: mint session: %w", err)
	}
	accessKey = AccessKeyPrefix + accessKeyEncoding.EncodeToString(random[:accessKeyRand])
	nonce := random[accessKeyRand:]

	plain, err := encodeClaims(accessKey, c)
	if err != nil {
		return "", "", "", err
	}
	sealed := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+k.aead.Overhead())
	sealed[0] = tokenVersion
	copy(sealed[1:], nonce)
	sealed = k.aead.Seal(sealed, nonce, plain, tokenAD(accessKey))
	return accessKey, k.secretKey(accessKey, nonce), base64.RawURLEncoding.EncodeToString(sealed), nil
}

// VerifySession checks token against accessKey with key at now:
// ErrExpiredToken when now is at or after the expiry, ErrInvalidToken for
// anything forged, garbled or mismatched. It returns the claims and the
// session's secret key.
func VerifySession(key []byte, accessKey, token string, now time.Time) (SessionClaims, string, error) {
	k, err := deriveSTSKeys(key)
	if err != nil {
		return SessionClaims{}, "", err
	}
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(sealed) < 1+nonceSize+k.aead.Overhead() || sealed[0] != tokenVersion {
		return SessionClaims{}, "", ErrInvalidToken
	}
	nonce := sealed[1 : 1+nonceSize]
	// The access key is additional data: a token presented with another
	// access key fails authentication here.
	plain, err := k.aead.Open(nil, nonce, sealed[1+nonceSize:], tokenAD(accessKey))
	if err != nil {
		return SessionClaims{}, "", ErrInvalidToken
	}
	ak, c, err := decodeClaims(plain)
	if err != nil || subtle.ConstantTimeCompare([]byte(ak), []byte(accessKey)) != 1 {
		return SessionClaims{}, "", ErrInvalidToken
	}
	if !now.Before(c.Expires) {
		return SessionClaims{}, "", ErrExpiredToken
	}
	return c, k.secretKey(accessKey, nonce), nil
}

func tokenAD(accessKey string) []byte {
	return append([]byte{tokenVersion}, accessKey...)
}

// Claims wire format: uvarint-length-prefixed access key and parent,
// 8-byte big-endian expiry in Unix nanoseconds, then a policy flag byte
// and the compacted policy, as is or DEFLATE-compressed.
const (
	policyNone    = 0
	policyDeflate = 1
	policyRaw     = 2
	compressAbove = 1 << 10
)

func encodeClaims(accessKey string, c SessionClaims) ([]byte, error) {
	var b bytes.Buffer
	putString := func(s string) {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	putString(accessKey)
	putString(c.Parent)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(c.Expires.UnixNano())))
	if c.Policy == nil {
		b.WriteByte(policyNone)
		return b.Bytes(), nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, c.Policy); err != nil {
		return nil, fmt.Errorf("iam: session policy is not JSON: %w", err)
	}
	// Small policies, the usual case, are stored as they are: compressing
	// them saves little and costs a large compressor per mint.
	if compact.Len() <= compressAbove {
		b.WriteByte(policyRaw)
		b.Write(compact.Bytes())
		return b.Bytes(), nil
	}
	b.WriteByte(policyDeflate)
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(compact.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeClaims(p []byte) (string, SessionClaims, error) {
	bad := errors.New("iam: bad claims")
	getString := func() (string, bool) {
		n, w := binary.Uvarint(p)
		if w <= 0 || n > uint64(len(p)-w) || n > maxParentLen {
			return "", false
		}
		s := string(p[w : w+int(n)])
		p = p[w+int(n):]
		return s, true
	}
	ak, ok1 := getString()
	parent, ok2 := getString()
	if !ok1 || !ok2 || len(p) < 9 {
		return "", SessionClaims{}, bad
	}
	c := SessionClaims{Parent: parent, Expires: time.Unix(0, int64(binary.BigEndian.Uint64(p))).UTC()}
	flag, rest := p[8], p[9:]
	switch {
	case flag == policyNone && len(rest) == 0:
	case flag == policyRaw && len(rest) <= MaxPolicySize:
		c.Policy = bytes.Clone(rest)
	case flag == policyDeflate:
		r := flate.NewReader(bytes.NewReader(rest))
		policy, err := io.ReadAll(io.LimitReader(r, MaxPolicySize+1))
		if err != nil || len(policy) > MaxPolicySize {
			return "", SessionClaims{}, bad
		}
		c.Policy = policy
	default:
		return "", SessionClaims{}, bad
	}
	return ak, c, nil
}
