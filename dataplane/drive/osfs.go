package drive

import (
	"io/fs"
	"os"
)

// OSFS is the real operating-system file system. Open uses it when
// Options.FS is nil; tests wrap it to inject faults.
type OSFS struct{}

var _ FS = OSFS{}

// OpenFile opens name like os.OpenFile (see openFile).
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := openFile(name, flag, perm)
	if err != nil {
		return nil, err // a nil *os.File must not become a non-nil File
	}
	return osFile{f}, nil
}

// osFile is an *os.File with SetDirect (direct_linux.go).
type osFile struct{ *os.File }

// Rename renames oldpath to newpath like os.Rename (see rename).
func (OSFS) Rename(oldpath, newpath string) error { return rename(oldpath, newpath) }

// Chmod sets name's permission bits with os.Chmod (and its change time).
func (OSFS) Chmod(name string, mode fs.FileMode) error { return os.Chmod(name, mode) }

// Remove removes name with os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// RemoveAll removes name and its children with os.RemoveAll.
func (OSFS) RemoveAll(name string) error { return os.RemoveAll(name) }

// MkdirAll creates name and missing parents with os.MkdirAll.
func (OSFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// Stat returns os.Stat of name.
func (OSFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// ReadDir returns os.ReadDir of name.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
