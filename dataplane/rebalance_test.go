package dataplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// growCluster starts a cluster of nodes+1 nodes whose placement uses the
// first nodes only, with every store's Propose applying to the shared
// state (as Raft would).
func growCluster(t *testing.T, nodes, k, m int) *testCluster {
	t.Helper()
	c := newTestCluster(t, nodes+1, 2, k, m)
	c.topo.mu.Lock()
	st := c.topo.st
	first := st.Clone().SortedNodes()[:nodes]
	pl, err := meta.NextPlacement(meta.Placement{}, first, st.Cluster.PGCount, k+m, 1)
	if err != nil {
		t.Fatal(err)
	}
	st.Placement = pl
	st.Buckets["b"] = &meta.Bucket{Name: "b"} // the rebalancer walks the buckets meta knows
	c.topo.mu.Unlock()
	for _, s := range c.stores {
		s.cfg.Propose = c.apply
	}
	return c
}

// apply applies cmd to the shared state: the tests' Raft.
func (c *testCluster) apply(_ context.Context, cmd meta.Command) error {
	c.topo.mu.Lock()
	defer c.topo.mu.Unlock()
	return c.topo.st.Apply(cmd)
}

// nextEpoch installs the next placement over every up node.
func (c *testCluster) nextEpoch(t *testing.T) {
	t.Helper()
	var cur meta.Placement
	var nodes []*meta.Node
	var pgs, width int
	c.topo.View(func(st *meta.State) {
		cl := st.Clone()
		cur, nodes, pgs, width = cl.Placement, cl.SortedNodes(), st.Cluster.PGCount, st.Cluster.K+st.Cluster.M
	})
	next, err := meta.NextPlacement(cur, nodes, pgs, width, cur.Epoch+1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.apply(context.Background(), meta.SetPlacement{Placement: next}); err != nil {
		t.Fatal(err)
	}
}

func (c *testCluster) moving() int {
	n := 0
	c.topo.View(func(st *meta.State) { n = len(st.Placement.Moving) })
	return n
}

// rebalance runs migration rounds on every node (but those in skip: down)
// until no PG moves.
func (c *testCluster) rebalance(t *testing.T, skip ...int) {
	t.Helper()
	for round := 0; c.moving() > 0; round++ {
		if round == 5 {
			t.Fatalf("%d PGs still moving after 5 rounds", c.moving())
		}
		for i, s := range c.stores {
			if slices.Contains(skip, i) {
				continue
			}
			if err := s.RebalanceRound(context.Background()); err != nil {
				t.Logf("round %d on n%d: %v", round, i+1, err)
			}
		}
	}
}

// checkNoStrays fails when a drive holds a record of a PG the placement
// does not give it.
func (c *testCluster) checkNoStrays(t *testing.T, bucket string) {
	t.Helper()
	var holds map[string]pgSet
	var set settings
	c.topo.View(func(st *meta.State) {
		holds = c.stores[0].topoCacheLocked(st).holds
		set = settingsOf(st.Cluster)
	})
	for _, ds := range c.drives {
		for _, d := range ds {
			entries, _, err := d.List(context.Background(), bucket, drive.ListOptions{Limit: 10000, Versions: true})
			if err != nil && !errors.Is(err, drive.ErrNotFound) {
				t.Fatal(err)
			}
			for _, e := range entries {
				if pg := PGOf(set.clusterID, bucket, e.Name, set.pgCount); !holds[d.id].has(pg) {
					t.Errorf("drive %s still holds %s (pg %d) after the rebalance", d.id, e.Name, pg)
				}
			}
		}
	}
}

// TestRebalanceGrow: a node joins a 4-node 2+2 cluster. While PGs move
// (before and during their migration) every object reads back right from
// every node, writes, overwrites and deletes go on, and a write routed by
// a node still on the old epoch is refused by the old drive. After the
// migration no PG moves, every object (an in-progress multipart upload
// included) is right, the deleted key stays deleted, and the old drives
// keep nothing of the PGs they lost.
func TestRebalanceGrow(t *testing.T) {
	c := growCluster(t, 4, 2, 2)
	ctx := context.Background()
	want := map[string][]byte{}
	sizes := []int64{0, 1 << 10, 100 << 10, 300 << 10, 2<<20 + 7}
	for i := range 40 {
		key := fmt.Sprintf("k%02d", i)
		want[key] = randBytes(uint64(i), sizes[i%len(sizes)])
		c.put(t, i%4, "b", key, want[key])
	}
	// A multipart upload in progress across the rebalance.
	up, err := c.stores[0].CreateMultipartUpload(ctx, "b", "mp", UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1data, p2data := randBytes(100, MinPartSize), randBytes(101, 1<<20+3)
	p1, err := c.stores[1].UploadPart(ctx, "b", "mp", up.UploadID, 1, bytes.NewReader(p1data), int64(len(p1data)), PartOptions{})
	if err != nil {
		t.Fatal(err)
	}

	c.nextEpoch(t)
	if c.moving() == 0 {
		t.Fatal("adding a node moved no PG")
	}
	for n := range 5 {
		for key, data := range want {
			c.mustRead(t, n, "b", key, data)
		}
	}

	// A moved position is served by its old drive: with the new drive and
	// two others of the PG down, the old drive's shard makes the K-th.
	rt, err := c.stores[0].route("b", staleKeyOf(t, c, want))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*faultDrive{}
	for _, ds := range c.drives {
		for _, d := range ds {
			byID[d.id] = d
		}
	}
	pos := rt.alts[0].pos
	downed := []*faultDrive{byID[rt.drives[pos].id]}
	for i, d := range rt.drives {
		if i != pos && len(downed) < 3 {
			downed = append(downed, byID[d.id])
		}
	}
	for _, d := range downed {
		d.down.Store(true)
	}
	for n := range 5 {
		c.mustRead(t, n, "b", rt.key, want[rt.key])
	}
	for _, d := range downed {
		d.down.Store(false)
	}

	// A node still on the old epoch commits to an old drive: refused.
	var stale *faultDrive
	var staleKey string
	c.topo.View(func(st *meta.State) {
		tc := c.stores[0].topoCacheLocked(st)
		for key := range want {
			pg := PGOf(testClusterID, "b", key, st.Cluster.PGCount)
			old := tc.moving[pg]
			for i, id := range old {
				if id != tc.pgs[pg][i] {
					staleKey = key
					for _, ds := range c.drives {
						for _, d := range ds {
							if d.id == id {
								stale = d
							}
						}
					}
				}
			}
			if stale != nil {
				return
			}
		}
	})
	if stale == nil {
		t.Fatal("no moved position found")
	}
	owner := slices.IndexFunc(c.drives, func(ds []*faultDrive) bool { return slices.Contains(ds, stale) })
	err = c.stores[owner].local[stale.id].CommitVersion(ctx, drive.FileInfo{Bucket: "b", Key: staleKey, VersionID: "v", ModTime: 1, Inline: []byte{}, K: 2, M: 2})
	if !errors.Is(err, errStalePlacement) {
		t.Fatalf("commit to an old drive of a moving PG: %v, want errStalePlacement", err)
	}

	// Writes while PGs move.
	for i := range 10 {
		key := fmt.Sprintf("new%02d", i)
		want[key] = randBytes(uint64(1000+i), sizes[i%len(sizes)])
		c.put(t, 4, "b", key, want[key])
	}
	want["k03"] = randBytes(2003, 200<<10) // overwrite of a null version
	c.put(t, 2, "b", "k03", want["k03"])
	if _, err := c.stores[3].DeleteObject(ctx, "b", "k07", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	delete(want, "k07")
	p2, err := c.stores[4].UploadPart(ctx, "b", "mp", up.UploadID, 2, bytes.NewReader(p2data), int64(len(p2data)), PartOptions{})
	if err != nil {
		t.Fatal(err)
	}

	c.rebalance(t)
	var moved int64
	for _, s := range c.stores {
		moved += s.RebalanceStatus().BytesMoved
	}
	if moved == 0 {
		t.Fatal("no bytes moved")
	}
	t.Logf("moved %d shard bytes", moved)

	if _, err := c.stores[0].CompleteMultipartUpload(ctx, "b", "mp", up.UploadID, completeOf(p1, p2), CompleteOptions{}); err != nil {
		t.Fatalf("complete an upload begun before the rebalance: %v", err)
	}
	want["mp"] = append(slices.Clone(p1data), p2data...)
	for n := range 5 {
		for key, data := range want {
			c.mustRead(t, n, "b", key, data)
		}
		if _, err := c.stores[n].HeadObject(ctx, "b", "k07", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
			t.Fatalf("deleted key via n%d: %v", n+1, err)
		}
	}
	res, err := c.stores[2].ListObjects(ctx, "b", ListOptions{Max: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	if len(keys) != len(want) {
		t.Fatalf("listed %d keys, want %d: %v", len(keys), len(want), keys)
	}
	c.checkNoStrays(t, "b")
	// Every version is whole on its new drives: every shard in place and
	// verified (no shard was left only on an old drive).
	for key := range want {
		checkHealthy(t, ctx, c.stores[0], "b", key)
	}
}

// staleKeyOf returns a key of want whose PG moves, with a single-stream
// (non-inline) size when there is one.
func staleKeyOf(t *testing.T, c *testCluster, want map[string][]byte) string {
	t.Helper()
	var best string
	for _, key := range slices.Sorted(maps.Keys(want)) {
		rt, err := c.stores[0].route("b", key)
		if err != nil {
			t.Fatal(err)
		}
		if len(rt.alts) > 0 && (best == "" || len(want[key]) > 128<<10) {
			best = key
			if len(want[key]) > 128<<10 {
				break
			}
		}
	}
	if best == "" {
		t.Fatal("no key in a moving PG")
	}
	return best
}

// strays counts the records drives hold of PGs the placement does not
// give them.
func (c *testCluster) strays(t *testing.T, bucket string) int {
	t.Helper()
	var holds map[string]pgSet
	c.topo.View(func(st *meta.State) { holds = c.stores[0].topoCacheLocked(st).holds })
	n := 0
	for _, ds := range c.drives {
		for _, d := range ds {
			entries, _, err := d.localDrive.List(context.Background(), bucket, drive.ListOptions{Limit: 10000})
			if err != nil && !errors.Is(err, drive.ErrNotFound) {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !holds[d.id].has(PGOf(testClusterID, bucket, e.Name, 16)) {
					n++
				}
			}
		}
	}
	return n
}

// TestRebalanceStraysRemoved: a node that is down while its PGs move
// away keeps their old copies (they cannot be removed); the PGs settle
// anyway, listings ignore the copies, and the node removes them once it
// is back (gcStrays).
func TestRebalanceStraysRemoved(t *testing.T) {
	c := growCluster(t, 4, 2, 2)
	ctx := context.Background()
	want := map[string][]byte{}
	for i := range 30 {
		key := fmt.Sprintf("s%02d", i)
		want[key] = randBytes(uint64(i), int64(i)*20<<10)
		c.put(t, i%4, "b", key, want[key])
	}
	c.nextEpoch(t)
	down := func(id string) bool { return id != "n2" }
	for _, d := range c.drives[1] {
		d.down.Store(true)
	}
	for i, s := range c.stores {
		if i != 1 {
			s.cfg.Alive = down
		}
	}
	c.rebalance(t, 1)
	left := c.strays(t, "b")
	if left == 0 {
		t.Fatal("no copies left on the node that was down: the test does not test anything")
	}
	res, err := c.stores[0].ListObjects(ctx, "b", ListOptions{Max: 1000})
	if err != nil || len(res.Objects) != len(want) {
		t.Fatalf("listing with strays: %d objects, %v", len(res.Objects), err)
	}
	for _, s := range c.stores {
		s.cfg.Alive = nil
	}
	for _, d := range c.drives[1] {
		d.down.Store(false)
	}
	n, err := c.stores[1].gcStrays(ctx)
	if err != nil || n == 0 {
		t.Fatalf("gc strays: %d, %v", n, err)
	}
	if left := c.strays(t, "b"); left != 0 {
		t.Fatalf("%d stray records after the sweep", left)
	}
	for key, data := range want {
		c.mustRead(t, 0, "b", key, data)
		checkHealthy(t, ctx, c.stores[0], "b", key)
	}
}
