package drive

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Orphan shard files.
//
// A shard file in shards/ that no index record names is never read again,
// and nothing else frees it: a shard written but never committed before
// a crash or restart leaves one (or a crash between a commit's start and
// its record), as do deletes and overwrites whose removal of the old
// file failed (a hidden or unreadable folder), and a reset index leaves
// every file of the drive so (integrity.go). SweepOrphans removes them.
//
// Which files are referenced comes from one read transaction: versions
// (their DataDir, and every part's of a multipart version) and uploads in
// progress (their parts). One transaction, because a multipart completion
// moves part files from the upload's records to the version's without
// touching the files: two reads could miss a part in both.
//
// Shards being written, or written and not committed yet, are in shards/
// too: the walk skips every shard the drive holds as pending (pending.go),
// so it never removes one however old it is.
//
// The snapshot is older than the walk of shards/ that follows it, so a file
// the walk finds unreferenced may have been committed since, or be
// committed in a moment: a commit first sets its file's change time (ctime,
// with a chmod; a repair renames its file into place, which sets it too)
// and writes the record after (the durability protocol in doc.go); the
// kernel never sets a ctime back. So a file is removed only when its ctime
// is older than the snapshot's start minus minAge:
//   - a file a commit touched after the snapshot started has a later
//     ctime: kept, whatever minAge;
//   - a file touched before it and not in it belongs to a commit whose
//     record was not written yet when the snapshot began; minAge must
//     exceed the longest time a commit takes between touching its file
//     and its record (a retried commit included: seconds; the data
//     plane's default minimum is an hour), and a wall-clock step forward
//     by more than minAge during such a commit defeats it. The kernel
//     stamps ctime from a coarse clock, a few milliseconds behind
//     time.Now: with a minAge of 0 (tests) a file touched just after the
//     start may pass for older.
//
// The sweep re-reads a file's ctime and removes it while holding sweepMu,
// which commits hold (shared) while they touch or rename their file, so it
// never removes a file touched after it looked (a repair may rename a
// rebuilt file over an orphan of the same name just before writing the
// record that names it).
//
// A sweep never runs on an index it cannot trust: not while the drive is
// closed or offline (damaged index), nor before the index was checked since
// Open (a large index after a clean shutdown is checked in the background),
// nor after a reset until the data plane refilled the drive (ResetsRefilled:
// until then the fresh index lacks records of files the refill will name
// again, and an operator may still want to undo the reset), nor while a
// refill is pending (MarkRefill, which also covers a refill a restart cut
// short: the reset count starts again at Open). It stops at once if the
// index gets damaged or reset while it removes files.

// ErrSweepSkipped: SweepOrphans did not run, or stopped, because the index
// cannot be trusted yet (not checked since Open, reset and not yet
// refilled, a refill pending, or reset during the sweep); a later sweep
// may run. Match with errors.Is.
var ErrSweepSkipped = errors.New("drive: orphan sweep skipped")

// SweepStats is what one SweepOrphans call found and did.
type SweepStats struct {
	Referenced int           // distinct shard files the index refers to
	Examined   int           // shard files found in shards/ (valid names in their fan-out folder)
	Young      int           // unreferenced files kept: changed less than minAge before the sweep
	Pending    int           // unreferenced files kept: being written or not committed yet
	Removed    int           // unreferenced files removed
	Bytes      int64         // size of the removed files
	Ignored    int           // other entries of shards/ (bad names, folders, links): left alone
	Took       time.Duration // the whole sweep
}

// sweepCheckEvery is how many index records the snapshot reads between
// two checks of its context.
const sweepCheckEvery = 1024

// SweepOrphans removes the shard files in shards/ that no index record
// refers to and whose change time is older than minAge before the sweep
// began (see the top of sweep.go for why that makes it safe under
// concurrent commits). Pending shards (written and not committed since
// Open), folders, and names that are not valid shard ids are left alone.
//
// It returns ErrClosed once the drive is closed, ErrCorrupt while its index
// is damaged (or if the sweep finds damage), and ErrSweepSkipped while the
// index is not trusted yet (not checked since Open, or reset and not yet
// refilled: ResetsRefilled) or a refill is pending (RefillPending: the mark
// outlives a restart); nothing is removed then. ctx is checked while
// the index is read and between fan-out folders; a cancelled sweep returns
// ctx's error with the stats of what it did. One Info line is logged when
// files were removed.
//
// Memory: the set of referenced names, about 25-40 bytes per shard file
// for the data plane's ids (32 hex digits, kept as 16 bytes; other ids
// cost about 70-90): 25-40 MB per million shard files on the drive.
func (d *Drive) SweepOrphans(ctx context.Context, minAge time.Duration) (SweepStats, error) {
	var st SweepStats
	start := time.Now()
	if err := d.live(ctx); err != nil {
		return st, err
	}
	if err := d.offline(); err != nil {
		return st, err
	}
	if !d.verified.Load() {
		return st, fmt.Errorf("drive %s: the index has not been checked since Open yet: %w", d.dir, ErrSweepSkipped)
	}
	if d.RefillPending() {
		return st, fmt.Errorf("drive %s: a refill of the drive is pending: %w", d.dir, ErrSweepSkipped)
	}
	cutoff := start.Add(-minAge)
	refs, resets, err := d.referencedShards(ctx)
	if err != nil {
		return st, err
	}
	st.Referenced = refs.len()
	err = d.sweepShards(ctx, refs, cutoff, resets, &st)
	st.Took = time.Since(start)
	if st.Removed > 0 {
		d.log.Info("orphan shard files removed", "examined", st.Examined, "referenced", st.Referenced, "removed", st.Removed,
			"bytes", st.Bytes, "young", st.Young, "took", st.Took.Round(time.Millisecond))
	}
	return st, err
}

// ResetsRefilled tells the drive that a refill of the data plane
// completed which covers its first resets index resets (IndexResets() as
// read before the refill began). SweepOrphans runs only once every reset
// since Open is covered.
func (d *Drive) ResetsRefilled(resets int) {
	d.resetMu.Lock()
	defer d.resetMu.Unlock()
	d.refilled = max(d.refilled, resets)
}

// referencedShards reads, in one read transaction, the names of every
// shard file the index refers to, and the number of index resets so far
// (the transaction holds the index: no reset happens during it).
func (d *Drive) referencedShards(ctx context.Context) (*nameSet, int, error) {
	var refs *nameSet
	var resets int
	err := d.db.View(func(tx *bolt.Tx) error {
		refs = newNameSet()
		d.resetMu.Lock()
		resets = d.indexResets
		refilled := d.refilled
		d.resetMu.Unlock()
		if resets > refilled {
			return fmt.Errorf("drive %s: the index was replaced after damage and the drive is not refilled yet: %w", d.dir, ErrSweepSkipped)
		}
		records := 0
		check := func() error {
			if records++; records%sweepCheckEvery == 0 {
				return ctx.Err()
			}
			return nil
		}
		objs, err := topBucket(tx, bucketObjects)
		if err != nil {
			return err
		}
		err = objs.ForEachBucket(func(bn []byte) error {
			bb := objs.Bucket(bn)
			bucket := string(bn)
			return bb.ForEach(func(k, v []byte) error {
				key := string(k)
				kv := keyView{legacy: v}
				if v == nil {
					kv = keyView{b: bb.Bucket(k)}
				}
				return kv.each(bucket, key, nil, func(_, rec []byte) (bool, error) {
					// Parts, not inline bytes: checks the record's
					// whole CRC without copying inline data.
					fi, err := decodeRecord(bucket, key, rec, decodeOpts{parts: true})
					if err != nil {
						return false, err
					}
					for _, dd := range shardsOf(fi) {
						refs.add(dd)
					}
					return true, check()
				})
			})
		})
		if err != nil {
			return err
		}
		ups, err := topBucket(tx, bucketUploads)
		if err != nil {
			return err
		}
		return ups.ForEachBucket(func(bn []byte) error {
			bb := ups.Bucket(bn)
			return bb.ForEachBucket(func(k []byte) error {
				ids, err := uploadShards(bb.Bucket(k))
				for _, dd := range ids {
					refs.add(dd)
				}
				if err != nil {
					return err
				}
				return check()
			})
		})
	})
	if err != nil {
		if errors.Is(err, ErrSweepSkipped) || ctx.Err() != nil {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("drive %s: orphan sweep: read the index: %w", d.dir, dbErr(err))
	}
	return refs, resets, nil
}

// sweepShards walks the fan-out folders of shards/ and removes the files
// refs does not name that changed before cutoff.
func (d *Drive) sweepShards(ctx context.Context, refs *nameSet, cutoff time.Time, resets int, st *SweepStats) error {
	root := filepath.Join(d.dir, shardsDir)
	fans, err := d.fs.ReadDir(root)
	if err != nil {
		return fmt.Errorf("drive %s: orphan sweep: %w", d.dir, err)
	}
	for _, fan := range fans {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !fan.IsDir() {
			st.Ignored++
			continue
		}
		dir := filepath.Join(root, fan.Name())
		ents, err := d.fs.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("drive %s: orphan sweep: %w", d.dir, err)
		}
		for _, e := range ents {
			name := e.Name()
			if !e.Type().IsRegular() || checkDataDir(name) != nil || d.shardDir(name) != dir {
				st.Ignored++
				continue
			}
			st.Examined++
			if refs.has(name) {
				continue
			}
			if d.pending.has(name) {
				st.Pending++
				continue
			}
			size, removed, young, err := d.removeOrphan(filepath.Join(dir, name), cutoff, resets)
			if err != nil {
				return err
			}
			switch {
			case removed:
				st.Removed++
				st.Bytes += size
			case young:
				st.Young++
			}
		}
	}
	return nil
}

// removeOrphan removes the unreferenced shard file at path if it changed
// before cutoff (removed, with its size), or reports it changed since
// (young). It holds sweepMu, so no commit touches or renames a file to
// path meanwhile; it refuses to go on once the index is damaged or was reset
// since the snapshot (resets: IndexResets then), or the drive closed.
func (d *Drive) removeOrphan(path string, cutoff time.Time, resets int) (size int64, removed, young bool, err error) {
	d.sweepMu.Lock()
	defer d.sweepMu.Unlock()
	if d.closed.Load() {
		return 0, false, false, ErrClosed
	}
	if err := d.offline(); err != nil {
		return 0, false, false, err
	}
	if d.IndexResets() != resets {
		return 0, false, false, fmt.Errorf("drive %s: the index was replaced during the sweep: %w", d.dir, ErrSweepSkipped)
	}
	fi, err := d.fs.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, false, false, nil // removed by its record's delete meanwhile
	case err != nil:
		return 0, false, false, fmt.Errorf("drive %s: orphan sweep: %w", d.dir, err)
	case !fi.Mode().IsRegular():
		return 0, false, false, nil
	case !changeTime(fi).Before(cutoff):
		return 0, false, true, nil
	}
	if err := d.fs.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, false, false, fmt.Errorf("drive %s: orphan sweep: %w", d.dir, err)
	}
	return fi.Size(), true, false, nil
}

// nameSet is a set of shard ids. Ids of 32 lowercase hex digits (the data
// plane's: 16 random bytes) are kept decoded, in half the memory.
type nameSet struct {
	hex   map[[16]byte]struct{}
	other map[string]struct{}
}

func newNameSet() *nameSet {
	return &nameSet{hex: map[[16]byte]struct{}{}, other: map[string]struct{}{}}
}

// hexID returns id decoded when it is 32 lowercase hex digits.
func hexID(id string) (k [16]byte, ok bool) {
	if len(id) != 32 || !isLowerHex(id) {
		return k, false
	}
	var src [32]byte
	copy(src[:], id)
	_, err := hex.Decode(k[:], src[:])
	return k, err == nil
}

func (s *nameSet) add(id string) {
	if k, ok := hexID(id); ok {
		s.hex[k] = struct{}{}
		return
	}
	s.other[id] = struct{}{}
}

func (s *nameSet) has(id string) bool {
	if k, ok := hexID(id); ok {
		_, found := s.hex[k]
		return found
	}
	_, found := s.other[id]
	return found
}

func (s *nameSet) len() int { return len(s.hex) + len(s.other) }
