// Package meta holds Strata's replicated control state and the pure functions
// that change it: the typed Raft commands and their wire format (command.go),
// State.Apply with one function per command kind (cluster.go, node.go,
// placement.go, bucket.go, cors.go, lifecycle.go, user.go, account.go, group.go,
// policy.go, audit.go, quota.go), deterministic PG placement (ComputePlacement for a
// first epoch by rendezvous hashing, NextPlacement for balanced epochs that
// move the least, ComparePlacements for what an epoch moves), and the
// versioned snapshot format (snapshot.go).
//
// Main types: State, Command (Bootstrap, NodeUp, SetPlacement, CreateBucket,
// DeleteBucket, SetBucketVersioning, PutUser, DeleteUser, PutAccount,
// DeleteAccount, PutGroup, DeleteGroup, PutPolicy, DeletePolicy,
// AttachPolicy, DetachPolicy, SetBucketPolicy, SetBucketACL, SetBucketCORS,
// SetAuditWebhook, DeleteAuditWebhook, SetBucketQuota, SetUserQuota,
// AddUsage, BeginRecount, EndRecount, SetBucketLifecycle, Skipped),
// Placement, a bucket's CORS rules (CORSRule, checked by ValidateCORS),
// its lifecycle rules (LifecycleRule, checked by ValidateLifecycle;
// package lifecycle evaluates them), the IAM records of iam.go (User with
// its service accounts, Account, Group, Policy), and the audit targets
// (AuditWebhook, its bearer token sealed by the proposer), and quotas with
// the usage they are checked against (Bucket.Quota, User.Quota, Usage:
// the numbers and the rule Usage.Counts; package quota runs the
// accounting).
//
// IAM state holds names and documents only: package iam parses and
// evaluates policy documents, and the admin API validates them before it
// proposes a command. DefaultAccount always exists implicitly (it is never
// stored); meta knows the names of iam's predefined policies
// (PredefinedPolicyNames) so that attaching one can be checked.
//
// Everything here is pure: no I/O beyond the io.Reader/io.Writer handed in,
// no time.Now, no randomness, so every replica applies a command to the same
// result. The proposer puts timestamps and ids into commands. meta imports no
// other package of Strata; raftfsm applies commands to it.
package meta
