package meta

func (s *State) applyNodeUp(c NodeUp) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	n := &c.Node
	if n.ID == "" {
		return invalid("node id is empty")
	}
	if n.RPCAddr == "" {
		return invalid("node %s has no rpc address", n.ID)
	}
	owner := map[string]string{} // drive id -> node id, other nodes only
	for _, other := range s.Nodes {
		if other.ID == n.ID {
			continue
		}
		for _, d := range other.Drives {
			owner[d.ID] = other.ID
		}
	}
	seen := map[string]bool{}
	for _, d := range n.Drives {
		switch {
		case d == nil || d.ID == "":
			return invalid("node %s has a drive without id", n.ID)
		case seen[d.ID]:
			return invalid("node %s lists drive %s twice", n.ID, d.ID)
		case owner[d.ID] != "":
			return invalid("drive %s of node %s already belongs to node %s", d.ID, n.ID, owner[d.ID])
		case d.State > StateOut:
			return invalid("drive %s has unknown state %d", d.ID, d.State)
		}
		seen[d.ID] = true
	}

	up := n.clone()
	up.State = StateUp
	for _, d := range up.Drives {
		d.NodeID = up.ID
		if d.State == 0 {
			d.State = StateUp
		}
	}
	if old, ok := s.Nodes[n.ID]; ok {
		up.Joined = old.Joined
		// A draining or decommissioned node that restarts keeps its
		// state: only SetNodeState changes it.
		if old.State == StateDraining || old.State == StateOut {
			up.State = old.State
		}
	}
	s.Nodes[up.ID] = up
	return nil
}
