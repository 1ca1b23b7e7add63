package chaos

import (
	"fmt"
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

// A stall is charged to the fault in whose window or aftermath it began,
// not to a later fault that began while it lasted.
func TestChargeGaps(t *testing.T) {
	ops := []Op{{End: ms(100), Status: OK}, {End: ms(200), Status: Fail}, {End: ms(900), Status: OK}, {End: ms(950), Status: NotFound},
		{End: ms(5000), Status: OK}}
	got := gaps(ops, ms(6000))
	want := [][2]int64{{ms(100), ms(900)}, {ms(900), ms(950)}, {ms(950), ms(5000)}, {ms(5000), ms(6000)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("gaps %v, want %v", got, want)
	}
	if got, want := gaps(ops, ms(920)), [][2]int64{{ms(100), ms(900)}, {ms(900), ms(920)}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("gaps up to 920ms %v, want %v", got, want)
	}
	events := []*FaultEvent{{Start: ms(50)}, {Start: ms(1500)}, {Start: ms(3000)}}
	for _, c := range []struct {
		at   int64
		want int
	}{{ms(10), 0}, {ms(40), 0}, {ms(100), 0}, {ms(950), 1}, {ms(1400), 1}, {ms(2500), 2}, {ms(4000), 2}} {
		if got := charge(events, c.at); got != c.want {
			t.Errorf("charge(%dms) = %d, want %d", c.at/1e6, got, c.want)
		}
	}
	if charge(events[1:], ms(100)) != -1 {
		t.Error("a stall long before the first fault is charged to it")
	}
}

func meta(c int, kind Kind, name string, start, end int64, st Status) Op {
	op := Op{Client: c, Kind: kind, Start: ms(start), End: ms(end), Status: st}
	if kind == OpCreateBucket || kind == OpDeleteBucket || kind == OpHeadBucket {
		op.Bucket = name
	} else {
		op.Name = name
	}
	return op
}

// Bucket and user names are registers too: creates are not upserts, a
// delete that answered OK removed something, and acknowledged creates and
// deletes survive the faults.
func TestCheckMetadata(t *testing.T) {
	finalOfMeta := func(reads ...Op) Final {
		f := Final{Meta: map[string]Op{}}
		for _, r := range reads {
			f.Meta[metaKey(r)] = r
		}
		return f
	}
	cases := []struct {
		name  string
		ops   []Op
		final Op
		want  string
	}{
		{"create, delete, read absent", []Op{meta(0, OpCreateUser, "u", 0, 10, OK), meta(1, OpDeleteUser, "u", 20, 30, OK), meta(2, OpGetUser, "u", 40, 50, NotFound)},
			meta(9, OpGetUser, "u", 100, 101, NotFound), ""},
		{"concurrent creates: one wins, the other sees it", []Op{meta(0, OpCreateUser, "u", 0, 30, OK), meta(1, OpCreateUser, "u", 10, 20, Exists)},
			meta(9, OpGetUser, "u", 100, 101, OK), ""},
		{"failed create may apply", []Op{meta(0, OpCreateUser, "u", 0, 10, Fail), meta(1, OpAttachPolicy, "u", 20, 30, OK)},
			meta(9, OpGetUser, "u", 100, 101, OK), ""},
		{"failed create may not apply", []Op{meta(0, OpCreateBucket, "b", 0, 10, Fail), meta(1, OpHeadBucket, "b", 20, 30, NotFound)},
			meta(9, OpHeadBucket, "b", 100, 101, NotFound), ""},
		{"two creates answered OK with no delete between", []Op{meta(0, OpCreateUser, "u", 0, 10, OK), meta(1, OpCreateUser, "u", 20, 30, OK)},
			meta(9, OpGetUser, "u", 100, 101, OK), "not_linearizable"},
		{"read of a deleted user", []Op{meta(0, OpCreateUser, "u", 0, 10, OK), meta(1, OpDeleteUser, "u", 20, 30, OK), meta(2, OpDetachPolicy, "u", 40, 50, Exists)},
			meta(9, OpGetUser, "u", 100, 101, NotFound), "not_linearizable"},
		{"delete of a name never created answered OK", []Op{meta(0, OpDeleteBucket, "b", 0, 10, OK)},
			meta(9, OpHeadBucket, "b", 100, 101, NotFound), "not_linearizable"},
		{"acknowledged create lost", []Op{meta(0, OpCreateBucket, "b", 0, 10, OK)},
			meta(9, OpHeadBucket, "b", 100, 101, NotFound), "metadata_lost"},
		{"acknowledged delete undone", []Op{meta(0, OpCreateUser, "u", 0, 10, OK), meta(1, OpDeleteUser, "u", 20, 30, OK)},
			meta(9, OpGetUser, "u", 100, 101, OK), "metadata_back"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Check(c.ops, finalOfMeta(c.final), "")
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

// "The bucket exists" answered from a node's local state (HeadBucket 200,
// CreateBucket BucketAlreadyOwnedByYou) after an acknowledged delete, with
// no create that could come between, is stale: counted, kept out of the
// linearizability check, not a failure.
func TestStaleBucketReads(t *testing.T) {
	ops := []Op{meta(0, OpCreateBucket, "b", 0, 10, OK), meta(1, OpDeleteBucket, "b", 20, 30, OK),
		meta(2, OpHeadBucket, "b", 31, 32, OK),                                           // stale
		meta(3, OpCreateBucket, "b", 40, 50, OK), meta(2, OpHeadBucket, "b", 45, 46, OK), // a create may come first
		meta(2, OpHeadBucket, "b", 60, 61, OK)}
	v := Check(ops, Final{Meta: map[string]Op{"bucket b": meta(9, OpHeadBucket, "b", 100, 101, OK)}}, "")
	if v.StaleBucketReads != 1 || v.Failed() {
		t.Fatalf("want 1 stale answer and a clean verdict, got %+v", v)
	}
	// CreateBucket's "exists" is checked: after an acknowledged delete,
	// with no create between, it breaks linearizability.
	ops = append(ops[:2:2], meta(3, OpCreateBucket, "b", 33, 34, Exists))
	v = Check(ops, Final{Meta: map[string]Op{"bucket b": meta(9, OpHeadBucket, "b", 100, 101, NotFound)}}, "")
	if v.Linearizable != "illegal" {
		t.Fatalf("a CreateBucket that found a deleted bucket passed the check: %+v", v)
	}
}
