package meta

// IAM state: accounts, users (with service accounts), groups, managed
// policies, and the bucket-level access configuration (bucket policy,
// canned ACL). Temporary (STS) credentials are NOT in the state: they are
// self-contained tokens minted and verified by package iam.
//
// Users are keyed by access key; for a user the access key is also its
// name (S3 admins create "user AK SK"). A service account is a User with
// Parent set to its parent user's access key.

// DefaultAccount is the account of users created without one.
const DefaultAccount = "default"

// Account is a tenant (e.g. one per research project). Bucket policies
// name it as arn:aws:iam::ACCOUNT:root (every user of the account) and
// arn:aws:iam::ACCOUNT:user/NAME (one user).
type Account struct {
	Name    string `json:"name"`
	Created int64  `json:"created"` // unix nanoseconds
}

// Group is a set of users that share attached policies.
type Group struct {
	Name     string   `json:"name"`
	Members  []string `json:"members,omitempty"`  // user access keys, sorted
	Policies []string `json:"policies,omitempty"` // attached policy names, sorted
	Created  int64    `json:"created"`
}

// Policy is a named managed policy: an IAM policy document (JSON, as the
// user wrote it; validated by package iam before it is proposed).
// Predefined policies (readonly, writeonly, readwrite) are not stored:
// package iam knows them.
type Policy struct {
	Name     string `json:"name"`
	Document []byte `json:"document"`
	Created  int64  `json:"created"`
	Updated  int64  `json:"updated"`
}

// IAM commands. Each is applied by one function; rejections use the
// sentinels of errors.go (ErrInvalid, ErrUserExists, ...) plus
// ErrNoSuchUser, ErrNoSuchGroup, ErrNoSuchPolicy, ErrNoSuchAccount,
// ErrPolicyInUse, ErrAccountInUse, ErrTooManyServiceAccounts.

// DeleteUser removes a user and every service account whose Parent is
// that user. The root user cannot be removed.
type DeleteUser struct {
	AccessKey string `json:"access_key"`
}

// PutAccount creates an account (no-op when it exists).
type PutAccount struct {
	Account Account `json:"account"`
}

// DeleteAccount removes an account that no user belongs to (else
// ErrAccountInUse). DefaultAccount cannot be removed.
type DeleteAccount struct {
	Name string `json:"name"`
}

// PutGroup creates a group or replaces its members (Members; policies are
// changed by Attach/DetachPolicy only). Every member must be a user that
// is not a service account.
type PutGroup struct {
	Group Group `json:"group"`
}

// DeleteGroup removes a group.
type DeleteGroup struct {
	Name string `json:"name"`
}

// PutPolicy creates or replaces a managed policy. Names of the predefined
// policies are refused.
type PutPolicy struct {
	Policy Policy `json:"policy"`
}

// DeletePolicy removes a managed policy that nothing has attached (else
// ErrPolicyInUse).
type DeletePolicy struct {
	Name string `json:"name"`
}

// AttachPolicy attaches a managed or predefined policy to exactly one of
// a user (by access key; not a service account) or a group. Attaching
// twice is a no-op.
type AttachPolicy struct {
	Policy string `json:"policy"`
	User   string `json:"user,omitempty"`
	Group  string `json:"group,omitempty"`
}

// DetachPolicy is the inverse of AttachPolicy; detaching a policy that is
// not attached is ErrInvalid.
type DetachPolicy struct {
	Policy string `json:"policy"`
	User   string `json:"user,omitempty"`
	Group  string `json:"group,omitempty"`
}

// SetBucketPolicy sets (Document non-empty) or removes (empty) a bucket's
// policy document, validated by package iam before it is proposed.
type SetBucketPolicy struct {
	Bucket   string `json:"bucket"`
	Document []byte `json:"document,omitempty"`
}

// SetBucketACL sets a bucket's canned ACL (private, public-read,
// public-read-write, authenticated-read, ...).
type SetBucketACL struct {
	Bucket string `json:"bucket"`
	ACL    string `json:"acl"`
}

// MaxServiceAccounts is the most service accounts one user may have.
const MaxServiceAccounts = 100
