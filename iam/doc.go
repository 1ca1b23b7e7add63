// Package iam holds Strata's identity logic as pure functions over data from
// meta: sealing secret keys for storage in Raft, and (in later work) the
// policy language, STS token minting and verification, and service accounts.
//
// It imports no other package of ours; callers pass keys, time and state in.
package iam
