package drive_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

// writeTmp writes a temporary shard for RestoreVersion.
func writeTmp(t *testing.T, d *drive.Drive, dataDir string, data []byte) {
	t.Helper()
	if _, err := d.WriteShard(context.Background(), dataDir, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreVersion: a missing version is added with its shards; a
// corrupt shard of a present version is replaced in place, keeping newer
// tags; a stale null version is dropped with its shard; a failed commit
// leaves the index unchanged and the shard in tmp/.
func TestRestoreVersion(t *testing.T) {
	ctx := context.Background()
	fs := drivetest.NewFaultFS(drive.OSFS{})
	d := drivetest.NewDrive(t, fs)

	// Missing version: added.
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 10, Size: 3, DataDir: "dd01", K: 2, M: 2, Shard: 1}
	writeTmp(t, d, "dd01-r1", []byte("abc"))
	if err := d.RestoreVersion(ctx, fi, map[string]string{"dd01": "dd01-r1"}); err != nil {
		t.Fatal(err)
	}
	if got := readShard(t, d, "dd01", 0, -1); string(got) != "abc" {
		t.Fatalf("restored shard %q", got)
	}
	got, err := d.ReadVersion(ctx, "b", "k", drive.RefOf(fi))
	if err != nil || got.Shard != 1 || got.DataDir != "dd01" {
		t.Fatalf("restored record %+v, %v", got, err)
	}

	// Present version with a corrupt shard and newer tags: the shard is
	// replaced, the tags kept.
	if err := d.SetTags(ctx, "b", "k", drive.RefOf(fi), map[string]string{"a": "1"}, 50); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shardFile(d, "dd01"), []byte("xbc"), 0o640); err != nil {
		t.Fatal(err)
	}
	writeTmp(t, d, "dd01-r1", []byte("abc"))
	if err := d.RestoreVersion(ctx, fi, map[string]string{"dd01": "dd01-r1"}); err != nil {
		t.Fatal(err)
	}
	if got := readShard(t, d, "dd01", 0, -1); string(got) != "abc" {
		t.Fatalf("repaired shard %q", got)
	}
	got, _ = d.ReadVersion(ctx, "b", "k", drive.RefOf(fi))
	if !reflect.DeepEqual(got.Tags, map[string]string{"a": "1"}) || got.TagTime != 50 {
		t.Fatalf("tags after restore %v @%d", got.Tags, got.TagTime)
	}

	// A null version older than the drive's null version is dropped.
	put(t, d, drive.FileInfo{Bucket: "b", Key: "n", VersionID: "new", Null: true, ModTime: 20, DataDir: "nnew"}, []byte("new"))
	old := drive.FileInfo{Bucket: "b", Key: "n", VersionID: "old", Null: true, ModTime: 5, DataDir: "nold"}
	writeTmp(t, d, "nold-r", []byte("old"))
	if err := d.RestoreVersion(ctx, old, map[string]string{"nold": "nold-r"}); err != nil {
		t.Fatal(err)
	}
	if ids := readIDs(t, d, "n"); !reflect.DeepEqual(ids, []string{"new"}) {
		t.Fatalf("versions after stale restore %v", ids)
	}
	if exists(t, shardFile(d, "nold")) || !exists(t, shardFile(d, "nnew")) {
		t.Fatal("stale restored shard kept, or the newer one removed")
	}
	// A newer null version replaces the older one and frees its shard.
	newer := drive.FileInfo{Bucket: "b", Key: "n", VersionID: "newer", Null: true, ModTime: 30, DataDir: "nnewer"}
	writeTmp(t, d, "nnewer-r", []byte("newer"))
	if err := d.RestoreVersion(ctx, newer, map[string]string{"nnewer": "nnewer-r"}); err != nil {
		t.Fatal(err)
	}
	if ids := readIDs(t, d, "n"); !reflect.DeepEqual(ids, []string{"newer"}) || exists(t, shardFile(d, "nnew")) {
		t.Fatalf("versions after newer restore %v", ids)
	}

	// A shard that is not the version's is refused.
	if err := d.RestoreVersion(ctx, fi, map[string]string{"other": "other"}); !errors.Is(err, drive.ErrBadName) {
		t.Fatalf("foreign shard: %v", err)
	}

	// A failed rename: nothing visible, the temporary shard stays.
	fi2 := drive.FileInfo{Bucket: "b", Key: "k2", VersionID: "v2", ModTime: 10, DataDir: "dd02"}
	writeTmp(t, d, "dd02-r", []byte("zz"))
	fs.FailRename(func(o, n string) bool { return true })
	if err := d.RestoreVersion(ctx, fi2, map[string]string{"dd02": "dd02-r"}); err == nil {
		t.Fatal("restore with a failing rename succeeded")
	}
	fs.Reset()
	if ids := readIDs(t, d, "k2"); len(ids) != 0 || exists(t, shardFile(d, "dd02")) {
		t.Fatalf("failed restore left %v", ids)
	}
	if err := d.AbortShard(ctx, "dd02-r"); err != nil {
		t.Fatalf("temporary shard gone after a failed restore: %v", err)
	}
}

// TestFormatID: a folder without a format takes the given id; one with a
// format keeps its own.
func TestFormatID(t *testing.T) {
	dir := t.TempDir()
	d, err := drive.Open(dir, drive.Options{FormatID: "0123abcd"})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() != "0123abcd" || !d.Formatted() {
		t.Fatalf("id %q formatted %v", d.ID(), d.Formatted())
	}
	_ = d.Close()
	d, err = drive.Open(dir, drive.Options{FormatID: "ffff"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.ID() != "0123abcd" || d.Formatted() {
		t.Fatalf("reopened: id %q formatted %v", d.ID(), d.Formatted())
	}
	if _, err := drive.Open(t.TempDir(), drive.Options{FormatID: "../x"}); !errors.Is(err, drive.ErrBadName) {
		t.Fatalf("bad format id: %v", err)
	}
}
