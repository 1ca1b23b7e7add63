package meta

import "slices"

// PGMoved ends the move of PGs of placement epoch Epoch: they leave
// Placement.Moving, so readers stop consulting their old drives. The
// migrating node proposes it once every version of the PGs is on the new
// drives, verified, and the old copies are removed. PGs not moving are
// ignored (a retry); another epoch than the current is ErrStaleEpoch.
type PGMoved struct {
	Epoch uint64 `json:"epoch"`
	PGs   []int  `json:"pgs"`
}

// SetNodeState changes a node's lifecycle state:
//
//   - StateDraining (decommission): the next placement epoch leaves the
//     node's drives out, so its PGs move to the others. Only an up node is
//     drained.
//   - StateUp: cancels a drain (its PGs move back with the next epoch).
//   - StateOut: the node has left the cluster. Only a draining node no
//     PG places a shard on (current epoch and PGs still moving) goes out;
//     out is final: the node's id is never placed again.
type SetNodeState struct {
	ID    string    `json:"id"`
	State NodeState `json:"state"`
}

// Kind implements Command.
func (PGMoved) Kind() Kind { return KindPGMoved }

// Kind implements Command.
func (SetNodeState) Kind() Kind { return KindSetNodeState }

// Rebalancing reports whether PGs of the current epoch are still moving.
func (p *Placement) Rebalancing() bool { return len(p.Moving) > 0 }

// UsesNode reports whether the placement (the current epoch, or a PG still
// moving) places a shard on a drive of n.
func (p *Placement) UsesNode(n *Node) bool {
	ids := map[string]bool{}
	for _, d := range n.Drives {
		ids[d.ID] = true
	}
	uses := func(list []string) bool { return slices.ContainsFunc(list, func(id string) bool { return ids[id] }) }
	if slices.ContainsFunc(p.PGs, uses) {
		return true
	}
	for _, list := range p.Moving {
		if uses(list) {
			return true
		}
	}
	return false
}

func (s *State) applyPGMoved(c PGMoved) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if c.Epoch != s.Placement.Epoch {
		return reject(ErrStaleEpoch, "pgs moved in epoch %d, current is %d", c.Epoch, s.Placement.Epoch)
	}
	for _, pg := range c.PGs {
		delete(s.Placement.Moving, pg)
	}
	if len(s.Placement.Moving) == 0 {
		s.Placement.Moving = nil
	}
	return nil
}

func (s *State) applySetNodeState(c SetNodeState) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	n := s.Nodes[c.ID]
	if n == nil {
		return reject(ErrNoSuchNode, "node %q", c.ID)
	}
	switch {
	case n.State == c.State:
		return nil
	case n.State == StateOut:
		return reject(ErrNodeState, "node %s is out of the cluster", c.ID)
	case c.State == StateDraining && n.State == StateUp, c.State == StateUp && n.State == StateDraining:
	case c.State == StateOut && n.State == StateDraining:
		if s.Placement.UsesNode(n) {
			return reject(ErrNodeState, "node %s still holds shards of the placement", c.ID)
		}
	default:
		return reject(ErrNodeState, "node %s cannot go from state %d to %d", c.ID, n.State, c.State)
	}
	n.State = c.State
	return nil
}
