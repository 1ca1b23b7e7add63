package dataplane

import (
	"bytes"
	"errors"
	"maps"
	"testing"

	"github.com/strata-io/strata/meta"
)

// TestObjectACL: a version's canned ACL is written with it (PUT and
// multipart), replaced in place by SetObjectACL without touching its tags
// or version, survives SetObjectTags, and never shows as a tag.
func TestObjectACL(t *testing.T) {
	e := newEnv(t, 2, 2)
	on := meta.VersioningEnabled
	tags := map[string]string{"project": "x"}
	i1, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader([]byte("a")), 1, PutOptions{Tags: tags, ACL: "public-read", Versioning: on})
	if err != nil || i1.ACL != "public-read" || !maps.Equal(i1.Tags, tags) {
		t.Fatalf("put with ACL: %+v %v", i1, err)
	}
	if h, _ := e.store.HeadObject(ctxb, "b", "k", GetOptions{}); h.ACL != "public-read" || !maps.Equal(h.Tags, tags) {
		t.Fatalf("head: acl %q tags %v", h.ACL, h.Tags)
	}
	i2, err := e.store.PutObject(ctxb, "b", "k", bytes.NewReader(randBytes(3, 2<<20)), 2<<20, PutOptions{Versioning: on})
	if err != nil || i2.ACL != "" || i2.Tags != nil {
		t.Fatalf("put without ACL: %+v %v", i2, err)
	}
	info, err := e.store.SetObjectACL(ctxb, "b", "k", i1.VersionID, "authenticated-read")
	if err != nil || info.VersionID != i1.VersionID || info.ACL != "authenticated-read" || !maps.Equal(info.Tags, tags) {
		t.Fatalf("set ACL of an old version: %+v %v", info, err)
	}
	if h, _ := e.store.HeadObject(ctxb, "b", "k", GetOptions{}); h.ACL != "" || h.VersionID != i2.VersionID {
		t.Fatalf("current version changed: %+v", h)
	}
	if _, err := e.store.SetObjectTags(ctxb, "b", "k", i1.VersionID, map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	h, _ := e.store.HeadObject(ctxb, "b", "k", GetOptions{VersionID: i1.VersionID})
	if h.ACL != "authenticated-read" || !maps.Equal(h.Tags, map[string]string{"a": "1"}) {
		t.Fatalf("after tagging: acl %q tags %v", h.ACL, h.Tags)
	}
	if info, err := e.store.SetObjectACL(ctxb, "b", "k", i1.VersionID, ""); err != nil || info.ACL != "" || len(info.Tags) != 1 {
		t.Fatalf("ACL removed: %+v %v", info, err)
	}
	e.mustRead("b", "k", randBytes(3, 2<<20))

	up, err := e.store.CreateMultipartUpload(ctxb, "b", "mp", UploadOptions{ACL: "public-read"})
	if err != nil || up.ACL != "public-read" || up.Tags != nil {
		t.Fatalf("upload: %+v %v", up, err)
	}
	p, err := e.store.UploadPart(ctxb, "b", "mp", up.UploadID, 1, bytes.NewReader([]byte("part")), 4, PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.store.CompleteMultipartUpload(ctxb, "b", "mp", up.UploadID, []CompletePart{{Number: 1, ETag: p.ETag}}, CompleteOptions{})
	if err != nil || done.ACL != "public-read" || done.Tags != nil {
		t.Fatalf("completed: %+v %v", done, err)
	}
	if _, err := e.store.SetObjectACL(ctxb, "b", "nope", "", "public-read"); !errors.Is(err, ErrObjectNotFound) {
		t.Fatalf("ACL of a missing key: %v", err)
	}
}

func TestACLEntry(t *testing.T) {
	if withACL(nil, "") != nil || withACL(map[string]string{}, "") != nil {
		t.Fatal("empty stays nil")
	}
	in := map[string]string{"a": "1"}
	out := withACL(in, "public-read")
	if len(in) != 1 || out[aclTag] != "public-read" || out["a"] != "1" {
		t.Fatalf("withACL: in %v out %v", in, out)
	}
	tags, acl := splitACL(out)
	if acl != "public-read" || !maps.Equal(tags, in) || out[aclTag] == "" {
		t.Fatalf("splitACL: %v %q (input %v)", tags, acl, out)
	}
	if tags, acl := splitACL(map[string]string{aclTag: "private"}); tags != nil || acl != "private" {
		t.Fatalf("ACL only: %v %q", tags, acl)
	}
	if got := withACL(map[string]string{aclTag: "x"}, ""); got != nil {
		t.Fatalf("removing the only entry: %v", got)
	}
}
