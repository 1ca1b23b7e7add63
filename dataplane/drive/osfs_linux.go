package drive

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openFile opens name like os.OpenFile, without registering the file with
// Go's network poller: os.OpenFile tries that for every file (four fcntl
// calls and an epoll_ctl that fails for a regular file), a cost paid per
// shard on every PUT and GET.
func openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	for {
		fd, err := unix.Open(name, flag|unix.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			return os.NewFile(uintptr(fd), name), nil
		}
		if err != syscall.EINTR {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
}

// rename renames oldpath to newpath with rename(2): unlike os.Rename it
// does not first stat newpath to refuse a directory there (the drive only
// renames files to file names).
func rename(oldpath, newpath string) error {
	for {
		err := unix.Rename(oldpath, newpath)
		if err == nil {
			return nil
		}
		if err != syscall.EINTR {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
	}
}
