package drive

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// List returns up to limit entries of bucket in key order, with keys that
// start with prefix and sort after `after`. With a delimiter, keys whose rest
// after prefix contains it are collapsed into one Prefix entry (and the scan
// skips past them). Tombstones are included (Info.Deleted). more reports
// whether entries remain after the last one returned.
//
// Exactly: take every key with the prefix; its name is the key, or, when a
// non-empty delimiter occurs in the key after the prefix, the key up to and
// including the first such delimiter (a common prefix). The page is the
// distinct names greater than after (byte order), first limit of them. So
// passing the last returned name (key or common prefix) as after gives the
// next page, and an after inside a common prefix skips that prefix. A
// bucket with no records lists empty; limit <= 0 returns no entries and
// more reports whether any exist. Info never carries Inline.
func (d *Drive) List(ctx context.Context, bucket, prefix, delimiter, after string, limit int) (entries []ListEntry, more bool, err error) {
	if err := checkBucket(bucket); err != nil {
		return nil, false, err
	}
	if err := d.live(ctx); err != nil {
		return nil, false, err
	}
	pfx, delim, aft := []byte(prefix), []byte(delimiter), []byte(after)
	err = d.db.View(func(tx *bolt.Tx) error {
		entries, more = entries[:0], false
		b := bucketOf(tx, bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		start := pfx
		if bytes.Compare(aft, pfx) > 0 {
			start = aft
		}
		steps := 0
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, pfx); {
			if steps++; steps%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			name, isPrefix := k, false
			if len(delim) > 0 {
				if i := bytes.Index(k[len(pfx):], delim); i >= 0 {
					name, isPrefix = k[:len(pfx)+i+len(delim)], true
				}
			}
			if bytes.Compare(name, aft) <= 0 {
				k, v = advance(c, name, isPrefix)
				continue
			}
			if len(entries) >= limit {
				more = true
				return nil
			}
			e := ListEntry{Name: string(name), Prefix: isPrefix}
			if !isPrefix {
				fi, err := decodeRecord(bucket, e.Name, v, false)
				if err != nil {
					return err
				}
				e.Info = fi
			}
			entries = append(entries, e)
			k, v = advance(c, name, isPrefix)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("drive %s: list %s: %w", d.dir, bucket, dbErr(err))
	}
	return entries, more, nil
}

// advance moves c past the current entry: to the next key for an object, or
// to the first key not starting with the common prefix name.
func advance(c *bolt.Cursor, name []byte, isPrefix bool) (k, v []byte) {
	if !isPrefix {
		return c.Next()
	}
	succ := prefixSuccessor(name)
	if succ == nil {
		return nil, nil // every later key starts with name
	}
	return c.Seek(succ)
}

// prefixSuccessor returns the smallest byte string greater than every
// string that starts with p, or nil when there is none (p is all 0xff).
func prefixSuccessor(p []byte) []byte {
	s := bytes.Clone(p)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}
