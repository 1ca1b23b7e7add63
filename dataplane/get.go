package dataplane

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// answer is one drive's record of one version.
type answer struct {
	drive int // position in the PG
	fi    drive.FileInfo
	full  bool // fi is the complete record (Inline, Parts), not a header
}

// versionGroup is the records of one version, at most one per drive.
type versionGroup struct {
	fi     drive.FileInfo // the first record seen (Shard, Inline, Missing are per drive)
	recs   []answer
	shards int // distinct valid shard indexes among recs
	// positions is the number of distinct shard positions holding a
	// record, when alts answered (a moving PG); else len(recs).
	positions int
}

// countPositions sets g.positions: a record on a position's new drive and
// on its alt counts once.
func (g *versionGroup) countPositions(rt *route) {
	seen := make([]bool, len(rt.drives))
	g.positions = 0
	for _, a := range g.recs {
		if p := rt.posOf(a.drive); !seen[p] {
			seen[p] = true
			g.positions++
		}
	}
}

// sameVersion reports whether two records describe the same version.
func sameVersion(a, b drive.FileInfo) bool {
	return a.ModTime == b.ModTime && a.Deleted == b.Deleted && a.Size == b.Size && a.ETag == b.ETag &&
		a.K == b.K && a.M == b.M && a.BlockSize == b.BlockSize && a.DataDir == b.DataDir && a.PartCount == b.PartCount
}

// add records drive's record of the group's version (replacing a header
// by a complete record). Records that disagree with the group are dropped.
func (g *versionGroup) add(a answer) {
	if !sameVersion(g.fi, a.fi) {
		return
	}
	for i := range g.recs {
		if g.recs[i].drive == a.drive {
			if a.full && !g.recs[i].full {
				g.recs[i] = a
			}
			return
		}
	}
	g.recs = append(g.recs, a)
}

// countShards sets g.shards.
func (g *versionGroup) countShards() {
	seen := map[int]bool{}
	for _, a := range g.recs {
		if a.fi.Shard >= 0 && a.fi.Shard < a.fi.K+a.fi.M {
			seen[a.fi.Shard] = true
		}
	}
	g.shards = len(seen)
}

// tags returns the tags of the record updated last.
func (g *versionGroup) tags() map[string]string {
	best := g.recs[0].fi
	for _, a := range g.recs[1:] {
		if a.fi.TagTime > best.TagTime {
			best = a.fi
		}
	}
	return best.Tags
}

// fullRecord returns a complete record of the group, if one was read.
func (g *versionGroup) fullRecord() (drive.FileInfo, bool) {
	for _, a := range g.recs {
		if a.full {
			return a.fi, true
		}
	}
	return drive.FileInfo{}, false
}

// keyView is what the PG's drives said about one key: its versions grouped
// across drives, newest first, with the rules that decide which exist.
//
// A data version exists when K distinct shards of it were seen; a delete
// marker or tombstone when more than N-W drives hold it (a write quorum W
// committed it; a version removed by DeleteObject stays on at most N-W
// drives that missed the removal, and must not come back). A version below
// its threshold is a failed or partial write, or a leftover, unless the
// drives that did not answer could make up the difference: then the view
// is ambiguous and a read answers a *QuorumError, not a false "not found".
type keyView struct {
	rt        route
	groups    []*versionGroup
	answered  int    // drives whose versions are in groups
	reachable []bool // drives that answered (a write commits on them)
	maxMod    int64  // newest ModTime of any record seen
}

// newKeyView groups the drives' answers.
func (s *Store) newKeyView(rt route, answers []keyAnswer) *keyView {
	v := &keyView{rt: rt, reachable: make([]bool, rt.all())}
	byID := map[string]*versionGroup{}
	add := func(a answer) {
		v.maxMod = max(v.maxMod, a.fi.ModTime)
		g := byID[a.fi.VersionID]
		if g == nil {
			g = &versionGroup{fi: a.fi}
			byID[a.fi.VersionID] = g
			v.groups = append(v.groups, g)
		}
		g.add(a)
	}
	for _, ka := range answers {
		if !ka.ok {
			continue
		}
		if ka.drive < len(rt.drives) {
			v.answered++
		}
		v.reachable[ka.drive] = true
		for _, fi := range ka.kv.Versions {
			add(answer{drive: ka.drive, fi: fi})
		}
		if t := ka.kv.Target; t != nil {
			add(answer{drive: ka.drive, fi: *t, full: true})
		}
	}
	for _, g := range v.groups {
		g.countShards()
		if len(rt.alts) > 0 {
			g.countPositions(&rt)
		}
	}
	slices.SortFunc(v.groups, func(a, b *versionGroup) int {
		return drive.CompareVersions(a.fi.ModTime, a.fi.VersionID, b.fi.ModTime, b.fi.VersionID)
	})
	return v
}

// markerQuorum is how many drives must hold a delete marker or tombstone
// for it to exist: more than N-W.
func markerQuorum(k, m int) int { return k + m - writeQuorum(k, m) + 1 }

// weight and threshold: see keyView.
func (v *keyView) weight(g *versionGroup) int {
	if g.fi.Deleted {
		if len(v.rt.alts) > 0 {
			return g.positions
		}
		return len(g.recs)
	}
	return g.shards
}

func (v *keyView) threshold(g *versionGroup) int {
	if g.fi.Deleted {
		return markerQuorum(v.rt.k, v.rt.m)
	}
	return max(g.fi.K, 1)
}

func (v *keyView) unanswered() int { return len(v.rt.drives) - v.answered }

func (v *keyView) present(g *versionGroup) bool { return v.weight(g) >= v.threshold(g) }

func (v *keyView) possible(g *versionGroup) bool {
	return v.weight(g)+v.unanswered() >= v.threshold(g)
}

// current returns the key's current version: the newest that exists (a
// data version, a delete marker or a tombstone). ambiguous reports a
// version that may exist (see keyView) when none does.
func (v *keyView) current() (g *versionGroup, ambiguous bool) {
	for _, g := range v.groups {
		if v.present(g) {
			return g, false
		}
		if v.possible(g) {
			ambiguous = true
		}
	}
	return nil, ambiguous
}

// find returns the version ref names (the current one for the zero Ref).
func (v *keyView) find(ref drive.Ref) (g *versionGroup, ambiguous bool) {
	if ref == (drive.Ref{}) {
		return v.current()
	}
	for _, g := range v.groups {
		match := g.fi.Null && ref.Null || !ref.Null && g.fi.VersionID == ref.ID && g.fi.ModTime == ref.ModTime
		if !match {
			continue
		}
		if v.present(g) {
			return g, false
		}
		if v.possible(g) {
			ambiguous = true
		}
	}
	return nil, ambiguous
}

// decided reports whether the answers so far settle ref.
func (v *keyView) decided(ref drive.Ref) bool {
	g, ambiguous := v.find(ref)
	return g != nil || !ambiguous
}

// isLatest reports whether g is the key's current version.
func (v *keyView) isLatest(g *versionGroup) bool {
	cur, _ := v.current()
	return cur == g
}

// newestPartial reports whether the key's newest version seen is a data
// version that does not exist (yet): a write in flight, or a failed one.
func (v *keyView) newestPartial() bool {
	return len(v.groups) > 0 && !v.groups[0].fi.Deleted && !v.present(v.groups[0])
}

// hasRecords reports whether any drive holds any version of the key.
func (v *keyView) hasRecords() bool { return len(v.groups) > 0 }

// refFor turns an S3 version id into the drives' Ref: "" is the current
// version, NullVersionID the null version; anything this data plane could
// not have made is ErrNoSuchVersion.
func refFor(versionID string) (drive.Ref, error) {
	switch versionID {
	case "":
		return drive.Ref{}, nil
	case NullVersionID:
		return drive.Ref{Null: true}, nil
	}
	mod, ok := versionTime(versionID)
	if !ok {
		return drive.Ref{}, ErrNoSuchVersion
	}
	return drive.Ref{ID: versionID, ModTime: mod}, nil
}

// extVersionID is the version id S3 reports for a record.
func extVersionID(fi drive.FileInfo) string {
	if fi.Null {
		return NullVersionID
	}
	return fi.VersionID
}

// infoOf converts a drive record into the ObjectInfo callers see (without
// Parts unless the record has them).
func infoOf(fi drive.FileInfo) ObjectInfo {
	info := ObjectInfo{
		Bucket:       fi.Bucket,
		Key:          fi.Key,
		VersionID:    extVersionID(fi),
		Size:         fi.Size,
		ETag:         fi.ETag,
		ModTime:      time.Unix(0, fi.ModTime),
		Meta:         fi.Meta,
		DeleteMarker: fi.Deleted,
	}
	info.Tags, info.ACL = splitACL(fi.Tags)
	if fi.Deleted {
		info.Size, info.ETag = 0, ""
	}
	if fi.ChecksumAlgo != "" {
		info.Checksum = Checksum{Algorithm: fi.ChecksumAlgo, Value: fi.ChecksumValue, Type: fi.ChecksumType}
	}
	for _, p := range fi.Parts {
		pi := PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag}
		if p.Checksum != "" {
			pi.Checksum = Checksum{Algorithm: fi.ChecksumAlgo, Value: p.Checksum}
		}
		info.Parts = append(info.Parts, pi)
	}
	return info
}

// groupInfo is the ObjectInfo of a version group.
func (v *keyView) groupInfo(g *versionGroup) ObjectInfo {
	fi := g.fi
	if full, ok := g.fullRecord(); ok {
		fi = full
	}
	info := infoOf(fi)
	info.Tags, info.ACL = splitACL(g.tags())
	info.IsLatest = v.isLatest(g)
	return info
}

// resolveRef returns the version ref names, or the error S3 answers:
// ErrObjectNotFound (current version missing or a tombstone),
// *DeleteMarkerError, ErrNoSuchVersion, or a *QuorumError when the drives
// that answered cannot settle it.
func (v *keyView) resolveRef(ref drive.Ref) (*versionGroup, error) {
	g, ambiguous := v.find(ref)
	byVersion := ref != (drive.Ref{})
	switch {
	case g != nil && g.fi.Deleted && g.fi.Tombstone:
		if byVersion {
			return nil, ErrNoSuchVersion
		}
		return nil, ErrObjectNotFound
	case g != nil && g.fi.Deleted:
		return nil, &DeleteMarkerError{Info: v.groupInfo(g), ByVersion: byVersion}
	case g != nil:
		return g, nil
	case v.answered < v.rt.k:
		return nil, &QuorumError{Op: "read", Have: v.answered, Need: v.rt.k}
	case ambiguous:
		return nil, &QuorumError{Op: "read", Have: v.answered, Need: len(v.rt.drives)}
	case byVersion:
		return nil, ErrNoSuchVersion
	default:
		return nil, ErrObjectNotFound
	}
}

// readResult is one drive's answer to ReadVersions.
type readResult struct {
	drive int
	kv    drive.KeyVersions
	err   error
}

// readKey reads bucket/key from all PG drives in parallel (each drive's
// newest versions and its record of the version ref names).
//
// It returns early, after StragglerWait for the rest, once more than N-W
// drives answered and the answers settle ref: any version acknowledged on
// W drives then shows on at least one answering drive.
func (s *Store) readKey(ctx context.Context, rt route, bucket, key string, ref drive.Ref) (*keyView, error) {
	n := len(rt.drives)
	need := writeQuorum(rt.k, rt.m)
	rctx, cancel := s.metaCtx(ctx)
	all := rt.all()
	ch := make(chan readResult, all)
	for i := range all {
		d := rt.at(i)
		go func() {
			kv, err := d.store.ReadVersions(rctx, bucket, key, ref, readLimit)
			ch <- readResult{drive: i, kv: kv, err: err}
		}()
	}
	var answers []keyAnswer
	got, answered, altsIn := 0, 0, 0
	var grace <-chan time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
collect:
	for got < all {
		select {
		case r := <-ch:
			got++
			if r.drive >= n {
				// An alt's answer is waited for (up to the deadline): the
				// only copy of a shard may be there.
				altsIn++
			}
			switch {
			case r.err == nil:
				if r.drive < n {
					answered++
				}
				answers = append(answers, keyAnswer{drive: r.drive, kv: r.kv, ok: true})
			case errors.Is(r.err, drive.ErrNotFound):
				if r.drive < n {
					answered++
				}
				answers = append(answers, keyAnswer{drive: r.drive, ok: true})
			case ctx.Err() != nil:
			case unavailable(r.err):
				s.log.Debug("read versions: drive unavailable", "bucket", bucket, "key", key, "drive", rt.at(r.drive).id, "err", r.err)
			default:
				s.log.Warn("read versions failed", "bucket", bucket, "key", key, "drive", rt.at(r.drive).id, "err", r.err)
			}
			if grace == nil && answered > n-need && altsIn == len(rt.alts) && got < all && s.newKeyView(rt, answers).decided(ref) {
				timer = time.NewTimer(s.cfg.StragglerWait)
				grace = timer.C
			}
		case <-grace:
			break collect
		case <-rctx.Done():
			break collect
		}
	}
	if got == all {
		cancel()
	} else {
		// Drives not waited for finish in the background rather than
		// being cut off: a cancelled call closes its connection.
		go func() {
			defer cancel()
			for range all - got {
				<-ch
			}
		}()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.newKeyView(rt, answers), nil
}

// GetObject resolves the version of bucket/key that opts names (the
// current one by default) by quorum, ready to read. A delete marker gives a
// *DeleteMarkerError; a version id that does not exist ErrNoSuchVersion.
func (s *Store) GetObject(ctx context.Context, bucket, key string, opts GetOptions) (*Object, error) {
	rt, err := s.route(bucket, key)
	if err != nil {
		return nil, err
	}
	ref, err := refFor(opts.VersionID)
	if err != nil {
		return nil, err
	}
	v, err := s.readKey(ctx, rt, bucket, key, ref)
	if err != nil {
		return nil, err
	}
	g, err := v.resolveRef(ref)
	if errors.Is(err, ErrObjectNotFound) && v.newestPartial() {
		// A write of the key is in flight (or failed): when it replaces a
		// null version drive by drive, the old version can drop below K
		// shards before the new one reaches K, and neither shows. Wait for
		// the writer by taking the key's lock, and read again under it.
		lk, lv, lerr := s.lockKey(ctx, rt, bucket, key, false, nil)
		if lerr != nil {
			return nil, lerr
		}
		defer lk.release()
		v = lv
		g, err = v.resolveRef(ref)
	}
	if err != nil {
		return nil, err
	}
	o, err := s.objectOf(ctx, v, g)
	if err == nil {
		s.noteMissing(v, g)
	}
	return o, err
}

// HeadObject is GetObject without preparing to read.
func (s *Store) HeadObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, error) {
	o, err := s.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return ObjectInfo{}, err
	}
	return o.Info, nil
}

// fetchFull reads the complete records of g from the drives that showed
// only its header.
func (s *Store) fetchFull(ctx context.Context, v *keyView, g *versionGroup) {
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	ref := drive.RefOf(g.fi)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, a := range slices.Clone(g.recs) {
		if a.full {
			continue
		}
		d := v.rt.at(a.drive)
		wg.Go(func() {
			kv, err := d.store.ReadVersions(ctx, g.fi.Bucket, g.fi.Key, ref, 1)
			if err != nil || kv.Target == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			g.add(answer{drive: a.drive, fi: *kv.Target, full: true})
		})
	}
	wg.Wait()
}

// objectOf builds the readable Object of an existing data version.
func (s *Store) objectOf(ctx context.Context, v *keyView, g *versionGroup) (*Object, error) {
	inline := g.fi.DataDir == "" && g.fi.PartCount == 0
	fullShards := 0
	for _, a := range g.recs {
		if a.full {
			fullShards++
		}
	}
	if (inline && fullShards < g.fi.K && fullShards < len(g.recs)) || (g.fi.PartCount > 0 && fullShards == 0) {
		s.fetchFull(ctx, v, g)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	info := v.groupInfo(g)
	fi := g.fi
	if full, ok := g.fullRecord(); ok {
		fi = full
	}
	if fi.PartCount > 0 && len(fi.Parts) != fi.PartCount {
		return nil, &QuorumError{Op: "read", Have: 0, Need: 1}
	}
	o := &Object{Info: info, s: s, ref: drive.RefOf(g.fi), missing: v.unanswered()}
	blockSize := fi.BlockSize
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	newPart := func(start, size int64, dataDir string) objPart {
		return objPart{start: start, lay: layout{size: size, blockSize: blockSize, k: fi.K, m: fi.M}, dataDir: dataDir, srcs: make([]*shardSource, fi.K+fi.M)}
	}
	setSrc := func(p *objPart, a answer) {
		if a.fi.Shard < 0 || a.fi.Shard >= len(p.srcs) || p.srcs[a.fi.Shard] != nil {
			return
		}
		if p.dataDir == "" && !a.full {
			return // inline bytes come only with a complete record
		}
		d := v.rt.at(a.drive)
		p.srcs[a.fi.Shard] = &shardSource{driveID: d.id, store: d.store, inline: a.fi.Inline}
	}
	if fi.PartCount == 0 {
		p := newPart(0, fi.Size, fi.DataDir)
		for _, a := range g.recs {
			setSrc(&p, a)
		}
		o.parts = []objPart{p}
		return o, nil
	}
	var start int64
	for _, part := range fi.Parts {
		p := newPart(start, part.Size, part.DataDir)
		for _, a := range g.recs {
			if !slices.Contains(a.fi.Missing, part.Number) {
				setSrc(&p, a)
			}
		}
		o.parts = append(o.parts, p)
		start += part.Size
	}
	return o, nil
}
