package drive

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// partKey is the index key of part number n in an upload's bucket.
func partKey(n int) []byte {
	b := make([]byte, 5)
	b[0] = 'p'
	binary.BigEndian.PutUint32(b[1:], uint32(n))
	return b
}

// checkUpload validates the names of an upload.
func checkUpload(bucket, key, uploadID string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if uploadID == "" || len(uploadID) > maxVersionIDLen {
		return fmt.Errorf("drive: upload id of %d bytes (want 1..%d): %w", len(uploadID), maxVersionIDLen, ErrBadName)
	}
	return nil
}

// uploadBucket returns the bucket of one upload, nil if absent.
func uploadBucket(tx *bolt.Tx, bucket, key, uploadID string) *bolt.Bucket {
	bb := bucketOf(tx, bucketUploads, bucket)
	if bb == nil {
		return nil
	}
	kb := bb.Bucket([]byte(key))
	if kb == nil {
		return nil
	}
	return kb.Bucket([]byte(uploadID))
}

// createUploadBucket returns the bucket of one upload, creating it (and
// writing u as its record) when absent.
func createUploadBucket(tx *bolt.Tx, u Upload) (*bolt.Bucket, error) {
	ups, err := topBucket(tx, bucketUploads)
	if err != nil {
		return nil, err
	}
	bb, err := ups.CreateBucketIfNotExists([]byte(u.Bucket))
	if err != nil {
		return nil, err
	}
	kb, err := bb.CreateBucketIfNotExists([]byte(u.Key))
	if err != nil {
		return nil, err
	}
	ub, err := kb.CreateBucketIfNotExists([]byte(u.UploadID))
	if err != nil {
		return nil, err
	}
	if ub.Get(keyUploadInfo) == nil {
		js, err := encodeValue(u)
		if err != nil {
			return nil, err
		}
		if err := ub.Put(keyUploadInfo, js); err != nil {
			return nil, err
		}
	}
	return ub, nil
}

// deleteUploadBucket removes one upload's bucket and the key's bucket if it
// became empty.
func deleteUploadBucket(tx *bolt.Tx, bucket, key, uploadID string) error {
	bb := bucketOf(tx, bucketUploads, bucket)
	if bb == nil {
		return nil
	}
	kb := bb.Bucket([]byte(key))
	if kb == nil {
		return nil
	}
	if err := kb.DeleteBucket([]byte(uploadID)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	if k, _ := kb.Cursor().First(); k == nil {
		return bb.DeleteBucket([]byte(key))
	}
	return nil
}

// readUploadInfo decodes an upload's record.
func readUploadInfo(ub *bolt.Bucket) (Upload, error) {
	var u Upload
	v := ub.Get(keyUploadInfo)
	if v == nil {
		return u, fmt.Errorf("drive: upload without its record: %w", ErrCorrupt)
	}
	if err := decodeValue(v, &u); err != nil {
		return u, err
	}
	return u, nil
}

// uploadParts decodes every part record of an upload, in number order.
func uploadParts(ub *bolt.Bucket) ([]Part, error) {
	var parts []Part
	c := ub.Cursor()
	for k, v := c.Seek([]byte{'p'}); k != nil && k[0] == 'p'; k, v = c.Next() {
		var p Part
		if err := decodeValue(v, &p); err != nil {
			return parts, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// newerPart reports whether part a should replace part b of the same
// number: the later upload wins, ties broken by shard id, so every drive
// keeps the same part whatever the order of commits.
func newerPart(a, b Part) bool {
	if a.ModTime != b.ModTime {
		return a.ModTime > b.ModTime
	}
	return a.DataDir >= b.DataDir
}

// takeUpload hands an upload's parts to the version fi completing it: it
// returns the part numbers fi lists that this drive does not hold and the
// shards of the parts fi does not list, and removes the upload's records.
func (d *Drive) takeUpload(tx *bolt.Tx, fi FileInfo) (missing []int, unused []string, err error) {
	ub := uploadBucket(tx, fi.Bucket, fi.Key, fi.UploadID)
	if ub == nil {
		return nil, nil, ErrNotFound
	}
	parts, err := uploadParts(ub)
	if err != nil {
		return nil, nil, err
	}
	have := make(map[int]string, len(parts))
	for _, p := range parts {
		have[p.Number] = p.DataDir
	}
	used := make(map[string]bool, len(fi.Parts))
	for _, p := range fi.Parts {
		if have[p.Number] == p.DataDir {
			used[p.DataDir] = true
		} else {
			missing = append(missing, p.Number)
		}
	}
	for _, p := range parts {
		if !used[p.DataDir] {
			unused = append(unused, p.DataDir)
		}
	}
	return missing, unused, deleteUploadBucket(tx, fi.Bucket, fi.Key, fi.UploadID)
}

// CreateUpload records a new multipart upload. Creating an upload that
// exists is a no-op (a retry).
func (d *Drive) CreateUpload(ctx context.Context, u Upload) error {
	if err := checkUpload(u.Bucket, u.Key, u.UploadID); err != nil {
		return err
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	err := d.db.Batch(func(tx *bolt.Tx) error {
		_, err := createUploadBucket(tx, u)
		return err
	})
	if err != nil {
		return fmt.Errorf("drive %s: create upload %s/%s: %w", d.dir, u.Bucket, u.Key, dbErr(err))
	}
	return nil
}

// CommitPart makes the temporary shard p.DataDir part p.Number of upload
// u: it moves the shard into place, fsyncs, and writes the part record in
// one bbolt transaction. A drive that missed the upload's creation records
// u first. A part of the same number is replaced (its shard removed) when p
// is newer (see newerPart); otherwise p is ignored and its shard removed. A
// retried commit is idempotent.
func (d *Drive) CommitPart(ctx context.Context, u Upload, p Part) error {
	if err := checkUpload(u.Bucket, u.Key, u.UploadID); err != nil {
		return err
	}
	if err := checkDataDir(p.DataDir); err != nil {
		return err
	}
	if p.Number < 1 {
		return fmt.Errorf("drive: part number %d: %w", p.Number, ErrBadName)
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	claimed, err := d.commitShard(p.DataDir)
	if err != nil {
		return err
	}
	var drop string
	err = d.db.Batch(func(tx *bolt.Tx) error {
		drop = ""
		ub, err := createUploadBucket(tx, u)
		if err != nil {
			return err
		}
		pk := partKey(p.Number)
		if v := ub.Get(pk); v != nil {
			var cur Part
			if err := decodeValue(v, &cur); err != nil {
				return err // a damaged index is not written to (integrity.go)
			}
			if cur.DataDir != p.DataDir {
				if !newerPart(p, cur) {
					drop = p.DataDir
					return nil
				}
				drop = cur.DataDir
			}
		}
		js, err := encodeValue(p)
		if err != nil {
			return err
		}
		return ub.Put(pk, js)
	})
	d.endClaim(p.DataDir, claimed, err)
	if err != nil {
		return fmt.Errorf("drive %s: commit part %d of %s/%s: %w", d.dir, p.Number, u.Bucket, u.Key, dbErr(err))
	}
	if drop != "" {
		d.removeShard(drop)
	}
	return nil
}

// ReadUpload returns an upload's record and up to limit of its parts
// numbered above after (limit <= 0: all), in number order; more reports
// whether parts follow. ErrNotFound when the drive has no such upload.
func (d *Drive) ReadUpload(ctx context.Context, bucket, key, uploadID string, after, limit int) (u Upload, parts []Part, more bool, err error) {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return u, nil, false, err
	}
	if err := d.live(ctx); err != nil {
		return u, nil, false, err
	}
	err = d.db.View(func(tx *bolt.Tx) error {
		parts, more = nil, false
		ub := uploadBucket(tx, bucket, key, uploadID)
		if ub == nil {
			return ErrNotFound
		}
		var err error
		if u, err = readUploadInfo(ub); err != nil {
			return err
		}
		c := ub.Cursor()
		for k, v := c.Seek(partKey(after + 1)); k != nil && k[0] == 'p'; k, v = c.Next() {
			if limit > 0 && len(parts) == limit {
				more = true
				return nil
			}
			var p Part
			if err := decodeValue(v, &p); err != nil {
				return err
			}
			parts = append(parts, p)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return u, nil, false, fmt.Errorf("drive %s: upload %s of %s/%s: %w", d.dir, uploadID, bucket, key, ErrNotFound)
		}
		return u, nil, false, fmt.Errorf("drive %s: read upload %s/%s: %w", d.dir, bucket, key, dbErr(err))
	}
	return u, parts, more, nil
}

// AbortUpload removes an upload and the shards of its parts. ErrNotFound
// when the drive has no such upload.
func (d *Drive) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	if err := checkUpload(bucket, key, uploadID); err != nil {
		return err
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	var drop []string
	err := d.db.Update(func(tx *bolt.Tx) error {
		drop = nil
		ub := uploadBucket(tx, bucket, key, uploadID)
		if ub == nil {
			return ErrNotFound
		}
		parts, err := uploadParts(ub)
		if err != nil {
			return err // a damaged index is not written to (integrity.go)
		}
		for _, p := range parts {
			drop = append(drop, p.DataDir)
		}
		return deleteUploadBucket(tx, bucket, key, uploadID)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("drive %s: upload %s of %s/%s: %w", d.dir, uploadID, bucket, key, ErrNotFound)
		}
		return fmt.Errorf("drive %s: abort upload %s/%s: %w", d.dir, bucket, key, dbErr(err))
	}
	for _, dd := range drop {
		d.removeShard(dd)
	}
	return nil
}
