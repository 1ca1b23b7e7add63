//go:build !linux

package drive

import (
	"io/fs"
	"os"
)

// openFile is os.OpenFile (see osfs_linux.go).
func openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

// rename is os.Rename (see osfs_linux.go).
func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
