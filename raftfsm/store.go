package raftfsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/rpc"
)

// rpc methods served by every Store.
const (
	methodApply     = "raft.apply"
	methodReadIndex = "raft.readindex"
)

// Store is one node's member of the control-metadata Raft group and its
// replica of meta.State. All methods are safe for concurrent use.
type Store struct {
	cfg Config
	log *slog.Logger
	tr  *rpc.Transport

	raft  *raft.Raft
	fsm   *fsm
	bolt  *raftboltdb.BoltStore
	trans *raft.NetworkTransport

	// hasState is true once this node has Raft state (bootstrapped, or
	// received entries from a leader): it must never bootstrap again.
	hasState atomic.Bool
	// readyTerm is the term in which this node, as leader, completed a
	// barrier: its FSM then holds every entry committed by earlier leaders,
	// so its applied index is a valid read index. 0 = not ready.
	readyTerm atomic.Uint64
	// kick wakes Run when leadership changes.
	kick chan struct{}
	// members is the live membership Run saw last (for RemoveServer).
	members atomic.Pointer[[]Member]
	// confMu serialises the leader's Raft configuration changes: Run's
	// voter reconciliation and RemoveServer decide on the configuration
	// they read.
	confMu sync.Mutex
	// removed holds nodes RemoveServer took out while they were alive;
	// Run does not add them back until they leave the live members.
	// Guarded by confMu.
	removed map[string]bool
	// eligible lists the non-voters Run found fit to become voters in its
	// last pass as leader (sorted). Guarded by confMu.
	eligible []string

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Server is one member of the Raft configuration.
type Server struct {
	ID      string // node id
	Address string // rpc address
	Voter   bool   // false: non-voter (receives the log, does not vote)
}

// New opens the Raft state in cfg.Dir and starts Raft on tr: raft-boltdb as
// log and stable store, file snapshots (2 kept), the NetworkTransport over rpc
// stream RaftStream. It registers the rpc handlers "raft.apply" and
// "raft.readindex"; the caller starts tr afterwards. A new node's Raft is
// bootstrapped by Run.
func New(cfg Config, tr *rpc.Transport, log *slog.Logger) (_ *Store, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "raftfsm")
	hcl := cfg.HCLogger
	if hcl == nil {
		hcl = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftfsm: %w", err)
	}
	s := &Store{cfg: cfg, log: log, tr: tr, fsm: newFSM(log), kick: make(chan struct{}, 1), removed: map[string]bool{}, done: make(chan struct{})}
	defer func() {
		if err != nil {
			if s.trans != nil {
				s.trans.Close()
			}
			if s.bolt != nil {
				s.bolt.Close()
			}
		}
	}()

	if s.bolt, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")}); err != nil {
		return nil, fmt.Errorf("raftfsm: open %s: %w", filepath.Join(cfg.Dir, "raft.db"), err)
	}
	logs, err := raft.NewLogCache(512, s.bolt)
	if err != nil {
		return nil, fmt.Errorf("raftfsm: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hcl.Named("snapshots"))
	if err != nil {
		return nil, fmt.Errorf("raftfsm: %w", err)
	}
	has, err := raft.HasExistingState(logs, s.bolt, snaps)
	if err != nil {
		return nil, fmt.Errorf("raftfsm: %w", err)
	}
	s.hasState.Store(has)

	s.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  &streamLayer{Listener: tr.Listen(RaftStream), tr: tr, advertise: advertiseAddr(cfg.Advertise)},
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  hcl.Named("transport"),
	})

	notify := make(chan bool, 16)
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.Logger = hcl
	rc.NotifyCh = notify
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	// A node removed from the configuration keeps running (it serves
	// nothing of Raft's); removal is decommissioning's business, not a crash.
	rc.ShutdownOnRemove = false
	if s.raft, err = raft.NewRaft(rc, s.fsm, logs, s.bolt, snaps, s.trans); err != nil {
		return nil, fmt.Errorf("raftfsm: start raft: %w", err)
	}

	tr.Handle(methodApply, s.handleApply)
	tr.Handle(methodReadIndex, s.handleReadIndex)
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.watchLeadership(notify) }()
	log.Info("raft started", "id", cfg.NodeID, "advertise", cfg.Advertise, "existing_state", has)
	return s, nil
}

// watchLeadership follows leadership changes. On becoming leader it runs a
// barrier before marking itself ready to serve read indexes: a new leader's
// FSM may still miss entries that earlier leaders committed.
func (s *Store) watchLeadership(notify <-chan bool) {
	for {
		select {
		case <-s.done:
			return
		case isLeader := <-notify:
			s.readyTerm.Store(0)
			if isLeader {
				s.log.Info("became raft leader", "term", s.raft.CurrentTerm())
				s.leaderBarrier(notify)
			} else {
				s.log.Info("lost raft leadership")
			}
			s.poke()
		}
	}
}

// leaderBarrier retries a barrier while this node stays leader and no newer
// leadership change is pending.
func (s *Store) leaderBarrier(notify <-chan bool) {
	for s.raft.State() == raft.Leader && len(notify) == 0 {
		term := s.raft.CurrentTerm()
		err := s.raft.Barrier(s.cfg.ApplyTimeout).Error()
		if err == nil {
			if s.raft.CurrentTerm() == term {
				s.readyTerm.Store(term)
			}
			return
		}
		s.log.Warn("leader barrier failed", "err", err)
		select {
		case <-s.done:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Store) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// leaderReady reports whether this node is the leader and has caught up in
// its current term.
func (s *Store) leaderReady() bool {
	return s.raft.State() == raft.Leader && s.readyTerm.Load() == s.raft.CurrentTerm()
}

// View runs fn with the local state under the read lock. fn must not keep the
// pointer or anything reachable from it after returning, nor modify it.
func (s *Store) View(fn func(*meta.State)) { s.fsm.view(fn) }

// AppliedIndex is the index of the last command applied to the local state.
func (s *Store) AppliedIndex() uint64 { return s.fsm.appliedIndex() }

// WaitApplied blocks until the local state has applied index, or ctx ends.
func (s *Store) WaitApplied(ctx context.Context, index uint64) error {
	return s.fsm.waitApplied(ctx, index, s.done)
}

// Leader returns the leader's node id and rpc address; empty when unknown.
func (s *Store) Leader() (id, addr string) {
	a, i := s.raft.LeaderWithID()
	return string(i), string(a)
}

// IsLeader reports whether this node is the Raft leader.
func (s *Store) IsLeader() bool { return s.raft.State() == raft.Leader }

// Ready reports whether the cluster is usable from this node: a leader is
// known, the cluster is bootstrapped and a placement exists.
func (s *Store) Ready() bool {
	if addr, _ := s.raft.LeaderWithID(); addr == "" {
		return false
	}
	ready := false
	s.View(func(st *meta.State) { ready = st.Bootstrapped() && st.Placement.Epoch >= 1 })
	return ready
}

// Servers returns the latest Raft configuration known to this node, sorted by
// id; nil when it cannot be read (shut down).
func (s *Store) Servers() []Server {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil
	}
	var out []Server
	for _, srv := range f.Configuration().Servers {
		out = append(out, Server{ID: string(srv.ID), Address: string(srv.Address), Voter: srv.Suffrage == raft.Voter})
	}
	slices.SortFunc(out, func(a, b Server) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Stats returns hashicorp/raft's statistics plus this store's own
// ("fsm_applied_index", "leader_ready").
func (s *Store) Stats() map[string]string {
	st := s.raft.Stats()
	st["fsm_applied_index"] = strconv.FormatUint(s.AppliedIndex(), 10)
	st["leader_ready"] = strconv.FormatBool(s.leaderReady())
	return st
}

// Close shuts Raft down and closes its stores. Calls in flight return
// ErrClosed or a Raft shutdown error. Safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		errs := []error{s.raft.Shutdown().Error()}
		errs = append(errs, s.trans.Close(), s.bolt.Close())
		s.wg.Wait()
		s.closeErr = errors.Join(errs...)
		s.log.Info("raft stopped")
	})
	return s.closeErr
}
