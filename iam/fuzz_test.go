package iam

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParsePolicy: any input either parses into a usable policy or is
// rejected with a *PolicyError; nothing panics.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(stmt(okStmt)), false)
	f.Add([]byte(stmt(okBucketStmt)), true)
	f.Fuzz(func(t *testing.T, doc []byte, bucketPolicy bool) {
		kind, bucket := IdentityPolicy, ""
		if bucketPolicy {
			kind, bucket = BucketPolicy, "amzn-s3-demo-bucket"
		}
		p, err := ParsePolicy(doc, kind, bucket)
		if err != nil {
			var pe *PolicyError
			if p != nil || !errors.As(err, &pe) || !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("error %v (%T) with policy %v", err, err, p)
			}
			return
		}
		if p.Statements() == 0 {
			t.Fatal("accepted a policy without statements")
		}
		if len(doc) > MaxPolicySize {
			t.Fatalf("accepted %d bytes", len(doc))
		}
		// A parsed policy evaluates without panicking.
		for _, r := range []*Request{
			{Action: "s3:GetObject", Resource: demoObj + "home/alice/k", Principal: alice, Context: ctx("aws:username=alice;aws:sourceip=192.0.2.1;s3:prefix=home/")},
			{Action: "s3:ListBucket", Resource: demo, Principal: anon},
		} {
			p.Evaluate(r)
			p.IsPublic()
		}
	})
}

// FuzzEvaluate evaluates parsed policies against fuzzed requests and
// checks the invariants of Authorize: an explicit deny can never be
// overridden, an allow needs a policy that allows, and a session can
// only narrow.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(stmt(okStmt)), "s3:GetObject", "arn:aws:s3:::b/k", "aws:username=alice", false)
	f.Fuzz(func(t *testing.T, doc []byte, action, resource, context string, anonymous bool) {
		p, err := ParsePolicy(doc, IdentityPolicy, "")
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			return
		}
		who := alice
		if anonymous {
			who = anon
		}
		r := &Request{Action: action, Resource: resource, Principal: who, Context: ctx(context)}
		e := p.Evaluate(r)
		if e2 := p.Evaluate(r); e2 != e {
			t.Fatalf("Evaluate not deterministic: %v then %v", e, e2)
		}
		all, _ := ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), IdentityPolicy, "")
		if got := Authorize(r, []*Policy{p}, nil, nil); got != (e == Allow) {
			t.Fatalf("Authorize alone = %v, Evaluate = %v", got, e)
		}
		if got := Authorize(r, []*Policy{all, p}, nil, nil); got != (e != Deny) {
			t.Fatalf("Authorize with allow-all = %v, Evaluate = %v", got, e)
		}
		if got := Authorize(r, []*Policy{all}, p, nil); got != (e == Allow) {
			t.Fatalf("session narrowing allow-all = %v, Evaluate = %v", got, e)
		}
		if Authorize(r, []*Policy{p}, all, nil) && e != Allow {
			t.Fatal("a session widened the identity policy")
		}
		// The same statements as a bucket policy for the bucket of the
		// request, where they parse.
		if bucket, _, ok := strings.Cut(strings.TrimPrefix(resource, "arn:aws:s3:::"), "/"); ok && bucket != "" {
			bp, err := ParsePolicy(doc, BucketPolicy, bucket)
			if err == nil && bp.Evaluate(r) == Deny && Authorize(r, []*Policy{all}, nil, bp) {
				t.Fatal("bucket-policy deny overridden")
			}
		}
	})
}
