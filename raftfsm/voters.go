package raftfsm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/strata-io/strata/meta"
)

// voterView is what planVoters decides on: the Raft configuration, who gossip
// sees alive, and which non-voters may become voters. It holds no time: the
// caller decides which dead voters are past the grace period.
type voterView struct {
	voters    []string        // voters in the configuration, sorted
	live      map[string]bool // members gossip sees alive
	expired   []string        // voters not alive for at least the grace period, sorted
	eligible  []string        // live, caught-up non-voters of up nodes, sorted
	maxVoters int             // Config.Voters
}

// voterAction is one configuration change planVoters asks for.
type voterAction struct {
	promote bool // true: AddVoter; false: RemoveServer
	id      string
	reason  string // for the log
}

// planVoters returns the configuration changes that keep the voters at an
// odd count up to maxVoters while replacing voters that gossip has not seen
// alive for the grace period. It returns nil and false when the live voters
// are not a majority of the voters: without a quorum no change could commit,
// and guessing which side of a partition is right is not the leader's job.
//
// Rules, in order:
//  1. Replace: for each expired voter, if an eligible non-voter is left,
//     promote it and then remove the expired voter. The replacement comes
//     first so the configuration in between (one voter more, the dead one
//     still counted) keeps the same live majority.
//  2. Trim: remove further expired voters while that keeps the count odd
//     and at least 1: one when the count is even, two at a time while at
//     least three voters remain. Removing a dead voter never lowers the live
//     voters, only the quorum.
//  3. Grow: promote eligible non-voters while the count is below the odd
//     number nearest under min(maxVoters, voters + eligible).
func planVoters(v voterView) ([]voterAction, bool) {
	alive := 0
	for _, id := range v.voters {
		if v.live[id] {
			alive++
		}
	}
	if 2*alive <= len(v.voters) {
		return nil, false
	}
	var plan []voterAction
	n := len(v.voters)
	cands := slices.Clone(v.eligible)
	expired := slices.Clone(v.expired)

	for len(expired) > 0 && len(cands) > 0 {
		c, d := cands[0], expired[0]
		cands, expired = cands[1:], expired[1:]
		plan = append(plan,
			voterAction{promote: true, id: c, reason: "replaces dead voter " + d},
			voterAction{id: d, reason: "dead voter replaced by " + c})
	}
	for len(expired) > 0 {
		switch {
		case n%2 == 0 && n > 1:
			plan = append(plan, voterAction{id: expired[0], reason: "dead voter; keeps an odd number of voters"})
			expired, n = expired[1:], n-1
		case len(expired) >= 2 && n-2 >= 3:
			for _, d := range expired[:2] {
				plan = append(plan, voterAction{id: d, reason: "dead voter, no replacement; two removed to keep an odd number of voters"})
			}
			expired, n = expired[2:], n-2
		default:
			expired = nil
		}
	}
	target := min(v.maxVoters, n+len(cands))
	if target%2 == 0 {
		target-- // an even count adds no failure tolerance over the odd one below it
	}
	for _, c := range cands {
		if n >= target {
			break
		}
		plan = append(plan, voterAction{promote: true, id: c, reason: "grow towards the voter target"})
		n++
	}
	return plan, true
}

// reconcileVoters adds live members missing from the Raft configuration as
// non-voters (and follows address changes), then applies planVoters: dead
// voters past Config.VoterGrace are replaced by healthy non-voters, and
// non-voters are promoted to keep an odd number of voters up to Voters.
func (r *reconciler) reconcileVoters(ms []Member) {
	s := r.s
	s.confMu.Lock()
	defer s.confMu.Unlock()
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return
	}
	inConf := map[string]raft.Server{}
	for _, srv := range f.Configuration().Servers {
		inConf[string(srv.ID)] = srv
	}
	states := s.nodeStates()
	live := map[string]Member{}
	for _, m := range ms {
		if m.ID != "" && m.RPCAddr != "" {
			live[m.ID] = m
		}
	}
	now := time.Now()

	var view voterView
	view.live = map[string]bool{}
	view.maxVoters = s.cfg.Voters
	for _, id := range sortedKeys(live) {
		m := live[id]
		view.live[id] = true
		delete(r.deadSince, id)
		st, recorded := states[id]
		srv, ok := inConf[id]
		switch {
		case !ok:
			if (recorded && st != meta.StateUp) || s.removed[id] {
				continue // decommissioned: on its way out of Raft, not back in
			}
			err := s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(m.RPCAddr), 0, s.cfg.ApplyTimeout).Error()
			if err != nil {
				r.warnOnce("addnonvoter/"+id, "add non-voter failed", "member", id, "err", err)
				continue
			}
			s.log.Info("added raft non-voter", "member", id, "rpc", m.RPCAddr)
			r.nonvoterSince[id] = now
		case string(srv.Address) != m.RPCAddr:
			// Same node, new address (restarted elsewhere): keep its suffrage.
			var err error
			if srv.Suffrage == raft.Voter {
				err = s.raft.AddVoter(srv.ID, raft.ServerAddress(m.RPCAddr), 0, s.cfg.ApplyTimeout).Error()
			} else {
				err = s.raft.AddNonvoter(srv.ID, raft.ServerAddress(m.RPCAddr), 0, s.cfg.ApplyTimeout).Error()
			}
			if err != nil {
				r.warnOnce("readdr/"+id, "update raft address failed", "member", id, "err", err)
			} else {
				s.log.Info("raft address updated", "member", id, "rpc", m.RPCAddr)
			}
			// The new address is not known to be caught up yet.
			delete(r.nonvoterSince, id)
		case srv.Suffrage != raft.Voter:
			since, seen := r.nonvoterSince[id]
			if !seen {
				r.nonvoterSince[id] = now
			} else if now.Sub(since) >= s.cfg.ReconcileInterval && recorded && st == meta.StateUp {
				// A reconcile interval in the configuration: it had time
				// to catch up on the log before it counts for the quorum.
				view.eligible = append(view.eligible, id)
			}
		}
	}
	for id := range s.removed {
		if !view.live[id] {
			delete(s.removed, id) // gone from gossip: a restart may rejoin
		}
	}
	for _, id := range sortedKeys(inConf) {
		srv := inConf[id]
		if srv.Suffrage != raft.Voter {
			continue
		}
		view.voters = append(view.voters, id)
		if view.live[id] {
			continue
		}
		since, ok := r.deadSince[id]
		if !ok {
			r.deadSince[id] = now
			s.log.Info("raft voter not seen alive; replaced if still gone after the grace period", "member", id, "grace", s.cfg.VoterGrace)
			continue
		}
		if now.Sub(since) >= s.cfg.VoterGrace {
			view.expired = append(view.expired, id)
		}
	}

	s.eligible = view.eligible
	plan, quorum := planVoters(view)
	if !quorum {
		r.warnOnce("voters/no-quorum", "live raft voters are not a majority: voter changes suspended", "voters", len(view.voters))
		return
	}
	delete(r.warned, "voters/no-quorum")
	for _, a := range plan {
		var err error
		if a.promote {
			err = s.raft.AddVoter(raft.ServerID(a.id), raft.ServerAddress(live[a.id].RPCAddr), 0, s.cfg.ApplyTimeout).Error()
		} else {
			err = s.raft.RemoveServer(raft.ServerID(a.id), 0, s.cfg.ApplyTimeout).Error()
		}
		if err != nil {
			verb := map[bool]string{true: "promote to voter", false: "remove dead voter"}[a.promote]
			r.warnOnce("voters/"+a.id, verb+" failed", "member", a.id, "reason", a.reason, "err", err)
			return // the rest of the plan assumed this step
		}
		if a.promote {
			delete(r.nonvoterSince, a.id)
			s.log.Info("promoted raft voter", "member", a.id, "reason", a.reason)
		} else {
			delete(r.deadSince, a.id)
			s.log.Warn("removed raft voter", "member", a.id, "reason", a.reason)
		}
	}
}

// nodeStates returns every recorded node's state.
func (s *Store) nodeStates() map[string]meta.NodeState {
	out := map[string]meta.NodeState{}
	s.View(func(st *meta.State) {
		for id, n := range st.Nodes {
			out[id] = n.State
		}
	})
	return out
}

// RemoveServer takes node id out of the Raft configuration; decommissioning
// calls it once the node holds no data. It must run on the leader: elsewhere
// it returns *NotLeaderError (or ErrNoLeader). Removing a node that is not in
// the configuration succeeds.
//
// A voter is replaced before it goes: a live non-voter of an up node that has
// been in the configuration for a reconcile interval (the smallest id) is
// promoted, then the voter is demoted, then removed. Without
// a replacement the voter is still removed when the remaining voters keep a
// live majority, else ErrNoQuorum; the last voter is never removed. Removing
// the leader itself makes it step down once the change commits.
//
// Run does not add the node back while it stays in the live members, nor
// ever while the state records it draining or out; a node removed while up
// that later restarts rejoins as a non-voter. Decommissioning should record
// the node as out, so that no future leader adds it back either.
func (s *Store) RemoveServer(ctx context.Context, id string) error {
	if s.raft.State() != raft.Leader {
		_, addr := s.Leader()
		if addr == "" {
			return ErrNoLeader
		}
		return &NotLeaderError{Leader: addr}
	}
	s.confMu.Lock()
	defer s.confMu.Unlock()
	states := s.nodeStates()
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("raftfsm: read configuration: %w", err)
	}
	var (
		target raft.Server
		found  bool
		voters []raft.Server
		nonvot = map[string]bool{}
	)
	for _, srv := range f.Configuration().Servers {
		if string(srv.ID) == id {
			target, found = srv, true
		}
		if srv.Suffrage == raft.Voter {
			voters = append(voters, srv)
		} else {
			nonvot[string(srv.ID)] = true
		}
	}
	// Keep Run from adding it back as a non-voter while it is still alive.
	s.removed[id] = true
	if !found {
		return nil
	}
	timeout := s.timeout(ctx)
	change := func(what string, fut raft.IndexFuture) error {
		if err := waitFuture(ctx, fut, s.done); err != nil {
			return fmt.Errorf("raftfsm: %s: %w", what, err)
		}
		return nil
	}
	if target.Suffrage == raft.Voter {
		live := map[string]Member{}
		if p := s.members.Load(); p != nil {
			for _, m := range *p {
				live[m.ID] = m
			}
		}
		var repl *Member
		for _, cid := range s.eligible {
			if m, ok := live[cid]; ok && nonvot[cid] && cid != id && states[cid] == meta.StateUp && m.RPCAddr != "" {
				repl = &m
				break
			}
		}
		if repl != nil {
			if err := change("promote "+repl.ID, s.raft.AddVoter(raft.ServerID(repl.ID), raft.ServerAddress(repl.RPCAddr), 0, timeout)); err != nil {
				return err
			}
			s.log.Info("promoted raft voter", "member", repl.ID, "reason", "replaces removed voter "+id)
		} else {
			alive := 0
			for _, v := range voters {
				if _, ok := live[string(v.ID)]; ok && string(v.ID) != id {
					alive++
				}
			}
			if rest := len(voters) - 1; rest == 0 || 2*alive <= rest {
				return fmt.Errorf("%w: removing voter %s leaves %d voters, %d of them alive", ErrNoQuorum, id, rest, alive)
			}
		}
		if err := change("demote "+id, s.raft.DemoteVoter(raft.ServerID(id), 0, timeout)); err != nil {
			return err
		}
	}
	if err := change("remove "+id, s.raft.RemoveServer(raft.ServerID(id), 0, timeout)); err != nil {
		return err
	}
	s.log.Info("removed from raft", "member", id, "was_voter", target.Suffrage == raft.Voter)
	return nil
}

// Status is this node's view of Raft for cluster status.
type Status struct {
	State        string   // "Leader", "Follower", "Candidate", "Shutdown"
	LeaderID     string   // empty when unknown
	Term         uint64   // current term
	CommitIndex  uint64   // highest log index known committed
	AppliedIndex uint64   // last index applied to the local meta.State
	LastIndex    uint64   // last index in the local log
	Servers      []Server // the configuration, sorted by id
}

// Status returns this node's view of Raft.
func (s *Store) Status() Status {
	leader, _ := s.Leader()
	return Status{
		State:        s.raft.State().String(),
		LeaderID:     leader,
		Term:         s.raft.CurrentTerm(),
		CommitIndex:  s.raft.CommitIndex(),
		AppliedIndex: s.AppliedIndex(),
		LastIndex:    s.raft.LastIndex(),
		Servers:      s.Servers(),
	}
}
