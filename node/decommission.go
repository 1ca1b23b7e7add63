package node

import (
	"context"
	"fmt"
	"net/http"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

// Decommission drains node id (the admin API's POST nodes/ID/decommission):
// it records the node draining, so that the leader's next placement epoch
// leaves its drives out and the rebalancers move its PGs to the others;
// the leader records it out and removes it from Raft once no PG uses it.
//
// Refused (CodeDecommissionRefused) when the node is not up, when the
// remaining up nodes have fewer drives than a PG has shards, when fewer
// nodes than a PG has shards would remain (unless force), or when the
// data on its drives (their file systems' used bytes: exact when every
// drive is its own file system) exceeds the free space of the remaining
// online drives.
func (n *Node) Decommission(ctx context.Context, id string, force bool) (adminapi.DecommissionResult, error) {
	res := adminapi.DecommissionResult{Node: id}
	st, err := n.ClusterStatus(ctx)
	if err != nil {
		return res, err
	}
	var (
		target     *adminapi.NodeStatus
		restNodes  int
		restDrives int
	)
	for i := range st.Nodes {
		ns := &st.Nodes[i]
		if ns.ID == id {
			target = ns
			continue
		}
		if ns.State != "up" {
			continue
		}
		restNodes++
		for _, d := range ns.Drives {
			if d.State == "up" {
				restDrives++
				if d.Online {
					res.FreeBytes += d.Free
				}
			}
		}
	}
	refuse := func(format string, args ...any) (adminapi.DecommissionResult, error) {
		return res, &adminapi.Error{Code: adminapi.CodeDecommissionRefused, Status: http.StatusConflict, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case target == nil:
		return res, &adminapi.Error{Code: adminapi.CodeNoSuchNode, Status: http.StatusNotFound, Message: fmt.Sprintf("No node %q in this cluster.", id)}
	case target.State == "draining":
		res.State, res.Message = "draining", "Node "+id+" is already being drained."
		return res, nil
	case target.State != "up":
		return refuse("Node %s is %s, not up: only an up node can be drained.", id, target.State)
	}
	for _, d := range target.Drives {
		res.DataBytes += d.Used
	}
	var k, m int
	if _, err := fmt.Sscanf(st.EC, "%d+%d", &k, &m); err != nil {
		return res, fmt.Errorf("node: cluster EC layout %q: %w", st.EC, err)
	}
	width := k + m
	switch {
	case restDrives < width:
		return refuse("Draining %s would leave %d drives on up nodes; every PG needs %d (EC %s).", id, restDrives, width, st.EC)
	case restNodes < width && !force:
		return refuse("Draining %s would leave %d nodes for PGs of %d shards (EC %s): some node would hold two shards of a PG and its loss would cost both. Add a node first, or force it.", id, restNodes, width, st.EC)
	case res.DataBytes > res.FreeBytes:
		return refuse("Node %s's drives hold %d bytes; the other online drives have %d bytes free.", id, res.DataBytes, res.FreeBytes)
	}
	if err := n.raft.Propose(ctx, meta.SetNodeState{ID: id, State: meta.StateDraining}); err != nil {
		return res, err
	}
	res.State = "draining"
	res.Message = fmt.Sprintf("Node %s is draining: its PGs move to the other %d nodes; it leaves the cluster when empty.", id, restNodes)
	return res, nil
}

// CancelDecommission stops draining node id: it is up again and the next
// placement epoch gives it PGs again.
func (n *Node) CancelDecommission(ctx context.Context, id string) (adminapi.DecommissionResult, error) {
	res := adminapi.DecommissionResult{Node: id}
	var state meta.NodeState
	n.raft.View(func(s *meta.State) {
		if nd := s.Nodes[id]; nd != nil {
			state = nd.State
		}
	})
	switch state {
	case 0:
		return res, &adminapi.Error{Code: adminapi.CodeNoSuchNode, Status: http.StatusNotFound, Message: fmt.Sprintf("No node %q in this cluster.", id)}
	case meta.StateUp:
		res.State, res.Message = "up", "Node "+id+" is not being drained."
		return res, nil
	case meta.StateOut:
		return res, &adminapi.Error{Code: adminapi.CodeDecommissionRefused, Status: http.StatusConflict, Message: "Node " + id + " has left the cluster; start it with empty drives to add it as a new node."}
	}
	if err := n.raft.Propose(ctx, meta.SetNodeState{ID: id, State: meta.StateUp}); err != nil {
		return res, err
	}
	res.State, res.Message = "up", "Drain of "+id+" cancelled; its PGs move back."
	return res, nil
}
