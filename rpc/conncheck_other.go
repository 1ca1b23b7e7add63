//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package rpc

import "net"

// probe cannot peek without blocking on this platform; a dead pooled
// connection then fails the call that uses it.
type probe struct{}

func (*probe) init(net.Conn) {}

func (*probe) alive() bool { return true }
