package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/rpc"
)

// TestPGOfPinned pins the placement hash: changing it would lose every
// stored object of existing clusters.
func TestPGOfPinned(t *testing.T) {
	got := []int{
		PGOf("cluster-1", "photos", "2024/cat.jpg", 4096),
		PGOf("cluster-1", "photos", "2024/dog.jpg", 4096),
		PGOf("cluster-2", "photos", "2024/cat.jpg", 4096),
		PGOf("cluster-1", "videos", "2024/cat.jpg", 4096),
		PGOf("", "", "", 256),
	}
	want := []int{3335, 1809, 872, 1406, 97}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("PGOf case %d = %d, want %d", i, got[i], want[i])
		}
	}
	// Spread: 100k keys over 64 PGs within 10% of the mean.
	counts := make([]int, 64)
	for i := range 100000 {
		counts[PGOf("c", "b", fmt.Sprintf("key-%d", i), 64)]++
	}
	for pg, c := range counts {
		if c < 1400 || c > 1725 {
			t.Errorf("pg %d has %d keys, want about 1562", pg, c)
		}
	}
}

func TestLayout(t *testing.T) {
	l := layout{size: 2<<20 + 5, blockSize: 1 << 20, k: 4, m: 2}
	if l.blocks() != 3 || l.blockLen(2) != 5 || l.shardBlockLen(2) != 2 || l.shardBlockLen(0) != 1<<18 {
		t.Fatalf("layout %+v", l)
	}
	if l.shardOffset(2) != 2*(4+1<<18) || l.shardFileSize() != 2*(4+1<<18)+4+2 {
		t.Fatalf("offsets %d %d", l.shardOffset(2), l.shardFileSize())
	}
	if (layout{size: 0, blockSize: 1 << 20, k: 2}).shardFileSize() != 0 {
		t.Fatal("empty object has shard bytes")
	}
	if writeQuorum(2, 2) != 3 || writeQuorum(4, 2) != 4 || writeQuorum(2, 3) != 2 {
		t.Fatal("write quorum")
	}
}

func TestKeyView(t *testing.T) {
	rt := route{settings: settings{k: 2, m: 2}, drives: make([]driveRef, 4)}
	ans := func(drive int, fis ...drive.FileInfo) keyAnswer {
		return keyAnswer{drive: drive, kv: driveKV(fis...), ok: true}
	}
	data := func(id string, mod int64, shard int) drive.FileInfo { return driveFI(id, mod, shard, false) }
	marker := func(id string, mod int64, shard int) drive.FileInfo { return driveFI(id, mod, shard, true) }
	cases := []struct {
		name      string
		answers   []keyAnswer
		found     string
		ambiguous bool
	}{
		{"none", []keyAnswer{ans(0), ans(1), ans(2)}, "", false},
		{"complete", []keyAnswer{ans(0, data("a", 1, 0)), ans(1, data("a", 1, 1))}, "a", false},
		{"partial newer skipped", []keyAnswer{ans(0, data("b", 2, 0), data("a", 1, 0)), ans(1, data("a", 1, 1)), ans(2, data("a", 1, 2))}, "a", false},
		{"marker newest", []keyAnswer{ans(0, marker("t", 3, 0), data("a", 1, 0)), ans(1, marker("t", 3, 1), data("a", 1, 1)), ans(2, data("a", 1, 2))}, "t", false},
		{"marker leftover on one drive", []keyAnswer{ans(0, marker("t", 3, 0), data("a", 1, 0)), ans(1, data("a", 1, 1)), ans(2, data("a", 1, 2)), ans(3)}, "a", false},
		{"older marker", []keyAnswer{ans(0, data("a", 2, 0), marker("t", 1, 0)), ans(1, data("a", 2, 1), marker("t", 1, 1))}, "a", false},
		{"partial could complete", []keyAnswer{ans(0, data("b", 2, 0))}, "", true},
		{"duplicate shard index", []keyAnswer{ans(0, data("a", 1, 0)), ans(1, data("a", 1, 0)), ans(2), ans(3)}, "", false},
	}
	for _, c := range cases {
		v := (&Store{}).newKeyView(rt, c.answers)
		g, ambiguous := v.current()
		found := ""
		if g != nil {
			found = g.fi.VersionID
		}
		if found != c.found || ambiguous != c.ambiguous {
			t.Errorf("%s: found %q ambiguous %v", c.name, found, ambiguous)
		}
	}
	// Versions newest first: ModTime descending, then id ascending.
	v := (&Store{}).newKeyView(rt, []keyAnswer{ans(0, data("b", 5, 0), data("a", 5, 0), data("z", 1, 0))})
	var ids []string
	for _, g := range v.groups {
		ids = append(ids, g.fi.VersionID)
	}
	if !slices.Equal(ids, []string{"a", "b", "z"}) {
		t.Fatalf("order %v", ids)
	}
}

func driveKV(fis ...drive.FileInfo) drive.KeyVersions {
	kv := drive.KeyVersions{Versions: fis}
	if len(fis) > 0 {
		t := fis[0]
		kv.Target = &t
	}
	return kv
}

func driveFI(id string, mod int64, shard int, del bool) drive.FileInfo {
	return drive.FileInfo{VersionID: id, ModTime: mod, Shard: shard, Deleted: del, K: 2, M: 2, BlockSize: 1 << 20, Size: 10}
}

// TestErrorCodes round-trips every sentinel through the rpc error mapping.
func TestErrorCodes(t *testing.T) {
	for _, e := range errorCodes {
		rerr := toRPCError(fmt.Errorf("wrapped: %w", e.err))
		var re *rpc.Error
		if !errors.As(rerr, &re) || re.Code != e.code {
			t.Fatalf("%v -> %v", e.err, rerr)
		}
		back := fromRemote(&rpc.RemoteError{Addr: "x", Method: "m", Code: re.Code, Message: re.Message})
		if !errors.Is(back, e.err) {
			t.Fatalf("%s does not map back to %v", re.Code, e.err)
		}
		var remote *rpc.RemoteError
		if !errors.As(back, &remote) {
			t.Fatalf("%s lost the remote error", re.Code)
		}
	}
	if err := fromRemote(errors.New("connection refused")); !unavailable(err) {
		t.Fatalf("transport error not unavailable: %v", err)
	}
	if err := fromRemote(&rpc.RemoteError{Code: "internal"}); unavailable(err) || errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("internal error mapped to %v", err)
	}
	if fromRemote(io.EOF) != io.EOF {
		t.Fatal("EOF must stay EOF")
	}
	if !unavailable(fromRemote(&rpc.RemoteError{Code: "no_drive"})) {
		t.Fatal("no_drive is unavailable")
	}
	var re *rpc.Error
	if !errors.As(toRPCError(context.Canceled), &re) || re.Code != "canceled" {
		t.Fatal("canceled not mapped")
	}
}

func TestValidDataDir(t *testing.T) {
	for _, s := range []string{"0123abcdef", newDataDir(), "a.b", "A-b_c"} {
		if !validDataDir(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", ".", "..", "../x", "a/b", "a\\b", string(make([]byte, 200))} {
		if validDataDir(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
