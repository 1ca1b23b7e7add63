package iam

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchPolicy builds an identity policy of n statements in the shapes
// users write (prefixes with wildcards, a variable, conditions); the one
// that allows the benchmark request is the last, so every statement is
// evaluated.
func benchPolicy(b *testing.B, n int) *Policy {
	var stmts []string
	for i := 0; i < n-1; i++ {
		switch i % 4 {
		case 0:
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%d/data/*"}`, i))
		case 1:
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket-%d","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}}`, i))
		case 2:
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Deny","Action":"s3:Delete*","Resource":"arn:aws:s3:::bucket-%d/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}`, i))
		case 3:
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","NotAction":"s3:Delete*","Resource":"arn:aws:s3:::bucket-%d/home/${aws:username}/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, i))
		}
	}
	stmts = append(stmts, `{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::photos/home/${aws:username}/*","Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`)
	p, err := ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`), IdentityPolicy, "")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkAuthorize(b *testing.B) {
	r := &Request{
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::photos/home/alice/2024/img.jpg",
		Principal: alice,
		Context: map[string][]string{
			"aws:username":        {"alice"},
			"aws:userid":          {"alice"},
			"aws:sourceip":        {"192.0.2.10"},
			"aws:securetransport": {"true"},
			"aws:currenttime":     {"2024-05-01T12:00:00Z"},
			"aws:epochtime":       {"1714564800"},
		},
	}
	for _, n := range []int{1, 10, 100} {
		p := benchPolicy(b, n)
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			identity := []*Policy{p}
			if !Authorize(r, identity, nil, nil) {
				b.Fatal("not allowed")
			}
			b.ReportAllocs()
			for b.Loop() {
				Authorize(r, identity, nil, nil)
			}
		})
	}
}

func BenchmarkMintSession(b *testing.B) {
	c := SessionClaims{Parent: "alice", Expires: time.Now().Add(time.Hour), Policy: []byte(stmt(okStmt))}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := MintSession(stsKey, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifySession(b *testing.B) {
	exp := time.Now().Add(time.Hour)
	ak, _, tok, err := MintSession(stsKey, SessionClaims{Parent: "alice", Expires: exp, Policy: []byte(stmt(okStmt))})
	if err != nil {
		b.Fatal(err)
	}
	now := exp.Add(-time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := VerifySession(stsKey, ak, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}
