package drive

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
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

// checkVersionID validates a version id: 1..maxVersionIDLen bytes.
func checkVersionID(id string) error {
	if id == "" || len(id) > maxVersionIDLen {
		return fmt.Errorf("drive: version id of %d bytes (want 1..%d): %w", len(id), maxVersionIDLen, ErrBadName)
	}
	return nil
}

const maxVersionIDLen = 128

// Ref names one version of a key: the newest (the zero Ref), the null
// version (Null), or the version ID committed with ModTime (both are
// needed: they make its place in the index).
type Ref struct {
	ID      string
	ModTime int64
	Null    bool
}

// newest reports whether r is the zero Ref.
func (r Ref) newest() bool { return r.ID == "" && !r.Null }

// RefOf is the Ref of the version fi.
func RefOf(fi FileInfo) Ref { return Ref{ID: fi.VersionID, ModTime: fi.ModTime} }

// versionKey is the index key of a version: 8 bytes that sort later
// ModTimes first, then the version id, so a cursor walks a key's versions
// in the order of CompareVersions.
func versionKey(modTime int64, versionID string) []byte {
	b := make([]byte, 8, 8+len(versionID))
	binary.BigEndian.PutUint64(b, ^(uint64(modTime) ^ 1<<63))
	return append(b, versionID...)
}

// CompareVersions is the order of a key's versions, newest first: a later
// ModTime first, then the smaller VersionID. It returns a negative number
// when version a comes before version b.
func CompareVersions(aMod int64, aID string, bMod int64, bID string) int {
	if c := cmp.Compare(bMod, aMod); c != 0 {
		return c
	}
	return cmp.Compare(aID, bID)
}

// bucketOf returns the nested index bucket of an S3 bucket under top, nil
// if absent.
func bucketOf(tx *bolt.Tx, top []byte, bucket string) *bolt.Bucket {
	t := tx.Bucket(top)
	if t == nil {
		return nil
	}
	return t.Bucket([]byte(bucket))
}

// topBucket returns a top-level bucket, ErrCorrupt if the index lacks it.
func topBucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("drive: index has no %q bucket: %w", name, ErrCorrupt)
	}
	return b, nil
}

// keyView is a key's versions in a read transaction: a nested bucket, or
// the single version-1 record of a key written before versioning.
type keyView struct {
	b      *bolt.Bucket
	legacy []byte
}

// viewKey finds bucket/key in the index; ok is false when it has no entry.
func viewKey(tx *bolt.Tx, bucket, key string) (kv keyView, ok bool) {
	bb := bucketOf(tx, bucketObjects, bucket)
	if bb == nil {
		return kv, false
	}
	if v := bb.Get([]byte(key)); v != nil {
		return keyView{legacy: v}, true
	}
	if kb := bb.Bucket([]byte(key)); kb != nil {
		return keyView{b: kb}, true
	}
	return kv, false
}

// each calls fn with the key's versions newest first, starting after
// version key `after` (nil: from the newest), until fn returns false.
func (kv keyView) each(bucket, key string, after []byte, fn func(vk, v []byte) (bool, error)) error {
	if kv.legacy != nil {
		fi, err := decodeRecord(bucket, key, kv.legacy, decodeHeader)
		if err != nil {
			return err
		}
		vk := versionKey(fi.ModTime, fi.VersionID)
		if after != nil && bytes.Compare(vk, after) <= 0 {
			return nil
		}
		_, err = fn(vk, kv.legacy)
		return err
	}
	c := kv.b.Cursor()
	var k, v []byte
	if after == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		if metaEntry(k) || v == nil {
			continue
		}
		goOn, err := fn(k, v)
		if err != nil || !goOn {
			return err
		}
	}
	return nil
}

// find returns the version key and value of ref, nil when absent.
func (kv keyView) find(bucket, key string, ref Ref) (vk, v []byte, err error) {
	if kv.legacy != nil {
		fi, err := decodeRecord(bucket, key, kv.legacy, decodeHeader)
		if err != nil {
			return nil, nil, err
		}
		if ref.newest() || ref.Null || (ref.ID == fi.VersionID && ref.ModTime == fi.ModTime) {
			return versionKey(fi.ModTime, fi.VersionID), kv.legacy, nil
		}
		return nil, nil, nil
	}
	switch {
	case ref.newest():
		err = kv.each(bucket, key, nil, func(k, val []byte) (bool, error) {
			vk, v = k, val
			return false, nil
		})
		return vk, v, err
	case ref.Null:
		p := kv.b.Get(keyNullPointer)
		if p == nil {
			return nil, nil, nil
		}
		return p, kv.b.Get(p), nil
	default:
		vk = versionKey(ref.ModTime, ref.ID)
		if v = kv.b.Get(vk); v == nil {
			return nil, nil, nil
		}
		return vk, v, nil
	}
}

// openKeyForWrite returns the nested bucket of bucket/key, creating it, and
// converting a version-1 record found there into the key's null version.
func (d *Drive) openKeyForWrite(tx *bolt.Tx, bucket, key string) (*bolt.Bucket, error) {
	objs, err := topBucket(tx, bucketObjects)
	if err != nil {
		return nil, err
	}
	bb, err := objs.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return nil, err
	}
	legacy := bb.Get([]byte(key))
	if legacy == nil {
		return bb.CreateBucketIfNotExists([]byte(key))
	}
	fi, err := decodeRecord(bucket, key, legacy, decodeAll)
	if err != nil {
		return nil, err // a damaged index is not written to (integrity.go)
	}
	if err := bb.Delete([]byte(key)); err != nil {
		return nil, err
	}
	kb, err := bb.CreateBucket([]byte(key))
	if err != nil {
		return nil, err
	}
	val, err := encodeRecord(fi)
	if err != nil {
		return nil, err
	}
	vk := versionKey(fi.ModTime, fi.VersionID)
	if err := kb.Put(vk, val); err != nil {
		return nil, err
	}
	return kb, kb.Put(keyNullPointer, vk)
}

// dropKeyIfEmpty removes the nested bucket of bucket/key when no version is
// left in it.
func dropKeyIfEmpty(tx *bolt.Tx, bucket, key string, kb *bolt.Bucket) error {
	c := kb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if !metaEntry(k) && v != nil {
			return nil
		}
	}
	bb := bucketOf(tx, bucketObjects, bucket)
	if bb == nil {
		return nil
	}
	return bb.DeleteBucket([]byte(key))
}

// shardsOf returns the shard files a record references.
func shardsOf(fi FileInfo) []string {
	var out []string
	if fi.DataDir != "" {
		out = append(out, fi.DataDir)
	}
	for _, p := range fi.Parts {
		if p.DataDir != "" {
			out = append(out, p.DataDir)
		}
	}
	return out
}

// CommitVersion adds the version fi to fi.Bucket/fi.Key: it moves the
// temporary shard fi.DataDir (if any) into place, fsyncs, and writes fi to
// the index in one bbolt transaction.
//
//   - A null version (fi.Null) replaces the key's previous null version,
//     whose shards are removed, unless that one is newer (see newer): the
//     commit is then ignored and its shard removed, so every drive keeps
//     the same null version whatever the order of commits.
//   - A retried commit of the same version (same ModTime and VersionID) is
//     idempotent.
//   - A multipart completion (fi.UploadID and fi.Parts set) takes over the
//     part shards of that upload on this drive: the upload's record is
//     removed in the same transaction, the shards of parts fi does not
//     list are removed, and parts this drive never received are recorded
//     in Missing. Without the upload (and without the version, which a
//     retry finds) it fails with ErrNotFound.
//
// When the rename fails the index is unchanged and the temporary shard
// stays for AbortShard.
func (d *Drive) CommitVersion(ctx context.Context, fi FileInfo) error {
	if err := checkBucket(fi.Bucket); err != nil {
		return err
	}
	if err := checkKey(fi.Key); err != nil {
		return err
	}
	if err := checkVersionID(fi.VersionID); err != nil {
		return err
	}
	if fi.DataDir != "" {
		if err := checkDataDir(fi.DataDir); err != nil {
			return err
		}
	}
	for _, p := range fi.Parts {
		if err := checkDataDir(p.DataDir); err != nil {
			return err
		}
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	multipart := fi.UploadID != "" && len(fi.Parts) > 0
	claimed := false
	if fi.DataDir != "" {
		var err error
		if claimed, err = d.commitShard(fi.DataDir); err != nil {
			return err
		}
	}
	var drop []string // shards no record references after the transaction
	err := d.db.Batch(func(tx *bolt.Tx) error {
		drop = drop[:0]
		kb, err := d.openKeyForWrite(tx, fi.Bucket, fi.Key)
		if err != nil {
			return err
		}
		rec := fi
		vk := versionKey(fi.ModTime, fi.VersionID)
		if multipart {
			if kb.Get(vk) != nil {
				return nil // a retry: this drive already completed it
			}
			missing, unused, err := d.takeUpload(tx, fi)
			if err != nil {
				return err
			}
			rec.Missing = missing
			drop = append(drop, unused...)
		}
		if fi.Null {
			if p := kb.Get(keyNullPointer); p != nil && !bytes.Equal(p, vk) {
				if v := kb.Get(p); v != nil {
					cur, err := decodeRecord(fi.Bucket, fi.Key, v, decodeAll)
					switch {
					case err != nil:
						return err // a damaged index is not written to (integrity.go)
					case !newer(fi, cur):
						// A newer null version is already here: this one
						// is garbage.
						drop = append(drop, shardsOf(rec)...)
						return nil
					default:
						drop = append(drop, shardsOf(cur)...)
					}
				}
				if err := kb.Delete(p); err != nil {
					return err
				}
			}
			if err := kb.Put(keyNullPointer, vk); err != nil {
				return err
			}
		}
		if v := kb.Get(vk); v != nil {
			cur, err := decodeRecord(fi.Bucket, fi.Key, v, decodeAll)
			if err != nil {
				return err
			}
			if cur.DataDir != "" && cur.DataDir != fi.DataDir {
				drop = append(drop, cur.DataDir)
			}
		}
		val, err := encodeRecord(rec)
		if err != nil {
			return err
		}
		return kb.Put(vk, val)
	})
	d.endClaim(fi.DataDir, claimed, err)
	if err != nil {
		return fmt.Errorf("drive %s: commit %s/%s: %w", d.dir, fi.Bucket, fi.Key, dbErr(err))
	}
	for _, dd := range drop {
		d.removeShard(dd)
	}
	return nil
}

// KeyVersions is what ReadVersions returns about one key.
type KeyVersions struct {
	Versions []FileInfo // newest first, without Inline and Parts
	More     bool       // the key has more versions than returned
	Target   *FileInfo  // the version asked for, complete; nil if absent
}

// ReadVersions returns up to limit of the newest versions of bucket/key
// (limit <= 0: all) and the complete record of the version ref names (the
// newest for the zero Ref). ErrNotFound when the key has no version.
func (d *Drive) ReadVersions(ctx context.Context, bucket, key string, ref Ref, limit int) (KeyVersions, error) {
	if err := checkBucket(bucket); err != nil {
		return KeyVersions{}, err
	}
	if err := checkKey(key); err != nil {
		return KeyVersions{}, err
	}
	if err := d.live(ctx); err != nil {
		return KeyVersions{}, err
	}
	var out KeyVersions
	err := d.db.View(func(tx *bolt.Tx) error {
		out = KeyVersions{}
		kv, ok := viewKey(tx, bucket, key)
		if !ok {
			return ErrNotFound
		}
		err := kv.each(bucket, key, nil, func(_, v []byte) (bool, error) {
			if limit > 0 && len(out.Versions) == limit {
				out.More = true
				return false, nil
			}
			fi, err := decodeRecord(bucket, key, v, decodeHeader)
			if err != nil {
				return false, err
			}
			out.Versions = append(out.Versions, fi)
			return true, nil
		})
		if err != nil {
			return err
		}
		if len(out.Versions) == 0 {
			return ErrNotFound
		}
		_, v, err := kv.find(bucket, key, ref)
		if err != nil || v == nil {
			return err
		}
		fi, err := decodeRecord(bucket, key, v, decodeAll)
		if err != nil {
			return err
		}
		out.Target = &fi
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return KeyVersions{}, fmt.Errorf("drive %s: %s/%s: %w", d.dir, bucket, key, ErrNotFound)
		}
		return KeyVersions{}, fmt.Errorf("drive %s: read %s/%s: %w", d.dir, bucket, key, dbErr(err))
	}
	return out, nil
}

// ReadVersion returns the complete record of the version of bucket/key that
// ref names (the newest for the zero Ref), ErrNotFound if none. A delete
// marker or tombstone is returned as a record with Deleted set.
func (d *Drive) ReadVersion(ctx context.Context, bucket, key string, ref Ref) (FileInfo, error) {
	kv, err := d.ReadVersions(ctx, bucket, key, ref, 1)
	if err != nil {
		return FileInfo{}, err
	}
	if kv.Target == nil {
		return FileInfo{}, fmt.Errorf("drive %s: %s/%s version %q: %w", d.dir, bucket, key, ref.ID, ErrNotFound)
	}
	return *kv.Target, nil
}

// DeleteVersion removes the version ref names (exactly: ID and ModTime, or
// the null version) from bucket/key for good, with its shards. ErrNotFound
// when the key has no such version.
func (d *Drive) DeleteVersion(ctx context.Context, bucket, key string, ref Ref) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if ref.newest() {
		return fmt.Errorf("drive: delete of %s/%s names no version: %w", bucket, key, ErrBadName)
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	var drop []string
	err := d.db.Batch(func(tx *bolt.Tx) error {
		drop = nil
		if _, ok := viewKey(tx, bucket, key); !ok {
			return ErrNotFound
		}
		kb, err := d.openKeyForWrite(tx, bucket, key)
		if err != nil {
			return err
		}
		vk, v, err := keyView{b: kb}.find(bucket, key, ref)
		if err != nil {
			return err
		}
		if v == nil {
			return ErrNotFound
		}
		fi, err := decodeRecord(bucket, key, v, decodeAll)
		if err != nil {
			return err // a damaged index is not written to (integrity.go)
		}
		drop = shardsOf(fi)
		if p := kb.Get(keyNullPointer); p != nil && bytes.Equal(p, vk) {
			if err := kb.Delete(keyNullPointer); err != nil {
				return err
			}
		}
		if err := kb.Delete(vk); err != nil {
			return err
		}
		return dropKeyIfEmpty(tx, bucket, key, kb)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("drive %s: %s/%s version %q: %w", d.dir, bucket, key, ref.ID, ErrNotFound)
		}
		return fmt.Errorf("drive %s: delete %s/%s version %q: %w", d.dir, bucket, key, ref.ID, dbErr(err))
	}
	for _, dd := range drop {
		d.removeShard(dd)
	}
	return nil
}

// SetTags replaces the tags of the version ref names (nil or empty: no
// tags), in place: nothing else of the record changes. Tag updates are
// ordered by tagTime: one older than the record's TagTime is ignored, so
// every drive ends with the same tags whatever the order of updates.
// ErrNotFound when the version does not exist.
func (d *Drive) SetTags(ctx context.Context, bucket, key string, ref Ref, tags map[string]string, tagTime int64) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	err := d.db.Batch(func(tx *bolt.Tx) error {
		if _, ok := viewKey(tx, bucket, key); !ok {
			return ErrNotFound
		}
		kb, err := d.openKeyForWrite(tx, bucket, key)
		if err != nil {
			return err
		}
		vk, v, err := keyView{b: kb}.find(bucket, key, ref)
		if err != nil {
			return err
		}
		if v == nil {
			return ErrNotFound
		}
		fi, err := decodeRecord(bucket, key, v, decodeAll)
		if err != nil {
			return err
		}
		if tagTime < fi.TagTime {
			return nil
		}
		fi.Tags, fi.TagTime = tags, tagTime
		if len(fi.Tags) == 0 {
			fi.Tags = nil
		}
		val, err := encodeRecord(fi)
		if err != nil {
			return err
		}
		return kb.Put(vk, val)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("drive %s: %s/%s version %q: %w", d.dir, bucket, key, ref.ID, ErrNotFound)
		}
		return fmt.Errorf("drive %s: set tags %s/%s: %w", d.dir, bucket, key, dbErr(err))
	}
	return nil
}

// DropBucket removes every version, upload, part and shard of bucket from
// this drive. Dropping a bucket the drive has no record of is not an
// error. Records are removed in one transaction; shard files after it
// commits (best effort: a leftover file is never referenced again).
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
		objs, err := topBucket(tx, bucketObjects)
		if err != nil {
			return err
		}
		ups, err := topBucket(tx, bucketUploads)
		if err != nil {
			return err
		}
		if b := objs.Bucket([]byte(bucket)); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				if v != nil {
					fi, err := decodeRecord(bucket, string(k), v, decodeAll)
					if err != nil {
						return err // a damaged index is not written to (integrity.go)
					}
					shards = append(shards, shardsOf(fi)...)
					return nil
				}
				return b.Bucket(k).ForEach(func(vk, vv []byte) error {
					if metaEntry(vk) || vv == nil {
						return nil
					}
					fi, err := decodeRecord(bucket, string(k), vv, decodeAll)
					if err != nil {
						return err
					}
					shards = append(shards, shardsOf(fi)...)
					return nil
				})
			})
			if err != nil {
				return err
			}
			if err := objs.DeleteBucket([]byte(bucket)); err != nil {
				return err
			}
		}
		if b := ups.Bucket([]byte(bucket)); b != nil {
			err := b.ForEachBucket(func(k []byte) error {
				kb := b.Bucket(k)
				return kb.ForEachBucket(func(id []byte) error {
					parts, err := uploadParts(kb.Bucket(id))
					for _, p := range parts {
						shards = append(shards, p.DataDir)
					}
					return err
				})
			})
			if err != nil {
				return err
			}
			if err := ups.DeleteBucket([]byte(bucket)); err != nil {
				return err
			}
		}
		return nil
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
