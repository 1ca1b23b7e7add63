package drive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

// shardFile is where a committed shard lives (the layout is part of the
// on-disk format).
func shardFile(d *drive.Drive, dataDir string) string {
	return filepath.Join(d.Path(), "shards", dataDir[:2], dataDir)
}

// shardFiles lists the names of every file in the drive's shards/ fan-out
// folders and in tmp/: shards pending or committed, and leftovers.
func shardFiles(t *testing.T, d *drive.Drive) []string {
	t.Helper()
	var names []string
	dirs, err := filepath.Glob(filepath.Join(d.Path(), "shards", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range append(dirs, filepath.Join(d.Path(), "tmp")) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			names = append(names, e.Name())
		}
	}
	return names
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// put writes data as shard dataDir and commits fi naming it (with version
// id "v" when it has none).
func put(t *testing.T, d *drive.Drive, fi drive.FileInfo, data []byte) {
	t.Helper()
	ctx := context.Background()
	if fi.VersionID == "" {
		fi.VersionID = "v"
	}
	if fi.DataDir != "" {
		n, err := d.WriteShard(ctx, fi.DataDir, bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("WriteShard(%s) = %d, %v", fi.DataDir, n, err)
		}
	}
	if err := d.CommitVersion(ctx, fi); err != nil {
		t.Fatalf("CommitVersion(%s/%s): %v", fi.Bucket, fi.Key, err)
	}
}

func readShard(t *testing.T, d *drive.Drive, dataDir string, off, n int64) []byte {
	t.Helper()
	rc, err := d.OpenShard(context.Background(), dataDir, off, n)
	if err != nil {
		t.Fatalf("OpenShard(%s, %d, %d): %v", dataDir, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestWriteCommitRead(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	data := pattern(3<<20 + 17) // several copy buffers, not a multiple of any
	fi := drive.FileInfo{
		Bucket: "photos", Key: "2024/cat.jpg", VersionID: "v1", ModTime: 100,
		Size: int64(len(data)), ETag: "abc", Meta: map[string]string{"content-type": "image/jpeg"},
		K: 2, M: 2, BlockSize: 1 << 20, Shard: 3, DataDir: "0123456789abcdef",
	}
	if _, err := d.ReadVersion(ctx, fi.Bucket, fi.Key, drive.Ref{}); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("ReadVersion before commit = %v", err)
	}
	n, err := d.WriteShard(ctx, fi.DataDir, iotest.HalfReader(bytes.NewReader(data)))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("WriteShard = %d, %v", n, err)
	}
	if _, err := d.OpenShard(ctx, fi.DataDir, 0, -1); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("uncommitted shard visible: %v", err)
	}
	if err := d.CommitVersion(ctx, fi); err != nil {
		t.Fatal(err)
	}
	if got := shardFiles(t, d); !reflect.DeepEqual(got, []string{fi.DataDir}) || !exists(t, shardFile(d, fi.DataDir)) {
		t.Fatalf("files after commit: %v, want only %s in its fan-out folder", got, fi.DataDir)
	}
	got, err := d.ReadVersion(ctx, fi.Bucket, fi.Key, drive.Ref{})
	if err != nil || !reflect.DeepEqual(got, fi) {
		t.Fatalf("ReadVersion = %+v, %v; want %+v", got, err, fi)
	}
	size := int64(len(data))
	ranges := []struct{ off, n int64 }{
		{0, -1}, {0, size}, {0, 1}, {1, 10}, {1 << 20, 1 << 20}, {size - 5, -1}, {size - 5, 100}, {size, -1}, {size, 0}, {123, 0},
	}
	for _, r := range ranges {
		end := size
		if r.n >= 0 {
			end = min(r.off+r.n, size)
		}
		if b := readShard(t, d, fi.DataDir, r.off, r.n); !bytes.Equal(b, data[r.off:end]) {
			t.Errorf("OpenShard(%d, %d): %d bytes, want data[%d:%d]", r.off, r.n, len(b), r.off, end)
		}
	}
	for _, off := range []int64{-1, size + 1} {
		if _, err := d.OpenShard(ctx, fi.DataDir, off, 1); !errors.Is(err, drive.ErrBadRange) {
			t.Errorf("OpenShard(off %d) = %v, want ErrBadRange", off, err)
		}
	}
	if _, err := d.OpenShard(ctx, "nosuchshard", 0, -1); !errors.Is(err, drive.ErrNotFound) {
		t.Errorf("OpenShard(missing) = %v", err)
	}
}

// TestWriteShardSizes writes shards of sizes around the direct-I/O
// alignment and the copy buffer, read in odd pieces, with and without
// direct I/O, and reads each back whole.
func TestWriteShardSizes(t *testing.T) {
	ctx := context.Background()
	sizes := []int{0, 1, 2735, 4095, 4096, 4097, 174767, 256<<10 - 1, 256 << 10, 256<<10 + 1, 512 << 10, 1<<20 + 4096 + 3}
	for _, direct := range []bool{true, false} {
		ffs := drivetest.NewFaultFS(nil)
		if !direct {
			ffs.RefuseDirect()
		}
		d := drivetest.NewDrive(t, ffs)
		for i, size := range sizes {
			data := pattern(size)
			id := fmt.Sprintf("size%02d", i)
			// HalfReader: reads that end anywhere, never aligned for long.
			n, err := d.WriteShard(ctx, id, iotest.HalfReader(bytes.NewReader(data)))
			if err != nil || n != int64(size) {
				t.Fatalf("direct %v: WriteShard(%d bytes) = %d, %v", direct, size, n, err)
			}
			if err := d.CommitVersion(ctx, drive.FileInfo{Bucket: "b", Key: id, VersionID: "v", ModTime: 1, DataDir: id}); err != nil {
				t.Fatal(err)
			}
			if got := readShard(t, d, id, 0, -1); !bytes.Equal(got, data) {
				t.Fatalf("direct %v: shard of %d bytes reads back %d bytes, different", direct, size, len(got))
			}
		}
	}
}

func TestInlineAndTombstoneRecords(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	recs := []drive.FileInfo{
		{Bucket: "b", Key: "small", VersionID: "v1", ModTime: 1, Size: 3, Inline: []byte("abc"), Shard: 1},
		{Bucket: "b", Key: "empty", VersionID: "v1", ModTime: 1, Size: 0, Inline: []byte{}},
		{Bucket: "b", Key: "gone", VersionID: "v1", ModTime: 1, Deleted: true},
		{Bucket: "b", Key: strings.Repeat("k", 1024), VersionID: "v1", ModTime: 1, Inline: []byte{0, 1, 2}},
	}
	for _, fi := range recs {
		put(t, d, fi, nil)
		got, err := d.ReadVersion(ctx, fi.Bucket, fi.Key, drive.Ref{})
		if err != nil || !reflect.DeepEqual(got, fi) {
			t.Errorf("ReadVersion(%.20s) = %+v, %v; want %+v", fi.Key, got, err, fi)
		}
	}
}

// TestCommitOrdering: null versions replace each other in (ModTime,
// VersionID) order whatever the order of commits.
func TestCommitOrdering(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		first, then drive.FileInfo
		wantWinner  string // VersionID
	}{
		{"newer replaces", drive.FileInfo{VersionID: "a", ModTime: 1, DataDir: "d1"}, drive.FileInfo{VersionID: "b", ModTime: 2, DataDir: "d2"}, "b"},
		{"older ignored", drive.FileInfo{VersionID: "a", ModTime: 2, DataDir: "d1"}, drive.FileInfo{VersionID: "b", ModTime: 1, DataDir: "d2"}, "a"},
		{"tie: greater version wins (second)", drive.FileInfo{VersionID: "a", ModTime: 5, DataDir: "d1"}, drive.FileInfo{VersionID: "b", ModTime: 5, DataDir: "d2"}, "b"},
		{"tie: greater version wins (first)", drive.FileInfo{VersionID: "b", ModTime: 5, DataDir: "d1"}, drive.FileInfo{VersionID: "a", ModTime: 5, DataDir: "d2"}, "b"},
		{"tombstone replaces shard", drive.FileInfo{VersionID: "a", ModTime: 1, DataDir: "d1"}, drive.FileInfo{VersionID: "b", ModTime: 2, Deleted: true}, "b"},
		{"inline replaces shard", drive.FileInfo{VersionID: "a", ModTime: 1, DataDir: "d1"}, drive.FileInfo{VersionID: "b", ModTime: 2, Inline: []byte("x")}, "b"},
		{"older shard after inline ignored", drive.FileInfo{VersionID: "b", ModTime: 2, Inline: []byte("x")}, drive.FileInfo{VersionID: "a", ModTime: 1, DataDir: "d2"}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := drivetest.NewDrive(t, nil)
			for _, fi := range []*drive.FileInfo{&tc.first, &tc.then} {
				fi.Bucket, fi.Key, fi.Null = "b", "k", true
				put(t, d, *fi, []byte("data of "+fi.VersionID))
			}
			got, err := d.ReadVersion(ctx, "b", "k", drive.Ref{})
			if err != nil || got.VersionID != tc.wantWinner {
				t.Fatalf("current = %+v, %v; want version %s", got, err, tc.wantWinner)
			}
			loser := tc.first
			if tc.wantWinner == tc.first.VersionID {
				loser = tc.then
			}
			if got.DataDir != "" && !exists(t, shardFile(d, got.DataDir)) {
				t.Errorf("winner's shard %s missing", got.DataDir)
			}
			if loser.DataDir != "" && exists(t, shardFile(d, loser.DataDir)) {
				t.Errorf("loser's shard %s not removed", loser.DataDir)
			}
			for _, f := range shardFiles(t, d) {
				if f != got.DataDir {
					t.Errorf("file %s left beside the winner's", f)
				}
			}
		})
	}
}

func TestCommitRetryIsIdempotent(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1, DataDir: "dd01"}
	put(t, d, fi, []byte("hello"))
	if err := d.CommitVersion(context.Background(), fi); err != nil {
		t.Fatalf("retried commit: %v", err)
	}
	if b := readShard(t, d, "dd01", 0, -1); string(b) != "hello" {
		t.Fatalf("shard after retry = %q", b)
	}
	// A commit naming a shard that was never written fails, index unchanged.
	bad := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "w", ModTime: 2, DataDir: "never"}
	if err := d.CommitVersion(context.Background(), bad); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("commit of unwritten shard = %v", err)
	}
	if got, _ := d.ReadVersion(context.Background(), "b", "k", drive.Ref{}); got.VersionID != "v" {
		t.Fatalf("index changed: %+v", got)
	}
}

func TestWriteShardFaults(t *testing.T) {
	ctx := context.Background()
	data := pattern(1 << 20)
	cases := []struct {
		name string
		arm  func(*drivetest.FaultFS)
		r    io.Reader
		want error
	}{
		{"fsync fails", func(f *drivetest.FaultFS) { f.FailSync(1, nil) }, bytes.NewReader(data), drivetest.ErrInjected},
		{"torn write", func(f *drivetest.FaultFS) { f.TearWrites(func(string) bool { return true }) }, bytes.NewReader(data), drivetest.ErrInjected},
		{"create fails", func(f *drivetest.FaultFS) { f.FailOpen(func(string, int) bool { return true }) }, bytes.NewReader(data), drivetest.ErrInjected},
		{"reader fails", func(*drivetest.FaultFS) {}, iotest.TimeoutReader(bytes.NewReader(data)), iotest.ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ffs := drivetest.NewFaultFS(nil)
			d := drivetest.NewDrive(t, ffs)
			tc.arm(ffs)
			_, err := d.WriteShard(ctx, "shard01", tc.r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("WriteShard = %v, want %v", err, tc.want)
			}
			if left := shardFiles(t, d); len(left) != 0 {
				t.Fatalf("files left: %v", left)
			}
			if err := d.AbortShard(ctx, "shard01"); !errors.Is(err, drive.ErrNotFound) {
				t.Fatalf("AbortShard after the failed write = %v, want ErrNotFound", err)
			}
			ffs.Reset()
			// The same id can be written again after the failure.
			put(t, d, drive.FileInfo{Bucket: "b", Key: "k", ModTime: 1, DataDir: "shard01"}, data)
			if !bytes.Equal(readShard(t, d, "shard01", 0, -1), data) {
				t.Fatal("shard rewritten after a fault reads back wrong")
			}
		})
	}
}

func TestWriteShardContextCancel(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r := &cancelAfter{r: bytes.NewReader(pattern(4 << 20)), n: 2, cancel: cancel}
	if _, err := d.WriteShard(ctx, "cancelled", r); !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteShard = %v, want context.Canceled", err)
	}
	if left := shardFiles(t, d); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}

// cancelAfter cancels its context after n reads.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return c.r.Read(p)
}

// TestShardBeingWritten: while WriteShard runs, its half-written file
// cannot be committed, aborted, read or swept, nor written again; once it
// returned, it can be committed. A committed shard cannot be aborted.
func TestShardBeingWritten(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := d.WriteShard(ctx, "busy01", pr)
		done <- err
	}()
	if _, err := pw.Write(pattern(5000)); err != nil { // the write has begun
		t.Fatal(err)
	}
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1, DataDir: "busy01"}
	if err := d.CommitVersion(ctx, fi); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("commit of a shard being written = %v, want ErrNotFound", err)
	}
	if err := d.AbortShard(ctx, "busy01"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("abort of a shard being written = %v, want ErrNotFound", err)
	}
	if _, err := d.OpenShard(ctx, "busy01", 0, -1); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("open of a shard being written = %v, want ErrNotFound", err)
	}
	if _, err := d.WriteShard(ctx, "busy01", strings.NewReader("x")); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second write of a shard being written = %v, want ErrExist", err)
	}
	time.Sleep(20 * time.Millisecond) // past the coarse ctime clock
	if st, err := d.SweepOrphans(ctx, 0); err != nil || st.Removed != 0 || st.Pending != 1 {
		t.Fatalf("sweep during the write = %+v, %v; want it kept as pending", st, err)
	}
	if _, err := pw.Write(pattern(3000)); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := d.CommitVersion(ctx, fi); err != nil {
		t.Fatal(err)
	}
	if err := d.AbortShard(ctx, "busy01"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("abort of a committed shard = %v, want ErrNotFound", err)
	}
	want := append(pattern(5000), pattern(3000)...)
	if got := readShard(t, d, "busy01", 0, -1); !bytes.Equal(got, want) {
		t.Fatalf("shard reads back %d bytes, want %d", len(got), len(want))
	}
}

func TestWriteShardExclusive(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	if _, err := d.WriteShard(ctx, "dup", strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteShard(ctx, "dup", strings.NewReader("two")); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second WriteShard of the same id = %v, want ErrExist", err)
	}
}

func TestCommitTouchFailureKeepsIndex(t *testing.T) {
	ffs := drivetest.NewFaultFS(nil)
	d := drivetest.NewDrive(t, ffs)
	ctx := context.Background()
	old := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "old", ModTime: 1, DataDir: "old1"}
	put(t, d, old, []byte("old data"))

	ffs.FailChmod(func(name string) bool { return strings.HasSuffix(name, "/new1") })
	if _, err := d.WriteShard(ctx, "new1", strings.NewReader("new data")); err != nil {
		t.Fatal(err)
	}
	nu := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "new", ModTime: 2, DataDir: "new1"}
	if err := d.CommitVersion(ctx, nu); !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("CommitVersion = %v, want injected chmod error", err)
	}
	got, err := d.ReadVersion(ctx, "b", "k", drive.Ref{})
	if err != nil || got.VersionID != "old" {
		t.Fatalf("after failed commit: %+v, %v", got, err)
	}
	if string(readShard(t, d, "old1", 0, -1)) != "old data" {
		t.Fatal("old version unreadable")
	}
	// The shard is still pending, for the caller to abort.
	if _, err := d.OpenShard(ctx, "new1", 0, -1); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("shard of a failed commit readable: %v", err)
	}
	if err := d.AbortShard(ctx, "new1"); err != nil {
		t.Fatal(err)
	}
	if err := d.AbortShard(ctx, "new1"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("second AbortShard = %v, want ErrNotFound", err)
	}
	if exists(t, shardFile(d, "new1")) {
		t.Fatal("aborted shard file left")
	}
}

// TestWriteShardDirSyncFailure: a shard is written in its fan-out folder,
// which is fsync'd (and shards/ when the folder is new) before WriteShard
// returns; a failed folder fsync fails the write and leaves nothing.
func TestWriteShardDirSyncFailure(t *testing.T) {
	cases := []struct {
		name string
		dir  func(d *drive.Drive) string // the folder whose fsync fails
	}{
		{"shards root after creating the fan-out folder", func(d *drive.Drive) string { return filepath.Join(d.Path(), "shards") }},
		{"fan-out folder after the write", func(d *drive.Drive) string { return filepath.Join(d.Path(), "shards", "zz") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ffs := drivetest.NewFaultFS(nil)
			d := drivetest.NewDrive(t, ffs)
			ctx := context.Background()
			dir := tc.dir(d)
			ffs.FailSync(1, func(name string) bool { return name == dir })
			if _, err := d.WriteShard(ctx, "zz01", strings.NewReader("data")); !errors.Is(err, drivetest.ErrInjected) {
				t.Fatalf("WriteShard = %v, want injected fsync error", err)
			}
			if left := shardFiles(t, d); len(left) != 0 {
				t.Fatalf("files left: %v", left)
			}
			fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1, DataDir: "zz01"}
			if err := d.CommitVersion(ctx, fi); !errors.Is(err, drive.ErrNotFound) {
				t.Fatalf("commit of the failed write = %v, want ErrNotFound", err)
			}
			if _, err := d.ReadVersion(ctx, "b", "k", drive.Ref{}); !errors.Is(err, drive.ErrNotFound) {
				t.Fatalf("record visible after failed commit: %v", err)
			}
			// Nothing half-done: the write can be done again.
			put(t, d, fi, []byte("data"))
			if string(readShard(t, d, "zz01", 0, -1)) != "data" {
				t.Fatal("shard unreadable after retry")
			}
		})
	}
}

func TestAbortShard(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	if _, err := d.WriteShard(ctx, "ab01", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := d.AbortShard(ctx, "ab01"); err != nil {
		t.Fatal(err)
	}
	if left := shardFiles(t, d); len(left) != 0 {
		t.Fatalf("AbortShard left %v", left)
	}
	if err := d.CommitVersion(ctx, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1, DataDir: "ab01"}); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("commit of aborted shard = %v", err)
	}
	if err := d.AbortShard(ctx, "never"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("AbortShard(never written) = %v", err)
	}
}

// TestUncommittedShardsAfterReopen: a shard written and not committed
// when the drive closed is no longer pending once it reopens: AbortShard
// leaves it, a commit may still take it (its write completed), and the
// orphan sweep removes it otherwise. Open still empties tmp/.
func TestUncommittedShardsAfterReopen(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	for _, id := range []string{"orphan1", "late01"} {
		if _, err := d.WriteShard(ctx, id, strings.NewReader("x of "+id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d.Path(), "tmp", "left"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := drivetest.Open(t, d.Path(), nil)
	if exists(t, filepath.Join(d.Path(), "tmp", "left")) {
		t.Fatal("tmp/ not emptied by Open")
	}
	if err := d2.AbortShard(ctx, "orphan1"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("AbortShard after reopen = %v, want ErrNotFound", err)
	}
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v", ModTime: 1, DataDir: "late01"}
	if err := d2.CommitVersion(ctx, fi); err != nil {
		t.Fatalf("commit after reopen: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // past the coarse ctime clock
	st, err := d2.SweepOrphans(ctx, 0)
	if err != nil || st.Removed != 1 {
		t.Fatalf("sweep = %+v, %v; want orphan1 removed", st, err)
	}
	if got := shardFiles(t, d2); !reflect.DeepEqual(got, []string{"late01"}) {
		t.Fatalf("files after the sweep: %v, want [late01]", got)
	}
	if string(readShard(t, d2, "late01", 0, -1)) != "x of late01" {
		t.Fatal("shard committed after reopen reads back wrong")
	}
}

func TestBadNames(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	badIDs := []string{"", "../etc", "a/b", "a.b", ".", "..", strings.Repeat("a", 65), "sp ace", "é"}
	for _, id := range badIDs {
		if _, err := d.WriteShard(ctx, id, strings.NewReader("x")); !errors.Is(err, drive.ErrBadName) {
			t.Errorf("WriteShard(%q) = %v", id, err)
		}
		if err := d.AbortShard(ctx, id); !errors.Is(err, drive.ErrBadName) {
			t.Errorf("AbortShard(%q) = %v", id, err)
		}
		if _, err := d.OpenShard(ctx, id, 0, -1); !errors.Is(err, drive.ErrBadName) {
			t.Errorf("OpenShard(%q) = %v", id, err)
		}
		if id == "" {
			continue // an empty DataDir means "no shard file"
		}
		if err := d.CommitVersion(ctx, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v", DataDir: id}); !errors.Is(err, drive.ErrBadName) {
			t.Errorf("CommitVersion(DataDir %q) = %v", id, err)
		}
	}
	for _, id := range []string{"a", "A-z_09", strings.Repeat("f", 64)} {
		put(t, d, drive.FileInfo{Bucket: "ok", Key: id, ModTime: 1, DataDir: id}, []byte(id))
	}
	badRecs := []drive.FileInfo{
		{Bucket: "", Key: "k", VersionID: "v"},
		{Bucket: "b", Key: "", VersionID: "v"},
		{Bucket: "b", Key: strings.Repeat("k", 1025), VersionID: "v"},
		{Bucket: strings.Repeat("b", 1025), Key: "k", VersionID: "v"},
		{Bucket: "b", Key: "k"},
		{Bucket: "b", Key: "k", VersionID: strings.Repeat("v", 129)},
	}
	for _, fi := range badRecs {
		if err := d.CommitVersion(ctx, fi); !errors.Is(err, drive.ErrBadName) {
			t.Errorf("CommitVersion(%.10q/%.10q) = %v", fi.Bucket, fi.Key, err)
		}
		if fi.Bucket == "b" && fi.Key == "k" {
			continue // a bad version id: the names are fine for reading
		}
		if _, err := d.ReadVersion(ctx, fi.Bucket, fi.Key, drive.Ref{}); !errors.Is(err, drive.ErrBadName) {
			t.Errorf("ReadVersion(%.10q/%.10q) = %v", fi.Bucket, fi.Key, err)
		}
	}
	if _, _, err := d.List(ctx, "", drive.ListOptions{Prefix: "", Delimiter: "", After: "", Limit: 1}); !errors.Is(err, drive.ErrBadName) {
		t.Errorf("List(empty bucket) = %v", err)
	}
	if err := d.DropBucket(ctx, ""); !errors.Is(err, drive.ErrBadName) {
		t.Errorf("DropBucket(empty) = %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(d.Path())); len(ents) != 1 {
		t.Errorf("something was written outside the drive folder: %v", ents)
	}
}

func TestDropBucket(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	for _, b := range []string{"drop", "keep"} {
		put(t, d, drive.FileInfo{Bucket: b, Key: "big", ModTime: 1, DataDir: "dd" + b}, []byte("data"))
		put(t, d, drive.FileInfo{Bucket: b, Key: "small", ModTime: 1, Inline: []byte("x")}, nil)
		put(t, d, drive.FileInfo{Bucket: b, Key: "gone", ModTime: 1, Deleted: true}, nil)
	}
	if err := d.DropBucket(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	if exists(t, shardFile(d, "dddrop")) {
		t.Error("dropped bucket's shard still on disk")
	}
	if !exists(t, shardFile(d, "ddkeep")) {
		t.Error("other bucket's shard removed")
	}
	if _, err := d.ReadVersion(ctx, "drop", "small", drive.Ref{}); !errors.Is(err, drive.ErrNotFound) {
		t.Errorf("ReadVersion in dropped bucket = %v", err)
	}
	if ents, more, err := d.List(ctx, "drop", drive.ListOptions{Prefix: "", Delimiter: "", After: "", Limit: 10}); err != nil || len(ents) != 0 || more {
		t.Errorf("List of dropped bucket = %v, %v, %v", ents, more, err)
	}
	if ents, _, _ := d.List(ctx, "keep", drive.ListOptions{Prefix: "", Delimiter: "", After: "", Limit: 10}); len(ents) != 3 {
		t.Errorf("other bucket lists %d entries", len(ents))
	}
	if err := d.DropBucket(ctx, "drop"); err != nil {
		t.Errorf("dropping again: %v", err)
	}
	// The bucket can be used again.
	put(t, d, drive.FileInfo{Bucket: "drop", Key: "k", ModTime: 1, Inline: []byte("y")}, nil)
}

func TestReopenRetainsEverything(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	if err := d.Bind("c", "n"); err != nil {
		t.Fatal(err)
	}
	recs := []drive.FileInfo{
		{Bucket: "b1", Key: "a", VersionID: "1", ModTime: 1, Size: 5, DataDir: "r1", Meta: map[string]string{"x": "y"}},
		{Bucket: "b1", Key: "b", VersionID: "2", ModTime: 2, Size: 1, Inline: []byte("i")},
		{Bucket: "b2", Key: "c/d", VersionID: "3", ModTime: 3, Deleted: true},
	}
	for _, fi := range recs {
		put(t, d, fi, []byte("hello"))
	}
	id := d.ID()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := drivetest.Open(t, d.Path(), nil)
	if d2.ID() != id || d2.Format().ClusterID != "c" || d2.Format().NodeID != "n" {
		t.Fatalf("format after reopen: %+v", d2.Format())
	}
	for _, fi := range recs {
		got, err := d2.ReadVersion(context.Background(), fi.Bucket, fi.Key, drive.Ref{})
		if err != nil || !reflect.DeepEqual(got, fi) {
			t.Errorf("ReadVersion(%s/%s) = %+v, %v", fi.Bucket, fi.Key, got, err)
		}
	}
	if string(readShard(t, d2, "r1", 0, -1)) != "hello" {
		t.Error("shard lost across reopen")
	}
}
