package metrics

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestDashboardUsesExportedMetrics: every metric the sample Grafana
// dashboard queries is one a node exports.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("../deploy/grafana/strata.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	r := New("n1", "dev", Sources{
		Drives:        func() []Drive { return []Drive{{ID: "d1"}} },
		PGs:           func() PGHealth { return PGHealth{} },
		Heal:          func() Heal { return Heal{} },
		Rebalance:     func() Rebalance { return Rebalance{} },
		Raft:          func() Raft { return Raft{} },
		GossipMembers: func() int { return 1 },
		Audit:         func() []AuditTarget { return []AuditTarget{{Target: "t"}} },
	})
	r.ObserveRequest("GetObject", 200, 1, 1, time.Millisecond)
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`\b(?:strata|go|process)_[a-z_]+`)
	used := 0
	for _, pn := range dash.Panels {
		if len(pn.Targets) == 0 {
			t.Errorf("panel %q has no query", pn.Title)
		}
		for _, tg := range pn.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				used++
				if mfs[m] == nil && mfs[strings.TrimSuffix(m, "_bucket")] == nil {
					t.Errorf("panel %q queries %s, which no node exports", pn.Title, m)
				}
			}
		}
	}
	if used < 10 {
		t.Fatalf("only %d metric references found", used)
	}
}
