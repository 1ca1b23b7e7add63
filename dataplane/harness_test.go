package dataplane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// testTopo is a Topology over a state the test edits.
type testTopo struct {
	mu sync.RWMutex
	st *meta.State
}

func (t *testTopo) View(fn func(*meta.State)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	fn(t.st)
}

// faultDrive wraps a real drive to inject failures.
type faultDrive struct {
	localDrive
	id          string
	path        string      // the drive folder
	down        atomic.Bool // every call fails as unavailable
	failWrites  atomic.Bool // WriteShard fails after reading part of the stream
	failCommits atomic.Bool // CommitVersion fails
	hang        atomic.Bool // ReadVersion blocks until its ctx ends
	stall       atomic.Bool // WriteShard and shard streams block until their ctx ends
	silent      atomic.Bool // every call blocks until its ctx ends (a paused node)
	// commitGate, when set, makes CommitVersion wait until it is closed.
	commitGate atomic.Pointer[chan struct{}]
	lists      atomic.Int64 // List calls
	listed     atomic.Int64 // entries List returned
}

var errInjected = errors.New("injected fault")

func (f *faultDrive) check(ctx context.Context) error {
	if f.down.Load() {
		return fmt.Errorf("%w: %s", drive.ErrClosed, f.id)
	}
	if f.silent.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (f *faultDrive) WriteShard(ctx context.Context, dataDir string, r io.Reader) (int64, error) {
	if err := f.check(ctx); err != nil {
		return 0, err
	}
	if f.failWrites.Load() {
		_, _ = io.CopyN(io.Discard, r, 1000)
		return 0, errInjected
	}
	if f.stall.Load() {
		_, _ = io.CopyN(io.Discard, r, 1000)
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return f.localDrive.WriteShard(ctx, dataDir, r)
}

func (f *faultDrive) AbortShard(ctx context.Context, dataDir string) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.localDrive.AbortShard(ctx, dataDir)
}

func (f *faultDrive) CommitVersion(ctx context.Context, fi drive.FileInfo) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	if f.failCommits.Load() {
		return errInjected
	}
	if g := f.commitGate.Load(); g != nil {
		select {
		case <-*g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.localDrive.CommitVersion(ctx, fi)
}

func (f *faultDrive) ReadVersions(ctx context.Context, bucket, key string, ref drive.Ref, limit int) (drive.KeyVersions, error) {
	if err := f.check(ctx); err != nil {
		return drive.KeyVersions{}, err
	}
	if f.hang.Load() {
		<-ctx.Done()
		return drive.KeyVersions{}, ctx.Err()
	}
	return f.localDrive.ReadVersions(ctx, bucket, key, ref, limit)
}

func (f *faultDrive) DeleteVersion(ctx context.Context, bucket, key string, ref drive.Ref) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.localDrive.DeleteVersion(ctx, bucket, key, ref)
}

func (f *faultDrive) SetTags(ctx context.Context, bucket, key string, ref drive.Ref, tags map[string]string, tagTime int64) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.localDrive.SetTags(ctx, bucket, key, ref, tags, tagTime)
}

func (f *faultDrive) DropKeys(ctx context.Context, match func(bucket, key string) bool, guard func(fn func() error) error) (int, error) {
	if err := f.check(ctx); err != nil {
		return 0, err
	}
	return f.localDrive.DropKeys(ctx, match, guard)
}

func (f *faultDrive) CreateUpload(ctx context.Context, u drive.Upload) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.localDrive.CreateUpload(ctx, u)
}

func (f *faultDrive) CommitPart(ctx context.Context, u drive.Upload, p drive.Part) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	if f.failCommits.Load() {
		return errInjected
	}
	return f.localDrive.CommitPart(ctx, u, p)
}

func (f *faultDrive) ReadUpload(ctx context.Context, bucket, key, uploadID string, after, limit int) (drive.Upload, []drive.Part, bool, error) {
	if err := f.check(ctx); err != nil {
		return drive.Upload{}, nil, false, err
	}
	return f.localDrive.ReadUpload(ctx, bucket, key, uploadID, after, limit)
}

func (f *faultDrive) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	if err := f.check(ctx); err != nil {
		return err
	}
	return f.localDrive.AbortUpload(ctx, bucket, key, uploadID)
}

func (f *faultDrive) ListUploads(ctx context.Context, bucket string, o drive.ListOptions) ([]drive.UploadEntry, bool, error) {
	if err := f.check(ctx); err != nil {
		return nil, false, err
	}
	return f.localDrive.ListUploads(ctx, bucket, o)
}

func (f *faultDrive) OpenShard(ctx context.Context, dataDir string, offset, length int64) (io.ReadCloser, error) {
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	rc, err := f.localDrive.OpenShard(ctx, dataDir, offset, length)
	if err != nil || !f.stall.Load() {
		return rc, err
	}
	return stallReader{rc, ctx}, nil
}

// stallReader is a shard stream that never delivers until its ctx ends.
type stallReader struct {
	io.ReadCloser
	ctx context.Context
}

func (r stallReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func (f *faultDrive) List(ctx context.Context, bucket string, o drive.ListOptions) ([]drive.ListEntry, bool, error) {
	f.lists.Add(1)
	if err := f.check(ctx); err != nil {
		return nil, false, err
	}
	entries, more, err := f.localDrive.List(ctx, bucket, o)
	f.listed.Add(int64(len(entries)))
	return entries, more, err
}

// testEnv is one node holding all the drives of a single-node cluster.
type testEnv struct {
	t      testing.TB
	topo   *testTopo
	store  *Store
	drives []*faultDrive // in placement order of PG 0
	byID   map[string]*faultDrive
}

const testClusterID = "c-test"

var ctxb = context.Background()

// testLogger logs to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openTestDrives opens n drives in temporary folders, bound to the cluster.
func openTestDrives(t testing.TB, n int, nodeID string) []*faultDrive {
	t.Helper()
	var out []*faultDrive
	for range n {
		dir := t.TempDir()
		d, err := drive.Open(dir, drive.Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("open drive: %v", err)
		}
		t.Cleanup(func() { _ = d.Close() })
		if err := d.Bind(testClusterID, nodeID); err != nil {
			t.Fatalf("bind drive: %v", err)
		}
		out = append(out, &faultDrive{localDrive: d, id: d.ID(), path: dir})
	}
	return out
}

// newEnv builds a one-node cluster with k+m drives, EC k+m, and pgCount PGs
// whose drive lists are rotations of the drives.
func newEnv(t testing.TB, k, m int) *testEnv {
	t.Helper()
	n := k + m
	drives := openTestDrives(t, n, "n1")
	st := meta.NewState()
	st.Cluster = meta.Cluster{ID: testClusterID, K: k, M: m, PGCount: 8, BlockSize: 1 << 20, InlineMax: 128 << 10}
	node := &meta.Node{ID: "n1", State: meta.StateUp}
	local := map[string]localDrive{}
	byID := map[string]*faultDrive{}
	for _, d := range drives {
		node.Drives = append(node.Drives, &meta.Drive{ID: d.id, NodeID: "n1", State: meta.StateUp})
		local[d.id] = d
		byID[d.id] = d
	}
	st.Nodes["n1"] = node
	st.Placement.Epoch = 1
	for pg := range st.Cluster.PGCount {
		ids := make([]string, n)
		for i := range n {
			ids[i] = drives[(i+pg)%n].id
		}
		st.Placement.PGs = append(st.Placement.PGs, ids)
	}
	topo := &testTopo{st: st}
	s, err := newStore(Config{NodeID: "n1"}, local, topo, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, topo: topo, store: s, drives: drives, byID: byID}
}

// pgDrives returns the drives of bucket/key's PG in shard order.
func (e *testEnv) pgDrives(bucket, key string) []*faultDrive {
	rt, err := e.store.route(bucket, key)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]*faultDrive, len(rt.drives))
	for i, d := range rt.drives {
		out[i] = e.byID[d.id]
	}
	return out
}

// randBytes returns n deterministic pseudo-random bytes.
func randBytes(seed uint64, n int64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(seedOf(seed)).Read(b)
	return b
}

func seedOf(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

// genReader is a reader of n deterministic pseudo-random bytes that also
// hashes what it produced.
func genReader(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8(seedOf(seed)), n)
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// readAll reads [off, off+n) of bucket/key.
func (e *testEnv) read(bucket, key string, off, n int64) ([]byte, error) {
	ctx := context.Background()
	o, err := e.store.GetObject(ctx, bucket, key, GetOptions{})
	if err != nil {
		return nil, err
	}
	r, err := o.NewReader(ctx, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (e *testEnv) put(bucket, key string, data []byte) ObjectInfo {
	e.t.Helper()
	info, err := e.store.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		e.t.Fatalf("put %s/%s (%d bytes): %v", bucket, key, len(data), err)
	}
	return info
}

func (e *testEnv) mustRead(bucket, key string, want []byte) {
	e.t.Helper()
	got, err := e.read(bucket, key, 0, -1)
	if err != nil {
		e.t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("read %s/%s: got %d bytes (sha %x), want %d bytes (sha %x)", bucket, key, len(got), sha(got), len(want), sha(want))
	}
}
