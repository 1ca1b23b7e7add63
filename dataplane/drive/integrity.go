package drive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Index integrity.
//
// bbolt keeps no checksums of its pages, so a flipped bit in index.db can
// silently change a record or its key, or make bbolt panic or fault on a
// damaged page. The drive never trusts such an index:
//
//   - every record it writes carries CRC32C (record.go), checked on read;
//   - Open checks the whole file before bbolt maps it (checkIndexFile,
//     indexcheck.go): the meta pages, every page's type, bounds and
//     references (each page reached once, none both reachable and free,
//     none lost), the key order, the layout of schema.go, and every
//     record's CRC. After a clean shutdown (Close leaves a clean mark) an
//     index of checkAtOpenBelow bytes or more is checked in the background
//     instead, over the tree of a read transaction (checkLive). A check of
//     100,000 records takes 0.1 s in an index of 116 MiB, 0.6 s in one of
//     2 GiB (page cache warm; BenchmarkIndexCheck);
//   - every transaction runs behind indexDB, which turns a panic raised
//     in bbolt (or a fault on its mapped file) into ErrCorrupt;
//   - any ErrCorrupt from the index marks it damaged: the drive refuses
//     every index call at once (it is offline: the data plane reads and
//     writes the other drives), then moves the file aside as
//     index.db.damaged-<unix time> (kept for analysis, logged at Error
//     with the reason), starts a fresh empty index under the same drive id
//     (the format file is untouched) and tells OnIndexReset's callbacks,
//     so the data plane refills the drive from the other drives of its
//     PGs, as it does a drive replaced by an empty one. Open does the same
//     when its check fails, before serving.
//
// Shard files stay where they are: no record references them any more, so
// they are never read; the refill rewrites (renames over) those the PGs
// still need, and the others stay as unreferenced files, like those a
// crash leaves. Keeping them, and the old index, lets an operator undo a
// reset that should not have happened; the orphan sweep (sweep.go) leaves
// them until the data plane has refilled the drive (ResetsRefilled).

// damageFile is the name a damaged index is moved to.
func damageFile(now time.Time) string {
	return fmt.Sprintf("%s.damaged-%d", indexFile, now.Unix())
}

// indexDB is the drive's bbolt index behind the integrity guard. View and
// Update run a bbolt transaction with panics raised by bbolt, and memory
// faults on its mapped file, turned into ErrCorrupt; an ErrCorrupt from a
// transaction marks the index damaged (Drive.damaged). While it is damaged
// every call fails at once, and a write transaction that meets the damage
// is rolled back, never committed.
type indexDB struct {
	d  *Drive
	mu sync.RWMutex // held shared by every transaction, exclusively to swap db or close
	db *bolt.DB     // nil once closed, or when a reset could not open a fresh index

	batch batcher // group commit of Batch (batch.go)
}

// View runs fn in a read transaction (bolt.DB.View) behind the guard.
func (x *indexDB) View(fn func(*bolt.Tx) error) error { return x.run(false, fn) }

// Update runs fn in a write transaction (bolt.DB.Update) behind the guard.
func (x *indexDB) Update(fn func(*bolt.Tx) error) error { return x.run(true, fn) }

func (x *indexDB) run(write bool, fn func(*bolt.Tx) error) (err error) {
	d := x.d
	if err := d.offline(); err != nil {
		return err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.db == nil {
		if err := d.offline(); err != nil {
			return err
		}
		return berrors.ErrDatabaseNotOpen
	}
	defer func() {
		if r := recover(); r != nil {
			if !boltPanic(r) {
				panic(r) // a bug of ours, not a damaged index
			}
			err = d.damaged(fmt.Errorf("bbolt panicked: %v: %w", r, ErrCorrupt))
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	guarded := func(tx *bolt.Tx) error {
		err := fn(tx)
		if err == nil && write {
			// The damage may have been found by another call meanwhile:
			// nothing more is committed to this index.
			err = d.offline()
		}
		return err
	}
	if write {
		err = x.db.Update(guarded)
	} else {
		err = x.db.View(guarded)
	}
	if errors.Is(err, ErrCorrupt) {
		d.damaged(err)
	}
	return err
}

// Close closes the index; it waits for the transactions in progress.
func (x *indexDB) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	db := x.db
	x.db = nil
	if db == nil {
		return nil
	}
	return closeBolt(db, x.d.closeWait)
}

// closeBolt closes db with bbolt's panics recovered. A panic inside a
// transaction of a damaged index may have left bbolt's own locks held, and
// then Close never returns: after wait the old index is abandoned
// (its file handle and mapping stay until the process ends; its lock is
// on a file that the reset has moved aside).
func closeBolt(db *bolt.DB, wait time.Duration) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("bbolt panicked closing the index: %v", r)
			}
		}()
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		done <- db.Close()
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("index not closed after %s: abandoned", wait)
	}
}

// closeWait bounds the wait for a damaged index to close (Drive.closeWait).
const closeWait = 5 * time.Second

// boltPanic reports whether the recovered panic r comes from a damaged
// index: a memory fault (on the mapped file; SetPanicOnFault makes it a
// panic) or a panic raised inside bbolt. A panic of our own code is a bug
// and is raised again.
func boltPanic(r any) bool {
	if _, ok := r.(interface{ Addr() uintptr }); ok {
		return true
	}
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs) // above runtime.Callers, boltPanic and the deferred function
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

// openBolt opens the bbolt file at path, with bbolt's panics and faults
// turned into ErrCorrupt, as are the errors of a file that is not a valid
// bbolt index.
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("bbolt panicked opening %s: %v: %w", path, r, ErrCorrupt)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bolt.Open(path, filePerm, &bolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		err = fmt.Errorf("%w: %w", err, ErrCorrupt)
	}
	return db, err
}

// createBuckets creates the index's top-level buckets.
func createBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketObjects, bucketUploads} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// offline returns the error every index call gets while the index is
// damaged (nil otherwise).
func (d *Drive) offline() error {
	if p := d.damage.Load(); p != nil {
		return fmt.Errorf("drive %s: offline: its index is damaged (%v) and is being replaced: %w", d.dir, *p, ErrCorrupt)
	}
	return nil
}

// damaged marks the index damaged for reason (the first reason wins) and
// starts its reset in the background (it waits for the transactions in
// progress). It returns the error for the caller that found the damage.
func (d *Drive) damaged(reason error) error {
	if d.damage.CompareAndSwap(nil, &reason) {
		d.log.Error("index damaged: the drive is offline until a fresh index replaces it and it is refilled", "path", d.dir, "err", reason)
		if d.stopCheck != nil {
			d.stopCheck() // a background check would hold the index for nothing
		}
		// Close waits for it through the index lock, or it sees the
		// drive closed and does nothing.
		go d.resetIndex()
	}
	return fmt.Errorf("drive %s: %w", d.dir, reason)
}

// resetIndex replaces the damaged index by a fresh empty one: the drive
// comes back online, empty, and the OnIndexReset callbacks run. On failure
// the drive stays offline (until the node restarts and Open tries again).
func (d *Drive) resetIndex() {
	x := d.db
	x.mu.Lock()
	if d.closed.Load() || x.db == nil {
		x.mu.Unlock()
		return
	}
	if err := closeBolt(x.db, d.closeWait); err != nil {
		d.log.Error("closing the damaged index", "err", err)
	}
	x.db = nil
	db, err := d.freshIndex()
	if err != nil {
		x.mu.Unlock()
		d.log.Error("no fresh index: the drive stays offline until the node restarts", "path", d.dir, "err", err)
		return
	}
	x.db = db
	d.verified.Store(true) // a fresh index is sound (markClean, SweepOrphans)
	d.damage.Store(nil)
	fns := d.noteReset()
	x.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// freshIndex moves the damaged index file aside and opens a new empty
// one. The caller holds the index exclusively (or Open's file lock).
func (d *Drive) freshIndex() (*bolt.DB, error) {
	if err := d.quarantine(); err != nil {
		return nil, err
	}
	db, err := openBolt(filepath.Join(d.dir, indexFile), d.lockTimeout)
	if err != nil {
		return nil, err
	}
	if err := db.Update(createBuckets); err != nil {
		_ = closeBolt(db, d.closeWait)
		return nil, err
	}
	return db, nil
}

// quarantine moves index.db to index.db.damaged-<unix time> (another name
// if that exists), durably.
func (d *Drive) quarantine() error {
	from := filepath.Join(d.dir, indexFile)
	name := damageFile(time.Now())
	to := filepath.Join(d.dir, name)
	for i := 1; ; i++ {
		if _, err := d.fs.Stat(to); errors.Is(err, os.ErrNotExist) {
			break
		}
		to = filepath.Join(d.dir, fmt.Sprintf("%s.%d", name, i))
	}
	if err := d.fs.Rename(from, to); err != nil {
		return fmt.Errorf("drive %s: move the damaged index aside: %w", d.dir, err)
	}
	if err := syncDir(d.fs, d.dir); err != nil {
		return fmt.Errorf("drive %s: %w", d.dir, err)
	}
	d.log.Error("damaged index moved aside; a fresh one replaces it", "path", d.dir, "kept_as", to)
	return nil
}

// noteReset counts a reset and returns the callbacks to run for it.
func (d *Drive) noteReset() []func() {
	d.resetMu.Lock()
	defer d.resetMu.Unlock()
	d.indexResets++
	return append([]func(){}, d.onReset...)
}

// OnIndexReset registers fn, called each time the drive replaces a damaged
// index by a fresh empty one (see the package doc), and at once if that
// already happened since Open (Open included). The drive is then empty
// but for unreferenced shard files, and must be refilled (the data plane
// registers its Refill). fn must return promptly (the data plane's writes
// and fsyncs one small file, the refill mark).
func (d *Drive) OnIndexReset(fn func()) {
	d.resetMu.Lock()
	d.onReset = append(d.onReset, fn)
	n := d.indexResets
	d.resetMu.Unlock()
	if n > 0 {
		fn()
	}
}

// IndexResets returns how many times a damaged index was replaced by a
// fresh one since Open (Open included).
func (d *Drive) IndexResets() int {
	d.resetMu.Lock()
	defer d.resetMu.Unlock()
	return d.indexResets
}

// checkAtOpenBelow is the index size under which Open checks the index
// even after a clean shutdown (it costs well under a second).
const checkAtOpenBelow = 64 << 20

// checkAtOpen checks the index file of the drive being opened (not yet
// opened by bbolt) under an exclusive lock of the file, and moves it aside
// when it is damaged: it returns the damage found (nil for a sound or
// missing index). After a clean shutdown (the clean mark, which it
// removes) an index of checkAtOpenBelow bytes or more is not checked:
// deferred is then true, and the check runs in the background once the
// drive is open (checkLive). Other errors (the file cannot be read) fail
// Open.
func (d *Drive) checkAtOpen(below int64) (damage error, deferred bool, err error) {
	path := filepath.Join(d.dir, indexFile)
	f, err := lockFile(path, d.lockTimeout)
	if err != nil {
		return nil, false, err
	}
	if f != nil {
		defer f.Close() // releases the lock; bbolt takes its own
	}
	clean, err := d.takeCleanMark()
	if err != nil || f == nil {
		d.verified.Store(err == nil) // no index yet: bbolt creates a sound one
		return nil, false, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("drive %s: index: %w", d.dir, err)
	}
	if below == 0 {
		below = checkAtOpenBelow
	}
	if clean && below > 0 && st.Size() >= below {
		return nil, true, nil
	}
	start := time.Now()
	stats, err := checkMapped(context.Background(), f, int(st.Size()), nil)
	switch {
	case errors.Is(err, ErrCorrupt):
		d.log.Error("index damaged", "path", d.dir, "err", err)
		if err := d.quarantine(); err != nil {
			return nil, false, err
		}
		d.verified.Store(true) // of the fresh index bbolt creates
		return err, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("drive %s: check index: %w", d.dir, err)
	}
	d.verified.Store(true)
	d.log.Info("index checked", "records", stats.records, "pages", stats.pages, "bytes", st.Size(), "clean_shutdown", clean,
		"took", time.Since(start).Round(time.Millisecond))
	return nil, false, nil
}

// takeCleanMark reports whether the clean mark was there, and removes it
// durably: from now on a crash is an unclean shutdown.
func (d *Drive) takeCleanMark() (bool, error) {
	path := filepath.Join(d.dir, cleanFile)
	if _, err := d.fs.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err := d.fs.Remove(path); err != nil {
		return false, fmt.Errorf("drive %s: %w", d.dir, err)
	}
	if err := syncDir(d.fs, d.dir); err != nil {
		return false, fmt.Errorf("drive %s: %w", d.dir, err)
	}
	return true, nil
}

// markClean writes the clean mark once the index is closed, when it was
// checked (at Open or in the background) and is not damaged, so that the
// next Open may skip its check. Best effort: without it the next Open
// checks.
func (d *Drive) markClean() {
	if !d.verified.Load() || d.offline() != nil {
		return
	}
	path := filepath.Join(d.dir, cleanFile)
	f, err := d.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	if err == nil {
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = syncDir(d.fs, d.dir)
	}
	if err != nil {
		_ = d.fs.Remove(path)
		d.log.Warn("no clean mark: the next Open checks the index", "err", err)
	}
}

// startLiveCheck runs checkLive in the background (Open deferred its
// check); Close stops it.
func (d *Drive) startLiveCheck() {
	ctx, cancel := context.WithCancel(context.Background())
	d.stopCheck = cancel
	d.checking.Go(func() {
		start := time.Now()
		stats, err := d.checkLive(ctx)
		switch {
		case err == nil:
			d.verified.Store(true)
			d.log.Info("index checked in the background", "records", stats.records, "pages", stats.pages, "took", time.Since(start).Round(time.Millisecond))
		case ctx.Err() != nil, errors.Is(err, ErrCorrupt): // closed; or damaged, logged and being replaced
		default:
			d.log.Warn("background index check failed: the next Open checks the index", "err", err)
		}
	})
}

// checkLive checks the open index as checkIndexFile does, over the tree of
// one read transaction (which bbolt leaves untouched until it ends; the
// meta pages and the freelist, which commits rewrite meanwhile, are not
// checked). Damage marks the index damaged (it then gets replaced). The
// transaction stays open for the whole check: a write that must grow
// bbolt's mapping meanwhile waits for it.
func (d *Drive) checkLive(ctx context.Context) (indexStats, error) {
	var stats indexStats
	err := d.db.View(func(tx *bolt.Tx) error {
		f, err := os.Open(filepath.Join(d.dir, indexFile))
		if err != nil {
			return err
		}
		defer f.Close()
		ps := tx.DB().Info().PageSize
		live := &liveTree{root: uint64(tx.Cursor().Bucket().Root()), hwm: uint64(tx.Size()) / uint64(ps), pageSize: ps}
		stats, err = checkMapped(ctx, f, int(tx.Size()), live)
		return err
	})
	return stats, err
}

// checkMapped runs checkIndexFile over the first size bytes of f, mapped
// read-only (the check reads pages in tree order, all over the file: one
// read call per page costs several times more). A fault reading the
// mapping (an I/O error of the drive) is damage.
func checkMapped(ctx context.Context, f *os.File, size int, live *liveTree) (stats indexStats, err error) {
	if size == 0 {
		return stats, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return stats, fmt.Errorf("map the index: %w", err)
	}
	defer func() { _ = syscall.Munmap(data) }()
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = corruptf("reading the file faulted: %v", r)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return checkIndexFile(ctx, data, live)
}

// lockFile opens path and takes the exclusive flock bbolt takes on its
// file, waiting up to timeout (ErrInUse after); nil when path does not
// exist. Closing the file releases the lock.
func lockFile(path string, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("index %s: lock: %w", path, err)
		}
		if time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("index %s is locked (drive already open by another process or Open) after %s: %w", path, timeout, ErrInUse)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
