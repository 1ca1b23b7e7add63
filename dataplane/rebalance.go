package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// Rebalancing.
//
// A new placement epoch lists in Placement.Moving the old drive lists of
// the PGs it changed. For each moving PG, the node responsible for it (the
// node of the first drive of its new list on a live node, as the scanner
// chooses) migrates it in rounds:
//
//  1. Fence: every live node confirms it has applied the epoch, and waits
//     for the writes it let through under an older one. From then on a
//     node refuses to commit a record (object, restore, upload, part) to a
//     local drive that is not in the key's current PG list
//     (errStalePlacement): a coordinator that still routes with the old
//     epoch fails its write, so nothing new lands on the old drives once
//     the copy has begun.
//  2. Copy: every version of every key of the PG (listed across the
//     cluster, old drives included) is inspected like a repair over the
//     route that reads new and old drives; a shard position whose new
//     drive lacks the version gets it, copied from the old drive (every
//     block's CRC checked on the way) or, when that fails, rebuilt from
//     the other shards. Rate-limited by RebalanceRate.
//     Multipart uploads in progress are copied too: the upload record and
//     every part's shard file (moveUpload).
//  3. Verify: the same walk, verifying the shard files of the new drives
//     where they are (CRC of every block) and repairing what fails.
//  4. Purge: the PG's keys are removed from its old drives (DropKeys).
//  5. PGMoved: the PG leaves Placement.Moving; readers stop consulting the
//     old drives.
//
// A PG with any version that could not be copied or verified stays
// moving and is retried by the next round. No new epoch is installed
// while a PG moves (meta), so the old drives of a moving PG cannot be
// given the PG again while they are purged.

// moveWorkers is how many versions a migration moves at once.
const moveWorkers = 8

// movePGsPerRound bounds the PGs one round walks, so PGs settle (and
// progress shows) batch after batch instead of all at the end.
const movePGsPerRound = 16

// errStalePlacement: a record write to a drive that does not hold the
// key's PG in the current epoch (the coordinator routed with an older
// one). The write fails; the client's retry routes with the new epoch.
var errStalePlacement = errors.New("dataplane: placement changed: drive no longer holds this PG")

// fencedDrive is a local drive that refuses record writes for PGs it does
// not hold in the current epoch (see the top of this file). Every path to
// a local drive (this node's requests and the rpc handlers) goes through
// it.
type fencedDrive struct {
	localDrive
	s  *Store
	id string
}

func (f fencedDrive) CommitVersion(ctx context.Context, fi drive.FileInfo) (err error) {
	defer f.s.observeOp(f.id, "commit", time.Now(), &err)
	err = f.s.fenced(f.id, fi.Bucket, fi.Key, func() error { return f.localDrive.CommitVersion(ctx, fi) })
	return err
}

func (f fencedDrive) WriteShard(ctx context.Context, dataDir string, r io.Reader) (n int64, err error) {
	defer f.s.observeOp(f.id, "write_shard", time.Now(), &err)
	return f.localDrive.WriteShard(ctx, dataDir, r)
}

func (f fencedDrive) ReadVersions(ctx context.Context, bucket, key string, ref drive.Ref, limit int) (kv drive.KeyVersions, err error) {
	defer f.s.observeOp(f.id, "read_versions", time.Now(), &err)
	return f.localDrive.ReadVersions(ctx, bucket, key, ref, limit)
}

func (f fencedDrive) DeleteVersion(ctx context.Context, bucket, key string, ref drive.Ref) (err error) {
	defer f.s.observeOp(f.id, "delete_version", time.Now(), &err)
	return f.localDrive.DeleteVersion(ctx, bucket, key, ref)
}

// observeOp reports a local drive operation begun at start to
// Config.OnDriveOp.
func (s *Store) observeOp(id, op string, start time.Time, errp *error) {
	if s.cfg.OnDriveOp == nil {
		return
	}
	err := *errp
	failed := err != nil && !errors.Is(err, drive.ErrNotFound) && !errors.Is(err, errStalePlacement) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	s.cfg.OnDriveOp(id, op, time.Since(start), failed)
}

func (f fencedDrive) RestoreVersion(ctx context.Context, fi drive.FileInfo, shards map[string]string) error {
	return f.s.fenced(f.id, fi.Bucket, fi.Key, func() error { return f.localDrive.RestoreVersion(ctx, fi, shards) })
}

func (f fencedDrive) CreateUpload(ctx context.Context, u drive.Upload) error {
	return f.s.fenced(f.id, u.Bucket, u.Key, func() error { return f.localDrive.CreateUpload(ctx, u) })
}

func (f fencedDrive) CommitPart(ctx context.Context, u drive.Upload, p drive.Part) error {
	return f.s.fenced(f.id, u.Bucket, u.Key, func() error { return f.localDrive.CommitPart(ctx, u, p) })
}

// fenced runs fn, a record write to local drive id, unless the current
// placement does not give id bucket/key's PG. It holds the fence's read
// lock while fn runs, so fenceEpoch can wait for writes admitted under an
// older epoch.
func (s *Store) fenced(id, bucket, key string, fn func() error) error {
	s.fence.RLock()
	defer s.fence.RUnlock()
	stale := false
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) {
			return
		}
		tc := s.topoCacheLocked(st)
		set := settingsOf(st.Cluster)
		pg := PGOf(set.clusterID, bucket, key, set.pgCount)
		stale = pg < len(tc.pgs) && !slices.Contains(tc.pgs[pg], id)
	})
	if stale {
		return fmt.Errorf("%w: drive %s, key %s/%s", errStalePlacement, id, bucket, key)
	}
	return fn()
}

// currentEpoch returns the placement epoch this node has applied.
func (s *Store) currentEpoch() uint64 {
	var e uint64
	s.topology.View(func(st *meta.State) { e = st.Placement.Epoch })
	return e
}

// fenceEpoch returns once this node has applied epoch (or a later one)
// and every record write admitted before has finished.
func (s *Store) fenceEpoch(ctx context.Context, epoch uint64) error {
	for s.currentEpoch() < epoch {
		select {
		case <-ctx.Done():
			return fmt.Errorf("dataplane: epoch %d not applied here (at %d): %w", epoch, s.currentEpoch(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Taking the write side waits for every write admitted before.
	s.fence.Lock()
	fenced := s.currentEpoch()
	s.fence.Unlock()
	if fenced < epoch {
		return fmt.Errorf("dataplane: epoch went back from %d to %d", epoch, fenced)
	}
	return nil
}

// fenceAll runs fenceEpoch on every live node.
func (s *Store) fenceAll(ctx context.Context, epoch uint64) error {
	cv := s.viewCluster()
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	errs := make([]error, len(cv.peers))
	var wg sync.WaitGroup
	for i, p := range cv.peers {
		if !s.aliveNode(p.id) {
			continue
		}
		wg.Go(func() {
			if p.self {
				errs[i] = s.fenceEpoch(ctx, epoch)
				return
			}
			resp, err := callNode(ctx, s.tr, p.addr, methodFence, wireReq{Epoch: epoch}, nil)
			if err == nil {
				err = drain(resp.Body)
			}
			if err != nil {
				errs[i] = fmt.Errorf("fence on node %s: %w", p.id, fromRemote(err))
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func drain(rc io.ReadCloser) error {
	if rc == nil {
		return nil
	}
	_, err := io.Copy(io.Discard, rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return err
}

// dropPGsLocal removes the keys of pgs from local drive id, refusing a PG
// the drive holds in the current placement.
func (s *Store) dropPGsLocal(ctx context.Context, id string, pgs pgSet) (int, error) {
	d, ok := s.local[id]
	if !ok {
		return 0, fmt.Errorf("%w: %s on node %s", errNoDrive, id, s.cfg.NodeID)
	}
	var set settings
	var bad []int
	s.topology.View(func(st *meta.State) {
		set = settingsOf(st.Cluster)
		if !hasPlacement(st) {
			bad = append(bad, -1)
			return
		}
		for pg, ids := range s.topoCacheLocked(st).pgs {
			if pgs.has(pg) && slices.Contains(ids, id) {
				bad = append(bad, pg)
			}
		}
	})
	if len(bad) > 0 {
		return 0, fmt.Errorf("%w: drive %s holds PGs %v in the current placement; not purged", errBadRequest, id, bad)
	}
	return d.DropKeys(ctx, func(bucket, key string) bool {
		return pgs.has(PGOf(set.clusterID, bucket, key, set.pgCount))
	}, nil)
}

// gcStrays removes from the local drives the records of PGs they do not
// hold in the current placement (neither in a PG's list nor among the
// old drives of a moving PG): copies left on a drive whose node was down
// when the PG moved away. Each batch is removed holding the fence
// exclusively, after checking that the placement is still the one the
// walk started with: record writes (which check under the fence that the
// drive holds the key's PG) cannot interleave, so nothing written for a
// PG the drive has just been given is removed. It stops when the
// placement changes (the next round starts over).
func (s *Store) gcStrays(ctx context.Context) (int, error) {
	var (
		key   topoKey
		holds map[string]pgSet
		set   settings
		ok    bool
	)
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) {
			return
		}
		tc := s.topoCacheLocked(st)
		key, holds, set, ok = tc.key, tc.holds, settingsOf(st.Cluster), true
	})
	if !ok {
		return 0, nil
	}
	errPlacementChanged := errors.New("placement changed")
	total := 0
	for _, id := range s.localIDs {
		held := holds[id]
		stray := func(bucket, k string) bool {
			return !held.has(PGOf(set.clusterID, bucket, k, set.pgCount))
		}
		guard := func(fn func() error) error {
			s.fence.Lock()
			defer s.fence.Unlock()
			same := false
			s.topology.View(func(st *meta.State) { same = s.topoCacheLocked(st).key == key })
			if !same {
				return errPlacementChanged
			}
			return fn()
		}
		n, err := s.local[id].DropKeys(ctx, stray, guard)
		total += n
		if n > 0 {
			s.log.Info("removed records of PGs this drive no longer holds", "drive", id, "keys", n)
		}
		if errors.Is(err, errPlacementChanged) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// dropPGs removes the keys of pgs from drive id, wherever it is.
func (s *Store) dropPGs(ctx context.Context, id string, pgs pgSet) error {
	if _, ok := s.local[id]; ok {
		_, err := s.dropPGsLocal(ctx, id, pgs)
		return err
	}
	var addr string
	s.topology.View(func(st *meta.State) {
		if n := st.Nodes[s.topoCacheLocked(st).driveNode[id]]; n != nil {
			addr = n.RPCAddr
		}
	})
	if addr == "" || s.tr == nil {
		return fmt.Errorf("%w: drive %s", errUnreachable, id)
	}
	resp, err := callNode(ctx, s.tr, addr, methodDropPGs, wireReq{Drive: id, PGs: pgs}, nil)
	if err == nil {
		err = drain(resp.Body)
	}
	return fromRemote(err)
}

// RebalanceStatus is the progress of the rebalance: the cluster-wide
// figures come from the placement, the counters from this node's
// migrations since it started.
type RebalanceStatus struct {
	Epoch       uint64    `json:"epoch"`
	MovingPGs   int       `json:"moving_pgs"`   // PGs of the epoch still moving
	MovingTotal int       `json:"moving_total"` // PGs the epoch moves
	TotalPGs    int       `json:"total_pgs"`
	Started     time.Time `json:"started"` // when the epoch was installed (zero if unknown)

	Active      bool   `json:"active"`       // this node is migrating PGs now
	OwnedPGs    int    `json:"owned_pgs"`    // moving PGs this node migrates
	Rounds      int64  `json:"rounds"`       // migration rounds run
	Versions    int64  `json:"versions"`     // versions inspected
	ShardsMoved int64  `json:"shards_moved"` // shards written to new drives
	BytesMoved  int64  `json:"bytes_moved"`  // shard bytes written to new drives
	Verified    int64  `json:"verified"`     // shard bytes verified on the new drives
	PGsSettled  int64  `json:"pgs_settled"`  // PGs this node finished
	Errors      int64  `json:"errors"`       // versions that failed (retried)
	LastError   string `json:"last_error,omitempty"`
}

// rebalancer is a Store's migration state.
type rebalancer struct {
	pace *pacer

	mu        sync.Mutex
	active    bool
	owned     int
	lastError string

	rounds, versions, shards, bytes, verified, settled, errs atomic.Int64
}

// RebalanceStatus returns the rebalance progress as this node sees it.
func (s *Store) RebalanceStatus() RebalanceStatus {
	var st RebalanceStatus
	s.topology.View(func(m *meta.State) {
		st.Epoch, st.MovingPGs, st.MovingTotal, st.TotalPGs = m.Placement.Epoch, len(m.Placement.Moving), m.Placement.MovingTotal, len(m.Placement.PGs)
		if m.Placement.Created > 0 {
			st.Started = time.Unix(0, m.Placement.Created)
		}
	})
	r := &s.rebal
	r.mu.Lock()
	st.Active, st.OwnedPGs, st.LastError = r.active, r.owned, r.lastError
	r.mu.Unlock()
	st.Rounds, st.Versions, st.ShardsMoved, st.BytesMoved = r.rounds.Load(), r.versions.Load(), r.shards.Load(), r.bytes.Load()
	st.Verified, st.PGsSettled, st.Errors = r.verified.Load(), r.settled.Load(), r.errs.Load()
	return st
}

// movingOwned returns the current epoch and the moving PGs this node
// migrates (those whose first new drive on a live node is local).
func (s *Store) movingOwned() (uint64, pgSet, []int) {
	var (
		epoch uint64
		set   pgSet
		list  []int
	)
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) || len(st.Placement.Moving) == 0 {
			return
		}
		epoch = st.Placement.Epoch
		tc := s.topoCacheLocked(st)
		set = newPGSet(len(tc.pgs))
		for pg := range tc.moving {
			if s.ownsPG(tc, pg) {
				set.add(pg)
				list = append(list, pg)
			}
		}
	})
	sort.Ints(list)
	return epoch, set, list
}

// rebalanceLoop runs migration rounds every RebalanceInterval while PGs
// this node is responsible for move.
func (s *Store) rebalanceLoop(ctx context.Context) {
	if s.cfg.Propose == nil || s.cfg.RebalanceInterval < 0 {
		return
	}
	t := time.NewTicker(s.cfg.RebalanceInterval)
	defer t.Stop()
	var gcDone topoKey // the placement the last complete stray sweep ran on
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var cur topoKey
		stable := false
		s.topology.View(func(st *meta.State) {
			if hasPlacement(st) {
				cur, stable = s.topoCacheLocked(st).key, !st.Placement.Rebalancing()
			}
		})
		if stable && cur != gcDone {
			if _, err := s.gcStrays(ctx); err != nil {
				s.log.Warn("removing stray records failed", "err", err)
			} else {
				gcDone = cur
			}
		}
		err := s.RebalanceRound(ctx)
		if ctx.Err() != nil {
			return
		}
		s.rebal.mu.Lock()
		s.rebal.lastError = ""
		if err != nil {
			s.rebal.lastError = err.Error() // shown by rebalance status until a round succeeds
		}
		s.rebal.mu.Unlock()
		if err != nil {
			s.log.Warn("rebalance round incomplete", "err", err)
		}
	}
}

// RebalanceRound runs one migration round (see the top of this file) over
// the moving PGs this node is responsible for, and proposes PGMoved for
// those it finished.
func (s *Store) RebalanceRound(ctx context.Context) error {
	epoch, pgs, list := s.movingOwned()
	if len(list) == 0 {
		return nil
	}
	owned := len(list)
	if len(list) > movePGsPerRound {
		list = list[:movePGsPerRound]
		pgs = newPGSet(len(pgs) * 8)
		for _, pg := range list {
			pgs.add(pg)
		}
	}
	r := &s.rebal
	r.mu.Lock()
	r.active, r.owned = true, owned
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active = false
		r.mu.Unlock()
	}()
	r.rounds.Add(1)
	start := time.Now()
	s.log.Info("rebalance round", "epoch", epoch, "pgs", len(list))
	if err := s.fenceAll(ctx, epoch); err != nil {
		return err
	}
	failed := newPGSet(len(pgs) * 8)
	if err := s.scan(ctx, pgs, scanOpts{all: true, move: true, failed: failed, workers: moveWorkers}); err != nil {
		return err
	}
	if err := s.moveUploads(ctx, pgs, failed); err != nil {
		return err
	}
	verifyOn := map[string]bool{}
	s.topology.View(func(st *meta.State) {
		tc := s.topoCacheLocked(st)
		for _, pg := range list {
			for i, id := range tc.pgs[pg] {
				if old := tc.moving[pg]; len(old) > i && old[i] != id {
					verifyOn[id] = true
				}
			}
		}
	})
	if err := s.scan(ctx, pgs, scanOpts{all: true, move: true, verify: true, verifyOn: verifyOn, failed: failed, workers: moveWorkers}); err != nil {
		return err
	}
	// Purge the old drives of the PGs that are done.
	byDrive := map[string]pgSet{}
	var draining map[string]bool
	s.topology.View(func(st *meta.State) {
		tc := s.topoCacheLocked(st)
		draining = map[string]bool{}
		for _, pg := range list {
			if failed.has(pg) {
				continue
			}
			for _, id := range tc.moving[pg] {
				if slices.Contains(tc.pgs[pg], id) {
					continue
				}
				if byDrive[id] == nil {
					byDrive[id] = newPGSet(len(tc.pgs))
				}
				byDrive[id].add(pg)
				// Gone for good (drained), or down now: its copies cannot
				// be removed, and need not be (see gcStrays).
				if n := st.Nodes[tc.driveNode[id]]; n == nil || n.State != meta.StateUp || !s.aliveNode(n.ID) {
					draining[id] = true
				}
			}
		}
	})
	var errs []error
	for id, set := range byDrive {
		err := s.dropPGs(ctx, id, set)
		if err == nil {
			continue
		}
		if unavailable(err) && draining[id] {
			// A drained node that is gone keeps its copies; nothing reads
			// them (listings skip PGs a drive does not hold), and the node
			// removes them if it comes back (gcStrays).
			s.log.Warn("rebalance: old drive unreachable, its copies stay", "drive", id, "err", err)
			continue
		}
		errs = append(errs, fmt.Errorf("purge drive %s: %w", id, err))
		for pg := range len(set) * 8 {
			if set.has(pg) {
				failed.add(pg)
			}
		}
	}
	var done []int
	for _, pg := range list {
		if !failed.has(pg) {
			done = append(done, pg)
		}
	}
	for len(done) > 0 {
		n := min(len(done), 4096)
		pctx, cancel := s.metaCtx(ctx)
		err := s.cfg.Propose(pctx, meta.PGMoved{Epoch: epoch, PGs: done[:n]})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("propose pgs moved: %w", err))
			break
		}
		r.settled.Add(int64(n))
		done = done[n:]
	}
	s.log.Info("rebalance round done", "epoch", epoch, "pgs", len(list), "settled", len(list)-failed.count(), "took", time.Since(start).Round(time.Millisecond))
	if n := failed.count(); len(errs) == 0 && n > 0 {
		errs = append(errs, fmt.Errorf("%d PGs not finished, retried next round", n))
	}
	return errors.Join(errs...)
}

// runMove inspects and moves one version of a moving PG, counting it in
// the rebalance progress.
func (s *Store) runMove(ctx context.Context, job healJob) error {
	r := &s.rebal
	job.pace, job.move = r.pace, true
	res, err := s.healVersion(ctx, job)
	r.versions.Add(1)
	r.shards.Add(int64(res.shards))
	r.bytes.Add(res.bytes)
	r.verified.Add(res.verified)
	if err != nil && ctx.Err() == nil {
		r.errs.Add(1)
		s.log.Warn("rebalance: version not moved", "bucket", job.bucket, "key", job.key, "version", job.ref.ID, "err", err)
	}
	return err
}

// copyStream is the io.Reader WriteShard consumes when a shard file is
// copied from another drive: the source's regions, each block's CRC
// checked before it is passed on.
type copyStream struct {
	ctx  context.Context
	rc   io.ReadCloser
	lay  layout
	b    int64
	buf  []byte
	cur  []byte
	pace *pacer
}

func (c *copyStream) Read(p []byte) (int, error) {
	if len(c.cur) == 0 {
		if c.b == c.lay.blocks() {
			return 0, io.EOF
		}
		region := c.buf[:crcLen+c.lay.shardBlockLen(c.b)]
		if err := c.pace.wait(c.ctx, int64(len(region))); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c.rc, region); err != nil {
			return 0, fmt.Errorf("dataplane: copy block %d: %w", c.b, shortRead(err))
		}
		if !regionOK(region) {
			return 0, fmt.Errorf("dataplane: copy block %d: %w", c.b, errChecksum)
		}
		c.cur = region
		c.b++
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

// copyShard copies shard file dataDir (layout lay) from src to the
// temporary shard tmp on dst (a new name when ""), checking every block,
// and returns its name and size.
func (s *Store) copyShard(ctx context.Context, src shardStore, dst driveRef, dataDir, tmp string, lay layout, pace *pacer) (string, int64, error) {
	cs := &copyStream{ctx: ctx, lay: lay, pace: pace, buf: make([]byte, crcLen+shardLen(lay.blockSize, lay.k))}
	if lay.blocks() > 0 {
		rc, err := src.OpenShard(ctx, dataDir, 0, lay.shardFileSize())
		if err != nil {
			return "", 0, err
		}
		defer rc.Close()
		cs.rc = rc
	}
	if tmp == "" {
		tmp = newDataDir()
	}
	n, err := dst.store.WriteShard(ctx, tmp, cs)
	if err == nil && n != lay.shardFileSize() {
		err = fmt.Errorf("dataplane: drive %s stored %d of %d copied shard bytes", dst.id, n, lay.shardFileSize())
	}
	if err != nil {
		_ = dst.store.AbortShard(context.WithoutCancel(ctx), tmp)
		return "", 0, err
	}
	return tmp, n, nil
}

// moveUploads copies the multipart uploads in progress of the moving PGs
// pgs to their new drives; the PGs of uploads that could not be copied
// join failed. An error is a listing that failed (nothing is settled).
func (s *Store) moveUploads(ctx context.Context, pgs, failed pgSet) error {
	var buckets []string
	s.topology.View(func(st *meta.State) {
		for name := range st.Buckets {
			buckets = append(buckets, name)
		}
	})
	sort.Strings(buckets)
	cv := s.viewCluster()
	for _, b := range buckets {
		var after string
		var afterSub *subPos
		for {
			page, _, err := s.listRound(ctx, cv, b, listReq{Mode: modeUploads, After: after, AfterSub: afterSub, Limit: scanPage, PGs: pgs})
			if err != nil {
				return fmt.Errorf("uploads of bucket %s: %w", b, err)
			}
			for _, it := range page.Items {
				pg := PGOf(cv.clusterID, b, it.Name, cv.pgCount)
				if it.Prefix || !pgs.has(pg) {
					continue
				}
				for _, lu := range it.Uploads {
					if err := s.moveUpload(ctx, b, it.Name, lu.U.UploadID); err != nil {
						if ctx.Err() != nil {
							return ctx.Err()
						}
						failed.add(pg)
						s.rebal.errs.Add(1)
						s.log.Warn("rebalance: upload not moved", "bucket", b, "key", it.Name, "upload", lu.U.UploadID, "err", err)
					}
				}
			}
			if !page.More {
				break
			}
			if !posLess(after, afterSub, page.Last, page.LastSub) {
				return fmt.Errorf("dataplane: uploads of %s: listing made no progress after %q", b, after)
			}
			after, afterSub = page.Last, page.LastSub
		}
	}
	return nil
}

// readAllParts reads an upload and all its parts from one drive.
func readAllParts(ctx context.Context, d shardStore, bucket, key, uploadID string) (drive.Upload, []drive.Part, error) {
	var (
		u     drive.Upload
		parts []drive.Part
		after int
	)
	for {
		uu, ps, more, err := d.ReadUpload(ctx, bucket, key, uploadID, after, 1000)
		if err != nil {
			return u, nil, err
		}
		u, parts = uu, append(parts, ps...)
		if !more || len(ps) == 0 {
			return u, parts, nil
		}
		after = ps[len(ps)-1].Number
	}
}

// moveUpload copies one upload from the old drives of its moving PG to
// the new ones: parts the new drive lacks (or holds an older upload of)
// are copied to temporary shards first, then, only if the upload still
// exists (under the key's lock, as Complete and Abort change it), the
// upload and the parts are committed on the new drive.
func (s *Store) moveUpload(ctx context.Context, bucket, key, uploadID string) error {
	rt, err := s.route(bucket, key)
	if err != nil {
		return err
	}
	var errs []error
	for _, alt := range rt.alts {
		dst := rt.drives[alt.pos]
		rctx, cancel := s.metaCtx(ctx)
		u, parts, err := readAllParts(rctx, alt.store, bucket, key, uploadID)
		var have []drive.Part
		if err == nil {
			_, have, err = readAllParts(rctx, dst.store, bucket, key, uploadID)
			if errors.Is(err, drive.ErrNotFound) {
				err = nil
			}
		}
		cancel()
		if errors.Is(err, drive.ErrNotFound) {
			continue // not on this old drive
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		haveBy := map[int]drive.Part{}
		for _, p := range have {
			haveBy[p.Number] = p
		}
		u.Shard = alt.pos
		var copied []drive.Part
		abort := func() {
			actx, cancel := s.metaCtx(context.WithoutCancel(ctx))
			defer cancel()
			for _, p := range copied {
				_ = dst.store.AbortShard(actx, p.DataDir)
			}
		}
		ok := true
		for _, p := range parts {
			if h, has := haveBy[p.Number]; has && (h.DataDir == p.DataDir || h.ModTime >= p.ModTime) {
				continue
			}
			lay := layout{size: p.Size, blockSize: u.BlockSize, k: u.K, m: u.M}
			_, n, err := s.copyShard(ctx, alt.store, dst, p.DataDir, p.DataDir, lay, s.rebal.pace)
			if err != nil {
				errs = append(errs, fmt.Errorf("part %d from %s to %s: %w", p.Number, alt.id, dst.id, err))
				ok = false
				break
			}
			copied = append(copied, p)
			s.rebal.bytes.Add(n)
			s.rebal.shards.Add(1)
		}
		if !ok {
			abort()
			continue
		}
		lk, _, err := s.lockKey(ctx, rt, bucket, key, false, nil)
		if err != nil {
			abort()
			errs = append(errs, err)
			continue
		}
		err = func() error {
			defer lk.release()
			if _, err := s.findUpload(ctx, rt, uploadID); err != nil {
				return err
			}
			cctx, cancel := s.metaCtx(context.WithoutCancel(ctx))
			defer cancel()
			if err := dst.store.CreateUpload(cctx, u); err != nil {
				return err
			}
			for i, p := range copied {
				if err := dst.store.CommitPart(cctx, u, p); err != nil {
					copied = copied[i:]
					return err
				}
			}
			copied = nil
			return nil
		}()
		if errors.Is(err, ErrNoSuchUpload) {
			abort() // completed or aborted meanwhile: nothing to move
			continue
		}
		if err != nil {
			abort()
			errs = append(errs, fmt.Errorf("upload %s on %s: %w", uploadID, dst.id, err))
		}
	}
	return errors.Join(errs...)
}
