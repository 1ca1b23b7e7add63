package node

import (
	"context"
	"fmt"
	"sort"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

// ClusterStatus assembles the admin API's view of the cluster from the
// replicated state, the Raft configuration and gossip liveness.
func (n *Node) ClusterStatus(ctx context.Context) (adminapi.ClusterStatus, error) {
	var st adminapi.ClusterStatus
	pgs := map[string]int{}
	n.raft.View(func(s *meta.State) {
		st.ClusterID = s.Cluster.ID
		st.EC = fmt.Sprintf("%d+%d", s.Cluster.K, s.Cluster.M)
		st.PGCount = s.Cluster.PGCount
		st.BlockSize = s.Cluster.BlockSize
		st.InlineMax = s.Cluster.InlineMax
		st.PlacementEpoch = s.Placement.Epoch
		st.Buckets = len(s.Buckets)
		for _, pg := range s.Placement.PGs {
			for _, d := range pg {
				pgs[d]++
			}
		}
		for _, nd := range s.Nodes {
			ns := adminapi.NodeStatus{ID: nd.ID, RPCAddr: nd.RPCAddr, S3Addr: nd.S3Addr, State: stateName(nd.State), Raft: "none"}
			for _, d := range nd.Drives {
				ns.Drives = append(ns.Drives, adminapi.DriveStatus{ID: d.ID, State: stateName(d.State), PGs: pgs[d.ID]})
			}
			st.Nodes = append(st.Nodes, ns)
		}
	})
	leader, _ := n.raft.Leader()
	st.Leader = leader
	roles := map[string]string{}
	for _, s := range n.raft.Servers() {
		roles[s.ID] = "nonvoter"
		if s.Voter {
			roles[s.ID] = "voter"
		}
	}
	alive := map[string]bool{}
	for _, m := range n.gossip.Members() {
		alive[m.ID] = true
	}
	for i := range st.Nodes {
		if r, ok := roles[st.Nodes[i].ID]; ok {
			st.Nodes[i].Raft = r
		}
		st.Nodes[i].Alive = alive[st.Nodes[i].ID]
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].ID < st.Nodes[j].ID })
	return st, nil
}

func stateName(s meta.NodeState) string {
	switch s {
	case meta.StateUp:
		return "up"
	case meta.StateDraining:
		return "draining"
	case meta.StateOut:
		return "out"
	}
	return "unknown"
}
