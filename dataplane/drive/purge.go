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

// DropKeys removes every version, upload, part and shard of the keys for
// which match(bucket, key) is true, and returns how many keys it removed
// (objects and uploads counted apart). The rebalancer uses it to remove a
// moved PG's old copies once the new ones are verified. Records go in
// batches of transactions; shard files after each commits (best effort:
// a leftover file is never referenced again).
func (d *Drive) DropKeys(ctx context.Context, match func(bucket, key string) bool) (int, error) {
	if err := d.live(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, top := range [][]byte{bucketObjects, bucketUploads} {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			var shards []string
			n := 0
			err := d.db.Update(func(tx *bolt.Tx) error {
				shards, n = shards[:0], 0
				tb, err := topBucket(tx, top)
				if err != nil {
					return err
				}
				type victim struct {
					b   *bolt.Bucket
					key []byte
				}
				var victims []victim
				err = tb.ForEachBucket(func(bn []byte) error {
					if len(victims) >= purgeBatch {
						return nil
					}
					b := tb.Bucket(bn)
					return b.ForEach(func(k, v []byte) error {
						if len(victims) >= purgeBatch || !match(string(bn), string(k)) {
							return nil
						}
						victims = append(victims, victim{b: b, key: append([]byte(nil), k...)})
						if bytes.Equal(top, bucketObjects) {
							shards = append(shards, objectShards(string(bn), string(k), b, v, d)...)
						} else {
							shards = append(shards, uploadShards(b.Bucket(k))...)
						}
						return nil
					})
				})
				if err != nil {
					return err
				}
				for _, v := range victims {
					if v.b.Bucket(v.key) != nil {
						err = v.b.DeleteBucket(v.key)
					} else {
						err = v.b.Delete(v.key)
					}
					if err != nil {
						return err
					}
				}
				n = len(victims)
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("drive %s: drop keys: %w", d.dir, dbErr(err))
			}
			for _, dd := range shards {
				d.removeShard(dd)
			}
			total += n
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}

// objectShards returns the shard ids of every version of key: v is its
// legacy single record, or nil for a nested bucket of versions in b.
func objectShards(bucket, key string, b *bolt.Bucket, v []byte, d *Drive) []string {
	if v != nil {
		if fi, err := decodeRecord(bucket, key, v, decodeAll); err == nil {
			return shardsOf(fi)
		}
		return nil
	}
	var out []string
	kb := b.Bucket([]byte(key))
	if kb == nil {
		return nil
	}
	_ = kb.ForEach(func(vk, vv []byte) error {
		if metaEntry(vk) || vv == nil {
			return nil
		}
		fi, err := decodeRecord(bucket, key, vv, decodeAll)
		if err != nil {
			d.log.Warn("dropping corrupt index record", "bucket", bucket, "key", key, "err", err)
			return nil
		}
		out = append(out, shardsOf(fi)...)
		return nil
	})
	return out
}

// uploadShards returns the part shard ids of every upload of a key (kb:
// the key's bucket of uploads).
func uploadShards(kb *bolt.Bucket) []string {
	if kb == nil {
		return nil
	}
	var out []string
	_ = kb.ForEachBucket(func(id []byte) error {
		parts, _ := uploadParts(kb.Bucket(id))
		for _, p := range parts {
			out = append(out, p.DataDir)
		}
		return nil
	})
	return out
}
