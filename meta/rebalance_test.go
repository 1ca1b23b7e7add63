package meta_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

// TestRebalanceLifecycle: a node joins, the next epoch records the PGs
// that moved, no epoch is installed while they move, PGMoved settles
// them; a drained node goes out only when no PG uses it, and keeps its
// state when it comes back up.
func TestRebalanceLifecycle(t *testing.T) {
	s := metatest.State(t, metatest.Options{K: 2, M: 1, Nodes: 3, PGCount: 64})
	n4 := metatest.Nodes(4, 2)[3]
	mustApply(t, s, meta.NodeUp{Node: *n4})

	next, err := meta.NextPlacement(s.Placement, s.SortedNodes(), 64, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	next.Created = metatest.Created
	mustApply(t, s, meta.SetPlacement{Placement: next})
	moving := len(s.Placement.Moving)
	if moving == 0 || moving != s.Placement.MovingTotal || moving == 64 {
		t.Fatalf("moving %d of %d PGs after adding a node to 3", moving, s.Placement.MovingTotal)
	}
	for pg, old := range s.Placement.Moving {
		if len(old) != 3 || slices.Equal(old, s.Placement.PGs[pg]) {
			t.Fatalf("pg %d: old %v new %v", pg, old, s.Placement.PGs[pg])
		}
	}
	again, err := meta.NextPlacement(s.Placement, s.SortedNodes(), 64, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(meta.SetPlacement{Placement: again}); !errors.Is(err, meta.ErrRebalancing) {
		t.Fatalf("epoch during a rebalance: %v", err)
	}
	if err := s.Apply(meta.PGMoved{Epoch: 1, PGs: []int{0}}); !errors.Is(err, meta.ErrStaleEpoch) {
		t.Fatalf("pg moved of an old epoch: %v", err)
	}

	// Drain n1: refused out while it holds shards.
	mustApply(t, s, meta.SetNodeState{ID: "n1", State: meta.StateDraining})
	if err := s.Apply(meta.SetNodeState{ID: "n1", State: meta.StateOut}); !errors.Is(err, meta.ErrNodeState) {
		t.Fatalf("out while holding data: %v", err)
	}
	// A restart (NodeUp) keeps the drain.
	n1 := *s.Nodes["n1"]
	mustApply(t, s, meta.NodeUp{Node: n1})
	if s.Nodes["n1"].State != meta.StateDraining {
		t.Fatalf("node up reset the drain: state %d", s.Nodes["n1"].State)
	}

	var pgs []int
	for pg := range s.Placement.Moving {
		pgs = append(pgs, pg)
	}
	mustApply(t, s, meta.PGMoved{Epoch: 2, PGs: pgs})
	if s.Placement.Rebalancing() {
		t.Fatalf("still moving: %v", s.Placement.Moving)
	}
	// The drain epoch moves every shard off n1.
	drain, err := meta.NextPlacement(s.Placement, s.SortedNodes(), 64, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, meta.SetPlacement{Placement: drain})
	if !s.Placement.UsesNode(s.Nodes["n1"]) {
		t.Fatalf("n1 not in the moving PGs of the drain epoch")
	}
	pgs = pgs[:0]
	for pg := range s.Placement.Moving {
		pgs = append(pgs, pg)
	}
	mustApply(t, s, meta.PGMoved{Epoch: 3, PGs: pgs})
	if s.Placement.UsesNode(s.Nodes["n1"]) {
		t.Fatalf("n1 still placed after its drain")
	}
	mustApply(t, s, meta.SetNodeState{ID: "n1", State: meta.StateOut})
	if err := s.Apply(meta.SetNodeState{ID: "n1", State: meta.StateUp}); !errors.Is(err, meta.ErrNodeState) {
		t.Fatalf("out is final: %v", err)
	}
	if err := s.Apply(meta.SetNodeState{ID: "zz", State: meta.StateDraining}); !errors.Is(err, meta.ErrNoSuchNode) {
		t.Fatalf("unknown node: %v", err)
	}
	// The snapshot keeps the moving state.
	mustApply(t, s, meta.NodeUp{Node: *metatest.Nodes(5, 2)[4]})
	grow, err := meta.NextPlacement(s.Placement, s.SortedNodes(), 64, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, meta.SetPlacement{Placement: grow})
	c := s.Clone()
	if len(c.Placement.Moving) != len(s.Placement.Moving) || c.Placement.MovingTotal != s.Placement.MovingTotal {
		t.Fatalf("clone lost the moving PGs")
	}
}

// TestNextPlacementKeepsShardIndex: a drive that stays in a PG keeps its
// shard index, through growth and drains (the migration copies shard i of
// a PG from its old drive to its new one and never reindexes a drive).
func TestNextPlacementKeepsShardIndex(t *testing.T) {
	nodes := metatest.Nodes(9, 3)
	cur, err := meta.NextPlacement(meta.Placement{}, nodes[:4], 256, 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	steps := [][]*meta.Node{nodes[:5], nodes[:6], nodes[:9], nodes[1:9], nodes[2:7], nodes[:8]}
	for i, set := range steps {
		next, err := meta.NextPlacement(cur, set, 256, 6, cur.Epoch+1)
		if err != nil {
			t.Fatal(err)
		}
		for pg, ids := range next.PGs {
			for pos, id := range ids {
				if old := slices.Index(cur.PGs[pg], id); old >= 0 && old != pos {
					t.Fatalf("step %d pg %d: drive %s moved from shard %d to %d", i, pg, id, old, pos)
				}
			}
		}
		cur = next
	}
}

// TestNextPlacementFixedPoint: recomputing the placement of an unchanged
// topology moves nothing (the leader recomputes it after every restart).
func TestNextPlacementFixedPoint(t *testing.T) {
	for _, tc := range []struct{ nodes, drives, pgs, width int }{{4, 2, 256, 4}, {5, 2, 256, 4}, {3, 1, 64, 3}, {6, 4, 1024, 6}, {9, 3, 256, 6}} {
		nodes := metatest.Nodes(tc.nodes, tc.drives)
		p, err := meta.NextPlacement(meta.Placement{}, nodes, tc.pgs, tc.width, 1)
		if err != nil {
			t.Fatal(err)
		}
		q, err := meta.NextPlacement(p, nodes, tc.pgs, tc.width, 2)
		if err != nil {
			t.Fatal(err)
		}
		moved := 0
		for pg := range p.PGs {
			if !slices.Equal(p.PGs[pg], q.PGs[pg]) {
				moved++
			}
		}
		if moved != 0 {
			t.Errorf("%+v: recomputing an unchanged topology moves %d PGs", tc, moved)
		}
	}
}
