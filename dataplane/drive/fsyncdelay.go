package drive

import (
	"os"
	"strings"
	"time"
)

// FsyncDelayEnv is a test hook for fault injection (test/chaos): when the
// variable is set at Open to the path of a file, every fsync the drive does
// through its FS (shard files, their folders, the format file; not bbolt's
// own) first reads that file and, when it holds a Go duration ("250ms"),
// sleeps that long. A missing, empty or unparsable file means no delay, so a
// harness turns a slow drive on and off while the node runs by rewriting
// the file. Unset (production), Open does not wrap the FS and fsync costs
// nothing more.
const FsyncDelayEnv = "STRATA_TEST_FSYNC_DELAY_FILE"

// fsyncDelayFS wraps an FS so that Sync of every file it opens waits for the
// delay named in the file at path.
type fsyncDelayFS struct {
	FS
	path string
}

func (f fsyncDelayFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return fsyncDelayFile{File: file, path: f.path}, nil
}

type fsyncDelayFile struct {
	File
	path string
}

func (f fsyncDelayFile) Sync() error {
	if b, err := os.ReadFile(f.path); err == nil {
		if d, err := time.ParseDuration(strings.TrimSpace(string(b))); err == nil && d > 0 {
			time.Sleep(d)
		}
	}
	return f.File.Sync()
}
