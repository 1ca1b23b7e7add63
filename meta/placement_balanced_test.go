package meta_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func fresh(nodes []*meta.Node, pgs, width int) (meta.Placement, error) {
	return meta.NextPlacement(meta.Placement{}, nodes, pgs, width, 1)
}

// checkValid fails unless p has pgs PGs of width distinct up drives of up
// nodes, with at most limit drives of one node per PG.
func checkValid(t testing.TB, nodes []*meta.Node, p meta.Placement, pgs, width, limit int) {
	t.Helper()
	owner := map[string]string{}
	for _, n := range nodes {
		if n.State != meta.StateUp {
			continue
		}
		for _, d := range n.Drives {
			if d.State == meta.StateUp {
				owner[d.ID] = n.ID
			}
		}
	}
	if len(p.PGs) != pgs {
		t.Fatalf("%d PGs, want %d", len(p.PGs), pgs)
	}
	for pg, drives := range p.PGs {
		if len(drives) != width {
			t.Fatalf("pg %d: %d drives, want %d", pg, len(drives), width)
		}
		seen, perNode := map[string]bool{}, map[string]int{}
		for _, d := range drives {
			n, ok := owner[d]
			switch {
			case !ok:
				t.Fatalf("pg %d: drive %q is not an up drive of an up node", pg, d)
			case seen[d]:
				t.Fatalf("pg %d: drive %s twice: %v", pg, d, drives)
			}
			seen[d] = true
			if perNode[n]++; perNode[n] > limit {
				t.Fatalf("pg %d: node %s holds %d shards (limit %d): %v", pg, n, perNode[n], limit, drives)
			}
		}
	}
}

type loadStats struct {
	min, max, mean float64
	perDrive       map[string]int
}

func loads(nodes []*meta.Node, p meta.Placement) loadStats {
	s := loadStats{perDrive: map[string]int{}, min: math.Inf(1)}
	for _, n := range nodes {
		if n.State != meta.StateUp {
			continue
		}
		for _, d := range n.Drives {
			if d.State == meta.StateUp {
				s.perDrive[d.ID] = 0
			}
		}
	}
	total := 0
	for _, pg := range p.PGs {
		for _, d := range pg {
			s.perDrive[d]++
			total++
		}
	}
	for _, c := range s.perDrive {
		s.min = math.Min(s.min, float64(c))
		s.max = math.Max(s.max, float64(c))
	}
	s.mean = float64(total) / float64(len(s.perDrive))
	return s
}

func TestNextPlacementGolden(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pgs, width   int
		nodes, disks int
	}{
		{"next_uneven_2+2", 32, 4, 0, 0},
		{"next_three_nodes_4+2", 16, 6, 3, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := goldenTopology()
			if tc.nodes > 0 {
				nodes = metatest.Nodes(tc.nodes, tc.disks)
			}
			p, err := meta.NextPlacement(meta.Placement{}, nodes, tc.pgs, tc.width, 7)
			if err != nil {
				t.Fatal(err)
			}
			// One more node: the golden also pins the incremental step.
			grown := append(metatestClone(nodes), metatest.Nodes(len(nodes)+1, 2)[len(nodes)])
			next, err := meta.NextPlacement(p, grown, tc.pgs, tc.width, 8)
			if err != nil {
				t.Fatal(err)
			}
			got := formatPlacement(p) + formatPlacement(next)
			path := filepath.Join("testdata", "placement", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Fatalf("placement changed (this moves data):\n%s", got)
			}
		})
	}
}

func TestNextPlacementValid(t *testing.T) {
	for _, tc := range []struct{ nodes, disks, width, pgs, limit int }{
		{4, 2, 4, 512, 1}, {6, 3, 6, 512, 1}, {12, 4, 6, 512, 1}, {5, 1, 5, 512, 1}, {20, 2, 16, 512, 1},
		{3, 3, 6, 256, 2}, {2, 4, 6, 256, 3}, {1, 8, 4, 64, 4}, {7, 1, 7, 100, 1},
	} {
		nodes := metatest.Nodes(tc.nodes, tc.disks)
		p, err := fresh(nodes, tc.pgs, tc.width)
		if err != nil {
			t.Fatal(err)
		}
		checkValid(t, nodes, p, tc.pgs, tc.width, tc.limit)
		if tc.nodes*tc.disks == 0 {
			continue
		}
		// With equal drives every drive holds floor or ceil of the mean.
		s := loads(nodes, p)
		if s.max-s.min > 1 || s.max > math.Ceil(s.mean) || s.min < math.Floor(s.mean) {
			t.Errorf("%+v: loads %v..%v, mean %.2f", tc, s.min, s.max, s.mean)
		}
	}
}

func TestNextPlacementSpreadWithFewNodes(t *testing.T) {
	// 3 nodes x 3 drives, width 6: every node holds exactly two shards.
	p, err := fresh(metatest.Nodes(3, 3), 256, 6)
	if err != nil {
		t.Fatal(err)
	}
	for pg, drives := range p.PGs {
		per := map[string]int{}
		for _, d := range drives {
			per[strings.SplitN(d, "-", 2)[0]]++
		}
		if len(per) != 3 {
			t.Fatalf("pg %d: %v", pg, drives)
		}
		for n, c := range per {
			if c != 2 {
				t.Fatalf("pg %d: node %s holds %d shards: %v", pg, n, c, drives)
			}
		}
	}
}

func TestNextPlacementOnlyUpDrives(t *testing.T) {
	nodes := goldenTopology()
	p, err := fresh(nodes, 256, 4)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, nodes, p, 256, 4, 1)
	// The uneven topology: n4 has three drives but can hold one shard per
	// PG, so it is capped at 256 shards; the others share the rest.
	s := loads(nodes, p)
	n4 := s.perDrive["n4-d1"] + s.perDrive["n4-d2"] + s.perDrive["n4-d3"]
	if n4 != 256 {
		t.Errorf("capped node n4 holds %d shards, want 256", n4)
	}
	for d, c := range s.perDrive {
		if !strings.HasPrefix(d, "n4-") && (c < 109 || c > 110) { // (1024-256)/7 = 109.7
			t.Errorf("drive %s holds %d shards, want 109 or 110", d, c)
		}
	}
}

func TestNextPlacementWeightsByDrives(t *testing.T) {
	// Nodes of 12 and 24 drives: a 24-drive node takes twice the shards.
	nodes := append(metatest.Nodes(10, 12), metatest.Nodes(20, 24)[10:]...)
	const pgs, width = 4096, 6
	p, err := fresh(nodes, pgs, width)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, nodes, p, pgs, width, 1)
	s := loads(nodes, p)
	if s.max-s.min > 1 {
		t.Fatalf("drive loads %v..%v", s.min, s.max)
	}
	perNode := map[string]int{}
	for d, c := range s.perDrive {
		perNode[strings.SplitN(d, "-", 2)[0]] += c
	}
	small, big := perNode["n1"], perNode["n11"]
	if r := float64(big) / float64(small); r < 1.9 || r > 2.1 {
		t.Fatalf("24-drive node holds %d shards, 12-drive node %d", big, small)
	}
}

func TestNextPlacementIndependentOfInputOrder(t *testing.T) {
	nodes := goldenTopology()
	prev, err := meta.ComputePlacement(nodes, 64, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	grown := append(metatestClone(nodes), metatest.Nodes(8, 3)[6:]...)
	want, err := meta.NextPlacement(prev, grown, 64, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10 {
		shuffled := metatestClone(grown)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, n := range shuffled {
			r.Shuffle(len(n.Drives), func(i, j int) { n.Drives[i], n.Drives[j] = n.Drives[j], n.Drives[i] })
		}
		got, err := meta.NextPlacement(prev, shuffled, 64, 4, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatal("placement depends on input order")
		}
	}
}

func TestNextPlacementStable(t *testing.T) {
	nodes := metatest.Nodes(9, 4)
	p, err := fresh(nodes, 1000, 6)
	if err != nil {
		t.Fatal(err)
	}
	again, err := meta.NextPlacement(p, nodes, 1000, 6, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c := meta.ComparePlacements(p, again); c.Moved != 0 {
		t.Fatalf("unchanged topology moved %d shards", c.Moved)
	}
	if again.Epoch != 2 {
		t.Fatalf("epoch %d", again.Epoch)
	}
}

// TestNextPlacementFromRendezvous: a cluster whose first epoch was stored by
// ComputePlacement gets balanced by its next epoch, moving only the excess.
func TestNextPlacementFromRendezvous(t *testing.T) {
	nodes := metatest.Nodes(12, 4)
	const pgs, width = 2048, 6
	old, err := meta.ComputePlacement(nodes, pgs, width, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := loads(nodes, old)
	next, err := meta.NextPlacement(old, nodes, pgs, width, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, nodes, next, pgs, width, 1)
	after := loads(nodes, next)
	if after.max-after.min > 1 {
		t.Fatalf("loads after rebalance %v..%v", after.min, after.max)
	}
	excess := 0
	for _, c := range before.perDrive {
		excess += max(0, c-int(math.Ceil(before.mean)))
	}
	c := meta.ComparePlacements(old, next)
	t.Logf("rendezvous max/mean %.3f -> %.3f, moved %d shards (excess over ceil(mean) %d)", before.max/before.mean, after.max/after.mean, c.Moved, excess)
	if c.Moved < excess || c.Moved > excess+excess/10+len(before.perDrive) {
		t.Fatalf("moved %d shards, excess was %d", c.Moved, excess)
	}
}

// TestNextPlacementDrain: the drives of a draining node and a failed drive
// are emptied; nothing else moves beyond what rebalancing their shards needs.
func TestNextPlacementDrain(t *testing.T) {
	nodes := metatest.Nodes(10, 4)
	const pgs, width = 1024, 6
	p, err := fresh(nodes, pgs, width)
	if err != nil {
		t.Fatal(err)
	}
	nodes[2].State = meta.StateDraining
	nodes[5].Drives[1].State = meta.StateOut
	next, err := meta.NextPlacement(p, nodes, pgs, width, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, nodes, next, pgs, width, 1)
	lost := 0
	for _, row := range p.PGs {
		for _, d := range row {
			if strings.HasPrefix(d, "n3-") || d == "n6-d2" {
				lost++
			}
		}
	}
	// Survivors may also shed a shard each to even out the new targets.
	c := meta.ComparePlacements(p, next)
	t.Logf("drain: lost %d shards, moved %d", lost, c.Moved)
	if c.Moved < lost || c.Moved > lost+len(loads(nodes, next).perDrive) {
		t.Fatalf("moved %d, the drained drives held %d", c.Moved, lost)
	}
	if s := loads(nodes, next); s.max-s.min > 1 {
		t.Fatalf("loads after drain %v..%v", s.min, s.max)
	}
}

func TestNextPlacementErrors(t *testing.T) {
	if _, err := fresh(metatest.Nodes(2, 1), 8, 3); !errors.Is(err, meta.ErrNotEnoughDrives) {
		t.Fatalf("too few drives: %v", err)
	}
	for _, c := range []struct{ pgs, width int }{{0, 3}, {meta.MaxPGCount + 1, 3}, {8, 0}, {8, meta.MaxShards + 1}} {
		if _, err := fresh(metatest.Nodes(2, 2), c.pgs, c.width); !errors.Is(err, meta.ErrInvalid) {
			t.Fatalf("%+v: %v", c, err)
		}
	}
	dupNode := append(metatest.Nodes(3, 2), metatest.Nodes(1, 2)...)
	if _, err := fresh(dupNode, 8, 3); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("node twice: %v", err)
	}
	dupDrive := metatest.Nodes(3, 2)
	dupDrive[1].Drives[0].ID = "n1-d1"
	if _, err := fresh(dupDrive, 8, 3); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("drive twice: %v", err)
	}
	// A previous placement of another shape is ignored, not an error.
	nodes := metatest.Nodes(4, 2)
	old, err := fresh(nodes, 16, 3)
	if err != nil {
		t.Fatal(err)
	}
	p, err := meta.NextPlacement(old, nodes, 32, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkValid(t, nodes, p, 32, 4, 1)
}

func TestComparePlacements(t *testing.T) {
	a := meta.Placement{Epoch: 1, PGs: [][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"a", "d", "g"}}}
	b := meta.Placement{Epoch: 2, PGs: [][]string{{"a", "b", "c"}, {"e", "d", "f"}, {"a", "x", "g"}, {"a", "b", "c"}}}
	c := meta.ComparePlacements(a, b)
	// pg 1: two slots swapped (both move), pg 2: one, pg 3: new (three).
	if want := (meta.PlacementChange{Shards: 12, Moved: 6, PGs: 3}); c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if f := c.Fraction(); f != 0.5 {
		t.Fatalf("fraction %v", f)
	}
	if f := meta.ComparePlacements(a, a).Fraction(); f != 0 {
		t.Fatalf("same placement: %v", f)
	}
	if f := (meta.PlacementChange{}).Fraction(); f != 0 {
		t.Fatalf("empty: %v", f)
	}
}

// scaleResult is what the scale test measures for one topology.
type scaleResult struct {
	compute time.Duration // the fresh placement
	maxMean float64       // max drive load / mean
	minMean float64
	grow    []growResult
}

type growResult struct {
	added        int
	moved, ideal float64
	maxMean      float64
	compute      time.Duration
}

// measureScale places pgs PGs of width on nodes x drives, then adds each
// count of nodes (with as many drives) to the original and measures the
// moved fraction against the ideal added/(nodes+added).
func measureScale(t testing.TB, nodes, drives, pgs, width int, adds []int) scaleResult {
	t.Helper()
	topo := metatest.Nodes(nodes, drives)
	start := time.Now()
	p, err := fresh(topo, pgs, width)
	if err != nil {
		t.Fatal(err)
	}
	r := scaleResult{compute: time.Since(start)}
	checkValid(t, topo, p, pgs, width, 1)
	s := loads(topo, p)
	r.maxMean, r.minMean = s.max/s.mean, s.min/s.mean
	for _, k := range adds {
		grown := metatest.Nodes(nodes+k, drives)
		start := time.Now()
		next, err := meta.NextPlacement(p, grown, pgs, width, 2)
		if err != nil {
			t.Fatal(err)
		}
		g := growResult{added: k, compute: time.Since(start), ideal: float64(k) / float64(nodes+k)}
		checkValid(t, grown, next, pgs, width, 1)
		g.moved = meta.ComparePlacements(p, next).Fraction()
		gs := loads(grown, next)
		g.maxMean = gs.max / gs.mean
		r.grow = append(r.grow, g)
	}
	return r
}

func (r scaleResult) check(t testing.TB, name string) {
	t.Helper()
	t.Logf("%s: fresh placement %v, max/mean %.3f, min/mean %.3f", name, r.compute.Round(time.Millisecond), r.maxMean, r.minMean)
	if r.maxMean >= 1.10 {
		t.Errorf("%s: max/mean drive load %.3f, target < 1.10", name, r.maxMean)
	}
	for _, g := range r.grow {
		t.Logf("%s: +%d nodes: moved %.4f%%, ideal %.4f%% (ratio %.3f), max/mean %.3f, %v", name, g.added, 100*g.moved, 100*g.ideal, g.moved/g.ideal, g.maxMean, g.compute.Round(time.Millisecond))
		if math.Abs(g.moved-g.ideal) > 0.10*g.ideal {
			t.Errorf("%s: +%d nodes moved %.4f%% of the shards, ideal %.4f%%", name, g.added, 100*g.moved, 100*g.ideal)
		}
		if g.maxMean >= 1.10 {
			t.Errorf("%s: +%d nodes: max/mean %.3f", name, g.added, g.maxMean)
		}
	}
}

// TestPlacementScale100x24 is the scaled-down version of the 1,000 x 24
// targets, run by make test: 100 nodes of 24 drives, 4+2, 8,192 PGs (about
// 20 shards per drive), then 1, 10 and 100 more nodes.
func TestPlacementScale100x24(t *testing.T) {
	r := measureScale(t, 100, 24, 8192, 6, []int{1, 10, 100})
	r.check(t, "100x24")
}

// TestPlacementScale1000x24 checks the targets at full size: 1,000
// nodes of 24 drives, 4+2 and 8+4 with the largest PG count, 65,536 (the
// fewest shards per drive a 24,000-drive cluster should run with: 16 at
// 4+2, 33 at 8+4), then 1, 10 and 100 more nodes.
func TestPlacementScale1000x24(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 x 24 placement: skipped with -short")
	}
	for _, width := range []int{6, 12} {
		r := measureScale(t, 1000, 24, meta.MaxPGCount, width, []int{1, 10, 100})
		r.check(t, fmt.Sprintf("1000x24 width %d", width))
	}
}

// BenchmarkPlacement1000x24 measures a fresh placement and a one-node growth
// step at full size (4+2, 65,536 PGs): what the Raft leader computes.
func BenchmarkPlacement1000x24(b *testing.B) {
	nodes := metatest.Nodes(1000, 24)
	grown := metatest.Nodes(1001, 24)
	const pgs, width = meta.MaxPGCount, 6
	b.Run("fresh", func(b *testing.B) {
		var p meta.Placement
		for b.Loop() {
			var err error
			if p, err = fresh(nodes, pgs, width); err != nil {
				b.Fatal(err)
			}
		}
		s := loads(nodes, p)
		b.ReportMetric(s.max/s.mean, "max/mean")
	})
	b.Run("add1", func(b *testing.B) {
		p, err := fresh(nodes, pgs, width)
		if err != nil {
			b.Fatal(err)
		}
		var next meta.Placement
		for b.Loop() {
			if next, err = meta.NextPlacement(p, grown, pgs, width, 2); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(meta.ComparePlacements(p, next).Fraction()/(1.0/1001), "moved/ideal")
	})
}
