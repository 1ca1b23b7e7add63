package node

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

// Version is the build version. It is set at link time only
// (-ldflags "-X github.com/strata-io/strata/node.Version=v1.2.3") and never
// assigned by code; read it through BuildVersion.
var Version = "dev"

// BuildVersion returns Version, or when it was not set at link time the
// module version the Go toolchain stamped into the binary, or "dev".
func BuildVersion() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

// statusTimeout bounds the "node.status" calls of one cluster status: a
// node that does not answer in time is reported with its drives offline.
const statusTimeout = 2 * time.Second

// ClusterStatus assembles the admin API's view of the cluster from the
// replicated state, the Raft configuration, gossip liveness and the drive
// statistics every live node reports over rpc ("node.status", asked in
// parallel).
func (n *Node) ClusterStatus(ctx context.Context) (adminapi.ClusterStatus, error) {
	var (
		st       adminapi.ClusterStatus
		k        int
		pgs      [][]string
		nodeOf   = map[string]string{}
		pgCount  = map[string]int{}
		recorded = map[string]bool{}
	)
	st.Node = n.cfg.ID
	n.raft.View(func(s *meta.State) {
		st.ClusterID = s.Cluster.ID
		st.EC = fmt.Sprintf("%d+%d", s.Cluster.K, s.Cluster.M)
		st.PGCount = s.Cluster.PGCount
		st.BlockSize = s.Cluster.BlockSize
		st.InlineMax = s.Cluster.InlineMax
		st.PlacementEpoch = s.Placement.Epoch
		st.Moving = adminapi.RebalanceInfo{Epoch: s.Placement.Epoch, MovingPGs: len(s.Placement.Moving),
			MovingTotal: s.Placement.MovingTotal, TotalPGs: len(s.Placement.PGs)}
		if s.Placement.Created > 0 {
			st.Moving.Started = time.Unix(0, s.Placement.Created)
		}
		st.Buckets = len(s.Buckets)
		k = s.Cluster.K
		pgs = make([][]string, len(s.Placement.PGs))
		for i, pg := range s.Placement.PGs {
			pgs[i] = slices.Clone(pg)
		}
		for _, pg := range s.Placement.PGs {
			for _, d := range pg {
				pgCount[d]++
			}
		}
		for _, nd := range s.Nodes {
			recorded[nd.ID] = true
			ns := adminapi.NodeStatus{ID: nd.ID, RPCAddr: nd.RPCAddr, S3Addr: nd.S3Addr, State: stateName(nd.State), Raft: "none"}
			for _, d := range nd.Drives {
				nodeOf[d.ID] = nd.ID
				ns.Drives = append(ns.Drives, adminapi.DriveStatus{ID: d.ID, Path: d.Path, State: stateName(d.State), PGs: pgCount[d.ID]})
			}
			st.Nodes = append(st.Nodes, ns)
		}
	})

	live := map[string]int{} // node id -> index in st.Nodes
	for _, m := range n.gossip.Members() {
		i := slices.IndexFunc(st.Nodes, func(ns adminapi.NodeStatus) bool { return ns.ID == m.ID })
		if i < 0 {
			// Alive but not recorded yet: the leader is adding it.
			ns := adminapi.NodeStatus{ID: m.ID, RPCAddr: m.Meta.RPCAddr, S3Addr: m.Meta.S3Addr, State: "joining", Raft: "none"}
			for _, id := range m.Meta.Drives {
				ns.Drives = append(ns.Drives, adminapi.DriveStatus{ID: id, State: "joining"})
			}
			st.Nodes = append(st.Nodes, ns)
			i = len(st.Nodes) - 1
		}
		ns := &st.Nodes[i]
		ns.Alive, ns.GossipAddr, ns.Version = true, m.GossipAddr, m.Meta.Version
		if m.Meta.RPCAddr != "" {
			ns.RPCAddr = m.Meta.RPCAddr // the address it has now
		}
		live[m.ID] = i
	}
	n.fillDrives(ctx, st.Nodes, live)
	st.Heal = healProgress(st.Nodes)
	st.Rebalance = rebalanceProgress(st.Moving, st.Nodes)

	rs := n.raft.Status()
	st.Leader = rs.LeaderID
	st.Raft = adminapi.RaftStatus{Leader: rs.LeaderID, Term: rs.Term, CommitIndex: rs.CommitIndex, AppliedIndex: rs.AppliedIndex}
	roles := map[string]string{}
	aliveVoters := 0
	for _, s := range rs.Servers {
		if s.Voter {
			roles[s.ID] = "voter"
			st.Raft.Voters = append(st.Raft.Voters, s.ID)
			if _, ok := live[s.ID]; ok {
				aliveVoters++
			}
		} else {
			roles[s.ID] = "nonvoter"
			st.Raft.NonVoters = append(st.Raft.NonVoters, s.ID)
		}
	}
	st.Raft.Tolerates = aliveVoters - (len(st.Raft.Voters)/2 + 1)
	online := map[string]bool{}
	for i := range st.Nodes {
		if r, ok := roles[st.Nodes[i].ID]; ok {
			st.Nodes[i].Raft = r
		}
		for _, d := range st.Nodes[i].Drives {
			online[d.ID] = d.Online
		}
	}
	st.PGs, st.Survival = assessPlacement(pgs, k, nodeOf, online)
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].ID < st.Nodes[j].ID })
	return st, nil
}

// fillDrives sets the drive statistics of every live node in nodes: this
// node's from its own drives, the others' by a "node.status" call each, in
// parallel, bounded by statusTimeout. A node that does not answer has its
// drives offline with the error.
func (n *Node) fillDrives(ctx context.Context, nodes []adminapi.NodeStatus, live map[string]int) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	var wg sync.WaitGroup
	reports := make([]nodeReport, len(nodes))
	errs := make([]error, len(nodes))
	for id, i := range live {
		if id == n.cfg.ID {
			reports[i] = n.localReport()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = n.callNodeStatus(ctx, nodes[i].RPCAddr)
		}()
	}
	wg.Wait()
	for _, i := range live {
		ns := &nodes[i]
		if reports[i].Version != "" {
			ns.Version = reports[i].Version
		}
		ns.Heal = reports[i].Heal
		ns.Rebalance = reports[i].Rebalance
		ns.ILM = reports[i].ILM
		byID := map[string]driveReport{}
		for _, d := range reports[i].Drives {
			byID[d.ID] = d
		}
		for j := range ns.Drives {
			d := &ns.Drives[j]
			r, ok := byID[d.ID]
			switch {
			case errs[i] != nil:
				d.Error = "node status: " + errs[i].Error()
			case !ok:
				d.Error = "not reported by its node"
			default:
				d.Online, d.Error, d.IndexResets = r.Online, r.Error, r.IndexResets
				d.Capacity, d.Used, d.Free = r.Capacity, r.Used, r.Free
				if d.Path == "" {
					d.Path = r.Path
				}
			}
		}
	}
}

// assessPlacement counts placement groups by health and computes how many
// drive and node losses every object survives now.
//
// A PG with a drives online (of K+M) has a-K to spare: any a-K of its drives
// may fail. Over all PGs that is the minimum. For nodes, a PG survives the
// loss of j nodes when even the j nodes holding most of its online shards
// take no more than a-K; the answer is again the minimum over PGs. nodeOf
// maps drive id to node id; online says which drives answer now.
func assessPlacement(pgs [][]string, k int, nodeOf map[string]string, online map[string]bool) (adminapi.PGHealth, adminapi.Survival) {
	h := adminapi.PGHealth{Total: len(pgs)}
	if len(pgs) == 0 || k < 1 {
		return h, adminapi.Survival{Summary: "No placement yet: the cluster stores no data."}
	}
	drives, nodes := math.MaxInt, math.MaxInt
	thinnest := 0 // PGs at the lowest spare
	for _, pg := range pgs {
		perNode := map[string]int{}
		avail := 0
		for _, d := range pg {
			if online[d] {
				avail++
				perNode[nodeOf[d]]++
			}
		}
		switch {
		case avail == len(pg):
			h.Healthy++
		case avail >= k:
			h.Degraded++
		default:
			h.Unavailable++
		}
		spare := avail - k
		counts := make([]int, 0, len(perNode))
		for _, c := range perNode {
			counts = append(counts, c)
		}
		slices.Sort(counts)
		slices.Reverse(counts)
		lose, taken := 0, 0
		for _, c := range counts {
			if taken+c > spare {
				break
			}
			taken += c
			lose++
		}
		if spare < 0 {
			lose = -1
		}
		switch {
		case spare < drives:
			drives, thinnest = spare, 1
		case spare == drives:
			thinnest++
		}
		nodes = min(nodes, lose)
	}
	if h.Unavailable > 0 {
		return h, adminapi.Survival{Drives: -1, Nodes: -1, Summary: fmt.Sprintf(
			"Some data is unreadable now: %d of %d placement groups have fewer than %d shards online.", h.Unavailable, h.Total, k)}
	}
	s := adminapi.Survival{Drives: drives, Nodes: nodes}
	switch {
	case drives == 0:
		s.Summary = fmt.Sprintf("Data survives no further loss now: %d of %d placement groups have only %d shards online; one more drive lost makes data unreadable.", thinnest, h.Total, k)
	case nodes == 0:
		s.Summary = fmt.Sprintf("Data survives the loss of any %s now, but not of a whole node.", plural(drives, "drive"))
	default:
		s.Summary = fmt.Sprintf("Data survives the loss of any %s or %s now.", plural(drives, "drive"), plural(nodes, "node"))
	}
	return h, s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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

// healProgress sums the nodes' self-healing into the cluster's: active
// while any node scans, refills or has read repairs queued.
func healProgress(nodes []adminapi.NodeStatus) adminapi.TaskProgress {
	var p adminapi.TaskProgress
	for _, ns := range nodes {
		h := ns.Heal
		if h == nil {
			continue
		}
		if h.Scanning || len(h.Refilling) > 0 || h.Queued > 0 {
			p.Active = true
		}
		p.PGsTotal += h.PGs
		p.BytesDone += h.BytesRepaired
	}
	return p
}

// rebalanceProgress is the cluster's rebalance: PGs from the placement,
// bytes from the nodes' counters (moved since they started; a client
// computes rates from two readings).
func rebalanceProgress(m adminapi.RebalanceInfo, nodes []adminapi.NodeStatus) adminapi.TaskProgress {
	p := adminapi.TaskProgress{Active: m.MovingPGs > 0, PGsTotal: m.MovingTotal, PGsDone: m.MovingTotal - m.MovingPGs}
	for _, ns := range nodes {
		if ns.Rebalance != nil {
			p.BytesDone += ns.Rebalance.BytesMoved
		}
	}
	return p
}
