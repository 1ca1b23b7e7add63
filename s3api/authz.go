package s3api

import (
	"bytes"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
)

// Authorization: every request, once authenticated, is decided here and
// nowhere else. The root user may do everything. Any other caller is
// evaluated as AWS does (iam.Authorize): an explicit Deny in any policy
// wins; else an Allow of an identity policy (the user's own and its
// groups', narrowed by a service account's or session's policy) or of the
// bucket policy allows; else the canned ACLs of the bucket and the object
// may still allow (public-read, authenticated-read, ...); else
// AccessDenied. A bucket's owner may manage its configuration (policy,
// ACL, versioning, CORS, lifecycle) without an identity policy saying so,
// and always its bucket policy, so that nobody locks themselves out.

// identityKind says what kind of key signed a request.
type identityKind uint8

const (
	identAnonymous      identityKind = iota // no signature
	identRoot                               // the cluster admin's keys
	identUser                               // a user's own keys
	identServiceAccount                     // a child key of a user
	identSession                            // temporary STS credentials
)

// identity is who made a request. For a service account or an STS session,
// user is the parent: its policies, account and name apply, narrowed by
// session.
type identity struct {
	kind      identityKind
	accessKey string    // the key that signed; "" when anonymous
	user      meta.User // whose permissions apply (a copy)
	session   []byte    // the service account's or session's policy; nil: none
	expires   time.Time // an STS session's expiry
}

// authenticated reports whether the request was signed.
func (id *identity) authenticated() bool { return id.kind != identAnonymous }

// ownerKey is the access key that owns what id creates (a bucket): the
// user, or the parent of a service account or session.
func (id *identity) ownerKey() string { return id.user.AccessKey }

// principal describes id for bucket-policy Principal matching.
func (id *identity) principal() iam.Principal {
	if id.kind == identAnonymous {
		return iam.Principal{Anonymous: true}
	}
	acct := id.user.Account
	if acct == "" {
		acct = meta.DefaultAccount
	}
	return iam.Principal{Account: acct, User: id.user.Name, Root: id.kind == identRoot}
}

// arn is the S3 resource ARN of bucket (and key).
func arn(bucket, key string) string {
	switch {
	case bucket == "":
		return "arn:aws:s3:::"
	case key == "":
		return "arn:aws:s3:::" + bucket
	}
	return "arn:aws:s3:::" + bucket + "/" + key
}

// IAM action names of the S3 operations, as AWS names them.
const (
	actGetObject                  = "s3:GetObject"
	actGetObjectVersion           = "s3:GetObjectVersion"
	actPutObject                  = "s3:PutObject"
	actDeleteObject               = "s3:DeleteObject"
	actDeleteObjectVersion        = "s3:DeleteObjectVersion"
	actListBucket                 = "s3:ListBucket"
	actListBucketVersions         = "s3:ListBucketVersions"
	actListBucketMultipartUploads = "s3:ListBucketMultipartUploads"
	actListMultipartUploadParts   = "s3:ListMultipartUploadParts"
	actAbortMultipartUpload       = "s3:AbortMultipartUpload"
	actListAllMyBuckets           = "s3:ListAllMyBuckets"
	actGetBucketPolicy            = "s3:GetBucketPolicy"
	actPutBucketPolicy            = "s3:PutBucketPolicy"
	actDeleteBucketPolicy         = "s3:DeleteBucketPolicy"
	actGetBucketPolicyStatus      = "s3:GetBucketPolicyStatus"
	actGetBucketACL               = "s3:GetBucketAcl"
	actPutBucketACL               = "s3:PutBucketAcl"
	actGetBucketVersioning        = "s3:GetBucketVersioning"
	actPutBucketVersioning        = "s3:PutBucketVersioning"
	actGetBucketCORS              = "s3:GetBucketCORS"
	actPutBucketCORS              = "s3:PutBucketCORS"
	actGetLifecycleConfiguration  = "s3:GetLifecycleConfiguration"
	actPutLifecycleConfiguration  = "s3:PutLifecycleConfiguration"
)

// action returns the IAM action r.op needs on its own bucket or key ("" for
// the operations authorized item by item: ListBuckets, DeleteObjects, and
// those answered without touching anything). A request naming a version
// needs the *Version action, as in AWS.
func action(o op, versioned bool) string {
	pick := func(plain, version string) string {
		if versioned {
			return version
		}
		return plain
	}
	switch o {
	case opCreateBucket:
		return "s3:CreateBucket"
	case opHeadBucket, opListObjectsV1, opListObjectsV2:
		return actListBucket
	case opDeleteBucket:
		return "s3:DeleteBucket"
	case opGetBucketLocation:
		return "s3:GetBucketLocation"
	case opGetBucketVersioning:
		return actGetBucketVersioning
	case opPutBucketVersioning:
		return actPutBucketVersioning
	case opListObjectVersions:
		return actListBucketVersions
	case opListMultipartUploads:
		return actListBucketMultipartUploads
	case opPutObject, opCopyObject, opPostObject, opCreateMultipartUpload, opUploadPart,
		opUploadPartCopy, opCompleteMultipartUpload:
		return actPutObject
	case opGetObject, opHeadObject:
		return pick(actGetObject, actGetObjectVersion)
	case opDeleteObject:
		return pick(actDeleteObject, actDeleteObjectVersion)
	case opGetObjectAttributes:
		return pick("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes")
	case opGetObjectTagging:
		return pick("s3:GetObjectTagging", "s3:GetObjectVersionTagging")
	case opPutObjectTagging:
		return pick("s3:PutObjectTagging", "s3:PutObjectVersionTagging")
	case opDeleteObjectTagging:
		return pick("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging")
	case opAbortMultipartUpload:
		return actAbortMultipartUpload
	case opListParts:
		return actListMultipartUploadParts
	case opGetBucketPolicy:
		return actGetBucketPolicy
	case opPutBucketPolicy:
		return actPutBucketPolicy
	case opDeleteBucketPolicy:
		return actDeleteBucketPolicy
	case opGetBucketPolicyStatus:
		return actGetBucketPolicyStatus
	case opGetBucketACL:
		return actGetBucketACL
	case opPutBucketACL:
		return actPutBucketACL
	case opGetObjectACL:
		return pick("s3:GetObjectAcl", "s3:GetObjectVersionAcl")
	case opPutObjectACL:
		return pick("s3:PutObjectAcl", "s3:PutObjectVersionAcl")
	case opGetBucketCORS:
		return actGetBucketCORS
	case opPutBucketCORS, opDeleteBucketCORS:
		// AWS has no s3:DeleteBucketCORS: deleting is putting.
		return actPutBucketCORS
	case opGetBucketLifecycle:
		return actGetLifecycleConfiguration
	case opPutBucketLifecycle, opDeleteBucketLifecycle:
		// DeleteBucketLifecycle is authorized as
		// s3:PutLifecycleConfiguration, as AWS does.
		return actPutLifecycleConfiguration
	}
	return ""
}

// ownerManaged reports the configuration actions a bucket's owner may take
// on its bucket without an identity policy allowing them; always reports
// those it may take even against an explicit Deny (the bucket policy
// itself, so that a bad policy can always be replaced).
func ownerManaged(action string) (managed, always bool) {
	switch action {
	case actGetBucketPolicy, actPutBucketPolicy, actDeleteBucketPolicy:
		return true, true
	case actGetBucketPolicyStatus, actGetBucketACL, actPutBucketACL, actGetBucketVersioning, actPutBucketVersioning,
		actGetBucketCORS, actPutBucketCORS, actGetLifecycleConfiguration, actPutLifecycleConfiguration:
		return true, false
	}
	return false, false
}

// errAccessDenied is the answer to a refused request: AccessDenied, 403,
// with nothing about why (no policy, a Deny, someone else's bucket).
func errAccessDenied() error { return apiError(codeAccessDenied) }

// authorize decides r.op for r.who: nil when allowed. Operations that
// name several resources check the rest themselves (CopyObject's and
// UploadPartCopy's source in openCopySource, each key of DeleteObjects in
// deleteOne, the buckets ListBuckets shows).
func (s *Server) authorize(r *request) error {
	switch r.op {
	case opListBuckets:
		if !r.who.authenticated() {
			return errAccessDenied()
		}
		return nil
	case opDeleteObjects, opMethodNotAllowed, opNotImplemented:
		return nil
	}
	versionID := queryVersionID(r.query)
	act := action(r.op, versionID != "")
	if act == "" {
		return errAccessDenied()
	}
	return s.check(r, act, r.bucket, r.key, versionID)
}

// check decides one action of r on bucket/key (key "" for the bucket
// itself; versionID names the object version whose tags and ACL apply).
// Only the policies that matter are evaluated, and the object is read only
// when a policy tests its tags or a refusal could be lifted by its ACL.
func (s *Server) check(r *request, act, bucket, key, versionID string) error {
	if r.who.kind == identRoot {
		return nil
	}
	in := s.gather(r.who, bucket)
	ok, err := s.decide(r, &in, act, bucket, key, versionID)
	if err != nil {
		return err
	}
	if !ok && bucket != "" && !in.bucketFound && r.who.authenticated() {
		// A bucket created a moment ago through another node may not be
		// here yet: its policy and ACL could allow what was refused.
		// Anonymous requests do not get this barrier (a round trip to the
		// leader), so that unsigned traffic cannot load the leader.
		if err := s.deps.Control.Barrier(r.ctx); err != nil {
			return err
		}
		in = s.gather(r.who, bucket)
		if ok, err = s.decide(r, &in, act, bucket, key, versionID); err != nil {
			return err
		}
	}
	if !ok {
		return errAccessDenied()
	}
	return nil
}

// decide evaluates one action against what gather collected.
func (s *Server) decide(r *request, in *authzInput, act, bucket, key, versionID string) (bool, error) {
	if in.broken {
		// A stored policy that no longer parses allows nothing: deny
		// rather than guess what it meant.
		return false, nil
	}
	q := iam.Request{Action: act, Resource: arn(bucket, key), Principal: r.who.principal()}
	if in.needsContext {
		q.Context = s.conditionContext(r, act)
		if in.existingTag && key != "" {
			if info, err := s.deps.Objects.HeadObject(r.ctx, bucket, key, dataplane.GetOptions{VersionID: versionID}); err == nil {
				for k, v := range info.Tags {
					q.Context["s3:existingobjecttag/"+strings.ToLower(k)] = []string{v}
				}
			}
		}
	}
	who := r.who
	if managed, always := ownerManaged(act); managed && in.bucketFound && who.authenticated() &&
		in.bucketOwner == who.ownerKey() && who.session == nil {
		if always || !in.explicitDeny(&q) {
			return true, nil
		}
	}
	if iam.Authorize(&q, in.identity, in.session, in.bucket) {
		return true, nil
	}
	// ACL grants are an additional allow that no explicit Deny overrides.
	if in.bucketFound && aclAllows(in.bucketACL, act, who.authenticated(), false) {
		return !in.explicitDeny(&q), nil
	}
	if key != "" && (act == actGetObject || act == actGetObjectVersion) && in.bucketFound {
		info, err := s.deps.Objects.HeadObject(r.ctx, bucket, key, dataplane.GetOptions{VersionID: versionID})
		if err == nil && aclAllows(info.ACL, act, who.authenticated(), true) {
			return !in.explicitDeny(&q), nil
		}
	}
	return false, nil
}

// authzInput is what one decision needs from the replicated state, with
// every policy already parsed (from the cache).
type authzInput struct {
	identity     []*iam.Policy // the user's and its groups' policies
	session      *iam.Policy   // service account or session policy; nil: none
	bucket       *iam.Policy   // bucket policy; nil: none
	bucketFound  bool
	bucketOwner  string
	bucketACL    string
	needsContext bool // a policy has conditions or variables
	existingTag  bool // a policy tests s3:ExistingObjectTag
	broken       bool // a stored policy does not parse
}

// explicitDeny reports whether any policy denies q outright.
func (in *authzInput) explicitDeny(q *iam.Request) bool {
	for _, p := range in.identity {
		if p.Evaluate(q) == iam.Deny {
			return true
		}
	}
	return in.session != nil && in.session.Evaluate(q) == iam.Deny ||
		in.bucket != nil && in.bucket.Evaluate(q) == iam.Deny
}

// add records a parsed policy's needs.
func (in *authzInput) add(p *parsedPolicy) *iam.Policy {
	if p.err != nil {
		in.broken = true
		return nil
	}
	in.needsContext = in.needsContext || p.needsContext
	in.existingTag = in.existingTag || p.existingTag
	return p.policy
}

// gather collects the policies that apply to who on bucket ("" for none)
// from the local state.
func (s *Server) gather(who *identity, bucket string) authzInput {
	var in authzInput
	var sessionDoc []byte
	s.deps.Control.View(func(st *meta.State) {
		if b := st.Buckets[bucket]; b != nil {
			in.bucketFound, in.bucketOwner, in.bucketACL = true, b.Owner, b.ACL
			if len(b.Policy) > 0 {
				in.bucket = in.add(s.policies.bucketPolicy(b.Name, b.Policy))
			}
		}
		if !who.authenticated() {
			return
		}
		// The user as the state has it now: attached policies and groups
		// change without the key changing.
		u := st.Users[who.user.AccessKey]
		if u == nil {
			return
		}
		if u.Root {
			in.identity = append(in.identity, in.add(s.policies.allowAll()))
		}
		for _, name := range u.Policies {
			s.addNamed(st, &in, name)
		}
		for _, g := range st.Groups {
			if _, member := slices.BinarySearch(g.Members, u.AccessKey); member {
				for _, name := range g.Policies {
					s.addNamed(st, &in, name)
				}
			}
		}
		sessionDoc = who.session
	})
	in.identity = slices.DeleteFunc(in.identity, func(p *iam.Policy) bool { return p == nil })
	if len(sessionDoc) > 0 {
		in.session = in.add(s.policies.identityPolicy(sessionDoc))
	}
	return in
}

// addNamed adds the managed or predefined policy name to in.identity. A
// name that is neither (detached meanwhile) adds nothing.
func (s *Server) addNamed(st *meta.State, in *authzInput, name string) {
	if p := st.Policies[name]; p != nil {
		in.identity = append(in.identity, in.add(s.policies.identityPolicy(p.Document)))
		return
	}
	if p := s.policies.predefined(name); p != nil {
		in.identity = append(in.identity, in.add(p))
	}
}

// conditionContext returns the condition keys of r for act (names
// lower-cased, as iam.Request wants them). Keys a request does not have
// are absent.
func (s *Server) conditionContext(r *request, act string) map[string][]string {
	now := s.cfg.Now().UTC()
	c := make(map[string][]string, 12)
	c["aws:currenttime"] = []string{now.Format(time.RFC3339)}
	c["aws:epochtime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	c["aws:securetransport"] = []string{strconv.FormatBool(r.fctx.IsTLS())}
	c["aws:sourceip"] = []string{r.fctx.RemoteIP().String()}
	if ua := r.header("user-agent"); ua != "" {
		c["aws:useragent"] = []string{ua}
	}
	if ref := r.header("referer"); ref != "" {
		c["aws:referer"] = []string{ref}
	}
	who := r.who
	switch who.kind {
	case identAnonymous:
		c["aws:principaltype"] = []string{"Anonymous"}
	case identSession:
		c["aws:principaltype"] = []string{"AssumedRole"}
	default:
		c["aws:principaltype"] = []string{"User"}
	}
	if who.authenticated() {
		c["aws:username"] = []string{who.user.Name}
		c["aws:userid"] = []string{who.accessKey}
		acct := who.user.Account
		if acct == "" {
			acct = meta.DefaultAccount
		}
		c["aws:principalaccount"] = []string{acct}
	}
	if r.auth != nil && r.auth.SignatureVersion > 0 {
		sv := "AWS4-HMAC-SHA256"
		if r.auth.SignatureVersion == 2 {
			sv = "AWS"
		}
		c["s3:signatureversion"] = []string{sv}
		at := "REST-HEADER"
		if r.auth.Presigned {
			at = "REST-QUERY-STRING"
		}
		c["s3:authtype"] = []string{at}
	}
	switch r.op {
	case opListObjectsV1, opListObjectsV2, opListObjectVersions:
		// An absent prefix is the empty prefix: AWS's examples allow
		// listing a bucket's top level with s3:prefix "".
		c["s3:prefix"] = []string{r.query.Get("prefix")}
		if vs, ok := r.query["delimiter"]; ok {
			c["s3:delimiter"] = vs[:1]
		}
		if vs, ok := r.query["max-keys"]; ok {
			c["s3:max-keys"] = vs[:1]
		}
	}
	if vs, ok := r.query["versionId"]; ok && len(vs) > 0 {
		c["s3:versionid"] = vs[:1]
	}
	acl := r.header("x-amz-acl")
	if r.op == opPostObject {
		acl = r.postACL
	}
	if acl != "" {
		c["s3:x-amz-acl"] = []string{acl}
	}
	if act == actPutObject {
		if v := r.header("x-amz-copy-source"); v != "" {
			c["s3:x-amz-copy-source"] = []string{v}
		}
		if v := r.header("x-amz-metadata-directive"); v != "" {
			c["s3:x-amz-metadata-directive"] = []string{strings.ToUpper(v)}
		}
		if tags, err := parseTaggingHeader(r.header("x-amz-tagging")); err == nil && len(tags) > 0 {
			keys := make([]string, 0, len(tags))
			for k, v := range tags {
				c["s3:requestobjecttag/"+strings.ToLower(k)] = []string{v}
				keys = append(keys, k)
			}
			slices.Sort(keys)
			c["s3:requestobjecttagkeys"] = keys
		}
	}
	return c
}

// policyCache holds parsed policy documents by content, so that a request
// never re-parses a policy it has seen: stored documents change only by
// being replaced, and a replaced one is simply a new entry. It holds at
// most max entries per map, dropping an arbitrary one when full.
type policyCache struct {
	mu       sync.RWMutex
	identity map[string]*parsedPolicy // by document
	buckets  map[string]*parsedPolicy // by bucket name; doc tells whether it is current
	builtin  map[string]*parsedPolicy // predefined policies by name, read-only after New
	all      *parsedPolicy            // allow every S3 action (root's service accounts and sessions)
	max      int
}

// parsedPolicy is one parsed document and what evaluating it needs.
type parsedPolicy struct {
	doc          string
	policy       *iam.Policy
	err          error
	needsContext bool // has a Condition block or a ${...} variable
	existingTag  bool // tests s3:ExistingObjectTag/<key>
}

func newPolicyCache(max int) *policyCache {
	c := &policyCache{identity: map[string]*parsedPolicy{}, buckets: map[string]*parsedPolicy{}, builtin: map[string]*parsedPolicy{}, max: max}
	for _, name := range iam.PredefinedNames() {
		if p, ok := iam.Predefined(name); ok {
			// The built-in policies name plain actions; those beyond the
			// three AWS-like ones may use conditions, so they get a context.
			simple := name == "readonly" || name == "writeonly" || name == "readwrite"
			c.builtin[name] = &parsedPolicy{policy: p, needsContext: !simple}
		}
	}
	if p, ok := iam.Predefined("readwrite"); ok {
		c.all = &parsedPolicy{policy: p}
	} else {
		c.all = &parsedPolicy{err: errors.New("s3api: no predefined readwrite policy")}
	}
	return c
}

// analyse fills the needs of a parsed document from its text.
func analyse(p *parsedPolicy) {
	lower := []byte(strings.ToLower(p.doc))
	p.needsContext = bytes.Contains(lower, []byte(`"condition"`)) || bytes.Contains(lower, []byte("${"))
	p.existingTag = bytes.Contains(lower, []byte("s3:existingobjecttag/"))
}

// identityPolicy returns doc parsed as an identity policy.
func (c *policyCache) identityPolicy(doc []byte) *parsedPolicy {
	c.mu.RLock()
	p := c.identity[string(doc)]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	p = &parsedPolicy{doc: string(doc)}
	p.policy, p.err = iam.ParsePolicy([]byte(p.doc), iam.IdentityPolicy, "")
	analyse(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.identity) >= c.max {
		for k := range c.identity {
			delete(c.identity, k)
			break
		}
	}
	c.identity[p.doc] = p
	return p
}

// bucketPolicy returns doc parsed as the bucket policy of bucket.
func (c *policyCache) bucketPolicy(bucket string, doc []byte) *parsedPolicy {
	c.mu.RLock()
	p := c.buckets[bucket]
	c.mu.RUnlock()
	if p != nil && p.doc == string(doc) {
		return p
	}
	p = &parsedPolicy{doc: string(doc)}
	p.policy, p.err = iam.ParsePolicy([]byte(p.doc), iam.BucketPolicy, bucket)
	analyse(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.buckets[bucket]; !ok && len(c.buckets) >= c.max {
		for k := range c.buckets {
			delete(c.buckets, k)
			break
		}
	}
	c.buckets[bucket] = p
	return p
}

// predefined returns the built-in policy name, nil when there is none.
func (c *policyCache) predefined(name string) *parsedPolicy { return c.builtin[name] }

// allowAll is the policy of the root user's service accounts and sessions
// before their own policy narrows it.
func (c *policyCache) allowAll() *parsedPolicy { return c.all }

// canListBucket reports whether who may list bucket (ListBuckets shows
// those besides its own).
func (s *Server) canListBucket(r *request, bucket string) bool {
	in := s.gather(r.who, bucket)
	ok, err := s.decide(r, &in, actListBucket, bucket, "", "")
	return err == nil && ok
}

// queryVersionID is the versionId query parameter as sent ("" if none).
func queryVersionID(q url.Values) string {
	if vs := q["versionId"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
