package raftfsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
	"github.com/strata-io/strata/rpc"
)

// harness runs Stores on real rpc transports on loopback, with a fake
// gossip view (members) that lists the running nodes.
type harness struct {
	t    *testing.T
	key  []byte
	base string // parent of the nodes' dirs
	mod  func(*Config)

	mu    sync.Mutex
	nodes map[string]*testNode
	seq   int
}

type testNode struct {
	id     string
	dir    string
	addr   string // rpc address, kept across restarts
	expect int
	tr     *rpc.Transport
	st     *Store
	events chan MemberEvent
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	// TempDir before Cleanup: cleanups run last-in first-out, so the nodes
	// stop before their directories are removed.
	h := &harness{t: t, key: make([]byte, 32), base: t.TempDir(), nodes: map[string]*testNode{}}
	rand.Read(h.key)
	t.Cleanup(func() {
		for _, n := range h.running() {
			h.stop(n.id)
		}
	})
	return h
}

func (h *harness) config(n *testNode) Config {
	cfg := DefaultConfig()
	cfg.NodeID, cfg.Dir, cfg.Advertise, cfg.BootstrapExpect = n.id, n.dir, n.addr, n.expect
	cfg.Cluster = meta.Cluster{K: 2, M: 1, PGCount: 16, BlockSize: 1 << 20, InlineMax: 128 << 10}
	root := metatest.Root()
	cfg.Root = &root
	cfg.NewID = func() string { return metatest.ClusterID }
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 300*time.Millisecond
	cfg.ReconcileInterval = 200 * time.Millisecond
	// Snapshot often and keep few logs, so late and restarted nodes catch
	// up through InstallSnapshot over the rpc stream.
	cfg.SnapshotInterval, cfg.SnapshotThreshold, cfg.TrailingLogs = 100*time.Millisecond, 4, 2
	if h.mod != nil {
		h.mod(&cfg)
	}
	return cfg
}

// add creates a node slot and starts it.
func (h *harness) add(expect int) *testNode {
	h.mu.Lock()
	h.seq++
	id := fmt.Sprintf("n%d", h.seq)
	n := &testNode{id: id, dir: filepath.Join(h.base, id), addr: "127.0.0.1:0", expect: expect}
	h.nodes[n.id] = n
	h.mu.Unlock()
	h.start(n)
	return n
}

func (h *harness) start(n *testNode) {
	h.t.Helper()
	rcfg := rpc.DefaultConfig()
	rcfg.Addr, rcfg.ClusterKey = n.addr, h.key
	tr, err := rpc.New(rcfg, testLogger(h.t).With("node", n.id))
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	n.addr = tr.Addr()
	h.mu.Unlock()
	st, err := New(h.config(n), tr, testLogger(h.t).With("node", n.id))
	if err != nil {
		tr.Close()
		h.t.Fatal(err)
	}
	tr.Start()
	ctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	n.tr, n.st, n.cancel, n.done, n.events = tr, st, cancel, make(chan struct{}), make(chan MemberEvent, 16)
	h.mu.Unlock()
	go func() { defer close(n.done); st.Run(ctx, h.members, n.events) }()
}

func (h *harness) stop(id string) {
	h.mu.Lock()
	n := h.nodes[id]
	h.mu.Unlock()
	if n.st == nil {
		return
	}
	n.cancel()
	<-n.done
	n.st.Close()
	n.tr.Close()
	h.mu.Lock()
	n.st, n.tr = nil, nil
	h.mu.Unlock()
}

func (h *harness) running() []*testNode {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*testNode
	for _, n := range h.nodes {
		if n.st != nil {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *testNode) int { return int(a.id[1]) - int(b.id[1]) })
	return out
}

// members is the fake gossip view: every running node, with two drives each.
func (h *harness) members() []Member {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Member
	for _, n := range h.nodes {
		if n.st == nil {
			continue
		}
		out = append(out, Member{ID: n.id, RPCAddr: n.addr, S3Addr: "127.0.0.1:1", Drives: []meta.Drive{{ID: n.id + "-d1"}, {ID: n.id + "-d2"}}})
	}
	return out
}

// event sends ev to every running node's Run.
func (h *harness) event(typ EventType, id string) {
	for _, m := range h.members() {
		if m.ID == id {
			for _, n := range h.running() {
				n.events <- MemberEvent{Type: typ, Member: m}
			}
		}
	}
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *harness) leader() *testNode {
	for _, n := range h.running() {
		if n.st.IsLeader() {
			return n
		}
	}
	return nil
}

func (h *harness) follower() *testNode {
	for _, n := range h.running() {
		if !n.st.IsLeader() {
			return n
		}
	}
	return nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func hasBucket(st *Store, name string) bool {
	var ok bool
	st.View(func(s *meta.State) { _, ok = s.Buckets[name] })
	return ok
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	h := newHarness(t)
	for range 3 {
		h.add(3)
	}
	eventually(t, "three ready stores", func() bool {
		for _, n := range h.running() {
			if !n.st.Ready() {
				return false
			}
		}
		return true
	})
	leaders := 0
	for _, n := range h.running() {
		if n.st.IsLeader() {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders", leaders)
	}
	l := h.leader()
	for _, n := range h.running() {
		if id, addr := n.st.Leader(); id != l.id || addr != l.addr {
			t.Fatalf("%s sees leader %s at %s, want %s at %s", n.id, id, addr, l.id, l.addr)
		}
		if st := n.st.Stats(); st["fsm_applied_index"] == "" || st["state"] == "" {
			t.Fatalf("%s stats: %v", n.id, st)
		}
	}
	for _, n := range h.running() {
		var st *meta.State
		n.st.View(func(s *meta.State) { st = s.Clone() })
		if st.Cluster.ID != metatest.ClusterID || st.Cluster.Expect != 3 || len(st.Nodes) != 3 || st.Placement.Epoch != 1 ||
			len(st.Placement.PGs) != 16 || st.Users[metatest.RootAccessKey] == nil {
			t.Fatalf("%s state: %+v", n.id, st)
		}
		if srv := n.st.Servers(); len(srv) != 3 || !srv[0].Voter || !srv[1].Voter || !srv[2].Voter {
			t.Fatalf("%s servers: %+v", n.id, srv)
		}
	}

	t.Run("follower write is visible on the follower", func(t *testing.T) {
		f := h.follower().st
		for i := range 5 {
			name := fmt.Sprintf("photos-%d", i)
			if err := f.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: name, Owner: metatest.RootAccessKey}}); err != nil {
				t.Fatal(err)
			}
			if !hasBucket(f, name) {
				t.Fatalf("bucket %s not visible on the follower right after Propose", name)
			}
		}
	})

	t.Run("rejections cross the forwarding", func(t *testing.T) {
		f := h.follower().st
		err := f.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "photos-0"}})
		if !errors.Is(err, meta.ErrBucketExists) {
			t.Fatalf("duplicate bucket: got %v", err)
		}
		err = f.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "Bad_Name"}})
		if !errors.Is(err, meta.ErrInvalidBucketName) {
			t.Fatalf("bad name: got %v", err)
		}
		err = h.leader().st.Propose(ctxT(t), meta.DeleteBucket{Name: "nope"})
		if !errors.Is(err, meta.ErrNoSuchBucket) {
			t.Fatalf("on the leader: got %v", err)
		}
	})

	t.Run("barrier on a follower", func(t *testing.T) {
		l, f := h.leader().st, h.follower().st
		for i := range 3 {
			name := fmt.Sprintf("leader-%d", i)
			if err := l.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: name}}); err != nil {
				t.Fatal(err)
			}
			if err := f.Barrier(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if !hasBucket(f, name) {
				t.Fatalf("after Barrier the follower misses %s", name)
			}
		}
		if err := l.Barrier(ctxT(t)); err != nil {
			t.Fatalf("barrier on the leader: %v", err)
		}
	})

	t.Run("a later node joins as non-voter", func(t *testing.T) {
		n4 := h.add(0)
		h.event(EventJoin, n4.id)
		eventually(t, "n4 in the raft configuration and ready", func() bool {
			l := h.leader()
			var known bool
			n4.st.View(func(s *meta.State) { known = s.Nodes[n4.id] != nil })
			if l == nil || !known || !n4.st.Ready() || !hasBucket(n4.st, "leader-2") {
				return false
			}
			for _, s := range l.st.Servers() {
				if s.ID == n4.id {
					return !s.Voter
				}
			}
			return false
		})
		// A non-voter forwards writes like any follower.
		if err := n4.st.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "from-n4"}}); err != nil {
			t.Fatal(err)
		}
		if !hasBucket(n4.st, "from-n4") {
			t.Fatal("n4 does not read its own write")
		}
		// With 3 voters and one non-voter, promoting would make 4: n4 stays.
		time.Sleep(3 * h.config(n4).ReconcileInterval)
		for _, s := range h.leader().st.Servers() {
			if s.ID == n4.id && s.Voter {
				t.Fatal("n4 promoted to an even number of voters")
			}
		}
	})

	t.Run("a restarted node rejoins with its state", func(t *testing.T) {
		f := h.follower()
		id := f.id
		h.stop(id)
		h.event(EventLeave, id)
		if err := h.leader().st.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "while-down"}}); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		n := h.nodes[id]
		h.mu.Unlock()
		h.start(n)
		// The restored state is there before any leader contact.
		if !hasBucket(n.st, "photos-0") {
			t.Fatal("restarted node lost its state")
		}
		eventually(t, "restarted node catches up", func() bool { return hasBucket(n.st, "while-down") && n.st.Ready() })
		if err := n.st.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "after-restart"}}); err != nil {
			t.Fatal(err)
		}
		voters := 0
		for _, s := range h.leader().st.Servers() {
			if s.Voter {
				voters++
			}
		}
		if voters != 3 {
			t.Fatalf("%d voters after restart", voters)
		}
	})

	t.Run("leader failover", func(t *testing.T) {
		old := h.leader()
		h.stop(old.id)
		h.event(EventLeave, old.id)
		eventually(t, "a new leader", func() bool { l := h.leader(); return l != nil && l.id != old.id })
		f := h.follower().st
		if err := f.Propose(ctxT(t), meta.CreateBucket{Bucket: meta.Bucket{Name: "after-failover"}}); err != nil {
			t.Fatal(err)
		}
		if err := f.Barrier(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNoLeader(t *testing.T) {
	h := newHarness(t)
	n := h.add(0) // never bootstraps: no leader ever
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := n.st.Propose(ctx, meta.CreateBucket{Bucket: meta.Bucket{Name: "abc"}})
	if !errors.Is(err, ErrNoLeader) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("propose: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := n.st.Barrier(ctx2); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("barrier: %v", err)
	}
	if n.st.Ready() || n.st.IsLeader() {
		t.Fatal("a lone unbootstrapped store reports ready")
	}
	if err := n.st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.st.Close(); err != nil {
		t.Fatal("second close:", err)
	}
}

func voters(st *Store) (voters, nonvoters int) {
	for _, s := range st.Servers() {
		if s.Voter {
			voters++
		} else {
			nonvoters++
		}
	}
	return voters, nonvoters
}

// TestPromotion grows a one-node cluster: the second node stays a non-voter
// (two voters tolerate no more failures than one), the third makes three
// voters, the fourth waits again, and Voters caps the count.
func TestPromotion(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Raft cluster")
	}
	h := newHarness(t)
	h.mod = func(c *Config) {
		c.Voters = 3
		c.Cluster.K, c.Cluster.M = 1, 1
	}
	n1 := h.add(1)
	eventually(t, "one-node cluster ready", n1.st.Ready)
	n2 := h.add(0)
	h.event(EventJoin, n2.id)
	eventually(t, "n2 non-voter", func() bool { v, nv := voters(n1.st); return v == 1 && nv == 1 })
	time.Sleep(3 * h.config(n2).ReconcileInterval)
	if v, _ := voters(n1.st); v != 1 {
		t.Fatalf("%d voters with two nodes", v)
	}
	n3 := h.add(0)
	h.event(EventJoin, n3.id)
	eventually(t, "three voters", func() bool { v, nv := voters(n1.st); return v == 3 && nv == 0 })
	n4, n5 := h.add(0), h.add(0)
	h.event(EventJoin, n4.id)
	h.event(EventJoin, n5.id)
	eventually(t, "two more non-voters", func() bool { v, nv := voters(n1.st); return v == 3 && nv == 2 })
	time.Sleep(3 * h.config(n2).ReconcileInterval)
	if v, _ := voters(h.leader().st); v != 3 {
		t.Fatalf("%d voters, Voters is 3", v)
	}
}
