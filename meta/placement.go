package meta

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
)

// ComputePlacement maps pgCount placement groups to width drives each, using
// rendezvous (highest random weight) hashing over the up drives of up nodes.
//
// For each PG every candidate drive gets a score from a fixed hash of
// (pg, drive id); drives are ranked by score. The PG takes, in rank order, at
// most one drive per node; if that gives fewer than width drives it allows a
// second drive per node, then a third, and so on: the PG is as spread across
// nodes as the topology allows. Shard i of the PG is the i-th chosen drive in
// rank order.
//
// The result depends only on the set of (node, drive) ids and states, never
// on the order of nodes or drives in the input. Because a drive's score for a
// PG does not depend on the other drives, adding a node only changes the PGs
// in which one of its drives now ranks high enough.
//
// The hash is part of the placement format: changing it moves data. It is
// sha256(drive id) folded to 64 bits, xored with a mix of the PG number and
// mixed again (SplitMix64 finaliser). testdata/placement pins it.
//
// ComputePlacement is the first epoch of clusters formed so far, and stays
// unchanged because stored placements and test states depend on it. It
// balances only statistically (drive loads within about +-30 % of the mean
// at a few hundred shards per drive) and recomputing it on a new topology
// reshuffles shard indexes; new epochs come from NextPlacement, which
// starts from the stored placement, balances drives exactly and moves only
// what balance requires.
func ComputePlacement(nodes []*Node, pgCount, width int, epoch uint64) (Placement, error) {
	if pgCount < 1 || pgCount > MaxPGCount {
		return Placement{}, invalid("pg count %d out of range 1..%d", pgCount, MaxPGCount)
	}
	if width < 1 || width > MaxShards {
		return Placement{}, invalid("width %d out of range 1..%d", width, MaxShards)
	}

	type candidate struct {
		id   string
		node int    // index of the node, for the per-node limit
		hash uint64 // hash of the drive id
	}
	var cands []candidate
	nodeIdx := map[string]int{}
	for _, n := range nodes {
		if n == nil || n.State != StateUp {
			continue
		}
		if _, dup := nodeIdx[n.ID]; dup {
			return Placement{}, invalid("node %s listed twice", n.ID)
		}
		nodeIdx[n.ID] = len(nodeIdx)
		for _, d := range n.Drives {
			if d == nil || d.State != StateUp {
				continue
			}
			sum := sha256.Sum256([]byte(d.ID))
			cands = append(cands, candidate{id: d.ID, node: nodeIdx[n.ID], hash: binary.BigEndian.Uint64(sum[:8])})
		}
	}
	// Sorting by id makes the result independent of the input order.
	slices.SortFunc(cands, func(a, b candidate) int { return strings.Compare(a.id, b.id) })
	for i := 1; i < len(cands); i++ {
		if cands[i].id == cands[i-1].id {
			return Placement{}, invalid("drive %s listed twice", cands[i].id)
		}
	}
	if len(cands) < width {
		return Placement{}, reject(ErrNotEnoughDrives, "%d up drives, a PG needs %d", len(cands), width)
	}

	type ranked struct {
		score uint64
		cand  int
	}
	order := make([]ranked, len(cands))
	perNode := make([]int, len(nodeIdx))
	taken := make([]bool, len(cands))
	chosen := make([]int, 0, width) // positions in order
	pgs := make([][]string, pgCount)
	for pg := range pgs {
		key := mix64(uint64(pg) ^ 0x9e3779b97f4a7c15)
		for i := range cands {
			order[i] = ranked{score: mix64(cands[i].hash ^ key), cand: i}
		}
		slices.SortFunc(order, func(a, b ranked) int {
			if a.score != b.score {
				if a.score > b.score {
					return -1
				}
				return 1
			}
			return a.cand - b.cand // ids are unique and sorted: a total order
		})
		clear(perNode)
		clear(taken)
		chosen = chosen[:0]
		for limit := 1; len(chosen) < width; limit++ {
			for pos, r := range order {
				if len(chosen) == width {
					break
				}
				n := cands[r.cand].node
				if taken[pos] || perNode[n] >= limit {
					continue
				}
				taken[pos] = true
				perNode[n]++
				chosen = append(chosen, pos)
			}
		}
		slices.Sort(chosen) // rank order
		ids := make([]string, width)
		for i, pos := range chosen {
			ids[i] = cands[order[pos].cand].id
		}
		pgs[pg] = ids
	}
	return Placement{Epoch: epoch, PGs: pgs}, nil
}

// mix64 is the SplitMix64 finaliser: a bijection with full avalanche.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

func (s *State) applySetPlacement(c SetPlacement) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	p := &c.Placement
	if p.Epoch != s.Placement.Epoch+1 {
		return reject(ErrStaleEpoch, "epoch %d proposed, current is %d", p.Epoch, s.Placement.Epoch)
	}
	if s.Placement.Rebalancing() {
		return reject(ErrRebalancing, "%d of %d PGs of epoch %d still moving", len(s.Placement.Moving), s.Placement.MovingTotal, s.Placement.Epoch)
	}
	if len(p.PGs) != s.Cluster.PGCount {
		return invalid("placement has %d PGs, the cluster %d", len(p.PGs), s.Cluster.PGCount)
	}
	known := map[string]bool{} // drives that may take shards
	for _, n := range s.Nodes {
		for _, d := range n.Drives {
			known[d.ID] = n.State == StateUp
		}
	}
	width := s.Cluster.K + s.Cluster.M
	for pg, drives := range p.PGs {
		if len(drives) != width {
			return invalid("pg %d has %d drives, want %d", pg, len(drives), width)
		}
		seen := map[string]bool{}
		for _, d := range drives {
			if !known[d] {
				return invalid("pg %d names unknown drive %q (or one of a node that is draining or out)", pg, d)
			}
			if seen[d] {
				return invalid("pg %d names drive %s twice", pg, d)
			}
			seen[d] = true
		}
	}
	next := p.clone()
	next.Moving, next.MovingTotal = nil, 0
	if s.Placement.Epoch != 0 && len(s.Placement.PGs) == len(next.PGs) {
		for pg, ids := range next.PGs {
			if old := s.Placement.PGs[pg]; !slices.Equal(old, ids) {
				if next.Moving == nil {
					next.Moving = map[int][]string{}
				}
				next.Moving[pg] = slices.Clone(old)
			}
		}
		next.MovingTotal = len(next.Moving)
	}
	s.Placement = next
	return nil
}
