//go:build unix

package bench

import (
	"syscall"
	"time"
)

// clientCPU is the CPU time (user + system) this process has used.
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
