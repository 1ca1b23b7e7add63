//go:build !(linux || darwin || freebsd)

package node

import (
	"fmt"
	"os"
)

// statFS only checks that path exists on systems without a statfs binding
// here; capacity and use are reported as zero.
func statFS(path string) (fsStats, error) {
	if _, err := os.Stat(path); err != nil {
		return fsStats{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return fsStats{}, nil
}
