package drive

import (
	"io"
	"io/fs"
)

// FS is the narrow file-system seam the drive does all its file I/O through,
// so tests can fail an fsync or rename or tear a write.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Chmod(name string, mode fs.FileMode) error
	Remove(name string) error
	RemoveAll(name string) error
	MkdirAll(name string, perm fs.FileMode) error
	Stat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
}

// File is an open file of an FS.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Seeker
	io.Closer
	Sync() error
	Stat() (fs.FileInfo, error)
	// SetDirect turns direct I/O (no page cache: O_DIRECT on Linux) on or
	// off for later writes, whose offsets, lengths and buffers must then
	// be multiples of directAlign. An error where the OS or the file
	// system has none; the file is then unchanged.
	SetDirect(on bool) error
}
