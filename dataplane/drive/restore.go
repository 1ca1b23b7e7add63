package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// RestoreVersion puts back a version that healing (or a rebalance) rebuilt
// for this drive: shards maps some of the version's shard files (fi.DataDir
// or the DataDir of one of fi.Parts) to the temporary shards written for
// them with WriteShard, under names of the caller's choice, so that two
// repairs of one shard never meet. It moves each into place,
// replacing a committed shard file of that name (a corrupt or truncated
// copy), fsyncs, and only then writes fi in one bbolt transaction. Until that transaction commits, readers see the drive
// as it was (at worst a shard file that was corrupt is now good).
//
// The record written is fi (its Shard, Inline and Missing are this
// drive's), with these rules:
//
//   - The version already here (same ModTime and VersionID): its record is
//     replaced by fi, keeping the tags of whichever record has the newer
//     TagTime, so a tag update that raced the rebuild is not lost.
//   - A null version (fi.Null) is added only when it is newer than the
//     key's current null version (see newer), which it then replaces (its
//     shards are removed); otherwise nothing is written and the restored
//     shards are removed: a newer version on this drive is never
//     overwritten.
//   - Any other version is added beside the key's versions.
//
// An upload's parts are never taken over (fi.UploadID is kept only as a
// field). When the transaction fails, the moved shards go back to their
// pending names for AbortShard, and the index is unchanged.
func (d *Drive) RestoreVersion(ctx context.Context, fi FileInfo, shards map[string]string) error {
	if err := checkBucket(fi.Bucket); err != nil {
		return err
	}
	if err := checkKey(fi.Key); err != nil {
		return err
	}
	if err := checkVersionID(fi.VersionID); err != nil {
		return err
	}
	refs := shardsOf(fi)
	for _, dd := range refs {
		if err := checkDataDir(dd); err != nil {
			return err
		}
	}
	for dd, tmp := range shards {
		if !slices.Contains(refs, dd) {
			return fmt.Errorf("drive %s: restore %s/%s: shard %q is not one of the version's: %w", d.dir, fi.Bucket, fi.Key, dd, ErrBadName)
		}
		if err := checkDataDir(tmp); err != nil {
			return err
		}
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	var moved []string
	uncommit := func() {
		for _, dd := range moved {
			d.uncommitShardAs(shards[dd], dd)
		}
	}
	settle := func() {
		for _, dd := range moved {
			d.settleShard(shards[dd])
		}
	}
	for dd, tmp := range shards {
		if err := d.commitShardAs(tmp, dd); err != nil {
			uncommit()
			return err
		}
		moved = append(moved, dd)
	}
	var drop []string
	err := d.db.Update(func(tx *bolt.Tx) error {
		drop = drop[:0]
		kb, err := d.openKeyForWrite(tx, fi.Bucket, fi.Key)
		if err != nil {
			return err
		}
		rec := fi
		vk := versionKey(fi.ModTime, fi.VersionID)
		if v := kb.Get(vk); v != nil {
			cur, err := decodeRecord(fi.Bucket, fi.Key, v, decodeAll)
			if err != nil {
				return err // a damaged index is not written to (integrity.go)
			}
			if cur.TagTime > rec.TagTime {
				rec.Tags, rec.TagTime = cur.Tags, cur.TagTime
			}
			// Files the old record named and the new one does not.
			for _, dd := range shardsOf(cur) {
				if !slices.Contains(refs, dd) {
					drop = append(drop, dd)
				}
			}
		} else if fi.Null {
			if p := kb.Get(keyNullPointer); p != nil && !bytes.Equal(p, vk) {
				if v := kb.Get(p); v != nil {
					cur, err := decodeRecord(fi.Bucket, fi.Key, v, decodeAll)
					switch {
					case err != nil:
						return err
					case !newer(fi, cur):
						for dd := range shards {
							drop = append(drop, dd)
						}
						return errStale
					default:
						drop = append(drop, shardsOf(cur)...)
					}
				}
				if err := kb.Delete(p); err != nil {
					return err
				}
			}
		}
		if fi.Null {
			if err := kb.Put(keyNullPointer, vk); err != nil {
				return err
			}
		}
		if len(rec.Tags) == 0 {
			rec.Tags = nil
		}
		val, err := encodeRecord(rec)
		if err != nil {
			return err
		}
		return kb.Put(vk, val)
	})
	if errors.Is(err, errStale) {
		settle()
		for _, dd := range drop {
			d.removeShard(dd)
		}
		return nil
	}
	if err != nil {
		uncommit()
		return fmt.Errorf("drive %s: restore %s/%s: %w", d.dir, fi.Bucket, fi.Key, dbErr(err))
	}
	settle()
	for _, dd := range drop {
		d.removeShard(dd)
	}
	return nil
}

// errStale ends RestoreVersion's transaction without writing: a newer null
// version is already here. Never returned to callers.
var errStale = errors.New("drive: restored version is stale")
