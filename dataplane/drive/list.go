package drive

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// LatestVersions is how many of a key's newest versions List returns per
// key when not listing every version.
const LatestVersions = 4

// ListOptions selects a List or ListUploads page.
//
// Names: take every key with Prefix; its name is the key, or, when a
// non-empty Delimiter occurs in the key after the prefix, the key up to and
// including the first such delimiter (a common prefix). The page holds the
// distinct names greater than After (byte order), in order. So passing the
// last returned name (key or common prefix) as After gives the next page,
// and an After inside a common prefix skips that prefix.
type ListOptions struct {
	Prefix    string
	Delimiter string
	After     string
	// AfterVersion (List in Versions mode) resumes inside key After: the
	// page starts with its versions after this one (then the next names).
	AfterVersion *Ref
	// AfterUpload (ListUploads) resumes inside key After: the page starts
	// with its uploads whose id is greater.
	AfterUpload string
	// Limit bounds the page: names in Latest mode; versions (or uploads)
	// plus common prefixes in Versions mode and for ListUploads. <= 0
	// returns nothing, and more reports whether anything would be listed.
	Limit int
	// Versions lists every version of each key (Latest mode, the default,
	// lists each key with its LatestVersions newest versions).
	Versions bool
}

// resumesInside reports whether the page starts inside key After.
func (o ListOptions) resumesInside() bool { return o.AfterVersion != nil || o.AfterUpload != "" }

// walkNames walks the names of b (one S3 bucket's index bucket) as
// ListOptions describes, calling fn with each name and, for a key, its
// index entry (v nil for a nested bucket). fn returns false to stop.
func walkNames(ctx context.Context, b *bolt.Bucket, o ListOptions, fn func(name []byte, isPrefix bool, k, v []byte) (bool, error)) error {
	pfx, delim, aft := []byte(o.Prefix), []byte(o.Delimiter), []byte(o.After)
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
		cmp := bytes.Compare(name, aft)
		if cmp < 0 || cmp == 0 && (isPrefix || !o.resumesInside()) {
			k, v = advance(c, name, isPrefix)
			continue
		}
		goOn, err := fn(name, isPrefix, k, v)
		if err != nil || !goOn {
			return err
		}
		k, v = advance(c, name, isPrefix)
	}
	return nil
}

// List returns a page of bucket's keys (each with some of its versions,
// newest first, without Inline or Parts) and common prefixes, as
// ListOptions describes. Delete markers and tombstones are included. more
// reports whether entries remain after the page. A bucket with no records
// lists empty.
func (d *Drive) List(ctx context.Context, bucket string, o ListOptions) (entries []ListEntry, more bool, err error) {
	if err := checkBucket(bucket); err != nil {
		return nil, false, err
	}
	if err := d.live(ctx); err != nil {
		return nil, false, err
	}
	err = d.db.View(func(tx *bolt.Tx) error {
		entries, more = entries[:0], false
		b := bucketOf(tx, bucketObjects, bucket)
		if b == nil {
			return nil
		}
		used := 0 // Versions mode: versions and prefixes in the page
		return walkNames(ctx, b, o, func(name []byte, isPrefix bool, k, v []byte) (bool, error) {
			full := len(entries) >= o.Limit
			if o.Versions {
				full = used >= o.Limit
			}
			if full {
				more = true
				return false, nil
			}
			e := ListEntry{Name: string(name), Prefix: isPrefix}
			if isPrefix {
				entries = append(entries, e)
				used++
				return true, nil
			}
			kv := keyView{legacy: v}
			if v == nil {
				kv = keyView{b: b.Bucket(k)}
				if kv.b == nil {
					return true, nil
				}
			}
			var after []byte
			if o.AfterVersion != nil && e.Name == o.After {
				after = versionKey(o.AfterVersion.ModTime, o.AfterVersion.ID)
			}
			err := kv.each(bucket, e.Name, after, func(_, val []byte) (bool, error) {
				if (!o.Versions && len(e.Versions) == LatestVersions) || (o.Versions && used == o.Limit) {
					e.More = true
					return false, nil
				}
				fi, err := decodeRecord(bucket, e.Name, val, decodeHeader)
				if err != nil {
					return false, err
				}
				e.Versions = append(e.Versions, fi)
				used++
				return true, nil
			})
			if err != nil {
				return false, err
			}
			if len(e.Versions) > 0 {
				entries = append(entries, e)
			}
			if o.Versions && e.More {
				more = true
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("drive %s: list %s: %w", d.dir, bucket, dbErr(err))
	}
	return entries, more, nil
}

// UploadEntry is one item of a ListUploads page: a key with some of its
// uploads in progress (by upload id), or a common prefix.
type UploadEntry struct {
	Name    string
	Prefix  bool
	Uploads []Upload
	More    bool // the page ended inside this key's uploads
}

// ListUploads returns a page of bucket's uploads in progress by key, then
// upload id, as ListOptions describes (Limit counts uploads and common
// prefixes; AfterUpload resumes inside key After).
func (d *Drive) ListUploads(ctx context.Context, bucket string, o ListOptions) (entries []UploadEntry, more bool, err error) {
	if err := checkBucket(bucket); err != nil {
		return nil, false, err
	}
	if err := d.live(ctx); err != nil {
		return nil, false, err
	}
	err = d.db.View(func(tx *bolt.Tx) error {
		entries, more = entries[:0], false
		b := bucketOf(tx, bucketUploads, bucket)
		if b == nil {
			return nil
		}
		used := 0
		return walkNames(ctx, b, o, func(name []byte, isPrefix bool, k, _ []byte) (bool, error) {
			if used >= o.Limit {
				more = true
				return false, nil
			}
			e := UploadEntry{Name: string(name), Prefix: isPrefix}
			if isPrefix {
				entries = append(entries, e)
				used++
				return true, nil
			}
			kb := b.Bucket(k)
			if kb == nil {
				return true, nil
			}
			c := kb.Cursor()
			var id []byte
			if o.AfterUpload != "" && e.Name == o.After {
				id, _ = c.Seek([]byte(o.AfterUpload))
				if id != nil && string(id) == o.AfterUpload {
					id, _ = c.Next()
				}
			} else {
				id, _ = c.First()
			}
			for ; id != nil; id, _ = c.Next() {
				if used == o.Limit {
					e.More = true
					break
				}
				ub := kb.Bucket(id)
				if ub == nil {
					continue
				}
				u, err := readUploadInfo(ub)
				if err != nil {
					return false, err
				}
				e.Uploads = append(e.Uploads, u)
				used++
			}
			if len(e.Uploads) > 0 {
				entries = append(entries, e)
			}
			if e.More {
				more = true
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("drive %s: list uploads %s: %w", d.dir, bucket, dbErr(err))
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
