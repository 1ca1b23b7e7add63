package quota

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

// fakeControl applies commands to a meta.State, like a one-node Raft.
type fakeControl struct {
	mu sync.RWMutex
	st *meta.State
	// failApplied makes the next Propose apply its command and still
	// fail (an answer lost after the commit); failBefore fails it before.
	failApplied, failBefore bool
	proposed                []meta.Command
	barriers                int
	// lag holds commands this node has not applied yet: a Barrier
	// applies them.
	lag []meta.Command
}

func (c *fakeControl) Propose(_ context.Context, cmd meta.Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.proposed = append(c.proposed, cmd)
	if c.failBefore {
		c.failBefore = false
		return errors.New("no leader")
	}
	err := c.st.Apply(cmd)
	if c.failApplied {
		c.failApplied = false
		return context.DeadlineExceeded
	}
	return err
}

func (c *fakeControl) Barrier(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.barriers++
	for _, cmd := range c.lag {
		if err := c.st.Apply(cmd); err != nil {
			return err
		}
	}
	c.lag = nil
	return nil
}

func (c *fakeControl) View(fn func(*meta.State)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fn(c.st)
}

func (c *fakeControl) bucket(name string) meta.Bucket {
	var b meta.Bucket
	c.View(func(st *meta.State) { b = *st.Buckets[name] })
	return b
}

func newTestControl(t *testing.T) *fakeControl {
	t.Helper()
	st := metatest.State(t, metatest.Options{})
	for _, cmd := range []meta.Command{
		meta.PutUser{User: meta.User{AccessKey: "alice", Name: "alice", SecretSealed: []byte{1}}},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "one", Owner: "alice", Created: 1}},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "two", Owner: "alice", Created: 2}},
	} {
		if err := st.Apply(cmd); err != nil {
			t.Fatal(err)
		}
	}
	return &fakeControl{st: st}
}

func newTestAccountant(t *testing.T, ctl Control, lister Lister, node string) *Accountant {
	t.Helper()
	a, err := New(Config{NodeID: node, RecountPageRate: 1e6}, ctl, lister, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func exceeded(t *testing.T, err error, user bool) *ExceededError {
	t.Helper()
	var e *ExceededError
	if !errors.As(err, &e) || !errors.Is(err, ErrExceeded) || e.User != user {
		t.Fatalf("got %v, want a %s quota error", err, map[bool]string{false: "bucket", true: "user"}[user])
	}
	return e
}

func TestBucketQuota(t *testing.T) {
	ctl := newTestControl(t)
	ctl.Propose(context.Background(), meta.SetBucketQuota{Bucket: "one", Bytes: 1000})
	a := newTestAccountant(t, ctl, nil, "n1")
	b := ctl.bucket("one")

	t1, err := a.Admit(context.Background(), b, 600)
	if err != nil {
		t.Fatal(err)
	}
	// In flight, 600 are reserved: 500 more do not fit, 400 do.
	exceeded(t, must(a.Admit(context.Background(), b, 500)), false)
	t2, err := a.Admit(context.Background(), b, 400)
	if err != nil {
		t.Fatal(err)
	}
	t2.Cancel() // stored nothing: its bytes are free again
	t1.Done(600, 1)
	t1.Cancel() // after Done: nothing
	e := exceeded(t, must(a.Admit(context.Background(), b, 401)), false)
	if e.Used != 600 || e.Quota != 1000 || e.Size != 401 || e.Bucket != "one" {
		t.Fatalf("error %+v", e)
	}
	// A delete frees, before any flush.
	a.Record(b, -300, -1)
	t3, err := a.Admit(context.Background(), b, 700)
	if err != nil {
		t.Fatal(err)
	}
	t3.Done(700, 1)
	if bytes, objects := a.Pending(b); bytes != 1000 || objects != 1 {
		t.Fatalf("pending %d bytes, %d objects", bytes, objects)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := ctl.bucket("one").Usage; u.Bytes != 1000 || u.Objects != 1 {
		t.Fatalf("replicated usage %+v", u)
	}
	if bytes, _ := a.Pending(b); bytes != 0 {
		t.Fatalf("pending after flush: %d", bytes)
	}
	// Full: even an empty object is refused once the bucket is over its
	// quota, and fits when exactly at it.
	if _, err := a.Admit(context.Background(), b, 0); err != nil {
		t.Fatalf("empty write at the quota: %v", err)
	}
	exceeded(t, must(a.Admit(context.Background(), b, 1)), false)
	// A quota raised through another node a moment ago: the refusal is
	// checked again after a read barrier.
	ctl.lag = append(ctl.lag, meta.SetBucketQuota{Bucket: "one", Bytes: 2000})
	before := ctl.barriers
	if _, err := a.Admit(context.Background(), b, 500); err != nil || ctl.barriers != before+1 {
		t.Fatalf("after a raise on another node: %v (%d barriers)", err, ctl.barriers-before)
	}
	// Another bucket of alice has no quota of its own.
	if _, err := a.Admit(context.Background(), ctl.bucket("two"), 5000); err != nil {
		t.Fatal(err)
	}
}

func must(_ *Ticket, err error) error { return err }

func TestUserQuota(t *testing.T) {
	ctl := newTestControl(t)
	ctl.Propose(context.Background(), meta.SetUserQuota{AccessKey: "alice", Bytes: 1000})
	a := newTestAccountant(t, ctl, nil, "n1")
	one, two := ctl.bucket("one"), ctl.bucket("two")
	tk, err := a.Admit(context.Background(), one, 700)
	if err != nil {
		t.Fatal(err)
	}
	tk.Done(700, 1)
	e := exceeded(t, must(a.Admit(context.Background(), two, 301)), true)
	if e.Owner != "alice" || e.Used != 700 || e.Bucket != "two" {
		t.Fatalf("error %+v", e)
	}
	if _, err := a.Admit(context.Background(), two, 300); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Propose(context.Background(), meta.SetUserQuota{AccessKey: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Admit(context.Background(), two, 1<<40); err != nil {
		t.Fatalf("cleared quota: %v", err)
	}
}

// TestUnknownLength: a body of unknown length is refused while it is read,
// once it would pass the quota; a smaller one fits exactly.
func TestUnknownLength(t *testing.T) {
	ctl := newTestControl(t)
	ctl.Propose(context.Background(), meta.SetBucketQuota{Bucket: "one", Bytes: 10 << 20})
	a := newTestAccountant(t, ctl, nil, "n1")
	b := ctl.bucket("one")

	tk, err := a.Admit(context.Background(), b, -1)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, tk.Reader(bytes.NewReader(make([]byte, 11<<20))))
	e := exceeded(t, err, false)
	if n > 10<<20 || e.Size <= 10<<20 || e.Used != 0 {
		t.Fatalf("read %d bytes before the refusal; error %+v", n, e)
	}
	tk.Cancel()
	if a.reserved[bucketKey{"one", 1}] != 0 {
		t.Fatalf("reservation left: %v", a.reserved)
	}
	// Exactly the quota fits, read in small pieces: reserving ahead never
	// refuses what fits.
	tk, err = a.Admit(context.Background(), b, -1)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.CopyBuffer(io.Discard, tk.Reader(bytes.NewReader(make([]byte, 10<<20))), make([]byte, 1000)); err != nil || n != 10<<20 {
		t.Fatalf("read %d: %v", n, err)
	}
	tk.Done(10<<20, 1)
	exceeded(t, must(a.Admit(context.Background(), b, 1)), false)
	// Without a quota the reader is the body itself.
	free, _ := a.Admit(context.Background(), ctl.bucket("two"), -1)
	r := bytes.NewReader(nil)
	if free.Reader(r) != io.Reader(r) {
		t.Fatal("a ticket without quota wraps the body")
	}
	var none *Ticket
	none.Done(1, 1)
	none.Cancel()
	if none.Reader(r) != io.Reader(r) {
		t.Fatal("a nil ticket wraps the body")
	}
}

// TestOneNodeExact: writes admitted through one node never pass the quota
// together, whatever their concurrency.
func TestOneNodeExact(t *testing.T) {
	ctl := newTestControl(t)
	const quota = 1 << 20
	ctl.Propose(context.Background(), meta.SetBucketQuota{Bucket: "one", Bytes: quota})
	a := newTestAccountant(t, ctl, nil, "n1")
	b := ctl.bucket("one")
	var stored atomic.Int64
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 200 {
				size := int64(1000 + (w*31+i*17)%5000)
				tk, err := a.Admit(context.Background(), b, size)
				if err != nil {
					continue
				}
				if i%3 == 0 {
					tk.Cancel()
					continue
				}
				stored.Add(size)
				tk.Done(size, 1)
				if i%7 == 0 {
					a.Flush(context.Background())
				}
			}
		})
	}
	wg.Wait()
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := ctl.bucket("one").Usage.Bytes
	if got != stored.Load() || got > quota || got < quota-6000 {
		t.Fatalf("usage %d, stored %d, quota %d", got, stored.Load(), quota)
	}
}

// TestFlushRetry: a batch that failed is proposed again as it was, and a
// batch whose answer was lost after it applied counts once.
func TestFlushRetry(t *testing.T) {
	ctl := newTestControl(t)
	a := newTestAccountant(t, ctl, nil, "n1")
	b := ctl.bucket("one")
	a.Record(b, 100, 1)
	ctl.failBefore = true
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("flush without a leader succeeded")
	}
	a.Record(b, 10, 1) // waits for the next batch
	ctl.failApplied = true
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("flush with a lost answer succeeded")
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := ctl.bucket("one").Usage; u.Bytes != 110 || u.Objects != 2 {
		t.Fatalf("usage %+v", u)
	}
	var seqs []uint64
	for _, c := range ctl.proposed {
		if au, ok := c.(meta.AddUsage); ok {
			seqs = append(seqs, au.Seq)
		}
	}
	// Failed, applied-but-lost, its retry (a no-op), then the next batch.
	if len(seqs) != 4 || seqs[0] != seqs[1] || seqs[1] != seqs[2] || seqs[3] <= seqs[2] {
		t.Fatalf("batch numbers %v", seqs)
	}
	// A restarted accountant numbers above what was applied.
	a2 := newTestAccountant(t, ctl, nil, "n1")
	a2.cfg.Now = func() time.Time { return time.Unix(0, 5) }
	a2.Record(b, 1, 0)
	if err := a2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u := ctl.bucket("one").Usage; u.Bytes != 111 {
		t.Fatalf("the restarted node's batch was skipped: %+v", u)
	}
}

// fakeLister lists a fixed content; during lists it calls during once.
type fakeLister struct {
	versions []dataplane.ObjectInfo
	parts    []int64 // one upload with these parts
	during   func()
}

func (f *fakeLister) ListObjectVersions(_ context.Context, _ string, o dataplane.ListVersionsOptions) (dataplane.ListVersionsResult, error) {
	if f.during != nil {
		f.during()
		f.during = nil
	}
	start := 0
	if o.KeyMarker != "" {
		fmt.Sscan(o.KeyMarker, &start)
	}
	end := min(start+2, len(f.versions)) // pages of 2
	res := dataplane.ListVersionsResult{Versions: f.versions[start:end]}
	if end < len(f.versions) {
		res.Truncated, res.NextKeyMarker = true, fmt.Sprint(end)
	}
	return res, nil
}

func (f *fakeLister) ListMultipartUploads(_ context.Context, _ string, _ dataplane.ListUploadsOptions) (dataplane.ListUploadsResult, error) {
	if f.parts == nil {
		return dataplane.ListUploadsResult{}, nil
	}
	return dataplane.ListUploadsResult{Uploads: []dataplane.UploadInfo{{Key: "big", UploadID: "u1"}, {Key: "gone", UploadID: "u2"}}}, nil
}

func (f *fakeLister) ListParts(_ context.Context, _, _, uploadID string, _ dataplane.ListPartsOptions) (dataplane.ListPartsResult, error) {
	if uploadID == "u2" {
		return dataplane.ListPartsResult{}, dataplane.ErrNoSuchUpload
	}
	var res dataplane.ListPartsResult
	for i, n := range f.parts {
		res.Parts = append(res.Parts, dataplane.PartInfo{Number: i + 1, Size: n})
	}
	return res, nil
}

// TestRecount: a recount replaces drifted usage with the listing, keeps
// the changes counted after it began, and does not count twice those
// counted before it began and flushed after it ended.
func TestRecount(t *testing.T) {
	ctl := newTestControl(t)
	lister := &fakeLister{
		versions: []dataplane.ObjectInfo{{Size: 100}, {Size: 50}, {DeleteMarker: true}, {Size: 7}, {Size: 0}},
		parts:    []int64{5, 6},
	}
	n1 := newTestAccountant(t, ctl, lister, "n1")
	n2 := newTestAccountant(t, ctl, nil, "n2") // another node writing
	b := ctl.bucket("one")
	// Drift: n2 counted bytes that are not there.
	n2.Record(b, 9999, 9)
	n2.Flush(context.Background())
	// n2 counts a write before the recount begins (it is in the listing,
	// which holds 157+11 bytes with it) and flushes only after it ended.
	n2.Record(b, 7, 1)
	// While the listing runs, n2 sees the recount and counts a write the
	// listing missed.
	lister.during = func() {
		n2.Record(ctl.bucket("one"), 1000, 1)
	}
	// ctl's lock is not held during the listing: n2.Record reads state.
	if err := n1.Recount(context.Background(), "one"); err != nil {
		t.Fatal(err)
	}
	if u := ctl.bucket("one").Usage; u.Bytes != 168 || u.Objects != 4 || u.Recounting || u.Epoch != 1 || u.Recounted == 0 {
		t.Fatalf("after the recount: %+v", u)
	}
	n2.Flush(context.Background())
	if u := ctl.bucket("one").Usage; u.Bytes != 1168 || u.Objects != 5 {
		t.Fatalf("after n2's flush: %+v", u)
	}
	// A recount whose end comes after another began is refused.
	lister.during = func() {
		ctl.Propose(context.Background(), meta.BeginRecount{Bucket: "one", Created: 1, Epoch: 3})
	}
	if err := n1.Recount(context.Background(), "one"); !errors.Is(err, meta.ErrStaleRecount) {
		t.Fatalf("superseded recount: %v", err)
	}
	if err := n1.Recount(context.Background(), "nope"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("recount of a missing bucket: %v", err)
	}
}

func TestDueBuckets(t *testing.T) {
	ctl := newTestControl(t)
	late := func() time.Time { return time.Unix(0, 1_000_000) }
	nodes := []string{"n1", "n2", "n3"}
	mine := map[string][]string{}
	for _, name := range []string{"one", "two"} {
		r := Recounter(name, nodes)
		mine[r] = append(mine[r], name)
	}
	due := func(id string, alive func(string) bool) []string {
		a := newTestAccountant(t, ctl, nil, id)
		a.cfg.Now, a.cfg.RecountInterval, a.cfg.Alive = late, 10, alive
		return a.dueBuckets()
	}
	for _, id := range nodes {
		if got := due(id, nil); fmt.Sprint(got) != fmt.Sprint(mine[id]) {
			t.Errorf("%s recounts %v, want %v", id, got, mine[id])
		}
	}
	// A dead node's buckets move to the live ones.
	dead := Recounter("one", nodes)
	heir := Recounter("one", slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == dead }))
	if got := due(heir, func(n string) bool { return n != dead }); !slices.Contains(got, "one") {
		t.Errorf("with %s dead, %s recounts %v, not bucket one", dead, heir, got)
	}
	// Buckets recounted (or made) less than RecountInterval ago are not due.
	a := newTestAccountant(t, ctl, nil, "n1")
	a.cfg.Now = func() time.Time { return time.Unix(0, 5) }
	if got := a.dueBuckets(); len(got) != 0 {
		t.Fatalf("due right after creation: %v", got)
	}
	// The choice spreads buckets over the nodes.
	count := map[string]int{}
	for i := range 300 {
		count[Recounter(fmt.Sprintf("bucket-%d", i), nodes)]++
	}
	for _, id := range nodes {
		if count[id] < 60 {
			t.Fatalf("uneven recounters: %v", count)
		}
	}
}
