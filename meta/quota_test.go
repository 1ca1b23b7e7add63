package meta_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func quotaState(t *testing.T) *meta.State {
	t.Helper()
	s := metatest.State(t, metatest.Options{})
	for _, c := range []meta.Command{
		meta.PutUser{User: meta.User{AccessKey: "alice", Name: "alice", SecretSealed: []byte{1}, Created: 1}},
		meta.PutUser{User: meta.User{AccessKey: "SVCALICE", Name: "sync", SecretSealed: []byte{2}, Created: 2, Parent: "alice"}},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "one", Owner: "alice", Created: 10}},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "two", Owner: "alice", Created: 11}},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "other", Owner: metatest.RootAccessKey, Created: 12}},
	} {
		mustApply(t, s, c)
	}
	return s
}

func TestQuotaCommands(t *testing.T) {
	s := quotaState(t)
	mustApply(t, s, meta.SetBucketQuota{Bucket: "one", Bytes: 1000})
	mustApply(t, s, meta.SetUserQuota{AccessKey: "alice", Bytes: 5000})
	if s.Buckets["one"].Quota != 1000 || s.Users["alice"].Quota != 5000 {
		t.Fatalf("quotas not set: %+v %+v", s.Buckets["one"], s.Users["alice"])
	}
	// PutUser (disable, attach...) keeps the quota: only SetUserQuota
	// changes it, so a concurrent admin change cannot undo it.
	u := *s.Users["alice"]
	u.Quota, u.Disabled = 0, true
	mustApply(t, s, meta.PutUser{User: u})
	if s.Users["alice"].Quota != 5000 || !s.Users["alice"].Disabled {
		t.Fatalf("PutUser dropped the quota: %+v", s.Users["alice"])
	}
	// A new bucket holds nothing, whatever the proposer sent.
	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "three", Owner: "alice", Created: 13, Quota: 7, Usage: meta.Usage{Bytes: 99, Epoch: 3}}})
	if b := s.Buckets["three"]; b.Quota != 7 || b.Usage != (meta.Usage{}) {
		t.Fatalf("new bucket %+v", b)
	}
	for name, tc := range map[string]struct {
		cmd  meta.Command
		want error
	}{
		"bucket missing":         {meta.SetBucketQuota{Bucket: "nope", Bytes: 1}, meta.ErrNoSuchBucket},
		"bucket negative":        {meta.SetBucketQuota{Bucket: "one", Bytes: -1}, meta.ErrInvalid},
		"user missing":           {meta.SetUserQuota{AccessKey: "nobody", Bytes: 1}, meta.ErrNoSuchUser},
		"user negative":          {meta.SetUserQuota{AccessKey: "alice", Bytes: -5}, meta.ErrInvalid},
		"service account":        {meta.SetUserQuota{AccessKey: "SVCALICE", Bytes: 1}, meta.ErrInvalid},
		"new user negative":      {meta.PutUser{User: meta.User{AccessKey: "bob", Name: "bob", SecretSealed: []byte{1}, Quota: -1}}, meta.ErrInvalid},
		"service account quota":  {meta.PutUser{User: meta.User{AccessKey: "SVC2", Name: "x", SecretSealed: []byte{1}, Parent: "alice", Quota: 1}}, meta.ErrInvalid},
		"create bucket negative": {meta.CreateBucket{Bucket: meta.Bucket{Name: "four", Owner: "alice", Quota: -1}}, meta.ErrInvalid},
		"usage without node":     {meta.AddUsage{Seq: 1}, meta.ErrInvalid},
	} {
		before := s.Clone()
		if err := s.Apply(tc.cmd); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if !reflect.DeepEqual(s, before) {
			t.Errorf("%s: a rejected command changed the state", name)
		}
	}
	mustApply(t, s, meta.SetBucketQuota{Bucket: "one"})
	mustApply(t, s, meta.SetUserQuota{AccessKey: "alice"})
	if s.Buckets["one"].Quota != 0 || s.Users["alice"].Quota != 0 {
		t.Fatal("quotas not cleared")
	}
}

func TestAddUsage(t *testing.T) {
	s := quotaState(t)
	add := func(node string, seq uint64, ch ...meta.UsageChange) {
		t.Helper()
		mustApply(t, s, meta.AddUsage{Node: node, Seq: seq, Changes: ch})
	}
	add("n1", 5, meta.UsageChange{Bucket: "one", Created: 10, Bytes: 100, Objects: 1}, meta.UsageChange{Bucket: "two", Created: 11, Bytes: 50, Objects: 2})
	add("n2", 3, meta.UsageChange{Bucket: "one", Created: 10, Bytes: 20, Objects: 1})
	// A retry of n1's batch (same or lower Seq) counts once.
	add("n1", 5, meta.UsageChange{Bucket: "one", Created: 10, Bytes: 100, Objects: 1})
	add("n1", 4, meta.UsageChange{Bucket: "one", Created: 10, Bytes: 100, Objects: 1})
	// Another bucket of the same name, and a gone bucket: skipped.
	add("n1", 6, meta.UsageChange{Bucket: "one", Created: 9, Bytes: 1000}, meta.UsageChange{Bucket: "gone", Created: 1, Bytes: 1000},
		meta.UsageChange{Bucket: "one", Created: 10, Bytes: -30, Objects: -1})
	if u := s.Buckets["one"].Usage; u.Bytes != 90 || u.Objects != 1 {
		t.Fatalf("one: %+v", u)
	}
	if got := s.UsageSeqs; got["n1"] != 6 || got["n2"] != 3 {
		t.Fatalf("seqs %v", got)
	}
	if b, o := s.OwnerUsage("alice"); b != 140 || o != 3 {
		t.Fatalf("alice uses %d bytes, %d objects", b, o)
	}
	// A bucket below zero (drift) counts as zero for its owner.
	add("n2", 4, meta.UsageChange{Bucket: "two", Created: 11, Bytes: -80, Objects: -3})
	if b, o := s.OwnerUsage("alice"); b != 90 || o != 1 {
		t.Fatalf("alice uses %d bytes, %d objects after drift below zero", b, o)
	}
	if b, _ := s.OwnerUsage(metatest.RootAccessKey); b != 0 {
		t.Fatalf("root uses %d", b)
	}
}

// TestRecount walks the recount protocol: changes counted before a node saw
// the recount begin are in the listing; those counted after are added to
// it.
func TestRecount(t *testing.T) {
	s := quotaState(t)
	seq := uint64(0)
	add := func(epoch uint64, bytes int64) {
		t.Helper()
		seq++
		mustApply(t, s, meta.AddUsage{Node: "n1", Seq: seq, Changes: []meta.UsageChange{{Bucket: "one", Created: 10, Epoch: epoch, Bytes: bytes, Objects: 1}}})
	}
	usage := func() meta.Usage { return s.Buckets["one"].Usage }

	add(0, 1000) // drifted: the bucket really holds 700
	mustApply(t, s, meta.BeginRecount{Bucket: "one", Created: 10, Epoch: 1, At: 100})
	add(0, 10) // counted before the node saw the begin: in the listing; provisional until End
	add(1, 5)  // counted after: maybe not in the listing, kept in Since
	if u := usage(); u.Bytes != 1015 || !u.Recounting || u.SinceBytes != 5 || u.SinceObjects != 1 {
		t.Fatalf("during the recount: %+v", u)
	}
	// The listing found 710 bytes (700 + the epoch-0 write) and 4 objects.
	mustApply(t, s, meta.EndRecount{Bucket: "one", Created: 10, Epoch: 1, Bytes: 710, Objects: 4, At: 200})
	if u := usage(); u.Bytes != 715 || u.Objects != 5 || u.Recounting || u.SinceBytes != 0 || u.Recounted != 200 || u.RecountBegun != 100 {
		t.Fatalf("after the recount: %+v", u)
	}
	add(0, 10) // an epoch-0 change flushed late: already in the listing
	add(1, 7)  // counted after the begin: counts
	if u := usage(); u.Bytes != 722 || u.Objects != 6 {
		t.Fatalf("late changes: %+v", u)
	}

	for name, tc := range map[string]struct {
		cmd  meta.Command
		want error
	}{
		"begin not current+1": {meta.BeginRecount{Bucket: "one", Created: 10, Epoch: 3}, meta.ErrStaleRecount},
		"begin same epoch":    {meta.BeginRecount{Bucket: "one", Created: 10, Epoch: 1}, meta.ErrStaleRecount},
		"end not running":     {meta.EndRecount{Bucket: "one", Created: 10, Epoch: 1}, meta.ErrStaleRecount},
		"begin other bucket":  {meta.BeginRecount{Bucket: "one", Created: 9, Epoch: 2}, meta.ErrNoSuchBucket},
		"end missing bucket":  {meta.EndRecount{Bucket: "nope", Epoch: 1}, meta.ErrNoSuchBucket},
	} {
		before := s.Clone()
		if err := s.Apply(tc.cmd); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if !reflect.DeepEqual(s, before) {
			t.Errorf("%s: a rejected command changed the state", name)
		}
	}

	// Two nodes race: the second recount supersedes the first, whose
	// end is stale.
	mustApply(t, s, meta.BeginRecount{Bucket: "one", Created: 10, Epoch: 2, At: 300})
	mustApply(t, s, meta.BeginRecount{Bucket: "one", Created: 10, Epoch: 3, At: 301})
	if err := s.Apply(meta.EndRecount{Bucket: "one", Created: 10, Epoch: 2, Bytes: 1}); !errors.Is(err, meta.ErrStaleRecount) {
		t.Fatalf("end of a superseded recount: %v", err)
	}
	if err := s.Apply(meta.EndRecount{Bucket: "one", Created: 10, Epoch: 3, Bytes: -1}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("negative recount: %v", err)
	}
	mustApply(t, s, meta.EndRecount{Bucket: "one", Created: 10, Epoch: 3, Bytes: 722, Objects: 6, At: 400})
	if u := usage(); u.Bytes != 722 || u.Epoch != 3 {
		t.Fatalf("after the second recount: %+v", u)
	}
}

func TestUsageCounts(t *testing.T) {
	for _, tc := range []struct {
		u           meta.Usage
		epoch       uint64
		add, since  bool
		description string
	}{
		{meta.Usage{}, 0, true, false, "no recount ever"},
		{meta.Usage{Epoch: 2}, 2, true, false, "current epoch, no recount running"},
		{meta.Usage{Epoch: 2}, 1, false, false, "older epoch after its recount ended: in the listing"},
		{meta.Usage{Epoch: 2, Recounting: true}, 2, true, true, "current epoch while recounting"},
		{meta.Usage{Epoch: 2, Recounting: true}, 1, true, false, "older epoch while recounting: provisional"},
		{meta.Usage{Epoch: 2}, 3, false, false, "future epoch"},
	} {
		if add, since := tc.u.Counts(tc.epoch); add != tc.add || since != tc.since {
			t.Errorf("%s: Counts = %t, %t", tc.description, add, since)
		}
	}
}
