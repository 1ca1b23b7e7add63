package dataplane

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// DeleteObject deletes bucket/key as DeleteOptions documents: with a
// version id, that version (or delete marker) is removed for good from
// every drive that answers; without, a delete marker is committed
// (Enabled: a new version; Suspended: the null version), or, while the
// bucket is unversioned, a tombstone that replaces the null version and is
// never listed. Deleting a missing key or version succeeds.
//
// It runs under the key's write lock. With fewer than a write quorum of
// drives reachable nothing is written (*QuorumError).
func (s *Store) DeleteObject(ctx context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error) {
	rt, err := s.route(bucket, key)
	if err != nil {
		return DeleteResult{}, err
	}
	if opts.VersionID != "" {
		ref, err := refFor(opts.VersionID)
		if err != nil {
			return DeleteResult{VersionID: opts.VersionID}, nil // no such version: nothing to delete
		}
		return s.deleteVersion(ctx, rt, ref, opts.VersionID)
	}
	lk, v, err := s.lockKey(ctx, rt, bucket, key, false, nil)
	if err != nil {
		return DeleteResult{}, err
	}
	defer lk.release()
	fi, res, write := deleteWrite(rt, v, opts)
	if !write {
		return DeleteResult{}, nil // nothing to hide
	}
	need := writeQuorum(rt.k, rt.m)
	_, _, ok := s.commitAll(context.WithoutCancel(ctx), rt, lk, fi, v.reachable, nil)
	if ok < need {
		return DeleteResult{}, &QuorumError{Op: "delete", Have: ok, Need: need}
	}
	if fi.Null {
		res.Freed = v.nullFreed()
	}
	return res, nil
}

// deleteVersion removes the version ref names from every drive that
// answers, under the key's write lock.
func (s *Store) deleteVersion(ctx context.Context, rt route, ref drive.Ref, versionID string) (DeleteResult, error) {
	lk, v, err := s.lockKey(ctx, rt, rt.bucket, rt.key, false, nil)
	if err != nil {
		return DeleteResult{}, err
	}
	defer lk.release()
	res := DeleteResult{VersionID: versionID}
	groups, main := versionsToRemove(v, ref)
	if len(groups) == 0 {
		return res, nil
	}
	res.DeleteMarker = main.fi.Deleted && !main.fi.Tombstone
	need := writeQuorum(rt.k, rt.m)
	// A position counts when its drive, and its alts (a moving PG), all
	// removed the version. Drives slower than the quorum (runQuorum) go on
	// in the background; with alts every drive is waited for.
	quorum := need
	if len(rt.alts) > 0 {
		quorum = rt.all() + 1
	}
	answers := runQuorum(s, context.WithoutCancel(ctx), rt.all(), func(i int) bool { return v.reachable[i] }, quorum, succeeded,
		func(ctx context.Context, i int) (struct{}, error) {
			d := rt.at(i)
			for _, g := range groups {
				err := d.store.DeleteVersion(ctx, rt.bucket, rt.key, drive.RefOf(g.fi))
				if err != nil && !errors.Is(err, drive.ErrNotFound) {
					s.log.Warn("delete version failed", "bucket", rt.bucket, "key", rt.key, "drive", d.id, "err", err)
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		}, nil)
	okDrives := make([]bool, rt.all())
	for i, r := range answers {
		okDrives[i] = r.done && r.err == nil
	}
	ok := 0
	for i, b := range okDrives[:len(rt.drives)] {
		for j, a := range rt.alts {
			if a.pos == i && !okDrives[len(rt.drives)+j] {
				b = false
			}
		}
		if b {
			ok++
		}
	}
	if ok < need {
		return DeleteResult{}, &QuorumError{Op: "delete", Have: ok, Need: need}
	}
	if v.present(main) && !main.fi.Deleted {
		res.Freed = Freed{Bytes: main.fi.Size, Versions: 1}
	}
	return res, nil
}

// SetObjectTags replaces the tags of one version (the current one when
// versionID is empty) in place on the drives that hold it; its version id
// and everything else stay. An empty map removes the tags. A delete marker
// gives a *DeleteMarkerError. Tag updates are ordered (drive.SetTags), so
// the drives agree whatever the order they arrive in. The version's ACL
// (acl.go) is kept.
func (s *Store) SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (ObjectInfo, error) {
	return s.updateTags(ctx, bucket, key, versionID, func(cur map[string]string) map[string]string {
		_, acl := splitACL(cur) // the version's ACL stays (acl.go)
		return withACL(tags, acl)
	})
}

// updateTags replaces the tag record of one version, in place, with what
// update makes of the current one, under the key's lock.
func (s *Store) updateTags(ctx context.Context, bucket, key, versionID string, update func(map[string]string) map[string]string) (ObjectInfo, error) {
	rt, err := s.route(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	ref, err := refFor(versionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	lk, v, err := s.lockKey(ctx, rt, bucket, key, false, nil)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer lk.release()
	g, err := v.resolveRef(ref)
	if err != nil {
		return ObjectInfo{}, err
	}
	tags := update(g.tags())
	if len(tags) == 0 {
		tags = nil
	}
	tagTime := time.Now().UnixNano()
	for _, a := range g.recs {
		tagTime = max(tagTime, a.fi.TagTime+1)
	}
	dctx, cancel := s.metaCtx(context.WithoutCancel(ctx))
	defer cancel()
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for _, a := range g.recs {
		d := rt.at(a.drive)
		wg.Go(func() {
			if err := d.store.SetTags(dctx, bucket, key, drive.RefOf(g.fi), tags, tagTime); err != nil {
				s.log.Warn("set tags failed", "bucket", bucket, "key", key, "drive", d.id, "err", err)
				return
			}
			mu.Lock()
			ok++
			mu.Unlock()
		})
	}
	wg.Wait()
	if need := min(len(g.recs), writeQuorum(rt.k, rt.m)); ok < need {
		return ObjectInfo{}, &QuorumError{Op: "set_tags", Have: ok, Need: need}
	}
	info := v.groupInfo(g)
	info.Tags, info.ACL = splitACL(tags)
	return info, nil
}
