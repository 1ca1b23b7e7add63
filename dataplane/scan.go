package dataplane

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// Background healing: the read-repair queue and its workers, the scanner,
// and the refill of replaced drives. Store.Run runs them; HealStatus
// reports their progress.
//
// The scanner walks, pass after pass, the PGs this node is responsible
// for: those whose first drive on a live node (Config.Alive) is local, so
// that each PG is scanned by one node. For every bucket it lists every
// key's versions across the cluster (the listing machinery, with the
// nodes filtering keys to those PGs) and runs healVersion on each version
// that exists, verifying every shard's block CRCs where the drive is. A
// refill (Store.Refill) walks the PGs of one drive, whoever scans them,
// and only writes to that drive: records and shards of every version it
// should hold. After each pass the scanner sweeps the local drives' orphan
// shard files (sweep.go).

// healKey deduplicates queued repairs.
type healKey struct {
	bucket, key string
	ref         drive.Ref
}

// healer is a Store's healing state.
type healer struct {
	healPace *pacer
	scanPace *pacer

	mu       sync.Mutex
	pending  map[healKey]bool
	queue    chan healJob
	refills  []string // drives waiting for a refill
	refillCh chan struct{}
	status   HealStatus // the string and time fields; counters below
	lastPass int64      // versions seen by the last complete pass (for the ETA)

	scanned, verified, repairedShards, repairedRecords, repairedBytes, errs, dropped, queuedTotal atomic.Int64

	// swept: when each local drive's last complete orphan sweep ended
	// (sweep.go; used by scanLoop only).
	swept map[string]time.Time

	orphanSweeps, orphansRemoved, orphanBytes atomic.Int64
}

func (h *healer) init(cfg Config) {
	h.healPace = newPacer(cfg.HealRate)
	h.scanPace = newPacer(cfg.ScanRate)
	h.pending = map[healKey]bool{}
	h.queue = make(chan healJob, cfg.HealQueue)
	h.refillCh = make(chan struct{}, 1)
	h.swept = map[string]time.Time{}
}

// HealStatus is the progress of healing on one node (stratactl heal
// status). Counters run from the node's start; the scan fields describe
// the pass in progress, or the last one.
type HealStatus struct {
	Scanning     bool          `json:"scanning"`
	Passes       int64         `json:"passes"`         // complete scanner passes
	PassStarted  time.Time     `json:"pass_started"`   // zero before the first pass
	LastPassEnd  time.Time     `json:"last_pass_end"`  // zero before the first complete pass
	NextPass     time.Time     `json:"next_pass"`      // zero while scanning or when disabled
	PGs          int           `json:"pgs"`            // PGs this node scans
	Bucket       string        `json:"bucket"`         // being scanned
	Key          string        `json:"key"`            // last key scanned
	PassVersions int64         `json:"pass_versions"`  // versions inspected by this pass
	LastPassSeen int64         `json:"last_pass_seen"` // versions inspected by the last complete pass
	ETA          time.Duration `json:"eta"`            // remaining time of this pass, from the last pass's size; 0 when unknown

	ObjectsScanned  int64 `json:"objects_scanned"`  // versions inspected (scanner, refill and read repair)
	BytesVerified   int64 `json:"bytes_verified"`   // shard bytes whose CRCs were checked
	ShardsRepaired  int64 `json:"shards_repaired"`  // shards rebuilt
	RecordsRepaired int64 `json:"records_repaired"` // records rewritten without data (markers, tags)
	BytesRepaired   int64 `json:"bytes_repaired"`   // shard bytes written by repairs
	Errors          int64 `json:"errors"`           // versions whose repair failed (retried by later passes)

	Queued    int      `json:"queued"`     // read repairs waiting
	QueuedAll int64    `json:"queued_all"` // read repairs ever queued
	Dropped   int64    `json:"dropped"`    // read repairs dropped (queue full)
	Refilling []string `json:"refilling"`  // drives being refilled

	OrphanSweeps     int64 `json:"orphan_sweeps"`      // complete orphan sweeps of local drives (sweep.go)
	OrphansRemoved   int64 `json:"orphans_removed"`    // orphan shard files they removed
	OrphanBytesFreed int64 `json:"orphan_bytes_freed"` // and their bytes
}

// HealStatus returns a snapshot of the healing progress.
func (s *Store) HealStatus() HealStatus {
	h := &s.heal
	h.mu.Lock()
	st := h.status
	st.Refilling = slices.Clone(h.status.Refilling)
	last := h.lastPass
	h.mu.Unlock()
	st.LastPassSeen = last
	st.ObjectsScanned = h.scanned.Load()
	st.BytesVerified = h.verified.Load()
	st.ShardsRepaired = h.repairedShards.Load()
	st.RecordsRepaired = h.repairedRecords.Load()
	st.BytesRepaired = h.repairedBytes.Load()
	st.Errors = h.errs.Load()
	st.Queued = len(h.queue)
	st.QueuedAll = h.queuedTotal.Load()
	st.Dropped = h.dropped.Load()
	st.OrphanSweeps = h.orphanSweeps.Load()
	st.OrphansRemoved = h.orphansRemoved.Load()
	st.OrphanBytesFreed = h.orphanBytes.Load()
	if st.Scanning && last > 0 && st.PassVersions > 0 && st.PassVersions < last {
		el := time.Since(st.PassStarted)
		st.ETA = time.Duration(float64(el) * float64(last-st.PassVersions) / float64(st.PassVersions)).Round(time.Second)
	}
	return st
}

// enqueueRepair queues a repair of version ref of bucket/key for the heal
// workers, verifying the shards of drive suspect ("" = none: a missing
// record or part is repaired without reading any shard file); a version
// already queued, or a full queue, drops it (the scanner finds it later).
func (s *Store) enqueueRepair(bucket, key string, ref drive.Ref, suspect string) {
	h := &s.heal
	k := healKey{bucket: bucket, key: key, ref: ref}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[k] {
		return
	}
	select {
	case h.queue <- healJob{bucket: bucket, key: key, ref: ref, verify: suspect != "", suspect: suspect}:
		h.pending[k] = true
		h.queuedTotal.Add(1)
		s.log.Debug("repair queued", "bucket", bucket, "key", key, "version", ref.ID)
	default:
		h.dropped.Add(1)
	}
}

// noteMissing queues a repair when a drive that answered a read holds no
// record of the version read, or misses one of its parts.
func (s *Store) noteMissing(v *keyView, g *versionGroup) {
	n := len(v.rt.drives)
	for i, ok := range v.reachable[:n] {
		if !ok {
			continue
		}
		a, has := recordAt(g, i)
		if !has {
			// A moving PG's position whose shard is still on its old
			// drive is not missing: the rebalance moves it.
			for j, alt := range v.rt.alts {
				if _, onAlt := recordAt(g, n+j); onAlt && alt.pos == i {
					has, a = true, answer{}
				}
			}
		}
		if !has || len(a.fi.Missing) > 0 {
			s.enqueueRepair(g.fi.Bucket, g.fi.Key, drive.RefOf(g.fi), "")
			return
		}
	}
}

// Refill queues the refill of local drive id: an empty drive that took a
// failed one's place (same id, see drive.Options.FormatID). Run performs
// it, rate-limited by HealRate.
func (s *Store) Refill(id string) error {
	if _, ok := s.local[id]; !ok {
		return fmt.Errorf("dataplane: refill: no local drive %s", id)
	}
	s.markRefill(id, true)
	h := &s.heal
	h.mu.Lock()
	// A drive being refilled is queued again: it may have lost what the
	// refill in progress wrote (its index was replaced again).
	if !slices.Contains(h.refills, id) {
		h.refills = append(h.refills, id)
	}
	if !slices.Contains(h.status.Refilling, id) {
		h.status.Refilling = append(h.status.Refilling, id)
	}
	h.mu.Unlock()
	select {
	case h.refillCh <- struct{}{}:
	default:
	}
	return nil
}

// refillOnReset has local drive d refilled each time it replaces a
// damaged index by an empty one (drive.Drive.OnIndexReset), and at once
// if its Open did: the drive is then like one replaced by an empty drive.
func (s *Store) refillOnReset(d *drive.Drive) {
	id := d.ID()
	d.OnIndexReset(func() {
		s.log.Warn("drive index replaced after damage: refilling the drive", "drive", id)
		_ = s.Refill(id) // a local drive: cannot fail
	})
}

// Run runs the heal workers, the scanner and refills until ctx ends.
func (s *Store) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.cfg.HealWorkers {
		wg.Go(func() { s.healWorker(ctx) })
	}
	wg.Go(func() { s.refillLoop(ctx) })
	wg.Go(func() { s.rebalanceLoop(ctx) })
	if s.cfg.ScanInterval > 0 {
		wg.Go(func() { s.scanLoop(ctx) })
	}
	wg.Wait()
}

func (s *Store) healWorker(ctx context.Context) {
	h := &s.heal
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-h.queue:
			_ = s.runJob(ctx, job) // counted and logged; the scanner retries
			h.mu.Lock()
			delete(h.pending, healKey{bucket: job.bucket, key: job.key, ref: job.ref})
			h.mu.Unlock()
		}
	}
}

// runJob heals one version and counts the outcome.
func (s *Store) runJob(ctx context.Context, job healJob) error {
	h := &s.heal
	res, err := s.healVersion(ctx, job)
	h.scanned.Add(1)
	h.verified.Add(res.verified)
	h.repairedShards.Add(int64(res.shards))
	h.repairedRecords.Add(int64(res.records))
	h.repairedBytes.Add(res.bytes)
	if err != nil && ctx.Err() == nil {
		h.errs.Add(1)
		s.log.Warn("heal failed", "bucket", job.bucket, "key", job.key, "version", job.ref.ID, "err", err)
	}
	return err
}

func (s *Store) refillLoop(ctx context.Context) {
	h := &s.heal
	for {
		h.mu.Lock()
		var id string
		if len(h.refills) > 0 {
			id, h.refills = h.refills[0], h.refills[1:]
		}
		h.mu.Unlock()
		if id == "" {
			select {
			case <-ctx.Done():
				return
			case <-h.refillCh:
				continue
			}
		}
		resets := s.local[id].IndexResets() // the resets this refill covers
		if err := s.refill(ctx, id); err != nil {
			return
		}
		s.local[id].ResetsRefilled(resets) // the orphan sweep may run on it again
		h.mu.Lock()
		done := !slices.Contains(h.refills, id) // else queued again meanwhile
		if done {
			h.status.Refilling = slices.DeleteFunc(h.status.Refilling, func(x string) bool { return x == id })
		}
		h.mu.Unlock()
		if done {
			s.markRefill(id, false)
		}
	}
}

// markRefill records on local drive id that its refill is pending or
// done, so that New queues a refill a restart cut short again. A drive
// that cannot record it is refilled all the same; the scanner's next pass
// repairs what a restart then leaves.
func (s *Store) markRefill(id string, pending bool) {
	if err := s.local[id].MarkRefill(pending); err != nil {
		s.log.Warn("cannot record the drive's refill state", "drive", id, "pending", pending, "err", err)
	}
}

// refillRetry bounds the pause between two attempts of a refill that
// could not list or repair everything (peers still starting, a node down).
const refillRetry = 30 * time.Second

// refill refills drive id: once the placement is known, pass after pass
// over its PGs until one completes without error. It returns only then,
// or with ctx's error.
func (s *Store) refill(ctx context.Context, id string) error {
	h := &s.heal
	start := time.Now()
	before := h.repairedBytes.Load()
	backoff := 100 * time.Millisecond
	for {
		pgs := s.pgsOf(id)
		var err error
		if pgs == nil {
			err = ErrNoPlacement
		} else {
			s.log.Info("refilling drive", "drive", id)
			err = s.scan(ctx, pgs, scanOpts{only: id})
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			s.log.Info("drive refilled", "drive", id, "bytes", h.repairedBytes.Load()-before, "took", time.Since(start).Round(time.Millisecond))
			return nil
		}
		if !errors.Is(err, ErrNoPlacement) {
			s.log.Warn("refill incomplete, retrying", "drive", id, "err", err, "in", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, refillRetry)
	}
}

func (s *Store) scanLoop(ctx context.Context) {
	h := &s.heal
	wait := min(s.cfg.ScanInterval, s.cfg.ScanDelay)
	for {
		h.mu.Lock()
		h.status.NextPass = time.Now().Add(wait)
		h.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := s.ScanPass(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("scan pass incomplete", "err", err)
		}
		s.sweepOrphans(ctx)
		wait = s.cfg.ScanInterval
	}
}

// ScanPass runs one scanner pass over the PGs this node is responsible
// for, now, and returns when it is done (Run calls it every
// ScanInterval). A bucket that cannot be listed is skipped and reported.
func (s *Store) ScanPass(ctx context.Context) error {
	h := &s.heal
	pgs, n := s.ownedPGs()
	h.mu.Lock()
	h.status.Scanning, h.status.PassStarted, h.status.PGs, h.status.PassVersions = true, time.Now(), n, 0
	h.status.NextPass = time.Time{}
	h.mu.Unlock()
	var seen int64
	err := s.scan(ctx, pgs, scanOpts{verify: true, seen: &seen})
	h.mu.Lock()
	h.status.Scanning, h.status.Bucket = false, ""
	if err == nil {
		h.status.Passes++
		h.status.LastPassEnd = time.Now()
		h.lastPass = seen
	}
	h.mu.Unlock()
	return err
}

// pgSet is a set of PG numbers as a bitmap (listReq.PGs).
type pgSet []byte

func newPGSet(n int) pgSet      { return make(pgSet, (n+7)/8) }
func (p pgSet) add(pg int)      { p[pg/8] |= 1 << (pg % 8) }
func (p pgSet) has(pg int) bool { return pg/8 < len(p) && p[pg/8]&(1<<(pg%8)) != 0 }
func (p pgSet) empty() bool     { return !slices.ContainsFunc(p, func(b byte) bool { return b != 0 }) }
func (p pgSet) count() int {
	n := 0
	for _, b := range p {
		n += bits.OnesCount8(b)
	}
	return n
}
func (s *Store) aliveNode(id string) bool {
	return id == s.cfg.NodeID || s.cfg.Alive == nil || s.cfg.Alive(id)
}

// ownedPGs returns the PGs this node scans: those whose first drive on a
// live node is local.
func (s *Store) ownedPGs() (pgSet, int) {
	var set pgSet
	n := 0
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) {
			return
		}
		tc := s.topoCacheLocked(st)
		set = newPGSet(len(tc.pgs))
		for pg := range tc.pgs {
			if s.ownsPG(tc, pg) {
				set.add(pg)
				n++
			}
		}
	})
	return set, n
}

// pgsOf returns the PGs that place a shard on drive id.
func (s *Store) pgsOf(id string) pgSet {
	var set pgSet
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) {
			return
		}
		tc := s.topoCacheLocked(st)
		set = newPGSet(len(tc.pgs))
		for pg, ids := range tc.pgs {
			if slices.Contains(ids, id) {
				set.add(pg)
			}
		}
	})
	return set
}

// scanOpts shapes a scan.
type scanOpts struct {
	only   string // heal only this drive (a refill); "" = every drive
	verify bool   // verify shard files' CRCs (healJob.verify)
	// verifyOn limits verification to shards on these drives.
	verifyOn map[string]bool
	// all inspects every listed version, even one the listing shows on
	// every drive (during a rebalance the count includes old drives).
	all bool
	// move runs the versions through runMove (rebalance counters and
	// pace) instead of runJob.
	move bool
	// failed, when set, collects the PGs of versions that could not be
	// repaired; they are then not reported as a scan error.
	failed pgSet
	seen   *int64 // counts the versions inspected
	// workers is how many versions are inspected at once (0 or 1: one):
	// a migration is bound by round trips to the drives, not by bytes.
	workers int
}

// scan walks every bucket's keys in pgs and heals their versions as o
// says.
func (s *Store) scan(ctx context.Context, pgs pgSet, o scanOpts) error {
	if pgs == nil || pgs.empty() {
		return nil
	}
	var buckets []string
	s.topology.View(func(st *meta.State) {
		for name := range st.Buckets {
			buckets = append(buckets, name)
		}
	})
	sort.Strings(buckets)
	var errs []error
	for _, b := range buckets {
		if err := s.scanBucket(ctx, b, pgs, o); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("bucket %s: %w", b, err))
		}
	}
	return errors.Join(errs...)
}

// scanPage is the number of versions listed per round by the scanner.
const scanPage = 1000

// scanBucket lists bucket's versions in pgs across the cluster and heals
// each one that exists.
func (s *Store) scanBucket(ctx context.Context, bucket string, pgs pgSet, o scanOpts) error {
	h := &s.heal
	if o.only == "" && !o.move {
		h.mu.Lock()
		h.status.Bucket = bucket
		h.mu.Unlock()
	}
	cv := s.viewCluster()
	if !cv.hasPlacement {
		return ErrNoPlacement
	}
	markerQ := markerQuorum(cv.k, cv.m)
	var after string
	var afterSub *subPos
	failed := 0
	var (
		mu  sync.Mutex // failed, o.failed
		wg  sync.WaitGroup
		sem = make(chan struct{}, max(o.workers, 1))
	)
	for {
		req := listReq{Mode: modeVersions, After: after, AfterSub: afterSub, Limit: scanPage, PGs: pgs}
		page, extra, err := s.listRound(ctx, cv, bucket, req)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if it.Prefix || !pgs.has(PGOf(cv.clusterID, bucket, it.Name, cv.pgCount)) {
				continue
			}
			x := extraOf(cv, extra, bucket, it.Name)
			for _, lv := range it.Versions {
				if !listed(lv, x, markerQ) {
					continue
				}
				if !o.all && lv.Count == cv.k+cv.m && (lv.FI.Deleted || !o.verify) {
					continue // on every drive, and nothing to verify
				}
				job := healJob{bucket: bucket, key: it.Name, ref: drive.RefOf(lv.FI), only: o.only, verify: o.verify, verifyOn: o.verifyOn}
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					run := s.runJob
					if o.move {
						run = s.runMove
					}
					if err := run(ctx, job); err != nil {
						mu.Lock()
						if o.failed != nil {
							o.failed.add(PGOf(cv.clusterID, bucket, job.key, cv.pgCount))
						} else {
							failed++
						}
						mu.Unlock()
					}
				})
				if o.seen != nil {
					*o.seen++
					h.mu.Lock()
					h.status.PassVersions, h.status.Key = *o.seen, it.Name
					h.mu.Unlock()
				}
				if err := ctx.Err(); err != nil {
					wg.Wait()
					return err
				}
			}
		}
		wg.Wait()
		if !page.More {
			if failed > 0 {
				return fmt.Errorf("dataplane: scan of %s: %d versions not repaired", bucket, failed)
			}
			return nil
		}
		if !posLess(after, afterSub, page.Last, page.LastSub) {
			return fmt.Errorf("dataplane: scan of %s made no progress after %q", bucket, after)
		}
		after, afterSub = page.Last, page.LastSub
	}
}
