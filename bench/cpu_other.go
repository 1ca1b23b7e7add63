//go:build !unix

package bench

import "time"

// clientCPU is 0 where getrusage does not exist: the report then shows no
// client CPU.
func clientCPU() time.Duration { return 0 }
