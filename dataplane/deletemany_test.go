package dataplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/meta"
)

// leasesHeld is the number of key leases held on every node of c, once
// the background releases had up to 5 s to finish.
func leasesHeld(c *testCluster) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for _, s := range c.stores {
			n += s.locks.held()
		}
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeleteObjects deletes through the batch path what DeleteObject
// deletes, with its results: unversioned keys (tombstones, sizes freed),
// repeats and missing keys, delete markers and version deletes of
// versioned and suspended buckets, a key another writer holds, a paused
// node, and too few drives.
func TestDeleteObjects(t *testing.T) {
	c := newTestCluster(t, 4, 2, 6, 2)
	ctx := context.Background()
	var keys []string
	for i := range 120 {
		k := fmt.Sprintf("k%03d", i)
		keys = append(keys, k)
		c.put(t, i%4, "b", k, bytes.Repeat([]byte{'x'}, i))
	}
	items := make([]DeleteItem, 0, len(keys)+3)
	for _, k := range keys {
		items = append(items, DeleteItem{Key: k})
	}
	items = append(items, DeleteItem{Key: "k000"}, DeleteItem{Key: "missing"}, DeleteItem{Key: "k001", Options: DeleteOptions{VersionID: "not-an-id"}})
	outs := c.stores[1].DeleteObjects(ctx, "b", items)
	for j, out := range outs[:len(keys)] {
		if out.Err != nil || out.Result.Freed != (Freed{Bytes: int64(j), Versions: 1}) || out.Result.DeleteMarker || out.Result.VersionID != "" {
			t.Fatalf("%s: %+v", keys[j], out)
		}
	}
	rest := outs[len(keys):]
	if rest[0].Err != nil || rest[0].Result != (DeleteResult{}) || rest[1].Err != nil || rest[1].Result != (DeleteResult{}) ||
		rest[2].Err != nil || rest[2].Result != (DeleteResult{VersionID: "not-an-id"}) {
		t.Fatalf("repeat, missing, bad version id: %+v", rest)
	}
	for i, k := range keys {
		if _, err := c.stores[i%4].HeadObject(ctx, "b", k, GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
			t.Fatalf("%s after delete: %v", k, err)
		}
	}
	if res, err := c.stores[2].ListObjects(ctx, "b", ListOptions{}); err != nil || len(res.Objects) != 0 {
		t.Fatalf("listing after delete: %d objects, %v", len(res.Objects), err)
	}
	if n := leasesHeld(c); n != 0 {
		t.Fatalf("%d leases left", n)
	}

	// Versioned: a marker, then the marker removed, then the data version.
	en := DeleteOptions{Versioning: meta.VersioningEnabled}
	v1, err := c.stores[0].PutObject(ctx, "v", "a", bytes.NewReader([]byte("12345")), 5, PutOptions{Versioning: meta.VersioningEnabled})
	if err != nil {
		t.Fatal(err)
	}
	outs = c.stores[2].DeleteObjects(ctx, "v", []DeleteItem{{Key: "a", Options: en}})
	marker := outs[0].Result
	if outs[0].Err != nil || !marker.DeleteMarker || marker.VersionID == "" || marker.Freed != (Freed{}) {
		t.Fatalf("marker: %+v", outs[0])
	}
	if _, err := c.stores[3].HeadObject(ctx, "v", "a", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("under a marker: %v", err)
	}
	outs = c.stores[3].DeleteObjects(ctx, "v", []DeleteItem{
		{Key: "a", Options: DeleteOptions{VersionID: marker.VersionID, Versioning: meta.VersioningEnabled}},
		{Key: "b", Options: DeleteOptions{VersionID: v1.VersionID, Versioning: meta.VersioningEnabled}}, // no such key
	})
	if outs[0].Err != nil || outs[0].Result != (DeleteResult{VersionID: marker.VersionID, DeleteMarker: true}) || outs[1].Err != nil {
		t.Fatalf("marker removed: %+v", outs)
	}
	if info, err := c.stores[0].HeadObject(ctx, "v", "a", GetOptions{}); err != nil || info.VersionID != v1.VersionID {
		t.Fatalf("after the marker's removal: %+v %v", info, err)
	}
	outs = c.stores[0].DeleteObjects(ctx, "v", []DeleteItem{{Key: "a", Options: DeleteOptions{VersionID: v1.VersionID, Versioning: meta.VersioningEnabled}}})
	if outs[0].Err != nil || outs[0].Result != (DeleteResult{VersionID: v1.VersionID, Freed: Freed{Bytes: 5, Versions: 1}}) {
		t.Fatalf("version removed: %+v", outs[0])
	}
	if res, err := c.stores[1].ListObjectVersions(ctx, "v", ListVersionsOptions{}); err != nil || len(res.Versions) != 0 {
		t.Fatalf("versions left: %+v %v", res.Versions, err)
	}
	// Suspended: the marker is the null version and replaces the null one.
	c.put(t, 0, "s", "n", []byte("123"))
	outs = c.stores[1].DeleteObjects(ctx, "s", []DeleteItem{{Key: "n", Options: DeleteOptions{Versioning: meta.VersioningSuspended}}})
	if outs[0].Err != nil || outs[0].Result != (DeleteResult{VersionID: NullVersionID, DeleteMarker: true, Freed: Freed{Bytes: 3, Versions: 1}}) {
		t.Fatalf("suspended: %+v", outs[0])
	}

	// A key another writer holds: DeleteObject waits for its lease.
	c.put(t, 0, "b", "held", []byte("h"))
	rt, err := c.stores[0].route("b", "held")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rt.drives {
		for n, s := range c.stores {
			if _, ok := s.local[d.id]; ok {
				c.stores[n].locks.acquire(lockName{drive: d.id, bucket: "b", key: "held"}, "other-writer", 300*time.Millisecond)
			}
		}
	}
	outs = c.stores[0].DeleteObjects(ctx, "b", []DeleteItem{{Key: "held"}})
	if outs[0].Err != nil || outs[0].Result.Freed != (Freed{Bytes: 1, Versions: 1}) {
		t.Fatalf("held key: %+v", outs[0])
	}
	if _, err := c.stores[0].HeadObject(ctx, "b", "held", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("held key after delete: %v", err)
	}

	// A paused node: every PG keeps 6 = W of its 8 drives; the batch goes
	// on without it after the straggler grace, not MetaTimeout (5 s).
	for i := range 20 {
		c.put(t, 0, "p", fmt.Sprintf("p%02d", i), []byte("p"))
	}
	for _, d := range c.drives[3] {
		d.silent.Store(true)
	}
	items = items[:0]
	for i := range 20 {
		items = append(items, DeleteItem{Key: fmt.Sprintf("p%02d", i)})
	}
	t0 := time.Now()
	outs = c.stores[0].DeleteObjects(ctx, "p", items)
	if el := time.Since(t0); el >= 5*time.Second {
		t.Fatalf("with a paused node: %v", el)
	}
	for j, out := range outs {
		if out.Err != nil || out.Result.Freed.Versions != 1 {
			t.Fatalf("with a paused node, %s: %+v", items[j].Key, out)
		}
	}
	for _, d := range c.drives[3] {
		d.silent.Store(false)
	}

	// Two nodes down: 4 of 8 drives, below W.
	c.put(t, 0, "q", "x", []byte("x"))
	for _, n := range []int{2, 3} {
		for _, d := range c.drives[n] {
			d.down.Store(true)
		}
	}
	outs = c.stores[0].DeleteObjects(ctx, "q", []DeleteItem{{Key: "x"}})
	if qe := (*QuorumError)(nil); !errors.As(outs[0].Err, &qe) {
		t.Fatalf("two nodes down: %+v", outs[0])
	}
}

// BenchmarkDeleteObjects deletes 200 keys per operation on a 4-node
// cluster (2 drives per node, EC 6+2): batch is DeleteObjects, single is
// DeleteObject for each key, 8 at once (the S3 handler before the batch
// path).
func BenchmarkDeleteObjects(b *testing.B) {
	c := newTestCluster(b, 4, 2, 6, 2)
	const n = 200
	ctx := context.Background()
	for _, mode := range []string{"batch", "single"} {
		b.Run(mode, func(b *testing.B) {
			round := 0
			for b.Loop() {
				b.StopTimer()
				keys := make([]string, n)
				for i := range keys {
					keys[i] = fmt.Sprintf("%s/%d/%04d", mode, round, i)
				}
				round++
				putKeys(b, c, "b", keys)
				items := make([]DeleteItem, n)
				for i, k := range keys {
					items[i] = DeleteItem{Key: k}
				}
				b.StartTimer()
				outs := make([]DeleteOutcome, n)
				if mode == "batch" {
					outs = c.stores[0].DeleteObjects(ctx, "b", items)
				} else {
					var wg sync.WaitGroup
					jobs := make(chan int)
					for range 8 {
						wg.Go(func() {
							for j := range jobs {
								outs[j].Result, outs[j].Err = c.stores[0].DeleteObject(ctx, "b", keys[j], DeleteOptions{})
							}
						})
					}
					for j := range keys {
						jobs <- j
					}
					close(jobs)
					wg.Wait()
				}
				for j, out := range outs {
					if out.Err != nil || out.Result.Freed.Versions != 1 {
						b.Fatalf("%s: %+v", keys[j], out)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}
