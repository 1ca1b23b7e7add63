package meta_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

// fullState has records of every kind, with every field set.
func fullState(t testing.TB) *meta.State {
	s := fullStateV5(t)
	days, abort, gt, lt := 30, 7, int64(0), int64(1<<20)
	if err := s.Apply(meta.SetBucketLifecycle{Bucket: "alpha", Rules: []meta.LifecycleRule{
		{ID: "logs", Filter: meta.LifecycleFilter{Prefix: "logs/", Tags: []meta.LifecycleTag{{Key: "class", Value: "tmp"}, {Key: "flag"}},
			SizeGreaterThan: &gt, SizeLessThan: &lt}, Expiration: &meta.LifecycleExpiration{Days: &days},
			NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 5, NewerVersions: 2}},
		{ID: "old", Disabled: true, LegacyPrefix: true, Filter: meta.LifecycleFilter{Prefix: "old/"},
			Expiration: &meta.LifecycleExpiration{Date: "2030-01-01T00:00:00Z"}, AbortAfterDays: &abort},
		{Expiration: &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true}},
	}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// fullStateV5 has records of every kind of snapshot format version 5,
// with every field version 5 knows set.
func fullStateV5(t testing.TB) *meta.State {
	s := fullStateV4(t)
	for _, c := range []meta.Command{
		meta.SetBucketQuota{Bucket: "alpha", Bytes: 2 << 40},
		meta.SetUserQuota{AccessKey: "bob", Bytes: 500 << 30},
		meta.AddUsage{Node: "n1", Seq: 16, Changes: []meta.UsageChange{{Bucket: "alpha", Created: 4, Bytes: 5 << 20, Objects: 3}}},
		meta.AddUsage{Node: "n2", Seq: 17, Changes: []meta.UsageChange{{Bucket: "zeta", Created: 3, Bytes: 1 << 10, Objects: 1}}},
		meta.BeginRecount{Bucket: "alpha", Created: 4, Epoch: 1, At: 18},
		meta.AddUsage{Node: "n1", Seq: 19, Changes: []meta.UsageChange{{Bucket: "alpha", Created: 4, Epoch: 1, Bytes: 100, Objects: 1}}},
		meta.BeginRecount{Bucket: "zeta", Created: 3, Epoch: 1, At: 20},
		meta.EndRecount{Bucket: "zeta", Created: 3, Epoch: 1, Bytes: 2 << 10, Objects: 2, At: 21},
	} {
		if err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// fullStateV4 has records of every kind of snapshot format version 4,
// with every field version 4 knows set.
func fullStateV4(t testing.TB) *meta.State {
	s := fullStateV3(t)
	for _, c := range []meta.Command{
		meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "https://siem.example.org/in", TokenSealed: []byte{4, 2}, Created: 14}},
		meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "http://10.0.0.9:8080/audit", Created: 15}},
	} {
		if err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// fullStateV3 has records of every kind of snapshot format version 3,
// with every field version 3 knows set.
func fullStateV3(t testing.TB) *meta.State {
	s := fullStateV2(t)
	if err := s.Apply(meta.SetBucketCORS{Bucket: "alpha", Rules: []meta.CORSRule{
		{ID: "web", AllowedOrigins: []string{"https://*.example.org"}, AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: new(int64(600))},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
	}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// fullStateV2 has records of every kind of snapshot format version 2,
// with every field version 2 knows set.
func fullStateV2(t testing.TB) *meta.State {
	s := fullStateV1(t)
	for _, c := range []meta.Command{
		meta.PutAccount{Account: meta.Account{Name: "genomics", Created: 6}},
		meta.PutAccount{Account: meta.Account{Name: "astro", Created: 7}},
		meta.PutPolicy{Policy: meta.Policy{Name: "alpha-read", Created: 8, Updated: 9, Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::alpha/*"}]}`)}},
		meta.PutUser{User: meta.User{AccessKey: "bob", SecretSealed: []byte{9, 9}, Name: "bob", Created: 10, Account: "genomics", Policies: []string{"readonly", "alpha-read"}}},
		meta.PutUser{User: meta.User{AccessKey: "SVCBOB", SecretSealed: []byte{8, 8}, Name: "rclone", Created: 11, Parent: "bob", SessionPolicy: []byte(`{"Version":"2012-10-17","Statement":[]}`)}},
		meta.PutGroup{Group: meta.Group{Name: "staff", Members: []string{"bob", "AKALICE"}, Created: 12}},
		meta.PutGroup{Group: meta.Group{Name: "empty", Created: 13}},
		meta.AttachPolicy{Policy: "readwrite", Group: "staff"},
		meta.SetBucketPolicy{Bucket: "alpha", Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::alpha/*"}]}`)},
		meta.SetBucketACL{Bucket: "zeta", ACL: "authenticated-read"},
	} {
		if err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// fullStateV1 has records of every kind of snapshot format version 1, with
// every field version 1 knows set.
func fullStateV1(t testing.TB) *meta.State {
	s := metatest.State(t, metatest.Options{K: 2, M: 1, PGCount: 8, Nodes: 3, DrivesPerNode: 2})
	for _, c := range []meta.Command{
		meta.CreateBucket{Bucket: meta.Bucket{Name: "zeta", Owner: metatest.RootAccessKey, Created: 3, Region: "eu-west-1"}},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "alpha", Owner: "AKALICE", Created: 4}},
		meta.PutUser{User: meta.User{AccessKey: "AKALICE", SecretSealed: []byte{0, 1, 2, 255}, Name: "alice", Disabled: true, Created: 5}},
	} {
		if err := s.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	for name, s := range map[string]*meta.State{
		"empty":  meta.NewState(),
		"formed": metatest.State(t, metatest.Options{}),
		"full":   fullState(t),
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := meta.WriteSnapshot(&buf, s); err != nil {
				t.Fatal(err)
			}
			got, err := meta.ReadSnapshot(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, s)
			}
			// Deterministic: the same state always gives the same bytes.
			var again bytes.Buffer
			if err := meta.WriteSnapshot(&again, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Fatal("snapshot bytes not deterministic")
			}
		})
	}
}

// TestSnapshotGoldenV1 pins format version 1: a snapshot written by the first
// release must restore forever.
func TestSnapshotGoldenV1(t *testing.T) {
	path := filepath.Join("testdata", "snapshot", "v1.snap")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	defer f.Close()
	got, err := meta.ReadSnapshot(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := fullStateV1(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v1 restores to\n%+v\nwant\n%+v", got, want)
	}
}

// TestSnapshotGoldenV2 pins format version 2 (IAM records). The current
// writer writes the same records; only the version byte differs.
func TestSnapshotGoldenV2(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "snapshot", "v2.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if b[len(meta.SnapshotMagic)] != 2 {
		t.Fatalf("v2.snap has format version %d", b[len(meta.SnapshotMagic)])
	}
	got, err := meta.ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := fullStateV2(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v2 restores to\n%+v\nwant\n%+v", got, want)
	}
	if len(got.Accounts) != 2 || len(got.Groups) != 2 || len(got.Policies) != 1 || got.Users["SVCBOB"].Account != "genomics" {
		t.Fatalf("golden v2 lacks IAM records: %+v", got)
	}
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, want); err != nil {
		t.Fatal(err)
	}
	again := buf.Bytes()
	again[len(meta.SnapshotMagic)] = 2
	if !bytes.Equal(again, b) {
		t.Fatal("the current writer no longer writes the records of v2.snap byte for byte")
	}
}

// TestSnapshotGoldenV3 pins format version 3 (buckets' CORS rules). The
// current writer writes the same records; only the version byte differs.
func TestSnapshotGoldenV3(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "snapshot", "v3.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if b[len(meta.SnapshotMagic)] != 3 {
		t.Fatalf("v3.snap has format version %d", b[len(meta.SnapshotMagic)])
	}
	got, err := meta.ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := fullStateV3(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v3 restores to\n%+v\nwant\n%+v", got, want)
	}
	if len(got.Buckets["alpha"].CORS) != 2 || *got.Buckets["alpha"].CORS[0].MaxAgeSeconds != 600 {
		t.Fatalf("golden v3 lacks the CORS rules: %+v", got.Buckets["alpha"])
	}
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, want); err != nil {
		t.Fatal(err)
	}
	again := buf.Bytes()
	again[len(meta.SnapshotMagic)] = 3
	if !bytes.Equal(again, b) {
		t.Fatal("the current writer no longer writes the records of v3.snap byte for byte")
	}
}

// TestSnapshotGoldenV4 pins format version 4 (audit webhooks). The
// current writer writes the same records; only the version byte differs.
func TestSnapshotGoldenV4(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "snapshot", "v4.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if b[len(meta.SnapshotMagic)] != 4 {
		t.Fatalf("v4.snap has format version %d", b[len(meta.SnapshotMagic)])
	}
	got, err := meta.ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := fullStateV4(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v4 restores to\n%+v\nwant\n%+v", got, want)
	}
	if w := got.AuditWebhooks["https://siem.example.org/in"]; len(got.AuditWebhooks) != 2 || w == nil || string(w.TokenSealed) != "\x04\x02" {
		t.Fatalf("golden v4 lacks the audit webhooks: %+v", got.AuditWebhooks)
	}
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, want); err != nil {
		t.Fatal(err)
	}
	again := buf.Bytes()
	again[len(meta.SnapshotMagic)] = 4
	if !bytes.Equal(again, b) {
		t.Fatal("the current writer no longer writes the records of v4.snap byte for byte")
	}
}

// TestSnapshotGoldenV5 pins format version 5 (quotas, usage and the usage
// batch sequences). The current writer writes the same records; only the
// version byte differs.
func TestSnapshotGoldenV5(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "snapshot", "v5.snap"))
	if err != nil {
		t.Fatal(err)
	}
	if b[len(meta.SnapshotMagic)] != 5 {
		t.Fatalf("v5.snap has format version %d", b[len(meta.SnapshotMagic)])
	}
	got, err := meta.ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := fullStateV5(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v5 restores to\n%+v\nwant\n%+v", got, want)
	}
	alpha := got.Buckets["alpha"]
	if alpha.Quota != 2<<40 || alpha.Usage.Bytes != 5<<20+100 || !alpha.Usage.Recounting || alpha.Usage.SinceBytes != 100 ||
		got.Users["bob"].Quota != 500<<30 || got.UsageSeqs["n1"] != 19 || got.Buckets["zeta"].Usage.Recounted != 21 {
		t.Fatalf("golden v5 lacks the quotas or usage: %+v %+v %+v", alpha, got.Users["bob"], got.UsageSeqs)
	}
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, want); err != nil {
		t.Fatal(err)
	}
	again := buf.Bytes()
	again[len(meta.SnapshotMagic)] = 5
	if !bytes.Equal(again, b) {
		t.Fatal("the current writer no longer writes the records of v5.snap byte for byte")
	}
}

// TestSnapshotGoldenV6 pins format version 6 (buckets' lifecycle rules).
func TestSnapshotGoldenV6(t *testing.T) {
	path := filepath.Join("testdata", "snapshot", "v6.snap")
	if *update {
		var buf bytes.Buffer
		if err := meta.WriteSnapshot(&buf, fullState(t)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if b[len(meta.SnapshotMagic)] != 6 {
		t.Fatalf("v6.snap has format version %d", b[len(meta.SnapshotMagic)])
	}
	got, err := meta.ReadSnapshot(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := fullState(t)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("golden v6 restores to\n%+v\nwant\n%+v", got, want)
	}
	lc := got.Buckets["alpha"].Lifecycle
	if len(lc) != 3 || lc[0].Filter.Tags[1].Key != "flag" || *lc[0].Filter.SizeLessThan != 1<<20 || lc[0].NoncurrentExpiration.NewerVersions != 2 ||
		!lc[1].LegacyPrefix || *lc[1].AbortAfterDays != 7 || !lc[2].Expiration.ExpiredObjectDeleteMarker {
		t.Fatalf("golden v6 lacks the lifecycle rules: %+v", lc)
	}
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Fatal("the current writer no longer writes v6.snap byte for byte")
	}
}

// TestSnapshotV4RejectsV5Records: a version 4 header with usage batch
// sequence records is malformed.
func TestSnapshotV4RejectsV5Records(t *testing.T) {
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, fullState(t)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b[len(meta.SnapshotMagic)] = 4
	if _, err := meta.ReadSnapshot(bytes.NewReader(b)); !errors.Is(err, meta.ErrMalformed) {
		t.Fatalf("v4 header with usage sequence records: %v", err)
	}
}

// TestSnapshotV3RejectsV4Records: a version 3 header with audit webhook
// records is malformed.
func TestSnapshotV3RejectsV4Records(t *testing.T) {
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, fullState(t)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b[len(meta.SnapshotMagic)] = 3
	if _, err := meta.ReadSnapshot(bytes.NewReader(b)); !errors.Is(err, meta.ErrMalformed) {
		t.Fatalf("v3 header with audit webhook records: %v", err)
	}
}

// TestSnapshotV1RejectsV2Records: a version 1 header with records only
// version 2 has is malformed.
func TestSnapshotV1RejectsV2Records(t *testing.T) {
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, fullState(t)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b[len(meta.SnapshotMagic)] = 1
	if _, err := meta.ReadSnapshot(bytes.NewReader(b)); !errors.Is(err, meta.ErrMalformed) {
		t.Fatalf("v1 header with account records: %v", err)
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	var buf bytes.Buffer
	if err := meta.WriteSnapshot(&buf, fullState(t)); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for n := 0; n < len(good); n++ {
		if _, err := meta.ReadSnapshot(bytes.NewReader(good[:n])); !errors.Is(err, meta.ErrMalformed) {
			t.Fatalf("truncated at %d of %d: got %v", n, len(good), err)
		}
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"garbage":      []byte("definitely not a snapshot at all"),
		"wrong magic":  mutate(func(b []byte) []byte { b[0] = 'X'; return b }),
		"next version": mutate(func(b []byte) []byte { b[len(meta.SnapshotMagic)] = meta.SnapshotVersion + 1; return b }),
		"version 0":    mutate(func(b []byte) []byte { b[len(meta.SnapshotMagic)] = 0; return b }),
		"first not cluster": mutate(func(b []byte) []byte {
			b[len(meta.SnapshotMagic)+1] = 4
			return b
		}),
		"huge length": mutate(func(b []byte) []byte {
			copy(b[len(meta.SnapshotMagic)+2:], []byte{0x7f, 0xff, 0xff, 0xff})
			return b
		}),
		"no placement":    append([]byte(meta.SnapshotMagic), 1, 1, 0, 0, 0, 2, '{', '}', 0, 0, 0, 0, 0),
		"end with length": append([]byte(meta.SnapshotMagic), 1, 0, 0, 0, 0, 1),
	} {
		if _, err := meta.ReadSnapshot(bytes.NewReader(b)); !errors.Is(err, meta.ErrMalformed) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func FuzzReadSnapshot(f *testing.F) {
	for _, s := range []*meta.State{meta.NewState(), fullState(f)} {
		var buf bytes.Buffer
		if err := meta.WriteSnapshot(&buf, s); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(meta.SnapshotMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := meta.ReadSnapshot(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, meta.ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		// Whatever restores writes and restores again to the same state.
		var buf bytes.Buffer
		if err := meta.WriteSnapshot(&buf, s); err != nil {
			t.Fatal(err)
		}
		again, err := meta.ReadSnapshot(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatal("restored state does not round-trip")
		}
	})
}
