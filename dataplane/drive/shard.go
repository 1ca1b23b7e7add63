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

// tmpPath is where WriteShard writes shard dataDir.
func (d *Drive) tmpPath(dataDir string) string {
	return filepath.Join(d.dir, tmpDir, dataDir)
}

// shardDir is the fan-out folder of a committed shard: shards/<id[:2]>.
func (d *Drive) shardDir(dataDir string) string {
	return filepath.Join(d.dir, shardsDir, dataDir[:min(2, len(dataDir))])
}

// shardPath is where a committed shard dataDir lives.
func (d *Drive) shardPath(dataDir string) string {
	return filepath.Join(d.shardDir(dataDir), dataDir)
}

// WriteShard streams r into a temporary shard file named dataDir, fsyncs and
// closes it. The shard is invisible until CommitVersion names it.
//
// The file is created exclusively: an existing temporary shard of the same
// name is an error. ctx is checked between reads. On any error (including
// r's, returned wrapped) the temporary file is removed.
func (d *Drive) WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error) {
	if err := checkDataDir(dataDir); err != nil {
		return 0, err
	}
	if err := d.live(ctx); err != nil {
		return 0, err
	}
	path := d.tmpPath(dataDir)
	f, err := d.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return 0, fmt.Errorf("drive %s: create shard %s: %w", d.dir, dataDir, err)
	}
	n, err := d.copyShard(ctx, f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if rerr := d.fs.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			d.log.Warn("remove failed temporary shard", "data_dir", dataDir, "err", rerr)
		}
		return n, fmt.Errorf("drive %s: write shard %s: %w", d.dir, dataDir, err)
	}
	return n, nil
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

// AbortShard removes a temporary shard file written by WriteShard.
// ErrNotFound if there is none (never written, already committed or
// aborted, or removed by Open).
func (d *Drive) AbortShard(ctx context.Context, dataDir string) error {
	if err := checkDataDir(dataDir); err != nil {
		return err
	}
	if err := d.live(ctx); err != nil {
		return err
	}
	err := d.fs.Remove(d.tmpPath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drive %s: temporary shard %s: %w", d.dir, dataDir, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("drive %s: abort shard %s: %w", d.dir, dataDir, err)
	}
	return nil
}

// OpenShard opens the committed shard file dataDir for reading length bytes
// from offset (length < 0: to the end).
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

// commitShard moves temporary shard dataDir into shards/ durably: it creates
// the fan-out folder if it is not known durable (fsyncing shards/ then), renames, and fsyncs
// the fan-out folder. moved reports whether this call did the rename: a
// retried commit whose shard is already in place (no temporary file,
// committed file present) succeeds with moved false.
func (d *Drive) commitShard(dataDir string) (moved bool, err error) {
	return d.commitShardAs(dataDir, dataDir)
}

// commitShardAs is commitShard of the temporary shard tmpID under the name
// dataDir (RestoreVersion writes under unique temporary names, so that two
// repairs of the same shard never touch each other's files). Only a retry
// of the same name (tmpID == dataDir) succeeds without a temporary file.
func (d *Drive) commitShardAs(tmpID, dataDir string) (moved bool, err error) {
	dst := d.shardDir(dataDir)
	fan := filepath.Base(dst)
	if _, ok := d.fanout.Load(fan); !ok {
		// Not known durable: create it (or find it) and fsync shards/ so
		// its entry survives a crash. Concurrent commits may both do this;
		// only a successful fsync marks the folder durable.
		if err := d.fs.MkdirAll(dst, dirPerm); err != nil {
			return false, fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
		}
		if err := syncDir(d.fs, filepath.Join(d.dir, shardsDir)); err != nil {
			return false, fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
		}
		d.fanout.Store(fan, struct{}{})
	}
	d.sweepMu.RLock() // the orphan sweep never removes a file renamed in after it looked
	err = d.fs.Rename(d.tmpPath(tmpID), d.shardPath(dataDir))
	d.sweepMu.RUnlock()
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := d.fs.Stat(d.shardPath(dataDir)); serr == nil && tmpID == dataDir {
			return false, nil // already committed by an earlier attempt
		}
		return false, fmt.Errorf("drive %s: commit shard %s: no temporary shard: %w", d.dir, dataDir, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
	}
	if err := syncDir(d.fs, dst); err != nil {
		// The rename happened but may not be durable: put it back so the
		// caller's error leaves nothing half-committed.
		d.uncommitShardAs(tmpID, dataDir)
		return false, fmt.Errorf("drive %s: commit shard %s: %w", d.dir, dataDir, err)
	}
	return true, nil
}

// uncommitShard moves a committed shard whose record was not written back
// to tmp/, so that a retried CommitVersion finds it. Best effort.
func (d *Drive) uncommitShard(dataDir string) { d.uncommitShardAs(dataDir, dataDir) }

// uncommitShardAs moves committed shard dataDir back to tmp/tmpID.
func (d *Drive) uncommitShardAs(tmpID, dataDir string) {
	if err := d.fs.Rename(d.shardPath(dataDir), d.tmpPath(tmpID)); err != nil {
		d.log.Warn("move uncommitted shard back to tmp", "data_dir", dataDir, "err", err)
	}
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
