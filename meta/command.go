package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// This file is the only definition of the Raft command wire format:
//
//	[kind u8][version u8][payload: JSON of the command struct]
//
// Kinds are append-only: a value is never renumbered or reused. A new field
// that older nodes must not silently drop needs a new version or a new kind;
// Decode rejects unknown JSON fields so that a payload an old node cannot fully
// understand stops it (the FSM panics) instead of letting replicas diverge.

// Kind identifies a command type on the wire.
type Kind uint8

// Command kinds. Never renumber or reuse a value.
const (
	KindBootstrap    Kind = 1
	KindNodeUp       Kind = 2
	KindSetPlacement Kind = 3
	KindCreateBucket Kind = 4
	KindDeleteBucket Kind = 5
	KindPutUser      Kind = 6
	// KindSetBucketVersioning: PutBucketVersioning.
	KindSetBucketVersioning Kind = 7
	// IAM (iam.go).
	KindDeleteUser      Kind = 8
	KindPutAccount      Kind = 9
	KindDeleteAccount   Kind = 10
	KindPutGroup        Kind = 11
	KindDeleteGroup     Kind = 12
	KindPutPolicy       Kind = 13
	KindDeletePolicy    Kind = 14
	KindAttachPolicy    Kind = 15
	KindDetachPolicy    Kind = 16
	KindSetBucketPolicy Kind = 17
	KindSetBucketACL    Kind = 18
	// KindSetBucketCORS: Put/DeleteBucketCors (cors.go).
	KindSetBucketCORS Kind = 19
	// Rebalancing and decommission (rebalance.go).
	KindPGMoved      Kind = 20
	KindSetNodeState Kind = 21
	// Audit targets (audit.go).
	KindSetAuditWebhook    Kind = 22
	KindDeleteAuditWebhook Kind = 23
	// Quotas and usage (quota.go).
	KindSetBucketQuota Kind = 24
	KindSetUserQuota   Kind = 25
	KindAddUsage       Kind = 26
	KindBeginRecount   Kind = 27
	KindEndRecount     Kind = 28
	// KindSetBucketLifecycle: Put/DeleteBucketLifecycleConfiguration
	// (lifecycle.go).
	KindSetBucketLifecycle Kind = 29

	// KindIgnoreIfUnknown is a flag bit a future command kind may carry so
	// that nodes which do not know it apply it as a no-op (Skipped) instead
	// of stopping. Only commands whose effect older nodes may safely miss
	// set it.
	KindIgnoreIfUnknown Kind = 0x80
)

// commandVersion is the payload version every current kind is encoded with.
const commandVersion uint8 = 1

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindBootstrap:
		return "bootstrap"
	case KindNodeUp:
		return "node_up"
	case KindSetPlacement:
		return "set_placement"
	case KindCreateBucket:
		return "create_bucket"
	case KindDeleteBucket:
		return "delete_bucket"
	case KindPutUser:
		return "put_user"
	case KindSetBucketVersioning:
		return "set_bucket_versioning"
	case KindDeleteUser:
		return "delete_user"
	case KindPutAccount:
		return "put_account"
	case KindDeleteAccount:
		return "delete_account"
	case KindPutGroup:
		return "put_group"
	case KindDeleteGroup:
		return "delete_group"
	case KindPutPolicy:
		return "put_policy"
	case KindDeletePolicy:
		return "delete_policy"
	case KindAttachPolicy:
		return "attach_policy"
	case KindDetachPolicy:
		return "detach_policy"
	case KindSetBucketPolicy:
		return "set_bucket_policy"
	case KindSetBucketACL:
		return "set_bucket_acl"
	case KindSetBucketCORS:
		return "set_bucket_cors"
	case KindPGMoved:
		return "pg_moved"
	case KindSetNodeState:
		return "set_node_state"
	case KindSetAuditWebhook:
		return "set_audit_webhook"
	case KindDeleteAuditWebhook:
		return "delete_audit_webhook"
	case KindSetBucketQuota:
		return "set_bucket_quota"
	case KindSetUserQuota:
		return "set_user_quota"
	case KindAddUsage:
		return "add_usage"
	case KindBeginRecount:
		return "begin_recount"
	case KindEndRecount:
		return "end_recount"
	case KindSetBucketLifecycle:
		return "set_bucket_lifecycle"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Command is one typed change to the State. Implementations are the value
// types below; State.Apply dispatches on them.
type Command interface {
	Kind() Kind
}

// Bootstrap creates the cluster identity and its root user. The proposer
// fills Cluster.ID, Cluster.Created and Root.Created.
type Bootstrap struct {
	Cluster Cluster `json:"cluster"`
	Root    User    `json:"root"`
}

// NodeUp records a node as up: it inserts the node or updates its addresses
// and drives. Joined keeps the value of the first NodeUp for the node.
type NodeUp struct {
	Node Node `json:"node"`
}

// SetPlacement installs a new placement map. Its Epoch must be the current
// epoch + 1 (else ErrStaleEpoch), so concurrent proposers cannot interleave.
type SetPlacement struct {
	Placement Placement `json:"placement"`
}

// CreateBucket creates a bucket; the proposer fills Created and Owner.
// Created must differ from that of any earlier bucket of the name (usage
// changes tell buckets apart by it); Usage is ignored (a new bucket holds
// nothing); Quota may be set.
type CreateBucket struct {
	Bucket Bucket `json:"bucket"`
}

// DeleteBucket removes a bucket's record. The caller has checked that the
// bucket is empty; meta only knows the record.
type DeleteBucket struct {
	Name string `json:"name"`
}

// PutUser creates a user or replaces the user with the same access key. It is
// rejected with ErrUserExists when the access key belongs to a user of another
// name, or the name to a user with another access key, and, with Create, when
// the access key has a user at all (a create, not a replace: of two racing
// creates of one user only one succeeds). Created keeps the value of the
// first PutUser for the access key.
type PutUser struct {
	User   User `json:"user"`
	Create bool `json:"create,omitempty"`
}

// SetBucketVersioning sets a bucket's versioning state to Enabled or
// Suspended. A bucket never returns to VersioningOff (S3 semantics).
type SetBucketVersioning struct {
	Name       string     `json:"name"`
	Versioning Versioning `json:"versioning"`
}

// Skipped is what Decode returns for a command of an unknown kind that carries
// KindIgnoreIfUnknown. It applies as a no-op and re-encodes to the same bytes.
type Skipped struct {
	RawKind Kind   // the kind byte as received, flag included
	Version uint8  // the version byte as received
	Payload []byte // the payload as received
}

// Kind implements Command.
func (Bootstrap) Kind() Kind { return KindBootstrap }

// Kind implements Command.
func (NodeUp) Kind() Kind { return KindNodeUp }

// Kind implements Command.
func (SetPlacement) Kind() Kind { return KindSetPlacement }

// Kind implements Command.
func (CreateBucket) Kind() Kind { return KindCreateBucket }

// Kind implements Command.
func (DeleteBucket) Kind() Kind { return KindDeleteBucket }

// Kind implements Command.
func (PutUser) Kind() Kind { return KindPutUser }

// Kind implements Command.
func (SetBucketVersioning) Kind() Kind { return KindSetBucketVersioning }

// Kind implements Command.
func (DeleteUser) Kind() Kind { return KindDeleteUser }

// Kind implements Command.
func (PutAccount) Kind() Kind { return KindPutAccount }

// Kind implements Command.
func (DeleteAccount) Kind() Kind { return KindDeleteAccount }

// Kind implements Command.
func (PutGroup) Kind() Kind { return KindPutGroup }

// Kind implements Command.
func (DeleteGroup) Kind() Kind { return KindDeleteGroup }

// Kind implements Command.
func (PutPolicy) Kind() Kind { return KindPutPolicy }

// Kind implements Command.
func (DeletePolicy) Kind() Kind { return KindDeletePolicy }

// Kind implements Command.
func (AttachPolicy) Kind() Kind { return KindAttachPolicy }

// Kind implements Command.
func (DetachPolicy) Kind() Kind { return KindDetachPolicy }

// Kind implements Command.
func (SetBucketPolicy) Kind() Kind { return KindSetBucketPolicy }

// Kind implements Command.
func (SetBucketACL) Kind() Kind { return KindSetBucketACL }

// Kind implements Command: the kind as received.
func (s Skipped) Kind() Kind { return s.RawKind }

// Encode returns the wire form of cmd. cmd must be one of this package's
// command value types.
func Encode(cmd Command) ([]byte, error) {
	switch c := cmd.(type) {
	case Bootstrap, NodeUp, SetPlacement, CreateBucket, DeleteBucket, PutUser, SetBucketVersioning,
		DeleteUser, PutAccount, DeleteAccount, PutGroup, DeleteGroup, PutPolicy, DeletePolicy,
		AttachPolicy, DetachPolicy, SetBucketPolicy, SetBucketACL, SetBucketCORS, PGMoved, SetNodeState,
		SetAuditWebhook, DeleteAuditWebhook, SetBucketQuota, SetUserQuota, AddUsage, BeginRecount, EndRecount,
		SetBucketLifecycle:
	case Skipped:
		if c.RawKind&KindIgnoreIfUnknown == 0 {
			return nil, fmt.Errorf("%w: skipped command of kind %d without the ignore flag", ErrInvalid, c.RawKind)
		}
		out := make([]byte, 0, 2+len(c.Payload))
		return append(append(out, byte(c.RawKind), c.Version), c.Payload...), nil
	default:
		return nil, fmt.Errorf("%w: cannot encode command type %T", ErrInvalid, cmd)
	}
	payload, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("meta: encode %s: %w", cmd.Kind(), err)
	}
	out := make([]byte, 0, 2+len(payload))
	return append(append(out, byte(cmd.Kind()), commandVersion), payload...), nil
}

// Decode parses the wire form of a command. An unknown kind is ErrUnknownKind
// unless it carries KindIgnoreIfUnknown (then Skipped); a known kind with an
// unknown version or a bad payload is ErrMalformed.
func Decode(b []byte) (Command, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: command of %d bytes", ErrMalformed, len(b))
	}
	k, v, payload := Kind(b[0]), b[1], b[2:]
	switch k {
	case KindBootstrap:
		return decodePayload[Bootstrap](k, v, payload)
	case KindNodeUp:
		return decodePayload[NodeUp](k, v, payload)
	case KindSetPlacement:
		return decodePayload[SetPlacement](k, v, payload)
	case KindCreateBucket:
		return decodePayload[CreateBucket](k, v, payload)
	case KindDeleteBucket:
		return decodePayload[DeleteBucket](k, v, payload)
	case KindPutUser:
		return decodePayload[PutUser](k, v, payload)
	case KindSetBucketVersioning:
		return decodePayload[SetBucketVersioning](k, v, payload)
	case KindDeleteUser:
		return decodePayload[DeleteUser](k, v, payload)
	case KindPutAccount:
		return decodePayload[PutAccount](k, v, payload)
	case KindDeleteAccount:
		return decodePayload[DeleteAccount](k, v, payload)
	case KindPutGroup:
		return decodePayload[PutGroup](k, v, payload)
	case KindDeleteGroup:
		return decodePayload[DeleteGroup](k, v, payload)
	case KindPutPolicy:
		return decodePayload[PutPolicy](k, v, payload)
	case KindDeletePolicy:
		return decodePayload[DeletePolicy](k, v, payload)
	case KindAttachPolicy:
		return decodePayload[AttachPolicy](k, v, payload)
	case KindDetachPolicy:
		return decodePayload[DetachPolicy](k, v, payload)
	case KindSetBucketPolicy:
		return decodePayload[SetBucketPolicy](k, v, payload)
	case KindSetBucketACL:
		return decodePayload[SetBucketACL](k, v, payload)
	case KindSetBucketCORS:
		return decodePayload[SetBucketCORS](k, v, payload)
	case KindPGMoved:
		return decodePayload[PGMoved](k, v, payload)
	case KindSetNodeState:
		return decodePayload[SetNodeState](k, v, payload)
	case KindSetAuditWebhook:
		return decodePayload[SetAuditWebhook](k, v, payload)
	case KindDeleteAuditWebhook:
		return decodePayload[DeleteAuditWebhook](k, v, payload)
	case KindSetBucketQuota:
		return decodePayload[SetBucketQuota](k, v, payload)
	case KindSetUserQuota:
		return decodePayload[SetUserQuota](k, v, payload)
	case KindAddUsage:
		return decodePayload[AddUsage](k, v, payload)
	case KindBeginRecount:
		return decodePayload[BeginRecount](k, v, payload)
	case KindEndRecount:
		return decodePayload[EndRecount](k, v, payload)
	case KindSetBucketLifecycle:
		return decodePayload[SetBucketLifecycle](k, v, payload)
	}
	if k&KindIgnoreIfUnknown != 0 {
		return Skipped{RawKind: k, Version: v, Payload: bytes.Clone(payload)}, nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnknownKind, uint8(k))
}

func decodePayload[T Command](k Kind, v uint8, payload []byte) (Command, error) {
	if v != commandVersion {
		return nil, fmt.Errorf("%w: %s version %d (this node knows %d)", ErrMalformed, k, v, commandVersion)
	}
	var c T
	if err := strictJSON(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, k, err)
	}
	return c, nil
}

// strictJSON decodes exactly one JSON value into v, refusing unknown fields
// and trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}
