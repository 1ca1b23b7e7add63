package iam

import "strings"

// Principal is who makes a request, for matching bucket-policy Principals.
type Principal struct {
	Anonymous bool
	Account   string // meta.User.Account
	// User is the user name (= access key for users; the PARENT user for
	// service accounts and STS sessions).
	User string
	// Root is the cluster admin (root keys): allowed everything before any
	// evaluation, by the caller.
	Root bool
}

// Request is one authorization question.
type Request struct {
	Action    string // e.g. "s3:GetObject" (the IAM action name of the S3 operation)
	Resource  string // "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key" ("*"-free)
	Principal Principal
	// Context holds condition keys, names lower-cased ("aws:sourceip",
	// "aws:securetransport", "aws:currenttime", "aws:epochtime",
	// "aws:username", "aws:userid", "s3:prefix", "s3:delimiter",
	// "s3:max-keys", "s3:x-amz-acl", "s3:existingobjecttag/<key>",
	// "s3:requestobjecttag/<key>", ...); a missing key is absent, not "".
	// Policy variables (${aws:username}) are resolved from it too.
	Context map[string][]string
}

// Evaluate returns Deny if any statement denies, else Allow if any allows,
// else NoMatch.
func (p *Policy) Evaluate(r *Request) Effect {
	e, _ := p.evaluate(r)
	return e
}

// evaluate is Evaluate that also reports whether an Allow came from a
// statement whose Principal is "*" (a grant to anyone, which AWS does not
// narrow by a session policy; see Authorize).
func (p *Policy) evaluate(r *Request) (effect Effect, public bool) {
	for i := range p.stmts {
		s := &p.stmts[i]
		if !s.applies(r) {
			continue
		}
		if s.effect == Deny {
			return Deny, false
		}
		effect = Allow
		if s.hasPrincipal && !s.notPrincipal && s.principals.anyone {
			public = true
		}
	}
	return effect, public
}

// applies reports whether s matches r: principal, action, resource and
// every condition. A statement in which a policy variable cannot be
// resolved never allows (AWS: the statement may be invalid); a Deny with
// such a variable is evaluated with the element not matching.
func (s *statement) applies(r *Request) bool {
	if s.hasPrincipal && s.principals.matches(&r.Principal) == s.notPrincipal {
		return false
	}
	matched := false
	for i := range s.actions {
		if s.actions[i].match(r.Action, nil, true, nil) {
			matched = true
			break
		}
	}
	if matched == s.notAction {
		return false
	}
	unresolved := false
	matched = false
	for i := range s.resources {
		if s.resources[i].match(r.Resource, r.Context, false, &unresolved) {
			matched = true
			break
		}
	}
	if matched == s.notResource {
		return false
	}
	for i := range s.conds {
		if !s.conds[i].eval(r.Context, &unresolved) {
			return false
		}
	}
	return !(unresolved && s.effect == Allow)
}

func (s *principalSet) matches(p *Principal) bool {
	if s.anyone {
		return true
	}
	if p.Anonymous {
		return false
	}
	for _, a := range s.accounts {
		if a == p.Account {
			return true
		}
	}
	for _, u := range s.users {
		if u.account == p.Account && u.user == p.User {
			return true
		}
	}
	return false
}

// Authorize decides as AWS does within one account: an explicit Deny in
// any policy wins; else the request is allowed if an identity policy or
// the bucket policy allows it; else it is denied. identity may be empty (a
// user with no policy can do nothing); bucket may be nil.
//
// session is an STS session policy or a service account's own policy (nil
// = none). It narrows: the session's permissions are its intersection
// with the identity policies plus its intersection with the bucket
// policy's grants to the (parent) user or account, and a bucket-policy
// grant to Principal "*" counts without it. This follows the IAM User
// Guide, "Policies and permissions in IAM", section Session policies
// (docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session):
// a resource-based policy that names the user's ARN is limited by the
// session policy, one that names the session itself is not; and the STS
// API reference (GetFederationToken, Policy parameter): a resource policy
// that references the session grants in addition to the session policy.
// A session has no ARN of its own here, so only "*" reaches it directly.
func Authorize(r *Request, identity []*Policy, session *Policy, bucket *Policy) bool {
	idAllow := false
	for _, p := range identity {
		if p == nil {
			continue
		}
		switch p.Evaluate(r) {
		case Deny:
			return false
		case Allow:
			idAllow = true
		}
	}
	sessAllow := true
	if session != nil {
		switch session.Evaluate(r) {
		case Deny:
			return false
		case NoMatch:
			sessAllow = false
		}
	}
	bucketAllow, public := false, false
	if bucket != nil {
		e, pub := bucket.evaluate(r)
		if e == Deny {
			return false
		}
		bucketAllow, public = e == Allow, pub
	}
	return sessAllow && (idAllow || bucketAllow) || public
}

// fixedValueKeys are the condition keys that, tested positively, restrict
// a grant to "*" to known requesters, so that the grant is not public
// (the S3 User Guide, "The meaning of public").
var fixedValueKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceaccount": true, "aws:sourceowner": true, "aws:principalaccount": true,
	"aws:principalarn": true, "aws:principalorgid": true, "aws:userid": true, "aws:username": true,
	"s3:dataaccesspointarn": true, "s3:dataaccesspointaccount": true,
}

// IsPublic reports whether p grants anything to everyone: an Allow
// statement whose principals include "*" (or a NotPrincipal) that no
// condition restricts to fixed requesters (source IP, VPC, account, user
// id, ...). It answers GetBucketPolicyStatus.
func (p *Policy) IsPublic() bool {
	for i := range p.stmts {
		s := &p.stmts[i]
		// Principal "*" reaches everyone; so does a NotPrincipal that
		// excludes named users only (NotPrincipal "*" reaches no one).
		if s.effect != Allow || !s.hasPrincipal || s.principals.anyone == s.notPrincipal {
			continue
		}
		restricted := false
		for _, c := range s.conds {
			if fixedValueKeys[c.key] && !c.op.negate && !c.op.ifExists && c.op.set == setNone && !c.hasWildcardOnly() {
				restricted = true
				break
			}
		}
		if !restricted {
			return true
		}
	}
	return false
}

// hasWildcardOnly reports whether some value of c matches everything
// ("*" in a Like operator, 0.0.0.0/0 or ::/0 in IpAddress).
func (c *condition) hasWildcardOnly() bool {
	for _, v := range c.values {
		switch c.op.family {
		case famString:
			if c.op.cmp == cmpLike && strings.Trim(v.pat.raw, "*") == "" {
				return true
			}
		case famIP:
			if v.prefix.Bits() == 0 {
				return true
			}
		case famARN:
			if strings.Trim(v.arn[5].raw, "*") == "" {
				return true
			}
		}
	}
	return false
}
