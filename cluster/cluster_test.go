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
	} {
		got, err := decodeMeta(encodeMeta(m))
		if err != nil {
			t.Fatal(err)
		}
		if got.RPCAddr != m.RPCAddr || got.S3Addr != m.S3Addr || !reflect.DeepEqual(append([]string{}, got.Drives...), append([]string{}, m.Drives...)) {
			t.Fatalf("round trip: got %+v want %+v", got, m)
		}
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
