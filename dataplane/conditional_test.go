package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/meta"
)

func TestConditionalPut(t *testing.T) {
	e := newEnv(t, 2, 2)
	put := func(key string, data []byte, opts PutOptions) (ObjectInfo, error) {
		return e.store.PutObject(ctxb, "b", key, bytes.NewReader(data), int64(len(data)), opts)
	}
	i1, err := put("k", []byte("one"), PutOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatalf("If-None-Match on a new key: %v", err)
	}
	if _, err := put("k", []byte("two"), PutOptions{IfNoneMatch: "*"}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-None-Match on an existing key: %v", err)
	}
	if _, err := put("nope", []byte("x"), PutOptions{IfMatch: "*"}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("If-Match on a missing key: %v", err)
	}
	if _, err := put("k", []byte("x"), PutOptions{IfMatch: md5hex([]byte("other"))}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-Match with another ETag: %v", err)
	}
	i2, err := put("k", randBytes(1, 2<<20), PutOptions{IfMatch: `"` + i1.ETag + `"`})
	if err != nil {
		t.Fatalf("If-Match with the ETag: %v", err)
	}
	if _, err := put("k", []byte("x"), PutOptions{IfMatch: i1.ETag}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-Match with the old ETag: %v", err)
	}
	if _, err := put("k", []byte("three"), PutOptions{IfMatch: "*"}); err != nil {
		t.Fatalf("If-Match *: %v", err)
	}
	_ = i2
	// A refused streamed PUT leaves no temporary shard behind.
	if _, err := put("k", randBytes(2, 3<<20), PutOptions{IfNoneMatch: "*"}); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatal(err)
	}
	for _, d := range e.drives {
		if n := countFiles(t, d.path+"/tmp"); n != 0 {
			t.Fatalf("%d temporary files after a refused PUT", n)
		}
	}
	// A current delete marker is "no object".
	on := meta.VersioningEnabled
	e.del("b", "k", DeleteOptions{Versioning: on})
	if _, err := put("k", []byte("x"), PutOptions{IfMatch: "*", Versioning: on}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("If-Match over a delete marker: %v", err)
	}
	if _, err := put("k", []byte("back"), PutOptions{IfNoneMatch: "*", Versioning: on}); err != nil {
		t.Fatalf("If-None-Match over a delete marker: %v", err)
	}
	if e.store.locks.held() != 0 {
		time.Sleep(100 * time.Millisecond) // releases run in the background
		if n := e.store.locks.held(); n != 0 {
			t.Fatalf("%d leases left", n)
		}
	}
}

// shortLeaseEnv is an EC 2+2 env whose locks wait 100 ms (conditional
// writers) and whose leases last 500 ms, with the route of b/k.
func shortLeaseEnv(t *testing.T) (*testEnv, route) {
	t.Helper()
	e := newEnv(t, 2, 2)
	e.store.cfg.LockWait = 100 * time.Millisecond
	e.store.cfg.LockTTL = 500 * time.Millisecond
	rt, err := e.store.route("b", "k")
	if err != nil {
		t.Fatal(err)
	}
	return e, rt
}

// TestLockLease: a key locked by a writer that died is refused to
// conditional writers (ErrConditionalConflict after LockWait) until the
// lease expires.
func TestLockLease(t *testing.T) {
	e, rt := shortLeaseEnv(t)
	// A writer takes the lock and never releases it.
	lk, _, err := e.store.lockKey(ctxb, rt, "b", "k", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = lk
	start := time.Now()
	_, err = e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("x")), 1, PutOptions{IfNoneMatch: "*"})
	if !errors.Is(err, ErrConditionalConflict) {
		t.Fatalf("conditional PUT on a locked key: %v", err)
	}
	if d := time.Since(start); d > 450*time.Millisecond {
		t.Fatalf("gave up after %v, LockWait is 100ms", d)
	}
	// An unconditional writer waits for the lease to expire.
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("y")), 1, PutOptions{}); err != nil {
		t.Fatalf("unconditional PUT after the lease: %v", err)
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Fatal("the lease was not respected")
	}
	e.mustRead("b", "k", []byte("y"))
}

// TestConcurrentConditionalPuts races If-None-Match: * PUTs of one key
// from every node of a cluster: exactly one wins each round, the others
// fail with PreconditionFailed or ConditionalRequestConflict, and the key
// holds the winner's bytes. Then If-Match chains: of writers that all
// match the same ETag, exactly one wins.
func TestConcurrentConditionalPuts(t *testing.T) {
	c := newTestCluster(t, 4, 2, 2, 2)
	const writers = 8
	for round := range 5 {
		key := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				data := []byte(fmt.Sprintf("writer %d", w))
				if w%2 == 1 {
					data = randBytes(uint64(w), 200<<10+int64(w)) // streamed
				}
				_, errs[w] = c.stores[w%4].PutObject(ctxb, "b", key, bytes.NewReader(data), int64(len(data)), PutOptions{IfNoneMatch: "*"})
			})
		}
		wg.Wait()
		winners := 0
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil:
				winners++
				winner = w
			case errors.Is(err, ErrPreconditionFailed), errors.Is(err, ErrConditionalConflict):
			default:
				t.Fatalf("round %d writer %d: %v", round, w, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d writers won (%v)", round, winners, errs)
		}
		want := []byte(fmt.Sprintf("writer %d", winner))
		if winner%2 == 1 {
			want = randBytes(uint64(winner), 200<<10+int64(winner))
		}
		for node := range 4 {
			c.mustRead(t, node, "b", key, want)
		}
	}
	// If-Match races: every writer names the current ETag.
	cur, err := c.stores[0].PutObject(ctxb, "b", "m", bytes.NewReader([]byte("base")), 4, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			data := []byte(fmt.Sprintf("m%d", w))
			_, errs[w] = c.stores[w%4].PutObject(ctxb, "b", "m", bytes.NewReader(data), int64(len(data)), PutOptions{IfMatch: cur.ETag})
		})
	}
	wg.Wait()
	won := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		} else if !errors.Is(err, ErrPreconditionFailed) && !errors.Is(err, ErrConditionalConflict) {
			t.Fatal(err)
		}
	}
	if n != 1 {
		t.Fatalf("%d If-Match writers won", n)
	}
	c.mustRead(t, 3, "b", "m", []byte(fmt.Sprintf("m%d", won)))
	// Unconditional writers of one key all succeed (they wait for the lock).
	for w := range writers {
		wg.Go(func() {
			data := []byte(fmt.Sprintf("p%d", w))
			_, errs[w] = c.stores[w%4].PutObject(ctxb, "b", "plain", bytes.NewReader(data), int64(len(data)), PutOptions{Versioning: meta.VersioningEnabled})
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("plain writer %d: %v", w, err)
		}
	}
	vs, _ := listVersions(t, c.stores[1], "b", "plain", "", 3)
	if len(vs) != writers {
		t.Fatalf("%d versions of 8 concurrent PUTs: %v", len(vs), vs)
	}
}

// TestMultiNodeVersionsAndMultipart: versions, markers and a multipart
// upload whose parts go through different nodes, seen alike from all.
func TestMultiNodeVersionsAndMultipart(t *testing.T) {
	c := newTestCluster(t, 4, 2, 2, 2)
	on := meta.VersioningEnabled
	var ids []string
	for i := range 3 {
		data := []byte(fmt.Sprint(i))
		info, err := c.stores[i].PutObject(ctxb, "b", "k", bytes.NewReader(data), 1, PutOptions{Versioning: on})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{info.VersionID}, ids...)
	}
	res, err := c.stores[3].DeleteObject(ctxb, "b", "k", DeleteOptions{Versioning: on})
	if err != nil {
		t.Fatal(err)
	}
	ids = append([]string{res.VersionID}, ids...)
	for node := range 4 {
		vs, _ := listVersions(t, c.stores[node], "b", "", "", 2)
		want := []string{"k@" + ids[0] + "*#", "k@" + ids[1], "k@" + ids[2], "k@" + ids[3]}
		if !slices.Equal(vs, want) {
			t.Fatalf("node %d: %v, want %v", node, vs, want)
		}
		e := &testEnv{t: t, store: c.stores[node]}
		e.mustReadVersion("b", "k", ids[2], []byte("1"))
	}
	// Multipart through several nodes.
	u, err := c.stores[0].CreateMultipartUpload(ctxb, "b", "mp", UploadOptions{ChecksumAlgorithm: ChecksumCRC32C, ChecksumType: ChecksumFullObject})
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := randBytes(1, MinPartSize), randBytes(2, 3<<20+5)
	p1, err := c.stores[1].UploadPart(ctxb, "b", "mp", u.UploadID, 1, bytes.NewReader(d1), int64(len(d1)), PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.stores[2].UploadPart(ctxb, "b", "mp", u.UploadID, 2, bytes.NewReader(d2), int64(len(d2)), PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := c.stores[3].ListParts(ctxb, "b", "mp", u.UploadID, ListPartsOptions{})
	if err != nil || len(lp.Parts) != 2 {
		t.Fatalf("list parts via n4: %+v %v", lp, err)
	}
	ups, err := c.stores[2].ListMultipartUploads(ctxb, "b", ListUploadsOptions{})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("uploads via n3: %+v %v", ups, err)
	}
	info, err := c.stores[3].CompleteMultipartUpload(ctxb, "b", "mp", u.UploadID, completeOf(p1, p2), CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	whole := slices.Concat(d1, d2)
	if info.Checksum.Value != sumOf(newChecksumHash(ChecksumCRC32C), whole) {
		t.Fatalf("checksum %+v", info.Checksum)
	}
	for node := range 4 {
		c.mustRead(t, node, "b", "mp", whole)
	}
	// One node down: still readable, listable.
	_ = c.trs[3].Close()
	c.mustRead(t, 0, "b", "mp", whole)
	vs, _ := listVersions(t, c.stores[1], "b", "", "", 1000)
	if len(vs) != 5 {
		t.Fatalf("versions with a node down: %v", vs)
	}
}

// TestLockMajority: a stale lease on one drive does not stop a write (a
// majority is enough, and the record still goes to every drive); leases
// held on half the drives do.
func TestLockMajority(t *testing.T) {
	e := newEnv(t, 2, 2)
	e.store.cfg.LockWait = 50 * time.Millisecond
	e.store.cfg.MetaTimeout = 300 * time.Millisecond
	pd := e.pgDrives("b", "k")
	e.store.locks.acquire(lockName{drive: pd[0].id, bucket: "b", key: "k"}, "dead", time.Hour)
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("x")), 1, PutOptions{IfNoneMatch: "*"}); err != nil {
		t.Fatalf("put with one stale lease: %v", err)
	}
	if got := e.driveVersions("b", "k"); !slices.Equal(got, []int{1, 1, 1, 1}) {
		t.Fatalf("record on drives %v, want all", got)
	}
	// The PUT releases its leases in the background.
	for e.store.locks.held() != 1 {
		time.Sleep(time.Millisecond)
	}
	if !e.store.locks.acquire(lockName{drive: pd[1].id, bucket: "b", key: "k"}, "dead", time.Hour) {
		t.Fatal("lease refused")
	}
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("y")), 1, PutOptions{IfMatch: "*"}); !errors.Is(err, ErrConditionalConflict) {
		t.Fatalf("conditional put with half the drives locked: %v", err)
	}
	var qe *QuorumError
	if _, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("y")), 1, PutOptions{}); !errors.As(err, &qe) {
		t.Fatalf("put with half the drives locked: %v", err)
	}
	e.mustRead("b", "k", []byte("x"))
}

// TestLockOfDeadWriter: the leases of a writer whose node gossip declared
// down are free at once (its node was killed in the middle of a write),
// while a live writer's lease still holds until it expires.
func TestLockOfDeadWriter(t *testing.T) {
	var t0 lockTable
	down := map[string]bool{}
	t0.down = func(id string) bool { return down[id] }
	name := lockName{drive: "d1", bucket: "b", key: "k"}
	dead, other := newOwner("n2"), newOwner("n3")
	if !t0.acquire(name, dead, time.Hour) {
		t.Fatal("first acquire refused")
	}
	if t0.acquire(name, other, time.Hour) {
		t.Fatal("a live writer's lease was taken")
	}
	down["n2"] = true
	if !t0.acquire(name, other, time.Hour) {
		t.Fatal("the lease of a writer on a down node was not freed")
	}
	down["n3"] = false
	if t0.acquire(name, newOwner("n1"), time.Hour) {
		t.Fatal("the new holder's lease was taken")
	}
}
