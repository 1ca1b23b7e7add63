//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package rpc

import (
	"net"
	"syscall"
)

// probe checks whether an idle connection is still usable: nothing has
// arrived on it (no EOF from a peer that closed, no unexpected bytes). It
// peeks without blocking, costing one syscall and no allocation.
type probe struct {
	rc syscall.RawConn // nil: cannot probe, assume alive
	fn func(fd uintptr) bool
	ok bool
	b  [1]byte
}

func (p *probe) init(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	p.rc = rc
	p.fn = p.peek
}

func (p *probe) peek(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), p.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case n > 0:
		p.ok = false // bytes nobody asked for: out of step
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR:
		p.ok = true // nothing to read: idle and open
	default:
		p.ok = false // EOF (n == 0) or a socket error
	}
	return true // never wait for readability
}

func (p *probe) alive() bool {
	if p.rc == nil {
		return true
	}
	p.ok = false
	if err := p.rc.Read(p.fn); err != nil {
		return false
	}
	return p.ok
}
