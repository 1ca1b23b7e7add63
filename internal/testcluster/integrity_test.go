package testcluster_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-io/strata/internal/testcluster"
)

// TestIndexDamagedNodeRestart: bytes flipped all over a drive's index
// while its node is stopped. When the node restarts, the drive moves the
// damaged index aside (kept as index.db.damaged-<time>), starts a fresh one
// under its id and is refilled by its node; every object reads back right
// through every node, and then with two nodes down (so from the refilled
// drive wherever its PGs need it).
func TestIndexDamagedNodeRestart(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 4})
	cl := c.S3Client(0)
	mustCreateBucket(t, cl, "idx")
	objs := map[string][]byte{}
	for i := range 30 {
		key := fmt.Sprintf("o%02d", i)
		objs[key] = payload(500+i*4000, int64(i)) // inline and shard files
		put(t, cl, "idx", key, objs[key])
	}
	dir := c.Instance(1).Config.Data[0]
	c.Stop(1)
	path := filepath.Join(dir, "index.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for at := 2 * 4096; at < len(b); at += 997 { // past the meta pages
		b[at] ^= 0x10
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	c.Restart(1)
	n := c.Instance(1).Node()
	deadline := time.Now().Add(2 * time.Minute)
	for len(n.HealStatus().Refilling) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("drive not refilled: %+v", n.HealStatus())
		}
		time.Sleep(100 * time.Millisecond)
	}
	st := n.HealStatus()
	if kept, _ := filepath.Glob(filepath.Join(dir, "index.db.damaged-*")); len(kept) != 1 || st.Errors != 0 || st.ShardsRepaired == 0 {
		t.Fatalf("damaged index kept as %v; heal status %+v", kept, st)
	}
	// The reset is reported with the drive (stratactl cluster drives).
	status, err := rootAdmin(c, 0).ClusterStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resets := -1
	for _, ns := range status.Nodes {
		for _, d := range ns.Drives {
			if d.Path == dir {
				resets = d.IndexResets
			}
		}
	}
	if resets != 1 {
		t.Fatalf("cluster status reports %d index resets of the damaged drive %s, want 1", resets, dir)
	}
	for key, data := range objs {
		for i := range c.N() {
			if got := get(t, c.S3Client(i), "idx", key, ""); !bytes.Equal(got, data) {
				t.Fatalf("GET %s through node %d: %d bytes, want %d (content differs)", key, i+1, len(got), len(data))
			}
		}
	}
	c.Stop(2)
	c.Stop(3)
	for key, data := range objs {
		if got := get(t, cl, "idx", key, ""); !bytes.Equal(got, data) {
			t.Fatalf("GET %s with two nodes down: content differs", key)
		}
	}
}
