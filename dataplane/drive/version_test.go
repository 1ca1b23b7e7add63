package drive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

func versionIDs(fis []drive.FileInfo) []string {
	out := []string{}
	for _, fi := range fis {
		out = append(out, fi.VersionID)
	}
	return out
}

func readIDs(t *testing.T, d *drive.Drive, key string) []string {
	t.Helper()
	kv, err := d.ReadVersions(context.Background(), "b", key, drive.Ref{}, 0)
	if errors.Is(err, drive.ErrNotFound) {
		return []string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return versionIDs(kv.Versions)
}

// TestVersions: versions accumulate newest first; a null version replaces
// the previous null version (and its shard); DeleteVersion removes exactly
// one version and its shard; the key disappears with its last version.
func TestVersions(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "n1", Null: true, ModTime: 1, DataDir: "null1"}, []byte("a"))
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v2", ModTime: 2, DataDir: "ver2"}, []byte("b"))
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v3", ModTime: 3, Deleted: true}, nil)
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v4", ModTime: 4, Inline: []byte("x")}, nil)
	if got := readIDs(t, d, "k"); !reflect.DeepEqual(got, []string{"v4", "v3", "v2", "n1"}) {
		t.Fatalf("versions %v", got)
	}
	// Same ModTime: ordered by version id ascending.
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v4a", ModTime: 4}, nil)
	if got := readIDs(t, d, "k"); !reflect.DeepEqual(got, []string{"v4", "v4a", "v3", "v2", "n1"}) {
		t.Fatalf("versions %v", got)
	}
	// A new null version replaces the old one and frees its shard.
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "n5", Null: true, ModTime: 5, DataDir: "null5"}, []byte("c"))
	if got := readIDs(t, d, "k"); !reflect.DeepEqual(got, []string{"n5", "v4", "v4a", "v3", "v2"}) {
		t.Fatalf("versions after null overwrite %v", got)
	}
	if exists(t, shardFile(d, "null1")) || !exists(t, shardFile(d, "null5")) {
		t.Fatal("old null shard kept or new one missing")
	}
	// An older null version arriving late is ignored.
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "n0", Null: true, ModTime: 0, DataDir: "null0"}, []byte("d"))
	if got := readIDs(t, d, "k"); got[0] != "n5" || len(got) != 5 || exists(t, shardFile(d, "null0")) {
		t.Fatalf("late null: %v", got)
	}
	// Reads by ref.
	fi, err := d.ReadVersion(ctx, "b", "k", drive.Ref{Null: true})
	if err != nil || fi.VersionID != "n5" || !fi.Null {
		t.Fatalf("null = %+v, %v", fi, err)
	}
	fi, err = d.ReadVersion(ctx, "b", "k", drive.Ref{ID: "v4", ModTime: 4})
	if err != nil || string(fi.Inline) != "x" {
		t.Fatalf("v4 = %+v, %v", fi, err)
	}
	if _, err := d.ReadVersion(ctx, "b", "k", drive.Ref{ID: "v4", ModTime: 5}); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("wrong ModTime: %v", err)
	}
	kv, err := d.ReadVersions(ctx, "b", "k", drive.Ref{ID: "v2", ModTime: 2}, 2)
	if err != nil || !kv.More || len(kv.Versions) != 2 || kv.Target == nil || kv.Target.DataDir != "ver2" {
		t.Fatalf("limited read: %+v, %v", kv, err)
	}
	// Delete versions.
	if err := d.DeleteVersion(ctx, "b", "k", drive.Ref{ID: "v2", ModTime: 2}); err != nil {
		t.Fatal(err)
	}
	if exists(t, shardFile(d, "ver2")) {
		t.Fatal("deleted version's shard kept")
	}
	if err := d.DeleteVersion(ctx, "b", "k", drive.Ref{ID: "v2", ModTime: 2}); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := d.DeleteVersion(ctx, "b", "k", drive.Ref{Null: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadVersion(ctx, "b", "k", drive.Ref{Null: true}); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("null after delete: %v", err)
	}
	for _, id := range []string{"v4", "v4a", "v3"} {
		mod := int64(4)
		if id == "v3" {
			mod = 3
		}
		if err := d.DeleteVersion(ctx, "b", "k", drive.Ref{ID: id, ModTime: mod}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.ReadVersions(ctx, "b", "k", drive.Ref{}, 0); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("key with no version left: %v", err)
	}
	if ents, _, _ := d.List(ctx, "b", drive.ListOptions{Limit: 10}); len(ents) != 0 {
		t.Fatalf("empty key listed: %+v", ents)
	}
}

func TestSetTags(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	put(t, d, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v1", ModTime: 1, Inline: []byte("x"), Tags: map[string]string{"a": "1"}}, nil)
	ref := drive.Ref{ID: "v1", ModTime: 1}
	if err := d.SetTags(ctx, "b", "k", ref, map[string]string{"b": "2"}, 10); err != nil {
		t.Fatal(err)
	}
	// An older update is ignored.
	if err := d.SetTags(ctx, "b", "k", ref, map[string]string{"c": "3"}, 5); err != nil {
		t.Fatal(err)
	}
	fi, err := d.ReadVersion(ctx, "b", "k", ref)
	if err != nil || !reflect.DeepEqual(fi.Tags, map[string]string{"b": "2"}) || string(fi.Inline) != "x" || fi.TagTime != 10 {
		t.Fatalf("after tagging: %+v, %v", fi, err)
	}
	if err := d.SetTags(ctx, "b", "k", ref, map[string]string{}, 11); err != nil {
		t.Fatal(err)
	}
	if fi, _ := d.ReadVersion(ctx, "b", "k", ref); fi.Tags != nil {
		t.Fatalf("tags not removed: %v", fi.Tags)
	}
	if err := d.SetTags(ctx, "b", "k", drive.Ref{ID: "nope", ModTime: 1}, nil, 12); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("tags of a missing version: %v", err)
	}
}

// TestListVersions pages through every version of every key with small
// pages: the concatenation is the full ordered listing.
func TestListVersions(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	var want []string
	for k := range 7 {
		key := fmt.Sprintf("k%d", k)
		if k == 3 {
			key = "dir/x"
		}
		for v := range k + 1 {
			id := fmt.Sprintf("v%d", v)
			put(t, d, drive.FileInfo{Bucket: "b", Key: key, VersionID: id, ModTime: int64(100 - v)}, nil)
		}
	}
	// Reference: keys in order, versions by ModTime descending (v0 newest).
	for _, key := range []string{"dir/x", "k0", "k1", "k2", "k4", "k5", "k6"} {
		n := map[string]int{"dir/x": 4, "k0": 1, "k1": 2, "k2": 3, "k4": 5, "k5": 6, "k6": 7}[key]
		for v := range n {
			want = append(want, fmt.Sprintf("%s@v%d", key, v))
		}
	}
	for _, limit := range []int{1, 2, 3, 5, 100} {
		var got []string
		o := drive.ListOptions{Versions: true, Limit: limit}
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("no end")
			}
			ents, more, err := d.List(ctx, "b", o)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range ents {
				for _, v := range e.Versions {
					got = append(got, e.Name+"@"+v.VersionID)
					n++
				}
			}
			if n > limit {
				t.Fatalf("page of %d versions, limit %d", n, limit)
			}
			if !more {
				break
			}
			last := ents[len(ents)-1]
			o.After = last.Name
			o.AfterVersion = nil
			if last.More {
				lv := last.Versions[len(last.Versions)-1]
				o.AfterVersion = &drive.Ref{ID: lv.VersionID, ModTime: lv.ModTime}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, want)
		}
	}
	// Latest mode caps versions per key.
	ents, _, err := d.List(ctx, "b", drive.ListOptions{Prefix: "k6", Limit: 10})
	if err != nil || len(ents) != 1 || len(ents[0].Versions) != drive.LatestVersions || !ents[0].More {
		t.Fatalf("latest mode: %+v %v", ents, err)
	}
	// Delimiter in Versions mode.
	ents, _, err = d.List(ctx, "b", drive.ListOptions{Delimiter: "/", Versions: true, Limit: 2})
	if err != nil || len(ents) != 2 || !ents[0].Prefix || ents[0].Name != "dir/" || ents[1].Name != "k0" {
		t.Fatalf("delimiter: %+v %v", ents, err)
	}
}

func TestUploads(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	ctx := context.Background()
	u := drive.Upload{Bucket: "b", Key: "obj", UploadID: "u1", Initiated: 5, Meta: map[string]string{"content-type": "x"}, ChecksumAlgo: "CRC32", K: 2, M: 2, BlockSize: 1 << 20, Shard: 1}
	if err := d.CreateUpload(ctx, u); err != nil {
		t.Fatal(err)
	}
	writePart := func(up drive.Upload, n int, dd string, mod int64) {
		t.Helper()
		if _, err := d.WriteShard(ctx, dd, stringsReader(dd)); err != nil {
			t.Fatal(err)
		}
		if err := d.CommitPart(ctx, up, drive.Part{Number: n, Size: int64(len(dd)), ETag: "e" + dd, DataDir: dd, ModTime: mod}); err != nil {
			t.Fatal(err)
		}
	}
	writePart(u, 1, "p1a", 1)
	writePart(u, 2, "p2a", 1)
	writePart(u, 3, "p3a", 1)
	writePart(u, 2, "p2b", 2) // re-upload replaces
	writePart(u, 3, "p3z", 0) // an older commit of part 3 arriving late is dropped
	if exists(t, shardFile(d, "p2a")) || exists(t, shardFile(d, "p3z")) || !exists(t, shardFile(d, "p3a")) {
		t.Fatal("replaced part shards not handled")
	}
	got, parts, more, err := d.ReadUpload(ctx, "b", "obj", "u1", 0, 2)
	if err != nil || !more || len(parts) != 2 || parts[1].DataDir != "p2b" || !reflect.DeepEqual(got, u) {
		t.Fatalf("ReadUpload = %+v %+v %v %v", got, parts, more, err)
	}
	_, parts, more, _ = d.ReadUpload(ctx, "b", "obj", "u1", 2, 2)
	if len(parts) != 1 || parts[0].Number != 3 || more {
		t.Fatalf("second page %+v %v", parts, more)
	}
	// A part for an upload this drive missed creates it.
	u2 := u
	u2.UploadID, u2.Key = "u2", "other"
	writePart(u2, 1, "q1", 1)
	writePart(u2, 2, "q2", 1)
	// And a third upload of the same key, for listing.
	u3 := u
	u3.UploadID = "u3"
	if err := d.CreateUpload(ctx, u3); err != nil {
		t.Fatal(err)
	}
	ents, more, err := d.ListUploads(ctx, "b", drive.ListOptions{Limit: 2})
	if err != nil || !more || len(ents) != 1 || ents[0].Name != "obj" || len(ents[0].Uploads) != 2 || ents[0].More {
		t.Fatalf("ListUploads: %+v %v %v", ents, more, err)
	}
	ents, more, err = d.ListUploads(ctx, "b", drive.ListOptions{After: "obj", AfterUpload: "u1", Limit: 5})
	if err != nil || more || len(ents) != 2 || ents[0].Uploads[0].UploadID != "u3" || ents[1].Name != "other" {
		t.Fatalf("ListUploads after u1: %+v %v %v", ents, more, err)
	}

	// Complete u1 with parts 1 and 3 (part 2 is freed) plus a part 4 this
	// drive never received (recorded as missing).
	fi := drive.FileInfo{Bucket: "b", Key: "obj", VersionID: "v1", ModTime: 10, UploadID: "u1", K: 2, M: 2, BlockSize: 1 << 20, Shard: 1,
		Parts: []drive.Part{{Number: 1, Size: 3, DataDir: "p1a"}, {Number: 3, Size: 3, DataDir: "p3a"}, {Number: 4, Size: 3, DataDir: "p4a"}}}
	if err := d.CommitVersion(ctx, fi); err != nil {
		t.Fatal(err)
	}
	if err := d.CommitVersion(ctx, fi); err != nil { // a retry
		t.Fatalf("retried completion: %v", err)
	}
	if exists(t, shardFile(d, "p2b")) || !exists(t, shardFile(d, "p1a")) || !exists(t, shardFile(d, "p3a")) {
		t.Fatal("completion kept an unused part or dropped a used one")
	}
	stored, err := d.ReadVersion(ctx, "b", "obj", drive.Ref{})
	if err != nil || len(stored.Parts) != 3 || stored.PartCount != 3 || !reflect.DeepEqual(stored.Missing, []int{4}) {
		t.Fatalf("completed version %+v, %v", stored, err)
	}
	if _, _, _, err := d.ReadUpload(ctx, "b", "obj", "u1", 0, 0); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("upload after completion: %v", err)
	}
	// Completing an upload the drive does not have fails.
	fi2 := fi
	fi2.VersionID, fi2.UploadID = "v2", "nope"
	if err := d.CommitVersion(ctx, fi2); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("completion without upload: %v", err)
	}
	// Deleting the version frees the part shards.
	if err := d.DeleteVersion(ctx, "b", "obj", drive.RefOf(stored)); err != nil {
		t.Fatal(err)
	}
	if exists(t, shardFile(d, "p1a")) || exists(t, shardFile(d, "p3a")) {
		t.Fatal("deleted multipart version left part shards")
	}
	// Abort frees the parts.
	if err := d.AbortUpload(ctx, "b", "other", "u2"); err != nil {
		t.Fatal(err)
	}
	if exists(t, shardFile(d, "q1")) || exists(t, shardFile(d, "q2")) {
		t.Fatal("aborted upload left part shards")
	}
	if err := d.AbortUpload(ctx, "b", "other", "u2"); !errors.Is(err, drive.ErrNotFound) {
		t.Fatalf("second abort: %v", err)
	}
	// DropBucket removes the remaining upload and its parts.
	writePart(u3, 1, "r1", 1)
	if err := d.DropBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if exists(t, shardFile(d, "r1")) {
		t.Fatal("dropped bucket left an upload's part")
	}
	if ents, _, err := d.ListUploads(ctx, "b", drive.ListOptions{Limit: 5}); err != nil || len(ents) != 0 {
		t.Fatalf("uploads after drop: %+v %v", ents, err)
	}
}

func stringsReader(s string) *bytesReader { return &bytesReader{b: []byte(s)} }

// bytesReader is a minimal io.Reader over b.
type bytesReader struct{ b []byte }

func (r *bytesReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
