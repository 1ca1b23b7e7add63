package raftfsm

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/meta"
)

func TestPlanVoters(t *testing.T) {
	set := func(ids ...string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	for _, tc := range []struct {
		name string
		view voterView
		want string // actions: +id promote, -id remove, space separated
		noQ  bool   // want no quorum
	}{
		{
			name: "stable three voters",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "b", "c", "d"), eligible: []string{"d"}, maxVoters: 5},
			want: "",
		},
		{
			name: "dead voter within grace: nothing",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "b", "d"), eligible: []string{"d"}, maxVoters: 5},
			want: "",
		},
		{
			name: "expired voter replaced: promote first",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "b", "d"), expired: []string{"c"}, eligible: []string{"d"}, maxVoters: 5},
			want: "+d -c",
		},
		{
			name: "expired voter, no replacement, odd count: kept",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "b"), expired: []string{"c"}, maxVoters: 5},
			want: "",
		},
		{
			name: "expired voter in an even count: removed",
			view: voterView{voters: []string{"a", "b", "c", "d"}, live: set("a", "b", "c"), expired: []string{"d"}, maxVoters: 5},
			want: "-d",
		},
		{
			name: "five voters, two expired, one replacement, then the other kept",
			view: voterView{voters: []string{"a", "b", "c", "d", "e"}, live: set("a", "b", "c", "f"), expired: []string{"d", "e"}, eligible: []string{"f"}, maxVoters: 5},
			want: "+f -d",
		},
		{
			name: "five voters, two expired, no replacement: shrink to three",
			view: voterView{voters: []string{"a", "b", "c", "d", "e"}, live: set("a", "b", "c"), expired: []string{"d", "e"}, maxVoters: 5},
			want: "-d -e",
		},
		{
			name: "five voters, two expired, two replacements",
			view: voterView{voters: []string{"a", "b", "c", "d", "e"}, live: set("a", "b", "c", "f", "g", "h"), expired: []string{"d", "e"}, eligible: []string{"f", "g", "h"}, maxVoters: 5},
			want: "+f -d +g -e",
		},
		{
			name: "no quorum: no change at all",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "d"), expired: []string{"b", "c"}, eligible: []string{"d"}, maxVoters: 5},
			noQ:  true,
		},
		{
			name: "half the voters alive is no quorum",
			view: voterView{voters: []string{"a", "b", "c", "d"}, live: set("a", "b", "e"), expired: []string{"c", "d"}, eligible: []string{"e"}, maxVoters: 5},
			noQ:  true,
		},
		{
			name: "grow one to three",
			view: voterView{voters: []string{"a"}, live: set("a", "b", "c"), eligible: []string{"b", "c"}, maxVoters: 5},
			want: "+b +c",
		},
		{
			name: "grow stops at an odd count",
			view: voterView{voters: []string{"a"}, live: set("a", "b"), eligible: []string{"b"}, maxVoters: 5},
			want: "",
		},
		{
			name: "grow capped by Voters",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "b", "c", "d", "e", "f"), eligible: []string{"d", "e", "f"}, maxVoters: 3},
			want: "",
		},
		{
			name: "replace then grow to five",
			view: voterView{voters: []string{"a", "b", "c"}, live: set("a", "b", "d", "e", "f"), expired: []string{"c"}, eligible: []string{"d", "e", "f"}, maxVoters: 5},
			want: "+d -c +e +f",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, q := planVoters(tc.view)
			if q == tc.noQ {
				t.Fatalf("quorum %v, want %v", q, !tc.noQ)
			}
			var got []string
			for _, a := range plan {
				if a.promote {
					got = append(got, "+"+a.id)
				} else {
					got = append(got, "-"+a.id)
				}
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Fatalf("plan %q, want %q", s, tc.want)
			}
			// Every prefix of the plan keeps a live majority of the voters.
			voters := map[string]bool{}
			for _, v := range tc.view.voters {
				voters[v] = true
			}
			for _, a := range plan {
				voters[a.id] = a.promote
				if !a.promote {
					delete(voters, a.id)
				}
				alive := 0
				for v := range voters {
					if tc.view.live[v] {
						alive++
					}
				}
				if 2*alive <= len(voters) {
					t.Fatalf("after %+v: %d of %d voters alive", a, alive, len(voters))
				}
			}
		})
	}
}

// roles returns the leader's configuration as "id:v" / "id:n" sorted.
func roles(st *Store) string {
	var out []string
	for _, s := range st.Servers() {
		r := "n"
		if s.Voter {
			r = "v"
		}
		out = append(out, s.ID+":"+r)
	}
	return strings.Join(out, " ")
}

// TestVoterReplacement kills a voter of a 3-voter + 1-non-voter cluster:
// after the grace period the non-voter is promoted and the dead voter
// removed, writes keep working, and the dead node comes back as a non-voter.
// Then the leader itself dies, and the same happens under the new leader.
func TestVoterReplacement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	const grace = 1500 * time.Millisecond
	h := newHarness(t)
	h.mod = func(c *Config) { c.VoterGrace = grace }
	for range 3 {
		h.add(3)
	}
	eventually(t, "three voters", func() bool { l := h.leader(); return l != nil && l.st.Ready() })
	n4 := h.add(0)
	h.event(EventJoin, n4.id)
	eventually(t, "n4 non-voter", func() bool {
		l := h.leader()
		return l != nil && strings.Contains(roles(l.st), n4.id+":n") && n4.st.Ready()
	})

	var victim *testNode
	for _, n := range h.running() {
		if !n.st.IsLeader() && n.id != n4.id {
			victim = n
			break
		}
	}
	down := time.Now()
	h.stop(victim.id)
	h.event(EventLeave, victim.id)
	want := func() string {
		var ids []string
		for _, n := range h.running() {
			ids = append(ids, n.id+":v")
		}
		slices.Sort(ids)
		return strings.Join(ids, " ")
	}()
	eventually(t, "n4 promoted and "+victim.id+" removed", func() bool {
		l := h.leader()
		return l != nil && roles(l.st) == want
	})
	if took := time.Since(down); took < grace {
		t.Fatalf("voter replaced after %v, before the grace period %v", took, grace)
	}
	if err := n4.st.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "after-replacement"}}); err != nil {
		t.Fatal(err)
	}

	h.start(victim)
	h.event(EventJoin, victim.id)
	eventually(t, victim.id+" back as a non-voter", func() bool {
		l := h.leader()
		return l != nil && strings.Contains(roles(l.st), victim.id+":n") && hasBucket(victim.st, "after-replacement")
	})
	time.Sleep(3 * h.config(victim).ReconcileInterval)
	if v, nv := voters(h.leader().st); v != 3 || nv != 1 {
		t.Fatalf("%d voters, %d non-voters after the dead voter came back: %s", v, nv, roles(h.leader().st))
	}

	// The leader dies: the new leader replaces it with the returned node.
	old := h.leader()
	h.stop(old.id)
	h.event(EventLeave, old.id)
	eventually(t, "old leader replaced", func() bool {
		l := h.leader()
		return l != nil && roles(l.st) == strings.Join(sortedIDs(h.running(), ":v"), " ")
	})
	if err := victim.st.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "after-leader-loss"}}); err != nil {
		t.Fatal(err)
	}
}

func sortedIDs(ns []*testNode, suffix string) []string {
	var ids []string
	for _, n := range ns {
		ids = append(ids, n.id+suffix)
	}
	slices.Sort(ids)
	return ids
}

// TestNoReplacementWithoutQuorum stops two of three voters: the leader
// cannot commit, so the remaining non-voter is never promoted.
func TestNoReplacementWithoutQuorum(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	h := newHarness(t)
	h.mod = func(c *Config) { c.VoterGrace = 300 * time.Millisecond }
	for range 3 {
		h.add(3)
	}
	eventually(t, "three voters", func() bool { l := h.leader(); return l != nil && l.st.Ready() })
	n4 := h.add(0)
	h.event(EventJoin, n4.id)
	eventually(t, "n4 non-voter", func() bool { l := h.leader(); return l != nil && strings.Contains(roles(l.st), n4.id+":n") })
	l := h.leader()
	var stopped int
	for _, n := range h.running() {
		if n != l && n != n4 && stopped < 2 {
			h.stop(n.id)
			stopped++
		}
	}
	// Stop the leader last: the survivor was a follower and stays one.
	if stopped < 2 {
		h.stop(l.id)
	}
	time.Sleep(3 * time.Second)
	for _, n := range h.running() {
		for _, s := range n.st.Servers() {
			if s.ID == n4.id && s.Voter {
				t.Fatalf("%s promoted without a quorum: %s", n4.id, roles(n.st))
			}
		}
	}
}

// TestRemoveServer removes a voter (a non-voter takes its place) and a
// non-voter, and refuses a follower's call and a removal that leaves the
// voters without a live majority.
func TestRemoveServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	h := newHarness(t)
	h.mod = func(c *Config) { c.Voters = 3 }
	for range 3 {
		h.add(3)
	}
	eventually(t, "three voters", func() bool { l := h.leader(); return l != nil && l.st.Ready() })
	n4, n5 := h.add(0), h.add(0)
	h.event(EventJoin, n4.id)
	h.event(EventJoin, n5.id)
	eventually(t, "3 voters and 2 non-voters", func() bool {
		l := h.leader()
		if l == nil {
			return false
		}
		v, nv := voters(l.st)
		return v == 3 && nv == 2
	})
	l := h.leader()
	eventually(t, "non-voters caught up", func() bool {
		l.st.confMu.Lock()
		defer l.st.confMu.Unlock()
		return len(l.st.eligible) == 2
	})
	var victim string
	for _, s := range l.st.Servers() {
		if s.Voter && s.ID != l.id {
			victim = s.ID
			break
		}
	}
	ctx := ctxT(t)
	var nl *NotLeaderError
	if err := h.follower().st.RemoveServer(ctx, victim); !errors.As(err, &nl) || nl.Leader != l.addr {
		t.Fatalf("on a follower: %v", err)
	}
	if err := l.st.RemoveServer(ctx, victim); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, id := range []string{"n1", "n2", "n3"} {
		if id != victim {
			want = append(want, id+":v")
		}
	}
	want = append(want, n4.id+":v", n5.id+":n")
	if got := roles(l.st); got != strings.Join(want, " ") {
		t.Fatalf("after removing voter %s: %s, want %s", victim, got, want)
	}
	if err := l.st.RemoveServer(ctx, n5.id); err != nil {
		t.Fatal(err)
	}
	// The removed nodes stay alive: Run must not add them back.
	time.Sleep(3 * h.config(n4).ReconcileInterval)
	if v, nv := voters(l.st); v != 3 || nv != 0 {
		t.Fatalf("after removals: %s", roles(l.st))
	}
	if err := l.st.RemoveServer(ctx, victim); err != nil {
		t.Fatalf("removing again: %v", err)
	}
	if err := l.st.Propose(ctx, meta.CreateBucket{Bucket: meta.Bucket{Name: "after-remove"}}); err != nil {
		t.Fatal(err)
	}

	// One of the three voters dies (within the grace period): removing
	// another would leave one live voter of two.
	var dead, other string
	for _, s := range l.st.Servers() {
		if s.ID == l.id {
			continue
		}
		if dead == "" {
			dead = s.ID
		} else {
			other = s.ID
		}
	}
	h.stop(dead)
	time.Sleep(3 * h.config(n4).ReconcileInterval) // Run sees it gone
	if err := l.st.RemoveServer(ctx, other); !errors.Is(err, ErrNoQuorum) {
		t.Fatalf("removing %s with %s dead: %v", other, dead, err)
	}
	if v, _ := voters(l.st); v != 3 {
		t.Fatalf("refused removal changed the voters: %s", roles(l.st))
	}
}
