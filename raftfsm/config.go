package raftfsm

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/strata-io/strata/meta"
)

// Config configures a Store.
type Config struct {
	NodeID          string // Raft server id: the node name
	Dir             string // Raft data dir: "raft.db" (raft-boltdb) and "snapshots/"
	Advertise       string // this node's rpc address as peers reach it (host:port)
	BootstrapExpect int    // 0 = never bootstrap, join an existing cluster
	Voters          int    // most voters the leader keeps (kept odd), default 5

	// Cluster is the template for a new cluster's settings (K, M, PGCount,
	// BlockSize, InlineMax); the proposer fills ID, Created and Expect.
	Cluster meta.Cluster
	// Root is the root user created at bootstrap, its secret already sealed.
	// Nil on a node that cannot bootstrap (it never proposes Bootstrap).
	Root *meta.User
	// NewID generates the cluster id (a UUID in production).
	NewID func() string
	// Now is the clock for timestamps put into commands.
	Now func() time.Time
	// OnApply, when set, is told how long each successful Propose took
	// from submission until the command was applied on this node
	// (metrics: Raft apply latency).
	OnApply func(time.Duration)
	// HCLogger receives hashicorp/raft's logs; nil discards them.
	HCLogger hclog.Logger

	// Raft timing. The defaults suit both LANs and loopback test clusters.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	SnapshotInterval   time.Duration // how often Raft checks whether to snapshot
	SnapshotThreshold  uint64        // log entries since the last snapshot that trigger one
	TrailingLogs       uint64        // log entries kept after a snapshot

	// ApplyTimeout bounds one Raft apply, read-index or membership change
	// when the caller's context has no deadline.
	ApplyTimeout time.Duration
	// ReconcileInterval is how often Run re-checks membership without events.
	ReconcileInterval time.Duration
	// VoterGrace is how long a voter may be missing from the live members
	// before the leader replaces it with a healthy non-voter. Long enough
	// to ride out a restart or a reboot, short enough that a second failure
	// is unlikely meanwhile.
	VoterGrace time.Duration
}

// DefaultConfig returns a Config with the timing defaults and Voters 5;
// NodeID, Dir, Advertise and (to bootstrap) Cluster, Root, NewID must be set.
func DefaultConfig() Config {
	return Config{
		Voters:             5,
		Now:                time.Now,
		HeartbeatTimeout:   800 * time.Millisecond,
		ElectionTimeout:    800 * time.Millisecond,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      20 * time.Millisecond,
		SnapshotInterval:   2 * time.Minute,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		ApplyTimeout:       10 * time.Second,
		ReconcileInterval:  time.Second,
		VoterGrace:         30 * time.Second,
	}
}

// Validate reports the first invalid field, wrapping ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.NodeID == "" {
		return bad("node id is empty")
	}
	if c.Dir == "" {
		return bad("raft dir is empty")
	}
	host, port, err := net.SplitHostPort(c.Advertise)
	if err != nil {
		return bad("advertise address %q: %v", c.Advertise, err)
	}
	if p, err := strconv.Atoi(port); host == "" || err != nil || p < 1 || p > 65535 {
		return bad("advertise address %q needs a host and a port", c.Advertise)
	}
	if c.BootstrapExpect < 0 {
		return bad("bootstrap expect %d is negative", c.BootstrapExpect)
	}
	if c.Voters < 1 {
		return bad("voters %d must be at least 1", c.Voters)
	}
	if c.Now == nil {
		return bad("Now is nil")
	}
	if c.BootstrapExpect > 0 {
		if c.NewID == nil {
			return bad("NewID is nil but the node may bootstrap")
		}
		tmpl := c.Cluster
		tmpl.ID, tmpl.Expect = "template", c.BootstrapExpect
		if err := tmpl.Validate(); err != nil {
			return bad("cluster template: %v", err)
		}
	}
	switch {
	case c.HeartbeatTimeout < 5*time.Millisecond || c.ElectionTimeout < c.HeartbeatTimeout:
		return bad("need 5ms <= heartbeat timeout (%s) <= election timeout (%s)", c.HeartbeatTimeout, c.ElectionTimeout)
	case c.LeaderLeaseTimeout < 5*time.Millisecond || c.LeaderLeaseTimeout > c.HeartbeatTimeout:
		return bad("need 5ms <= leader lease (%s) <= heartbeat timeout (%s)", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	case c.CommitTimeout < time.Millisecond:
		return bad("commit timeout %s below 1ms", c.CommitTimeout)
	case c.SnapshotInterval < 5*time.Millisecond || c.SnapshotThreshold < 1:
		return bad("snapshot interval %s / threshold %d too low", c.SnapshotInterval, c.SnapshotThreshold)
	case c.ApplyTimeout <= 0 || c.ReconcileInterval <= 0 || c.VoterGrace <= 0:
		return bad("apply timeout, reconcile interval and voter grace must be positive")
	}
	return nil
}
