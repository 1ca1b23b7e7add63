package drive

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

const maxNameLen = 1024

// checkBucket validates an S3 bucket name as used in the index.
func checkBucket(bucket string) error {
	if bucket == "" || len(bucket) > maxNameLen {
		return fmt.Errorf("drive: bucket name of %d bytes (want 1..%d): %w", len(bucket), maxNameLen, ErrBadName)
	}
	return nil
}

// checkKey validates an object key as used in the index.
func checkKey(key string) error {
	if key == "" || len(key) > maxNameLen {
		return fmt.Errorf("drive: object key of %d bytes (want 1..%d): %w", len(key), maxNameLen, ErrBadName)
	}
	return nil
}

// CommitVersion makes fi the current record of fi.Bucket/fi.Key: it moves the
// temporary shard fi.DataDir (if any) into place, fsyncs, and writes fi to the
// index in one bbolt transaction. A record with an older ModTime than the one
// stored is ignored (returns nil). The replaced version's shard file is removed.
//
// Order and ties: a record replaces the stored one when its ModTime is later,
// or equal with a VersionID that is not smaller (so every drive converges on
// the same record whatever the arrival order, and a retried commit is
// idempotent). An ignored record's shard is removed. When the rename fails
// the index is unchanged and the temporary shard stays for AbortShard.
func (d *Drive) CommitVersion(ctx context.Context, fi FileInfo) error {
	if err := checkBucket(fi.Bucket); err != nil {
		return err
	}
	if err := checkKey(fi.Key); err != nil {
		return err
	}
	if fi.DataDir != "" {
		if err := checkDataDir(fi.DataDir); err != nil {
			return err
		}
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	val, err := encodeRecord(fi)
	if err != nil {
		return err
	}
	moved := false
	if fi.DataDir != "" {
		if moved, err = d.commitShard(fi.DataDir); err != nil {
			return err
		}
	}

	var (
		drop string // shard no record references after the transaction
	)
	err = d.db.Update(func(tx *bolt.Tx) error {
		drop = ""
		objs := tx.Bucket(bucketObjects)
		if objs == nil {
			return fmt.Errorf("drive: index has no %q bucket: %w", bucketObjects, ErrCorrupt)
		}
		b, err := objs.CreateBucketIfNotExists([]byte(fi.Bucket))
		if err != nil {
			return err
		}
		if v := b.Get([]byte(fi.Key)); v != nil {
			cur, err := decodeRecord(fi.Bucket, fi.Key, v, false)
			if err != nil {
				// An undecodable record is overwritten by a valid one:
				// this drive's copy is lost anyway and healing rewrites it.
				d.log.Warn("replacing corrupt index record", "bucket", fi.Bucket, "key", fi.Key, "err", err)
			} else if !newer(fi, cur) {
				if cur.DataDir != fi.DataDir {
					drop = fi.DataDir // ignored: its shard is garbage
				}
				return nil
			} else if cur.DataDir != fi.DataDir {
				drop = cur.DataDir // replaced
			}
		}
		return b.Put([]byte(fi.Key), val)
	})
	if err != nil {
		if moved {
			d.uncommitShard(fi.DataDir)
		}
		return fmt.Errorf("drive %s: commit %s/%s: %w", d.dir, fi.Bucket, fi.Key, dbErr(err))
	}
	if drop != "" {
		d.removeShard(drop)
	}
	return nil
}

// bucketOf returns the nested index bucket of an S3 bucket, nil if absent.
func bucketOf(tx *bolt.Tx, bucket string) *bolt.Bucket {
	objs := tx.Bucket(bucketObjects)
	if objs == nil {
		return nil
	}
	return objs.Bucket([]byte(bucket))
}

// ReadVersion returns the current record of bucket/key, ErrNotFound if none.
// A tombstone is returned as a record with Deleted set.
func (d *Drive) ReadVersion(ctx context.Context, bucket, key string) (FileInfo, error) {
	if err := checkBucket(bucket); err != nil {
		return FileInfo{}, err
	}
	if err := checkKey(key); err != nil {
		return FileInfo{}, err
	}
	if err := d.live(ctx); err != nil {
		return FileInfo{}, err
	}
	var fi FileInfo
	err := d.db.View(func(tx *bolt.Tx) error {
		b := bucketOf(tx, bucket)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		var err error
		fi, err = decodeRecord(bucket, key, v, true)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return FileInfo{}, fmt.Errorf("drive %s: %s/%s: %w", d.dir, bucket, key, ErrNotFound)
		}
		return FileInfo{}, fmt.Errorf("drive %s: read %s/%s: %w", d.dir, bucket, key, dbErr(err))
	}
	return fi, nil
}

// DropBucket removes every record and shard of bucket from this drive.
// Dropping a bucket the drive has no record of is not an error. Records are
// removed in one transaction; shard files after it commits (best effort: a
// leftover file is never referenced again).
func (d *Drive) DropBucket(ctx context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	var shards []string
	err := d.db.Update(func(tx *bolt.Tx) error {
		shards = shards[:0]
		objs := tx.Bucket(bucketObjects)
		if objs == nil {
			return fmt.Errorf("drive: index has no %q bucket: %w", bucketObjects, ErrCorrupt)
		}
		b := objs.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		err := b.ForEach(func(k, v []byte) error {
			fi, err := decodeRecord(bucket, string(k), v, false)
			if err != nil {
				d.log.Warn("dropping corrupt index record", "bucket", bucket, "key", string(k), "err", err)
				return nil
			}
			if fi.DataDir != "" {
				shards = append(shards, fi.DataDir)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return objs.DeleteBucket([]byte(bucket))
	})
	if err != nil {
		return fmt.Errorf("drive %s: drop bucket %s: %w", d.dir, bucket, dbErr(err))
	}
	// The records are gone: finish removing their files even if ctx ends
	// now, or they would stay as orphans.
	for _, dd := range shards {
		d.removeShard(dd)
	}
	d.log.Info("bucket dropped", "bucket", bucket, "shards", len(shards))
	return nil
}
