//go:build !linux

package drive

import (
	"io/fs"
	"time"
)

// changeTime returns the file's modification time: outside Linux the
// change time is not read. A commit's rename does not update the
// modification time, which is that of the shard's last write in tmp/; the
// commit follows that write at once, so the sweep's minimum age still
// covers it, with less margin.
func changeTime(fi fs.FileInfo) time.Time { return fi.ModTime() }
