package dataplane

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// Healing.
//
// The primitive is rebuildShard: shard idx of one existing version of a
// key (inline, one shard file, or one shard file per part of a multipart
// object) is decoded from the other drives' shards, every source block's
// CRC checked, and written to a drive: shard files to its tmp/ (fsync'd by
// WriteShard), then, under the key's write lock and only if the version
// still exists, RestoreVersion moves them into place and writes the
// drive's record in one transaction. So a repair never leaves a partial
// state visible, never brings back a version deleted meanwhile, and never
// replaces a newer null version on the target (RestoreVersion's rules).
// The target is any drive: a PG drive that lost its shard (healing) or a
// drive a PG moves to (rebalancing).
//
// healVersion inspects one version on every drive of its PG and repairs
// what is missing or corrupt: a record absent from a drive that answered
// (data versions, delete markers and tombstones alike), a part a drive
// never received (FileInfo.Missing), an inline shard or a shard file whose
// block CRCs do not match (verified where the drive is, VerifyShard), and
// stale tags. Three callers feed it: read repair (a GET that met a bad or
// missing shard queues the version), the scanner (scan.go) and the refill
// of a replaced drive.

// errHealStale: the version stopped existing (deleted, or a newer null
// version replaced it) while it was being repaired; nothing was written.
var errHealStale = errors.New("dataplane: version changed during repair")

// pacer spreads work to a rate in bytes per second; a rate <= 0 is
// unlimited. Safe for concurrent use: callers share the budget.
type pacer struct {
	mu   sync.Mutex
	rate float64 // bytes per second
	next time.Time
}

func newPacer(mibPerSec float64) *pacer { return &pacer{rate: mibPerSec * (1 << 20)} }

// wait blocks until n more bytes fit in the rate.
func (p *pacer) wait(ctx context.Context, n int64) error {
	if p == nil || p.rate <= 0 || n <= 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	d := p.next.Sub(now)
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	p.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// verifyShard reads blocks [from, to) of shard file dataDir of d and checks
// their CRCs. With from == to it checks only that the file exists.
func verifyShard(ctx context.Context, d driveOps, dataDir string, lay layout, from, to int64) error {
	if from >= to {
		rc, err := d.OpenShard(ctx, dataDir, 0, 0)
		if err != nil {
			return err
		}
		return rc.Close()
	}
	off := lay.shardOffset(from)
	rc, err := d.OpenShard(ctx, dataDir, off, lay.shardEnd(to-1)-off)
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := make([]byte, crcLen+shardLen(lay.blockSize, lay.k))
	for b := from; b < to; b++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		region := buf[:crcLen+lay.shardBlockLen(b)]
		if _, err := io.ReadFull(rc, region); err != nil {
			return fmt.Errorf("dataplane: shard %s block %d: %w", dataDir, b, shortRead(err))
		}
		if !regionOK(region) {
			return fmt.Errorf("dataplane: shard %s block %d: %w", dataDir, b, errChecksum)
		}
	}
	return nil
}

// verifyInline checks a drive's inline shard bytes against the layout.
func verifyInline(data []byte, lay layout) error {
	if int64(len(data)) != lay.shardFileSize() {
		return fmt.Errorf("dataplane: inline shard of %d bytes, want %d: %w", len(data), lay.shardFileSize(), errShardShort)
	}
	for b := range lay.blocks() {
		region := data[lay.shardOffset(b):lay.shardEnd(b)]
		if !regionOK(region) {
			return fmt.Errorf("dataplane: inline shard block %d: %w", b, errChecksum)
		}
	}
	return nil
}

// readKeyAll reads bucket/key from every PG drive, waiting for all of them
// (up to MetaTimeout): healing must know which drives lack a record.
func (s *Store) readKeyAll(ctx context.Context, rt route, ref drive.Ref) (*keyView, error) {
	rctx, cancel := s.metaCtx(ctx)
	defer cancel()
	answers := make([]keyAnswer, rt.all())
	var wg sync.WaitGroup
	for i := range rt.all() {
		d := rt.at(i)
		wg.Go(func() {
			kv, err := d.store.ReadVersions(rctx, rt.bucket, rt.key, ref, readLimit)
			if errors.Is(err, drive.ErrNotFound) {
				err = nil
			}
			answers[i] = keyAnswer{drive: i, kv: kv, ok: err == nil, err: err}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.newKeyView(rt, answers), nil
}

// recordAt returns drive i's record of g (complete if one was read).
func recordAt(g *versionGroup, i int) (answer, bool) {
	for _, a := range g.recs {
		if a.drive == i {
			return a, true
		}
	}
	return answer{}, false
}

// bestTags returns the tags and tag time of g's record updated last.
func bestTags(g *versionGroup) (map[string]string, int64) {
	best := g.recs[0].fi
	for _, a := range g.recs[1:] {
		if a.fi.TagTime > best.TagTime {
			best = a.fi
		}
	}
	return best.Tags, best.TagTime
}

// shardRebuild asks rebuildShard for shard idx of version g (read over rt
// into v) on drive dst.
type shardRebuild struct {
	rt  route
	v   *keyView
	g   *versionGroup
	idx int
	dst driveRef
	// cur is dst's record of the version (nil: none). With a record, only
	// the streams selected by parts are rebuilt and the record keeps its
	// other parts; without, every stream is.
	cur   *drive.FileInfo
	parts []bool // per stream (one, or one per part): rebuild it
}

// rebuildShard rebuilds one shard of a version on a drive (see the top of
// this file) and returns the shard bytes written. pace bounds the source
// bytes read. errHealStale when the version went away meanwhile.
func (s *Store) rebuildShard(ctx context.Context, rb shardRebuild, pace *pacer) (int64, error) {
	rt, g := rb.rt, rb.g
	s.fetchFull(ctx, rb.v, g)
	full, ok := g.fullRecord()
	if !ok {
		return 0, &QuorumError{Op: "heal", Have: 0, Need: 1}
	}
	o, err := s.objectOf(ctx, rb.v, g)
	if err != nil {
		return 0, err
	}
	o.noRepair = true
	rec := full
	rec.Shard = rb.idx
	rec.Inline = nil
	rec.Missing = nil
	rec.Tags, rec.TagTime = bestTags(g)
	rebuild := func(j int) bool { return rb.cur == nil || rb.parts == nil || rb.parts[j] }
	shards := map[string]string{} // data dir -> temporary shard on dst
	var written int64
	abort := func() {
		actx, cancel := s.metaCtx(context.WithoutCancel(ctx))
		defer cancel()
		for _, tmp := range shards {
			if err := rb.dst.store.AbortShard(actx, tmp); err != nil && !errors.Is(err, drive.ErrNotFound) {
				s.log.Debug("heal: abort shard failed", "drive", rb.dst.id, "tmp", tmp, "err", err)
			}
		}
	}
	for j := range o.parts {
		p := o.parts[j]
		if !rebuild(j) {
			if rb.cur != nil && full.PartCount > 0 && slices.Contains(rb.cur.Missing, full.Parts[j].Number) {
				rec.Missing = append(rec.Missing, full.Parts[j].Number)
			}
			continue
		}
		// A copy of the shard on another drive (the old drive of a moving
		// PG) is copied, every block checked; else it is decoded.
		if own := p.srcs[rb.idx]; own != nil && own.driveID != rb.dst.id {
			if p.dataDir == "" {
				if verifyInline(own.inline, p.lay) == nil {
					rec.Inline = slices.Clone(own.inline)
					written += int64(len(own.inline))
					continue
				}
			} else {
				tmp, n, err := s.copyShard(ctx, own.store, rb.dst, p.dataDir, "", p.lay, pace)
				if err == nil {
					shards[p.dataDir] = tmp
					written += n
					continue
				}
				s.log.Info("heal: copying the shard failed, rebuilding it", "bucket", rt.bucket, "key", rt.key, "from", own.driveID, "to", rb.dst.id, "err", err)
			}
		}
		// Sources: every other shard; never the target's own copy.
		p.srcs = slices.Clone(p.srcs)
		p.srcs[rb.idx] = nil
		for i, src := range p.srcs {
			if src != nil && src.driveID == rb.dst.id {
				p.srcs[i] = nil
			}
		}
		if p.dataDir == "" {
			data, err := o.rebuildInline(ctx, &p, rb.idx, pace)
			if err != nil {
				return 0, err
			}
			rec.Inline = data
			written += int64(len(data))
			continue
		}
		rs, err := o.newRebuildStream(ctx, &p, rb.idx, pace)
		if err != nil {
			abort()
			return 0, err
		}
		// A temporary name of its own: another repair of this shard (read
		// repair on another node, a refill) may be writing it too.
		tmp := newDataDir()
		n, err := rb.dst.store.WriteShard(ctx, tmp, rs)
		rs.close()
		if err == nil && n != p.lay.shardFileSize() {
			err = fmt.Errorf("dataplane: drive %s stored %d of %d rebuilt shard bytes", rb.dst.id, n, p.lay.shardFileSize())
		}
		if err != nil {
			_ = rb.dst.store.AbortShard(context.WithoutCancel(ctx), tmp)
			abort()
			return 0, fmt.Errorf("dataplane: rebuild shard %d of %s/%s on %s: %w", rb.idx, rt.bucket, rt.key, rb.dst.id, err)
		}
		shards[p.dataDir] = tmp
		written += n
	}
	if rec.DataDir == "" && rec.PartCount == 0 && rec.Inline == nil {
		rec.Inline = []byte{} // an empty inline object still has (empty) inline bytes
	}
	err = s.underLock(ctx, rt, g, func(cctx context.Context) error {
		return rb.dst.store.RestoreVersion(cctx, rec, shards)
	})
	if err != nil {
		abort()
		return 0, err
	}
	return written, nil
}

// underLock runs fn under the key's write lock once it has checked that
// version g still exists: errHealStale if not.
func (s *Store) underLock(ctx context.Context, rt route, g *versionGroup, fn func(context.Context) error) error {
	lk, _, err := s.lockKey(ctx, rt, rt.bucket, rt.key, false, nil)
	if err != nil {
		return err
	}
	defer lk.release()
	ref := drive.RefOf(g.fi)
	v, err := s.readKeyAll(ctx, rt, ref)
	if err != nil {
		return err
	}
	cur, _ := v.find(ref)
	if cur == nil || !sameVersion(cur.fi, g.fi) || cur.fi.Null != g.fi.Null {
		return errHealStale
	}
	cctx, cancel := s.metaCtx(context.WithoutCancel(ctx))
	defer cancel()
	return fn(cctx)
}

// newRebuildReader opens a reader over part p (whose srcs exclude the
// target) that decodes every block.
func (o *Object) newRebuildReader(ctx context.Context, p *objPart) (*objReader, error) {
	return o.newPartReader(ctx, p, 0, p.lay.size)
}

// rebuildBlock decodes block b with r and returns shard idx's region
// ([crc][shard]) with its CRC set; it is valid until the next call.
func (r *objReader) rebuildBlock(b int64, idx int) ([]byte, error) {
	if err := r.loadBlock(b); err != nil {
		return nil, err
	}
	if idx >= r.p.lay.k {
		// All data shards are in place (read or reconstructed): recompute
		// the parity shards.
		if err := r.cd.enc.Encode(r.bb.shards); err != nil {
			return nil, fmt.Errorf("dataplane: encode: %w", err)
		}
	}
	region := r.bb.regions[idx]
	binary.BigEndian.PutUint32(region, crc32.Checksum(region[crcLen:], castagnoli))
	return region, nil
}

// rebuildInline returns shard idx of an inline part, rebuilt from the
// others.
func (o *Object) rebuildInline(ctx context.Context, p *objPart, idx int, pace *pacer) ([]byte, error) {
	out := make([]byte, 0, p.lay.shardFileSize())
	if p.lay.size == 0 {
		return out, nil
	}
	r, err := o.newRebuildReader(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for b := range p.lay.blocks() {
		if err := pace.wait(ctx, int64(p.lay.k)*p.lay.shardBlockLen(b)); err != nil {
			return nil, err
		}
		region, err := r.rebuildBlock(b, idx)
		if err != nil {
			return nil, err
		}
		out = append(out, region...)
	}
	return out, nil
}

// rebuildStream is the io.Reader WriteShard consumes when a shard file is
// rebuilt: the regions of shard idx, block after block.
type rebuildStream struct {
	ctx  context.Context
	r    *objReader // nil for an empty part
	idx  int
	b    int64
	nb   int64
	cur  []byte
	pace *pacer
	lay  layout
}

func (o *Object) newRebuildStream(ctx context.Context, p *objPart, idx int, pace *pacer) (*rebuildStream, error) {
	rs := &rebuildStream{ctx: ctx, idx: idx, nb: p.lay.blocks(), pace: pace, lay: p.lay}
	if p.lay.size == 0 {
		return rs, nil
	}
	r, err := o.newRebuildReader(ctx, p)
	if err != nil {
		return nil, err
	}
	rs.r = r
	return rs, nil
}

func (rs *rebuildStream) Read(p []byte) (int, error) {
	if len(rs.cur) == 0 {
		if rs.b == rs.nb {
			return 0, io.EOF
		}
		if err := rs.pace.wait(rs.ctx, int64(rs.lay.k)*rs.lay.shardBlockLen(rs.b)); err != nil {
			return 0, err
		}
		region, err := rs.r.rebuildBlock(rs.b, rs.idx)
		if err != nil {
			return 0, err
		}
		rs.cur = region
		rs.b++
	}
	n := copy(p, rs.cur)
	rs.cur = rs.cur[n:]
	return n, nil
}

func (rs *rebuildStream) close() {
	if rs.r != nil {
		_ = rs.r.Close()
	}
}

// healJob names one version to inspect and repair.
type healJob struct {
	bucket, key string
	ref         drive.Ref // exact: ID and ModTime
	// only restricts the repair to one drive (a refill); "" repairs every
	// drive of the PG.
	only string
	// verify reads every shard file to check its CRCs (only those on drive
	// suspect when set); without it only records, parts and inline bytes
	// are checked.
	verify  bool
	suspect string
	// verifyOn, when set, limits verification to the shards on these
	// drives (a rebalance verifies the new drives only).
	verifyOn map[string]bool
	// pace bounds the rebuild reads (nil: the heal rate).
	pace *pacer
	// move: a rebalance moving the version (its shards are logged at
	// debug level: a rebalance moves many).
	move bool
}

// healResult counts what healVersion did.
type healResult struct {
	shards   int   // shards rebuilt (a multipart shard counts once)
	records  int   // records rewritten without data (markers, tombstones, tags)
	bytes    int64 // shard bytes written
	verified int64 // shard bytes verified
}

// healVersion inspects and repairs one version (see the top of this file).
// A version that does not exist (any more) is not an error.
func (s *Store) healVersion(ctx context.Context, job healJob) (healResult, error) {
	var res healResult
	rt, err := s.route(job.bucket, job.key)
	if err != nil {
		return res, err
	}
	v, err := s.readKeyAll(ctx, rt, job.ref)
	if err != nil {
		return res, err
	}
	g, _ := v.find(job.ref)
	if g == nil {
		return res, nil
	}
	targets := func(yield func(int) bool) {
		for i, d := range rt.drives {
			if job.only != "" && d.id != job.only || !v.reachable[i] {
				continue
			}
			if !yield(i) {
				return
			}
		}
	}
	var errs []error
	if g.fi.Deleted {
		for i := range targets {
			if _, ok := recordAt(g, i); ok {
				continue
			}
			rec := g.fi
			if full, ok := g.fullRecord(); ok {
				rec = full
			}
			rec.Shard = i
			d := rt.drives[i]
			err := s.underLock(ctx, rt, g, func(cctx context.Context) error { return d.store.CommitVersion(cctx, rec) })
			if err != nil {
				if !errors.Is(err, errHealStale) {
					errs = append(errs, fmt.Errorf("drive %s: %w", d.id, err))
				}
				continue
			}
			res.records++
		}
		return res, errors.Join(errs...)
	}
	s.fetchFull(ctx, v, g)
	full, ok := g.fullRecord()
	if !ok {
		return res, &QuorumError{Op: "heal", Have: 0, Need: 1}
	}
	o, err := s.objectOf(ctx, v, g)
	if err != nil {
		return res, err
	}
	tags, tagTime := bestTags(g)
	for i := range targets {
		d := rt.drives[i]
		a, has := recordAt(g, i)
		if has && a.fi.Shard != i {
			// Another shard index than the placement says: left to a
			// rebalance, which moves shards between drives.
			s.log.Warn("heal: drive holds another shard index", "bucket", job.bucket, "key", job.key, "drive", d.id, "shard", a.fi.Shard, "want", i)
			continue
		}
		rb := shardRebuild{rt: rt, v: v, g: g, idx: i, dst: d}
		if has {
			cur := a.fi
			rb.cur = &cur
			rb.parts = make([]bool, len(o.parts))
			bad := false
			for j := range o.parts {
				p := &o.parts[j]
				switch {
				case full.PartCount > 0 && slices.Contains(a.fi.Missing, full.Parts[j].Number):
					rb.parts[j] = true
				case p.dataDir == "":
					if !a.full || verifyInline(a.fi.Inline, p.lay) != nil {
						rb.parts[j] = true
					}
				case job.verify && (job.suspect == "" || job.suspect == d.id) && (job.verifyOn == nil || job.verifyOn[d.id]):
					n, err := s.verifyRemote(ctx, d, p.dataDir, p.lay)
					res.verified += n
					switch {
					case err == nil:
					case unavailable(err) || ctx.Err() != nil:
						errs = append(errs, fmt.Errorf("verify on drive %s: %w", d.id, err))
						bad = true // unknown: leave this drive alone
					default:
						s.log.Warn("heal: bad shard", "bucket", job.bucket, "key", job.key, "drive", d.id, "shard", i, "data_dir", p.dataDir, "err", err)
						rb.parts[j] = true
					}
				}
			}
			if bad {
				continue
			}
			if !slices.Contains(rb.parts, true) {
				if a.fi.TagTime < tagTime {
					err := s.underLock(ctx, rt, g, func(cctx context.Context) error {
						return d.store.SetTags(cctx, job.bucket, job.key, drive.RefOf(g.fi), tags, tagTime)
					})
					if err == nil {
						res.records++
					} else if !errors.Is(err, errHealStale) {
						errs = append(errs, fmt.Errorf("tags on drive %s: %w", d.id, err))
					}
				}
				continue
			}
		}
		pace := job.pace
		if pace == nil {
			pace = s.heal.healPace
		}
		n, err := s.rebuildShard(ctx, rb, pace)
		if err != nil {
			if errors.Is(err, errHealStale) {
				return res, nil
			}
			errs = append(errs, fmt.Errorf("rebuild shard %d on drive %s: %w", i, d.id, err))
			continue
		}
		level := slog.LevelInfo
		if job.move {
			level = slog.LevelDebug
		}
		s.log.Log(ctx, level, "shard repaired", "bucket", job.bucket, "key", job.key, "version", extVersionID(g.fi), "drive", d.id, "shard", i, "bytes", n, "move", job.move)
		res.shards++
		res.bytes += n
	}
	return res, errors.Join(errs...)
}

// verifyChunk is how many blocks one VerifyShard call checks, so the scan
// rate is kept in steps of a few MiB.
const verifyChunk = 8

// verifyRemote verifies a shard file on d in chunks, paced by the scan
// rate, and returns the shard bytes verified.
func (s *Store) verifyRemote(ctx context.Context, d driveRef, dataDir string, lay layout) (int64, error) {
	nb := lay.blocks()
	if nb == 0 {
		vctx, cancel := s.metaCtx(ctx)
		defer cancel()
		return 0, d.store.VerifyShard(vctx, dataDir, lay, 0, 0)
	}
	var n int64
	for from := int64(0); from < nb; from += verifyChunk {
		to := min(from+verifyChunk, nb)
		size := lay.shardEnd(to-1) - lay.shardOffset(from)
		if err := s.heal.scanPace.wait(ctx, size); err != nil {
			return n, err
		}
		vctx, cancel := context.WithTimeout(ctx, s.cfg.StallTimeout)
		err := d.store.VerifyShard(vctx, dataDir, lay, from, to)
		cancel()
		if err != nil {
			return n, err
		}
		n += size
	}
	return n, nil
}
