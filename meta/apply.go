package meta

import "fmt"

// Apply changes the state by one command. It is deterministic: the same
// command applied to equal states gives equal states on every replica. A
// rejection is returned as an error (a sentinel of this package, possibly
// wrapped with detail) and leaves the state unchanged. Apply copies what it
// keeps, so the caller may reuse cmd afterwards.
func (s *State) Apply(cmd Command) error {
	s.ensureMaps()
	switch c := cmd.(type) {
	case Bootstrap:
		return s.applyBootstrap(c)
	case NodeUp:
		return s.applyNodeUp(c)
	case SetPlacement:
		return s.applySetPlacement(c)
	case CreateBucket:
		return s.applyCreateBucket(c)
	case DeleteBucket:
		return s.applyDeleteBucket(c)
	case SetBucketVersioning:
		return s.applySetBucketVersioning(c)
	case PutUser:
		return s.applyPutUser(c)
	case DeleteUser:
		return s.applyDeleteUser(c)
	case PutAccount:
		return s.applyPutAccount(c)
	case DeleteAccount:
		return s.applyDeleteAccount(c)
	case PutGroup:
		return s.applyPutGroup(c)
	case DeleteGroup:
		return s.applyDeleteGroup(c)
	case PutPolicy:
		return s.applyPutPolicy(c)
	case DeletePolicy:
		return s.applyDeletePolicy(c)
	case AttachPolicy:
		return s.applyAttachPolicy(c)
	case DetachPolicy:
		return s.applyDetachPolicy(c)
	case SetBucketPolicy:
		return s.applySetBucketPolicy(c)
	case SetBucketACL:
		return s.applySetBucketACL(c)
	case SetBucketCORS:
		return s.applySetBucketCORS(c)
	case PGMoved:
		return s.applyPGMoved(c)
	case SetNodeState:
		return s.applySetNodeState(c)
	case SetAuditWebhook:
		return s.applySetAuditWebhook(c)
	case DeleteAuditWebhook:
		return s.applyDeleteAuditWebhook(c)
	case SetBucketQuota:
		return s.applySetBucketQuota(c)
	case SetUserQuota:
		return s.applySetUserQuota(c)
	case AddUsage:
		return s.applyAddUsage(c)
	case BeginRecount:
		return s.applyBeginRecount(c)
	case EndRecount:
		return s.applyEndRecount(c)
	case SetBucketLifecycle:
		return s.applySetBucketLifecycle(c)
	case Skipped:
		// A newer command this version does not know, marked safe to skip.
		return nil
	default:
		return fmt.Errorf("%w: unknown command type %T", ErrInvalid, cmd)
	}
}

// Bootstrapped reports whether the cluster has its identity (Bootstrap applied).
func (s *State) Bootstrapped() bool { return s.Cluster.ID != "" }

// SortedNodes returns the nodes ordered by id. The pointers are the state's
// own: callers must not modify them.
func (s *State) SortedNodes() []*Node {
	out := make([]*Node, 0, len(s.Nodes))
	for _, id := range sortedKeys(s.Nodes) {
		out = append(out, s.Nodes[id])
	}
	return out
}

// ensureMaps makes a zero State usable.
func (s *State) ensureMaps() {
	if s.Nodes == nil {
		s.Nodes = map[string]*Node{}
	}
	if s.Buckets == nil {
		s.Buckets = map[string]*Bucket{}
	}
	if s.Users == nil {
		s.Users = map[string]*User{}
	}
	if s.Accounts == nil {
		s.Accounts = map[string]*Account{}
	}
	if s.Groups == nil {
		s.Groups = map[string]*Group{}
	}
	if s.Policies == nil {
		s.Policies = map[string]*Policy{}
	}
	if s.AuditWebhooks == nil {
		s.AuditWebhooks = map[string]*AuditWebhook{}
	}
	if s.UsageSeqs == nil {
		s.UsageSeqs = map[string]uint64{}
	}
}

// reject wraps a rejection sentinel with a detail.
func reject(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// invalid wraps ErrInvalid with a detail.
func invalid(format string, args ...any) error { return reject(ErrInvalid, format, args...) }
