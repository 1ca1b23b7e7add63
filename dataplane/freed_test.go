package dataplane

import (
	"bytes"
	"testing"

	"github.com/strata-io/strata/meta"
)

// TestFreed checks what writes and deletes report as freed, the figures
// usage accounting subtracts.
func TestFreed(t *testing.T) {
	e := newEnv(t, 2, 1)
	put := func(key string, n int64, v meta.Versioning) ObjectInfo {
		t.Helper()
		info, err := e.store.PutObject(ctxb, "b", key, bytes.NewReader(randBytes(uint64(n), n)), n, PutOptions{Versioning: v})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	del := func(key, version string, v meta.Versioning) DeleteResult {
		t.Helper()
		res, err := e.store.DeleteObject(ctxb, "b", key, DeleteOptions{VersionID: version, Versioning: v})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := func(what string, got, want Freed) {
		t.Helper()
		if got != want {
			t.Errorf("%s freed %+v, want %+v", what, got, want)
		}
	}
	off, on, susp := meta.VersioningOff, meta.VersioningEnabled, meta.VersioningSuspended

	want("first put", put("k", 300, off).Freed, Freed{})
	want("overwrite (inline)", put("k", 200<<10, off).Freed, Freed{Bytes: 300, Versions: 1})
	want("overwrite (streamed)", put("k", 10, off).Freed, Freed{Bytes: 200 << 10, Versions: 1})
	want("unversioned delete", del("k", "", off).Freed, Freed{Bytes: 10, Versions: 1})
	want("delete of a deleted key", del("k", "", off).Freed, Freed{})
	want("put over a tombstone", put("k", 7, off).Freed, Freed{})

	// Versioned: new versions free nothing, a marker frees nothing,
	// deleting a version by id frees it.
	v1 := put("k", 50, on)
	want("versioned put", v1.Freed, Freed{})
	want("delete marker", del("k", "", on).Freed, Freed{})
	want("delete version by id", del("k", v1.VersionID, on).Freed, Freed{Bytes: 50, Versions: 1})
	want("delete the null version by id", del("k", NullVersionID, on).Freed, Freed{Bytes: 7, Versions: 1})
	// Suspended: a null write replaces the null version, a null marker too.
	want("suspended put", put("s", 40, susp).Freed, Freed{})
	want("suspended overwrite", put("s", 41, susp).Freed, Freed{Bytes: 40, Versions: 1})
	want("suspended delete", del("s", "", susp).Freed, Freed{Bytes: 41, Versions: 1})

	// Multipart: a part uploaded again frees the first; completion frees
	// the parts left out and the null version it replaces; abort frees
	// the parts.
	put("m", 1000, off)
	u := e.create("b", "m", UploadOptions{})
	want("first part", e.part(u, 1, randBytes(1, MinPartSize+1)).Freed, Freed{})
	want("part again", e.part(u, 1, randBytes(2, MinPartSize)).Freed, Freed{Bytes: MinPartSize + 1})
	p2 := e.part(u, 2, randBytes(3, 100))
	e.part(u, 3, randBytes(4, 333))
	p1 := PartInfo{Number: 1, ETag: md5hex(randBytes(2, MinPartSize))}
	info, err := e.store.CompleteMultipartUpload(ctxb, "b", "m", u.UploadID, completeOf(p1, p2), CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want("complete", info.Freed, Freed{Bytes: 1000 + 333, Versions: 1})
	u2 := e.create("b", "m2", UploadOptions{})
	e.part(u2, 1, randBytes(5, 64))
	e.part(u2, 4, randBytes(6, 36))
	freed, err := e.store.AbortMultipartUpload(ctxb, "b", "m2", u2.UploadID)
	if err != nil {
		t.Fatal(err)
	}
	want("abort", freed, Freed{Bytes: 100})
}
