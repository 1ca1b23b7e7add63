package drive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// copyBufSize is WriteShard's read size: large enough for few syscalls per
// erasure block, small enough to pool one per concurrent write.
const copyBufSize = 256 << 10

const maxDataDirLen = 64

// checkDataDir validates a shard id: 1..64 characters of [A-Za-z0-9_-], so
// that it can never name a path outside tmp/ or shards/.
func checkDataDir(dataDir string) error {
	if len(dataDir) == 0 || len(dataDir) > maxDataDirLen {
		return fmt.Errorf("drive: shard id %q: length must be 1..%d: %w", dataDir, maxDataDirLen, ErrBadName)
	}
	for i := 0; i < len(dataDir); i++ {
		c := dataDir[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("drive: shard id %q: only [A-Za-z0-9_-] allowed: %w", dataDir, ErrBadName)
		}
	}
	return nil
}

// shardDir is the fan-out folder of a shard: shards/<id[:2]>.
func (d *Drive) shardDir(dataDir string) string {
	return filepath.Join(d.dir, shardsDir, dataDir[:min(2, len(dataDir))])
}

// shardPath is where shard dataDir lives, pending or committed.
func (d *Drive) shardPath(dataDir string) string {
	return filepath.Join(d.shardDir(dataDir), dataDir)
}

// WriteShard streams r into a new shard file named dataDir, fsyncs it and
// its folder, and closes it. The shard is pending (pending.go) and
// invisible to readers until a commit's record names it.
//
// The file is written in its final place, shards/<id[:2]>/<id>: a commit
// then renames nothing and fsyncs no folder, and the folder fsync here is
// shared by the writes in flight (the data plane's ids start with a time
// slot, so concurrent writes share a folder; pending.go).
//
// The file is created exclusively: an existing shard of the same name is an
// error. ctx is checked between reads. On any error (including r's,
// returned wrapped) the file is removed.
func (d *Drive) WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error) {
	if err := checkDataDir(dataDir); err != nil {
		return 0, err
	}
	if err := d.live(ctx); err != nil {
		return 0, err
	}
	if !d.pending.add(dataDir) {
		return 0, fmt.Errorf("drive %s: write shard %s: %w", d.dir, dataDir, os.ErrExist)
	}
	if err := d.ensureFanout(dataDir); err != nil {
		d.pending.settle(dataDir)
		return 0, fmt.Errorf("drive %s: write shard %s: %w", d.dir, dataDir, err)
	}
	path := d.shardPath(dataDir)
	f, err := d.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		d.pending.settle(dataDir)
		return 0, fmt.Errorf("drive %s: create shard %s: %w", d.dir, dataDir, err)
	}
	n, err := d.copyShard(ctx, f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.syncShardDir(dataDir)
	}
	if err != nil {
		if rerr := d.fs.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			d.log.Warn("remove failed shard", "data_dir", dataDir, "err", rerr)
		}
		d.pending.settle(dataDir)
		return n, fmt.Errorf("drive %s: write shard %s: %w", d.dir, dataDir, err)
	}
	d.pending.move(dataDir, shardWriting, shardWritten)
	return n, nil
}

// syncShardDir fsyncs the fan-out folder of dataDir, sharing the fsync
// with the writes in flight there (folderSyncs).
func (d *Drive) syncShardDir(dataDir string) error {
	dir := d.shardDir(dataDir)
	return d.folderSyncs.sync(dir, func() error { return syncDir(d.fs, dir) })
}

// ensureFanout creates the fan-out folder of dataDir, durably (fsyncing
// shards/), unless it is known durable.
func (d *Drive) ensureFanout(dataDir string) error {
	dst := d.shardDir(dataDir)
	fan := filepath.Base(dst)
	if _, ok := d.fanout.Load(fan); ok {
		return nil
	}
	// Concurrent writers may both do this; only a successful fsync marks
	// the folder durable.
	if err := d.fs.MkdirAll(dst, dirPerm); err != nil {
		return err
	}
	if err := syncDir(d.fs, filepath.Join(d.dir, shardsDir)); err != nil {
		return err
	}
	d.fanout.Store(fan, struct{}{})
	return nil
}

// directAlign is the alignment of direct writes (offsets, lengths and
// buffer addresses): the page size, a multiple of every Linux block
// device's logical block size.
const directAlign = 4096

// alignedBuf returns n bytes (a multiple of directAlign) starting at a
// directAlign boundary.
func alignedBuf(n int) []byte {
	b := make([]byte, n+directAlign)
	off := directAlign - int(uintptr(unsafe.Pointer(&b[0]))&(directAlign-1))
	return b[off : off+n : off+n]
}

// copyShard copies r to f with a pooled buffer, checking ctx between reads.
//
// Shard data is written with direct I/O where the drive's file system has
// it: through the page cache, every page of a new file is allocated,
// filled, dirtied and written back, which cost 3-5x the CPU of a direct
// write of a 172 KiB shard on our benchmark VM (create, write, fdatasync,
// 16 writers: 460-580 us against 96-143 us; docs/benchmarks.md). Reads
// still go through the page cache. The buffer is filled whole before each
// write (direct writes are aligned and synchronous), and the stream's
// unaligned tail goes through the page cache; the caller's fsync makes
// both durable.
func (d *Drive) copyShard(ctx context.Context, f File, r io.Reader) (int64, error) {
	bp := d.copyBuf()
	defer d.putBuf(bp)
	buf := *bp
	direct := !d.noDirect.Load() && f.SetDirect(true) == nil
	if !direct {
		d.directOff()
	}
	var n int64
	write := func(p []byte) error {
		nw, err := f.Write(p)
		n += int64(nw)
		return err
	}
	for {
		m, rerr := fill(ctx, r, buf)
		if rerr != nil && rerr != io.EOF {
			return n, rerr
		}
		head := m
		if direct {
			head = m &^ (directAlign - 1)
		}
		if head > 0 {
			err := write(buf[:head])
			if err != nil && direct && n == 0 && errors.Is(err, syscall.EINVAL) {
				// The file system took the flag but not the write:
				// no direct I/O on this drive from now on.
				d.directOff()
				if err = f.SetDirect(false); err == nil {
					direct = false
					err = write(buf[:head])
				}
			}
			if err != nil {
				return n, err
			}
		}
		if head < m {
			// The end of the stream, not a multiple of directAlign.
			if err := f.SetDirect(false); err != nil {
				return n, err
			}
			direct = false
			if err := write(buf[head:m]); err != nil {
				return n, err
			}
		}
		if rerr == io.EOF || m < len(buf) {
			return n, nil
		}
	}
}

// fill reads r into buf until buf is full, r ends (io.EOF) or fails,
// checking ctx between reads. A full buffer is returned with a nil error
// even when r has nothing more.
func fill(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	m := 0
	for m < len(buf) {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		nr, err := r.Read(buf[m:])
		m += nr
		if err == io.EOF {
			return m, io.EOF
		}
		if err != nil {
			return m, fmt.Errorf("read shard data: %w", err)
		}
	}
	return m, nil
}

// directOff records that the drive's file system has no direct I/O (once,
// with a log line): shard writes then go through the page cache.
func (d *Drive) directOff() {
	if !d.noDirect.Swap(true) {
		d.log.Info("no direct I/O on this drive's file system: shard writes go through the page cache", "drive", d.dir)
	}
}

// AbortShard removes a pending shard file written by WriteShard.
// ErrNotFound if there is none (never written, still being written,
// committed or being committed, already aborted, or written before the
// drive was last opened: that one stays for the orphan sweep).
func (d *Drive) AbortShard(ctx context.Context, dataDir string) error {
	if err := checkDataDir(dataDir); err != nil {
		return err
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	if !d.pending.drop(dataDir) {
		return fmt.Errorf("drive %s: no pending shard %s: %w", d.dir, dataDir, ErrNotFound)
	}
	err := d.fs.Remove(d.shardPath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drive %s: pending shard %s: %w", d.dir, dataDir, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("drive %s: abort shard %s: %w", d.dir, dataDir, err)
	}
	return nil
}

// OpenShard opens the committed shard file dataDir for reading length bytes
// from offset (length < 0: to the end). A pending shard (written, not
// committed) is not found.
//
// ErrNotFound when the shard does not exist; ErrBadRange for a negative
// offset or one past the end. A range running past the end is cut at the
// end (the reader then returns fewer bytes). The caller closes the reader.
func (d *Drive) OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error) {
	if err := checkDataDir(dataDir); err != nil {
		return nil, err
	}
	if err := d.live(ctx); err != nil {
		return nil, err
	}
	if d.pending.unwritten(dataDir) {
		// Not committed: no record names it yet.
		return nil, fmt.Errorf("drive %s: shard %s is not committed: %w", d.dir, dataDir, ErrNotFound)
	}
	f, err := d.fs.OpenFile(d.shardPath(dataDir), os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("drive %s: shard %s: %w", d.dir, dataDir, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("drive %s: open shard %s: %w", d.dir, dataDir, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("drive %s: stat shard %s: %w", d.dir, dataDir, err)
	}
	size := st.Size()
	if offset < 0 || offset > size {
		_ = f.Close()
		return nil, fmt.Errorf("drive %s: shard %s of %d bytes: offset %d: %w", d.dir, dataDir, size, offset, ErrBadRange)
	}
	if length < 0 || length > size-offset {
		length = size - offset
	}
	return &shardReader{SectionReader: io.NewSectionReader(f, offset, length), f: f}, nil
}

// shardReader is a section of an open shard file.
type shardReader struct {
	*io.SectionReader
	f File
}

// Close closes the shard file.
func (s *shardReader) Close() error { return s.f.Close() }

// commitShard readies shard dataDir for the record a commit is about to
// write. A pending shard is claimed (AbortShard then leaves it alone); one
// that is not pending is taken if its file is there (a retried commit, or a
// shard written before the drive was last opened: complete, since its
// WriteShard returned). Either way its change time is set (chmod), which
// the orphan sweep relies on (sweep.go). claimed reports a claim the
// caller ends with settleShard once the record is written, or with
// uncommitShard when it is not.
func (d *Drive) commitShard(dataDir string) (claimed bool, err error) {
	pending, claimed := d.pending.claim(dataDir)
	if pending && !claimed {
		return false, fmt.Errorf("drive %s: commit shard %s: still being written, or being committed: %w", d.dir, dataDir, ErrNotFound)
	}
	d.sweepMu.RLock() // the orphan sweep never removes a file touched after it looked
	err = d.fs.Chmod(d.shardPath(dataDir), filePerm)
	d.sweepMu.RUnlock()
	if err != nil {
		if claimed {
			d.uncommitShard(dataDir)
		}
		if errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("drive %s: commit shard %s: no such shard: %w", d.dir, dataDir, ErrNotFound)
		}
		return false, fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
	}
	return claimed, nil
}

// uncommitShard gives back a shard commitShard claimed, whose record was
// not written: pending again, for a retried commit or AbortShard.
func (d *Drive) uncommitShard(dataDir string) {
	d.pending.move(dataDir, shardClaimed, shardWritten)
}

// settleShard ends the claim of a shard whose record was written.
func (d *Drive) settleShard(dataDir string) { d.pending.settle(dataDir) }

// endClaim ends commitShard's claim (if claimed) once the record's
// transaction is over: settled when it committed (err nil), given back
// otherwise.
func (d *Drive) endClaim(dataDir string, claimed bool, err error) {
	switch {
	case !claimed:
	case err == nil:
		d.settleShard(dataDir)
	default:
		d.uncommitShard(dataDir)
	}
}

// commitShardAs renames pending shard tmpID to dataDir durably (renaming
// over a committed file of that name: a corrupt copy) and claims it;
// RestoreVersion writes under unique temporary names, so that two repairs
// of the same shard never touch each other's files. The caller ends the
// claim with settleShard(tmpID) once the record is written, or puts the
// file back with uncommitShardAs.
func (d *Drive) commitShardAs(tmpID, dataDir string) error {
	if _, ok := d.pending.claim(tmpID); !ok {
		return fmt.Errorf("drive %s: commit shard %s: no written pending shard %s: %w", d.dir, dataDir, tmpID, ErrNotFound)
	}
	if err := d.ensureFanout(dataDir); err != nil {
		d.uncommitShard(tmpID)
		return fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
	}
	d.sweepMu.RLock() // the orphan sweep never removes a file renamed in after it looked
	err := d.fs.Rename(d.shardPath(tmpID), d.shardPath(dataDir))
	d.sweepMu.RUnlock()
	if err != nil {
		d.uncommitShard(tmpID)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("drive %s: commit shard %s: no shard %s: %w", d.dir, dataDir, tmpID, ErrNotFound)
		}
		return fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
	}
	if err := d.syncShardDir(dataDir); err != nil {
		// The rename happened but may not be durable: put it back so the
		// caller's error leaves nothing half-committed.
		d.uncommitShardAs(tmpID, dataDir)
		return fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
	}
	return nil
}

// uncommitShardAs moves shard dataDir, renamed by commitShardAs but whose
// record was not written, back to its pending name tmpID. Best effort.
func (d *Drive) uncommitShardAs(tmpID, dataDir string) {
	if err := d.fs.Rename(d.shardPath(dataDir), d.shardPath(tmpID)); err != nil {
		d.log.Warn("move uncommitted shard back to its pending name", "data_dir", dataDir, "pending", tmpID, "err", err)
	}
	d.uncommitShard(tmpID)
}

// removeShard deletes a committed shard no record references any more.
// Best effort: a leftover file wastes space but is never read.
func (d *Drive) removeShard(dataDir string) {
	if checkDataDir(dataDir) != nil {
		d.log.Warn("index names an invalid shard id; not removing", "data_dir", dataDir)
		return
	}
	if err := d.fs.Remove(d.shardPath(dataDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.log.Warn("remove replaced shard", "data_dir", dataDir, "err", err)
	}
}
