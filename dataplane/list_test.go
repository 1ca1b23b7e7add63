package dataplane

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
)

// refList is the reference listing of the sorted set of live keys.
func refList(keys []string, prefix, delimiter, after string) (objs, prefixes []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				p := k[:len(prefix)+i+len(delimiter)]
				if p > after && !seen[p] {
					seen[p] = true
					prefixes = append(prefixes, p)
				}
				continue
			}
		}
		if k > after {
			objs = append(objs, k)
		}
	}
	return objs, prefixes
}

// listAll pages through a listing with page size max.
func listAll(t *testing.T, s *Store, bucket, prefix, delimiter string, max int) (objs, prefixes []string) {
	t.Helper()
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("listing does not end")
		}
		res, err := s.ListObjects(context.Background(), bucket, ListOptions{Prefix: prefix, Delimiter: delimiter, After: after, Max: max})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.Objects) + len(res.Prefixes); n > max {
			t.Fatalf("page of %d entries, max %d", n, max)
		}
		if !slices.IsSorted(res.Prefixes) || !slices.IsSortedFunc(res.Objects, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) }) {
			t.Fatal("page not sorted")
		}
		for _, o := range res.Objects {
			objs = append(objs, o.Key)
		}
		prefixes = append(prefixes, res.Prefixes...)
		if !res.Truncated {
			return objs, prefixes
		}
		last := ""
		if n := len(res.Objects); n > 0 {
			last = res.Objects[n-1].Key
		}
		if n := len(res.Prefixes); n > 0 && res.Prefixes[n-1] > last {
			last = res.Prefixes[n-1]
		}
		if res.Next != last {
			t.Fatalf("Next %q, last returned %q", res.Next, last)
		}
		after = res.Next
	}
}

func TestListObjects(t *testing.T) {
	e := newEnv(t, 2, 2)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var keys []string
	for i := range 1500 {
		var k string
		switch i % 5 {
		case 0:
			k = fmt.Sprintf("top-%04d", i)
		case 1:
			k = fmt.Sprintf("dir%d/file-%04d", i%7, i)
		case 2:
			k = fmt.Sprintf("dir%d/sub%d/f-%04d", i%3, i%4, i)
		case 3:
			k = fmt.Sprintf("a/b/c/%04d", i)
		default:
			k = fmt.Sprintf("z%04d/", i) // key ending in the delimiter
		}
		keys = append(keys, k)
		size := int64(rng.IntN(100))
		e.put("b", k, randBytes(uint64(i), size))
	}
	// Some deletes and overwrites.
	live := map[string]bool{}
	for _, k := range keys {
		live[k] = true
	}
	for i, k := range keys {
		if i%11 == 0 {
			if _, err := e.store.DeleteObject(ctx, "b", k, DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			delete(live, k)
		} else if i%13 == 0 {
			e.put("b", k, []byte("new"))
		}
	}
	e.put("other", "x", []byte("x"))
	var liveKeys []string
	for k := range live {
		liveKeys = append(liveKeys, k)
	}
	sort.Strings(liveKeys)

	cases := []struct{ prefix, delimiter string }{
		{"", ""}, {"", "/"}, {"dir1/", "/"}, {"dir", "/"}, {"a/b/", "/"}, {"a/", ""}, {"nothing", "/"}, {"top-00", ""},
	}
	for _, c := range cases {
		for _, max := range []int{1, 7, 100, 1000} {
			if max == 1 && c.prefix == "" && c.delimiter == "" {
				continue // 1400 round trips: covered by the other sizes
			}
			wantObjs, wantPrefixes := refList(liveKeys, c.prefix, c.delimiter, "")
			objs, prefixes := listAll(t, e.store, "b", c.prefix, c.delimiter, max)
			if !slices.Equal(objs, wantObjs) || !slices.Equal(prefixes, wantPrefixes) {
				t.Fatalf("prefix %q delim %q max %d: got %d objs %d prefixes, want %d and %d\n got prefixes %v\nwant %v",
					c.prefix, c.delimiter, max, len(objs), len(prefixes), len(wantObjs), len(wantPrefixes), prefixes, wantPrefixes)
			}
		}
	}
	// Start-after in the middle of a collapsed prefix and of keys.
	res, err := e.store.ListObjects(ctx, "b", ListOptions{Delimiter: "/", After: "dir1/", Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Prefixes) == 0 || res.Prefixes[0] != "dir2/" {
		t.Fatalf("after a prefix: %+v", res)
	}
	// Object info of a listed key.
	res, err = e.store.ListObjects(ctx, "other", ListOptions{Max: 10})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Key != "x" || res.Objects[0].Bucket != "other" || res.Objects[0].Size != 1 || res.Objects[0].ETag == "" {
		t.Fatalf("other: %+v %v", res, err)
	}
}

// TestListDegraded lists with drives down: M down still lists everything,
// more than M down (some PG below K) is a quorum error.
func TestListDegraded(t *testing.T) {
	e := newEnv(t, 2, 2)
	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("k%03d", i)
		keys = append(keys, k)
		e.put("b", k, []byte(k))
	}
	e.drives[0].down.Store(true)
	e.drives[1].down.Store(true)
	objs, _ := listAll(t, e.store, "b", "", "", 50)
	if !slices.Equal(objs, keys) {
		t.Fatalf("2 drives down: listed %d of %d", len(objs), len(keys))
	}
	e.drives[2].down.Store(true)
	_, err := e.store.ListObjects(context.Background(), "b", ListOptions{Max: 10})
	if qe := (*QuorumError)(nil); !asQuorum(err, &qe) {
		t.Fatalf("3 drives down: %v", err)
	}
}

func asQuorum(err error, qe **QuorumError) bool {
	for err != nil {
		if q, ok := err.(*QuorumError); ok {
			*qe = q
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestMergePages(t *testing.T) {
	v := func(id string, mod int64, n int, del bool) listVersion {
		return listVersion{FI: drive.FileInfo{VersionID: id, ModTime: mod, K: 2, Deleted: del}, Count: n}
	}
	obj := func(name string, vs ...listVersion) listItem { return listItem{Name: name, Versions: vs} }
	pre := func(name string) listItem { return listItem{Name: name, Prefix: true} }
	a := listPage{Items: []listItem{obj("a", v("1", 1, 1, false)), pre("b/"), obj("c", v("2", 2, 1, false)), obj("e", v("3", 3, 1, false))}, More: true, Last: "e"}
	b := listPage{Items: []listItem{obj("a", v("1", 1, 1, false)), obj("a2", v("x", 1, 1, false)), pre("b/"), obj("c", v("4", 5, 1, true))}, More: true, Last: "c"}
	c := listPage{Items: []listItem{obj("a", v("9", 9, 1, false)), obj("d", v("5", 1, 1, false))}}
	got := mergePages([]listPage{a, b, c}, "", nil)
	if !got.More || got.Last != "c" {
		t.Fatalf("bound: more=%v last=%q", got.More, got.Last)
	}
	var names []string
	for _, it := range got.Items {
		names = append(names, it.Name)
	}
	if !slices.Equal(names, []string{"a", "a2", "b/", "c"}) {
		t.Fatalf("names %v", names)
	}
	if vs := got.Items[0].Versions; len(vs) != 2 || vs[0].FI.VersionID != "9" || vs[1].Count != 2 {
		t.Fatalf("versions of a: %+v", vs)
	}
	const markerQ = 2 // 2+2: a marker exists on more than N-W = 1 drive
	// newest "9" has 1 record (< K), "1" has 2: listed with "1".
	if fi, ok, _ := resolveItem(got.Items[0], 0, markerQ); !ok || fi.VersionID != "1" {
		t.Fatalf("a resolved to %q, %v", fi.VersionID, ok)
	}
	if _, ok, _ := resolveItem(got.Items[1], 0, markerQ); ok {
		t.Fatal("a2 on one drive listed")
	}
	if _, ok, _ := resolveItem(got.Items[1], 1, markerQ); !ok {
		t.Fatal("a2 with a silent drive not listed")
	}
	// c: a marker on one drive (not enough to exist), then nothing: hidden;
	// with a silent drive the marker may exist: hidden too.
	if _, ok, _ := resolveItem(got.Items[3], 0, markerQ); ok {
		t.Fatal("c listed")
	}
	cv := obj("c", v("4", 5, 2, true), v("2", 2, 2, false))
	if _, ok, _ := resolveItem(cv, 0, markerQ); ok {
		t.Fatal("c with a newer marker on 2 drives listed")
	}
	cv = obj("c", v("4", 5, 1, true), v("2", 2, 2, false))
	if fi, ok, _ := resolveItem(cv, 0, markerQ); !ok || fi.VersionID != "2" {
		t.Fatal("a marker left on one drive hides c")
	}
	// Undecided: nothing shown exists, but a drive capped the versions.
	capped := obj("k", v("7", 7, 1, false))
	capped.More = true
	if _, ok, undecided := resolveItem(capped, 0, markerQ); ok || !undecided {
		t.Fatal("capped item decided")
	}
	// After.
	got = mergePages([]listPage{a, c}, "a", nil)
	if len(got.Items) == 0 || got.Items[0].Name != "b/" || !got.More || got.Last != "e" {
		t.Fatalf("after: %+v", got)
	}
	// Versions mode: bounds inside a key, and resuming inside a key.
	p1 := listPage{Items: []listItem{obj("k", v("a", 9, 1, false), v("b", 8, 1, false))}, More: true, Last: "k", LastSub: &subPos{Mod: 8, ID: "b"}}
	p2 := listPage{Items: []listItem{obj("k", v("a", 9, 1, false), v("b", 8, 1, false), v("c", 7, 1, false)), obj("m", v("d", 1, 1, false))}}
	got = mergePages([]listPage{p1, p2}, "", nil)
	if len(got.Items) != 1 || len(got.Items[0].Versions) != 2 || got.Items[0].Versions[1].Count != 2 || !got.More || got.LastSub == nil {
		t.Fatalf("bounded inside a key: %+v", got)
	}
	got = mergePages([]listPage{p2}, "k", &subPos{Mod: 8, ID: "b"})
	if len(got.Items) != 2 || len(got.Items[0].Versions) != 1 || got.Items[0].Versions[0].FI.VersionID != "c" {
		t.Fatalf("resumed inside a key: %+v", got)
	}
}

// putKeys writes keys (each its own name as the body) through the nodes
// of c in turn, 32 at once.
func putKeys(tb testing.TB, c *testCluster, bucket string, keys []string) {
	tb.Helper()
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range jobs {
				k := keys[i]
				if _, err := c.stores[i%len(c.stores)].PutObject(context.Background(), bucket, k, strings.NewReader(k), int64(len(k)), PutOptions{}); err != nil {
					tb.Errorf("put %s: %v", k, err)
				}
			}
		})
	}
	for i := range keys {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// driveLists is the number of List calls and of entries returned by every
// drive of c so far.
func driveLists(c *testCluster) (calls, entries int64) {
	for _, ds := range c.drives {
		for _, d := range ds {
			calls += d.lists.Load()
			entries += d.listed.Load()
		}
	}
	return calls, entries
}

// TestListRoundTrips pins the cost of a listing on a 4-node cluster with 2
// drives per node (EC 6+2, every drive holds every key): one drive listing
// per drive and 1,000-key page, whatever node coordinates, with no second
// round and no per-key reads; and a delimiter listing reads one record per
// common prefix to check it is live.
func TestListRoundTrips(t *testing.T) {
	c := newTestCluster(t, 4, 2, 6, 2)
	var keys []string
	for d := range 20 {
		for i := range 100 {
			keys = append(keys, fmt.Sprintf("dir%02d/key%04d", d, i))
		}
	}
	putKeys(t, c, "b", keys)
	drives := int64(4 * 2)

	for node := range c.stores {
		calls0, entries0 := driveLists(c)
		objs, _ := listAll(t, c.stores[node], "b", "", "", 1000)
		if !slices.Equal(objs, keys) {
			t.Fatalf("via n%d: listed %d keys, want %d", node+1, len(objs), len(keys))
		}
		calls, entries := driveLists(c)
		// 2 pages of 1,000 keys; a drive returns at most one entry more
		// than a page (the bound of the next one).
		if calls-calls0 != 2*drives || entries-entries0 > 2*drives*1001 {
			t.Fatalf("via n%d: 2,000 keys took %d drive listings returning %d entries, want %d listings of at most 1,001",
				node+1, calls-calls0, entries-entries0, 2*drives)
		}
	}

	calls0, entries0 := driveLists(c)
	_, prefixes := listAll(t, c.stores[1], "b", "", "/", 1000)
	if len(prefixes) != 20 {
		t.Fatalf("%d common prefixes, want 20", len(prefixes))
	}
	calls, entries := driveLists(c)
	// Each drive lists the 20 prefixes once; each node then checks each
	// prefix on its first drive with a one-key listing.
	if want := drives + 4*20; calls-calls0 != want || entries-entries0 != drives*20+4*20 {
		t.Fatalf("delimiter listing: %d drive listings returning %d entries, want %d returning %d",
			calls-calls0, entries-entries0, want, drives*20+4*20)
	}
}

// BenchmarkListObjects lists one 1,000-key page of 2,000 keys on a 4-node
// cluster (2 drives per node, EC 6+2) through rpc on loopback.
func BenchmarkListObjects(b *testing.B) {
	c := newTestCluster(b, 4, 2, 6, 2)
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("list/%06d", i)
	}
	putKeys(b, c, "b", keys)
	for b.Loop() {
		res, err := c.stores[0].ListObjects(context.Background(), "b", ListOptions{Prefix: "list/", Max: 1000})
		if err != nil || len(res.Objects) != 1000 {
			b.Fatal(len(res.Objects), err)
		}
	}
}

// TestMergePagesUnordered: sources out of order (items, or a key's
// versions, or one version twice) still merge into one sorted page with
// the counts summed, and the sources are left as they were.
func TestMergePagesUnordered(t *testing.T) {
	v := func(id string, mod int64, n int) listVersion {
		return listVersion{FI: drive.FileInfo{VersionID: id, ModTime: mod, K: 2}, Count: n}
	}
	p1 := listPage{Items: []listItem{{Name: "b", Versions: []listVersion{v("x", 1, 1)}}, {Name: "a", Versions: []listVersion{v("old", 1, 1), v("new", 2, 1)}}}}
	p2 := listPage{Items: []listItem{{Name: "a", Versions: []listVersion{v("new", 2, 1), v("new", 2, 1), v("mid", 1, 1)}}}}
	p3 := listPage{Items: []listItem{{Name: "a", Versions: []listVersion{v("new", 2, 1), v("old", 1, 1)}}}}
	got := mergePages([]listPage{p1, p2, p3}, "", nil)
	if len(got.Items) != 2 || got.Items[0].Name != "a" || got.Items[1].Name != "b" {
		t.Fatalf("items %+v", got.Items)
	}
	var vs []string
	for _, x := range got.Items[0].Versions {
		vs = append(vs, fmt.Sprintf("%s:%d", x.FI.VersionID, x.Count))
	}
	if want := []string{"new:4", "mid:1", "old:2"}; !slices.Equal(vs, want) {
		t.Fatalf("versions of a %v, want %v", vs, want)
	}
	if p1.Items[0].Name != "b" || p2.Items[0].Versions[0].Count != 1 || p3.Items[0].Versions[0].Count != 1 {
		t.Fatal("a source page was changed")
	}
}
