package node

import (
	"io"
	"slices"

	"github.com/strata-io/strata/audit"
	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/metrics"
)

// Observability: every request s3api serves is handed to observe, which
// counts it in the Prometheus registry and sends its audit event; the rest
// of the metrics are read from the components at scrape time. Raft apply
// latency is not exported: raftfsm does not measure it.

// newAudit starts the audit logger: the webhooks are the replicated
// state's, re-read whenever the applied Raft index moves, their tokens
// unsealed with the cluster's sealing key.
func (n *Node) newAudit(sealKey []byte) (*audit.Logger, error) {
	return audit.New(audit.Config{
		Node:       n.cfg.ID,
		File:       n.cfg.AuditFile,
		Generation: n.raft.AppliedIndex,
		Targets: func() []audit.Target {
			var hooks []meta.AuditWebhook
			n.raft.View(func(s *meta.State) { hooks = s.SortedAuditWebhooks() })
			out := make([]audit.Target, 0, len(hooks))
			for _, h := range hooks {
				t := audit.Target{URL: h.URL}
				if len(h.TokenSealed) > 0 {
					tok, err := iam.Unseal(sealKey, h.TokenSealed)
					if err != nil {
						n.log.Error("audit webhook token does not unseal; webhook skipped", "target", h.URL, "err", err)
						continue
					}
					t.Token = tok
				}
				out = append(out, t)
			}
			return out
		},
	}, n.log)
}

// observe records one request served (s3api's Deps.Observe).
func (n *Node) observe(ev *audit.Event) {
	n.metrics.ObserveRequest(ev.API, ev.Status, ev.BytesIn, ev.BytesOut, ev.Duration)
	n.audit.Log(ev)
}

// writeMetrics writes the exposition (s3api's Deps.Metrics).
func (n *Node) writeMetrics(w io.Writer) (string, error) {
	return metrics.ContentType, n.metrics.WriteText(w)
}

// newMetrics builds the registry; its sources read the components at
// scrape time, locally (no rpc): gossip must exist by the first scrape.
func (n *Node) newMetrics() *metrics.Registry {
	return metrics.New(n.cfg.ID, BuildVersion(), metrics.Sources{
		Drives: func() []metrics.Drive {
			var out []metrics.Drive
			for _, d := range n.driveReports() {
				out = append(out, metrics.Drive{ID: d.ID, Path: d.Path, Online: d.Online, Capacity: d.Capacity, Used: d.Used, Free: d.Free, IndexResets: d.IndexResets})
			}
			return out
		},
		PGs: n.pgHealth,
		Heal: func() metrics.Heal {
			h := n.data.HealStatus()
			return metrics.Heal{Scanning: h.Scanning, Passes: h.Passes, ObjectsScanned: h.ObjectsScanned, BytesVerified: h.BytesVerified,
				ShardsRepaired: h.ShardsRepaired, BytesRepaired: h.BytesRepaired, Errors: h.Errors, Dropped: h.Dropped,
				Queued: h.Queued, Refilling: len(h.Refilling), OrphansRemoved: h.OrphansRemoved, OrphanBytesFreed: h.OrphanBytesFreed}
		},
		Rebalance: func() metrics.Rebalance {
			r := n.data.RebalanceStatus()
			var m metrics.Rebalance
			n.raft.View(func(s *meta.State) { m.MovingPGs, m.MovingTotal = len(s.Placement.Moving), s.Placement.MovingTotal })
			m.Active, m.ShardsMoved, m.BytesMoved, m.PGsSettled, m.Errors = r.Active, r.ShardsMoved, r.BytesMoved, r.PGsSettled, r.Errors
			return m
		},
		Raft: func() metrics.Raft {
			st := n.raft.Status()
			return metrics.Raft{Leader: st.State == "Leader", HasLeader: st.LeaderID != "", Term: st.Term,
				CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex, LastIndex: st.LastIndex}
		},
		GossipMembers: func() int { return len(n.gossip.Members()) },
		ILM: func() metrics.ILM {
			if n.ilm == nil {
				return metrics.ILM{}
			}
			st := n.ilm.Status()
			t := st.Total
			return metrics.ILM{Running: st.Running, Passes: st.Passes, Versions: t.Versions, Uploads: t.Uploads, Expired: t.Expired,
				NoncurrentExpired: t.NoncurrentExpired, MarkersRemoved: t.MarkersRemoved, UploadsAborted: t.UploadsAborted, Errors: t.Errors}
		},
		Audit: func() []metrics.AuditTarget {
			var out []metrics.AuditTarget
			for _, t := range n.audit.Stats() {
				out = append(out, metrics.AuditTarget{Target: t.Target, Queued: t.Queued, Sent: t.Sent, Dropped: t.Dropped, Retries: t.Retries, Failed: t.Failed})
			}
			return out
		},
	})
}

// pgHealth counts the placement groups by health from this node's view: a
// local drive is online when it answers statfs, another node's drives when
// that node is alive by gossip (cluster status asks every node; a scrape
// must stay local).
func (n *Node) pgHealth() metrics.PGHealth {
	alive := map[string]bool{}
	for _, m := range n.gossip.Members() {
		alive[m.ID] = true
	}
	local := map[string]bool{}
	for _, d := range n.driveReports() {
		local[d.ID] = d.Online
	}
	var (
		k      int
		pgs    [][]string
		nodeOf = map[string]string{}
		online = map[string]bool{}
	)
	n.raft.View(func(s *meta.State) {
		k = s.Cluster.K
		pgs = make([][]string, len(s.Placement.PGs))
		for i, pg := range s.Placement.PGs {
			pgs[i] = slices.Clone(pg)
		}
		for _, nd := range s.Nodes {
			for _, d := range nd.Drives {
				nodeOf[d.ID] = nd.ID
				if nd.ID == n.cfg.ID {
					online[d.ID] = local[d.ID]
				} else {
					online[d.ID] = alive[nd.ID]
				}
			}
		}
	})
	h, _ := assessPlacement(pgs, k, nodeOf, online)
	return metrics.PGHealth{Total: h.Total, Healthy: h.Healthy, Degraded: h.Degraded, Unavailable: h.Unavailable}
}
