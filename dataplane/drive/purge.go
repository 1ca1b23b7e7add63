package drive

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// purgeBatch bounds the keys removed by one index transaction of
// DropKeys, so a large purge never holds the index for long.
const purgeBatch = 1000

// purgeKey is one key DropKeys removes: an object key or an upload key.
type purgeKey struct {
	top    []byte // bucketObjects or bucketUploads
	bucket string
	key    string
}

// DropKeys removes every version, upload, part and shard of the keys for
// which match(bucket, key) is true, and returns how many keys it removed
// (objects and uploads counted apart). The rebalancer uses it to remove a
// moved PG's old copies once the new ones are verified, and to clear
// records of PGs a drive no longer holds.
//
// The index is walked once, in read transactions, collecting up to
// purgeBatch keys at a time; each batch is then removed in one write
// transaction run by guard (nil: run directly), which lets the caller
// hold a lock and re-check its conditions around it; match is asked again
// inside, so a key that stopped matching meanwhile stays. An error from
// guard (or from its function) stops the purge. Shard files go after each
// batch commits (best effort: a leftover file is never referenced again).
func (d *Drive) DropKeys(ctx context.Context, match func(bucket, key string) bool, guard func(fn func() error) error) (int, error) {
	if err := d.live(ctx); err != nil {
		return 0, err
	}
	if guard == nil {
		guard = func(fn func() error) error { return fn() }
	}
	total := 0
	for _, top := range [][]byte{bucketObjects, bucketUploads} {
		var afterBucket, afterKey []byte
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			var batch []purgeKey
			err := d.db.View(func(tx *bolt.Tx) error {
				tb, err := topBucket(tx, top)
				if err != nil {
					return err
				}
				c := tb.Cursor()
				bn, _ := c.Seek(afterBucket)
				for ; bn != nil && len(batch) < purgeBatch; bn, _ = c.Next() {
					b := tb.Bucket(bn)
					if b == nil {
						continue
					}
					kc := b.Cursor()
					var k []byte
					if bytes.Equal(bn, afterBucket) && afterKey != nil {
						if k, _ = kc.Seek(afterKey); k != nil && bytes.Equal(k, afterKey) {
							k, _ = kc.Next()
						}
					} else {
						k, _ = kc.First()
					}
					for ; k != nil; k, _ = kc.Next() {
						afterBucket, afterKey = bytes.Clone(bn), bytes.Clone(k)
						if match(string(bn), string(k)) {
							batch = append(batch, purgeKey{top: top, bucket: string(bn), key: string(k)})
							if len(batch) == purgeBatch {
								return nil
							}
						}
					}
					afterKey = nil
					afterBucket = append(bytes.Clone(bn), 0) // the next bucket name
				}
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("drive %s: drop keys: %w", d.dir, dbErr(err))
			}
			if len(batch) == 0 {
				break
			}
			n, err := d.dropBatch(batch, match, guard)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// dropBatch removes the keys of batch that still match, under guard.
func (d *Drive) dropBatch(batch []purgeKey, match func(bucket, key string) bool, guard func(fn func() error) error) (int, error) {
	var shards []string
	n := 0
	err := guard(func() error {
		return d.db.Update(func(tx *bolt.Tx) error {
			shards, n = shards[:0], 0
			for _, v := range batch {
				if !match(v.bucket, v.key) {
					continue
				}
				tb, err := topBucket(tx, v.top)
				if err != nil {
					return err
				}
				b := tb.Bucket([]byte(v.bucket))
				if b == nil {
					continue
				}
				k := []byte(v.key)
				var ids []string
				if bytes.Equal(v.top, bucketObjects) {
					ids, err = objectShards(v.bucket, v.key, b, b.Get(k))
				} else {
					ids, err = uploadShards(b.Bucket(k))
				}
				if err != nil {
					return err // a damaged index is not written to (integrity.go)
				}
				shards = append(shards, ids...)
				switch {
				case b.Bucket(k) != nil:
					err = b.DeleteBucket(k)
				case b.Get(k) != nil:
					err = b.Delete(k)
				default:
					continue
				}
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("drive %s: drop keys: %w", d.dir, dbErr(err))
	}
	for _, dd := range shards {
		d.removeShard(dd)
	}
	return n, nil
}

// objectShards returns the shard ids of every version of key: v is its
// legacy single record, or nil for a nested bucket of versions in b.
func objectShards(bucket, key string, b *bolt.Bucket, v []byte) ([]string, error) {
	if v != nil {
		fi, err := decodeRecord(bucket, key, v, decodeAll)
		return shardsOf(fi), err
	}
	var out []string
	kb := b.Bucket([]byte(key))
	if kb == nil {
		return nil, nil
	}
	err := kb.ForEach(func(vk, vv []byte) error {
		if metaEntry(vk) || vv == nil {
			return nil
		}
		fi, err := decodeRecord(bucket, key, vv, decodeAll)
		out = append(out, shardsOf(fi)...)
		return err
	})
	return out, err
}

// uploadShards returns the part shard ids of every upload of a key (kb:
// the key's bucket of uploads).
func uploadShards(kb *bolt.Bucket) ([]string, error) {
	if kb == nil {
		return nil, nil
	}
	var out []string
	err := kb.ForEachBucket(func(id []byte) error {
		parts, err := uploadParts(kb.Bucket(id))
		for _, p := range parts {
			out = append(out, p.DataDir)
		}
		return err
	})
	return out, err
}
