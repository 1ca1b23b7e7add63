package node

import (
	"testing"

	"github.com/strata-io/strata/adminapi"
)

func TestAssessPlacement(t *testing.T) {
	// Drives are named <node><n>: "a1" is drive 1 of node a.
	nodeOf := func(pgs [][]string) map[string]string {
		m := map[string]string{}
		for _, pg := range pgs {
			for _, d := range pg {
				m[d] = d[:1]
			}
		}
		return m
	}
	onlineBut := func(pgs [][]string, down ...string) map[string]bool {
		m := map[string]bool{}
		for _, pg := range pgs {
			for _, d := range pg {
				m[d] = true
			}
		}
		for _, d := range down {
			if len(d) == 1 { // a whole node
				for id := range m {
					if id[:1] == d {
						m[id] = false
					}
				}
			}
			m[d] = false
		}
		return m
	}
	// 4 nodes, one shard each per PG (EC 2+2).
	spread := [][]string{{"a1", "b1", "c1", "d1"}, {"b2", "c2", "d2", "a2"}}
	// 2 nodes, two shards each per PG.
	paired := [][]string{{"a1", "a2", "b1", "b2"}, {"b1", "a1", "b2", "a2"}}
	// EC 4+2 over 3 nodes, two shards each.
	wide := [][]string{{"a1", "a2", "b1", "b2", "c1", "c2"}}
	// Unequal: one PG with two shards on one node.
	lumpy := [][]string{{"a1", "b1", "c1", "d1"}, {"a1", "a2", "c2", "d2"}}

	for _, tc := range []struct {
		name          string
		pgs           [][]string
		k             int
		down          []string
		health        adminapi.PGHealth
		drives, nodes int
		summary       string
	}{
		{"spread, all up", spread, 2, nil, adminapi.PGHealth{Total: 2, Healthy: 2}, 2, 2,
			"Data survives the loss of any 2 drives or 2 nodes now."},
		{"spread, one node down", spread, 2, []string{"d"}, adminapi.PGHealth{Total: 2, Degraded: 2}, 1, 1,
			"Data survives the loss of any 1 drive or 1 node now."},
		{"spread, one drive down", spread, 2, []string{"a1"}, adminapi.PGHealth{Total: 2, Healthy: 1, Degraded: 1}, 1, 1,
			"Data survives the loss of any 1 drive or 1 node now."},
		{"spread, two nodes down", spread, 2, []string{"c", "d"}, adminapi.PGHealth{Total: 2, Degraded: 2}, 0, 0,
			"Data survives no further loss now: 2 of 2 placement groups have only 2 shards online; one more drive lost makes data unreadable."},
		{"spread, three nodes down", spread, 2, []string{"b", "c", "d"}, adminapi.PGHealth{Total: 2, Unavailable: 2}, -1, -1,
			"Some data is unreadable now: 2 of 2 placement groups have fewer than 2 shards online."},
		{"paired, all up", paired, 2, nil, adminapi.PGHealth{Total: 2, Healthy: 2}, 2, 1,
			"Data survives the loss of any 2 drives or 1 node now."},
		{"paired, one drive down", paired, 2, []string{"b2"}, adminapi.PGHealth{Total: 2, Degraded: 2}, 1, 0,
			"Data survives the loss of any 1 drive now, but not of a whole node."},
		{"wide 4+2 on 3 nodes", wide, 4, nil, adminapi.PGHealth{Total: 1, Healthy: 1}, 2, 1,
			"Data survives the loss of any 2 drives or 1 node now."},
		{"lumpy: the PG with two shards on a node decides", lumpy, 2, nil, adminapi.PGHealth{Total: 2, Healthy: 2}, 2, 1,
			"Data survives the loss of any 2 drives or 1 node now."},
		{"lumpy, node b down: only the PG it is in degrades", lumpy, 2, []string{"b"}, adminapi.PGHealth{Total: 2, Healthy: 1, Degraded: 1}, 1, 1,
			"Data survives the loss of any 1 drive or 1 node now."},
		{"lumpy, node c down: node a holds both spares of PG 2", lumpy, 2, []string{"c"}, adminapi.PGHealth{Total: 2, Degraded: 2}, 1, 0,
			"Data survives the loss of any 1 drive now, but not of a whole node."},
		{"one PG unavailable among healthy", lumpy, 2, []string{"a", "c"}, adminapi.PGHealth{Total: 2, Degraded: 1, Unavailable: 1}, -1, -1,
			"Some data is unreadable now: 1 of 2 placement groups have fewer than 2 shards online."},
		{"no placement", nil, 2, nil, adminapi.PGHealth{}, 0, 0,
			"No placement yet: the cluster stores no data."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, s := assessPlacement(tc.pgs, tc.k, nodeOf(tc.pgs), onlineBut(tc.pgs, tc.down...))
			if h != tc.health {
				t.Errorf("health %+v, want %+v", h, tc.health)
			}
			if s.Drives != tc.drives || s.Nodes != tc.nodes {
				t.Errorf("survives %d drives, %d nodes; want %d, %d", s.Drives, s.Nodes, tc.drives, tc.nodes)
			}
			if s.Summary != tc.summary {
				t.Errorf("summary %q\n           want %q", s.Summary, tc.summary)
			}
		})
	}
}
