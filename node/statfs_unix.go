//go:build linux || darwin || freebsd

package node

import (
	"fmt"
	"syscall"
)

// statFS returns the size, use and free space (for an unprivileged process)
// of the file system holding path.
func statFS(path string) (fsStats, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return fsStats{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return fsStats{
		capacity: uint64(st.Blocks) * bs,
		used:     (uint64(st.Blocks) - uint64(st.Bfree)) * bs,
		free:     uint64(st.Bavail) * bs,
	}, nil
}
