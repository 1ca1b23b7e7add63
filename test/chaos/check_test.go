package chaos

import (
	"strings"
	"testing"
)

// ms is a history time in milliseconds.
func ms(n int64) int64 { return n * 1e6 }

func put(c int, key, sha string, start, end int64, st Status) Op {
	return Op{Client: c, Kind: OpPut, Bucket: "b", Key: key, SHA256: sha, Start: ms(start), End: ms(end), Status: st}
}

func del(c int, key string, start, end int64, st Status) Op {
	return Op{Client: c, Kind: OpDelete, Bucket: "b", Key: key, Start: ms(start), End: ms(end), Status: st}
}

func read(c int, key, sha string, start, end int64, st Status) Op {
	return Op{Client: c, Kind: OpGet, Bucket: "b", Key: key, SHA256: sha, Start: ms(start), End: ms(end), Status: st}
}

func finalOf(reads ...Op) Final {
	f := Final{Objects: map[ObjKey]Op{}}
	for _, r := range reads {
		f.Objects[ObjKey{r.Bucket, r.Key}] = r
	}
	return f
}

// The checker must catch each violation it exists for, and pass the
// histories that are legal (concurrent writes, failed writes that did or
// did not apply).
func TestCheckFindsViolations(t *testing.T) {
	const a, b, x = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "xxxxxxxxxxxxxxxx"
	cases := []struct {
		name  string
		ops   []Op
		final Op
		want  string // finding kind, "" for a clean verdict
	}{
		{"last write read", []Op{put(0, "k", a, 0, 10, OK), put(1, "k", b, 20, 30, OK)}, read(9, "k", b, 100, 101, OK), ""},
		{"lost write", []Op{put(0, "k", a, 0, 10, OK)}, read(9, "k", "", 100, 101, NotFound), "lost_write"},
		{"stale value", []Op{put(0, "k", a, 0, 10, OK), put(1, "k", b, 20, 30, OK)}, read(9, "k", a, 100, 101, OK), "stale"},
		{"concurrent writes: either wins", []Op{put(0, "k", a, 0, 30, OK), put(1, "k", b, 10, 20, OK)}, read(9, "k", a, 100, 101, OK), ""},
		{"deleted comes back", []Op{put(0, "k", a, 0, 10, OK), del(1, "k", 20, 30, OK)}, read(9, "k", a, 100, 101, OK), "resurrected"},
		{"failed put may apply", []Op{del(1, "k", 0, 5, OK), put(0, "k", a, 10, 20, Fail)}, read(9, "k", a, 100, 101, OK), ""},
		{"failed put may not apply", []Op{put(0, "k", a, 10, 20, Fail)}, read(9, "k", "", 100, 101, NotFound), ""},
		{"corrupt bytes after heal", []Op{put(0, "k", a, 0, 10, OK)}, read(9, "k", x, 100, 101, OK), "corrupt_read"},
		{"corrupt bytes during run", []Op{put(0, "k", a, 0, 10, OK), read(1, "k", x, 20, 30, OK)}, read(9, "k", a, 100, 101, OK), "corrupt_read"},
		{"unreadable after heal", []Op{put(0, "k", a, 0, 10, OK)}, read(9, "k", "", 100, 101, Fail), "unreadable"},
		{"stale read during run", []Op{put(0, "k", a, 0, 10, OK), put(0, "k", b, 20, 30, OK), read(1, "k", a, 40, 50, OK)}, read(9, "k", b, 100, 101, OK), "not_linearizable"},
		{"read of a value before its put", []Op{read(1, "k", a, 0, 5, OK), put(0, "k", a, 10, 20, OK)}, read(9, "k", a, 100, 101, OK), "not_linearizable"},
		{"read concurrent with put", []Op{put(0, "k", a, 10, 20, OK), read(1, "k", a, 0, 15, OK), read(2, "k", "", 12, 14, NotFound)}, read(9, "k", a, 100, 101, OK), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Check(c.ops, finalOf(c.final), "")
			var kinds []string
			for _, f := range v.Findings {
				kinds = append(kinds, f.Kind)
			}
			got := strings.Join(kinds, ",")
			if c.want == "" && (v.Failed() || got != "") {
				t.Fatalf("clean history flagged: %s %+v", got, v)
			}
			if c.want != "" && (!v.Failed() || !strings.Contains(got, c.want)) {
				t.Fatalf("want a %s finding, got %q (%+v)", c.want, got, v)
			}
		})
	}
}

func TestCheckListings(t *testing.T) {
	ops := []Op{put(0, "k1", "aaaaaaaaaaaaaaaa", 0, 10, OK), put(0, "k2", "bbbbbbbbbbbbbbbb", 0, 10, OK)}
	final := finalOf(read(9, "k1", "aaaaaaaaaaaaaaaa", 100, 101, OK), read(9, "k2", "bbbbbbbbbbbbbbbb", 100, 101, OK))
	for i := range 2 {
		final.Objects[ObjKey{"b", []string{"k1", "k2"}[i]}] = func(o Op) Op { o.Size = 5; return o }(final.Objects[ObjKey{"b", []string{"k1", "k2"}[i]}])
	}
	final.Lists = map[string]map[string]int64{"http://n1 b": {"k1": 5, "k2": 5}}
	if v := Check(ops, final, ""); v.Failed() {
		t.Fatalf("matching listing flagged: %+v", v)
	}
	final.Lists["http://n2 b"] = map[string]int64{"k1": 5, "zombie": 3}
	v := Check(ops, final, "")
	if v.ListMismatch != 1 || !strings.Contains(v.Findings[0].Detail, "missing k2") || !strings.Contains(v.Findings[0].Detail, "extra zombie") {
		t.Fatalf("listing mismatch not reported: %+v", v)
	}
}

func TestLongestGap(t *testing.T) {
	ops := []Op{{End: ms(100), Status: OK}, {End: ms(200), Status: Fail}, {End: ms(900), Status: OK}, {End: ms(950), Status: NotFound}}
	if got := longestGap(ops, ms(150), ms(1000)); got.Milliseconds() != 750 {
		t.Fatalf("gap %v, want 750ms (150..900, clipped to the fault)", got)
	}
}
