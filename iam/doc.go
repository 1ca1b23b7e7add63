// Package iam holds Strata's identity logic as pure functions over data
// the caller passes in: the IAM policy language, authorization, STS
// session tokens, and the sealing of secret keys stored in Raft.
//
// # Policies
//
// ParsePolicy reads an AWS IAM policy document (Version 2012-10-17 or
// 2008-10-17; at most MaxPolicySize bytes) strictly: element names are
// case-sensitive, duplicate keys, unknown elements, unknown condition
// operators, misspelt s3: actions, malformed ARNs, a Principal in an
// IdentityPolicy, a missing Principal or a Resource outside the bucket in
// a BucketPolicy are all errors. Every error is a *PolicyError (wrapping
// ErrMalformedPolicy) that names the statement by its 1-based position
// and Sid and the element at fault:
//
//	policy: statement 2 ("DenyPut"): Action "s3:Put*Object*x": matches no S3 action
//
// A parsed *Policy is immutable. Policy.Evaluate answers one Request with
// Deny, Allow or NoMatch as AWS does: Action/NotAction (case-insensitive,
// * and ? wildcards), Resource/NotResource (wildcards and the variables
// ${aws:username}, ${aws:userid}, any ${key} of Request.Context, defaults
// ${key, 'value'} and the escapes ${*} ${?} ${$}), Principal/NotPrincipal
// ("*", account root or bare account, user ARNs), and Condition with the
// String, Numeric, Date, Bool, Binary, IpAddress, Arn and Null operators,
// their ...IfExists forms and the ForAnyValue:/ForAllValues: qualifiers.
// Condition key names ignore case (the caller lower-cases Context keys).
// A key missing from the request makes a condition false, except for
// negated operators (StringNotEquals, NotIpAddress, ...), ...IfExists and
// ForAllValues, which are then true, and Null, which tests exactly that.
// A statement whose policy variable has no value never allows.
//
// Authorize combines the identity policies of a user and its groups, an
// optional session policy (STS session or service account) and the bucket
// policy: an explicit Deny anywhere wins; the session policy narrows
// identity grants and bucket grants to the user, but not a bucket grant
// to "*". Predefined holds the built-in policies readonly, writeonly and
// readwrite. Policy.IsPublic answers GetBucketPolicyStatus.
//
// # STS
//
// MintSession returns temporary credentials whose session token is
// AES-256-GCM sealed with a key derived from the STS key and carries the
// claims (parent user, exact expiry, session policy) and the access key;
// the secret key is an HMAC of the access key and the token's nonce, so
// VerifySession recomputes it and nothing is stored. A token presented
// with another access key, altered, or sealed with another key is
// ErrInvalidToken; at or after its expiry it is ErrExpiredToken.
//
// # Secrets
//
// Seal and Unseal encrypt secret keys (AES-256-GCM) for storage in Raft
// logs and snapshots.
//
// The package imports no other package of ours and holds no mutable
// state: callers pass keys, time and state in.
package iam
