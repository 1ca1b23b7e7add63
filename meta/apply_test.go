package meta_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func TestApplyRejections(t *testing.T) {
	nodes := metatest.Nodes(3, 2)
	good := meta.User{AccessKey: "AK1", SecretSealed: []byte("s"), Name: "alice"}
	for _, tc := range []struct {
		name  string
		fresh bool // apply to an empty state instead of a formed cluster
		cmd   meta.Command
		want  error
	}{
		{"bootstrap twice", false, meta.Bootstrap{Cluster: meta.Cluster{ID: "x", K: 1, PGCount: 1, BlockSize: 1, Expect: 1}, Root: metatest.Root()}, meta.ErrAlreadyBootstrapped},
		{"bootstrap without id", true, meta.Bootstrap{Cluster: meta.Cluster{K: 1, PGCount: 1, BlockSize: 1, Expect: 1}, Root: metatest.Root()}, meta.ErrInvalid},
		{"bootstrap bad ec", true, meta.Bootstrap{Cluster: meta.Cluster{ID: "x", K: 0, PGCount: 1, BlockSize: 1, Expect: 1}, Root: metatest.Root()}, meta.ErrInvalid},
		{"bootstrap bad pgs", true, meta.Bootstrap{Cluster: meta.Cluster{ID: "x", K: 1, PGCount: 0, BlockSize: 1, Expect: 1}, Root: metatest.Root()}, meta.ErrInvalid},
		{"bootstrap without root", true, meta.Bootstrap{Cluster: meta.Cluster{ID: "x", K: 1, PGCount: 1, BlockSize: 1, Expect: 1}}, meta.ErrInvalid},
		{"node before bootstrap", true, meta.NodeUp{Node: *nodes[0]}, meta.ErrNotBootstrapped},
		{"node without id", false, meta.NodeUp{Node: meta.Node{RPCAddr: "a:1"}}, meta.ErrInvalid},
		{"node without rpc", false, meta.NodeUp{Node: meta.Node{ID: "n9"}}, meta.ErrInvalid},
		{"node steals drive", false, meta.NodeUp{Node: meta.Node{ID: "n9", RPCAddr: "a:1", Drives: []*meta.Drive{{ID: "n1-d1"}}}}, meta.ErrInvalid},
		{"node drive twice", false, meta.NodeUp{Node: meta.Node{ID: "n9", RPCAddr: "a:1", Drives: []*meta.Drive{{ID: "x"}, {ID: "x"}}}}, meta.ErrInvalid},
		{"node nil drive", false, meta.NodeUp{Node: meta.Node{ID: "n9", RPCAddr: "a:1", Drives: []*meta.Drive{nil}}}, meta.ErrInvalid},
		{"placement before bootstrap", true, meta.SetPlacement{Placement: meta.Placement{Epoch: 1}}, meta.ErrNotBootstrapped},
		{"placement same epoch", false, meta.SetPlacement{Placement: meta.Placement{Epoch: 1}}, meta.ErrStaleEpoch},
		{"placement skips epoch", false, meta.SetPlacement{Placement: meta.Placement{Epoch: 3}}, meta.ErrStaleEpoch},
		{"placement wrong pg count", false, meta.SetPlacement{Placement: meta.Placement{Epoch: 2, PGs: [][]string{{"n1-d1", "n2-d1", "n3-d1"}}}}, meta.ErrInvalid},
		{"placement unknown drive", false, meta.SetPlacement{Placement: placementWith(16, []string{"n1-d1", "n2-d1", "zz"})}, meta.ErrInvalid},
		{"placement repeated drive", false, meta.SetPlacement{Placement: placementWith(16, []string{"n1-d1", "n2-d1", "n1-d1"})}, meta.ErrInvalid},
		{"placement short pg", false, meta.SetPlacement{Placement: placementWith(16, []string{"n1-d1", "n2-d1"})}, meta.ErrInvalid},
		{"bucket before bootstrap", true, meta.CreateBucket{Bucket: meta.Bucket{Name: "abc"}}, meta.ErrNotBootstrapped},
		{"bucket bad name", false, meta.CreateBucket{Bucket: meta.Bucket{Name: "A"}}, meta.ErrInvalidBucketName},
		{"bucket exists", false, meta.CreateBucket{Bucket: meta.Bucket{Name: "existing"}}, meta.ErrBucketExists},
		{"delete missing bucket", false, meta.DeleteBucket{Name: "nope"}, meta.ErrNoSuchBucket},
		{"user before bootstrap", true, meta.PutUser{User: good}, meta.ErrNotBootstrapped},
		{"user without key", false, meta.PutUser{User: meta.User{Name: "x", SecretSealed: []byte("s")}}, meta.ErrInvalid},
		{"user without secret", false, meta.PutUser{User: meta.User{AccessKey: "AK2", Name: "x"}}, meta.ErrInvalid},
		{"user name taken", false, meta.PutUser{User: meta.User{AccessKey: "AK2", SecretSealed: []byte("s"), Name: "bob"}}, meta.ErrUserExists},
		{"user key taken", false, meta.PutUser{User: meta.User{AccessKey: "AKBOB", SecretSealed: []byte("s"), Name: "carol"}}, meta.ErrUserExists},
		{"create of an existing user", false, meta.PutUser{User: meta.User{AccessKey: "AKBOB", SecretSealed: []byte("s2"), Name: "bob"}, Create: true}, meta.ErrUserExists},
		{"second root", false, meta.PutUser{User: meta.User{AccessKey: "AK3", SecretSealed: []byte("s"), Name: "r2", Root: true}}, meta.ErrInvalid},
		{"demote root", false, meta.PutUser{User: meta.User{AccessKey: metatest.RootAccessKey, SecretSealed: []byte("s"), Name: "root"}}, meta.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := meta.NewState()
			if !tc.fresh {
				s = metatest.State(t, metatest.Options{})
				mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "existing"}})
				mustApply(t, s, meta.PutUser{User: meta.User{AccessKey: "AKBOB", SecretSealed: []byte("s"), Name: "bob"}})
			}
			before := s.Clone()
			err := s.Apply(tc.cmd)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(s, before) {
				t.Fatal("a rejected command changed the state")
			}
		})
	}
}

func placementWith(pgs int, drives []string) meta.Placement {
	p := meta.Placement{Epoch: 2}
	for range pgs {
		p.PGs = append(p.PGs, drives)
	}
	return p
}

func mustApply(t *testing.T, s *meta.State, c meta.Command) {
	t.Helper()
	if err := s.Apply(c); err != nil {
		t.Fatalf("apply %s: %v", c.Kind(), err)
	}
}

func TestApplyEffects(t *testing.T) {
	s := metatest.State(t, metatest.Options{K: 2, M: 1, Nodes: 3, PGCount: 8})
	if !s.Bootstrapped() || s.Placement.Epoch != 1 || len(s.Placement.PGs) != 8 || len(s.Nodes) != 3 {
		t.Fatalf("formed state: %+v", s)
	}
	if u := s.Users[metatest.RootAccessKey]; u == nil || !u.Root {
		t.Fatal("no root user")
	}

	// NodeUp updates addresses and drives, keeps Joined, marks the node up.
	n := *s.Nodes["n1"]
	n.RPCAddr, n.Joined, n.State = "10.9.9.9:1", 99, meta.StateDraining
	n.Drives = []*meta.Drive{{ID: "n1-d1"}, {ID: "n1-d9", State: meta.StateOut}}
	mustApply(t, s, meta.NodeUp{Node: n})
	got := s.Nodes["n1"]
	if got.RPCAddr != "10.9.9.9:1" || got.Joined != metatest.Created || got.State != meta.StateUp {
		t.Fatalf("node after update: %+v", got)
	}
	if len(got.Drives) != 2 || got.Drives[0].NodeID != "n1" || got.Drives[0].State != meta.StateUp || got.Drives[1].State != meta.StateOut {
		t.Fatalf("drives after update: %+v %+v", got.Drives[0], got.Drives[1])
	}
	// Apply copied the command: changing it afterwards does not reach the state.
	n.Drives[0].ID = "mutated"
	if s.Nodes["n1"].Drives[0].ID != "n1-d1" {
		t.Fatal("state aliases the command")
	}

	// A new epoch replaces the placement.
	p, err := meta.ComputePlacement(s.SortedNodes(), 8, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, meta.SetPlacement{Placement: p})
	if s.Placement.Epoch != 2 {
		t.Fatal("epoch not advanced")
	}

	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "bkt1", Owner: "o", Created: 5}})
	if b := s.Buckets["bkt1"]; b == nil || b.Owner != "o" || b.Created != 5 {
		t.Fatalf("bucket: %+v", b)
	}
	mustApply(t, s, meta.SetBucketVersioning{Name: "bkt1", Versioning: meta.VersioningEnabled})
	mustApply(t, s, meta.SetBucketVersioning{Name: "bkt1", Versioning: meta.VersioningSuspended})
	if b := s.Buckets["bkt1"]; b.Versioning != meta.VersioningSuspended || b.Versioning.String() != "Suspended" || b.Owner != "o" {
		t.Fatalf("bucket after versioning: %+v", b)
	}
	for _, bad := range []meta.SetBucketVersioning{{Name: "bkt1", Versioning: meta.VersioningOff}, {Name: "bkt1", Versioning: 9}} {
		if err := s.Apply(bad); !errors.Is(err, meta.ErrInvalid) {
			t.Fatalf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.Apply(meta.SetBucketVersioning{Name: "nope", Versioning: meta.VersioningEnabled}); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("versioning of a missing bucket: %v", err)
	}
	mustApply(t, s, meta.DeleteBucket{Name: "bkt1"})
	if _, ok := s.Buckets["bkt1"]; ok {
		t.Fatal("bucket not deleted")
	}

	u := meta.User{AccessKey: "AK", SecretSealed: []byte("s1"), Name: "alice", Created: 10}
	mustApply(t, s, meta.PutUser{User: u})
	u.SecretSealed, u.Disabled, u.Created = []byte("s2"), true, 20
	mustApply(t, s, meta.PutUser{User: u})
	if got := s.Users["AK"]; string(got.SecretSealed) != "s2" || !got.Disabled || got.Created != 10 {
		t.Fatalf("user after replace: %+v", got)
	}
}

func TestApplyZeroState(t *testing.T) {
	var s meta.State // maps nil: Apply must not panic
	cmds, err := metatest.Commands(metatest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		mustApply(t, &s, c)
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := metatest.State(t, metatest.Options{})
	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "bkt1"}})
	c := s.Clone()
	if !reflect.DeepEqual(s, c) {
		t.Fatal("clone differs")
	}
	c.Nodes["n1"].Drives[0].ID = "x"
	c.Nodes["n1"].RPCAddr = "x"
	c.Placement.PGs[0][0] = "x"
	c.Buckets["bkt1"].Owner = "x"
	c.Users[metatest.RootAccessKey].SecretSealed[0] = 'x'
	delete(c.Nodes, "n2")
	if s.Nodes["n1"].Drives[0].ID == "x" || s.Nodes["n1"].RPCAddr == "x" || s.Placement.PGs[0][0] == "x" ||
		s.Buckets["bkt1"].Owner == "x" || s.Users[metatest.RootAccessKey].SecretSealed[0] == 'x' || s.Nodes["n2"] == nil {
		t.Fatal("clone shares memory with the original")
	}
}
