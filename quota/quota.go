package quota

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// Control is what the accountant needs from the replicated control plane:
// raftfsm.Store implements it.
type Control interface {
	// Propose commits cmd and returns once it is applied on this node
	// (or rejected).
	Propose(ctx context.Context, cmd meta.Command) error
	// View calls fn with the local state under a read lock.
	View(fn func(*meta.State))
	// Barrier waits until this node has applied what the leader had
	// committed when it was called.
	Barrier(ctx context.Context) error
}

// Lister lists what a bucket holds, for recounts: *dataplane.Store
// implements it.
type Lister interface {
	ListObjectVersions(ctx context.Context, bucket string, opts dataplane.ListVersionsOptions) (dataplane.ListVersionsResult, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts dataplane.ListUploadsOptions) (dataplane.ListUploadsResult, error)
	ListParts(ctx context.Context, bucket, key, uploadID string, opts dataplane.ListPartsOptions) (dataplane.ListPartsResult, error)
}

// Config configures an Accountant. Zero fields take the values of
// DefaultConfig.
type Config struct {
	NodeID string // this node's id: batches are numbered per node
	// FlushInterval is how often the changes counted here are proposed.
	FlushInterval time.Duration
	// RecountInterval is the least time between two recounts of a bucket;
	// negative: no recounts.
	RecountInterval time.Duration
	// RecountPageRate bounds the listing pages per second a recount reads.
	RecountPageRate float64
	// Alive reports whether a node is up (gossip), to choose the node
	// that recounts a bucket; nil: every node the state records as up.
	Alive func(nodeID string) bool
	// Now is the clock of batch numbers and recount times; nil: time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: flush every 2 s, recount each bucket
// at most every 10 minutes at 20 pages (20,000 versions) per second.
func DefaultConfig() Config {
	return Config{FlushInterval: 2 * time.Second, RecountInterval: 10 * time.Minute, RecountPageRate: 20, Now: time.Now}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.FlushInterval <= 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.RecountInterval == 0 {
		c.RecountInterval = d.RecountInterval
	}
	if c.RecountPageRate <= 0 {
		c.RecountPageRate = d.RecountPageRate
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// ErrExceeded is wrapped by every *ExceededError.
var ErrExceeded = errors.New("quota: quota exceeded")

// ExceededError is a write refused because it would pass a quota.
type ExceededError struct {
	User   bool   // the owner's quota (else the bucket's)
	Bucket string // the bucket written to
	Owner  string // the bucket's owner (access key)
	Quota  int64  // bytes
	Used   int64  // bytes in use as this node counts them, before the write
	Size   int64  // bytes of the write (read so far, for a body of unknown length)
}

func (e *ExceededError) Error() string {
	if e.User {
		return fmt.Sprintf("quota: user quota exceeded: user %s (owner of bucket %s) uses %d of %d bytes; the write needs %d more", e.Owner, e.Bucket, e.Used, e.Quota, e.Size)
	}
	return fmt.Sprintf("quota: bucket quota exceeded: bucket %s uses %d of %d bytes; the write needs %d more", e.Bucket, e.Used, e.Quota, e.Size)
}

// Unwrap makes errors.Is(err, ErrExceeded) hold.
func (e *ExceededError) Unwrap() error { return ErrExceeded }

// bucketKey names one bucket: Created tells it from an earlier bucket of
// the same name.
type bucketKey struct {
	name    string
	created int64
}

// change is bytes and object versions counted.
type change struct{ bytes, objects int64 }

// changes are one bucket's changes by the recount epoch they were
// counted under.
type changes map[uint64]change

// batch is an AddUsage proposed and not yet acknowledged, with its
// changes by bucket (for admission while it is in flight).
type batch struct {
	cmd meta.AddUsage
	by  map[bucketKey]changes
}

// maxBatchChanges bounds the changes of one AddUsage; more wait for the
// next batch of the same flush.
const maxBatchChanges = 4096

// aheadStep is how much a body of unknown length reserves beyond what it
// has read, when the quota leaves at least aheadRoom bytes free (so that
// reserving ahead never refuses a body that would fit).
const (
	aheadStep = 1 << 20
	aheadRoom = 8 * aheadStep
)

// Accountant counts this node's usage changes, admits writes against the
// quotas, flushes the changes to Raft and recounts buckets. It is safe
// for concurrent use.
type Accountant struct {
	cfg    Config
	ctl    Control
	lister Lister
	log    *slog.Logger

	flushMu sync.Mutex // one flush at a time

	// mu guards the maps below. It is taken before Control.View's read
	// lock (never the other way round), so that admission reads the state
	// and this node's changes at one instant.
	mu       sync.Mutex
	pending  map[bucketKey]changes // counted, not yet proposed
	inflight *batch                // proposed, not yet applied here
	reserved map[bucketKey]int64   // bytes of admitted writes in flight
	lastSeq  uint64
}

// New returns an accountant; Run starts its flushes and recounts.
func New(cfg Config, ctl Control, lister Lister, log *slog.Logger) (*Accountant, error) {
	cfg = cfg.withDefaults()
	if cfg.NodeID == "" || ctl == nil {
		return nil, errors.New("quota: Config.NodeID and a Control are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Accountant{
		cfg: cfg, ctl: ctl, lister: lister, log: log.With("component", "quota"),
		pending: map[bucketKey]changes{}, reserved: map[bucketKey]int64{},
	}, nil
}

// Run flushes every FlushInterval and recounts due buckets until ctx is
// done. Close makes the last flush.
func (a *Accountant) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { a.flushLoop(ctx) })
	if a.cfg.RecountInterval > 0 && a.lister != nil {
		wg.Go(func() { a.recountLoop(ctx) })
	}
	wg.Wait()
}

// Close flushes what is still counted here, within ctx. Call it after
// the S3 frontend stopped and before Raft closes.
func (a *Accountant) Close(ctx context.Context) error {
	return a.Flush(ctx)
}

func (a *Accountant) flushLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.FlushInterval)
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fctx, cancel := context.WithTimeout(ctx, max(10*time.Second, 4*a.cfg.FlushInterval))
		err := a.Flush(fctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			a.log.Warn("usage flush failed; retrying", "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("usage flush works again")
			failing = false
		}
	}
}

// Flush proposes the changes counted here (a batch left from a failed
// flush first, as it was) and returns once they are applied here.
func (a *Accountant) Flush(ctx context.Context) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	for {
		b := a.nextBatch()
		if b == nil {
			return nil
		}
		err := a.ctl.Propose(ctx, b.cmd)
		if err != nil && !errors.Is(err, meta.ErrInvalid) && !errors.Is(err, meta.ErrNotBootstrapped) {
			return err // kept in flight, proposed again as it is
		}
		if err != nil {
			a.log.Error("usage batch rejected; its changes are dropped until a recount", "seq", b.cmd.Seq, "err", err)
		}
		a.mu.Lock()
		a.inflight = nil
		a.mu.Unlock()
	}
}

// nextBatch returns the batch in flight, or makes one of the pending
// changes; nil when there is nothing to flush.
func (a *Accountant) nextBatch() *batch {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inflight != nil {
		return a.inflight
	}
	if len(a.pending) == 0 {
		return nil
	}
	keys := make([]bucketKey, 0, len(a.pending))
	for k := range a.pending {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y bucketKey) int {
		return cmp.Or(cmp.Compare(x.name, y.name), cmp.Compare(x.created, y.created))
	})
	b := &batch{by: map[bucketKey]changes{}}
	for _, k := range keys {
		if len(b.cmd.Changes) >= maxBatchChanges {
			break
		}
		chs := a.pending[k]
		epochs := make([]uint64, 0, len(chs))
		for e := range chs {
			epochs = append(epochs, e)
		}
		slices.Sort(epochs)
		for _, e := range epochs {
			c := chs[e]
			b.cmd.Changes = append(b.cmd.Changes, meta.UsageChange{Bucket: k.name, Created: k.created, Epoch: e, Bytes: c.bytes, Objects: c.objects})
		}
		b.by[k] = chs
		delete(a.pending, k)
	}
	// Batches are numbered by the clock, so that a restarted node goes
	// on above its earlier numbers, and never below the last one applied.
	var applied uint64
	a.ctl.View(func(st *meta.State) { applied = st.UsageSeqs[a.cfg.NodeID] })
	seq := max(uint64(a.cfg.Now().UnixNano()), a.lastSeq+1, applied+1)
	a.lastSeq = seq
	b.cmd.Node, b.cmd.Seq = a.cfg.NodeID, seq
	a.inflight = b
	return b
}

// Ticket is one admitted write: its reservation holds until Done or
// Cancel. A nil *Ticket is valid and does nothing (no accountant).
type Ticket struct {
	a        *Accountant
	ctx      context.Context // the request's, for read barriers
	key      bucketKey
	limited  bool  // a quota applied at admission: reservations count
	reserved int64 // bytes reserved
	used     int64 // of them, read by Reader
	done     bool
}

// Admit admits a write of size bytes to bucket b (size < 0: unknown,
// reserved as the body is read through Ticket.Reader), or refuses it
// with *ExceededError when it would pass the bucket's or its owner's
// quota. A refusal is checked again after a read barrier, so that a
// quota raised or cleared, or bytes freed and flushed, through another
// node a moment before count. The caller ends the ticket with Done or
// Cancel.
func (a *Accountant) Admit(ctx context.Context, b meta.Bucket, size int64) (*Ticket, error) {
	t, err := a.admit(ctx, b, size)
	if !errors.Is(err, ErrExceeded) {
		return t, err
	}
	if a.ctl.Barrier(ctx) != nil {
		return nil, err // the refusal stands
	}
	return a.admit(ctx, b, size)
}

func (a *Accountant) admit(ctx context.Context, b meta.Bucket, size int64) (*Ticket, error) {
	t := &Ticket{a: a, ctx: ctx, key: bucketKey{b.Name, b.Created}}
	need := max(size, 0)
	a.mu.Lock()
	defer a.mu.Unlock()
	var err error
	a.ctl.View(func(st *meta.State) {
		cur := st.Buckets[b.Name]
		if cur == nil || cur.Created != b.Created || !limited(st, cur) {
			return
		}
		t.limited = true
		_, err = a.checkLocked(st, cur, need)
	})
	if err != nil {
		return nil, err
	}
	if t.limited {
		a.reserve(t, need)
	}
	return t, nil
}

// limited reports whether b or its owner has a quota.
func limited(st *meta.State, b *meta.Bucket) bool {
	if b.Quota > 0 {
		return true
	}
	u := st.Users[b.Owner]
	return u != nil && u.Quota > 0
}

// reserve adds n bytes to t's reservation. Call with mu held.
func (a *Accountant) reserve(t *Ticket, n int64) {
	if n == 0 {
		return
	}
	t.reserved += n
	a.reserved[t.key] += n
}

// checkLocked returns the bytes both quotas of b leave free after a write
// of size bytes (-1 for no quota), or *ExceededError. Call with mu held,
// inside View.
func (a *Accountant) checkLocked(st *meta.State, b *meta.Bucket, size int64) (room int64, err error) {
	room = -1
	if b.Quota > 0 {
		used := a.usedLocked(b)
		if used+size > b.Quota {
			return 0, &ExceededError{Bucket: b.Name, Owner: b.Owner, Quota: b.Quota, Used: used, Size: size}
		}
		room = b.Quota - used - size
	}
	if u := st.Users[b.Owner]; u != nil && u.Quota > 0 {
		var used int64
		for _, ob := range st.Buckets {
			if ob.Owner == b.Owner {
				used += a.usedLocked(ob)
			}
		}
		if used+size > u.Quota {
			return 0, &ExceededError{User: true, Bucket: b.Name, Owner: b.Owner, Quota: u.Quota, Used: used, Size: size}
		}
		if r := u.Quota - used - size; room < 0 || r < room {
			room = r
		}
	}
	return room, nil
}

// usedLocked is b's usage as this node knows it: the replicated usage,
// this node's changes not applied yet (those meta.Usage.Counts will
// count), and the bytes of the writes in flight here. Call with mu held.
func (a *Accountant) usedLocked(b *meta.Bucket) int64 {
	k := bucketKey{b.Name, b.Created}
	used := max(b.Usage.Bytes, 0)
	add := func(chs changes) {
		for e, c := range chs {
			if ok, _ := b.Usage.Counts(e); ok {
				used += c.bytes
			}
		}
	}
	add(a.pending[k])
	if a.inflight != nil {
		add(a.inflight.by[k])
	}
	return max(used, 0) + a.reserved[k]
}

// grow reserves n more bytes for a body of unknown length, and more
// ahead when the quotas leave plenty of room; *ExceededError when n
// would pass a quota, also after a read barrier.
func (t *Ticket) grow(n int64) error {
	if n <= t.reserved-t.used {
		t.used += n
		return nil
	}
	err := t.growOnce(n)
	if !errors.Is(err, ErrExceeded) || t.a.ctl.Barrier(t.ctx) != nil {
		return err
	}
	return t.growOnce(n)
}

func (t *Ticket) growOnce(n int64) error {
	a := t.a
	need := n - (t.reserved - t.used)
	a.mu.Lock()
	defer a.mu.Unlock()
	var (
		room int64
		err  error
	)
	a.ctl.View(func(st *meta.State) {
		cur := st.Buckets[t.key.name]
		if cur == nil || cur.Created != t.key.created {
			room = -1
			return
		}
		room, err = a.checkLocked(st, cur, need)
		if err != nil {
			var e *ExceededError
			if errors.As(err, &e) {
				// The size is the whole body so far.
				e.Size = t.used + n
				e.Used -= t.reserved
			}
		}
	})
	if err != nil {
		return err
	}
	ahead := int64(0)
	if room < 0 || room >= aheadRoom {
		ahead = aheadStep
	}
	a.reserve(t, need+ahead)
	t.used += n
	return nil
}

// Reader returns r counted against the ticket: for a ticket under a
// quota, reading past it fails with *ExceededError, so the data plane
// aborts the write before committing anything. Use it for bodies of
// unknown length (those admitted with size < 0).
func (t *Ticket) Reader(r io.Reader) io.Reader {
	if t == nil || !t.limited {
		return r
	}
	return &ticketReader{r: r, t: t}
}

type ticketReader struct {
	r   io.Reader
	t   *Ticket
	err error
}

func (q *ticketReader) Read(p []byte) (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	n, err := q.r.Read(p)
	if n > 0 {
		if gerr := q.t.grow(int64(n)); gerr != nil {
			q.err = gerr
			return 0, gerr
		}
	}
	return n, err
}

// Done records the write's outcome, bytes and object versions added (net
// of what it replaced), and ends the reservation.
func (t *Ticket) Done(bytes, objects int64) {
	if t == nil || t.done {
		return
	}
	t.done = true
	t.a.record(t.key, bytes, objects, t.reserved)
}

// Cancel ends the reservation of a write that stored nothing. It does
// nothing after Done.
func (t *Ticket) Cancel() {
	if t == nil || t.done {
		return
	}
	t.done = true
	t.a.record(t.key, 0, 0, t.reserved)
}

// Record counts a change that needed no admission (a delete, an abort, a
// completion): bytes and object versions added (negative: freed).
func (a *Accountant) Record(b meta.Bucket, bytes, objects int64) {
	a.record(bucketKey{b.Name, b.Created}, bytes, objects, 0)
}

// record adds a change, labelled with the recount epoch this node sees
// now, and releases release reserved bytes.
func (a *Accountant) record(k bucketKey, bytes, objects, release int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if release != 0 {
		if a.reserved[k] -= release; a.reserved[k] == 0 {
			delete(a.reserved, k)
		}
	}
	if bytes == 0 && objects == 0 {
		return
	}
	var (
		epoch uint64
		found bool
	)
	a.ctl.View(func(st *meta.State) {
		if b := st.Buckets[k.name]; b != nil && b.Created == k.created {
			epoch, found = b.Usage.Epoch, true
		}
	})
	if !found {
		return // the bucket is gone: nothing to count
	}
	chs := a.pending[k]
	if chs == nil {
		chs = changes{}
		a.pending[k] = chs
	}
	c := chs[epoch]
	c.bytes += bytes
	c.objects += objects
	chs[epoch] = c
}

// Pending returns the bytes and object versions this node counted for
// bucket b (a copy of the state's record) that are not applied yet and
// will count (meta.Usage.Counts): what this node adds to the replicated
// usage when it shows it. Do not call it inside Control.View.
func (a *Accountant) Pending(b meta.Bucket) (bytes, objects int64) {
	k := bucketKey{b.Name, b.Created}
	a.mu.Lock()
	defer a.mu.Unlock()
	sum := func(chs changes) {
		for e, c := range chs {
			if ok, _ := b.Usage.Counts(e); ok {
				bytes += c.bytes
				objects += c.objects
			}
		}
	}
	sum(a.pending[k])
	if a.inflight != nil {
		sum(a.inflight.by[k])
	}
	return bytes, objects
}
