package drive

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// SetDirect turns O_DIRECT on or off for the file's later reads and writes
// (fcntl F_SETFL). A file system without direct I/O refuses it (EINVAL).
func (f osFile) SetDirect(on bool) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			serr = err
			return
		}
		if on {
			fl |= unix.O_DIRECT
		} else {
			fl &^= unix.O_DIRECT
		}
		_, serr = unix.FcntlInt(fd, unix.F_SETFL, fl)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set O_DIRECT=%v on %s: %w", on, f.Name(), serr)
	}
	return nil
}
