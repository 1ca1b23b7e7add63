package lifecycle_test

import (
	"testing"
	"time"

	"github.com/strata-io/strata/lifecycle"
	"github.com/strata-io/strata/meta"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestExpiryTime(t *testing.T) {
	for _, tc := range []struct {
		mod  string
		days int
		want string
	}{
		// S3's own example: created 1/15/2014 10:30 UTC, 3 days.
		{"2014-01-15T10:30:00Z", 3, "2014-01-19T00:00:00Z"},
		{"2014-01-15T00:00:00Z", 1, "2014-01-17T00:00:00Z"}, // midnight still rounds to the next one
		{"2014-01-15T23:59:59Z", 1, "2014-01-17T00:00:00Z"},
		{"2014-01-15T10:30:00+05:00", 1, "2014-01-17T00:00:00Z"}, // 05:30 UTC
		{"2014-01-15T22:30:00-05:00", 1, "2014-01-18T00:00:00Z"}, // 03:30 UTC on the 16th
		{"2016-02-28T12:00:00Z", 1, "2016-03-01T00:00:00Z"},      // leap year
		{"2014-12-31T12:00:00Z", 365, "2016-01-01T00:00:00Z"},
	} {
		if got := lifecycle.ExpiryTime(at(tc.mod), tc.days); !got.Equal(at(tc.want)) {
			t.Errorf("ExpiryTime(%s, %d) = %s, want %s", tc.mod, tc.days, got, tc.want)
		}
	}
}

func TestPolicyVersion(t *testing.T) {
	days := func(n int) *int { return &n }
	size := func(n int64) *int64 { return &n }
	rules := []meta.LifecycleRule{
		{ID: "logs", Filter: meta.LifecycleFilter{Prefix: "logs/"}, Expiration: &meta.LifecycleExpiration{Days: days(3)}},
		{ID: "tagged", Filter: meta.LifecycleFilter{Prefix: "t/", Tags: []meta.LifecycleTag{{Key: "class", Value: "tmp"}, {Key: "flag"}}},
			Expiration: &meta.LifecycleExpiration{Days: days(1)}},
		{ID: "big", Filter: meta.LifecycleFilter{Prefix: "s/", SizeGreaterThan: size(100), SizeLessThan: size(1000)},
			Expiration: &meta.LifecycleExpiration{Days: days(1)}},
		{ID: "dated", Filter: meta.LifecycleFilter{Prefix: "d/"}, Expiration: &meta.LifecycleExpiration{Date: "2024-03-01T00:00:00Z"}},
		{ID: "off", Disabled: true, Filter: meta.LifecycleFilter{Prefix: "off/"}, Expiration: &meta.LifecycleExpiration{Days: days(1)}},
		{ID: "versions", Filter: meta.LifecycleFilter{Prefix: "v/"}, NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 2, NewerVersions: 1}},
		{ID: "markers", Filter: meta.LifecycleFilter{Prefix: "m/"}, Expiration: &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true}},
		{ID: "small", Filter: meta.LifecycleFilter{Prefix: "z/", SizeGreaterThan: size(0)}, Expiration: &meta.LifecycleExpiration{Days: days(1)},
			NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 1}},
	}
	p := lifecycle.Compile(rules)
	mod := at("2024-01-10T10:00:00Z")
	tmp := map[string]string{"class": "tmp", "flag": "", "other": "x"}
	cur := func(key string, size int64, tags map[string]string) lifecycle.Version {
		return lifecycle.Version{Key: key, Size: size, Tags: tags, ModTime: mod, IsLatest: true}
	}
	marker := func(key string, noncurrent int) lifecycle.Version {
		return lifecycle.Version{Key: key, ModTime: mod, IsLatest: true, DeleteMarker: true, Noncurrent: noncurrent}
	}
	old := func(key string, since string, newer int) lifecycle.Version {
		return lifecycle.Version{Key: key, Size: 10, ModTime: mod.Add(-time.Hour), NoncurrentSince: at(since), NewerNoncurrent: newer}
	}
	for _, tc := range []struct {
		name string
		v    lifecycle.Version
		now  string
		want lifecycle.Action
		rule string
	}{
		{"not yet due", cur("logs/a", 5, nil), "2024-01-13T23:59:59Z", lifecycle.None, ""},
		{"due at midnight", cur("logs/a", 5, nil), "2024-01-14T00:00:00Z", lifecycle.ExpireCurrent, "logs"},
		{"long overdue", cur("logs/a", 5, nil), "2025-01-01T00:00:00Z", lifecycle.ExpireCurrent, "logs"},
		{"other prefix", cur("data/a", 5, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"prefix is not a path match", cur("logsx/a", 5, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"tags match", cur("t/a", 5, tmp), "2024-01-12T00:00:00Z", lifecycle.ExpireCurrent, "tagged"},
		{"tag value differs", cur("t/a", 5, map[string]string{"class": "keep", "flag": ""}), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"empty-valued tag has a value", cur("t/a", 5, map[string]string{"class": "tmp", "flag": "on"}), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"one tag missing", cur("t/a", 5, map[string]string{"class": "tmp"}), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"size in range", cur("s/a", 500, nil), "2024-01-12T00:00:00Z", lifecycle.ExpireCurrent, "big"},
		{"size at lower bound", cur("s/a", 100, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"size at upper bound", cur("s/a", 1000, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"before the date", cur("d/a", 5, nil), "2024-02-29T23:59:59Z", lifecycle.None, ""},
		{"on the date", cur("d/a", 5, nil), "2024-03-01T00:00:00Z", lifecycle.ExpireCurrent, "dated"},
		{"created after the date", lifecycle.Version{Key: "d/a", ModTime: at("2024-06-01T00:00:00Z"), IsLatest: true}, "2024-06-02T00:00:00Z", lifecycle.ExpireCurrent, "dated"},
		{"disabled rule", cur("off/a", 5, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"no expiration for current", cur("v/a", 5, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},

		// Noncurrent versions: NoncurrentDays after the successor came,
		// keeping NewerNoncurrentVersions.
		{"noncurrent not yet due", old("v/a", "2024-01-10T10:00:00Z", 1), "2024-01-12T23:59:59Z", lifecycle.None, ""},
		{"noncurrent due", old("v/a", "2024-01-10T10:00:00Z", 1), "2024-01-13T00:00:00Z", lifecycle.DeleteVersion, "versions"},
		{"noncurrent kept as newest", old("v/a", "2024-01-10T10:00:00Z", 0), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"noncurrent marker", lifecycle.Version{Key: "v/a", DeleteMarker: true, NoncurrentSince: at("2024-01-01T00:00:00Z"), NewerNoncurrent: 3},
			"2024-01-04T00:00:00Z", lifecycle.DeleteVersion, "versions"},
		{"current expiration leaves noncurrent", old("logs/a", "2024-01-01T00:00:00Z", 5), "2025-01-01T00:00:00Z", lifecycle.None, ""},

		// Delete markers.
		{"lone marker removed", marker("m/a", 0), "2024-01-10T10:00:01Z", lifecycle.RemoveMarker, "markers"},
		{"marker with versions kept", marker("m/a", 1), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"lone marker by days", marker("logs/a", 0), "2024-01-14T00:00:00Z", lifecycle.RemoveMarker, "logs"},
		{"lone marker not yet by days", marker("logs/a", 0), "2024-01-13T00:00:00Z", lifecycle.None, ""},
		{"lone marker by date", marker("d/a", 0), "2024-03-01T00:00:00Z", lifecycle.RemoveMarker, "dated"},
		{"a marker has no tags", marker("t/a", 0), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"a marker has size 0", marker("z/a", 0), "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"a noncurrent marker has size 0", lifecycle.Version{Key: "z/a", DeleteMarker: true, NoncurrentSince: mod}, "2025-01-01T00:00:00Z", lifecycle.None, ""},
		{"empty object outside size > 0", cur("z/a", 0, nil), "2025-01-01T00:00:00Z", lifecycle.None, ""},
	} {
		got := p.Version(tc.v, at(tc.now))
		if got.Action != tc.want || got.Rule != tc.rule {
			t.Errorf("%s: got %v by %q, want %v by %q", tc.name, got.Action, got.Rule, tc.want, tc.rule)
		}
	}
	if !(lifecycle.Policy{}).Empty() || p.Empty() || p.AbortsUploads() {
		t.Error("Empty or AbortsUploads wrong")
	}
	if !lifecycle.Compile(rules[4:5]).Empty() {
		t.Error("a policy of disabled rules is not empty")
	}
}

func TestPolicyUpload(t *testing.T) {
	days := func(n int) *int { return &n }
	size := int64(10)
	p := lifecycle.Compile([]meta.LifecycleRule{
		{ID: "sized", Filter: meta.LifecycleFilter{Prefix: "big/", SizeGreaterThan: &size}, AbortAfterDays: days(1)},
		{ID: "tmp", Filter: meta.LifecycleFilter{Prefix: "tmp/"}, AbortAfterDays: days(2)},
		{ID: "expire", Expiration: &meta.LifecycleExpiration{Days: days(1)}},
		{ID: "off", Disabled: true, AbortAfterDays: days(1)},
	})
	init := at("2024-01-10T10:00:00Z")
	for _, tc := range []struct {
		key, now string
		want     lifecycle.Action
	}{
		{"tmp/u", "2024-01-12T23:59:59Z", lifecycle.None},
		{"tmp/u", "2024-01-13T00:00:00Z", lifecycle.AbortUpload},
		{"other/u", "2025-01-01T00:00:00Z", lifecycle.None},
		{"big/u", "2025-01-01T00:00:00Z", lifecycle.None}, // a size bound never applies to an upload
	} {
		if got := p.Upload(tc.key, init, at(tc.now)); got.Action != tc.want {
			t.Errorf("%s at %s: %v, want %v", tc.key, tc.now, got.Action, tc.want)
		}
	}
	if !p.AbortsUploads() {
		t.Error("AbortsUploads: false")
	}
}
