package dataplane

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flipFileByte flips the byte at offset at of the file under dir whose path
// contains name (the drive's shard file of that data dir). It reports false
// when no such file exists.
func flipFileByte(t *testing.T, dir, name string, at int64) bool {
	t.Helper()
	var found string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, name) {
			found = p
		}
		return nil
	})
	if found == "" {
		return false
	}
	f, err := os.OpenFile(found, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
	return true
}

// countFiles counts the regular files under dir (0 when it is missing).
func countFiles(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
