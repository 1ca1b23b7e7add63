package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// Test fakes of Control and Objects: an in-memory state machine and object
// map, enough to drive the handler stack end to end.

const (
	testAccessKey = "AKIATESTROOT0000001"
	testSecretKey = "test-secret-key-0123456789abcdefghij"
	sealPrefix    = "sealed:"
)

// fakeControl applies commands to a meta.State. Buckets and users put in
// pending become visible only after a Barrier, like state a lagging
// follower has not applied yet.
type fakeControl struct {
	mu       sync.RWMutex
	st       *meta.State
	pending  *meta.State
	barriers int
	ready    bool
	failNext error // returned by the next Propose or Barrier
}

func newFakeControl() *fakeControl {
	st := meta.NewState()
	st.Cluster.ID = "test-cluster"
	st.Users[testAccessKey] = &meta.User{AccessKey: testAccessKey, SecretSealed: []byte(sealPrefix + testSecretKey), Name: "root", Root: true}
	return &fakeControl{st: st, pending: meta.NewState(), ready: true}
}

func (c *fakeControl) Propose(ctx context.Context, cmd meta.Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.failNext; err != nil {
		c.failNext = nil
		return err
	}
	return c.st.Apply(cmd)
}

func (c *fakeControl) View(fn func(*meta.State)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fn(c.st)
}

func (c *fakeControl) Barrier(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.barriers++
	if err := c.failNext; err != nil {
		c.failNext = nil
		return err
	}
	maps.Copy(c.st.Buckets, c.pending.Buckets)
	maps.Copy(c.st.Users, c.pending.Users)
	c.pending = meta.NewState()
	return nil
}

func (c *fakeControl) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ready
}

func fakeUnseal(sealed []byte) (string, error) {
	s, ok := strings.CutPrefix(string(sealed), sealPrefix)
	if !ok {
		return "", fmt.Errorf("not sealed by the fake")
	}
	return s, nil
}

// fakeObject is one stored version.
type fakeObject struct {
	info dataplane.ObjectInfo
	data []byte
}

// fakeObjects keeps objects in memory. Versions are kept by id so that a
// reader of a replaced object still reads the version it resolved.
type fakeObjects struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      int
	current  map[string]map[string]string // bucket -> key -> version id
	versions map[string]*fakeObject
	failNext error
}

func newFakeObjects(now func() time.Time) *fakeObjects {
	return &fakeObjects{now: now, current: map[string]map[string]string{}, versions: map[string]*fakeObject{}}
}

func (f *fakeObjects) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts dataplane.PutOptions) (dataplane.ObjectInfo, error) {
	f.mu.Lock()
	if err := f.failNext; err != nil {
		f.failNext = nil
		f.mu.Unlock()
		return dataplane.ObjectInfo{}, err
	}
	f.mu.Unlock()
	data, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return dataplane.ObjectInfo{}, fmt.Errorf("fake: reading body: %w", err)
	}
	if int64(len(data)) != size {
		return dataplane.ObjectInfo{}, fmt.Errorf("%w: got %d of %d", dataplane.ErrIncompleteBody, len(data), size)
	}
	// Like the data plane: the body must end exactly at size (this also
	// lets a verifying reader see its EOF).
	if n, err := r.Read(make([]byte, 1)); n > 0 || (err != nil && err != io.EOF) {
		return dataplane.ObjectInfo{}, fmt.Errorf("fake: reading body end: n=%d: %w", n, err)
	}
	sum := md5.Sum(data)
	if len(opts.ContentMD5) > 0 && !bytes.Equal(opts.ContentMD5, sum[:]) {
		return dataplane.ObjectInfo{}, dataplane.ErrBadDigest
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	info := dataplane.ObjectInfo{
		Bucket: bucket, Key: key, VersionID: fmt.Sprintf("v%d", f.seq), Size: size,
		ETag: hex.EncodeToString(sum[:]), ModTime: f.now().Truncate(time.Millisecond), Meta: maps.Clone(opts.Meta),
	}
	f.versions[info.VersionID] = &fakeObject{info: info, data: data}
	if f.current[bucket] == nil {
		f.current[bucket] = map[string]string{}
	}
	f.current[bucket][key] = info.VersionID
	return info, nil
}

func (f *fakeObjects) lookup(bucket, key string) (*fakeObject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failNext; err != nil {
		f.failNext = nil
		return nil, err
	}
	v, ok := f.current[bucket][key]
	if !ok {
		return nil, fmt.Errorf("%s/%s: %w", bucket, key, dataplane.ErrObjectNotFound)
	}
	return f.versions[v], nil
}

func (f *fakeObjects) GetObject(ctx context.Context, bucket, key string) (*dataplane.Object, error) {
	o, err := f.lookup(bucket, key)
	if err != nil {
		return nil, err
	}
	return &dataplane.Object{Info: o.info}, nil
}

// open is the test's Server.openReader.
func (f *fakeObjects) open(ctx context.Context, o *dataplane.Object, offset, length int64) (io.ReadCloser, error) {
	f.mu.Lock()
	v := f.versions[o.Info.VersionID]
	f.mu.Unlock()
	if v == nil {
		return nil, fmt.Errorf("fake: version %s vanished", o.Info.VersionID)
	}
	if length < 0 {
		length = int64(len(v.data)) - offset
	}
	return io.NopCloser(bytes.NewReader(v.data[offset : offset+length])), nil
}

func (f *fakeObjects) HeadObject(ctx context.Context, bucket, key string) (dataplane.ObjectInfo, error) {
	o, err := f.lookup(bucket, key)
	if err != nil {
		return dataplane.ObjectInfo{}, err
	}
	return o.info, nil
}

func (f *fakeObjects) DeleteObject(ctx context.Context, bucket, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.current[bucket], key)
	return nil
}

// ListObjects follows the data plane contract: sorted keys and common
// prefixes after After, at most Max items, Next the last one returned.
func (f *fakeObjects) ListObjects(ctx context.Context, bucket string, opts dataplane.ListOptions) (dataplane.ListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failNext; err != nil {
		f.failNext = nil
		return dataplane.ListResult{}, err
	}
	max := opts.Max
	if max <= 0 || max > 1000 {
		max = 1000
	}
	keys := slices.Sorted(maps.Keys(f.current[bucket]))
	var res dataplane.ListResult
	count := 0
	lastPrefix := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, opts.Prefix) || k <= opts.After {
			continue
		}
		name, isPrefix := k, false
		if opts.Delimiter != "" {
			if i := strings.Index(k[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				name, isPrefix = k[:len(opts.Prefix)+i+len(opts.Delimiter)], true
			}
		}
		if isPrefix && (name == lastPrefix || name <= opts.After) {
			continue // already returned, or the page resumed after it
		}
		if count == max {
			res.Truncated = true
			return res, nil
		}
		if isPrefix {
			res.Prefixes = append(res.Prefixes, name)
			lastPrefix = name
		} else {
			res.Objects = append(res.Objects, f.versions[f.current[bucket][k]].info)
		}
		res.Next = name
		count++
	}
	res.Next = ""
	return res, nil
}

func (f *fakeObjects) DropBucket(ctx context.Context, bucket string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.current, bucket)
	return nil
}

// testServer is a Server on 127.0.0.1:0 backed by the fakes.
type testServer struct {
	*Server
	ctl  *fakeControl
	objs *fakeObjects
	url  string
}

func startTestServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	return startTestServerDeps(t, nil, mutate...)
}

// startTestServerDeps is startTestServer with a hook to change the
// dependencies (the fakes are already in place) before New.
func startTestServerDeps(t *testing.T, deps func(*Deps), mutate ...func(*Config)) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Domains = []string{"s3.test", "localhost"}
	cfg.ShutdownTimeout = 2 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	ctl := newFakeControl()
	objs := newFakeObjects(time.Now)
	tw := &testWriter{t: t}
	t.Cleanup(func() { tw.stopped.Store(true) }) // runs last: after Close
	log := slog.New(slog.NewTextHandler(tw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d := Deps{
		Control: ctl, Objects: objs, Unseal: fakeUnseal,
		Unavailable: func(err error) bool { return errors.Is(err, errTestNoLeader) },
	}
	if deps != nil {
		deps(&d)
	}
	srv, err := New(cfg, d, log)
	if err != nil {
		t.Fatal(err)
	}
	srv.openReader = objs.open
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{Server: srv, ctl: ctl, objs: objs, url: "http://" + srv.Addr()}
}

// testWriter sends log lines to t.Log until the test is over.
type testWriter struct {
	t       *testing.T
	stopped atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.stopped.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// errTestNoLeader is what the fakes return to play an unavailable cluster.
var errTestNoLeader = errors.New("fake: no leader")
