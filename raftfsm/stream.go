package raftfsm

import (
	"context"
	"net"
	"time"

	"github.com/hashicorp/raft"

	"github.com/strata-io/strata/rpc"
)

// RaftStream is the rpc stream id that carries Raft's own traffic.
const RaftStream byte = 1

// streamLayer is raft.StreamLayer over authenticated rpc streams: Raft's
// NetworkTransport accepts on the rpc listener for RaftStream and dials peers'
// rpc addresses.
type streamLayer struct {
	net.Listener
	tr        *rpc.Transport
	advertise net.Addr
}

// Dial implements raft.StreamLayer.
func (l *streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.tr.DialStream(ctx, string(address), RaftStream)
}

// Addr is the advertised address: Raft puts it in its messages as this
// server's address, so it must be what peers dial, not the bind address.
func (l *streamLayer) Addr() net.Addr { return l.advertise }

// advertiseAddr is a net.Addr for a host:port string.
type advertiseAddr string

func (a advertiseAddr) Network() string { return "tcp" }
func (a advertiseAddr) String() string  { return string(a) }
