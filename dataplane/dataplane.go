package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
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
	ErrInvalidRange   = errors.New("dataplane: range not satisfiable")   // NewReader offset outside the object
	ErrInvalidSize    = errors.New("dataplane: negative object size")    // PutObject size < 0
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

// Config configures a Store. Zero durations take the defaults of
// DefaultConfig.
type Config struct {
	NodeID string // this node's id, to recognise local drives

	// MetaTimeout bounds each fan-out of small calls (read a record, commit,
	// delete, list) when ctx has no earlier deadline, so that a silent node
	// turns into a quorum error instead of a hung request.
	MetaTimeout time.Duration
	// StragglerWait is how long a read waits for the remaining drives once
	// the answers it has already decide the version: a late drive is then
	// read around (from parity) instead of delaying the request.
	StragglerWait time.Duration
	// StallTimeout is how long a drive may take to accept (PUT) or deliver
	// (GET) one shard block before it is treated as failed: rpc has no I/O
	// deadline, and a peer that went silent on an open connection would
	// otherwise hold the request until TCP gives up.
	StallTimeout time.Duration
}

// DefaultConfig returns the default timeouts; NodeID must still be set.
func DefaultConfig() Config {
	return Config{MetaTimeout: 10 * time.Second, StragglerWait: 50 * time.Millisecond, StallTimeout: 30 * time.Second}
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("dataplane: config: NodeID is empty")
	}
	if c.MetaTimeout < 0 || c.StragglerWait < 0 || c.StallTimeout < 0 {
		return errors.New("dataplane: config: negative timeout")
	}
	return nil
}

// infoOf converts a drive record into the ObjectInfo callers see.
func infoOf(fi drive.FileInfo) ObjectInfo {
	return ObjectInfo{
		Bucket:    fi.Bucket,
		Key:       fi.Key,
		VersionID: fi.VersionID,
		Size:      fi.Size,
		ETag:      fi.ETag,
		ModTime:   time.Unix(0, fi.ModTime),
		Meta:      fi.Meta,
	}
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
//
// A write is acknowledged only once its shards are fsync'd and its record
// committed on a write quorum (K, or K+1 when K == M); a read needs K drives
// holding the same version. A Store is safe for concurrent use.
type Store struct {
	cfg      Config
	log      *slog.Logger
	topology Topology
	tr       *rpc.Transport // nil: no other node is reachable

	local    map[string]localDrive // this node's drives by id; fixed after New
	localIDs []string              // sorted keys of local

	codecs codecs
	topo   atomic.Pointer[topoCache] // derived from the latest placement epoch
}

// New builds a Store over the node's local drives and registers the
// dataplane's rpc handlers on tr (call before tr.Start). tr may be nil for a
// store that only uses its local drives (a single node without rpc).
func New(cfg Config, local []*drive.Drive, topo Topology, tr *rpc.Transport, log *slog.Logger) (*Store, error) {
	drives := make(map[string]localDrive, len(local))
	for _, d := range local {
		if d == nil {
			return nil, errors.New("dataplane: nil drive")
		}
		if _, dup := drives[d.ID()]; dup {
			return nil, fmt.Errorf("dataplane: drive %s given twice", d.ID())
		}
		drives[d.ID()] = d
	}
	return newStore(cfg, drives, topo, tr, log)
}

// newStore is New over any localDrive implementation (tests inject faults).
func newStore(cfg Config, local map[string]localDrive, topo Topology, tr *rpc.Transport, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if topo == nil {
		return nil, errors.New("dataplane: nil topology")
	}
	def := DefaultConfig()
	if cfg.MetaTimeout == 0 {
		cfg.MetaTimeout = def.MetaTimeout
	}
	if cfg.StragglerWait == 0 {
		cfg.StragglerWait = def.StragglerWait
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = def.StallTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		cfg:      cfg,
		log:      log.With("component", "dataplane"),
		topology: topo,
		tr:       tr,
		local:    local,
	}
	for id := range local {
		s.localIDs = append(s.localIDs, id)
	}
	sort.Strings(s.localIDs)
	if tr != nil {
		s.registerHandlers(tr)
	}
	return s, nil
}

// metaCtx bounds a fan-out of small calls by MetaTimeout.
func (s *Store) metaCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.MetaTimeout)
}

// Object is a resolved object version, ready to read.
type Object struct {
	Info ObjectInfo

	s       *Store
	lay     layout
	dataDir string         // empty for an inline object
	srcs    []*shardSource // by shard index; nil: no drive answered with it
	// missing is the number of PG drives that did not answer when the
	// version was resolved: shards they hold count as unavailable, not bad.
	missing int
}

// shardSource is one drive holding one shard of the resolved version.
type shardSource struct {
	driveID string
	store   shardStore
	fi      drive.FileInfo
}

// GetObject resolves the current version of bucket/key by quorum.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*Object, error) {
	return s.resolve(ctx, bucket, key)
}

// HeadObject is GetObject without preparing to read.
func (s *Store) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	o, err := s.resolve(ctx, bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	return o.Info, nil
}

// NewReader streams length bytes from offset (length < 0: to the end),
// verifying every shard block and reconstructing from parity when needed.
// A length past the end is cut at the end; an offset outside [0, Size] gives
// ErrInvalidRange. The reader holds about K+M shard blocks of memory.
func (o *Object) NewReader(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	return o.newReader(ctx, offset, length)
}

// DeleteObject removes bucket/key (writes a tombstone on a write quorum).
// Deleting a missing key succeeds.
//
// The PG drives are probed first: with fewer than a write quorum reachable
// nothing is written (*QuorumError); when the drives that answered hold no
// record at all and are enough to see any acknowledged version, there is
// nothing to hide and no tombstone is written.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	rt, err := s.route(bucket, key)
	if err != nil {
		return err
	}
	n, need := len(rt.drives), writeQuorum(rt.k, rt.m)
	pr := s.probe(ctx, rt, bucket, key)
	if err := ctx.Err(); err != nil {
		return err
	}
	if pr.n < need {
		return &QuorumError{Op: "delete", Have: pr.n, Need: need}
	}
	if pr.records == 0 && pr.n > n-need {
		return nil
	}
	fi := drive.FileInfo{
		Bucket:    bucket,
		Key:       key,
		VersionID: newVersionID(),
		ModTime:   pr.modTime(),
		Deleted:   true,
		K:         rt.k,
		M:         rt.m,
	}
	_, ok := s.commitAll(context.WithoutCancel(ctx), rt, fi, pr.reachable, nil)
	if ok < need {
		return &QuorumError{Op: "delete", Have: ok, Need: need}
	}
	return nil
}
