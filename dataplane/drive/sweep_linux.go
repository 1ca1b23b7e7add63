package drive

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime returns the file's change time (ctime), which a rename
// updates (see SweepOrphans), or its modification time when fi carries no
// stat data (an FS seam that does not give one).
func changeTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return fi.ModTime()
}
