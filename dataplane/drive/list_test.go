package drive_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

// refList is the specification of List over a sorted key slice: the
// distinct names (key, or key cut after the first delimiter past the
// prefix) of keys with the prefix, greater than after, first limit of them.
func refList(keys []string, prefix, delim, after string, limit int) (names []string, more bool) {
	var all []string
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		name := k
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				name = k[:len(prefix)+i+len(delim)]
			}
		}
		if name > after && (len(all) == 0 || all[len(all)-1] != name) {
			all = append(all, name)
		}
	}
	if limit < 0 {
		limit = 0
	}
	if len(all) > limit {
		return all[:limit], true
	}
	return all, false
}

// names renders a page as names, common prefixes marked with a trailing "*".
func names(ents []drive.ListEntry) []string {
	out := []string{}
	for _, e := range ents {
		if e.Prefix {
			out = append(out, e.Name+"*")
		} else {
			out = append(out, e.Name)
		}
	}
	return out
}

func fill(t testing.TB, d *drive.Drive, bucket string, keys []string) {
	ctx := context.Background()
	for i, k := range keys {
		fi := drive.FileInfo{Bucket: bucket, Key: k, VersionID: fmt.Sprint(i), ModTime: 1, Size: 1, Inline: []byte{byte(i)}}
		if err := d.CommitVersion(ctx, fi); err != nil {
			t.Fatal(err)
		}
	}
}

func TestList(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	keys := []string{
		"a", "a/", "a/b", "a/b/c", "a/c", "a//d", "ab", "b/x/y", "b/z", "c", "photos/2023/x.jpg",
		"photos/2024/a.jpg", "photos/2024/b.jpg", "photos/readme", "z\xff\xffy", "z\xff\xff\xff",
	}
	fill(t, d, "b", keys)
	put(t, d, drive.FileInfo{Bucket: "b", Key: "dead", VersionID: "x", ModTime: 2, Deleted: true}, nil)
	fill(t, d, "other", []string{"a0", "zz"})

	cases := []struct {
		prefix, delim, after string
		limit                int
		want                 []string
		more                 bool
	}{
		{"", "", "", 100, []string{"a", "a/", "a//d", "a/b", "a/b/c", "a/c", "ab", "b/x/y", "b/z", "c", "dead", "photos/2023/x.jpg", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/readme", "z\xff\xffy", "z\xff\xff\xff"}, false},
		{"", "/", "", 100, []string{"a", "a/*", "ab", "b/*", "c", "dead", "photos/*", "z\xff\xffy", "z\xff\xff\xff"}, false},
		{"", "/", "", 3, []string{"a", "a/*", "ab"}, true},
		{"", "/", "a/", 3, []string{"ab", "b/*", "c"}, true},
		{"", "/", "a/b", 2, []string{"ab", "b/*"}, true}, // after inside a common prefix skips it
		{"", "/", "photos/", 10, []string{"z\xff\xffy", "z\xff\xff\xff"}, false},
		{"a/", "/", "", 10, []string{"a/", "a//*", "a/b", "a/b/*", "a/c"}, false},
		{"a/", "/", "a/b", 10, []string{"a/b/*", "a/c"}, false},
		{"photos/", "/", "", 10, []string{"photos/2023/*", "photos/2024/*", "photos/readme"}, false},
		{"photos/2024/", "/", "", 1, []string{"photos/2024/a.jpg"}, true},
		{"photos/2024/", "/", "photos/2024/a.jpg", 1, []string{"photos/2024/b.jpg"}, false},
		{"photos", "", "photos/2024", 10, []string{"photos/2024/a.jpg", "photos/2024/b.jpg", "photos/readme"}, false},
		{"", "2024/", "", 100, []string{"a", "a/", "a//d", "a/b", "a/b/c", "a/c", "ab", "b/x/y", "b/z", "c", "dead", "photos/2023/x.jpg", "photos/2024/*", "photos/readme", "z\xff\xffy", "z\xff\xff\xff"}, false},
		{"z", "\xff", "", 10, []string{"z\xff*"}, false}, // successor of a prefix ending in 0xff
		{"z\xff", "\xff", "", 10, []string{"z\xff\xff*"}, false},
		{"nope", "/", "", 10, []string{}, false},
		{"", "", "z\xff\xff\xff", 10, []string{}, false},
		{"", "", "zzz", 10, []string{"z\xff\xffy", "z\xff\xff\xff"}, false},
		{"b", "/", "a", 10, []string{"b/*"}, false}, // after sorts before the prefix
		{"a", "/", "c", 10, []string{}, false},      // after sorts after every key of the prefix
		{"", "/", "", 0, []string{}, true},
		{"", "/", "", -1, []string{}, true},
		{"nope", "", "", 0, []string{}, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q,%q,%q,%d", tc.prefix, tc.delim, tc.after, tc.limit), func(t *testing.T) {
			ents, more, err := d.List(ctx, "b", drive.ListOptions{Prefix: tc.prefix, Delimiter: tc.delim, After: tc.after, Limit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(ents); !reflect.DeepEqual(got, tc.want) || more != tc.more {
				t.Fatalf("got %q more=%v, want %q more=%v", got, more, tc.want, tc.more)
			}
		})
	}

	ents, _, err := d.List(ctx, "b", drive.ListOptions{Prefix: "de", Delimiter: "", After: "", Limit: 10})
	if err != nil || len(ents) != 1 || !ents[0].Versions[0].Deleted || ents[0].Versions[0].ModTime != 2 {
		t.Fatalf("tombstone listing: %+v, %v", ents, err)
	}
	ents, _, _ = d.List(ctx, "b", drive.ListOptions{Prefix: "a/b", Delimiter: "", After: "", Limit: 1})
	want := drive.FileInfo{Bucket: "b", Key: "a/b", VersionID: "2", ModTime: 1, Size: 1}
	if len(ents) != 1 || !reflect.DeepEqual(ents[0].Versions[0], want) {
		t.Fatalf("listed record %+v, want %+v (no Inline)", ents, want)
	}
	// A common prefix of only 0xff bytes has no successor: the scan ends.
	fill(t, d, "ff", []string{"\xff", "\xff\xff", "\xff\xffa"})
	if ents, more, err := d.List(ctx, "ff", drive.ListOptions{Prefix: "", Delimiter: "\xff", After: "", Limit: 10}); err != nil || !slices.Equal(names(ents), []string{"\xff*"}) || more {
		t.Fatalf("List of 0xff keys: %q %v %v", names(ents), more, err)
	}
	if ents, more, err := d.List(ctx, "ff", drive.ListOptions{Prefix: "", Delimiter: "\xff", After: "\xff", Limit: 10}); err != nil || len(ents) != 0 || more {
		t.Fatalf("List of 0xff keys after the prefix: %q %v %v", names(ents), more, err)
	}
	if ents, more, err := d.List(ctx, "nosuchbucket", drive.ListOptions{Prefix: "", Delimiter: "", After: "", Limit: 10}); err != nil || len(ents) != 0 || more {
		t.Fatalf("List of unknown bucket: %v %v %v", ents, more, err)
	}
}

// TestListMatchesReference compares List against refList on random keys
// with nested prefixes, over many parameter combinations and by paging
// through whole listings.
func TestListMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	parts := []string{"a", "b", "ab", "x-", "2024", "é", "~", "\xff"}
	delims := []string{"/", "-", "b", "//"}
	seen := map[string]bool{}
	var keys []string
	for len(keys) < 2000 {
		var sb strings.Builder
		for n := 1 + rng.IntN(5); n > 0; n-- {
			sb.WriteString(parts[rng.IntN(len(parts))])
			if rng.IntN(3) > 0 {
				sb.WriteString(delims[rng.IntN(len(delims))])
			}
		}
		if k := sb.String(); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	d := drivetest.NewDrive(t, nil)
	fill(t, d, "bk", keys)
	sort.Strings(keys)
	ctx := context.Background()

	prefixes := []string{"", "a", "a/", "ab", "2024/", "x-", "\xff", "b/a"}
	for i := 0; i < 40; i++ {
		prefixes = append(prefixes, cut(keys[rng.IntN(len(keys))], rng.IntN(6)))
	}
	for _, prefix := range slices.Compact(prefixes) {
		for _, delim := range append([]string{""}, delims...) {
			// Single pages at random starting points and limits.
			for j := 0; j < 5; j++ {
				after := ""
				if j > 0 {
					after = cut(keys[rng.IntN(len(keys))], rng.IntN(8))
				}
				limit := 1 + rng.IntN(50)
				ents, more, err := d.List(ctx, "bk", drive.ListOptions{Prefix: prefix, Delimiter: delim, After: after, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				want, wantMore := refList(keys, prefix, delim, after, limit)
				if got := plain(ents); !slices.Equal(got, want) || more != wantMore {
					t.Fatalf("List(%q, %q, after %q, %d) = %q more=%v\nwant %q more=%v", prefix, delim, after, limit, got, more, want, wantMore)
				}
			}
			// Paging with the last name as after yields the full listing.
			want, _ := refList(keys, prefix, delim, "", len(keys)+1)
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(keys) {
					t.Fatal("paging does not terminate")
				}
				ents, more, err := d.List(ctx, "bk", drive.ListOptions{Prefix: prefix, Delimiter: delim, After: after, Limit: 37})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, plain(ents)...)
				if !more {
					break
				}
				after = ents[len(ents)-1].Name
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged List(%q, %q): %d names, want %d", prefix, delim, len(got), len(want))
			}
		}
	}
}

func plain(ents []drive.ListEntry) []string {
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Prefix != (len(e.Versions) == 0) {
			panic("prefix entry with a record, or record without one")
		}
		out = append(out, e.Name)
	}
	return out
}

func cut(s string, n int) string { return s[:min(n, len(s))] }
