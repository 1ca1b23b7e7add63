package testcluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// TestClusterStatus reads cluster status through the admin API of a 4-node
// EC 2+2 cluster, stops a node and sees it down, its drives offline, the
// placement groups it holds degraded, Raft's margin shrink and the survival
// sentence change.
func TestClusterStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := Start(t, Options{Nodes: 4, EC: "2+2"})
	admin := &adminapi.Client{Endpoint: c.Endpoint(0), AccessKey: RootAccessKey, SecretKey: RootSecretKey, HTTP: c.HTTPClient()}
	status := func() adminapi.ClusterStatus {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := admin.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	waitStatus := func(what string, ok func(adminapi.ClusterStatus) bool) adminapi.ClusterStatus {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st := status()
			if ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; last status %+v", what, st)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	st := waitStatus("every node and drive up", func(st adminapi.ClusterStatus) bool {
		for _, n := range st.Nodes {
			for _, d := range n.Drives {
				if !d.Online {
					return false
				}
			}
		}
		return len(st.Nodes) == 4 && st.PGs.Healthy == 64
	})
	if st.Node != "n1" || st.Raft.Leader == "" || st.Raft.Leader != st.Leader || st.Raft.CommitIndex == 0 || st.Raft.AppliedIndex == 0 ||
		len(st.Raft.Voters) != 4 || st.Raft.Tolerates != 1 {
		t.Fatalf("raft status %+v (node %s)", st.Raft, st.Node)
	}
	for _, n := range st.Nodes {
		if !n.Alive || n.State != "up" || n.Raft != "voter" || n.Version == "" || n.GossipAddr == "" || n.S3Addr == "" || len(n.Drives) != 2 {
			t.Fatalf("node %+v", n)
		}
		for _, d := range n.Drives {
			if d.Capacity == 0 || d.Used > d.Capacity || d.Free > d.Capacity || d.Path == "" || d.PGs == 0 || d.Error != "" {
				t.Fatalf("node %s drive %+v", n.ID, d)
			}
		}
	}
	if st.PGs != (adminapi.PGHealth{Total: 64, Healthy: 64}) || st.Survival.Drives != 2 || st.Survival.Nodes != 2 ||
		st.Survival.Summary != "Data survives the loss of any 2 drives or 2 nodes now." {
		t.Fatalf("all up: pgs %+v, survival %+v", st.PGs, st.Survival)
	}
	if st.Heal.Active || st.Rebalance.Active {
		t.Fatalf("background tasks reported in an idle cluster: heal %+v, rebalance %+v", st.Heal, st.Rebalance)
	}
	// n4's PGs: every PG has a shard there with 4 nodes and width 4.
	var n4PGs int
	for _, n := range st.Nodes {
		if n.ID == "n4" {
			for _, d := range n.Drives {
				n4PGs += d.PGs
			}
		}
	}

	c.Stop(3)
	st = waitStatus("n4 down", func(st adminapi.ClusterStatus) bool {
		for _, n := range st.Nodes {
			if n.ID == "n4" {
				return !n.Alive
			}
		}
		return false
	})
	for _, n := range st.Nodes {
		for _, d := range n.Drives {
			if d.Online != (n.ID != "n4") {
				t.Fatalf("node %s (alive %v) drive %+v", n.ID, n.Alive, d)
			}
		}
	}
	if st.PGs.Degraded != n4PGs || st.PGs.Healthy != 64-n4PGs || st.PGs.Unavailable != 0 {
		t.Fatalf("n4 (in %d PGs) down: pgs %+v", n4PGs, st.PGs)
	}
	if st.Survival.Drives != 1 || st.Survival.Nodes != 1 || st.Survival.Summary != "Data survives the loss of any 1 drive or 1 node now." {
		t.Fatalf("n4 down: survival %+v", st.Survival)
	}
	if st.Raft.Tolerates != 0 || !strings.Contains(strings.Join(st.Raft.Voters, ","), "n4") {
		t.Fatalf("n4 down (within the voter grace period): raft %+v", st.Raft)
	}
}
