package raftfsm

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

func entry(t *testing.T, index uint64, cmd meta.Command) *raft.Log {
	b, err := meta.Encode(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: b}
}

// formedFSM applies the commands that form a cluster plus a bucket and a user.
func formedFSM(t *testing.T) (*fsm, uint64) {
	f := newFSM(testLogger(t))
	cmds, err := metatest.Commands(metatest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmds = append(cmds,
		meta.CreateBucket{Bucket: meta.Bucket{Name: "bkt", Owner: metatest.RootAccessKey, Created: 1}},
		meta.PutUser{User: meta.User{AccessKey: "AK", SecretSealed: []byte("x"), Name: "alice", Created: 2}},
	)
	idx := uint64(10)
	for _, c := range cmds {
		idx++
		if r := f.Apply(entry(t, idx, c)); r != nil {
			t.Fatalf("apply %s: %v", c.Kind(), r)
		}
	}
	return f, idx
}

func TestFSMApplyRejection(t *testing.T) {
	f, idx := formedFSM(t)
	r := f.Apply(entry(t, idx+1, meta.CreateBucket{Bucket: meta.Bucket{Name: "bkt"}}))
	err, _ := r.(error)
	if !errors.Is(err, meta.ErrBucketExists) {
		t.Fatalf("response %v, want ErrBucketExists", r)
	}
	if f.appliedIndex() != idx+1 {
		t.Fatal("a rejected command still advances the applied index")
	}
}

func TestFSMUndecodablePanics(t *testing.T) {
	f := newFSM(testLogger(t))
	defer func() {
		if recover() == nil {
			t.Fatal("undecodable entry did not panic")
		}
	}()
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{0x7e, 1}})
}

func TestFSMSnapshotRestore(t *testing.T) {
	f, idx := formedFSM(t)
	store, err := raft.NewFileSnapshotStoreWithLogger(t.TempDir(), 2, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Apply after the snapshot was taken must not leak into it.
	f.Apply(entry(t, idx+1, meta.DeleteBucket{Name: "bkt"}))

	sink, err := store.Create(raft.SnapshotVersionMax, idx, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	metas, err := store.List()
	if err != nil || len(metas) != 1 {
		t.Fatalf("list: %v %v", metas, err)
	}
	_, rc, err := store.Open(metas[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	g := newFSM(testLogger(t))
	if err := g.Restore(rc); err != nil {
		t.Fatal(err)
	}
	if g.appliedIndex() != idx {
		t.Fatalf("restored applied index %d, want %d", g.appliedIndex(), idx)
	}
	var got, want *meta.State
	g.view(func(s *meta.State) { got = s.Clone() })
	w, _ := formedFSM(t)
	w.view(func(s *meta.State) { want = s.Clone() })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored state differs:\n got %+v\nwant %+v", got, want)
	}
	// Waiters for indexes inside the snapshot return at once.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := g.waitApplied(ctx, idx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestFSMRestoreGarbage(t *testing.T) {
	f := newFSM(testLogger(t))
	for _, b := range [][]byte{nil, {1}, {2, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 0, 5, 'x'}} {
		if err := f.Restore(io.NopCloser(&byteReader{b: b})); err == nil {
			t.Errorf("restore of %q succeeded", b)
		}
	}
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestWaitApplied(t *testing.T) {
	f := newFSM(testLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.waitApplied(ctx, 3, nil) }()
	cmds, _ := metatest.Commands(metatest.Options{})
	for i, c := range cmds[:3] {
		f.Apply(entry(t, uint64(i+1), c))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if err := f.waitApplied(short, 100, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	stop := make(chan struct{})
	close(stop)
	if err := f.waitApplied(context.Background(), 100, stop); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
}

func TestRejectionCodesRoundTrip(t *testing.T) {
	for _, rc := range rejectionCodes {
		orig := errors.Join(rc.err) // any error wrapping the sentinel
		code := rejectionCode(orig)
		if code != rc.code {
			t.Fatalf("%v -> %q, want %q", rc.err, code, rc.code)
		}
		back := rejectionError(code, orig.Error())
		if !errors.Is(back, rc.err) || back.Error() != orig.Error() {
			t.Fatalf("%q -> %v", code, back)
		}
	}
	// A real wrapped rejection keeps its most specific sentinel.
	s := metatest.State(t, metatest.Options{})
	err := s.Apply(meta.CreateBucket{Bucket: meta.Bucket{Name: "Bad_Name"}})
	if back := rejectionError(rejectionCode(err), err.Error()); !errors.Is(back, meta.ErrInvalidBucketName) {
		t.Fatalf("got %v", back)
	}
	if rejectionCode(nil) != "" || rejectionError("", "") != nil {
		t.Fatal("nil must map to no code")
	}
	if back := rejectionError("from_the_future", "x"); !errors.Is(back, ErrRejected) {
		t.Fatalf("unknown code: %v", back)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.NodeID, good.Dir, good.Advertise = "n1", "/tmp/x", "127.0.0.1:9100"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	boot := good
	boot.BootstrapExpect, boot.NewID = 3, func() string { return "id" }
	boot.Cluster = meta.Cluster{K: 2, M: 1, PGCount: 16, BlockSize: 1 << 20, InlineMax: 1024}
	if err := boot.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no id":           func(c *Config) { c.NodeID = "" },
		"no dir":          func(c *Config) { c.Dir = "" },
		"no port":         func(c *Config) { c.Advertise = "127.0.0.1" },
		"port 0":          func(c *Config) { c.Advertise = "127.0.0.1:0" },
		"no host":         func(c *Config) { c.Advertise = ":9100" },
		"voters 0":        func(c *Config) { c.Voters = 0 },
		"no clock":        func(c *Config) { c.Now = nil },
		"no newid":        func(c *Config) { c.NewID = nil },
		"bad template":    func(c *Config) { c.Cluster.K = 0 },
		"lease too long":  func(c *Config) { c.LeaderLeaseTimeout = 2 * c.HeartbeatTimeout },
		"election < hb":   func(c *Config) { c.ElectionTimeout = c.HeartbeatTimeout / 2 },
		"negative expect": func(c *Config) { c.BootstrapExpect = -1 },
	} {
		c := boot
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestSameNode(t *testing.T) {
	n := metatest.Nodes(1, 2)[0]
	m := Member{ID: n.ID, RPCAddr: n.RPCAddr, S3Addr: n.S3Addr, Drives: []meta.Drive{{ID: n.Drives[1].ID}, {ID: n.Drives[0].ID}}}
	if !sameNode(n, m) {
		t.Fatal("same node (drive order differs) reported different")
	}
	m2 := m
	m2.S3Addr = "x:1"
	m3 := m
	m3.Drives = m.Drives[:1]
	if sameNode(n, m2) || sameNode(n, m3) || sameNode(nil, m) {
		t.Fatal("different node reported same")
	}
}

// TestEveryRejectionHasACode: every rejection sentinel meta declares (the
// Err variables of meta/errors.go) travels from the leader to a follower
// as itself; one missing from rejectionCodes reaches a follower's client
// as an internal error.
func TestEveryRejectionHasACode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "meta", "errors.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, rc := range rejectionCodes {
		have[rc.err.Error()] = true
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			for i, name := range spec.(*ast.ValueSpec).Names {
				call, ok := spec.(*ast.ValueSpec).Values[i].(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					continue
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || name.Name == "ErrNotEnoughDrives" { // not a rejection of Apply
					continue
				}
				msg, _ := strconv.Unquote(lit.Value)
				if !have[msg] {
					t.Errorf("meta.%s (%q) has no rejection code in raftfsm/errors.go", name.Name, msg)
				}
			}
		}
	}
}
