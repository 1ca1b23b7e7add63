//go:build !linux

package drive

import (
	"errors"
	"fmt"
)

// errNoDirect: the OS has no direct I/O here.
var errNoDirect = errors.New("no direct I/O on this OS")

// SetDirect reports that direct I/O is not used on this OS: writes go
// through the page cache (and are fsync'd as always).
func (f osFile) SetDirect(on bool) error {
	if !on {
		return nil
	}
	return fmt.Errorf("set direct I/O on %s: %w", f.Name(), errNoDirect)
}
