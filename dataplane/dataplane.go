package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/rpc"
)

// Sentinel errors. Match with errors.Is / errors.As.
var (
	ErrObjectNotFound = errors.New("dataplane: object not found")
	ErrIncompleteBody = errors.New("dataplane: body shorter than its declared size")
	ErrBadDigest      = errors.New("dataplane: Content-MD5 does not match the body")
	ErrNoPlacement    = errors.New("dataplane: cluster has no placement yet")
	ErrCorrupt        = errors.New("dataplane: shard checksum mismatch") // only when fewer than K good shards remain
)

// QuorumError reports that fewer drives than needed answered.
type QuorumError struct {
	Op   string
	Have int
	Need int
}

func (e *QuorumError) Error() string {
	return fmt.Sprintf("dataplane: %s quorum not met: %d of %d drives", e.Op, e.Have, e.Need)
}

// Topology gives the dataplane read access to the replicated state
// (cluster settings, nodes and their drives, placement).
type Topology interface {
	View(fn func(*meta.State))
}

// Config configures a Store.
type Config struct {
	NodeID string // this node's id, to recognise local drives
}

// PutOptions are the client-supplied attributes of a new object.
type PutOptions struct {
	ContentMD5 []byte            // optional: verified against the body (ErrBadDigest)
	Meta       map[string]string // stored as is: content-type, x-amz-meta-*, ...
}

// ObjectInfo describes one object version.
type ObjectInfo struct {
	Bucket    string
	Key       string
	VersionID string
	Size      int64
	ETag      string // hex, no quotes
	ModTime   time.Time
	Meta      map[string]string
}

// ListOptions selects a page of ListObjects.
type ListOptions struct {
	Prefix    string
	Delimiter string
	After     string // exclusive start: continuation token or start-after
	Max       int    // 1..1000
}

// ListResult is one page of keys and common prefixes, both sorted.
type ListResult struct {
	Objects   []ObjectInfo
	Prefixes  []string
	Truncated bool
	Next      string // when Truncated: the last key or prefix returned; pass as After
}

// Store is the erasure-coded object store of one node: it coordinates reads
// and writes across the PG's drives (local or remote over rpc), and serves
// its local drives to other nodes.
type Store struct {
	// unexported fields: owned by the dataplane implementation
}

// New builds a Store over the node's local drives and registers the
// dataplane's rpc handlers on tr (call before tr.Start).
func New(cfg Config, local []*drive.Drive, topo Topology, tr *rpc.Transport, log *slog.Logger) (*Store, error) {
	panic("dataplane: not implemented")
}

// PutObject reads exactly size bytes from r, erasure-codes them across the
// object's PG and returns once the data and the record are durable on a write
// quorum. An error from r is returned wrapped (%w).
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	panic("dataplane: not implemented")
}

// Object is a resolved object version, ready to read.
type Object struct {
	Info ObjectInfo
	// unexported fields: the drives holding it and their records
}

// GetObject resolves the current version of bucket/key by quorum.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*Object, error) {
	panic("dataplane: not implemented")
}

// NewReader streams length bytes from offset (length < 0: to the end),
// verifying every shard block and reconstructing from parity when needed.
func (o *Object) NewReader(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	panic("dataplane: not implemented")
}

// HeadObject is GetObject without preparing to read.
func (s *Store) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	panic("dataplane: not implemented")
}

// DeleteObject removes bucket/key (writes a tombstone on a write quorum).
// Deleting a missing key succeeds.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	panic("dataplane: not implemented")
}

// ListObjects returns one page of bucket's current objects.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	panic("dataplane: not implemented")
}

// DropBucket removes all records and shards of bucket from every drive.
func (s *Store) DropBucket(ctx context.Context, bucket string) error {
	panic("dataplane: not implemented")
}
