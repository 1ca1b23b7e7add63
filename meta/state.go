package meta

// State is the whole replicated control state. It is changed only by Apply
// (one function per command kind) and read under the owner's lock.
type State struct {
	Cluster   Cluster             `json:"cluster"`
	Nodes     map[string]*Node    `json:"nodes"`              // by node id
	Placement Placement           `json:"placement"`          // current PG map; Epoch 0 = none yet
	Buckets   map[string]*Bucket  `json:"buckets"`            // by bucket name
	Users     map[string]*User    `json:"users"`              // by access key (users and service accounts)
	Accounts  map[string]*Account `json:"accounts,omitempty"` // by name
	Groups    map[string]*Group   `json:"groups,omitempty"`   // by name
	Policies  map[string]*Policy  `json:"policies,omitempty"` // managed policies by name
	// AuditWebhooks are the audit targets (audit.go), by URL.
	AuditWebhooks map[string]*AuditWebhook `json:"audit_webhooks,omitempty"`
	// UsageSeqs is, by node id, the Seq of the last usage batch applied
	// (quota.go): a batch proposed again is applied once.
	UsageSeqs map[string]uint64 `json:"usage_seqs,omitempty"`
}

// Cluster is the identity and the fixed settings chosen at bootstrap.
type Cluster struct {
	ID        string `json:"id"`         // empty until bootstrapped
	K         int    `json:"k"`          // data shards
	M         int    `json:"m"`          // parity shards
	PGCount   int    `json:"pg_count"`   // placement groups
	BlockSize int64  `json:"block_size"` // erasure block size in bytes
	InlineMax int64  `json:"inline_max"` // objects up to this size are stored inline
	Created   int64  `json:"created"`    // unix nanoseconds
	Expect    int    `json:"expect"`     // nodes that formed the cluster (--bootstrap-expect)
}

// NodeState is the lifecycle state of a node or drive.
type NodeState uint8

// Node and drive states.
const (
	StateUp       NodeState = 1
	StateDraining NodeState = 2
	StateOut      NodeState = 3
)

// Node is one member of the cluster as recorded in Raft.
type Node struct {
	ID      string    `json:"id"`
	RPCAddr string    `json:"rpc_addr"` // host:port of rpc (Raft + shards)
	S3Addr  string    `json:"s3_addr"`  // host:port of the S3 frontend
	Drives  []*Drive  `json:"drives"`
	State   NodeState `json:"state"`
	Joined  int64     `json:"joined"` // unix nanoseconds
}

// Drive is one drive of a node.
type Drive struct {
	ID     string    `json:"id"`
	NodeID string    `json:"node_id"`
	Path   string    `json:"path"`
	State  NodeState `json:"state"`
}

// Placement maps placement groups to drives. PGs[pg] is the ordered list of
// K+M drive ids: shard i of every object in pg lives on PGs[pg][i].
//
// A new epoch after the first records, in Moving, the previous drive list
// of every PG whose list changed: those PGs are being rebalanced. While a
// PG is in Moving, shard i of its objects may be on PGs[pg][i] (written
// or copied since) or on Moving[pg][i] (not copied yet), and readers
// consult both; writes go to PGs[pg]. The node migrating the PG removes it
// from Moving (PGMoved) once every version is on the new drives, verified,
// and the old copies are gone. No new epoch is installed while any PG
// moves.
type Placement struct {
	Epoch uint64     `json:"epoch"`
	PGs   [][]string `json:"pgs"`
	// Moving: PG -> its drive list in the previous epoch, for PGs still
	// moving. Empty when no rebalance runs.
	Moving map[int][]string `json:"moving,omitempty"`
	// MovingTotal is how many PGs this epoch moved (len(Moving) when it
	// was installed); Created when it was installed (unix nanoseconds,
	// filled by the proposer). Both serve progress reports.
	MovingTotal int   `json:"moving_total,omitempty"`
	Created     int64 `json:"created,omitempty"`
}

// Bucket is one S3 bucket and its configuration.
type Bucket struct {
	Name    string `json:"name"`
	Owner   string `json:"owner"`   // access key of the creating user
	Created int64  `json:"created"` // unix nanoseconds
	Region  string `json:"region,omitempty"`
	// Versioning is the bucket's S3 versioning state; the zero value is
	// a bucket that was never versioned.
	Versioning Versioning `json:"versioning,omitempty"`
	// Policy is the bucket policy document (JSON), nil when none.
	Policy []byte `json:"policy,omitempty"`
	// ACL is the bucket's canned ACL; "" means private.
	ACL string `json:"acl,omitempty"`
	// CORS is the bucket's CORS configuration (cors.go), nil when none.
	CORS []CORSRule `json:"cors,omitempty"`
	// Quota is the bucket's hard quota in bytes, 0 when none; Usage what
	// it holds (quota.go). Only SetBucketQuota changes Quota after
	// creation, and only the usage commands change Usage.
	Quota int64 `json:"quota,omitempty"`
	Usage Usage `json:"usage,omitzero"`
	// Lifecycle is the bucket's lifecycle configuration (lifecycle.go),
	// nil when none.
	Lifecycle []LifecycleRule `json:"lifecycle,omitempty"`
}

// Versioning is a bucket's S3 versioning state.
type Versioning uint8

// Versioning states. A bucket starts VersioningOff and, once versioned,
// moves only between Enabled and Suspended.
const (
	VersioningOff       Versioning = 0
	VersioningEnabled   Versioning = 1
	VersioningSuspended Versioning = 2
)

// String is the state as S3 spells it in VersioningConfiguration ("" for
// a bucket never versioned).
func (v Versioning) String() string {
	switch v {
	case VersioningEnabled:
		return "Enabled"
	case VersioningSuspended:
		return "Suspended"
	}
	return ""
}

// User is an IAM identity with a SigV4 key pair. The secret is sealed
// (encrypted with a key derived from the cluster key) before it enters Raft.
type User struct {
	AccessKey    string `json:"access_key"`
	SecretSealed []byte `json:"secret_sealed"`
	Name         string `json:"name"`
	Root         bool   `json:"root,omitempty"`
	Disabled     bool   `json:"disabled,omitempty"`
	Created      int64  `json:"created"`
	// Account is the tenant the user belongs to (DefaultAccount when
	// created without one); a service account has its parent's.
	Account string `json:"account,omitempty"`
	// Policies are the names of the policies attached to the user.
	Policies []string `json:"policies,omitempty"`
	// Parent is, for a service account, the access key of the user that
	// owns it ("" for a user). A service account has the permissions of
	// its parent, narrowed by SessionPolicy when set.
	Parent        string `json:"parent,omitempty"`
	SessionPolicy []byte `json:"session_policy,omitempty"`
	// Quota is the user's hard quota in bytes over the buckets it owns,
	// 0 when none (quota.go). A service account has none. PutUser keeps
	// an existing user's quota: only SetUserQuota changes it.
	Quota int64 `json:"quota,omitempty"`
}

// NewState returns an empty state with its maps allocated.
func NewState() *State {
	return &State{
		Nodes:    map[string]*Node{},
		Buckets:  map[string]*Bucket{},
		Users:    map[string]*User{},
		Accounts: map[string]*Account{},
		Groups:   map[string]*Group{},
		Policies: map[string]*Policy{},

		AuditWebhooks: map[string]*AuditWebhook{},
		UsageSeqs:     map[string]uint64{},
	}
}
