package raftfsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/strata-io/strata/meta"
)

// Member is a live node as gossip sees it.
type Member struct {
	ID      string
	RPCAddr string // host:port: Raft and rpc
	S3Addr  string // host:port of the S3 frontend
	Drives  []meta.Drive
}

// EventType is the kind of a membership change.
type EventType uint8

// Membership events.
const (
	EventJoin   EventType = 1 // a node appeared
	EventUpdate EventType = 2 // a node's addresses or drives changed
	EventLeave  EventType = 3 // a node left or failed
)

// String names the event type for logs.
func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	}
	return "unknown"
}

// MemberEvent is one membership change, fed to Run.
type MemberEvent struct {
	Type   EventType
	Member Member
}

// Run drives membership until ctx ends or the store closes. members returns
// the current live members (this node included); events wake Run early.
//
// On every node: while this node has no Raft state and BootstrapExpect > 0,
// it bootstraps Raft once members() holds at least BootstrapExpect nodes,
// with exactly those nodes as voters (every node of the initial set computes
// the same configuration).
//
// On the leader only (after its term's barrier): propose Bootstrap if the
// cluster has no identity, NodeUp for every member the state does not know or
// knows differently, the first placement once Cluster.Expect nodes are known,
// then add unknown members to Raft as non-voters and promote healthy
// non-voters while voters < Voters, keeping the number of voters odd (see
// planVoters). A voter that members() has not listed for Config.VoterGrace
// is replaced by a healthy non-voter and then removed from the
// configuration, only while the live voters are a majority; when it comes
// back it is added again as a non-voter. A non-voter that leaves is kept (a
// restart rejoins); removing a live node is decommissioning (RemoveServer).
func (s *Store) Run(ctx context.Context, members func() []Member, events <-chan MemberEvent) {
	t := time.NewTicker(s.cfg.ReconcileInterval)
	defer t.Stop()
	r := &reconciler{s: s, nonvoterSince: map[string]time.Time{}, deadSince: map[string]time.Time{}, rejected: map[string]string{}, warned: map[string]bool{}}
	for {
		ms := members()
		s.members.Store(&ms)
		r.step(ctx, ms)
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		case <-s.kick:
		case ev, ok := <-events:
			if !ok {
				events = nil // closed: keep running on the ticker
				continue
			}
			s.log.Debug("member event", "type", ev.Type.String(), "member", ev.Member.ID, "rpc", ev.Member.RPCAddr)
		}
	}
}

// reconciler is Run's state; used by the Run goroutine only.
type reconciler struct {
	s *Store
	// nonvoterSince is when a non-voter was first seen in the
	// configuration; it is promoted only a reconcile interval later, so it
	// had time to catch up on the log before it counts for the quorum.
	nonvoterSince map[string]time.Time
	// deadSince is when a voter was first seen missing from the live
	// members during this leadership; it is replaced VoterGrace later.
	deadSince map[string]time.Time
	// rejected holds, per member, the NodeUp last rejected by the state, so
	// an unchanged member is not proposed (and logged) again every pass.
	rejected map[string]string
	// warned holds warnings already logged this leadership, so a stuck
	// condition is not logged every second.
	warned    map[string]bool
	wasLeader bool
	// placedFor is the topology signature the current placement was last
	// computed for: a new epoch is computed only when it changes.
	placedFor string
}

func (r *reconciler) warnOnce(key, msg string, args ...any) {
	if !r.warned[key] {
		r.warned[key] = true
		r.s.log.Warn(msg, args...)
	}
}

func (r *reconciler) step(ctx context.Context, ms []Member) {
	s := r.s
	if !s.hasState.Load() {
		r.maybeBootstrap(ms)
	}
	leading := s.leaderReady()
	if leading != r.wasLeader {
		clear(r.warned)
		clear(r.nonvoterSince)
		clear(r.deadSince)
		s.confMu.Lock()
		s.eligible = nil
		s.confMu.Unlock()
		clear(r.rejected)
		r.placedFor = ""
		r.wasLeader = leading
	}
	if !leading {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	if !r.ensureBootstrapped(ctx) {
		return
	}
	r.upsertNodes(ctx, ms)
	r.ensurePlacement(ctx)
	r.finishDrains(ctx)
	r.reconcileVoters(ms)
}

// maybeBootstrap bootstraps Raft with the first BootstrapExpect members seen.
func (r *reconciler) maybeBootstrap(ms []Member) {
	s := r.s
	if s.raft.LastIndex() > 0 {
		s.hasState.Store(true) // a leader replicated to us
		return
	}
	if s.cfg.BootstrapExpect == 0 {
		return
	}
	if addr, _ := s.raft.LeaderWithID(); addr != "" {
		return
	}
	servers := map[string]raft.Server{}
	for _, m := range ms {
		if m.ID != "" && m.RPCAddr != "" {
			servers[m.ID] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RPCAddr)}
		}
	}
	if _, self := servers[s.cfg.NodeID]; !self || len(servers) < s.cfg.BootstrapExpect {
		s.log.Debug("waiting for nodes to bootstrap", "have", len(servers), "expect", s.cfg.BootstrapExpect)
		return
	}
	var conf raft.Configuration
	for _, id := range sortedKeys(servers) {
		conf.Servers = append(conf.Servers, servers[id])
	}
	err := s.raft.BootstrapCluster(conf).Error()
	switch {
	case err == nil:
		s.log.Info("raft bootstrapped", "voters", len(conf.Servers))
		s.hasState.Store(true)
	case errors.Is(err, raft.ErrCantBootstrap):
		s.hasState.Store(true)
	default:
		s.log.Warn("raft bootstrap failed", "err", err)
	}
}

// ensureBootstrapped proposes the cluster's Bootstrap command when the state
// has no identity yet. It reports whether the state is bootstrapped.
func (r *reconciler) ensureBootstrapped(ctx context.Context) bool {
	s := r.s
	var done bool
	s.View(func(st *meta.State) { done = st.Bootstrapped() })
	if done {
		return true
	}
	if s.cfg.Root == nil || s.cfg.BootstrapExpect == 0 {
		// Only a node started to form the cluster carries the root user.
		r.warnOnce("no-root", "leader cannot bootstrap the cluster: it was not started with bootstrap-expect and root keys; waiting for a leader that was")
		return false
	}
	now := s.cfg.Now().UnixNano()
	c := s.cfg.Cluster
	c.ID, c.Created, c.Expect = s.cfg.NewID(), now, s.cfg.BootstrapExpect
	root := *s.cfg.Root
	root.Created = now
	err := s.Propose(ctx, meta.Bootstrap{Cluster: c, Root: root})
	switch {
	case err == nil:
		s.log.Info("cluster bootstrapped", "cluster", c.ID, "ec_k", c.K, "ec_m", c.M, "pgs", c.PGCount, "expect", c.Expect)
		return true
	case errors.Is(err, meta.ErrAlreadyBootstrapped):
		return true
	}
	s.log.Warn("propose bootstrap failed", "err", err)
	return false
}

// upsertNodes proposes NodeUp for members the state does not know as they are.
func (r *reconciler) upsertNodes(ctx context.Context, ms []Member) {
	s := r.s
	var stale []Member
	s.View(func(st *meta.State) {
		for _, m := range ms {
			if m.ID != "" && m.RPCAddr != "" && !sameNode(st.Nodes[m.ID], m) {
				stale = append(stale, m)
			}
		}
	})
	slices.SortFunc(stale, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	for _, m := range stale {
		n := meta.Node{ID: m.ID, RPCAddr: m.RPCAddr, S3Addr: m.S3Addr, State: meta.StateUp, Joined: s.cfg.Now().UnixNano()}
		for _, d := range m.Drives {
			d.NodeID = m.ID
			n.Drives = append(n.Drives, &d)
		}
		key := fmt.Sprintf("%+v", m)
		if r.rejected[m.ID] == key {
			continue
		}
		if err := s.Propose(ctx, meta.NodeUp{Node: n}); err != nil {
			if rejection := rejectionCode(err); rejection != "" && rejection != codeUnknownRejection {
				r.rejected[m.ID] = key
			}
			r.warnOnce("nodeup/"+m.ID, "propose node up failed", "member", m.ID, "err", err)
			continue
		}
		s.log.Info("node recorded", "member", m.ID, "rpc", m.RPCAddr, "s3", m.S3Addr, "drives", len(m.Drives))
	}
}

// sameNode reports whether the recorded node matches the member's addresses
// and drive ids.
func sameNode(n *meta.Node, m Member) bool {
	if n == nil || n.RPCAddr != m.RPCAddr || n.S3Addr != m.S3Addr || len(n.Drives) != len(m.Drives) {
		return false
	}
	have := make([]string, len(n.Drives))
	for i, d := range n.Drives {
		have[i] = d.ID
	}
	want := make([]string, len(m.Drives))
	for i, d := range m.Drives {
		want[i] = d.ID
	}
	slices.Sort(have)
	slices.Sort(want)
	return slices.Equal(have, want)
}

// ensurePlacement keeps the placement in step with the topology: the
// first epoch once the nodes that formed the cluster are recorded, then a
// new epoch (meta.NextPlacement: only what balance and validity require
// moves) whenever the up nodes and drives change, e.g. a node joined or is
// being drained. A new epoch waits while PGs of the current one still
// move; the rebalancer of each node migrates them (dataplane).
func (r *reconciler) ensurePlacement(ctx context.Context) {
	s := r.s
	var (
		cur    meta.Placement
		expect int
		pgs    int
		width  int
		nodes  []*meta.Node
		sig    string
	)
	s.View(func(st *meta.State) {
		expect, pgs, width = st.Cluster.Expect, st.Cluster.PGCount, st.Cluster.K+st.Cluster.M
		if st.Placement.Epoch == 0 && len(st.Nodes) < expect || st.Placement.Rebalancing() {
			return
		}
		sig = topologySignature(st)
		if st.Placement.Epoch != 0 && sig == r.placedFor {
			return
		}
		c := st.Clone()
		cur, nodes = c.Placement, c.SortedNodes()
	})
	if nodes == nil {
		return
	}
	// New clusters start balanced (every drive an equal share); later
	// epochs are computed from the current one.
	p, err := meta.NextPlacement(cur, nodes, pgs, width, cur.Epoch+1)
	if err != nil {
		r.warnOnce("placement/"+sig, "cannot compute a placement for the current nodes", "err", err)
		return
	}
	if cur.Epoch != 0 && samePGs(cur.PGs, p.PGs) {
		r.placedFor = sig // nothing moves
		return
	}
	p.Created = s.cfg.Now().UnixNano()
	err = s.Propose(ctx, meta.SetPlacement{Placement: p})
	switch {
	case err == nil:
		r.placedFor = sig
		moved := 0
		for pg := range p.PGs {
			if cur.Epoch != 0 && !slices.Equal(cur.PGs[pg], p.PGs[pg]) {
				moved++
			}
		}
		s.log.Info("placement installed", "epoch", p.Epoch, "pgs", pgs, "width", width, "nodes", len(nodes), "pgs_moving", moved)
	case errors.Is(err, meta.ErrStaleEpoch), errors.Is(err, meta.ErrRebalancing):
	default:
		r.warnOnce("placement-propose", "propose placement failed", "err", err)
	}
}

// topologySignature identifies what a placement is computed from: the
// nodes and drives and their states.
func topologySignature(st *meta.State) string {
	var b strings.Builder
	for _, n := range st.SortedNodes() {
		fmt.Fprintf(&b, "%s:%d[", n.ID, n.State)
		ids := make([]string, 0, len(n.Drives))
		for _, d := range n.Drives {
			ids = append(ids, fmt.Sprintf("%s:%d", d.ID, d.State))
		}
		slices.Sort(ids)
		b.WriteString(strings.Join(ids, ","))
		b.WriteString("]")
	}
	return b.String()
}

func samePGs(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// finishDrains completes decommissions: a draining node that no PG uses
// any more (its PGs moved) is recorded out, and a node out of the cluster
// leaves the Raft configuration (RemoveServer replaces a voter first).
func (r *reconciler) finishDrains(ctx context.Context) {
	s := r.s
	var empty, out []string
	s.View(func(st *meta.State) {
		if st.Placement.Rebalancing() {
			return
		}
		for _, n := range st.SortedNodes() {
			switch {
			case n.State == meta.StateDraining && st.Placement.Epoch != 0 && !st.Placement.UsesNode(n) && r.placedFor == topologySignature(st):
				empty = append(empty, n.ID)
			case n.State == meta.StateOut:
				out = append(out, n.ID)
			}
		}
	})
	for _, id := range empty {
		if err := s.Propose(ctx, meta.SetNodeState{ID: id, State: meta.StateOut}); err != nil {
			r.warnOnce("out/"+id, "recording a drained node out failed", "node", id, "err", err)
			continue
		}
		s.log.Info("node drained and out of the cluster", "node", id)
		out = append(out, id)
	}
	if len(out) == 0 {
		return
	}
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	for _, srv := range f.Configuration().Servers {
		id := string(srv.ID)
		if !slices.Contains(out, id) {
			continue
		}
		if err := s.RemoveServer(ctx, id); err != nil {
			r.warnOnce("remove/"+id, "removing a decommissioned node from raft failed", "node", id, "err", err)
			continue
		}
		s.log.Info("decommissioned node left raft", "node", id)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
