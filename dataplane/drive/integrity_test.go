package drive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openT(t testing.TB, dir string) *Drive {
	t.Helper()
	d, err := Open(dir, Options{Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// fillIndex writes through the drive's API an index with every kind of
// entry: versions (inline, with shard files, null, delete markers, tags),
// keys with enough versions for branch pages and values large enough for
// overflow pages, an upload in progress with parts, a completed multipart
// object, and a version-1 record.
func fillIndex(t testing.TB, d *Drive) {
	t.Helper()
	ctx := context.Background()
	commit := func(fi FileInfo) {
		t.Helper()
		if err := d.CommitVersion(ctx, fi); err != nil {
			t.Fatal(err)
		}
	}
	shard := func(id string, size int) string {
		t.Helper()
		if _, err := d.WriteShard(ctx, id, bytes.NewReader(bytes.Repeat([]byte{'s'}, size))); err != nil {
			t.Fatal(err)
		}
		return id
	}
	for i := range 40 {
		commit(FileInfo{Bucket: "b1", Key: fmt.Sprintf("small/%03d", i), VersionID: fmt.Sprintf("v%03d", i), ModTime: int64(1000 + i),
			Size: int64(i * 100), ETag: fmt.Sprintf("%032x", i), K: 2, M: 2, BlockSize: 1 << 20, Shard: 1,
			Meta: map[string]string{"content-type": "text/plain"}, Inline: bytes.Repeat([]byte{byte(i)}, i*50)})
	}
	for i := range 3 {
		commit(FileInfo{Bucket: "b1", Key: fmt.Sprintf("big/%d", i), VersionID: fmt.Sprintf("big%d", i), ModTime: 5000, Size: 20000, K: 2, M: 2,
			BlockSize: 1 << 20, Inline: bytes.Repeat([]byte{0xa5, byte(i)}, 5000)}) // overflow pages
	}
	for i := range 120 {
		commit(FileInfo{Bucket: "b2", Key: "many", VersionID: fmt.Sprintf("m%04d", i), ModTime: int64(i), Size: 1, K: 2, M: 2, BlockSize: 1 << 20,
			Tags: map[string]string{"n": fmt.Sprint(i)}, Inline: []byte("x")}) // a key bucket of its own pages
	}
	commit(FileInfo{Bucket: "b2", Key: "null", VersionID: "n1", Null: true, ModTime: 7, K: 2, M: 2, BlockSize: 1 << 20, DataDir: shard("nullshard", 300)})
	commit(FileInfo{Bucket: "b2", Key: "null", VersionID: "dm", ModTime: 8, Deleted: true})
	if err := d.SetTags(ctx, "b2", "null", Ref{Null: true}, map[string]string{"t": "1"}, 9); err != nil {
		t.Fatal(err)
	}
	u := Upload{Bucket: "b2", Key: "mp", UploadID: "up1", Initiated: 3, K: 2, M: 2, BlockSize: 1 << 20, Shard: 1}
	if err := d.CreateUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		if err := d.CommitPart(ctx, u, Part{Number: n, Size: 10, ETag: fmt.Sprintf("%032x", n), DataDir: shard(fmt.Sprintf("part%d", n), 10)}); err != nil {
			t.Fatal(err)
		}
	}
	commit(FileInfo{Bucket: "b2", Key: "mp", VersionID: "mpv", ModTime: 11, Size: 20, K: 2, M: 2, BlockSize: 1 << 20, UploadID: "up1",
		Parts: []Part{{Number: 1, Size: 10, DataDir: "part1"}, {Number: 3, Size: 10, DataDir: "part3"}}})
	u2 := u
	u2.Key, u2.UploadID = "mp2", "up2"
	if err := d.CommitPart(ctx, u2, Part{Number: 2, Size: 5, DataDir: shard("part22", 5)}); err != nil {
		t.Fatal(err)
	}
	// A key written before versioning.
	js := []byte(`{"v":"old","t":1,"s":1,"k":2,"p":2,"b":1048576,"i":1}`)
	err := d.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketObjects).CreateBucketIfNotExists([]byte("b1"))
		if err != nil {
			return err
		}
		return b.Put([]byte("legacy"), append([]byte{recordV1, flagInline, byte(len(js))}, append(js, 'i')...))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dumpIndex returns everything the drive returns about its records, in a
// canonical text form; an error when any read fails.
func dumpIndex(d *Drive) (string, error) {
	ctx := context.Background()
	var out strings.Builder
	for _, b := range []string{"b1", "b2"} {
		ents, _, err := d.List(ctx, b, ListOptions{Limit: 100000, Versions: true})
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			fmt.Fprintf(&out, "list %s %+v\n", b, e)
			for _, v := range e.Versions {
				ref := RefOf(v)
				if v.Null {
					ref = Ref{Null: true}
				}
				fi, err := d.ReadVersion(ctx, b, e.Name, ref)
				if err != nil {
					return "", err
				}
				fmt.Fprintf(&out, "read %+v\n", fi)
			}
		}
		ups, _, err := d.ListUploads(ctx, b, ListOptions{Limit: 100000})
		if err != nil {
			return "", err
		}
		for _, e := range ups {
			for _, u := range e.Uploads {
				u2, parts, _, err := d.ReadUpload(ctx, b, e.Name, u.UploadID, 0, 0)
				if err != nil {
					return "", err
				}
				fmt.Fprintf(&out, "upload %+v %+v %+v\n", u, u2, parts)
			}
		}
	}
	return out.String(), nil
}

// copyDir copies a drive folder (files only, one level of subfolders deep
// is enough for the index tests: shards are not read).
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if e.IsDir() {
			return os.MkdirAll(dst, 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIndexCheckSoundIndex: the check accepts what bbolt writes, agrees
// with bbolt's own Tx.Check, and counts every record.
func TestIndexCheckSoundIndex(t *testing.T) {
	dir := t.TempDir()
	d := openT(t, dir)
	fillIndex(t, d)
	// Churn: removed versions and a dropped bucket leave free pages.
	for i := range 60 {
		if err := d.DeleteVersion(context.Background(), "b2", "many", Ref{ID: fmt.Sprintf("m%04d", i), ModTime: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.CommitVersion(context.Background(), FileInfo{Bucket: "b3", Key: "k", VersionID: "v", ModTime: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.DropBucket(context.Background(), "b3"); err != nil {
		t.Fatal(err)
	}
	err := d.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt's check: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	stats, err := checkMapped(context.Background(), f, int(st.Size()), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 40 small, 3 big, 60 of "many", 2 of "null", "mp", legacy; an upload
	// with 3 parts taken by "mp" (gone), upload up2 and its part.
	if want := int64(40 + 3 + 60 + 2 + 1 + 1 + 2); stats.records != want || stats.pages < 10 {
		t.Fatalf("check went through %+v, want %d records", stats, want)
	}
	d2 := openT(t, dir)
	if d2.IndexResets() != 0 {
		t.Fatal("a sound index was reset")
	}
}

// TestIndexBitFlips flips single bits all over an index file (of a stopped
// drive) and opens it: the damage is found at Open (the index is moved
// aside and a fresh one starts) or when a record is read (ErrCorrupt, and
// the index is replaced), or the flip hit bytes that do not matter (free
// pages, unused page space, bbolt's bucket sequence): then the drive
// returns exactly what it returned before. Never other data. (Once five
// flips went through Open's quarantine, flips Open's check finds are not
// opened any more, to keep the test short.)
func TestIndexBitFlips(t *testing.T) {
	base := t.TempDir()
	d := openT(t, base)
	fillIndex(t, d)
	want, err := dumpIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(base, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	// Flip bits in the pages bbolt uses (below the high water mark of the
	// newer meta page), a third of them in the first four (meta pages,
	// freelist, root).
	psize := int(ne.Uint32(index[bbPageHeader+8:]))
	meta := index[bbPageHeader:]
	if ne.Uint64(index[psize+bbPageHeader+48:]) > ne.Uint64(meta[48:]) {
		meta = index[psize+bbPageHeader:]
	}
	used := int(ne.Uint64(meta[40:])) * psize
	trials := 100
	if testing.Short() {
		trials = 50
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var atOpen, atRead, harmless int
	start := time.Now()
	for trial := range trials {
		pos := rng.IntN(used)
		if trial%3 == 0 {
			pos = rng.IntN(4 * psize)
		}
		bit := byte(1) << rng.IntN(8)
		bad := bytes.Clone(index)
		bad[pos] ^= bit
		if _, err := checkIndexFile(context.Background(), bad, nil); errors.Is(err, ErrCorrupt) && atOpen >= 5 {
			atOpen++ // found by Open's check (the first few go through Open)
			continue
		}
		dir := t.TempDir()
		copyDir(t, base, dir)
		if err := os.WriteFile(filepath.Join(dir, indexFile), bad, 0o640); err != nil {
			t.Fatal(err)
		}
		d, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("flip at %d: Open: %v", pos, err)
		}
		switch got, err := dumpIndex(d); {
		case d.IndexResets() == 1 && err == nil && got == "":
			atOpen++
			if m, _ := filepath.Glob(filepath.Join(dir, indexFile+".damaged-*")); len(m) != 1 {
				t.Fatalf("flip at %d: damaged index not kept: %v", pos, m)
			}
		case errors.Is(err, ErrCorrupt):
			atRead++
			waitResets(t, d, 1)
		case err != nil:
			t.Fatalf("flip at %d (bit %#x): %v", pos, bit, err)
		case got != want:
			t.Fatalf("flip at %d (bit %#x) changed what the drive returns:\n%s", pos, bit, diffLines(want, got))
		default:
			harmless++
		}
		_ = d.Close()
	}
	t.Logf("%d single-bit flips in the %d bytes used of a %d-byte index: %d found at Open, %d on read, %d harmless (%v)",
		trials, used, len(index), atOpen, atRead, harmless, time.Since(start).Round(time.Millisecond))
	if atOpen == 0 {
		t.Fatal("no flip found at Open")
	}
}

// waitResets waits until the drive replaced its index n times.
func waitResets(t testing.TB, d *Drive, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for d.IndexResets() < n {
		if time.Now().After(deadline) {
			t.Fatalf("index not replaced (resets %d, want %d)", d.IndexResets(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// diffLines returns the first lines where a and b differ.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n-%s\n+%s", i, x, y)
		}
	}
	return ""
}

// TestIndexDamagedAtOpen: an index whose record was altered is moved
// aside at Open and a fresh empty index keeps the drive's id; the reset is
// reported to OnIndexReset callbacks registered later, and the shard files
// stay.
func TestIndexDamagedAtOpen(t *testing.T) {
	dir := t.TempDir()
	d := openT(t, dir)
	id := d.ID()
	fillIndex(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, indexFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte(`"v":"v017"`))
	if at < 0 {
		t.Fatal("record not found in the file")
	}
	b[at+6] = '8' // v017 -> v018: still valid JSON, another version
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d, err = Open(dir, Options{Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.ID() != id || d.Formatted() || d.IndexResets() != 1 {
		t.Fatalf("after a damaged index: id %s (want %s), formatted %v, resets %d", d.ID(), id, d.Formatted(), d.IndexResets())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "small/017: checksum mismatch") {
		t.Fatalf("damage not logged at Error with its reason:\n%s", logs.String())
	}
	kept, _ := filepath.Glob(filepath.Join(dir, indexFile+".damaged-*"))
	if len(kept) != 1 {
		t.Fatalf("damaged index kept as %v", kept)
	}
	if old, err := os.ReadFile(kept[0]); err != nil || !bytes.Equal(old, b) {
		t.Fatalf("damaged index not kept as it was: %v", err)
	}
	if got, err := dumpIndex(d); err != nil || got != "" {
		t.Fatalf("fresh index holds %q, %v", got, err)
	}
	if _, err := os.Stat(d.shardPath("nullshard")); err != nil {
		t.Fatalf("shard file removed: %v", err)
	}
	var called atomic.Int32
	d.OnIndexReset(func() { called.Add(1) })
	if called.Load() != 1 {
		t.Fatal("callback not told of the reset at Open")
	}
	// The fresh index works, and is sound at the next Open.
	if err := d.CommitVersion(context.Background(), FileInfo{Bucket: "b1", Key: "k", VersionID: "v", ModTime: 1, Inline: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openT(t, dir)
	if fi, err := d.ReadVersion(context.Background(), "b1", "k", Ref{}); err != nil || string(fi.Inline) != "x" || d.IndexResets() != 0 {
		t.Fatalf("after reopen: %+v, %v, resets %d", fi, err, d.IndexResets())
	}
}

// TestIndexDamagedWhileOpen: a record damaged under a running drive is
// never returned: the read fails with ErrCorrupt, the drive refuses every
// index call while it replaces the index, then serves a fresh empty one
// and tells its OnIndexReset callbacks.
func TestIndexDamagedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	d := openT(t, dir)
	fillIndex(t, d)
	var called atomic.Int32
	d.OnIndexReset(func() { called.Add(1) })
	if called.Load() != 0 {
		t.Fatal("callback called without a reset")
	}
	path := filepath.Join(dir, indexFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, bytes.Repeat([]byte{0xa5, 1}, 100)) // inline bytes of big/1
	if at < 0 {
		t.Fatal("inline bytes not found")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt maps the file shared: the write is what the drive reads.
	if _, err := f.WriteAt([]byte{0xa4}, int64(at+50)); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	ctx := context.Background()
	// The header is intact (a listing does not read inline bytes)...
	if kv, err := d.ReadVersions(ctx, "b1", "big/0", Ref{}, 0); err != nil || len(kv.Versions) != 1 {
		t.Fatalf("another record: %+v, %v", kv, err)
	}
	// ...the damaged record's content is refused.
	if fi, err := d.ReadVersion(ctx, "b1", "big/1", Ref{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged record read: %d inline bytes, %v", len(fi.Inline), err)
	}
	waitResets(t, d, 1)
	if called.Load() != 1 {
		t.Fatalf("callback called %d times", called.Load())
	}
	if got, err := dumpIndex(d); err != nil || got != "" {
		t.Fatalf("fresh index holds %q, %v", got, err)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, indexFile+".damaged-*"))
	if len(kept) != 1 {
		t.Fatalf("damaged index kept as %v", kept)
	}
}

// TestIndexOfflineWhileDamaged: between the damage and the fresh index no
// call reaches the index, writes included (a write transaction that meets
// the damage is not committed).
func TestIndexOfflineWhileDamaged(t *testing.T) {
	d := openT(t, t.TempDir())
	fillIndex(t, d)
	ctx := context.Background()
	// Hold the index (a transaction in progress) so that the reset waits.
	hold, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = d.db.View(func(*bolt.Tx) error {
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	err := d.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketObjects).Bucket([]byte("b1")).Put([]byte("new"), []byte{recordV1}); err != nil {
			return err
		}
		return fmt.Errorf("test: %w", ErrCorrupt) // the transaction found damage
	})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
	if _, err := d.ReadVersion(ctx, "b1", "small/001", Ref{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("read while damaged: %v", err)
	}
	if err := d.CommitVersion(ctx, FileInfo{Bucket: "b1", Key: "k", VersionID: "v", ModTime: 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("write while damaged: %v", err)
	}
	close(hold)
	waitResets(t, d, 1)
	if _, err := d.ReadVersion(ctx, "b1", "small/001", Ref{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read after the reset: %v", err)
	}
}

// TestIndexPanics: a panic raised inside bbolt during a read or a write
// transaction is recovered (the node keeps running), the index is treated
// as damaged and replaced; a panic of the drive's own code is not hidden.
func TestIndexPanics(t *testing.T) {
	for _, write := range []bool{false, true} {
		t.Run(fmt.Sprintf("write=%v", write), func(t *testing.T) {
			d := openT(t, t.TempDir())
			fillIndex(t, d)
			run := d.db.View
			if write {
				run = d.db.Update
			}
			// A managed transaction may not be rolled back or committed
			// by hand: bbolt panics.
			err := run(func(tx *bolt.Tx) error {
				if write {
					_ = tx.Commit()
				}
				_ = tx.Rollback()
				return nil
			})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "bbolt panicked") {
				t.Fatalf("bbolt panic: %v", err)
			}
			waitResets(t, d, 1)
			if err := d.CommitVersion(context.Background(), FileInfo{Bucket: "b1", Key: "k", VersionID: "v", ModTime: 1}); err != nil {
				t.Fatalf("write after the reset: %v", err)
			}
			func() {
				defer func() {
					if r := recover(); r != "ours" {
						t.Fatalf("recovered %v", r)
					}
				}()
				_ = run(func(*bolt.Tx) error { panic("ours") })
			}()
			if d.IndexResets() != 1 || d.offline() != nil {
				t.Fatal("a panic of our own code was taken for a damaged index")
			}
		})
	}
}

// TestIndexFault: a fault on the mapped index file (here: the file cut
// short under a running drive) becomes ErrCorrupt, not a crash.
//
// Cut after the meta pages, the fault happens inside the transaction and
// bbolt unwinds it; cut inside them, it happens while bbolt begins the
// transaction, holding its own lock: the old index cannot be closed and is
// abandoned (closeWait), and the drive carries on with a fresh one.
func TestIndexFault(t *testing.T) {
	for _, cut := range []int64{3 * 4096, 4096} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			d := openT(t, dir)
			d.closeWait = 100 * time.Millisecond
			fillIndex(t, d)
			if err := os.Truncate(filepath.Join(dir, indexFile), cut); err != nil {
				t.Fatal(err)
			}
			_, err := d.ReadVersion(context.Background(), "b2", "many", Ref{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read of a cut index: %v", err)
			}
			waitResets(t, d, 1)
			if _, err := d.ReadVersion(context.Background(), "b2", "many", Ref{}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("after the reset: %v", err)
			}
		})
	}
}

// buildIndex writes an index of records versions of as many keys, of
// inline objects of inline bytes per shard, in large transactions.
func buildIndex(tb testing.TB, dir string, records, inline int) {
	d, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	data := bytes.Repeat([]byte{7}, inline)
	for at := 0; at < records; at += 10000 {
		err := d.db.Update(func(tx *bolt.Tx) error {
			for i := at; i < min(at+10000, records); i++ {
				fi := FileInfo{Bucket: "bench", Key: fmt.Sprintf("dir%03d/object-%08d", i%100, i), VersionID: fmt.Sprintf("%026d", i), ModTime: int64(1e18) + int64(i),
					Size: int64(2 * inline), ETag: fmt.Sprintf("%032x", i), K: 2, M: 2, BlockSize: 1 << 20, Shard: 1,
					Meta: map[string]string{"content-type": "application/octet-stream"}, Inline: data}
				kb, err := d.openKeyForWrite(tx, fi.Bucket, fi.Key)
				if err != nil {
					return err
				}
				v, err := encodeRecord(fi)
				if err != nil {
					return err
				}
				if err := kb.Put(versionKey(fi.ModTime, fi.VersionID), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkIndexCheck measures the check of Open on an index of
// STRATA_INDEX_RECORDS versions (default 100,000) of inline objects of
// STRATA_INDEX_INLINE bytes per shard (default 1024), against bbolt's own
// Tx.Check plus a walk that decodes every record.
func BenchmarkIndexCheck(b *testing.B) {
	records, inline := 100000, 1024
	if v := os.Getenv("STRATA_INDEX_RECORDS"); v != "" {
		fmt.Sscan(v, &records)
	}
	if v := os.Getenv("STRATA_INDEX_INLINE"); v != "" {
		fmt.Sscan(v, &inline)
	}
	dir := b.TempDir()
	buildIndex(b, dir, records, inline)
	path := filepath.Join(dir, indexFile)
	st, _ := os.Stat(path)
	b.Run("check", func(b *testing.B) {
		for range b.N {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			stats, err := checkMapped(context.Background(), f, int(st.Size()), nil)
			_ = f.Close()
			if err != nil || stats.records != int64(records) {
				b.Fatalf("%+v, %v", stats, err)
			}
		}
		b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
	})
	b.Run("bbolt-check-and-decode", func(b *testing.B) {
		db, err := bolt.Open(path, filePerm, &bolt.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ResetTimer()
		for range b.N {
			err := db.View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					return err
				}
				n := 0
				err := tx.Bucket(bucketObjects).Bucket([]byte("bench")).ForEachBucket(func(k []byte) error {
					kb := tx.Bucket(bucketObjects).Bucket([]byte("bench")).Bucket(k)
					return kb.ForEach(func(vk, v []byte) error {
						n++
						_, err := decodeRecord("bench", string(k), v, decodeAll)
						return err
					})
				})
				if n != records {
					return fmt.Errorf("%d records", n)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestIndexCleanShutdown: Close leaves a clean mark, which Open removes;
// after a clean shutdown a large index (here: any, checkBelow 1) is
// checked in the background once the drive is open, after an unclean one
// at Open. Both find the same damage.
func TestIndexCleanShutdown(t *testing.T) {
	base := t.TempDir()
	d := openT(t, base)
	fillIndex(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, cleanFile)); err != nil {
		t.Fatalf("no clean mark after Close: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(base, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte(`"v":"v021"`))
	if at < 0 {
		t.Fatal("record not found")
	}
	b[at+7] ^= 1 // v021 -> v031... still JSON
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprintf("clean=%v", clean), func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, base, dir)
			if err := os.WriteFile(filepath.Join(dir, indexFile), b, 0o640); err != nil {
				t.Fatal(err)
			}
			if !clean {
				if err := os.Remove(filepath.Join(dir, cleanFile)); err != nil {
					t.Fatal(err)
				}
			}
			d, err := Open(dir, Options{Logger: testLog(t), checkBelow: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := os.Stat(filepath.Join(dir, cleanFile)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("clean mark still there after Open: %v", err)
			}
			if got := d.IndexResets(); clean && got != 0 || !clean && got != 1 {
				t.Fatalf("resets at Open: %d", got)
			}
			waitResets(t, d, 1) // the background check finds it
			if got, err := dumpIndex(d); err != nil || got != "" {
				t.Fatalf("fresh index holds %q, %v", got, err)
			}
		})
	}
	// A sound index checked in the background is marked clean again; one
	// whose check did not finish is not.
	d = openT(t, base) // the original, sound
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(base, Options{Logger: testLog(t), checkBelow: 1})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !d.verified.Load() {
		if time.Now().After(deadline) {
			t.Fatal("background check did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, cleanFile)); err != nil {
		t.Fatalf("no clean mark after a checked run: %v", err)
	}
}

// TestIndexLiveCheckUnderWrites: the background check of an open index
// finds nothing wrong while writers commit, delete and move the pages
// around (bbolt rewrites meta and free pages meanwhile), and finds a
// damaged record.
func TestIndexLiveCheckUnderWrites(t *testing.T) {
	dir := t.TempDir()
	d := openT(t, dir)
	fillIndex(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	var writes atomic.Int64
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("w%d/%d", w, i%50)
				fi := FileInfo{Bucket: "b3", Key: key, VersionID: fmt.Sprintf("v%d", i), ModTime: int64(i), Null: true, K: 2, M: 2, BlockSize: 1 << 20,
					Inline: bytes.Repeat([]byte{byte(i)}, 100+i%3000)}
				if err := d.CommitVersion(ctx, fi); err != nil && ctx.Err() == nil {
					t.Errorf("commit: %v", err)
					return
				}
				writes.Add(1)
			}
		}()
	}
	checks := 0
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) || checks < 5; checks++ {
		if _, err := d.checkLive(context.Background()); err != nil {
			cancel()
			t.Fatalf("live check %d under writes: %v", checks, err)
		}
	}
	cancel()
	for range 4 {
		<-done
	}
	t.Logf("%d live checks during %d writes", checks, writes.Load())
	if d.IndexResets() != 0 || writes.Load() == 0 {
		t.Fatalf("resets %d, writes %d", d.IndexResets(), writes.Load())
	}
	// At rest, the freelist accounts for every page the churn freed.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, indexFile))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	_, err = checkMapped(context.Background(), f, int(st.Size()), nil)
	_ = f.Close()
	if err != nil {
		t.Fatalf("check at rest after the churn: %v", err)
	}
	d = openT(t, dir)
	damageAt(t, filepath.Join(dir, indexFile), []byte(`"v":"v013"`))
	if _, err := d.checkLive(context.Background()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("live check of a damaged index: %v", err)
	}
	waitResets(t, d, 1)
}

// damageAt flips a bit in every copy of pat in the file at path (written
// in place: bbolt's mapping sees it).
func damageAt(t testing.TB, path string, pat []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for at := 0; ; {
		i := bytes.Index(b[at:], pat)
		if i < 0 {
			break
		}
		pos := at + i + len(pat) - 2
		if _, err := f.WriteAt([]byte{b[pos] ^ 1}, int64(pos)); err != nil {
			t.Fatal(err)
		}
		n++
		at = pos
	}
	if n == 0 {
		t.Fatalf("%q not found", pat)
	}
}
