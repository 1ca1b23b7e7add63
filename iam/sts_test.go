package iam

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	stsKey      = bytes.Repeat([]byte{0x5a}, 32)
	accessKeyRE = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	tokenRE     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

func mint(t *testing.T, c SessionClaims) (string, string, string) {
	t.Helper()
	ak, sk, tok, err := MintSession(stsKey, c)
	if err != nil {
		t.Fatal(err)
	}
	return ak, sk, tok
}

func TestSessionRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	policy := []byte("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [" + okStmt + "]\n}")
	for _, c := range []SessionClaims{
		{Parent: "alice", Expires: exp},
		{Parent: "bob-the-builder", Expires: exp.In(time.FixedZone("x", 3600)), Policy: policy},
	} {
		ak, sk, tok := mint(t, c)
		if !accessKeyRE.MatchString(ak) {
			t.Fatalf("access key %q", ak)
		}
		if len(sk) != 40 {
			t.Fatalf("secret key %q has %d characters", sk, len(sk))
		}
		if !tokenRE.MatchString(tok) {
			t.Fatalf("token %q is not URL-safe", tok)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		if bytes.Contains(raw, []byte(c.Parent)) || bytes.Contains(raw, []byte("2012-10-17")) || strings.Contains(tok, sk) {
			t.Fatal("token readable")
		}
		got, gotSK, err := VerifySession(stsKey, ak, tok, exp.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if gotSK != sk {
			t.Fatal("secret key not reproduced")
		}
		if got.Parent != c.Parent || !got.Expires.Equal(c.Expires) {
			t.Fatalf("claims %+v, want %+v", got, c)
		}
		if c.Policy == nil {
			if got.Policy != nil {
				t.Fatalf("policy %q appeared", got.Policy)
			}
		} else {
			if _, err := ParsePolicy(got.Policy, IdentityPolicy, ""); err != nil {
				t.Fatalf("policy after round trip: %v", err)
			}
			if !bytes.Equal(got.Policy, []byte(`{"Version":"2012-10-17","Statement":[`+okStmt+`]}`)) {
				t.Fatalf("policy %s", got.Policy)
			}
		}
	}
}

func TestSessionsAreUnique(t *testing.T) {
	c := SessionClaims{Parent: "alice", Expires: time.Now().Add(time.Hour)}
	ak1, sk1, tok1 := mint(t, c)
	ak2, sk2, tok2 := mint(t, c)
	if ak1 == ak2 || sk1 == sk2 || tok1 == tok2 {
		t.Fatal("two sessions share credentials")
	}
}

func TestSessionExpiryBoundary(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ak, _, tok := mint(t, SessionClaims{Parent: "alice", Expires: exp})
	if _, _, err := VerifySession(stsKey, ak, tok, exp.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("1ns before expiry: %v", err)
	}
	for _, now := range []time.Time{exp, exp.Add(time.Nanosecond), exp.Add(time.Hour)} {
		if _, _, err := VerifySession(stsKey, ak, tok, now); !errors.Is(err, ErrExpiredToken) {
			t.Fatalf("at %v: %v, want ErrExpiredToken", now, err)
		}
	}
}

func TestSessionRejectsTampering(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	now := exp.Add(-time.Minute)
	ak, _, tok := mint(t, SessionClaims{Parent: "alice", Expires: exp, Policy: []byte(stmt(okStmt))})
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		if _, _, err := VerifySession(stsKey, ak, base64.RawURLEncoding.EncodeToString(bad), now); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for name, bad := range map[string]string{
		"empty":      "",
		"truncated":  tok[:len(tok)-4],
		"short":      tok[:10],
		"not base64": tok[:20] + "!" + tok[21:],
		"padded":     tok + "==",
		"appended":   tok + "AAAA",
	} {
		if _, _, err := VerifySession(stsKey, ak, bad, now); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSessionBoundToAccessKey(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	ak1, _, tok1 := mint(t, SessionClaims{Parent: "alice", Expires: exp})
	ak2, _, tok2 := mint(t, SessionClaims{Parent: "mallory", Expires: exp})
	now := exp.Add(-time.Minute)
	for _, c := range []struct{ ak, tok string }{{ak2, tok1}, {ak1, tok2}, {"alice", tok1}, {"", tok1}, {strings.ToLower(ak1), tok1}} {
		if _, _, err := VerifySession(stsKey, c.ak, c.tok, now); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token with access key %q: %v", c.ak, err)
		}
	}
}

func TestSessionWrongKey(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	ak, _, tok := mint(t, SessionClaims{Parent: "alice", Expires: exp})
	other := bytes.Repeat([]byte{0x5b}, 32)
	if _, _, err := VerifySession(other, ak, tok, exp.Add(-time.Minute)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("wrong key: %v", err)
	}
	// Authentication comes before expiry: a token of another key is
	// invalid, not expired.
	if _, _, err := VerifySession(other, ak, tok, exp.Add(time.Hour)); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("wrong key after expiry: %v", err)
	}
	short := []byte("short")
	if _, _, _, err := MintSession(short, SessionClaims{Parent: "a", Expires: exp}); err == nil {
		t.Fatal("short key accepted by MintSession")
	}
	if _, _, err := VerifySession(short, ak, tok, exp); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("short key in VerifySession: %v", err)
	}
}

func TestMintSessionValidates(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for name, c := range map[string]SessionClaims{
		"no parent":       {Expires: exp},
		"no expiry":       {Parent: "alice"},
		"expiry too late": {Parent: "alice", Expires: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"policy too big":  {Parent: "alice", Expires: exp, Policy: bytes.Repeat([]byte(" "), MaxPolicySize+1)},
		"policy not JSON": {Parent: "alice", Expires: exp, Policy: []byte("{")},
		"parent too long": {Parent: strings.Repeat("a", 2000), Expires: exp},
	} {
		if _, _, _, err := MintSession(stsKey, c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A session policy near the size limit, of the usual repetitive shape,
// is compressed into a token that fits an HTTP header easily.
func TestSessionTokenSize(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := 0; b.Len() < MaxPolicySize-200; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/prefix-` + strings.Repeat("x", i%7) + `/*"}`)
	}
	b.WriteString(`]}`)
	exp := time.Now().Add(time.Hour)
	ak, _, tok, err := MintSession(stsKey, SessionClaims{Parent: "alice", Expires: exp, Policy: []byte(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("policy %d bytes, token %d bytes", b.Len(), len(tok))
	if len(tok) > 4096 {
		t.Fatalf("token of %d bytes", len(tok))
	}
	c, _, err := VerifySession(stsKey, ak, tok, exp.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Policy) != b.String() {
		t.Fatal("compressed policy changed in the round trip")
	}
}
