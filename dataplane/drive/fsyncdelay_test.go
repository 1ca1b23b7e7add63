package drive

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFsyncDelayHook(t *testing.T) {
	dir := t.TempDir()
	ctl := filepath.Join(dir, "delay")
	t.Setenv(FsyncDelayEnv, ctl)
	d, err := Open(filepath.Join(dir, "d"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, ok := d.fs.(fsyncDelayFS); !ok {
		t.Fatalf("Open with %s set did not wrap the FS: %T", FsyncDelayEnv, d.fs)
	}
	timeSync := func() time.Duration {
		f, err := d.fs.OpenFile(filepath.Join(dir, "f"), os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	if got := timeSync(); got > 100*time.Millisecond {
		t.Fatalf("no delay file: fsync took %v", got)
	}
	os.WriteFile(ctl, []byte("150ms\n"), 0o644)
	if got := timeSync(); got < 150*time.Millisecond {
		t.Fatalf("delay file says 150ms: fsync took %v", got)
	}
	os.WriteFile(ctl, nil, 0o644)
	if got := timeSync(); got > 100*time.Millisecond {
		t.Fatalf("empty delay file: fsync took %v", got)
	}
}
