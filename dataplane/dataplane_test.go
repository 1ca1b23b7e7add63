package dataplane

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

func TestRoundTrip(t *testing.T) {
	e := newEnv(t, 2, 2)
	sizes := []int64{0, 1, 100 << 10, 128 << 10, 128<<10 + 1, 1<<20 + 1, 8 << 20, 64 << 20}
	if testing.Short() {
		sizes = sizes[:len(sizes)-1]
	}
	for i, size := range sizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("obj-%d", size)
			h := sha256.New()
			info, err := e.store.PutObject(context.Background(), "b", key, io.TeeReader(genReader(uint64(i), size), h), size, PutOptions{Meta: map[string]string{"content-type": "x/y"}})
			if err != nil {
				t.Fatal(err)
			}
			want := h.Sum(nil)
			m := md5.New()
			_, _ = io.Copy(m, genReader(uint64(i), size))
			if info.ETag != fmt.Sprintf("%x", m.Sum(nil)) || info.Size != size {
				t.Fatalf("info = %+v", info)
			}
			o, err := e.store.GetObject(context.Background(), "b", key, GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if o.Info.VersionID != info.VersionID || o.Info.ETag != info.ETag || o.Info.Size != size || o.Info.Meta["content-type"] != "x/y" {
				t.Fatalf("get info %+v, put info %+v", o.Info, info)
			}
			if !o.Info.ModTime.Equal(info.ModTime) {
				t.Fatalf("mod time %v != %v", o.Info.ModTime, info.ModTime)
			}
			r, err := o.NewReader(context.Background(), 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			h2 := sha256.New()
			n, err := io.Copy(h2, r)
			if err != nil {
				t.Fatal(err)
			}
			_ = r.Close()
			if n != size || !bytes.Equal(h2.Sum(nil), want) {
				t.Fatalf("read %d bytes, sha mismatch=%v", n, !bytes.Equal(h2.Sum(nil), want))
			}
			hi, err := e.store.HeadObject(context.Background(), "b", key, GetOptions{})
			if err != nil || hi.VersionID != info.VersionID {
				t.Fatalf("head: %+v %v", hi, err)
			}
		})
	}
}

func TestRoundTripLayouts(t *testing.T) {
	for _, c := range []struct{ k, m int }{{1, 1}, {2, 1}, {3, 2}, {4, 2}} {
		t.Run(fmt.Sprintf("%d+%d", c.k, c.m), func(t *testing.T) {
			e := newEnv(t, c.k, c.m)
			for _, size := range []int64{1, 1000, 200 << 10, 3<<20 + 7} {
				data := randBytes(uint64(size), size)
				e.put("b", fmt.Sprint(size), data)
				e.mustRead("b", fmt.Sprint(size), data)
			}
		})
	}
}

func TestRanges(t *testing.T) {
	e := newEnv(t, 2, 2)
	const bs = 1 << 20
	big := randBytes(1, 3*bs+12345)
	small := randBytes(2, 100<<10)
	e.put("b", "big", big)
	e.put("b", "small", small)
	for _, obj := range []struct {
		key  string
		data []byte
	}{{"big", big}, {"small", small}} {
		size := int64(len(obj.data))
		ranges := [][2]int64{
			{0, 1}, {size - 1, 1}, {0, -1}, {0, size}, {size - 1, -1}, {size, -1}, {10, 100},
			{bs - 1, 2}, {bs - 10, bs + 20}, {bs, bs}, {2*bs + 5, 3}, {3*bs + 1, 100}, {3 * bs, -1},
			{5, size + 100}, {size / 2, size / 3},
		}
		for _, rg := range ranges {
			off, n := rg[0], rg[1]
			if off > size {
				continue
			}
			end := size
			if n >= 0 && off+n < size {
				end = off + n
			}
			got, err := e.read("b", obj.key, off, n)
			if err != nil {
				t.Fatalf("%s range %d+%d: %v", obj.key, off, n, err)
			}
			if !bytes.Equal(got, obj.data[off:end]) {
				t.Fatalf("%s range %d+%d: got %d bytes, want %d", obj.key, off, n, len(got), end-off)
			}
		}
		if _, err := e.read("b", obj.key, size+1, 1); !errors.Is(err, ErrInvalidRange) {
			t.Fatalf("offset past end: %v", err)
		}
	}
}

// TestReadSmallBuffers reads through tiny and odd-sized buffers.
func TestReadSmallBuffers(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(3, 2<<20+333)
	e.put("b", "k", data)
	o, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := o.NewReader(context.Background(), 7, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := iotest.TestReader(r, data[7:]); err != nil {
		t.Fatal(err)
	}
}

func TestDegradedReads(t *testing.T) {
	for _, size := range []int64{100 << 10, 5<<20 + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			e := newEnv(t, 2, 2)
			data := randBytes(4, size)
			e.put("b", "k", data)
			pd := e.pgDrives("b", "k")
			// One drive, then M drives down (data shards first: forces reconstruction).
			pd[0].down.Store(true)
			e.mustRead("b", "k", data)
			pd[1].down.Store(true)
			e.mustRead("b", "k", data)
			off := min(size/2, 1<<20-3)
			got, err := e.read("b", "k", off, 10)
			if err != nil || !bytes.Equal(got, data[off:off+10]) {
				t.Fatalf("degraded range: %v", err)
			}
			// M+1 down: a retryable quorum error, never a false not-found.
			pd[2].down.Store(true)
			_, err = e.read("b", "k", 0, -1)
			var qe *QuorumError
			if !errors.As(err, &qe) {
				t.Fatalf("3 of 4 drives down: %v, want *QuorumError", err)
			}
			for _, d := range pd {
				d.down.Store(false)
			}
			e.mustRead("b", "k", data)
		})
	}
}

// TestDriveDownDuringRead takes drives down after the version was resolved.
func TestDriveDownDuringRead(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(5, 3<<20)
	e.put("b", "k", data)
	pd := e.pgDrives("b", "k")
	o, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pd[0].down.Store(true)
	pd[3].down.Store(true)
	r, err := o.NewReader(context.Background(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	_ = r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with drives gone after resolve: %v", err)
	}
}

func TestCorruptShards(t *testing.T) {
	for _, size := range []int64{64 << 10, 3<<20 + 5} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			e := newEnv(t, 2, 2)
			data := randBytes(6, size)
			e.put("b", "k", data)
			pd := e.pgDrives("b", "k")
			o, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			lay := o.parts[0].lay
			blk := lay.blocks() - 1 // a byte in the last block's shard
			at := lay.shardOffset(blk) + crcLen + lay.shardBlockLen(blk)/2
			corruptShard(t, o, pd[0], 0, at)
			e.mustRead("b", "k", data)
			corruptShard(t, o, pd[2], 2, at)
			e.mustRead("b", "k", data) // 2 good shards left: still exact
			corruptShard(t, o, pd[1], 1, at)
			got, err := e.read("b", "k", 0, -1)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("3 corrupt shards: err %v, %d bytes", err, len(got))
			}
			// The bytes before the corrupt block are still served exactly
			// (a reader never returns unverified bytes).
			if !bytes.Equal(got, data[:len(got)]) || int64(len(got)) > blk*lay.blockSize {
				t.Fatalf("returned %d bytes before the corrupt block at %d", len(got), blk*lay.blockSize)
			}
		})
	}
}

// corruptShard flips one byte of shard idx at shard offset at: in the shard
// file, or in the inline record.
func corruptShard(t *testing.T, o *Object, d *faultDrive, idx int, at int64) {
	t.Helper()
	if o.parts[0].dataDir == "" {
		// Inline: rewrite the record with one flipped byte.
		kv, err := d.ReadVersions(context.Background(), o.Info.Bucket, o.Info.Key, drive.Ref{}, 1)
		if err != nil || kv.Target == nil {
			t.Fatal(err)
		}
		fi := *kv.Target
		fi.Inline[at] ^= 0x5a
		if err := d.localDrive.CommitVersion(context.Background(), fi); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !flipFileByte(t, d.path, o.parts[0].dataDir, at) {
		t.Fatalf("no shard file %s on drive %s", o.parts[0].dataDir, d.id)
	}
}

// fault is one way a drive fails a write.
type fault int

const (
	faultDown   fault = iota // unreachable
	faultWrites              // reachable, WriteShard fails
	faultBoth                // reachable, WriteShard and CommitVersion fail
)

func (f fault) apply(d *faultDrive) {
	switch f {
	case faultDown:
		d.down.Store(true)
	case faultWrites:
		d.failWrites.Store(true)
	case faultBoth:
		d.failWrites.Store(true)
		d.failCommits.Store(true)
	}
}

func heal(ds []*faultDrive) {
	for _, d := range ds {
		d.down.Store(false)
		d.failWrites.Store(false)
		d.failCommits.Store(false)
	}
}

// TestWriteQuorum: a PUT with M failing drives is acknowledged and readable;
// with M+1 failing it is refused with a *QuorumError and the previous version
// stays readable. Inline objects have no shard write, so only unreachable
// drives (found by the probe) are ruled out before the commit. Not covered,
// by design of the drive contract: a drive that accepts everything but fails
// its commit while M others are down; the commit then replaces the previous
// record on fewer than K drives (see the package report).
func TestWriteQuorum(t *testing.T) {
	cases := []struct {
		name   string
		size   int64
		faults []fault // applied to PG drives 1, 4, 5
	}{
		{"inline-down", 10 << 10, []fault{faultDown, faultDown, faultDown}},
		{"stream-down", 3 << 20, []fault{faultDown, faultDown, faultDown}},
		{"stream-writes", 3 << 20, []fault{faultWrites, faultBoth, faultWrites}},
		{"stream-mixed", 3 << 20, []fault{faultBoth, faultDown, faultWrites}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 4, 2) // quorum 4 of 6
			old := randBytes(7, c.size)
			e.put("b", "k", old)
			pd := e.pgDrives("b", "k")
			// M drives failing: accepted and readable.
			c.faults[0].apply(pd[1])
			c.faults[1].apply(pd[4])
			v2 := randBytes(8, c.size)
			e.put("b", "k", v2)
			e.mustRead("b", "k", v2)
			// M+1 failing: refused, and the previous version stays readable.
			c.faults[2].apply(pd[5])
			v3 := randBytes(9, c.size)
			_, err := e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(v3), c.size, PutOptions{})
			var qe *QuorumError
			if !errors.As(err, &qe) || qe.Need != 4 {
				t.Fatalf("put with 3 of 6 drives failing: %v", err)
			}
			down := 0
			for _, d := range pd {
				if d.down.Load() {
					down++
				}
			}
			if len(pd)-down >= 4 {
				e.mustRead("b", "k", v2)
			}
			heal(pd)
			e.mustRead("b", "k", v2)
		})
	}
}

// TestWriteQuorumEqualKM checks the K+1 quorum when K == M.
func TestWriteQuorumEqualKM(t *testing.T) {
	e := newEnv(t, 2, 2)
	pd := e.pgDrives("b", "k")
	pd[0].down.Store(true)
	data := randBytes(10, 2<<20)
	e.put("b", "k", data) // 3 of 4
	pd[3].down.Store(true)
	_, err := e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(data), int64(len(data)), PutOptions{})
	var qe *QuorumError
	if !errors.As(err, &qe) || qe.Need != 3 || qe.Have != 2 {
		t.Fatalf("put on 2 of 4 drives with 2+2: %v", err)
	}
	_, err = e.store.DeleteObject(context.Background(), "b", "k", DeleteOptions{})
	if !errors.As(err, &qe) {
		t.Fatalf("delete on 2 of 4 drives with 2+2: %v", err)
	}
}

func TestIncompleteBody(t *testing.T) {
	for _, size := range []int64{1000, 3 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			e := newEnv(t, 2, 2)
			data := randBytes(11, size)
			_, err := e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(data[:size-1]), size, PutOptions{})
			if !errors.Is(err, ErrIncompleteBody) {
				t.Fatalf("short body: %v", err)
			}
			if _, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("after short body: %v", err)
			}
			// Overwrite attempt with a short body leaves the old version.
			e.put("b", "k", data)
			_, err = e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(data[:10]), size, PutOptions{})
			if !errors.Is(err, ErrIncompleteBody) {
				t.Fatalf("short body: %v", err)
			}
			e.mustRead("b", "k", data)
			// A reader error is returned wrapped.
			boom := errors.New("boom")
			_, err = e.store.PutObject(context.Background(), "b", "k2", io.MultiReader(bytes.NewReader(data[:size/2]), iotest.ErrReader(boom)), size, PutOptions{})
			if !errors.Is(err, boom) {
				t.Fatalf("reader error: %v", err)
			}
			if _, err := e.store.GetObject(context.Background(), "b", "k2", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("after reader error: %v", err)
			}
		})
	}
}

func TestBadDigest(t *testing.T) {
	for _, size := range []int64{1000, 3 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			e := newEnv(t, 2, 2)
			data := randBytes(12, size)
			sum := md5.Sum(data)
			bad := sum
			bad[0] ^= 1
			_, err := e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(data), size, PutOptions{ContentMD5: bad[:]})
			if !errors.Is(err, ErrBadDigest) {
				t.Fatalf("bad digest: %v", err)
			}
			if _, err := e.store.HeadObject(context.Background(), "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
				t.Fatalf("after bad digest: %v", err)
			}
			info, err := e.store.PutObject(context.Background(), "b", "k", bytes.NewReader(data), size, PutOptions{ContentMD5: sum[:]})
			if err != nil || info.ETag != fmt.Sprintf("%x", sum) {
				t.Fatalf("good digest: %+v %v", info, err)
			}
		})
	}
}

func TestOverwriteAndDelete(t *testing.T) {
	e := newEnv(t, 2, 2)
	ctx := context.Background()
	sizes := []int64{5, 300 << 10, 2 << 20, 10}
	var last []byte
	for i, size := range sizes {
		last = randBytes(uint64(20+i), size)
		e.put("b", "k", last)
		e.mustRead("b", "k", last)
	}
	if _, err := e.store.DeleteObject(ctx, "b", "k", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.GetObject(ctx, "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := e.store.HeadObject(ctx, "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("head after delete: %v", err)
	}
	if _, err := e.store.DeleteObject(ctx, "b", "missing", DeleteOptions{}); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
	e.put("b", "k", last)
	e.mustRead("b", "k", last)
	if _, err := e.store.GetObject(ctx, "other", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("other bucket: %v", err)
	}
}

func TestNoPlacement(t *testing.T) {
	e := newEnv(t, 2, 2)
	e.topo.mu.Lock()
	e.topo.st.Placement.Epoch = 0
	e.topo.mu.Unlock()
	ctx := context.Background()
	if _, err := e.store.PutObject(ctx, "b", "k", bytes.NewReader(nil), 0, PutOptions{}); !errors.Is(err, ErrNoPlacement) {
		t.Fatalf("put: %v", err)
	}
	if _, err := e.store.GetObject(ctx, "b", "k", GetOptions{}); !errors.Is(err, ErrNoPlacement) {
		t.Fatalf("get: %v", err)
	}
	if _, err := e.store.ListObjects(ctx, "b", ListOptions{}); !errors.Is(err, ErrNoPlacement) {
		t.Fatalf("list: %v", err)
	}
}

func TestDropBucket(t *testing.T) {
	e := newEnv(t, 2, 2)
	ctx := context.Background()
	for i := range 20 {
		e.put("gone", fmt.Sprint(i), randBytes(uint64(i), int64(i*50000)))
	}
	e.put("kept", "k", []byte("x"))
	if err := e.store.DropBucket(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	res, err := e.store.ListObjects(ctx, "gone", ListOptions{Max: 1000})
	if err != nil || len(res.Objects) != 0 {
		t.Fatalf("list after drop: %+v %v", res, err)
	}
	if _, err := e.store.GetObject(ctx, "gone", "3", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("get after drop: %v", err)
	}
	e.mustRead("kept", "k", []byte("x"))
}

func TestContextCanceled(t *testing.T) {
	e := newEnv(t, 2, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := randBytes(1, 3<<20)
	if _, err := e.store.PutObject(ctx, "b", "k", bytes.NewReader(data), int64(len(data)), PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with canceled ctx: %v", err)
	}
	if _, err := e.store.GetObject(context.Background(), "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("after canceled put: %v", err)
	}
}

// TestSlowDrive: a drive that never answers does not hold a read for the
// whole MetaTimeout once the other drives decide the version; the object is
// read around it.
func TestSlowDrive(t *testing.T) {
	e := newEnv(t, 2, 2)
	e.store.cfg.MetaTimeout = time.Hour
	data := randBytes(30, 2<<20)
	e.put("b", "k", data)
	e.pgDrives("b", "k")[0].hang.Store(true)
	done := make(chan error, 1)
	go func() {
		got, err := e.read("b", "k", 0, -1)
		if err == nil && !bytes.Equal(got, data) {
			err = errors.New("wrong bytes")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("read waited for the hanging drive")
	}
	// Not found is decided the same way.
	go func() {
		_, err := e.store.HeadObject(context.Background(), "b", "missing", GetOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrObjectNotFound) {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("head waited for the hanging drive")
	}
}

// TestStalledDrive: a drive that stops taking or giving shard data is
// dropped after StallTimeout; the write and the read go on with the others.
func TestStalledDrive(t *testing.T) {
	e := newEnv(t, 2, 2)
	e.store.cfg.StallTimeout = 200 * time.Millisecond
	pd := e.pgDrives("b", "k")
	pd[1].stall.Store(true)
	data := randBytes(31, 3<<20+1)
	e.put("b", "k", data) // 3 of 4 stored
	pd[1].stall.Store(false)
	e.mustRead("b", "k", data)
	pd[0].stall.Store(true) // a data shard stream stalls mid-read
	e.mustRead("b", "k", data)
	pd[2].stall.Store(true)
	_, err := e.read("b", "k", 0, -1)
	var qe *QuorumError
	if !errors.As(err, &qe) {
		t.Fatalf("two stalled drives and one without the version: %v", err)
	}
}

// TestSilentDrive: a drive that answers nothing at all (the drives of a
// paused node, whose connections stay open) does not hold writes for
// MetaTimeout or StallTimeout: locks, streamed and inline PUTs, overwrites,
// multipart parts and deletes complete on the quorum after the straggler
// grace, and the objects read back.
func TestSilentDrive(t *testing.T) {
	e := newEnv(t, 2, 2)
	e.store.cfg.MetaTimeout = time.Hour
	e.store.cfg.StallTimeout = time.Hour
	e.store.cfg.LockTTL = time.Hour
	e.store.cfg.WriteStragglerWait = 100 * time.Millisecond // keeps the test short: graces of 0.1-1 s
	big, small := randBytes(40, 3<<20+7), randBytes(41, 1000)
	e.put("b", "k", big)
	e.pgDrives("b", "k")[1].silent.Store(true)
	within := func(what string, fn func()) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			fn()
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s waited for the silent drive", what)
		}
	}
	within("streamed overwrite", func() { e.put("b", "k", big[:2<<20]) })
	within("read", func() { e.mustRead("b", "k", big[:2<<20]) })
	within("inline overwrite", func() { e.put("b", "k", small) })
	within("read inline", func() { e.mustRead("b", "k", small) })
	within("multipart", func() {
		u := e.create("b", "k", UploadOptions{})
		p1, p2 := e.part(u, 1, randBytes(42, 5<<20)), e.part(u, 2, small)
		if _, err := e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, completeOf(p1, p2), CompleteOptions{}); err != nil {
			t.Errorf("complete: %v", err)
		}
	})
	within("delete", func() { e.del("b", "k", DeleteOptions{}) })
	if _, err := e.store.HeadObject(ctxb, "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("head after delete: %v", err)
	}
	// A drive that answers for its record but then sends no shard data:
	// the read switches to parity after the grace, not StallTimeout.
	e.pgDrives("b", "k")[1].silent.Store(false)
	e.put("b", "k2", big)
	e.pgDrives("b", "k2")[0].stall.Store(true)
	within("read around a stalled data shard", func() { e.mustRead("b", "k2", big) })
}
