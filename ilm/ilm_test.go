package ilm

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// fakeStore is an in-memory data plane: a bucket's keys with their
// versions newest first, and uploads. It implements S3's delete semantics
// for the three versioning states.
type fakeStore struct {
	mu       sync.Mutex
	versions map[string]map[string][]dataplane.ObjectInfo // bucket -> key -> newest first
	uploads  map[string][]dataplane.UploadInfo
	owned    func(key string) bool
	pageMax  int       // listing page size (small, to cross pages inside keys)
	now      time.Time // mod time of the markers deletes make
	nextID   int
	markers  []string // KeyMarker of each version listing call
	deletes  int
	// onDelete runs after each delete (with the lock released).
	onDelete func()
	// beforeHead runs before each HeadObject (with the lock released).
	beforeHead func(key string)
}

func newFakeStore(now time.Time) *fakeStore {
	return &fakeStore{versions: map[string]map[string][]dataplane.ObjectInfo{}, uploads: map[string][]dataplane.UploadInfo{},
		owned: func(string) bool { return true }, pageMax: 3, now: now}
}

// put adds a version (newest) to bucket/key.
func (f *fakeStore) put(bucket, key string, size int64, mod time.Time, marker bool, tags map[string]string) dataplane.ObjectInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.versions[bucket] == nil {
		f.versions[bucket] = map[string][]dataplane.ObjectInfo{}
	}
	f.nextID++
	v := dataplane.ObjectInfo{Bucket: bucket, Key: key, VersionID: fmt.Sprintf("v%04d", f.nextID), Size: size, ModTime: mod, DeleteMarker: marker, Tags: tags}
	f.versions[bucket][key] = append([]dataplane.ObjectInfo{v}, f.versions[bucket][key]...)
	return v
}

func (f *fakeStore) keys(bucket string) []string {
	var ks []string
	for k := range f.versions[bucket] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// history describes bucket/key's versions newest first, "M" for a marker,
// by their version ids.
func (f *fakeStore) history(bucket, key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, v := range f.versions[bucket][key] {
		id := v.VersionID
		if v.DeleteMarker {
			id = "M"
		}
		out = append(out, id)
	}
	return strings.Join(out, ",")
}

func (f *fakeStore) OwnsKey(_, key string) bool { return f.owned(key) }

func (f *fakeStore) ListObjectVersions(_ context.Context, bucket string, o dataplane.ListVersionsOptions) (dataplane.ListVersionsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.Prefix == "" {
		f.markers = append(f.markers, o.KeyMarker)
	}
	var res dataplane.ListVersionsResult
	for _, k := range f.keys(bucket) {
		if !strings.HasPrefix(k, o.Prefix) || k < o.KeyMarker || (k == o.KeyMarker && o.VersionIDMarker == "") {
			continue
		}
		vs := f.versions[bucket][k]
		for i := range vs {
			// Version ids grow with creation: a page resumes after the
			// marker's id whether or not that version still exists, as
			// the data plane's does.
			if k == o.KeyMarker && vs[i].VersionID >= o.VersionIDMarker {
				continue
			}
			if len(res.Versions) == min(o.Max, f.pageMax) {
				res.Truncated = true
				last := res.Versions[len(res.Versions)-1]
				res.NextKeyMarker, res.NextVersionIDMarker = last.Key, last.VersionID
				return res, nil
			}
			v := vs[i]
			v.IsLatest = i == 0
			res.Versions = append(res.Versions, v)
		}
	}
	return res, nil
}

func (f *fakeStore) ListMultipartUploads(_ context.Context, bucket string, o dataplane.ListUploadsOptions) (dataplane.ListUploadsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var res dataplane.ListUploadsResult
	for _, u := range f.uploads[bucket] {
		if u.Key > o.KeyMarker || (u.Key == o.KeyMarker && o.UploadIDMarker != "" && u.UploadID > o.UploadIDMarker) {
			res.Uploads = append(res.Uploads, u)
		}
	}
	return res, nil
}

func (f *fakeStore) HeadObject(_ context.Context, bucket, key string, o dataplane.GetOptions) (dataplane.ObjectInfo, error) {
	if f.beforeHead != nil {
		f.beforeHead(key)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, v := range f.versions[bucket][key] {
		if v.VersionID == o.VersionID {
			v.IsLatest = i == 0
			if v.DeleteMarker {
				return dataplane.ObjectInfo{}, &dataplane.DeleteMarkerError{Info: v, ByVersion: true}
			}
			return v, nil
		}
	}
	return dataplane.ObjectInfo{}, dataplane.ErrNoSuchVersion
}

func (f *fakeStore) DeleteObject(_ context.Context, bucket, key string, o dataplane.DeleteOptions) (dataplane.DeleteResult, error) {
	f.mu.Lock()
	vs := f.versions[bucket][key]
	var res dataplane.DeleteResult
	switch {
	case o.VersionID != "":
		i := slices.IndexFunc(vs, func(v dataplane.ObjectInfo) bool { return v.VersionID == o.VersionID })
		if i >= 0 {
			if !vs[i].DeleteMarker {
				res.Freed = dataplane.Freed{Bytes: vs[i].Size, Versions: 1}
			}
			vs = slices.Delete(vs, i, i+1)
		}
	case o.Versioning == meta.VersioningOff:
		for _, v := range vs {
			res.Freed.Bytes += v.Size
			res.Freed.Versions++
		}
		vs = nil
	default:
		f.nextID++
		vs = append([]dataplane.ObjectInfo{{Bucket: bucket, Key: key, VersionID: fmt.Sprintf("v%04d", f.nextID), ModTime: f.now, DeleteMarker: true}}, vs...)
	}
	if len(vs) == 0 {
		delete(f.versions[bucket], key)
	} else {
		f.versions[bucket][key] = vs
	}
	f.deletes++
	hook := f.onDelete
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return res, nil
}

func (f *fakeStore) AbortMultipartUpload(_ context.Context, bucket, key, uploadID string) (dataplane.Freed, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	us := f.uploads[bucket]
	i := slices.IndexFunc(us, func(u dataplane.UploadInfo) bool { return u.UploadID == uploadID && u.Key == key })
	if i < 0 {
		return dataplane.Freed{}, dataplane.ErrNoSuchUpload
	}
	f.uploads[bucket] = slices.Delete(us, i, i+1)
	return dataplane.Freed{Bytes: 100}, nil
}

// fakeControl is a replicated state of buckets.
type fakeControl struct {
	mu sync.Mutex
	st *meta.State
}

func (c *fakeControl) View(fn func(*meta.State)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(c.st)
}

func (c *fakeControl) bucket(name string, v meta.Versioning, rules ...meta.LifecycleRule) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Buckets[name] = &meta.Bucket{Name: name, Versioning: v, Lifecycle: rules, Created: 1}
}

// fakeUsage sums what is recorded per bucket.
type fakeUsage struct {
	mu    sync.Mutex
	bytes map[string]int64
}

func (u *fakeUsage) Record(b meta.Bucket, bytes, _ int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bytes[b.Name] += bytes
}

var day = 24 * time.Hour

func newScanner(t *testing.T, store Store, ctl Control, usage Usage, now time.Time, stateFile string, rate float64) *Scanner {
	t.Helper()
	s, err := New(Config{NodeID: "n1", Interval: -1, Rate: rate, StateFile: stateFile, Now: func() time.Time { return now }}, store, ctl, usage, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPass runs a pass over an unversioned and a versioned bucket and
// checks what every key became.
func TestPass(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-40*day), now.Add(-2*day)
	f := newFakeStore(now)
	ctl := &fakeControl{st: meta.NewState()}
	usage := &fakeUsage{bytes: map[string]int64{}}
	ctl.bucket("plain", meta.VersioningOff,
		meta.LifecycleRule{ID: "logs", Filter: meta.LifecycleFilter{Prefix: "logs/"}, Expiration: &meta.LifecycleExpiration{Days: new(30)},
			AbortAfterDays: new(7)},
		meta.LifecycleRule{ID: "tmp", Filter: meta.LifecycleFilter{Tags: []meta.LifecycleTag{{Key: "tmp", Value: "yes"}}}, Expiration: &meta.LifecycleExpiration{Days: new(1)}})
	ctl.bucket("vers", meta.VersioningEnabled,
		meta.LifecycleRule{ID: "nc", NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 10, NewerVersions: 1},
			Expiration: &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true}},
		meta.LifecycleRule{ID: "cur", Filter: meta.LifecycleFilter{Prefix: "cur/"}, Expiration: &meta.LifecycleExpiration{Days: new(5)}})
	ctl.bucket("norules", meta.VersioningOff)

	f.put("plain", "logs/old", 10, old, false, nil)
	f.put("plain", "logs/new", 20, recent, false, nil)
	f.put("plain", "data/old", 30, old, false, nil)
	f.put("plain", "data/tagged", 40, recent, false, map[string]string{"tmp": "yes"})
	f.put("plain", "other/not-owned", 50, old, false, map[string]string{"tmp": "yes"})
	f.put("norules", "logs/old", 1, old, false, nil)
	f.uploads["plain"] = []dataplane.UploadInfo{
		{Key: "logs/up", UploadID: "u1", Initiated: old}, {Key: "logs/up", UploadID: "u2", Initiated: recent},
		{Key: "data/up", UploadID: "u3", Initiated: old},
	}

	// vers/k: five versions; the ones that became noncurrent more than
	// 10 days ago go, except the newest noncurrent one.
	f.put("vers", "k", 1, now.Add(-100*day), false, nil)
	f.put("vers", "k", 2, now.Add(-50*day), false, nil)
	f.put("vers", "k", 3, now.Add(-30*day), true, nil) // a noncurrent marker
	v4 := f.put("vers", "k", 4, now.Add(-20*day), false, nil)
	v5 := f.put("vers", "k", 5, now.Add(-5*day), false, nil) // current
	// vers/lone: a lone delete marker; vers/kept: a marker over a version.
	f.put("vers", "lone", 0, old, true, nil)
	kept := f.put("vers", "kept", 7, now.Add(-3*day), false, nil)
	f.put("vers", "kept", 0, now.Add(-2*day), true, nil)
	// vers/cur/x: expired as current: a marker is added.
	cx := f.put("vers", "cur/x", 9, old, false, nil)
	f.owned = func(key string) bool { return !strings.HasPrefix(key, "other/") }

	s := newScanner(t, f, ctl, usage, now, "", 1e6)
	if err := s.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ bucket, key, want string }{
		{"plain", "logs/old", ""},
		{"plain", "logs/new", "v0002"},
		{"plain", "data/old", "v0003"},
		{"plain", "data/tagged", ""},
		{"plain", "other/not-owned", "v0005"},
		{"norules", "logs/old", "v0006"},
		// v4 is the newest noncurrent version: kept; v3 (a marker) and
		// the older ones went noncurrent more than 10 days ago: deleted.
		{"vers", "k", v5.VersionID + "," + v4.VersionID},
		{"vers", "lone", ""},
		{"vers", "kept", "M," + kept.VersionID},
		{"vers", "cur/x", "M," + cx.VersionID},
	} {
		if got := f.history(c.bucket, c.key); got != c.want {
			t.Errorf("%s/%s: %q, want %q", c.bucket, c.key, got, c.want)
		}
	}
	if ids := uploadIDs(f, "plain"); !slices.Equal(ids, []string{"u2", "u3"}) {
		t.Errorf("uploads left: %v", ids)
	}
	st := s.Status()
	want := Counters{Buckets: 2, Versions: 13, Uploads: 3, Expired: 3, NoncurrentExpired: 3, MarkersRemoved: 1, UploadsAborted: 1}
	if st.Pass != want || st.Total != want || st.Passes != 1 || st.Running || !st.PassStarted.Equal(now) || st.LastError != "" {
		t.Errorf("status %+v, want counters %+v", st, want)
	}
	if usage.bytes["plain"] != -(10+40)-100 || usage.bytes["vers"] != -(1+2) {
		t.Errorf("usage recorded: %v", usage.bytes)
	}

	// A second pass finds nothing more to do, the same day.
	if err := s.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.Pass.Expired+st.Pass.NoncurrentExpired+st.Pass.MarkersRemoved+st.Pass.UploadsAborted != 0 || st.Passes != 2 {
		t.Errorf("second pass: %+v", st.Pass)
	}
}

func uploadIDs(f *fakeStore, bucket string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, u := range f.uploads[bucket] {
		ids = append(ids, u.UploadID)
	}
	return ids
}

// TestPassRechecks: what changed between the listing and the action
// decides. A version whose tags no longer match, a current version
// replaced, a marker no longer alone are left alone.
func TestPassRechecks(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-40 * day)
	f := newFakeStore(now)
	ctl := &fakeControl{st: meta.NewState()}
	ctl.bucket("b", meta.VersioningEnabled,
		meta.LifecycleRule{ID: "tagged", Filter: meta.LifecycleFilter{Prefix: "t/", Tags: []meta.LifecycleTag{{Key: "tmp", Value: "yes"}}}, Expiration: &meta.LifecycleExpiration{Days: new(1)}},
		meta.LifecycleRule{ID: "all", Filter: meta.LifecycleFilter{Prefix: "a/"}, Expiration: &meta.LifecycleExpiration{Days: new(1)}},
		meta.LifecycleRule{ID: "markers", Filter: meta.LifecycleFilter{Prefix: "m/"}, Expiration: &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true}})
	f.put("b", "t/x", 1, old, false, map[string]string{"tmp": "yes"})
	f.put("b", "a/x", 1, old, false, nil)
	f.put("b", "m/x", 0, old, true, nil)
	f.beforeHead = func(key string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch key {
		case "t/x": // tags changed: the rule no longer matches
			f.versions["b"][key][0].Tags = map[string]string{"tmp": "no"}
		case "a/x": // a new version came: the listed one is no longer current
			f.versions["b"][key] = append([]dataplane.ObjectInfo{{Key: key, VersionID: "new", ModTime: now}}, f.versions["b"][key]...)
		}
	}
	// The marker gains a version under it between listing and recheck
	// (the fresh listing shows it).
	listed := 0
	origOwned := f.owned
	f.owned = func(key string) bool {
		if key == "m/x" {
			listed++
			if listed == 1 {
				f.mu.Lock()
				vs := f.versions["b"][key]
				f.versions["b"][key] = append(vs, dataplane.ObjectInfo{Key: key, VersionID: "older", ModTime: old.Add(-time.Hour), Size: 5})
				f.mu.Unlock()
			}
		}
		return origOwned(key)
	}
	s := newScanner(t, f, ctl, nil, now, "", 1e6)
	if err := s.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	if f.deletes != 0 {
		t.Fatalf("%d deletes; histories %q %q %q", f.deletes, f.history("b", "t/x"), f.history("b", "a/x"), f.history("b", "m/x"))
	}
	if st := s.Status(); st.Pass.Errors != 0 || st.Pass.Versions != 3 {
		t.Errorf("status %+v", st.Pass)
	}
}

// TestPassResumes: a pass cut short resumes, in a new scanner reading the
// state file, after the last key it finished, and ends with the same
// result as one pass.
func TestPassResumes(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-40 * day)
	f := newFakeStore(now)
	ctl := &fakeControl{st: meta.NewState()}
	rule := meta.LifecycleRule{ID: "all", Expiration: &meta.LifecycleExpiration{Days: new(1)}}
	ctl.bucket("a", meta.VersioningOff, rule)
	ctl.bucket("b", meta.VersioningOff, rule)
	for i := range 10 {
		f.put("a", fmt.Sprintf("k%02d", i), 1, old, false, nil)
		f.put("b", fmt.Sprintf("k%02d", i), 1, old, false, nil)
	}
	state := filepath.Join(t.TempDir(), "ilm.json")
	ctx, cancel := context.WithCancel(t.Context())
	f.onDelete = func() {
		if f.deletes == 13 { // a/ done, b/k00..k02 done
			cancel()
		}
	}
	s1 := newScanner(t, f, ctl, nil, now, state, 1e6)
	if err := s1.Pass(ctx); err == nil {
		t.Fatal("a cancelled pass returned no error")
	}
	st := s1.Status()
	if st.Running || st.Passes != 0 || st.Pass.Expired != 13 {
		t.Fatalf("after the cut: %+v", st)
	}
	f.onDelete = nil
	f.markers = nil
	s2 := newScanner(t, f, ctl, nil, now, state, 1e6)
	if got := s2.Status(); got.Pass.Expired != 13 || !got.PassStarted.Equal(now) {
		t.Fatalf("restored status %+v", got)
	}
	if err := s2.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The pass was cut while it acted on b/k02: it resumes after k01, the
	// last key it finished (k02 is listed again and is gone).
	if len(f.markers) == 0 || f.markers[0] != "k01" {
		t.Errorf("resumed listing from %q, want after k01", f.markers)
	}
	st = s2.Status()
	if st.Pass.Expired != 20 || st.Pass.Buckets != 2 || st.Passes != 1 || !st.Resumed || len(f.versions["a"])+len(f.versions["b"]) != 0 {
		t.Errorf("after resuming: %+v, left %d+%d", st, len(f.versions["a"]), len(f.versions["b"]))
	}
	// The pass is done: a third scanner starts afresh.
	s3 := newScanner(t, f, ctl, nil, now, state, 1e6)
	if s3.resume != nil || s3.Status().Passes != 1 {
		t.Errorf("after a complete pass the state file resumes %+v", s3.resume)
	}
}

// TestPassRate: a pass examines at most Rate versions per second.
func TestPassRate(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	f := newFakeStore(now)
	ctl := &fakeControl{st: meta.NewState()}
	ctl.bucket("a", meta.VersioningOff, meta.LifecycleRule{ID: "r", Expiration: &meta.LifecycleExpiration{Days: new(1)}})
	for i := range 11 {
		f.put("a", fmt.Sprintf("k%02d", i), 1, now, false, nil)
	}
	s := newScanner(t, f, ctl, nil, now, "", 50)
	start := time.Now()
	if err := s.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
	// 11 versions at 50/s: the last one waits 10 gaps of 20 ms.
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("11 versions at 50/s took %v", el)
	}
	if s.Status().Pass.Versions != 11 {
		t.Errorf("status %+v", s.Status().Pass)
	}
}
