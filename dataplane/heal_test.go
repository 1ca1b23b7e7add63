package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// healObj is one object a heal test stored, and what it must read back.
type healObj struct {
	key  string
	data []byte
}

// fillHeal stores one object of every shape: empty, inline, one and
// several blocks, multipart, and a key whose current version is a delete
// marker over an older version. The bucket is versioned.
func fillHeal(e *testEnv) []healObj {
	e.t.Helper()
	e.topo.mu.Lock()
	e.topo.st.Buckets["b"] = &meta.Bucket{Name: "b", Versioning: meta.VersioningEnabled}
	e.topo.mu.Unlock()
	var objs []healObj
	for i, size := range []int64{0, 1000, 200 << 10, 3<<20 + 17} {
		o := healObj{key: fmt.Sprintf("obj-%d", size), data: randBytes(uint64(i+100), size)}
		e.putV("b", o.key, o.data, meta.VersioningEnabled)
		objs = append(objs, o)
	}
	u := e.create("b", "multi", UploadOptions{})
	d1, d2 := randBytes(7, MinPartSize), randBytes(8, 1<<20+5)
	p1, p2 := e.part(u, 1, d1), e.part(u, 2, d2)
	if _, err := e.store.CompleteMultipartUpload(ctxb, "b", "multi", u.UploadID, completeOf(p1, p2), CompleteOptions{Versioning: meta.VersioningEnabled}); err != nil {
		e.t.Fatal(err)
	}
	objs = append(objs, healObj{key: "multi", data: append(append([]byte{}, d1...), d2...)})
	e.putV("b", "gone", randBytes(9, 10), meta.VersioningEnabled)
	e.del("b", "gone", DeleteOptions{Versioning: meta.VersioningEnabled})
	return objs
}

// checkHealthy asserts that every version of key is on every drive of its
// PG with its shard index, no missing part, and shard data whose CRCs
// match: what a repair must restore.
func checkHealthy(t *testing.T, ctx context.Context, s *Store, bucket, key string) {
	t.Helper()
	rt, err := s.route(bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.readKeyAll(ctx, rt, drive.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.groups) == 0 {
		t.Fatalf("%s/%s: no versions", bucket, key)
	}
	for _, g := range v.groups {
		for i, d := range rt.drives {
			fi, err := d.store.ReadVersions(ctx, bucket, key, drive.RefOf(g.fi), 1)
			if err != nil || fi.Target == nil {
				t.Fatalf("%s/%s version %s: drive %d has no record (%v)", bucket, key, g.fi.VersionID, i, err)
			}
			rec := *fi.Target
			if rec.Shard != i || len(rec.Missing) > 0 {
				t.Fatalf("%s/%s drive %d: shard %d missing parts %v", bucket, key, i, rec.Shard, rec.Missing)
			}
			if rec.Deleted {
				continue
			}
			lay := layout{size: rec.Size, blockSize: rec.BlockSize, k: rec.K, m: rec.M}
			switch {
			case rec.PartCount > 0:
				for _, p := range rec.Parts {
					pl := lay
					pl.size = p.Size
					if err := d.store.VerifyShard(ctx, p.DataDir, pl, 0, pl.blocks()); err != nil {
						t.Fatalf("%s/%s drive %d part %d: %v", bucket, key, i, p.Number, err)
					}
				}
			case rec.DataDir != "":
				if err := d.store.VerifyShard(ctx, rec.DataDir, lay, 0, lay.blocks()); err != nil {
					t.Fatalf("%s/%s drive %d: %v", bucket, key, i, err)
				}
			default:
				if err := verifyInline(rec.Inline, lay); err != nil {
					t.Fatalf("%s/%s drive %d inline: %v", bucket, key, i, err)
				}
			}
		}
	}
}

// readWithout reads every object with the given drives down: with M of
// them down, only correct repaired shards make the reads succeed.
func readWithout(e *testEnv, objs []healObj, down ...*faultDrive) {
	e.t.Helper()
	for _, d := range down {
		d.down.Store(true)
	}
	defer func() {
		for _, d := range down {
			d.down.Store(false)
		}
	}()
	for _, o := range objs {
		e.mustRead("b", o.key, o.data)
	}
}

// driveFiles returns the shard files (and whether any record) bucket/key's
// newest version has on drive d.
func driveFiles(t *testing.T, d *faultDrive, bucket, key string) []string {
	t.Helper()
	kv, err := d.localDrive.ReadVersions(ctxb, bucket, key, drive.Ref{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(dd string) { out = append(out, filepath.Join(d.path, "shards", dd[:2], dd)) }
	if kv.Target.DataDir != "" {
		add(kv.Target.DataDir)
	}
	for _, p := range kv.Target.Parts {
		add(p.DataDir)
	}
	return out
}

// TestHealScanRestoresDeletedShards: shard files deleted on disk and index
// records removed from a drive are all rebuilt by one scanner pass; the
// repaired drive then serves reads with two others down.
func TestHealScanRestoresDeletedShards(t *testing.T) {
	e := newEnv(t, 2, 2)
	objs := fillHeal(e)
	victim := e.drives[1]
	removed := 0
	for _, o := range objs {
		for _, f := range driveFiles(t, victim, "b", o.key) {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	// The delete marker and the inline object lose their records on
	// another drive.
	other := e.drives[2]
	for _, key := range []string{"gone", "obj-1000"} {
		kv, err := other.localDrive.ReadVersions(ctxb, "b", key, drive.Ref{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.localDrive.DeleteVersion(ctxb, "b", key, drive.RefOf(kv.Versions[0])); err != nil {
			t.Fatal(err)
		}
	}
	if removed < 4 {
		t.Fatalf("only %d shard files removed", removed)
	}
	if err := e.store.ScanPass(ctxb); err != nil {
		t.Fatal(err)
	}
	st := e.store.HealStatus()
	t.Logf("heal status: %+v", st)
	// Shards: obj-1000 (record removed, inline), obj-204800, obj-3145745,
	// multi (two part files, one shard); records: the delete marker.
	if st.ShardsRepaired != 4 || st.RecordsRepaired != 1 || st.Errors != 0 || st.Passes != 1 {
		t.Fatalf("status after the pass: %+v", st)
	}
	for _, o := range append(objs, healObj{key: "gone"}) {
		checkHealthy(t, ctxb, e.store, "b", o.key)
	}
	// The victim now holds good shards: read with two others down.
	var down []*faultDrive
	for _, d := range e.drives {
		if d != victim && len(down) < 2 {
			down = append(down, d)
		}
	}
	readWithout(e, objs, down...)

	// A second pass finds nothing to do.
	before := e.store.HealStatus()
	if err := e.store.ScanPass(ctxb); err != nil {
		t.Fatal(err)
	}
	after := e.store.HealStatus()
	if after.ShardsRepaired != before.ShardsRepaired || after.RecordsRepaired != before.RecordsRepaired {
		t.Fatalf("second pass repaired again: %+v", after)
	}
	if after.BytesVerified <= before.BytesVerified {
		t.Fatal("second pass verified nothing")
	}
}

// TestHealReadRepairCorrupt: bytes flipped in a shard file: GET still
// returns the data, queues the version, and a heal worker rewrites the
// shard.
func TestHealReadRepairCorrupt(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(3, 3<<20+5)
	e.put("b", "k", data)
	pg := e.pgDrives("b", "k")
	victim := pg[0] // a data shard: every read uses it
	files := driveFiles(t, victim, "b", "k")
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("garbage!"), 1<<19); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()

	e.mustRead("b", "k", data)
	if st := e.store.HealStatus(); st.QueuedAll != 1 || st.Queued != 1 {
		t.Fatalf("after the read: %+v", st)
	}
	e.mustRead("b", "k", data) // queued once
	if st := e.store.HealStatus(); st.QueuedAll != 1 {
		t.Fatalf("queued twice: %+v", st)
	}
	ctx, cancel := context.WithCancel(ctxb)
	done := make(chan struct{})
	go func() { e.store.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, func() bool { return e.store.HealStatus().ShardsRepaired == 1 })
	checkHealthy(t, ctxb, e.store, "b", "k")
	readWithout(e, []healObj{{key: "k", data: data}}, pg[1], pg[2])
}

// TestHealReadRepairMissingRecord: a drive that lost the version's record
// (and its shard) is noticed by a GET and refilled by the workers.
func TestHealReadRepairMissingRecord(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(4, 300<<10)
	info := e.put("b", "k", data)
	pg := e.pgDrives("b", "k")
	ref, _ := refFor(info.VersionID)
	if info.VersionID == NullVersionID {
		kv, _ := pg[3].localDrive.ReadVersions(ctxb, "b", "k", drive.Ref{}, 1)
		ref = drive.RefOf(*kv.Target)
	}
	if err := pg[3].localDrive.DeleteVersion(ctxb, "b", "k", ref); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctxb)
	done := make(chan struct{})
	go func() { e.store.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	e.mustRead("b", "k", data)
	waitFor(t, 10*time.Second, func() bool { return e.store.HealStatus().ShardsRepaired == 1 })
	checkHealthy(t, ctxb, e.store, "b", "k")
	readWithout(e, []healObj{{key: "k", data: data}}, pg[0], pg[1])
}

// TestHealRefill: a drive replaced by an empty one with the same id is
// refilled with every version of its PGs, and nothing else is written.
func TestHealRefill(t *testing.T) {
	e := newEnv(t, 2, 2)
	objs := fillHeal(e)
	victim := e.drives[2]
	old := victim.localDrive.(*drive.Drive)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(victim.path); err != nil {
		t.Fatal(err)
	}
	nd, err := drive.Open(victim.path, drive.Options{FormatID: victim.id, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nd.Close() })
	if !nd.Formatted() || nd.ID() != victim.id {
		t.Fatalf("replacement drive: id %s formatted %v", nd.ID(), nd.Formatted())
	}
	victim.localDrive = nd
	if err := e.store.Refill(victim.id); err != nil {
		t.Fatal(err)
	}
	if st := e.store.HealStatus(); len(st.Refilling) != 1 || !nd.RefillPending() {
		t.Fatalf("refill not pending: %+v, recorded on the drive: %v", st, nd.RefillPending())
	}
	ctx, cancel := context.WithCancel(ctxb)
	done := make(chan struct{})
	go func() { e.store.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 20*time.Second, func() bool { return len(e.store.HealStatus().Refilling) == 0 })
	waitFor(t, 5*time.Second, func() bool { return !nd.RefillPending() })
	st := e.store.HealStatus()
	t.Logf("after refill: %+v", st)
	if st.Errors != 0 || st.ShardsRepaired < int64(len(objs)) {
		t.Fatalf("refill: %+v", st)
	}
	for _, o := range append(objs, healObj{key: "gone"}) {
		checkHealthy(t, ctxb, e.store, "b", o.key)
	}
	var down []*faultDrive
	for _, d := range e.drives {
		if d != victim && len(down) < 2 {
			down = append(down, d)
		}
	}
	readWithout(e, objs, down...)
}

// TestHealStaleVersion: a version deleted while its repair was being
// built is not brought back.
func TestHealStaleVersion(t *testing.T) {
	e := newEnv(t, 2, 2)
	e.topo.mu.Lock()
	e.topo.st.Buckets["b"] = &meta.Bucket{Name: "b", Versioning: meta.VersioningEnabled}
	e.topo.mu.Unlock()
	info := e.putV("b", "k", randBytes(5, 2<<20), meta.VersioningEnabled)
	rt, _ := e.store.route("b", "k")
	ref, _ := refFor(info.VersionID)
	v, err := e.store.readKeyAll(ctxb, rt, ref)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := v.find(ref)
	pg := e.pgDrives("b", "k")
	if err := pg[1].localDrive.DeleteVersion(ctxb, "b", "k", ref); err != nil {
		t.Fatal(err)
	}
	// The version is deleted for good once the shard is rebuilt, before
	// it commits.
	dst := rt.drives[1]
	dst.store = hookStore{shardStore: dst.store, afterWrite: func() {
		e.del("b", "k", DeleteOptions{VersionID: info.VersionID, Versioning: meta.VersioningEnabled})
	}}
	_, err = e.store.rebuildShard(ctxb, shardRebuild{rt: rt, v: v, g: g, idx: 1, dst: dst}, nil)
	if !errors.Is(err, errHealStale) {
		t.Fatalf("rebuild of a deleted version: %v", err)
	}
	if got := e.driveVersions("b", "k"); got[1] != 0 {
		t.Fatalf("deleted version back on the drive: %v", got)
	}
	if n := countFiles(t, filepath.Join(pg[1].path, "shards")); n != 0 {
		t.Fatalf("%d shard files left (the rebuilt one not aborted?)", n)
	}
}

// hookStore runs afterWrite once a WriteShard succeeded.
type hookStore struct {
	shardStore
	afterWrite func()
}

func (h hookStore) WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error) {
	n, err := h.shardStore.WriteShard(ctx, dataDir, r)
	if err == nil {
		h.afterWrite()
	}
	return n, err
}

// TestHealMultiNode: corrupt and deleted shards on several nodes are found
// by the scanner of the node responsible for each PG (every PG scanned by
// exactly one node) and repaired over rpc (VerifyShard and RestoreVersion
// on remote drives).
func TestHealMultiNode(t *testing.T) {
	c := newTestCluster(t, 4, 2, 2, 2)
	c.topo.mu.Lock()
	c.topo.st.Buckets["b"] = &meta.Bucket{Name: "b"}
	pgCount := c.topo.st.Cluster.PGCount
	c.topo.mu.Unlock()
	owned := 0
	for _, s := range c.stores {
		_, n := s.ownedPGs()
		owned += n
	}
	if owned != pgCount {
		t.Fatalf("PGs owned by the nodes: %d, want %d", owned, pgCount)
	}
	objs := map[string][]byte{}
	for i := range 12 {
		key := fmt.Sprintf("k%02d", i)
		objs[key] = randBytes(uint64(i), int64(150<<10+i*(300<<10)))
		c.put(t, i%4, "b", key, objs[key])
	}
	byID := map[string]*faultDrive{}
	for _, ds := range c.drives {
		for _, d := range ds {
			byID[d.id] = d
		}
	}
	// Damage one shard of every object: alternately deleted and corrupt.
	for i := range 12 {
		key := fmt.Sprintf("k%02d", i)
		rt, _ := c.stores[0].route("b", key)
		d := byID[rt.drives[i%4].id]
		files := driveFiles(t, d, "b", key)
		if i%2 == 0 {
			if err := os.Remove(files[0]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f, err := os.OpenFile(files[0], os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte{0xff, 0x00, 0xff}, 100); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
	}
	var repaired int64
	for _, s := range c.stores {
		if err := s.ScanPass(ctxb); err != nil {
			t.Fatal(err)
		}
		st := s.HealStatus()
		repaired += st.ShardsRepaired
		if st.Errors != 0 {
			t.Fatalf("%s: %+v", s.cfg.NodeID, st)
		}
	}
	if repaired != 12 {
		t.Fatalf("%d shards repaired, want 12", repaired)
	}
	for key, data := range objs {
		checkHealthy(t, ctxb, c.stores[1], "b", key)
		c.mustRead(t, 2, "b", key, data)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkRefill measures the refill of one drive of a 2+2 single-node
// store (no network): the heal throughput without a rate limit, reported
// as MiB/s of rebuilt shard bytes.
func BenchmarkRefill(b *testing.B) {
	const objects, size = 16, 8 << 20
	var bytes int64
	var took time.Duration
	for range b.N {
		b.StopTimer()
		e := newEnv(b, 2, 2)
		e.store.heal.healPace = newPacer(-1)
		e.topo.st.Buckets["b"] = &meta.Bucket{Name: "b"}
		for i := range objects {
			e.put("b", fmt.Sprintf("k%d", i), randBytes(uint64(i), size))
		}
		victim := e.drives[0]
		_ = victim.localDrive.(*drive.Drive).Close()
		_ = os.RemoveAll(victim.path)
		nd, err := drive.Open(victim.path, drive.Options{FormatID: victim.id})
		if err != nil {
			b.Fatal(err)
		}
		victim.localDrive = nd
		b.StartTimer()
		start := time.Now()
		if err := e.store.scan(ctxb, e.store.pgsOf(victim.id), scanOpts{only: victim.id}); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		b.StopTimer()
		bytes += e.store.HealStatus().BytesRepaired
		_ = nd.Close()
	}
	b.ReportMetric(float64(bytes)/(1<<20)/took.Seconds(), "MiB/s")
}
