package dataplane

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// shardFiles lists the files under a drive folder's shards/.
func shardFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "shards"), func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOrphanSweep: after a pass the scanner sweeps the local drives: the
// shard files no record refers to go, those of versions and of an upload
// in progress stay, a drive being refilled is left alone, and HealStatus
// counts what was removed.
func TestOrphanSweep(t *testing.T) {
	e := newEnv(t, 2, 2)
	objs := fillHeal(e)
	u := e.create("b", "upload", UploadOptions{})
	part := randBytes(11, 300<<10)
	p1 := e.part(u, 1, part)
	var kept []string
	for _, d := range e.drives {
		kept = append(kept, shardFiles(t, d.path)...)
	}
	// What a crash between a commit's rename and its record leaves.
	orphan := func(d *faultDrive, size int) string {
		id := newDataDir()
		p := filepath.Join(d.path, "shards", id[:2], id)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, randBytes(uint64(size), int64(size)), 0o640); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := []string{orphan(e.drives[0], 1000), orphan(e.drives[1], 234)}
	refilling := e.drives[3]
	stays := orphan(refilling, 10)
	e.store.heal.status.Refilling = []string{refilling.id}
	time.Sleep(20 * time.Millisecond)

	e.store.cfg.ScanDelay, e.store.cfg.ScanInterval, e.store.cfg.OrphanMinAge = time.Millisecond, time.Hour, time.Millisecond
	ctx, cancel := context.WithCancel(ctxb)
	done := make(chan struct{})
	go func() { e.store.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 20*time.Second, func() bool { return e.store.HealStatus().OrphanSweeps == 3 })

	st := e.store.HealStatus()
	if st.OrphansRemoved != 2 || st.OrphanBytesFreed != 1234 {
		t.Fatalf("heal status: %+v", st)
	}
	for _, p := range gone {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("orphan %s not removed: %v", p, err)
		}
	}
	if _, err := os.Stat(stays); err != nil {
		t.Errorf("orphan of the drive being refilled: %v", err)
	}
	var now []string
	for _, d := range e.drives {
		now = append(now, shardFiles(t, d.path)...)
	}
	slices.Sort(kept)
	slices.Sort(now)
	if want := append(slices.Clone(kept), stays); !slices.Equal(now, slices.Sorted(slices.Values(want))) {
		t.Fatalf("shard files after the sweep:\n%v\nwant:\n%v", now, want)
	}
	for _, o := range objs {
		e.mustRead("b", o.key, o.data)
	}
	// The upload's part survived: the upload completes and reads.
	if _, err := e.store.CompleteMultipartUpload(ctxb, "b", "upload", u.UploadID, completeOf(p1), CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.mustRead("b", "upload", part)
}
