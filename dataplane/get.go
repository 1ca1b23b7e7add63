package dataplane

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// answer is one drive's record of the object.
type answer struct {
	drive int // position in the PG
	fi    drive.FileInfo
}

// versionGroup is the records of one version, one per drive.
type versionGroup struct {
	fi     drive.FileInfo // the first record seen (Shard and Inline are per drive)
	recs   []answer
	shards int // distinct valid shard indexes among recs
}

// groupVersions groups records by VersionID, newest first (ModTime
// descending, ties by VersionID descending so every node picks the same).
// Records that disagree with their group's geometry are dropped.
func groupVersions(recs []answer) []*versionGroup {
	byID := map[string]*versionGroup{}
	var groups []*versionGroup
	for _, a := range recs {
		g := byID[a.fi.VersionID]
		if g == nil {
			g = &versionGroup{fi: a.fi}
			byID[a.fi.VersionID] = g
			groups = append(groups, g)
		} else if !sameVersion(g.fi, a.fi) {
			continue
		}
		g.recs = append(g.recs, a)
	}
	for _, g := range groups {
		seen := map[int]bool{}
		for _, a := range g.recs {
			if a.fi.Shard >= 0 && a.fi.Shard < a.fi.K+a.fi.M && !seen[a.fi.Shard] {
				seen[a.fi.Shard] = true
			}
		}
		g.shards = len(seen)
	}
	slices.SortFunc(groups, func(a, b *versionGroup) int {
		if c := cmp.Compare(b.fi.ModTime, a.fi.ModTime); c != 0 {
			return c
		}
		return cmp.Compare(b.fi.VersionID, a.fi.VersionID)
	})
	return groups
}

// sameVersion reports whether two records describe the same version.
func sameVersion(a, b drive.FileInfo) bool {
	return a.ModTime == b.ModTime && a.Deleted == b.Deleted && a.Size == b.Size && a.ETag == b.ETag &&
		a.K == b.K && a.M == b.M && a.BlockSize == b.BlockSize && a.DataDir == b.DataDir
}

// readable reports whether g is a data version with enough shards to read.
func (g *versionGroup) readable() bool {
	return !g.fi.Deleted && g.fi.K > 0 && g.shards >= g.fi.K
}

// decision is the outcome of resolving a key from the records seen so far.
type decision struct {
	found   *versionGroup // the current version, or nil
	deleted bool          // the newest decisive version is a tombstone
	// ambiguous: a newer version was seen on fewer than K drives, but the
	// drives that did not answer could complete it.
	ambiguous bool
	partial   int // the most shards of such a version
}

// decide resolves a key: groups newest first; a tombstone hides the key; the
// first data version on >= K drives is current; versions on fewer drives are
// failed or partial writes and are skipped.
func decide(groups []*versionGroup, unanswered int) decision {
	var d decision
	for _, g := range groups {
		if g.fi.Deleted {
			d.deleted = true
			return d
		}
		if g.readable() {
			d.found = g
			return d
		}
		if g.shards+unanswered >= g.fi.K {
			d.ambiguous = true
			d.partial = max(d.partial, g.shards)
		}
	}
	return d
}

// readResult is one drive's answer to ReadVersion.
type readResult struct {
	drive int
	fi    drive.FileInfo
	err   error
}

// resolve reads the record of bucket/key from all PG drives in parallel and
// picks the current version.
//
// Rules: see decide. It returns early, after StragglerWait for the rest, once
// more than N-W drives answered and the answers decide the key: any version
// acknowledged on W drives then shows on at least one answering drive. When
// no version is found it returns a *QuorumError rather than
// ErrObjectNotFound if fewer than K drives answered, or if a version seen on
// fewer than K drives could be completed by the silent ones — so a client
// gets a retryable error, not a false "not found".
func (s *Store) resolve(ctx context.Context, bucket, key string) (*Object, error) {
	rt, err := s.route(bucket, key)
	if err != nil {
		return nil, err
	}
	n := len(rt.drives)
	need := writeQuorum(rt.k, rt.m)
	rctx, cancel := s.metaCtx(ctx)
	defer cancel()
	ch := make(chan readResult, n)
	for i, d := range rt.drives {
		go func() {
			fi, err := d.store.ReadVersion(rctx, bucket, key)
			ch <- readResult{drive: i, fi: fi, err: err}
		}()
	}

	var recs []answer
	answered, got := 0, 0
	var grace <-chan time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
collect:
	for got < n {
		select {
		case r := <-ch:
			got++
			switch {
			case r.err == nil:
				answered++
				recs = append(recs, answer{drive: r.drive, fi: r.fi})
			case errors.Is(r.err, drive.ErrNotFound):
				answered++
			case ctx.Err() != nil:
			case unavailable(r.err):
				s.log.Debug("read version: drive unavailable", "bucket", bucket, "key", key, "drive", rt.drives[r.drive].id, "err", r.err)
			default:
				s.log.Warn("read version failed", "bucket", bucket, "key", key, "drive", rt.drives[r.drive].id, "err", r.err)
			}
			if grace == nil && answered > n-need && got < n {
				d := decide(groupVersions(recs), n-answered)
				if d.found != nil || d.deleted || !d.ambiguous {
					timer = time.NewTimer(s.cfg.StragglerWait)
					grace = timer.C
				}
			}
		case <-grace:
			break collect
		case <-rctx.Done():
			break collect
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	d := decide(groupVersions(recs), n-answered)
	switch {
	case d.found != nil:
		return s.objectOf(d.found, rt.drives, n-answered), nil
	case d.deleted:
		return nil, ErrObjectNotFound
	case answered < rt.k:
		return nil, &QuorumError{Op: "read", Have: answered, Need: rt.k}
	case d.ambiguous:
		return nil, &QuorumError{Op: "read", Have: d.partial, Need: rt.k}
	default:
		return nil, ErrObjectNotFound
	}
}

// objectOf builds the readable Object of a resolved version.
func (s *Store) objectOf(g *versionGroup, drives []driveRef, missing int) *Object {
	fi := g.fi
	o := &Object{
		Info:    infoOf(fi),
		s:       s,
		lay:     layout{size: fi.Size, blockSize: fi.BlockSize, k: fi.K, m: fi.M},
		dataDir: fi.DataDir,
		srcs:    make([]*shardSource, fi.K+fi.M),
		missing: missing,
	}
	if o.lay.blockSize <= 0 {
		o.lay.blockSize = DefaultBlockSize
	}
	for _, a := range g.recs {
		if a.fi.Shard < 0 || a.fi.Shard >= len(o.srcs) || o.srcs[a.fi.Shard] != nil {
			continue
		}
		d := drives[a.drive]
		o.srcs[a.fi.Shard] = &shardSource{driveID: d.id, store: d.store, fi: a.fi}
	}
	return o
}
