package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// damageRecords flips one bit of the version id in every copy of the
// record of version id found in the index file of drive folder dir (old
// copies may sit in free pages: the live one is among them); it returns
// how many it changed.
func damageRecords(t *testing.T, dir, id string) int {
	t.Helper()
	path := filepath.Join(dir, "index.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pat := []byte(`"v":"` + id + `"`)
	n := 0
	for at := 0; ; {
		i := bytes.Index(b[at:], pat)
		if i < 0 {
			break
		}
		pos := at + i + len(pat) - 2 // the last character of the id
		if _, err := f.WriteAt([]byte{b[pos] ^ 1}, int64(pos)); err != nil {
			t.Fatal(err)
		}
		n++
		at = pos
	}
	if n == 0 {
		t.Fatalf("record of version %s not found in %s", id, path)
	}
	return n
}

// TestIndexDamageRefill: a drive whose index is damaged while its node is
// stopped comes back with a fresh, empty index (same drive id) and is
// refilled by its node, every object reading right meanwhile; afterwards
// every version it held is back on it, with shards that serve reads with
// two other drives of the PG down. The same happens when the damage is
// met while the drive runs: a read that meets it still returns the right
// bytes, and the drive replaces its index and is refilled again.
func TestIndexDamageRefill(t *testing.T) {
	c := newTestCluster(t, 4, 2, 2, 2)
	c.topo.mu.Lock()
	c.topo.st.Buckets["b"] = &meta.Bucket{Name: "b"}
	c.topo.mu.Unlock()
	objs := map[string][]byte{}
	var keys []string
	for i := range 16 {
		key := fmt.Sprintf("k%02d", i)
		size := int64(1000 + i*3000) // inline
		if i%4 == 3 {
			size = int64(300<<10 + i*40000) // shard files
		}
		objs[key] = randBytes(uint64(i), size)
		keys = append(keys, key)
		c.put(t, i%4, "b", key, objs[key])
	}
	// A write may complete without a slow drive: the scanners make every
	// drive hold what its PGs hold.
	for _, st := range c.stores {
		if err := st.ScanPass(ctxb); err != nil {
			t.Fatal(err)
		}
	}
	// The victim: the drive of node 2 whose PGs hold more of the keys.
	s := c.stores[1]
	var victim *faultDrive
	var held map[string]string // key -> version id, of the versions the victim holds
	for _, d := range c.drives[1] {
		h := map[string]string{}
		for _, key := range keys {
			rt, err := s.route("b", key)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(rt.drives, func(r driveRef) bool { return r.id == d.id }) {
				continue
			}
			kv, err := d.localDrive.ReadVersions(ctxb, "b", key, drive.Ref{}, 0)
			if err != nil {
				t.Fatalf("drive %s lacks %s: %v", d.id, key, err)
			}
			h[key] = kv.Versions[0].VersionID
		}
		if len(h) > len(held) {
			victim, held = d, h
		}
	}
	if len(held) < 3 {
		t.Fatalf("the victim's PGs hold %d of the keys", len(held))
	}
	var first string
	for _, key := range keys {
		if held[key] != "" {
			first = key
			break
		}
	}

	// The node stops; a record of the drive's index is damaged; the drive
	// opens again as the node's restart does, and New registers the refill.
	victim.down.Store(true)
	if err := victim.localDrive.(*drive.Drive).Close(); err != nil {
		t.Fatal(err)
	}
	damageRecords(t, victim.path, held[first])
	nd, err := drive.Open(victim.path, drive.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nd.Close() })
	if nd.IndexResets() != 1 || nd.ID() != victim.id {
		t.Fatalf("reopened drive: resets %d, id %s (want %s)", nd.IndexResets(), nd.ID(), victim.id)
	}
	victim.localDrive = nd
	victim.down.Store(false)
	s.refillOnReset(nd)
	if st := s.HealStatus(); !slices.Contains(st.Refilling, victim.id) {
		t.Fatalf("refill not queued: %+v", st)
	}
	for i, key := range keys {
		c.mustRead(t, i%4, "b", key, objs[key])
	}

	ctx, cancel := context.WithCancel(ctxb)
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	refilled := func(resets int) {
		t.Helper()
		back := func() bool {
			for key, id := range held {
				if fi, err := nd.ReadVersion(ctxb, "b", key, drive.Ref{}); err != nil || fi.VersionID != id {
					return false
				}
			}
			return true
		}
		waitFor(t, 30*time.Second, func() bool { return len(s.HealStatus().Refilling) == 0 && back() })
		if st := s.HealStatus(); st.Errors != 0 || nd.IndexResets() != resets {
			t.Fatalf("after the refill: resets %d, %+v", nd.IndexResets(), st)
		}
		for key := range held {
			checkHealthy(t, ctxb, s, "b", key)
		}
	}
	refilled(1)
	// Reads that need the refilled shards: two other drives of the PG down.
	byID := map[string]*faultDrive{}
	for _, ds := range c.drives {
		for _, d := range ds {
			byID[d.id] = d
		}
	}
	for key := range held {
		rt, err := s.route("b", key)
		if err != nil {
			t.Fatal(err)
		}
		var down []*faultDrive
		for _, d := range rt.drives {
			if d.id != victim.id && len(down) < 2 {
				down = append(down, byID[d.id])
			}
		}
		for _, d := range down {
			d.down.Store(true)
		}
		c.mustRead(t, 2, "b", key, objs[key])
		for _, d := range down {
			d.down.Store(false)
		}
	}

	// Damage met while the drive runs: the read through another node
	// still returns the right bytes, the drive replaces its index, and its
	// node refills it again.
	damageRecords(t, victim.path, held[first])
	c.mustRead(t, 0, "b", first, objs[first])
	waitFor(t, 10*time.Second, func() bool { return nd.IndexResets() == 2 })
	refilled(2)
	kept, _ := filepath.Glob(filepath.Join(victim.path, "index.db.damaged-*"))
	if len(kept) != 2 {
		t.Fatalf("damaged indexes kept: %v", kept)
	}
}

// TestNewResumesRefill: a drive whose refill a restart cut short (its
// refill mark still there) is queued again by New.
func TestNewResumesRefill(t *testing.T) {
	d, err := drive.Open(t.TempDir(), drive.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.MarkRefill(true); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{NodeID: "n1"}, []*drive.Drive{d}, &testTopo{st: meta.NewState()}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if st := s.HealStatus(); !slices.Equal(st.Refilling, []string{d.ID()}) {
		t.Fatalf("interrupted refill not queued again by New: %+v", st)
	}
	if err := d.MarkRefill(false); err != nil || d.RefillPending() {
		t.Fatalf("refill mark not cleared: %v", err)
	}
}

// TestNewRefillsResetDrive: New queues the refill of a drive whose Open
// replaced a damaged index (the node's restart path).
func TestNewRefillsResetDrive(t *testing.T) {
	dir := t.TempDir()
	d, err := drive.Open(dir, drive.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CommitVersion(ctxb, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 1, Inline: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	damageRecords(t, dir, "v1")
	if d, err = drive.Open(dir, drive.Options{Logger: testLogger(t)}); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s, err := New(Config{NodeID: "n1"}, []*drive.Drive{d}, &testTopo{st: meta.NewState()}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if st := s.HealStatus(); !slices.Equal(st.Refilling, []string{d.ID()}) {
		t.Fatalf("refill not queued by New: %+v", st)
	}
}
