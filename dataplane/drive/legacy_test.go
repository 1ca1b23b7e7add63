package drive

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestLegacyRecord: a key written by the first releases (one version-1
// record per key, no nested bucket) reads as its null version, lists, and is
// converted in place on the first write to the key: a new null version
// replaces it (freeing its shard), a versioned write keeps it.
func TestLegacyRecord(t *testing.T) {
	d, err := Open(t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	putLegacy := func(key string, r record) {
		t.Helper()
		js := []byte(`{"v":"` + r.VersionID + `","t":1,"s":1,"k":2,"p":2,"b":1048576,"i":1,"dd":"` + r.DataDir + `"}`)
		val := append([]byte{recordV1, 0, byte(len(js))}, js...)
		err := d.db.Update(func(tx *bolt.Tx) error {
			b, err := tx.Bucket(bucketObjects).CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return b.Put([]byte(key), val)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"old1", "old2"} {
		dd := "dd" + key
		if _, err := d.WriteShard(ctx, dd, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := d.commitShard(dd); err != nil {
			t.Fatal(err)
		}
		putLegacy(key, record{VersionID: "uuid-" + key, DataDir: dd})
	}
	fi, err := d.ReadVersion(ctx, "b", "old1", Ref{})
	if err != nil || !fi.Null || fi.VersionID != "uuid-old1" || fi.DataDir != "ddold1" || fi.K != 2 {
		t.Fatalf("legacy read: %+v, %v", fi, err)
	}
	if fi, err := d.ReadVersion(ctx, "b", "old1", Ref{Null: true}); err != nil || fi.VersionID != "uuid-old1" {
		t.Fatalf("legacy read as null: %+v, %v", fi, err)
	}
	ents, _, err := d.List(ctx, "b", ListOptions{Limit: 10, Versions: true})
	if err != nil || len(ents) != 2 || ents[0].Versions[0].VersionID != "uuid-old1" || !ents[0].Versions[0].Null {
		t.Fatalf("legacy list: %+v, %v", ents, err)
	}
	// A null write replaces the legacy record and frees its shard.
	if err := d.CommitVersion(ctx, FileInfo{Bucket: "b", Key: "old1", VersionID: "new", Null: true, ModTime: 5, Inline: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	kv, err := d.ReadVersions(ctx, "b", "old1", Ref{}, 0)
	if err != nil || len(kv.Versions) != 1 || kv.Versions[0].VersionID != "new" {
		t.Fatalf("after null overwrite: %+v, %v", kv, err)
	}
	if _, err := d.fs.Stat(d.shardPath("ddold1")); err == nil {
		t.Fatal("legacy shard not freed")
	}
	// A versioned write keeps the legacy record as the null version.
	if err := d.CommitVersion(ctx, FileInfo{Bucket: "b", Key: "old2", VersionID: "v9", ModTime: 9}); err != nil {
		t.Fatal(err)
	}
	kv, err = d.ReadVersions(ctx, "b", "old2", Ref{Null: true}, 0)
	if err != nil || len(kv.Versions) != 2 || kv.Versions[1].VersionID != "uuid-old2" || kv.Target == nil || kv.Target.DataDir != "ddold2" {
		t.Fatalf("after versioned write: %+v, %v", kv, err)
	}
	// And a legacy key can be dropped.
	putLegacy("old3", record{VersionID: "u3"})
	if err := d.DeleteVersion(ctx, "b", "old3", Ref{Null: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadVersion(ctx, "b", "old3", Ref{}); err == nil {
		t.Fatal("legacy key still there after delete")
	}
}
