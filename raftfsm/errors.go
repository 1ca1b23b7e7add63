package raftfsm

import (
	"errors"
	"fmt"

	"github.com/strata-io/strata/meta"
)

// Sentinel errors. Match with errors.Is / errors.As.
var (
	// ErrNoLeader means no leader was known until the caller's context ended.
	ErrNoLeader = errors.New("raftfsm: no leader")
	// ErrOutcomeUnknown means a command was submitted but its result was not
	// learnt (leadership lost, connection broken after sending, deadline):
	// it may or may not have been applied. Re-read the state before retrying.
	ErrOutcomeUnknown = errors.New("raftfsm: command outcome unknown")
	// ErrRejected is wrapped by a rejection the leader reported with a code
	// this node does not know (a newer leader's sentinel).
	ErrRejected = errors.New("raftfsm: command rejected")
	// ErrClosed is returned by a Store that has been closed.
	ErrClosed = errors.New("raftfsm: store closed")
	// ErrNoQuorum is returned by a Raft membership change that would leave
	// the voters without a live majority.
	ErrNoQuorum = errors.New("raftfsm: change would leave raft without a live quorum")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("raftfsm: invalid config")
)

// NotLeaderError is returned when a leader was known but could not take the
// command or read request before the caller's context ended.
type NotLeaderError struct {
	Leader string // rpc address of the leader as last seen
}

func (e *NotLeaderError) Error() string {
	return fmt.Sprintf("raftfsm: not the leader; leader at %s did not answer", e.Leader)
}

// rejectionCodes maps meta's rejection sentinels to the codes a leader sends a
// follower, so the follower returns the same sentinel (errors.Is works across
// nodes). Read-only; append new sentinels, never rename a code. Order matters:
// the first sentinel an error matches gives its code.
var rejectionCodes = []struct {
	code string
	err  error
}{
	{"already_bootstrapped", meta.ErrAlreadyBootstrapped},
	{"not_bootstrapped", meta.ErrNotBootstrapped},
	{"stale_epoch", meta.ErrStaleEpoch},
	{"bucket_exists", meta.ErrBucketExists},
	{"no_such_bucket", meta.ErrNoSuchBucket},
	{"invalid_bucket_name", meta.ErrInvalidBucketName},
	{"user_exists", meta.ErrUserExists},
	{"invalid", meta.ErrInvalid},
	{"unknown_kind", meta.ErrUnknownKind},
	{"malformed", meta.ErrMalformed},
	{"rebalancing", meta.ErrRebalancing},
	{"no_such_node", meta.ErrNoSuchNode},
	{"node_state", meta.ErrNodeState},
	{"no_such_user", meta.ErrNoSuchUser},
	{"no_such_group", meta.ErrNoSuchGroup},
	{"no_such_policy", meta.ErrNoSuchPolicy},
	{"no_such_account", meta.ErrNoSuchAccount},
	{"policy_in_use", meta.ErrPolicyInUse},
	{"account_in_use", meta.ErrAccountInUse},
	{"too_many_service_accounts", meta.ErrTooManyServiceAccounts},
	{"no_such_audit_webhook", meta.ErrNoSuchAuditWebhook},
}

// codeUnknownRejection is sent for a rejection that matches no sentinel.
const codeUnknownRejection = "rejected"

// rejectionCode returns the wire code of a rejection ("" for nil).
func rejectionCode(err error) string {
	if err == nil {
		return ""
	}
	for _, rc := range rejectionCodes {
		if errors.Is(err, rc.err) {
			return rc.code
		}
	}
	return codeUnknownRejection
}

// rejectionError rebuilds a leader's rejection on the follower: same message,
// same sentinel.
func rejectionError(code, msg string) error {
	if code == "" {
		return nil
	}
	for _, rc := range rejectionCodes {
		if rc.code == code {
			return &remoteRejection{sentinel: rc.err, msg: msg}
		}
	}
	return &remoteRejection{sentinel: ErrRejected, msg: msg}
}

// remoteRejection is a rejection reported by the leader.
type remoteRejection struct {
	sentinel error
	msg      string
}

func (r *remoteRejection) Error() string { return r.msg }
func (r *remoteRejection) Unwrap() error { return r.sentinel }
