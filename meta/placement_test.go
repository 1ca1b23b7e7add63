package meta_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

// goldenTopology has uneven nodes, a down drive and a draining node: only up
// drives of up nodes may appear in the placement.
func goldenTopology() []*meta.Node {
	nodes := metatest.Nodes(6, 2)
	nodes[3].Drives = append(nodes[3].Drives, &meta.Drive{ID: "n4-d3", NodeID: "n4", State: meta.StateUp})
	nodes[4].Drives[1].State = meta.StateOut
	nodes[5].State = meta.StateDraining
	return nodes
}

func formatPlacement(p meta.Placement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d\n", p.Epoch)
	for pg, drives := range p.PGs {
		fmt.Fprintf(&b, "pg %d: %s\n", pg, strings.Join(drives, " "))
	}
	return b.String()
}

func TestPlacementGolden(t *testing.T) {
	for _, tc := range []struct {
		name         string
		pgs, width   int
		nodes, disks int
	}{
		{"uneven_2+2", 32, 4, 0, 0},
		{"three_nodes_4+2", 16, 6, 3, 2}, // fewer nodes than width: two drives per node
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := goldenTopology()
			if tc.nodes > 0 {
				nodes = metatest.Nodes(tc.nodes, tc.disks)
			}
			p, err := meta.ComputePlacement(nodes, tc.pgs, tc.width, 7)
			if err != nil {
				t.Fatal(err)
			}
			got := formatPlacement(p)
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

func TestPlacementOnlyUpDrives(t *testing.T) {
	p, err := meta.ComputePlacement(goldenTopology(), 256, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, pg := range p.PGs {
		for _, d := range pg {
			if d == "n5-d2" || strings.HasPrefix(d, "n6-") {
				t.Fatalf("placement uses %s, which is not up", d)
			}
		}
	}
}

func TestPlacementIndependentOfInputOrder(t *testing.T) {
	nodes := goldenTopology()
	want, err := meta.ComputePlacement(nodes, 64, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10 {
		shuffled := metatestClone(nodes)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, n := range shuffled {
			r.Shuffle(len(n.Drives), func(i, j int) { n.Drives[i], n.Drives[j] = n.Drives[j], n.Drives[i] })
		}
		got, err := meta.ComputePlacement(shuffled, 64, 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatal("placement depends on input order")
		}
	}
}

func metatestClone(nodes []*meta.Node) []*meta.Node {
	out := make([]*meta.Node, len(nodes))
	for i, n := range nodes {
		c := *n
		c.Drives = append([]*meta.Drive(nil), n.Drives...)
		out[i] = &c
	}
	return out
}

func TestPlacementDistinct(t *testing.T) {
	for _, tc := range []struct{ nodes, disks, width int }{
		{4, 2, 4}, {6, 3, 6}, {12, 4, 6}, {5, 1, 5}, {20, 2, 16},
	} {
		nodes := metatest.Nodes(tc.nodes, tc.disks)
		owner := map[string]string{}
		for _, n := range nodes {
			for _, d := range n.Drives {
				owner[d.ID] = n.ID
			}
		}
		p, err := meta.ComputePlacement(nodes, 512, tc.width, 1)
		if err != nil {
			t.Fatal(err)
		}
		for pg, drives := range p.PGs {
			if len(drives) != tc.width {
				t.Fatalf("pg %d: %d drives", pg, len(drives))
			}
			seenD, seenN := map[string]bool{}, map[string]bool{}
			for _, d := range drives {
				if seenD[d] || seenN[owner[d]] {
					t.Fatalf("%+v pg %d: %v repeats a drive or node", tc, pg, drives)
				}
				seenD[d], seenN[owner[d]] = true, true
			}
		}
	}
}

func TestPlacementSpreadWithFewNodes(t *testing.T) {
	// 3 nodes x 3 drives, width 6: every node holds exactly two shards.
	nodes := metatest.Nodes(3, 3)
	p, err := meta.ComputePlacement(nodes, 256, 6, 1)
	if err != nil {
		t.Fatal(err)
	}
	for pg, drives := range p.PGs {
		per := map[string]int{}
		for _, d := range drives {
			per[strings.SplitN(d, "-", 2)[0]]++
		}
		for n, c := range per {
			if c != 2 {
				t.Fatalf("pg %d: node %s holds %d shards: %v", pg, n, c, drives)
			}
		}
	}
}

func TestPlacementBalance(t *testing.T) {
	for _, tc := range []struct{ nodes, disks, width, pgs int }{
		{8, 2, 4, 1024}, {4, 4, 4, 1024}, {12, 4, 6, 2048},
	} {
		p, err := meta.ComputePlacement(metatest.Nodes(tc.nodes, tc.disks), tc.pgs, tc.width, 1)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, pg := range p.PGs {
			for _, d := range pg {
				count[d]++
			}
		}
		mean := float64(tc.pgs*tc.width) / float64(tc.nodes*tc.disks)
		for d, c := range count {
			if float64(c) < 0.7*mean || float64(c) > 1.3*mean {
				t.Errorf("%+v: drive %s has %d PG slots, mean %.0f", tc, d, c, mean)
			}
		}
		if len(count) != tc.nodes*tc.disks {
			t.Errorf("%+v: only %d of %d drives used", tc, len(count), tc.nodes*tc.disks)
		}
	}
}

func TestPlacementAddNodeMovesFew(t *testing.T) {
	const pgs, width = 1024, 6
	before, err := meta.ComputePlacement(metatest.Nodes(10, 2), pgs, width, 1)
	if err != nil {
		t.Fatal(err)
	}
	after, err := meta.ComputePlacement(metatest.Nodes(11, 2), pgs, width, 2)
	if err != nil {
		t.Fatal(err)
	}
	changedSlots, changedSets := 0, 0
	for pg := range before.PGs {
		old := map[string]bool{}
		for i, d := range before.PGs[pg] {
			old[d] = true
			if after.PGs[pg][i] != d {
				changedSlots++
			}
		}
		for _, d := range after.PGs[pg] {
			if !old[d] {
				changedSets++ // at most one new drive per PG: the new node's
			}
		}
	}
	total := pgs * width
	t.Logf("slots changed: %d of %d; drives replaced: %d", changedSlots, total, changedSets)
	if changedSlots*2 >= total {
		t.Fatalf("adding one node of eleven changed %d of %d slots", changedSlots, total)
	}
	// Only the new node's drives displace old ones: about width/11 per PG.
	if changedSets > pgs*width/11*3/2 {
		t.Fatalf("adding one node replaced %d drives", changedSets)
	}
}

func TestPlacementErrors(t *testing.T) {
	if _, err := meta.ComputePlacement(metatest.Nodes(2, 1), 8, 3, 1); !errors.Is(err, meta.ErrNotEnoughDrives) {
		t.Fatalf("too few drives: %v", err)
	}
	if _, err := meta.ComputePlacement(metatest.Nodes(2, 2), 0, 3, 1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("zero pgs: %v", err)
	}
	dup := metatest.Nodes(2, 2)
	dup[1].Drives[0].ID = dup[0].Drives[0].ID
	if _, err := meta.ComputePlacement(dup, 8, 3, 1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("duplicate drive: %v", err)
	}
}
