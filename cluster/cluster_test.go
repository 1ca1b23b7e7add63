package cluster

import (
	"crypto/rand"
	"fmt"
	"net"
	"reflect"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestMetaRoundTrip(t *testing.T) {
	for _, m := range []Meta{
		{},
		{RPCAddr: "127.0.0.1:9100", S3Addr: "127.0.0.1:9000", Drives: []string{"a", "b"}},
		{RPCAddr: "127.0.0.1:9100", S3Addr: "127.0.0.1:9000", Drives: []string{"a"}, Version: "v1.2.3"},
	} {
		got, err := decodeMeta(encodeMeta(m))
		if err != nil {
			t.Fatal(err)
		}
		if got.RPCAddr != m.RPCAddr || got.S3Addr != m.S3Addr || got.Version != m.Version || !reflect.DeepEqual(append([]string{}, got.Drives...), append([]string{}, m.Drives...)) {
			t.Fatalf("round trip: got %+v want %+v", got, m)
		}
	}
}

// TestMetaCompatibility pins the wire bytes: metadata without a version (as
// nodes before the field sent it) still decodes, and the version is an
// appended field that such nodes skip.
func TestMetaCompatibility(t *testing.T) {
	old := []byte{1, 3, 'r', ':', '1', 3, 's', ':', '2', 1, 1, 'd'}
	m, err := decodeMeta(old)
	if err != nil || m.RPCAddr != "r:1" || m.S3Addr != "s:2" || len(m.Drives) != 1 || m.Drives[0] != "d" || m.Version != "" {
		t.Fatalf("old metadata: %+v, %v", m, err)
	}
	if got := encodeMeta(Meta{RPCAddr: "r:1", S3Addr: "s:2", Drives: []string{"d"}}); !reflect.DeepEqual(got, old) {
		t.Fatalf("metadata without a version: % x, want % x", got, old)
	}
	withVersion := encodeMeta(Meta{RPCAddr: "r:1", S3Addr: "s:2", Drives: []string{"d"}, Version: "v2"})
	if want := append(append([]byte{}, old...), 2, 'v', '2'); !reflect.DeepEqual(withVersion, want) {
		t.Fatalf("metadata with a version: % x, want % x", withVersion, want)
	}
	if _, err := decodeMeta(append(old, 5, 'v')); err == nil {
		t.Fatal("truncated version accepted")
	}
}

func TestDecodeMetaRejectsGarbage(t *testing.T) {
	for _, p := range [][]byte{nil, {9}, {1, 200}, {1, 0, 0, 5, 1}} {
		if _, err := decodeMeta(p); err == nil {
			t.Fatalf("decodeMeta(%v) succeeded", p)
		}
	}
}

func start(t *testing.T, id string, key []byte) *Cluster {
	t.Helper()
	c, err := New(Config{
		NodeID:   id,
		BindAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		Key:      key,
		Meta:     Meta{RPCAddr: id + ":rpc", Drives: []string{id + "-d1"}},
		Fast:     true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGossipJoinAndWrongKey(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	a := start(t, "a", key)
	b := start(t, "b", key)
	if _, err := b.Join([]string{a.LocalAddr()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Members()) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("a sees %d members", len(a.Members()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m := a.Members()[1]; m.ID != "b" || m.Meta.RPCAddr != "b:rpc" || len(m.Meta.Drives) != 1 {
		t.Fatalf("member b: %+v", m)
	}
	select {
	case ev := <-a.Events():
		if ev.Type != EventJoin {
			t.Fatalf("first event %v", ev.Type)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no join event")
	}

	other := make([]byte, 32)
	rand.Read(other)
	c := start(t, "c", other)
	if _, err := c.Join([]string{a.LocalAddr()}); err == nil {
		t.Fatal("a node with another cluster key joined")
	}
	if n := len(a.Members()); n != 2 {
		t.Fatalf("a sees %d members after a foreign join attempt", n)
	}

	if err := b.SetMeta(Meta{RPCAddr: "b:rpc2"}); err != nil {
		t.Fatal(err)
	}
	for {
		ms := a.Members()
		if len(ms) == 2 && ms[1].Meta.RPCAddr == "b:rpc2" {
			break
		}
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatal("meta update not seen")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls cond until it holds, failing t after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killedPeer starts a, and b joined to it, then stops b without leaving
// (like a paused, killed or cut-off process) and waits until a declares b
// down. restartB starts a new b at the same address (like a restarted
// process), joining no one.
func killedPeer(t *testing.T) (a *Cluster, restartB func() *Cluster) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	a = start(t, "a", key)
	bAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	b, err := New(Config{NodeID: "b", BindAddr: bAddr, Key: key, Fast: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Join([]string{a.LocalAddr()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to join", func() bool { return len(a.Members()) == 2 })
	if a.Down("b") || a.Down("never-seen") {
		t.Fatal("a live or unknown member reported down")
	}
	close(b.stop)
	if err := b.ml.Shutdown(); err != nil { // no Leave
		t.Fatal(err)
	}
	b.wg.Wait()
	waitFor(t, "b to be declared down", func() bool { return a.Down("b") })
	return a, func() *Cluster {
		t.Helper()
		b2, err := New(Config{NodeID: "b", BindAddr: bAddr, Key: key, Fast: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b2.Close() })
		return b2
	}
}

// TestDown: a member that stops answering (here: shut down without leaving)
// is reported down once gossip declares it dead, and no longer once a
// process with its name rejoins.
func TestDown(t *testing.T) {
	a, restartB := killedPeer(t)
	if _, err := restartB().Join([]string{a.LocalAddr()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to be up again", func() bool { return !a.Down("b") })
}

// TestRejoinAfterSplit: when both sides of a split have declared each other
// dead, nothing in memberlist brings them together again; the cluster keeps
// knocking on the down member's last address. Here b is cut off (shut down
// without leaving) and comes back at the same address without joining
// anyone: only a's rejoin can reunite them.
func TestRejoinAfterSplit(t *testing.T) {
	a, restartB := killedPeer(t)
	b2 := restartB()
	waitFor(t, "a and b to find each other again", func() bool {
		return !a.Down("b") && len(a.Members()) == 2 && len(b2.Members()) == 2
	})
}
