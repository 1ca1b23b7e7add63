package dataplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/rpc"
)

// testCluster is N nodes, each a Store with its own rpc.Transport on
// loopback and its own drives, sharing one replicated state.
type testCluster struct {
	topo   *testTopo
	stores []*Store
	trs    []*rpc.Transport
	drives [][]*faultDrive
}

func newTestCluster(t testing.TB, nodes, drivesPer, k, m int) *testCluster {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	st := meta.NewState()
	st.Cluster = meta.Cluster{ID: testClusterID, K: k, M: m, PGCount: 16, BlockSize: 1 << 20, InlineMax: 128 << 10}
	c := &testCluster{topo: &testTopo{st: st}}
	var metaNodes []*meta.Node
	for i := range nodes {
		id := fmt.Sprintf("n%d", i+1)
		cfg := rpc.DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		cfg.ClusterKey = key
		cfg.DialTimeout = 2 * time.Second
		tr, err := rpc.New(cfg, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tr.Close() })
		ds := openTestDrives(t, drivesPer, id)
		n := &meta.Node{ID: id, RPCAddr: tr.Addr(), State: meta.StateUp}
		local := map[string]localDrive{}
		for _, d := range ds {
			n.Drives = append(n.Drives, &meta.Drive{ID: d.id, NodeID: id, State: meta.StateUp})
			local[d.id] = d
		}
		st.Nodes[id] = n
		metaNodes = append(metaNodes, n)
		s, err := newStore(Config{NodeID: id, MetaTimeout: 5 * time.Second}, local, c.topo, tr, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		c.stores = append(c.stores, s)
		c.trs = append(c.trs, tr)
		c.drives = append(c.drives, ds)
	}
	pl, err := meta.ComputePlacement(metaNodes, st.Cluster.PGCount, k+m, 1)
	if err != nil {
		t.Fatal(err)
	}
	st.Placement = pl
	for _, tr := range c.trs {
		tr.Start()
	}
	return c
}

func (c *testCluster) put(t *testing.T, node int, bucket, key string, data []byte) {
	t.Helper()
	if _, err := c.stores[node].PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
		t.Fatalf("put via n%d: %v", node+1, err)
	}
}

func (c *testCluster) mustRead(t *testing.T, node int, bucket, key string, want []byte) {
	t.Helper()
	e := &testEnv{t: t, store: c.stores[node]}
	e.mustRead(bucket, key, want)
}

func TestMultiNode(t *testing.T) {
	c := newTestCluster(t, 4, 2, 2, 2)
	ctx := context.Background()

	// Placement spreads every PG over 4 distinct nodes.
	c.topo.View(func(st *meta.State) {
		owner := map[string]string{}
		for id, n := range st.Nodes {
			for _, d := range n.Drives {
				owner[d.ID] = id
			}
		}
		for pg, ids := range st.Placement.PGs {
			seen := map[string]bool{}
			for _, id := range ids {
				seen[owner[id]] = true
			}
			if len(seen) != 4 {
				t.Fatalf("pg %d on %d nodes", pg, len(seen))
			}
		}
	})

	objs := map[string][]byte{}
	for i, size := range []int64{0, 1, 100 << 10, 1<<20 + 1, 8 << 20} {
		key := fmt.Sprintf("obj-%d", size)
		objs[key] = randBytes(uint64(i), size)
		c.put(t, i%4, "b", key, objs[key])
	}
	for node := range 4 {
		for key, data := range objs {
			c.mustRead(t, node, "b", key, data)
		}
	}
	// Ranges through a remote node.
	big := objs["obj-8388608"]
	e := &testEnv{t: t, store: c.stores[2]}
	got, err := e.read("b", "obj-8388608", 3<<20-5, 1<<20+10)
	if err != nil || !bytes.Equal(got, big[3<<20-5:4<<20+5]) {
		t.Fatalf("remote range: %v", err)
	}

	// Listing from every node.
	var keys []string
	for i := range 300 {
		k := fmt.Sprintf("list/%03d", i)
		keys = append(keys, k)
		c.put(t, i%4, "l", k, []byte(k))
	}
	for node := range 4 {
		got, _ := listAll(t, c.stores[node], "l", "", "", 70)
		if !slices.Equal(got, keys) {
			t.Fatalf("list via n%d: %d keys", node+1, len(got))
		}
		_, prefixes := listAll(t, c.stores[node], "l", "", "/", 70)
		if !slices.Equal(prefixes, []string{"list/"}) {
			t.Fatalf("prefixes via n%d: %v", node+1, prefixes)
		}
	}

	// Corrupt a shard on a remote drive: still read exactly.
	o, err := c.stores[0].GetObject(ctx, "b", "obj-8388608", GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := o.parts[0].srcs[0]
	var victim *faultDrive
	for _, ds := range c.drives {
		for _, d := range ds {
			if d.id == src.driveID {
				victim = d
			}
		}
	}
	corruptShard(t, o, victim, 0, o.parts[0].lay.shardOffset(2)+crcLen+100)
	c.mustRead(t, 0, "b", "obj-8388608", big)

	// Delete via one node, gone via all.
	if _, err := c.stores[1].DeleteObject(ctx, "b", "obj-1", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for node := range 4 {
		if _, err := c.stores[node].HeadObject(ctx, "b", "obj-1", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
			t.Fatalf("head via n%d after delete: %v", node+1, err)
		}
	}
	delete(objs, "obj-1")

	// One node down (its transport closed): reads, writes and listings go on.
	_ = c.trs[3].Close()
	for node := range 3 {
		for key, data := range objs {
			c.mustRead(t, node, "b", key, data)
		}
	}
	fresh := randBytes(99, 3<<20)
	c.put(t, 0, "b", "fresh", fresh)
	c.mustRead(t, 1, "b", "fresh", fresh)
	small := []byte("small while degraded")
	c.put(t, 2, "b", "small", small)
	c.mustRead(t, 0, "b", "small", small)
	got2, _ := listAll(t, c.stores[0], "l", "", "", 100)
	if !slices.Equal(got2, keys) {
		t.Fatalf("list with a node down: %d keys", len(got2))
	}

	// Two nodes down: writes refused with a quorum error (K+1 = 3 needed),
	// listing too (PGs with 2 of 4 drives are still >= K, so it answers).
	_ = c.trs[2].Close()
	_, err = c.stores[0].PutObject(ctx, "b", "nope", bytes.NewReader(fresh), int64(len(fresh)), PutOptions{})
	var qe *QuorumError
	if !errors.As(err, &qe) {
		t.Fatalf("put with 2 of 4 nodes down: %v", err)
	}
	c.mustRead(t, 0, "b", "fresh", fresh) // 2 shards left = K
	if _, err := c.stores[0].GetObject(ctx, "b", "nope", GetOptions{}); err == nil {
		t.Fatal("refused put visible")
	}

	// DropBucket reports the nodes it could not reach.
	if err := c.stores[0].DropBucket(ctx, "l"); !errors.As(err, &qe) || qe.Have != 2 {
		t.Fatalf("drop bucket with 2 nodes down: %v", err)
	}
}

// TestMultiNodeNoDrive: a node asked for a drive it does not have answers
// no_drive, which the caller treats as unavailable.
func TestMultiNodeNoDrive(t *testing.T) {
	c := newTestCluster(t, 2, 2, 1, 1)
	rd := &remoteDrive{tr: c.trs[0], addr: c.trs[1].Addr(), driveID: "nope"}
	_, err := rd.ReadVersions(context.Background(), "b", "k", drive.Ref{}, 1)
	if !errors.Is(err, errNoDrive) || !unavailable(err) {
		t.Fatalf("unknown drive: %v", err)
	}
	// A real remote drive maps not found back to the sentinel.
	rd.driveID = c.drives[1][0].id
	if _, err := rd.ReadVersions(context.Background(), "b", "k", drive.Ref{}, 1); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("missing record: %v", err)
	}
}

// TestCommitUnlock: a commit that names the lock's owner releases the
// remote lease in the same call and says so; one without an owner leaves
// it (the writer then unlocks as before).
func TestCommitUnlock(t *testing.T) {
	c := newTestCluster(t, 2, 1, 1, 1)
	ctx := context.Background()
	rd := &remoteDrive{tr: c.trs[0], addr: c.trs[1].Addr(), driveID: c.drives[1][0].id}
	remote := &c.stores[1].locks
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 1, Size: 1, K: 1, M: 1, Inline: []byte("x")}
	if ok, _, err := rd.LockKey(ctx, "b", "k", "w1", time.Minute); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	if err := rd.CommitVersion(ctx, fi); err != nil || remote.held() != 1 {
		t.Fatalf("plain commit: %v, %d leases held (want the lease kept)", err, remote.held())
	}
	fi.VersionID, fi.ModTime = "v2", 2
	unlocked, err := rd.CommitUnlock(ctx, fi, "w1")
	if err != nil || !unlocked || remote.held() != 0 {
		t.Fatalf("commit+unlock: unlocked %v, %v, %d leases held", unlocked, err, remote.held())
	}
	kv, err := c.drives[1][0].ReadVersions(ctx, "b", "k", drive.Ref{}, 10)
	if err != nil || len(kv.Versions) != 2 {
		t.Fatalf("versions after the commits: %+v %v", kv, err)
	}
}
