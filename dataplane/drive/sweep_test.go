package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// orphan writes a shard file and touches it as a commit does, without a
// record, and forgets it was pending:
// what a crash between a commit's touch and its record leaves.
func orphan(t testing.TB, d *Drive, id string, size int) string {
	t.Helper()
	if _, err := d.WriteShard(context.Background(), id, bytes.NewReader(bytes.Repeat([]byte{'o'}, size))); err != nil {
		t.Fatal(err)
	}
	if _, err := d.commitShard(id); err != nil {
		t.Fatal(err)
	}
	d.settleShard(id) // as after a restart: the pending set is gone
	return d.shardPath(id)
}

// present returns the paths of paths that exist.
func present(t testing.TB, paths ...string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		_, err := os.Lstat(p)
		switch {
		case err == nil:
			out = append(out, p)
		case !errors.Is(err, os.ErrNotExist):
			t.Fatal(err)
		}
	}
	return out
}

// TestSweepOrphans: the files the index refers to (a single-part version,
// the parts of a multipart version, the part of an upload in progress)
// survive a sweep, as do pending shards and entries that are not shard
// files; unreferenced shard files go, but only once older than minAge.
func TestSweepOrphans(t *testing.T) {
	d := openT(t, t.TempDir())
	ctx := context.Background()
	fillIndex(t, d)
	hexRef := "0123456789abcdef0123456789abcdef"
	if _, err := d.WriteShard(ctx, hexRef, strings.NewReader("referenced")); err != nil {
		t.Fatal(err)
	}
	if err := d.CommitVersion(ctx, FileInfo{Bucket: "b3", Key: "k", VersionID: "v", ModTime: 1, Size: 10, K: 2, M: 2, BlockSize: 1 << 20, DataDir: hexRef}); err != nil {
		t.Fatal(err)
	}
	referenced := []string{d.shardPath("nullshard"), d.shardPath("part1"), d.shardPath("part3"), d.shardPath("part22"), d.shardPath(hexRef)}
	if got := present(t, d.shardPath("part2")); len(got) != 0 {
		t.Fatalf("part left out by the completion still there: %v", got)
	}
	orphans := []string{orphan(t, d, "lost1", 100), orphan(t, d, "fedcba9876543210fedcba9876543210", 23)}
	// Left alone: a pending shard, a folder, a file with a name that is
	// no shard id, one outside its fan-out folder, one in shards/ itself.
	if _, err := d.WriteShard(ctx, "pending", strings.NewReader("tmp")); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(d.dir, shardsDir)
	others := []string{d.shardPath("pending"), filepath.Join(root, "lo", "sub"), filepath.Join(root, "lo", "lo.bak"),
		filepath.Join(root, "lo", "zzz"), filepath.Join(root, "stray")}
	if err := os.Mkdir(others[1], 0o750); err != nil {
		t.Fatal(err)
	}
	for _, p := range others[2:] {
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	all := slices.Concat(referenced, orphans, others)
	time.Sleep(20 * time.Millisecond) // past the ctime clock's granularity

	st, err := d.SweepOrphans(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := SweepStats{Referenced: 5, Examined: 8, Young: 2, Pending: 1, Ignored: 4, Took: st.Took}
	if st != want {
		t.Fatalf("sweep with minAge 1h: %+v, want %+v", st, want)
	}
	if got := present(t, all...); len(got) != len(all) {
		t.Fatalf("a young sweep removed %v", slices.DeleteFunc(slices.Clone(all), func(p string) bool { return slices.Contains(got, p) }))
	}

	st, err = d.SweepOrphans(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want = SweepStats{Referenced: 5, Examined: 8, Pending: 1, Removed: 2, Bytes: 123, Ignored: 4, Took: st.Took}
	if st != want {
		t.Fatalf("sweep: %+v, want %+v", st, want)
	}
	if got := present(t, orphans...); len(got) != 0 {
		t.Fatalf("orphans left: %v", got)
	}
	if got := present(t, slices.Concat(referenced, others)...); len(got) != len(referenced)+len(others) {
		t.Fatalf("only %v left of %v", got, slices.Concat(referenced, others))
	}
	// What the index holds still reads.
	if _, err := dumpIndex(d); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"nullshard", "part1", "part3", "part22", hexRef} {
		rc, err := d.OpenShard(ctx, id, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		_ = rc.Close()
	}
	if st, err := d.SweepOrphans(ctx, 0); err != nil || st.Removed != 0 || st.Examined != 6 || st.Pending != 1 {
		t.Fatalf("second sweep: %+v, %v", st, err)
	}
}

// TestSweepTouchSetsChangeTime pins what the sweep relies on: a chmod (a
// commit's touch) and a rename (a repair's) update the file's change
// time, not its modification time.
func TestSweepTouchSetsChangeTime(t *testing.T) {
	for _, op := range []string{"chmod", "rename"} {
		dir := t.TempDir()
		from, to := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if err := os.WriteFile(from, []byte("x"), filePerm); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		before := time.Now()
		var err error
		if op == "chmod" {
			to = from
			err = OSFS{}.Chmod(from, filePerm) // the same mode, as commits do
		} else {
			err = os.Rename(from, to)
		}
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(to)
		if err != nil {
			t.Fatal(err)
		}
		// The ctime clock is coarse (a few ms): allow 10 ms.
		if ct := changeTime(fi); ct.Before(before.Add(-10 * time.Millisecond)) {
			t.Fatalf("change time %v after a %s at %v (mtime %v)", ct, op, before, fi.ModTime())
		}
	}
}

// TestSweepKeepsLateCommit: a shard committed after the sweep read the
// index is kept even with minAge 0 (its change time is after the start).
func TestSweepKeepsLateCommit(t *testing.T) {
	var d *Drive
	var late string
	hook := &hookFS{onReadDir: func(name string) {
		if d != nil && name == filepath.Join(d.dir, shardsDir) && late == "" {
			time.Sleep(20 * time.Millisecond) // past the ctime clock's granularity
			late = orphan(t, d, "late1", 10)
		}
	}}
	var err error
	d, err = Open(t.TempDir(), Options{FS: hook, Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	old := orphan(t, d, "old1", 10)
	time.Sleep(20 * time.Millisecond)
	st, err := d.SweepOrphans(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 1 || st.Young != 1 || len(present(t, old)) != 0 || len(present(t, late)) != 1 {
		t.Fatalf("sweep %+v: old left %v, late left %v", st, present(t, old), present(t, late))
	}
}

// TestSweepUntrustedIndex: no file is removed while the index cannot be
// trusted: not checked since Open, damaged (the drive offline), reset and
// not yet refilled, or the drive closed.
func TestSweepUntrustedIndex(t *testing.T) {
	dir := t.TempDir()
	d := openT(t, dir)
	ctx := context.Background()
	fillIndex(t, d)
	files := []string{orphan(t, d, "lost1", 10), d.shardPath("nullshard"), d.shardPath("part1"), d.shardPath("part3"), d.shardPath("part22")}
	time.Sleep(20 * time.Millisecond)
	intact := func(what string) {
		t.Helper()
		if got := present(t, files...); len(got) != len(files) {
			t.Fatalf("%s: only %v left", what, got)
		}
	}

	d.verified.Store(false) // as after a clean Open of a large index, before the background check
	if st, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrSweepSkipped) || st.Removed != 0 {
		t.Fatalf("unchecked index: %+v, %v", st, err)
	}
	intact("unchecked index")
	d.verified.Store(true)

	// Damage found while a transaction holds the index: the drive is
	// offline until the reset, which waits for it.
	hold, held, released := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(released)
		_ = d.db.View(func(*bolt.Tx) error {
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	if err := d.db.Update(func(*bolt.Tx) error { return fmt.Errorf("test: %w", ErrCorrupt) }); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	if st, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrCorrupt) || st.Removed != 0 {
		t.Fatalf("offline drive: %+v, %v", st, err)
	}
	intact("offline drive")
	close(hold)
	<-released
	waitResets(t, d, 1)

	// A fresh empty index: every file is unreferenced now, but the drive
	// is not refilled yet.
	if st, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrSweepSkipped) || st.Removed != 0 {
		t.Fatalf("reset, not refilled: %+v, %v", st, err)
	}
	intact("reset, not refilled")
	d.ResetsRefilled(0) // a refill that began before the reset covers nothing
	if _, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrSweepSkipped) {
		t.Fatalf("refilled before the reset: %v", err)
	}
	intact("refilled before the reset")

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed drive: %v", err)
	}
	intact("closed drive")

	// Reopened, the fresh index is trusted and was never reset; but a
	// refill the restart cut short is still pending.
	d = openT(t, dir)
	if err := d.MarkRefill(true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrSweepSkipped) {
		t.Fatalf("refill pending: %v", err)
	}
	intact("refill pending")
	// Refilled: the files of the old index go.
	if err := d.MarkRefill(false); err != nil {
		t.Fatal(err)
	}
	st, err := d.SweepOrphans(ctx, 0)
	if err != nil || st.Removed != len(files) {
		t.Fatalf("after reopen: %+v, %v", st, err)
	}
	if got := present(t, files...); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
}

// TestSweepAfterResetAtOpen: a drive whose Open replaced a damaged index
// is swept only once ResetsRefilled covers that reset.
func TestSweepAfterResetAtOpen(t *testing.T) {
	dir := t.TempDir()
	d := openT(t, dir)
	fillIndex(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	damageAt(t, filepath.Join(dir, indexFile), []byte(`"v":"v013"`))
	d = openT(t, dir)
	if d.IndexResets() != 1 {
		t.Fatalf("resets %d", d.IndexResets())
	}
	ctx := context.Background()
	files := []string{d.shardPath("nullshard"), d.shardPath("part1"), d.shardPath("part3"), d.shardPath("part22")}
	if _, err := d.SweepOrphans(ctx, 0); !errors.Is(err, ErrSweepSkipped) || len(present(t, files...)) != len(files) {
		t.Fatalf("before the refill: %v, left %v", err, present(t, files...))
	}
	d.ResetsRefilled(d.IndexResets())
	if st, err := d.SweepOrphans(ctx, 0); err != nil || st.Removed != len(files) || len(present(t, files...)) != 0 {
		t.Fatalf("after the refill: %+v, %v, left %v", st, err, present(t, files...))
	}
}

// TestSweepContext: a cancelled sweep stops between fan-out folders.
func TestSweepContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var d *Drive
	folders := 0
	hook := &hookFS{onReadDir: func(name string) {
		if d != nil && filepath.Dir(name) == filepath.Join(d.dir, shardsDir) {
			if folders++; folders == 2 {
				cancel()
			}
		}
	}}
	var err error
	d, err = Open(t.TempDir(), Options{FS: hook, Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	var files []string
	for _, id := range []string{"aa1", "bb1", "cc1", "dd1", "ee1"} {
		files = append(files, orphan(t, d, id, 1))
	}
	time.Sleep(20 * time.Millisecond)

	pre, stop := context.WithCancel(context.Background())
	stop()
	if _, err := d.SweepOrphans(pre, 0); !errors.Is(err, context.Canceled) || len(present(t, files...)) != len(files) {
		t.Fatalf("cancelled before: %v, left %v", err, present(t, files...))
	}
	st, err := d.SweepOrphans(ctx, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled during: %+v, %v", st, err)
	}
	// The second folder was read when ctx ended; the third was not.
	if left := present(t, files...); st.Removed > 2 || len(left) != len(files)-st.Removed || len(left) < 3 {
		t.Fatalf("cancelled sweep: %+v, left %v", st, left)
	}
}

// TestSweepStopsOnReset: an index replaced while the sweep walks shards/
// stops it before it removes anything.
func TestSweepStopsOnReset(t *testing.T) {
	var d *Drive
	hook := &hookFS{onReadDir: func(name string) {
		if d != nil && name == filepath.Join(d.dir, shardsDir) && d.IndexResets() == 0 {
			_ = d.db.Update(func(*bolt.Tx) error { return fmt.Errorf("test: %w", ErrCorrupt) })
			waitResets(t, d, 1)
		}
	}}
	var err error
	d, err = Open(t.TempDir(), Options{FS: hook, Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	file := orphan(t, d, "lost1", 1)
	time.Sleep(20 * time.Millisecond)
	st, err := d.SweepOrphans(context.Background(), 0)
	if !errors.Is(err, ErrSweepSkipped) || st.Removed != 0 || len(present(t, file)) != 1 {
		t.Fatalf("sweep across a reset: %+v, %v, left %v", st, err, present(t, file))
	}
}

// hookFS is the OS file system with a hook run before each ReadDir.
type hookFS struct {
	OSFS
	onReadDir func(name string)
}

func (h *hookFS) ReadDir(name string) ([]fs.DirEntry, error) {
	h.onReadDir(name)
	return h.OSFS.ReadDir(name)
}
