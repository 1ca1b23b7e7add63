package metrics

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestRegistryExposition(t *testing.T) {
	r := New("n1", "v1.2.3", Sources{
		Drives: func() []Drive {
			return []Drive{{ID: "d1", Path: "/mnt/a", Online: true, Capacity: 1000, Used: 400, Free: 600, IndexResets: 2}, {ID: "d2", Path: "/mnt/b"}}
		},
		PGs:  func() PGHealth { return PGHealth{Total: 8, Healthy: 5, Degraded: 2, Unavailable: 1} },
		Heal: func() Heal { return Heal{OrphansRemoved: 3, OrphanBytesFreed: 4096} },
		Raft: func() Raft {
			return Raft{Leader: true, HasLeader: true, Term: 3, CommitIndex: 40, AppliedIndex: 39, LastIndex: 41}
		},
		GossipMembers: func() int { return 4 },
		Audit:         func() []AuditTarget { return []AuditTarget{{Target: "http://h/a", Sent: 7, Dropped: 2}} },
	})
	r.ObserveRequest("PutObject", 200, 100, 0, 20*time.Millisecond)
	r.ObserveRequest("PutObject", 200, 50, 0, 2*time.Second)
	r.ObserveRequest("GetObject", 404, 0, 300, time.Millisecond)
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string, labels ...string) float64 {
		t.Helper()
		for _, m := range mfs[name].GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			match := true
			for i := 0; i+1 < len(labels); i += 2 {
				match = match && got[labels[i]] == labels[i+1]
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"strata_requests_total", []string{"api", "PutObject", "status", "200"}, 2},
		{"strata_requests_total", []string{"api", "GetObject", "status", "404"}, 1},
		{"strata_request_duration_seconds", []string{"api", "PutObject"}, 2},
		{"strata_request_received_bytes_total", []string{"api", "PutObject"}, 150},
		{"strata_request_sent_bytes_total", []string{"api", "GetObject"}, 300},
		{"strata_drive_online", []string{"drive", "d2"}, 0},
		{"strata_drive_used_bytes", []string{"drive", "d1", "path", "/mnt/a"}, 400},
		{"strata_drive_index_resets_total", []string{"drive", "d1"}, 2},
		{"strata_heal_orphans_removed_total", nil, 3},
		{"strata_heal_orphan_bytes_freed_total", nil, 4096},
		{"strata_drive_index_resets_total", []string{"drive", "d2"}, 0},
		{"strata_pgs", []string{"state", "degraded"}, 2},
		{"strata_raft_leader", nil, 1},
		{"strata_raft_commit_index", nil, 40},
		{"strata_gossip_members", nil, 4},
		{"strata_audit_dropped_events_total", []string{"target", "http://h/a"}, 2},
		{"strata_node_info", []string{"node", "n1", "version", "v1.2.3"}, 1},
	} {
		if got := get(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// A nil source leaves its families out.
	if mfs["strata_rebalance_moving_pgs"] != nil || mfs["strata_ilm_passes_total"] != nil {
		t.Error("families of nil sources exported")
	}
}
