package metatest

import (
	"fmt"
	"testing"

	"github.com/strata-io/strata/meta"
)

// Fixed values of the states built here.
const (
	ClusterID     = "00000000-0000-4000-8000-000000000001"
	RootAccessKey = "ROOTACCESSKEY"
	Created       = int64(1_700_000_000_000_000_000) // unix nanoseconds, fixed
)

// Options shapes a test state. Zero fields take the defaults in brackets.
type Options struct {
	K, M          int // erasure layout [2+1]
	PGCount       int // [16]
	Nodes         int // [K+M]
	DrivesPerNode int // [2]
}

func (o Options) withDefaults() Options {
	if o.K == 0 && o.M == 0 {
		o.K, o.M = 2, 1
	}
	if o.PGCount == 0 {
		o.PGCount = 16
	}
	if o.Nodes == 0 {
		o.Nodes = o.K + o.M
	}
	if o.DrivesPerNode == 0 {
		o.DrivesPerNode = 2
	}
	return o
}

// Nodes returns n up nodes "n1".."nN", each with drives "nI-d1".."nI-dD" and
// rpc/s3 addresses on 127.0.0.1.
func Nodes(n, drivesPerNode int) []*meta.Node {
	out := make([]*meta.Node, n)
	for i := range out {
		id := fmt.Sprintf("n%d", i+1)
		nd := &meta.Node{
			ID:      id,
			RPCAddr: fmt.Sprintf("127.0.0.1:%d", 9100+i),
			S3Addr:  fmt.Sprintf("127.0.0.1:%d", 9000+i),
			State:   meta.StateUp,
			Joined:  Created,
		}
		for d := range drivesPerNode {
			nd.Drives = append(nd.Drives, &meta.Drive{
				ID: fmt.Sprintf("%s-d%d", id, d+1), NodeID: id, State: meta.StateUp,
				Path: fmt.Sprintf("/data/%s/d%d", id, d+1),
			})
		}
		out[i] = nd
	}
	return out
}

// Root returns the root user of the states built here (its sealed secret is
// a fixed placeholder byte string, not a real sealed secret).
func Root() meta.User {
	return meta.User{AccessKey: RootAccessKey, SecretSealed: []byte("sealed-root-secret"), Name: "root", Root: true, Created: Created}
}

// Commands returns the commands that form a cluster shaped by o: Bootstrap,
// one NodeUp per node, SetPlacement epoch 1.
func Commands(o Options) ([]meta.Command, error) {
	o = o.withDefaults()
	nodes := Nodes(o.Nodes, o.DrivesPerNode)
	cmds := []meta.Command{meta.Bootstrap{
		Cluster: meta.Cluster{ID: ClusterID, K: o.K, M: o.M, PGCount: o.PGCount, BlockSize: 1 << 20, InlineMax: 128 << 10, Created: Created, Expect: o.Nodes},
		Root:    Root(),
	}}
	for _, n := range nodes {
		cmds = append(cmds, meta.NodeUp{Node: *n})
	}
	p, err := meta.ComputePlacement(nodes, o.PGCount, o.K+o.M, 1)
	if err != nil {
		return nil, err
	}
	return append(cmds, meta.SetPlacement{Placement: p}), nil
}

// State returns a bootstrapped state shaped by o, with a placement.
func State(t testing.TB, o Options) *meta.State {
	t.Helper()
	cmds, err := Commands(o)
	if err != nil {
		t.Fatalf("metatest: %v", err)
	}
	s := meta.NewState()
	for _, c := range cmds {
		if err := s.Apply(c); err != nil {
			t.Fatalf("metatest: apply %s: %v", c.Kind(), err)
		}
	}
	return s
}
