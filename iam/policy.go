package iam

import (
	"errors"
	"fmt"
	"strings"
)

// PolicyKind tells ParsePolicy what a document may hold.
type PolicyKind int

const (
	// IdentityPolicy is attached to users and groups, and is also the kind
	// of service-account and STS session policies: it has no Principal.
	IdentityPolicy PolicyKind = iota
	// BucketPolicy is a resource policy: every statement names a
	// Principal or NotPrincipal, and every Resource is in the bucket.
	BucketPolicy
)

// MaxPolicySize is the largest document accepted (20 KiB).
const MaxPolicySize = 20 << 10

// Policy versions. A document without Version is 2008-10-17, in which
// ${...} is literal text rather than a policy variable (as in AWS).
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// ErrMalformedPolicy is wrapped by every error of ParsePolicy (S3 answers
// such documents with MalformedPolicy, IAM with MalformedPolicyDocument).
var ErrMalformedPolicy = errors.New("iam: malformed policy")

// PolicyError says what is wrong with a policy document and where.
type PolicyError struct {
	// Statement is the 1-based position of the bad statement in the
	// Statement list, 0 when the error is about the whole document.
	Statement int
	Sid       string // the statement's Sid, if any
	Field     string // the element at fault: "Action", "Condition", ...
	Msg       string
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("policy: ")
	if e.Statement > 0 {
		fmt.Fprintf(&b, "statement %d", e.Statement)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (%q)", e.Sid)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(" ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes every PolicyError match ErrMalformedPolicy.
func (e *PolicyError) Unwrap() error { return ErrMalformedPolicy }

// Policy is a parsed, validated policy document. It is immutable and safe
// for concurrent use.
type Policy struct {
	kind    PolicyKind
	version string
	stmts   []statement
}

// Effect is the outcome of evaluating a policy for a request.
type Effect int

const (
	// NoMatch: no statement applies (an implicit deny).
	NoMatch Effect = iota
	// Allow: a statement allows and none denies.
	Allow
	// Deny: a statement explicitly denies.
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "NoMatch"
}

type statement struct {
	sid          string
	effect       Effect
	notAction    bool
	actions      []pattern
	notResource  bool
	resources    []pattern
	hasPrincipal bool // bucket policies: Principal or NotPrincipal given
	notPrincipal bool
	principals   principalSet
	conds        []condition
}

// principalSet is the parsed Principal (or NotPrincipal) element.
type principalSet struct {
	anyone   bool          // "*" or {"AWS": "*"}
	accounts []string      // arn:aws:iam::ACCOUNT:root or ACCOUNT
	users    []accountUser // arn:aws:iam::ACCOUNT:user/NAME
}

type accountUser struct{ account, user string }

// ParsePolicy parses and validates a policy document. Errors are
// *PolicyError values (wrapping ErrMalformedPolicy) that say which
// statement (position and Sid) and which element is wrong. bucket is the
// bucket a BucketPolicy belongs to ("" for identity policies).
func ParsePolicy(doc []byte, kind PolicyKind, bucket string) (*Policy, error) {
	docErr := func(field, format string, args ...any) error {
		return &PolicyError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if len(doc) > MaxPolicySize {
		return nil, docErr("", "is %d bytes, larger than the limit of %d bytes (20 KiB)", len(doc), MaxPolicySize)
	}
	if kind != IdentityPolicy && kind != BucketPolicy {
		return nil, docErr("", "has unknown kind %d", kind)
	}
	if kind == BucketPolicy && bucket == "" {
		return nil, docErr("", "is a bucket policy without a bucket")
	}
	root, err := parseJSON(doc)
	if err != nil {
		return nil, docErr("", "is not valid JSON: %v", err)
	}
	if root.kind != jsonObject {
		return nil, docErr("", "is %s, want a JSON object", root.kind)
	}
	p := &Policy{kind: kind, version: Version2008}
	var stmtsJSON *jsonValue
	for i := range root.obj {
		f := &root.obj[i]
		switch f.name {
		case "Version":
			if f.value.kind != jsonString || (f.value.str != Version2012 && f.value.str != Version2008) {
				return nil, docErr("Version", "must be %q or %q", Version2012, Version2008)
			}
			p.version = f.value.str
		case "Id":
			if f.value.kind != jsonString {
				return nil, docErr("Id", "must be a string")
			}
		case "Statement":
			stmtsJSON = &f.value
		default:
			return nil, docErr("", "has unknown element %q (want Version, Id, Statement)", f.name)
		}
	}
	if stmtsJSON == nil {
		return nil, docErr("Statement", "is missing")
	}
	var list []jsonValue
	switch stmtsJSON.kind {
	case jsonObject:
		list = []jsonValue{*stmtsJSON}
	case jsonArray:
		list = stmtsJSON.arr
	default:
		return nil, docErr("Statement", "is %s, want an object or an array of objects", stmtsJSON.kind)
	}
	if len(list) == 0 {
		return nil, docErr("Statement", "is empty")
	}
	sids := map[string]int{}
	for i, sj := range list {
		st, err := parseStatement(sj, p.version == Version2012, kind, bucket)
		if err != nil {
			var pe *PolicyError
			if errors.As(err, &pe) {
				pe.Statement = i + 1
			}
			return nil, err
		}
		if st.sid != "" {
			if prev, dup := sids[st.sid]; dup {
				return nil, &PolicyError{Statement: i + 1, Sid: st.sid, Field: "Sid",
					Msg: fmt.Sprintf("is not unique: statement %d has it too", prev)}
			}
			sids[st.sid] = i + 1
		}
		p.stmts = append(p.stmts, st)
	}
	return p, nil
}

func parseStatement(v jsonValue, variables bool, kind PolicyKind, bucket string) (statement, error) {
	var st statement
	fail := func(field, format string, args ...any) error {
		return &PolicyError{Sid: st.sid, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if v.kind != jsonObject {
		return st, fail("", "is %s, want an object", v.kind)
	}
	fields := map[string]jsonValue{}
	for _, f := range v.obj {
		switch f.name {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition":
			fields[f.name] = f.value
		default:
			return st, fail("", "has unknown element %q", f.name)
		}
	}
	if sid, ok := fields["Sid"]; ok {
		if sid.kind != jsonString {
			return st, fail("Sid", "must be a string")
		}
		st.sid = sid.str
	}

	eff, ok := fields["Effect"]
	switch {
	case !ok:
		return st, fail("Effect", "is missing")
	case eff.kind == jsonString && eff.str == "Allow":
		st.effect = Allow
	case eff.kind == jsonString && eff.str == "Deny":
		st.effect = Deny
	default:
		return st, fail("Effect", "must be \"Allow\" or \"Deny\"")
	}

	// Action / NotAction.
	act, hasAct := fields["Action"]
	nact, hasNact := fields["NotAction"]
	switch {
	case hasAct && hasNact:
		return st, fail("Action", "and NotAction cannot both be given")
	case !hasAct && !hasNact:
		return st, fail("Action", "is missing (give Action or NotAction)")
	}
	field := "Action"
	if hasNact {
		act, field, st.notAction = nact, "NotAction", true
	}
	names, err := act.strings()
	if err != nil {
		return st, fail(field, "%v", err)
	}
	for _, name := range names {
		pat, err := parseAction(name, kind)
		if err != nil {
			return st, fail(field, "%q: %v", name, err)
		}
		st.actions = append(st.actions, pat)
	}

	// Resource / NotResource.
	res, hasRes := fields["Resource"]
	nres, hasNres := fields["NotResource"]
	switch {
	case hasRes && hasNres:
		return st, fail("Resource", "and NotResource cannot both be given")
	case !hasRes && !hasNres:
		return st, fail("Resource", "is missing (give Resource or NotResource)")
	}
	field = "Resource"
	if hasNres {
		res, field, st.notResource = nres, "NotResource", true
	}
	arns, err := res.strings()
	if err != nil {
		return st, fail(field, "%v", err)
	}
	for _, arn := range arns {
		pat, err := parseResource(arn, variables, kind, bucket)
		if err != nil {
			return st, fail(field, "%q: %v", arn, err)
		}
		st.resources = append(st.resources, pat)
	}

	// Principal / NotPrincipal.
	pr, hasPr := fields["Principal"]
	npr, hasNpr := fields["NotPrincipal"]
	field = "Principal"
	if hasNpr {
		field = "NotPrincipal"
	}
	switch {
	case kind == IdentityPolicy && (hasPr || hasNpr):
		return st, fail(field, "is not allowed in an identity policy (only in bucket policies)")
	case hasPr && hasNpr:
		return st, fail("Principal", "and NotPrincipal cannot both be given")
	case kind == BucketPolicy && !hasPr && !hasNpr:
		return st, fail("Principal", "is missing (a bucket policy statement must name a Principal or NotPrincipal)")
	case hasPr || hasNpr:
		if hasNpr {
			pr, st.notPrincipal = npr, true
		}
		set, err := parsePrincipal(pr)
		if err != nil {
			return st, fail(field, "%v", err)
		}
		st.principals, st.hasPrincipal = set, true
	}

	if c, ok := fields["Condition"]; ok {
		conds, err := parseConditions(c, variables)
		if err != nil {
			return st, fail("Condition", "%v", err)
		}
		st.conds = conds
	}
	return st, nil
}

// parseAction validates one action name: "*" or "service:name" where the
// name may hold * and ? wildcards. s3 names must match a real S3 action;
// other services (sts:AssumeRole, admin:*, ...) are only checked for form
// and match the request's action literally. Matching ignores case.
func parseAction(name string, kind PolicyKind) (pattern, error) {
	if name == "*" {
		return compilePattern("*", true, false)
	}
	svc, op, ok := strings.Cut(name, ":")
	if !ok || svc == "" || op == "" {
		return pattern{}, errors.New(`is not of the form "service:action"`)
	}
	for _, c := range svc {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return pattern{}, fmt.Errorf("has an invalid service prefix %q", svc)
		}
	}
	for _, c := range op {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?' || c == '-' || c == '_') {
			return pattern{}, fmt.Errorf("has an invalid character %q in the action name", c)
		}
	}
	isS3 := strings.EqualFold(svc, "s3")
	if kind == BucketPolicy && !isS3 {
		return pattern{}, errors.New("is not an S3 action (a bucket policy grants only s3: actions)")
	}
	p, err := compilePattern(name, true, false)
	if err != nil {
		return pattern{}, err
	}
	if isS3 && !matchesS3Action(&p) {
		return pattern{}, errors.New("matches no S3 action")
	}
	return p, nil
}

// parseResource validates one resource: "*" (identity policies) or an ARN
// "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE". S3 ARNs have no region
// or account. In a bucket policy every resource is the bucket itself or
// lies under "arn:aws:s3:::BUCKET/".
func parseResource(arn string, variables bool, kind PolicyKind, bucket string) (pattern, error) {
	if arn == "*" {
		if kind == BucketPolicy {
			return pattern{}, fmt.Errorf("is outside bucket %q (use arn:aws:s3:::%s or arn:aws:s3:::%s/*)", bucket, bucket, bucket)
		}
		return compilePattern("*", true, false)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return pattern{}, errors.New(`is not an ARN ("arn:aws:s3:::bucket/key") or "*"`)
	}
	switch parts[1] {
	case "aws", "aws-cn", "aws-us-gov", "*":
	default:
		return pattern{}, fmt.Errorf("has unknown partition %q", parts[1])
	}
	if parts[2] == "" {
		return pattern{}, errors.New("has no service")
	}
	if parts[5] == "" {
		return pattern{}, errors.New("has no resource part")
	}
	if parts[2] == "s3" && (parts[3] != "" || parts[4] != "") {
		return pattern{}, errors.New("is an S3 ARN with a region or account; S3 bucket and object ARNs have neither (arn:aws:s3:::bucket/key)")
	}
	p, err := compilePattern(arn, true, variables)
	if err != nil {
		return pattern{}, err
	}
	if kind == BucketPolicy {
		base := "arn:aws:s3:::" + bucket
		if arn != base && !strings.HasPrefix(arn, base+"/") {
			return pattern{}, fmt.Errorf("is outside bucket %q (use %s or %s/...)", bucket, base, base)
		}
	}
	return p, nil
}

// parsePrincipal reads "*", {"AWS": "*"} or {"AWS": [ARNs or accounts]}.
func parsePrincipal(v jsonValue) (principalSet, error) {
	var set principalSet
	if v.kind == jsonString {
		if v.str != "*" {
			return set, fmt.Errorf("%q: a string Principal must be \"*\"; name users as {\"AWS\": \"arn:aws:iam::ACCOUNT:user/NAME\"}", v.str)
		}
		set.anyone = true
		return set, nil
	}
	if v.kind != jsonObject {
		return set, fmt.Errorf("is %s, want \"*\" or {\"AWS\": ...}", v.kind)
	}
	for _, f := range v.obj {
		if f.name != "AWS" {
			return set, fmt.Errorf("has unsupported principal type %q (only \"AWS\" principals exist here)", f.name)
		}
		ids, err := f.value.strings()
		if err != nil {
			return set, fmt.Errorf("AWS %v", err)
		}
		for _, id := range ids {
			if err := set.add(id); err != nil {
				return set, fmt.Errorf("%q: %v", id, err)
			}
		}
	}
	if !set.anyone && len(set.accounts) == 0 && len(set.users) == 0 {
		return set, errors.New("names no principal")
	}
	return set, nil
}

func (s *principalSet) add(id string) error {
	if id == "*" {
		s.anyone = true
		return nil
	}
	if !strings.HasPrefix(id, "arn:") {
		if !validAccountName(id) {
			return errors.New("is neither \"*\", an account, nor an arn:aws:iam:: ARN")
		}
		s.accounts = append(s.accounts, id)
		return nil
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 || parts[1] != "aws" || parts[2] != "iam" || parts[3] != "" {
		return errors.New("is not an IAM principal ARN (arn:aws:iam::ACCOUNT:root or arn:aws:iam::ACCOUNT:user/NAME)")
	}
	account, res := parts[4], parts[5]
	if !validAccountName(account) {
		return fmt.Errorf("has an invalid account %q", account)
	}
	switch {
	case res == "root":
		s.accounts = append(s.accounts, account)
	case strings.HasPrefix(res, "user/"):
		// A user ARN may carry a path (user/division/NAME); the name is
		// the last segment.
		name := res[strings.LastIndexByte(res, '/')+1:]
		if name == "" || strings.ContainsAny(name, "*?") {
			return errors.New("has an invalid user name (wildcards are not allowed in principals)")
		}
		s.users = append(s.users, accountUser{account, name})
	default:
		return errors.New("names neither an account root nor a user (arn:aws:iam::ACCOUNT:root, arn:aws:iam::ACCOUNT:user/NAME)")
	}
	return nil
}

// validAccountName accepts a 12-digit AWS account id or one of our
// account names: 1 to 64 characters without separators or wildcards.
func validAccountName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f || strings.ContainsRune(":/*?$\"'\\", c) {
			return false
		}
	}
	return true
}

// Statements returns the number of statements in p.
func (p *Policy) Statements() int { return len(p.stmts) }
