package meta

import "errors"

// Rejections returned by State.Apply. A rejected command leaves the state
// unchanged. Match with errors.Is; details are wrapped with %w.
var (
	ErrAlreadyBootstrapped = errors.New("meta: cluster already bootstrapped")
	ErrNotBootstrapped     = errors.New("meta: cluster not bootstrapped")
	ErrStaleEpoch          = errors.New("meta: placement epoch is not current+1")
	// ErrRebalancing: a new placement epoch while PGs of the current one
	// are still moving.
	ErrRebalancing = errors.New("meta: a rebalance is in progress")
	// ErrNoSuchNode: a node state change names a node the cluster does
	// not know.
	ErrNoSuchNode = errors.New("meta: no such node")
	// ErrNodeState: a node state change the node's state does not allow
	// (e.g. out of the cluster while it still holds data).
	ErrNodeState         = errors.New("meta: node state change not allowed")
	ErrBucketExists      = errors.New("meta: bucket already exists")
	ErrNoSuchBucket      = errors.New("meta: no such bucket")
	ErrInvalidBucketName = errors.New("meta: invalid bucket name")
	ErrUserExists        = errors.New("meta: user already exists")
	ErrInvalid           = errors.New("meta: invalid command")

	// IAM rejections (iam.go).
	ErrNoSuchUser             = errors.New("meta: no such user")
	ErrNoSuchGroup            = errors.New("meta: no such group")
	ErrNoSuchPolicy           = errors.New("meta: no such policy")
	ErrNoSuchAccount          = errors.New("meta: no such account")
	ErrPolicyInUse            = errors.New("meta: policy is attached")
	ErrAccountInUse           = errors.New("meta: account has users")
	ErrTooManyServiceAccounts = errors.New("meta: too many service accounts")

	// ErrNoSuchAuditWebhook: DeleteAuditWebhook names no webhook (audit.go).
	ErrNoSuchAuditWebhook = errors.New("meta: no such audit webhook")
)

// Errors of the wire formats (Decode, ReadSnapshot, ComputePlacement).
var (
	// ErrUnknownKind is returned by Decode for a command kind this version
	// does not know and that does not carry KindIgnoreIfUnknown.
	ErrUnknownKind = errors.New("meta: unknown command kind")
	// ErrMalformed is returned for bytes that are not a valid command or
	// snapshot of a known kind and version.
	ErrMalformed = errors.New("meta: malformed encoding")
	// ErrNotEnoughDrives is returned by ComputePlacement when fewer drives
	// are up than a PG needs.
	ErrNotEnoughDrives = errors.New("meta: not enough drives for placement")
)
