package dataplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
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
	ErrInvalidSize    = errors.New("dataplane: negative object size")    // a size below -1 (-1 is "unknown")
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
	// WriteStragglerWait is the least a write (lock, shard stream, commit,
	// delete) waits for the remaining drives once a write quorum has
	// answered; the wait is twice the time the quorum took when that is
	// longer, so a drive that is merely busy keeps up. The write then
	// returns without the drives still silent: their calls go on in the
	// background (a streamed PUT cuts a lagging drive off instead), and
	// what they miss is healed.
	WriteStragglerWait time.Duration
	// StallTimeout is how long a drive may take to accept (PUT) or deliver
	// (GET) one shard block before it is treated as failed: rpc has no I/O
	// deadline, and a peer that went silent on an open connection would
	// otherwise hold the request until TCP gives up.
	StallTimeout time.Duration
	// LockTTL is the lease of a per-key write lock (lock.go): how long a
	// key stays locked by a writer that died holding it. It must exceed
	// the time a commit takes (bounded by MetaTimeout).
	LockTTL time.Duration
	// LockWait is how long a conditional write (If-Match, If-None-Match)
	// waits for a key locked by another writer before it fails with
	// ErrConditionalConflict. Other writes wait up to MetaTimeout.
	LockWait time.Duration

	// Healing (heal.go, scan.go). Rates are MiB/s; zero takes the
	// default, a negative rate is unlimited.
	//
	// HealWorkers repair versions from the read-repair queue (at most
	// HealQueue waiting, deduplicated; more are dropped and found by the
	// scanner later). HealRate bounds the shard bytes read to rebuild
	// missing or corrupt shards (read repair, scanner and refill share it).
	HealWorkers int
	HealQueue   int
	HealRate    float64
	// ScanInterval is the pause between two passes of the background
	// scanner over the PGs this node is responsible for (the first pass
	// starts after min(ScanInterval, ScanDelay)); negative disables the
	// scanner. ScanRate bounds the shard bytes it verifies.
	ScanInterval time.Duration
	ScanDelay    time.Duration
	ScanRate     float64
	// OrphanSweepInterval is the least time between two orphan sweeps of
	// a local drive (sweep.go: shard files no record refers to), run by
	// the scanner after a pass, so never more often than ScanInterval nor
	// when the scanner is disabled; negative disables the sweep.
	// OrphanMinAge is how long ago such a file must have been committed
	// to go: longer than any commit takes between its shard's rename and
	// its record.
	OrphanSweepInterval time.Duration
	OrphanMinAge        time.Duration
	// Alive reports whether a node is up (gossip); it decides which node
	// scans a PG: the node of the PG's first drive whose node is alive.
	// nil: every node counts as alive.
	Alive func(nodeID string) bool
	// Down reports whether gossip has declared a node dead (it must be
	// cheap: it is asked before every call to another node). Calls to the
	// drives of a down node fail at once as unreachable instead of waiting
	// for MetaTimeout on a node that accepts connections but does not
	// answer (paused, overloaded or partitioned). nil: none is down.
	Down func(nodeID string) bool

	// Rebalancing (rebalance.go). Propose commits a command to the
	// cluster's Raft log (PGMoved); nil disables migration on this node.
	// RebalanceInterval is the pause between migration rounds (negative:
	// none); RebalanceRate bounds the shard bytes a migration reads, in
	// MiB/s (zero: the default; negative: unlimited).
	Propose           func(context.Context, meta.Command) error
	RebalanceInterval time.Duration
	RebalanceRate     float64

	// OnDriveOp, when set, is told of every operation on a local drive
	// that writes a shard or commits or reads a record (metrics: drive
	// latency and errors). failed: an error other than "not found", a
	// refused stale write or the caller's cancellation.
	OnDriveOp func(driveID, op string, d time.Duration, failed bool)
}

// DefaultConfig returns the default timeouts; NodeID must still be set.
func DefaultConfig() Config {
	return Config{MetaTimeout: 10 * time.Second, StragglerWait: 50 * time.Millisecond, WriteStragglerWait: 500 * time.Millisecond, StallTimeout: 30 * time.Second,
		LockTTL: 30 * time.Second, LockWait: 2 * time.Second,
		HealWorkers: 2, HealQueue: 10000, HealRate: 64, ScanInterval: 24 * time.Hour, ScanDelay: 10 * time.Minute, ScanRate: 32,
		OrphanSweepInterval: 24 * time.Hour, OrphanMinAge: time.Hour,
		RebalanceInterval: 2 * time.Second, RebalanceRate: 128}
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("dataplane: config: NodeID is empty")
	}
	if c.MetaTimeout < 0 || c.StragglerWait < 0 || c.WriteStragglerWait < 0 || c.StallTimeout < 0 || c.LockTTL < 0 || c.LockWait < 0 || c.ScanDelay < 0 || c.OrphanMinAge < 0 {
		return errors.New("dataplane: config: negative timeout")
	}
	if c.HealWorkers < 0 || c.HealQueue < 0 {
		return errors.New("dataplane: config: negative heal workers or queue")
	}
	return nil
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
	locks  lockTable                 // leases of the per-key write locks on the local drives
	early  atomic.Int64              // writes whose lock came with their shard writes (earlyLock; tests)

	maxBody int64 // the longest body of unknown size accepted: MaxPartSize (tests lower it)

	heal healer // read-repair queue, scanner and refill state (heal.go, scan.go)

	rebal rebalancer   // migration state (rebalance.go)
	fence sync.RWMutex // record writes hold it shared; fenceEpoch takes it to wait for them
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
	s, err := newStore(cfg, drives, topo, tr, log)
	if err != nil {
		return nil, err
	}
	for _, d := range local {
		s.refillOnReset(d)
		if d.RefillPending() {
			s.log.Warn("resuming a refill cut short by a restart", "drive", d.ID())
			_ = s.Refill(d.ID()) // a local drive: cannot fail
		}
	}
	return s, nil
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
	if cfg.WriteStragglerWait == 0 {
		cfg.WriteStragglerWait = def.WriteStragglerWait
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = def.StallTimeout
	}
	if cfg.LockTTL == 0 {
		cfg.LockTTL = max(def.LockTTL, 2*cfg.MetaTimeout)
	}
	if cfg.LockWait == 0 {
		cfg.LockWait = def.LockWait
	}
	if cfg.HealWorkers == 0 {
		cfg.HealWorkers = def.HealWorkers
	}
	if cfg.HealQueue == 0 {
		cfg.HealQueue = def.HealQueue
	}
	if cfg.HealRate == 0 {
		cfg.HealRate = def.HealRate
	}
	if cfg.ScanInterval == 0 {
		cfg.ScanInterval = def.ScanInterval
	}
	if cfg.ScanDelay == 0 {
		cfg.ScanDelay = def.ScanDelay
	}
	if cfg.ScanRate == 0 {
		cfg.ScanRate = def.ScanRate
	}
	if cfg.OrphanSweepInterval == 0 {
		cfg.OrphanSweepInterval = def.OrphanSweepInterval
	}
	if cfg.OrphanMinAge == 0 {
		cfg.OrphanMinAge = def.OrphanMinAge
	}
	if cfg.RebalanceInterval == 0 {
		cfg.RebalanceInterval = def.RebalanceInterval
	}
	if cfg.RebalanceRate == 0 {
		cfg.RebalanceRate = def.RebalanceRate
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
		maxBody:  MaxPartSize,
	}
	s.locks.down = cfg.Down
	s.heal.init(cfg)
	s.rebal.pace = newPacer(cfg.RebalanceRate)
	for id, d := range local {
		s.localIDs = append(s.localIDs, id)
		local[id] = fencedDrive{localDrive: d, s: s, id: id}
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

	s     *Store
	ref   drive.Ref // the exact version, for read repair
	parts []objPart // the erasure-coded streams: one, or one per part of a multipart object
	// noRepair: a reader used by healing itself, which must not queue
	// repairs of what it reads.
	noRepair bool
	// missing is the number of PG drives that did not answer when the
	// version was resolved: shards they hold count as unavailable, not bad.
	missing int
}

// objPart is one erasure-coded stream of an object: the whole object, or
// one part of a multipart object.
type objPart struct {
	start   int64  // offset of its first byte in the object
	lay     layout // its geometry
	dataDir string // shard file id; empty for an inline object
	srcs    []*shardSource
}

// shardSource is one drive holding one shard of an objPart.
type shardSource struct {
	driveID string
	store   shardStore
	inline  []byte // the shard bytes of an inline object
}

// NewReader streams length bytes from offset (length < 0: to the end),
// verifying every shard block and reconstructing from parity when needed;
// a multipart object is read part after part. A length past the end is
// cut at the end; an offset outside [0, Size] gives ErrInvalidRange. The
// reader holds about K+M shard blocks of memory.
func (o *Object) NewReader(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	size := o.Info.Size
	if offset < 0 || offset > size {
		return nil, fmt.Errorf("%w: offset %d of a %d byte object", ErrInvalidRange, offset, size)
	}
	if length < 0 || length > size-offset {
		length = size - offset
	}
	if length == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if len(o.parts) == 1 {
		return o.newPartReader(ctx, &o.parts[0], offset, length)
	}
	return &partsReader{ctx: ctx, o: o, off: offset, remaining: length}, nil
}

// partsReader reads a range of a multipart object: one part reader at a
// time, opened when the previous one is done.
type partsReader struct {
	ctx       context.Context
	o         *Object
	off       int64 // object offset of the next byte to open a part reader at
	remaining int64 // bytes not yet handed to a part reader
	cur       *objReader
	err       error
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.cur == nil {
			if r.remaining == 0 {
				return 0, io.EOF
			}
			if err := r.open(); err != nil {
				r.err = err
				return 0, err
			}
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			_ = r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// open starts the reader of the part holding r.off.
func (r *partsReader) open() error {
	parts := r.o.parts
	i := sort.Search(len(parts), func(i int) bool { return parts[i].start+parts[i].lay.size > r.off })
	if i == len(parts) {
		return fmt.Errorf("%w: offset %d past the parts", ErrInvalidRange, r.off)
	}
	p := &parts[i]
	in := r.off - p.start
	n := min(r.remaining, p.lay.size-in)
	cur, err := r.o.newPartReader(r.ctx, p, in, n)
	if err != nil {
		return err
	}
	r.cur = cur
	r.off += n
	r.remaining -= n
	return nil
}

// Close releases the current part reader.
func (r *partsReader) Close() error {
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
	if r.err == nil {
		r.err = errReaderClose
	}
	return nil
}
