package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/uuid"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

func (e *testEnv) putV(bucket, key string, data []byte, v meta.Versioning) ObjectInfo {
	e.t.Helper()
	info, err := e.store.PutObject(ctxb, bucket, key, bytes.NewReader(data), int64(len(data)), PutOptions{Versioning: v})
	if err != nil {
		e.t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return info
}

func (e *testEnv) readVersion(bucket, key, versionID string) ([]byte, ObjectInfo, error) {
	o, err := e.store.GetObject(ctxb, bucket, key, GetOptions{VersionID: versionID})
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	r, err := o.NewReader(ctxb, 0, -1)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, o.Info, err
}

func (e *testEnv) mustReadVersion(bucket, key, versionID string, want []byte) ObjectInfo {
	e.t.Helper()
	got, info, err := e.readVersion(bucket, key, versionID)
	if err != nil {
		e.t.Fatalf("read %s/%s version %q: %v", bucket, key, versionID, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("read %s/%s version %q: %d bytes, want %d", bucket, key, versionID, len(got), len(want))
	}
	return info
}

func (e *testEnv) del(bucket, key string, opts DeleteOptions) DeleteResult {
	e.t.Helper()
	res, err := e.store.DeleteObject(ctxb, bucket, key, opts)
	if err != nil {
		e.t.Fatalf("delete %s/%s %+v: %v", bucket, key, opts, err)
	}
	return res
}

// listVersions pages through ListObjectVersions with page size max and
// renders every entry as key@versionid (with "*" for the latest and "#"
// for a delete marker).
func listVersions(t *testing.T, s *Store, bucket, prefix, delimiter string, max int) (versions, prefixes []string) {
	t.Helper()
	opts := ListVersionsOptions{Prefix: prefix, Delimiter: delimiter, Max: max}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("version listing does not end")
		}
		res, err := s.ListObjectVersions(ctxb, bucket, opts)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.Versions) + len(res.Prefixes); n > max {
			t.Fatalf("page of %d entries, max %d", n, max)
		}
		for _, v := range res.Versions {
			s := v.Key + "@" + v.VersionID
			if v.IsLatest {
				s += "*"
			}
			if v.DeleteMarker {
				s += "#"
			}
			versions = append(versions, s)
		}
		prefixes = append(prefixes, res.Prefixes...)
		if !res.Truncated {
			return versions, prefixes
		}
		opts.KeyMarker, opts.VersionIDMarker = res.NextKeyMarker, res.NextVersionIDMarker
	}
}

// driveVersions is the number of versions bucket/key has on each PG drive.
func (e *testEnv) driveVersions(bucket, key string) []int {
	var out []int
	for _, d := range e.pgDrives(bucket, key) {
		kv, err := d.ReadVersions(ctxb, bucket, key, drive.Ref{}, 0)
		if err != nil && !errors.Is(err, drive.ErrNotFound) {
			e.t.Fatal(err)
		}
		out = append(out, len(kv.Versions))
	}
	return out
}

// shardFiles counts the committed shard files on all drives.
func (e *testEnv) shardFiles() int {
	n := 0
	for _, d := range e.drives {
		n += countFiles(e.t, d.path+"/shards")
	}
	return n
}

func TestUnversioned(t *testing.T) {
	e := newEnv(t, 2, 2)
	v1 := randBytes(1, 3<<20)
	info := e.putV("b", "k", v1, meta.VersioningOff)
	if info.VersionID != NullVersionID || !info.IsLatest {
		t.Fatalf("unversioned put: %+v", info)
	}
	files := e.shardFiles()
	v2 := randBytes(2, 2<<20)
	e.putV("b", "k", v2, meta.VersioningOff)
	e.mustRead("b", "k", v2)
	if got := e.driveVersions("b", "k"); !slices.Equal(got, []int{1, 1, 1, 1}) {
		t.Fatalf("overwrite kept versions: %v", got)
	}
	if e.shardFiles() != files {
		t.Fatalf("overwrite left the old shards: %d files, want %d", e.shardFiles(), files)
	}
	e.mustReadVersion("b", "k", NullVersionID, v2)
	if res := e.del("b", "k", DeleteOptions{}); res != (DeleteResult{Freed: Freed{Bytes: int64(len(v2)), Versions: 1}}) {
		t.Fatalf("unversioned delete result %+v", res)
	}
	if _, err := e.store.GetObject(ctxb, "b", "k", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	var dm *DeleteMarkerError
	if _, err := e.store.HeadObject(ctxb, "b", "k", GetOptions{}); errors.As(err, &dm) {
		t.Fatal("an unversioned delete shows as a delete marker")
	}
	if _, err := e.store.GetObject(ctxb, "b", "k", GetOptions{VersionID: NullVersionID}); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("get null after delete: %v", err)
	}
	if e.shardFiles() != 0 {
		t.Fatalf("delete left %d shard files", e.shardFiles())
	}
	if vs, _ := listVersions(t, e.store, "b", "", "", 10); len(vs) != 0 {
		t.Fatalf("tombstone listed as a version: %v", vs)
	}
	res, err := e.store.ListObjects(ctxb, "b", ListOptions{})
	if err != nil || len(res.Objects) != 0 {
		t.Fatalf("list after delete: %+v %v", res, err)
	}
	// Deleting what does not exist writes nothing.
	e.del("b", "never", DeleteOptions{})
	if got := e.driveVersions("b", "never"); !slices.Equal(got, []int{0, 0, 0, 0}) {
		t.Fatalf("delete of a missing key wrote %v", got)
	}
}

func TestVersioned(t *testing.T) {
	e := newEnv(t, 2, 2)
	on := meta.VersioningEnabled
	d1, d2 := randBytes(1, 100), randBytes(2, 2<<20)
	i1 := e.putV("b", "k", d1, on)
	i2 := e.putV("b", "k", d2, on)
	if i1.VersionID == NullVersionID || i1.VersionID == i2.VersionID || !ValidVersionID(i1.VersionID) {
		t.Fatalf("version ids %q %q", i1.VersionID, i2.VersionID)
	}
	e.mustRead("b", "k", d2)
	if info := e.mustReadVersion("b", "k", i1.VersionID, d1); info.IsLatest || info.VersionID != i1.VersionID {
		t.Fatalf("old version info %+v", info)
	}
	if info := e.mustReadVersion("b", "k", i2.VersionID, d2); !info.IsLatest {
		t.Fatal("current version not latest")
	}
	if _, err := e.store.GetObject(ctxb, "b", "k", GetOptions{VersionID: NullVersionID}); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("null of a versioned key: %v", err)
	}
	if _, err := e.store.GetObject(ctxb, "b", "k", GetOptions{VersionID: newVersionID(1)}); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("unknown version: %v", err)
	}
	if _, err := e.store.GetObject(ctxb, "b", "k", GetOptions{VersionID: "garbage"}); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("malformed version: %v", err)
	}

	// A delete marker.
	res := e.del("b", "k", DeleteOptions{Versioning: on})
	if !res.DeleteMarker || !ValidVersionID(res.VersionID) || res.VersionID == NullVersionID {
		t.Fatalf("delete result %+v", res)
	}
	_, err := e.store.GetObject(ctxb, "b", "k", GetOptions{})
	var dm *DeleteMarkerError
	if !errors.As(err, &dm) || dm.ByVersion || !errors.Is(err, ErrObjectNotFound) || dm.Info.VersionID != res.VersionID || !dm.Info.DeleteMarker || !dm.Info.IsLatest {
		t.Fatalf("get of a deleted key: %v", err)
	}
	_, err = e.store.HeadObject(ctxb, "b", "k", GetOptions{VersionID: res.VersionID})
	if !errors.As(err, &dm) || !dm.ByVersion || errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("head of the marker by id: %v", err)
	}
	e.mustReadVersion("b", "k", i1.VersionID, d1)
	lr, err := e.store.ListObjects(ctxb, "b", ListOptions{})
	if err != nil || len(lr.Objects) != 0 {
		t.Fatalf("ListObjects shows a deleted key: %+v %v", lr, err)
	}
	vs, _ := listVersions(t, e.store, "b", "", "", 10)
	want := []string{"k@" + res.VersionID + "*#", "k@" + i2.VersionID, "k@" + i1.VersionID}
	if !slices.Equal(vs, want) {
		t.Fatalf("versions %v, want %v", vs, want)
	}

	// Removing the marker brings the previous version back.
	if r := e.del("b", "k", DeleteOptions{VersionID: res.VersionID, Versioning: on}); !r.DeleteMarker || r.VersionID != res.VersionID {
		t.Fatalf("delete of the marker: %+v", r)
	}
	e.mustRead("b", "k", d2)
	// Removing the current version makes the older one current.
	if r := e.del("b", "k", DeleteOptions{VersionID: i2.VersionID}); r.DeleteMarker || r.VersionID != i2.VersionID {
		t.Fatalf("delete of a version: %+v", r)
	}
	if info := e.mustReadVersion("b", "k", "", d1); info.VersionID != i1.VersionID || !info.IsLatest {
		t.Fatalf("after removing the current version: %+v", info)
	}
	// Deleting a version that does not exist succeeds.
	if r := e.del("b", "k", DeleteOptions{VersionID: i2.VersionID}); r.VersionID != i2.VersionID {
		t.Fatalf("delete of a gone version: %+v", r)
	}
	e.del("b", "k", DeleteOptions{VersionID: i1.VersionID})
	if got := e.driveVersions("b", "k"); !slices.Equal(got, []int{0, 0, 0, 0}) || e.shardFiles() != 0 {
		t.Fatalf("all versions deleted, drives hold %v and %d shard files", got, e.shardFiles())
	}
	// A versioned delete of a missing key still makes a marker (as S3).
	if r := e.del("b", "ghost", DeleteOptions{Versioning: on}); !r.DeleteMarker {
		t.Fatalf("delete of a missing key: %+v", r)
	}
	if vs, _ := listVersions(t, e.store, "b", "", "", 10); len(vs) != 1 || !strings.HasSuffix(vs[0], "*#") {
		t.Fatalf("versions %v", vs)
	}
}

// TestSuspended: versions written while enabled stay; writes and deletes
// while suspended replace the one null version.
func TestSuspended(t *testing.T) {
	e := newEnv(t, 2, 2)
	off, on, sus := meta.VersioningOff, meta.VersioningEnabled, meta.VersioningSuspended
	d0, d1, d2, d3 := randBytes(0, 10), randBytes(1, 200<<10), randBytes(2, 300), randBytes(3, 2<<20)
	e.putV("b", "k", d0, off) // null, from before versioning
	i1 := e.putV("b", "k", d1, on)
	e.mustReadVersion("b", "k", NullVersionID, d0)
	i2 := e.putV("b", "k", d2, sus)
	if i2.VersionID != NullVersionID {
		t.Fatalf("suspended put version %q", i2.VersionID)
	}
	e.mustReadVersion("b", "k", NullVersionID, d2) // replaced d0
	e.putV("b", "k", d3, sus)
	e.mustReadVersion("b", "k", NullVersionID, d3)
	e.mustReadVersion("b", "k", i1.VersionID, d1)
	if got := e.driveVersions("b", "k"); !slices.Equal(got, []int{2, 2, 2, 2}) {
		t.Fatalf("versions on drives %v, want 2 each", got)
	}
	vs, _ := listVersions(t, e.store, "b", "", "", 1)
	if want := []string{"k@null*", "k@" + i1.VersionID}; !slices.Equal(vs, want) {
		t.Fatalf("versions %v, want %v", vs, want)
	}
	res := e.del("b", "k", DeleteOptions{Versioning: sus})
	if res != (DeleteResult{VersionID: NullVersionID, DeleteMarker: true, Freed: Freed{Bytes: int64(len(d3)), Versions: 1}}) {
		t.Fatalf("suspended delete %+v", res)
	}
	var dm *DeleteMarkerError
	if _, err := e.store.GetObject(ctxb, "b", "k", GetOptions{VersionID: NullVersionID}); !errors.As(err, &dm) || !dm.ByVersion {
		t.Fatalf("null is a marker now: %v", err)
	}
	if got := e.driveVersions("b", "k"); !slices.Equal(got, []int{2, 2, 2, 2}) {
		t.Fatalf("versions on drives %v", got)
	}
	vs, _ = listVersions(t, e.store, "b", "", "", 1000)
	if want := []string{"k@null*#", "k@" + i1.VersionID}; !slices.Equal(vs, want) {
		t.Fatalf("versions %v, want %v", vs, want)
	}
	// Deleting the null marker by id makes the enabled-era version current.
	e.del("b", "k", DeleteOptions{VersionID: NullVersionID, Versioning: sus})
	e.mustRead("b", "k", d1)
}

// TestListObjectVersions pages through many keys and versions, with and
// without a delimiter, at several page sizes: every page size gives the
// same listing, in S3's order, markers included.
func TestListObjectVersions(t *testing.T) {
	e := newEnv(t, 2, 2)
	on, sus := meta.VersioningEnabled, meta.VersioningSuspended
	perKey := map[string][]string{} // newest first
	keys := []string{"a", "b/1", "b/2", "c", "d/e/f", "z"}
	for round := range 4 {
		for i, k := range keys {
			if (i+round)%3 == 2 {
				r := e.del("v", k, DeleteOptions{Versioning: on})
				perKey[k] = append([]string{r.VersionID + "#"}, perKey[k]...)
				continue
			}
			v := on
			if round == 3 && i%2 == 0 {
				v = sus // a null version on top
			}
			info := e.putV("v", k, []byte(k), v)
			perKey[k] = append([]string{info.VersionID}, perKey[k]...)
		}
	}
	var want []string
	for _, k := range keys {
		for j, id := range perKey[k] {
			s := k + "@" + strings.TrimSuffix(id, "#")
			if j == 0 {
				s += "*"
			}
			if strings.HasSuffix(id, "#") {
				s += "#"
			}
			want = append(want, s)
		}
	}
	for _, max := range []int{1, 2, 3, 7, 1000} {
		got, prefixes := listVersions(t, e.store, "v", "", "", max)
		if !slices.Equal(got, want) || len(prefixes) != 0 {
			t.Fatalf("max %d:\n got %v\nwant %v", max, got, want)
		}
	}
	// Delimiter: b/ and d/ fold into prefixes.
	var wantTop []string
	for _, s := range want {
		if !strings.HasPrefix(s, "b/") && !strings.HasPrefix(s, "d/") {
			wantTop = append(wantTop, s)
		}
	}
	for _, max := range []int{1, 4, 1000} {
		got, prefixes := listVersions(t, e.store, "v", "", "/", max)
		if !slices.Equal(got, wantTop) || !slices.Equal(prefixes, []string{"b/", "d/"}) {
			t.Fatalf("delimiter, max %d: %v %v", max, got, prefixes)
		}
	}
	got, _ := listVersions(t, e.store, "v", "b/", "", 2)
	if len(got) != len(perKey["b/1"])+len(perKey["b/2"]) {
		t.Fatalf("prefix b/: %v", got)
	}
	// Max 1 (the frontend's empty-bucket check) answers one entry.
	res, err := e.store.ListObjectVersions(ctxb, "v", ListVersionsOptions{Max: 1})
	if err != nil || len(res.Versions) != 1 || !res.Truncated {
		t.Fatalf("max 1: %+v %v", res, err)
	}
	res, err = e.store.ListObjectVersions(ctxb, "empty", ListVersionsOptions{Max: 1})
	if err != nil || len(res.Versions)+len(res.Prefixes) != 0 || res.Truncated {
		t.Fatalf("empty bucket: %+v %v", res, err)
	}
	// ListObjects shows the keys whose current version holds data.
	var live []string
	for _, k := range keys {
		if !strings.HasSuffix(perKey[k][0], "#") {
			live = append(live, k)
		}
	}
	objs, _ := listAll(t, e.store, "v", "", "", 2)
	if !slices.Equal(objs, live) {
		t.Fatalf("ListObjects %v, want %v", objs, live)
	}
}

// TestLegacyNullVersion: a record written before versioning existed (a
// random uuid version id, read by the drive as the null version) reads,
// lists as "null", and is replaced or deleted like any null version.
func TestLegacyNullVersion(t *testing.T) {
	e := newEnv(t, 2, 2)
	data := randBytes(5, 3<<20)
	e.putV("b", "old", data, meta.VersioningOff)
	// Rewrite every drive's record with a uuid id, as the old code wrote
	// (its shard file copied under a new name, the original deleted).
	legacyID, legacyDir := uuid.NewString(), newDataDir()
	for _, d := range e.pgDrives("b", "old") {
		kv, err := d.ReadVersions(ctxb, "b", "old", drive.Ref{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		fi := *kv.Target
		src := filepath.Join(d.path, "shards", fi.DataDir[:2], fi.DataDir)
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(d.path, "shards", legacyDir[:2], legacyDir)
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteVersion(ctxb, "b", "old", drive.RefOf(fi)); err != nil {
			t.Fatal(err)
		}
		fi.DataDir, fi.VersionID = legacyDir, legacyID
		if err := d.localDrive.CommitVersion(ctxb, fi); err != nil {
			t.Fatal(err)
		}
	}
	if info := e.mustReadVersion("b", "old", "", data); info.VersionID != NullVersionID {
		t.Fatalf("legacy version id %q", info.VersionID)
	}
	e.mustReadVersion("b", "old", NullVersionID, data)
	vs, _ := listVersions(t, e.store, "b", "", "", 10)
	if !slices.Equal(vs, []string{"old@null*"}) {
		t.Fatalf("versions %v", vs)
	}
	// Enabled writes keep it as the null version; a suspended write
	// replaces it.
	i := e.putV("b", "old", []byte("new"), meta.VersioningEnabled)
	e.mustReadVersion("b", "old", NullVersionID, data)
	vs, _ = listVersions(t, e.store, "b", "", "", 1)
	if !slices.Equal(vs, []string{"old@" + i.VersionID + "*", "old@null"}) {
		t.Fatalf("versions %v", vs)
	}
	e.del("b", "old", DeleteOptions{VersionID: NullVersionID})
	if _, err := e.store.GetObject(ctxb, "b", "old", GetOptions{VersionID: NullVersionID}); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("legacy version after delete: %v", err)
	}
}

func TestObjectTags(t *testing.T) {
	e := newEnv(t, 2, 2)
	on := meta.VersioningEnabled
	tags := map[string]string{"project": "x", "owner": "me"}
	i1, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("a")), 1, PutOptions{Tags: tags, Versioning: on})
	if err != nil || !maps.Equal(i1.Tags, tags) {
		t.Fatalf("put with tags: %+v %v", i1, err)
	}
	i2, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(randBytes(1, 2<<20)), 2<<20, PutOptions{Versioning: on})
	if err != nil || i2.Tags != nil {
		t.Fatalf("put without tags: %+v %v", i2, err)
	}
	newTags := map[string]string{"a": "1"}
	info, err := e.store.SetObjectTags(ctxb, "b", "k", "", newTags)
	if err != nil || info.VersionID != i2.VersionID || !maps.Equal(info.Tags, newTags) {
		t.Fatalf("tag current: %+v %v", info, err)
	}
	if h, _ := e.store.HeadObject(ctxb, "b", "k", GetOptions{}); !maps.Equal(h.Tags, newTags) || h.VersionID != i2.VersionID || h.ETag != i2.ETag {
		t.Fatalf("head after tagging: %+v", h)
	}
	if h, _ := e.store.HeadObject(ctxb, "b", "k", GetOptions{VersionID: i1.VersionID}); !maps.Equal(h.Tags, tags) {
		t.Fatalf("other version's tags changed: %+v", h.Tags)
	}
	if _, err := e.store.SetObjectTags(ctxb, "b", "k", i1.VersionID, map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.store.HeadObject(ctxb, "b", "k", GetOptions{VersionID: i1.VersionID}); h.Tags != nil {
		t.Fatalf("tags not deleted: %+v", h.Tags)
	}
	e.mustRead("b", "k", randBytes(1, 2<<20))
	if _, err := e.store.SetObjectTags(ctxb, "b", "nope", "", newTags); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("tags of a missing key: %v", err)
	}
	e.del("b", "k", DeleteOptions{Versioning: on})
	var dm *DeleteMarkerError
	if _, err := e.store.SetObjectTags(ctxb, "b", "k", "", newTags); !errors.As(err, &dm) {
		t.Fatalf("tags of a delete marker: %v", err)
	}
}

// TestUnknownSize: a body without a declared length is read to EOF, inline
// or streamed, and refused past the limit.
func TestUnknownSize(t *testing.T) {
	e := newEnv(t, 2, 2)
	for _, size := range []int64{0, 1, 128 << 10, 128<<10 + 1, 1 << 20, 2 << 20, 3<<20 + 17} {
		data := randBytes(uint64(size), size)
		key := fmt.Sprint(size)
		info, err := e.store.PutObject(ctxb, "b", key, iotest.HalfReader(bytes.NewReader(data)), -1, PutOptions{})
		if err != nil || info.Size != size {
			t.Fatalf("size %d: %+v %v", size, info, err)
		}
		e.mustRead("b", key, data)
	}
	e.store.maxBody = 3 << 20
	_, err := e.store.PutObject(ctxb, "b", "big", bytes.NewReader(randBytes(1, 3<<20+1)), -1, PutOptions{})
	if !errors.Is(err, ErrEntityTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := e.store.HeadObject(ctxb, "b", "big", GetOptions{}); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("refused body visible: %v", err)
	}
	if _, err := e.store.PutObject(ctxb, "b", "big", bytes.NewReader(nil), MaxPartSize+1, PutOptions{}); !errors.Is(err, ErrEntityTooLarge) {
		t.Fatalf("declared size over 5 GiB: %v", err)
	}
	if _, err := e.store.PutObject(ctxb, "b", "big", bytes.NewReader(nil), -2, PutOptions{}); !errors.Is(err, ErrInvalidSize) {
		t.Fatalf("size -2: %v", err)
	}
	for _, d := range e.drives {
		if n := countFiles(t, d.path+"/tmp"); n != 0 {
			t.Fatalf("temporary files left: %d", n)
		}
	}
}

// TestReadDuringOverwrite: with K > N/2 (4+2), an overwrite of a null
// version that has committed on half the drives leaves neither version
// with K shards; a GET then waits for the writer (the key's lock) instead
// of answering "not found" for a key that existed before and after.
func TestReadDuringOverwrite(t *testing.T) {
	e := newEnv(t, 4, 2)
	v1, v2 := randBytes(1, 1000), randBytes(2, 1500)
	e.put("b", "k", v1)
	gate := make(chan struct{})
	drives := e.pgDrives("b", "k")
	for _, d := range drives[3:] {
		d.commitGate.Store(&gate)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(v2), int64(len(v2)), PutOptions{})
		done <- err
	}()
	// Wait until the three ungated drives hold v2.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for _, d := range drives[:3] {
			kv, err := d.ReadVersions(ctxb, "b", "k", drive.Ref{}, 1)
			if err == nil && len(kv.Versions) > 0 && kv.Versions[0].Size == int64(len(v2)) {
				n++
			}
		}
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the overwrite did not reach the ungated drives")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := make(chan []byte, 1)
	go func() {
		var b []byte
		o, err := e.store.GetObject(ctxb, "b", "k", GetOptions{})
		if err == nil {
			b, err = e.read("b", "k", 0, o.Info.Size)
		}
		if err != nil {
			t.Errorf("GET during the overwrite: %v", err)
		}
		got <- b
	}()
	time.Sleep(50 * time.Millisecond)
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, v2) && !bytes.Equal(b, v1) {
		t.Fatalf("GET during the overwrite returned %d bytes, neither version", len(b))
	}
}
