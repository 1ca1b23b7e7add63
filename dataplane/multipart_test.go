package dataplane

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

func (e *testEnv) create(bucket, key string, opts UploadOptions) UploadInfo {
	e.t.Helper()
	u, err := e.store.CreateMultipartUpload(ctxb, bucket, key, opts)
	if err != nil {
		e.t.Fatalf("create upload %s/%s: %v", bucket, key, err)
	}
	return u
}

func (e *testEnv) part(u UploadInfo, n int, data []byte) PartInfo {
	e.t.Helper()
	p, err := e.store.UploadPart(ctxb, u.Bucket, u.Key, u.UploadID, n, bytes.NewReader(data), int64(len(data)), PartOptions{})
	if err != nil {
		e.t.Fatalf("upload part %d: %v", n, err)
	}
	return p
}

func completeOf(parts ...PartInfo) []CompletePart {
	var out []CompletePart
	for _, p := range parts {
		out = append(out, CompletePart{Number: p.Number, ETag: `"` + p.ETag + `"`})
	}
	return out
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestMultipart(t *testing.T) {
	e := newEnv(t, 2, 2)
	u := e.create("b", "obj", UploadOptions{Meta: map[string]string{"content-type": "a/b"}, Tags: map[string]string{"t": "1"}})
	if u.ChecksumAlgorithm != ChecksumCRC64NVME || u.ChecksumType != ChecksumFullObject || !ValidUploadID(u.UploadID) {
		t.Fatalf("upload %+v", u)
	}
	p1d, p2d, p3d := randBytes(1, MinPartSize), randBytes(2, MinPartSize+3), randBytes(3, 1<<20+7)
	p3 := e.part(u, 3, p3d) // any order
	e.part(u, 2, randBytes(99, MinPartSize))
	files := e.shardFiles()
	p2 := e.part(u, 2, p2d) // replaces the first part 2
	if e.shardFiles() != files {
		t.Fatalf("re-uploaded part left the old shards: %d files, want %d", e.shardFiles(), files)
	}
	p1 := e.part(u, 1, p1d)
	if p1.ETag != md5hex(p1d) || p1.Size != MinPartSize || p1.Checksum.Algorithm != ChecksumCRC64NVME || p1.Checksum.Value != sumOf(newChecksumHash(ChecksumCRC64NVME), p1d) {
		t.Fatalf("part info %+v", p1)
	}
	// ListParts pages.
	var listed []int
	marker := 0
	for {
		res, err := e.store.ListParts(ctxb, "b", "obj", u.UploadID, ListPartsOptions{Marker: marker, Max: 2})
		if err != nil {
			t.Fatal(err)
		}
		if res.Upload.UploadID != u.UploadID || res.Upload.Meta["content-type"] != "a/b" {
			t.Fatalf("upload of ListParts: %+v", res.Upload)
		}
		for _, p := range res.Parts {
			listed = append(listed, p.Number)
		}
		if !res.Truncated {
			break
		}
		marker = res.NextMarker
	}
	if !slices.Equal(listed, []int{1, 2, 3}) {
		t.Fatalf("listed parts %v", listed)
	}
	ups, err := e.store.ListMultipartUploads(ctxb, "b", ListUploadsOptions{})
	if err != nil || len(ups.Uploads) != 1 || ups.Uploads[0].UploadID != u.UploadID {
		t.Fatalf("uploads %+v %v", ups, err)
	}

	files = e.shardFiles()
	info, err := e.store.CompleteMultipartUpload(ctxb, "b", "obj", u.UploadID, completeOf(p1, p2, p3), CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e.shardFiles() != files {
		t.Fatalf("complete copied or lost shards: %d files, want %d", e.shardFiles(), files)
	}
	whole := slices.Concat(p1d, p2d, p3d)
	raw := slices.Concat(mustHex(p1.ETag), mustHex(p2.ETag), mustHex(p3.ETag))
	if info.ETag != md5hex(raw)+"-3" || info.Size != int64(len(whole)) || len(info.Parts) != 3 || info.Parts[1].Size != MinPartSize+3 {
		t.Fatalf("completed %+v", info)
	}
	if info.Checksum != (Checksum{Algorithm: ChecksumCRC64NVME, Value: sumOf(newChecksumHash(ChecksumCRC64NVME), whole), Type: ChecksumFullObject}) {
		t.Fatalf("checksum %+v", info.Checksum)
	}
	e.mustRead("b", "obj", whole)
	head, err := e.store.HeadObject(ctxb, "b", "obj", GetOptions{})
	if err != nil || head.ETag != info.ETag || !reflect.DeepEqual(head.Parts, info.Parts) || head.Meta["content-type"] != "a/b" || head.Tags["t"] != "1" {
		t.Fatalf("head %+v %v", head, err)
	}
	// Ranges across part boundaries.
	for _, rg := range [][2]int64{{MinPartSize - 10, 20}, {MinPartSize - 1, MinPartSize + 5}, {0, int64(len(whole))}, {2*MinPartSize + 2, 3}, {int64(len(whole)) - 1, 1}, {5, 2*MinPartSize + 100}} {
		got, err := e.read("b", "obj", rg[0], rg[1])
		if err != nil || !bytes.Equal(got, whole[rg[0]:rg[0]+rg[1]]) {
			t.Fatalf("range %v: %d bytes, %v", rg, len(got), err)
		}
	}
	if ups, _ := e.store.ListMultipartUploads(ctxb, "b", ListUploadsOptions{}); len(ups.Uploads) != 0 {
		t.Fatalf("completed upload still listed: %+v", ups)
	}
	if _, err := e.store.ListParts(ctxb, "b", "obj", u.UploadID, ListPartsOptions{}); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("parts of a completed upload: %v", err)
	}
	// Completing again returns the same object while it is current...
	again, err := e.store.CompleteMultipartUpload(ctxb, "b", "obj", u.UploadID, completeOf(p1, p2, p3), CompleteOptions{})
	if err != nil || again.ETag != info.ETag || again.VersionID != info.VersionID || len(again.Parts) != 3 {
		t.Fatalf("second complete: %+v %v", again, err)
	}
	// ...and not after an overwrite.
	e.put("b", "obj", []byte("x"))
	if _, err := e.store.CompleteMultipartUpload(ctxb, "b", "obj", u.UploadID, completeOf(p1, p2, p3), CompleteOptions{}); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("complete after overwrite: %v", err)
	}
	if e.shardFiles() != 0 {
		t.Fatalf("overwritten multipart object left %d shard files", e.shardFiles())
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestMultipartValidation(t *testing.T) {
	e := newEnv(t, 2, 2)
	u := e.create("b", "k", UploadOptions{})
	small := e.part(u, 1, randBytes(1, 1<<20))
	p2 := e.part(u, 2, randBytes(2, MinPartSize))
	p3 := e.part(u, 3, randBytes(3, 100))
	p4 := e.part(u, 4, randBytes(4, MinPartSize))
	complete := func(parts []CompletePart) error {
		_, err := e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, parts, CompleteOptions{})
		return err
	}
	cases := []struct {
		name  string
		parts []CompletePart
		want  error
	}{
		{"empty", nil, ErrInvalidPart},
		{"order", completeOf(p2, small), ErrInvalidPartOrder},
		{"duplicate", completeOf(p2, p2), ErrInvalidPartOrder},
		{"missing part", append(completeOf(p2), CompletePart{Number: 9, ETag: p2.ETag}), ErrInvalidPart},
		{"wrong etag", []CompletePart{{Number: 2, ETag: strings.Repeat("0", 32)}}, ErrInvalidPart},
		{"wrong checksum", []CompletePart{{Number: 2, ETag: p2.ETag, Checksum: "AAAAAAAAAAA="}}, ErrInvalidPart},
		{"too small", completeOf(small, p2), ErrEntityTooSmall},
		{"number 0", []CompletePart{{Number: 0, ETag: p2.ETag}}, ErrInvalidPart},
	}
	for _, c := range cases {
		if err := complete(c.parts); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for _, n := range []int{0, MaxParts + 1} {
		if _, err := e.store.UploadPart(ctxb, "b", "k", u.UploadID, n, bytes.NewReader(nil), 0, PartOptions{}); !errors.Is(err, ErrTooManyParts) {
			t.Errorf("part %d: %v", n, err)
		}
	}
	for _, id := range []string{"nope", newUploadID(1)} {
		if _, err := e.store.UploadPart(ctxb, "b", "k", id, 1, bytes.NewReader(nil), 0, PartOptions{}); !errors.Is(err, ErrNoSuchUpload) {
			t.Errorf("part of upload %q: %v", id, err)
		}
	}
	if _, err := e.store.UploadPart(ctxb, "b", "other-key", u.UploadID, 1, bytes.NewReader(nil), 0, PartOptions{}); !errors.Is(err, ErrNoSuchUpload) {
		t.Errorf("part of the upload under another key: %v", err)
	}
	bad := md5.Sum([]byte("x"))
	if _, err := e.store.UploadPart(ctxb, "b", "k", u.UploadID, 5, bytes.NewReader([]byte("y")), 1, PartOptions{ContentMD5: bad[:]}); !errors.Is(err, ErrBadDigest) {
		t.Errorf("bad part digest: %v", err)
	}
	// u was created without an algorithm: a part's checksum of another
	// one is the client's own (verified by the frontend), not an error.
	if !u.ChecksumDefaulted {
		t.Fatalf("upload without algorithm: %+v", u)
	}
	if _, err := e.store.UploadPart(ctxb, "b", "k", u.UploadID, 5, bytes.NewReader([]byte("y")), 1, PartOptions{ChecksumAlgorithm: ChecksumSHA256, ChecksumValue: "ignored"}); err != nil {
		t.Errorf("part of another algorithm, defaulted upload: %v", err)
	}
	strict, err := e.store.CreateMultipartUpload(ctxb, "b", "k", UploadOptions{ChecksumAlgorithm: ChecksumCRC32C})
	if err != nil || strict.ChecksumDefaulted {
		t.Fatalf("upload with CRC32C: %+v %v", strict, err)
	}
	if _, err := e.store.UploadPart(ctxb, "b", "k", strict.UploadID, 1, bytes.NewReader([]byte("y")), 1, PartOptions{ChecksumAlgorithm: ChecksumSHA256}); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("part of another algorithm: %v", err)
	}
	// Parts not listed are freed; a part of unknown size works.
	p5, err := e.store.UploadPart(ctxb, "b", "k", u.UploadID, 5, strings.NewReader("tail"), -1, PartOptions{})
	if err != nil || p5.Size != 4 {
		t.Fatalf("unknown-size part: %+v %v", p5, err)
	}
	info, err := e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, completeOf(p2, p4, p5), CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * 4; e.shardFiles() != want {
		t.Fatalf("%d shard files after completing 3 of 5 parts, want %d", e.shardFiles(), want)
	}
	e.mustRead("b", "k", slices.Concat(randBytes(2, MinPartSize), randBytes(4, MinPartSize), []byte("tail")))
	_ = p3
	_ = info
	// Abort.
	u2 := e.create("b", "k2", UploadOptions{})
	e.part(u2, 1, randBytes(5, 1000))
	if freed, err := e.store.AbortMultipartUpload(ctxb, "b", "k2", u2.UploadID); err != nil || freed.Bytes != 1000 {
		t.Fatalf("abort freed %+v: %v", freed, err)
	}
	if e.shardFiles() != 12 {
		t.Fatalf("abort left shards: %d files", e.shardFiles())
	}
	if _, err := e.store.AbortMultipartUpload(ctxb, "b", "k2", u2.UploadID); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("second abort: %v", err)
	}
	if _, err := e.store.CompleteMultipartUpload(ctxb, "b", "k2", u2.UploadID, []CompletePart{{Number: 1, ETag: "x"}}, CompleteOptions{}); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("complete of an aborted upload: %v", err)
	}
}

// TestMultipartChecksums: each algorithm and type as S3 defines them, the
// whole-object value checked against a direct computation.
func TestMultipartChecksums(t *testing.T) {
	e := newEnv(t, 2, 2)
	d1, d2 := randBytes(7, MinPartSize), randBytes(8, 12345)
	whole := slices.Concat(d1, d2)
	for _, c := range []struct{ algo, typ string }{
		{ChecksumCRC32, ""}, {ChecksumCRC32, ChecksumFullObject}, {ChecksumCRC32C, ChecksumFullObject},
		{ChecksumCRC32C, ChecksumComposite}, {ChecksumSHA1, ""}, {ChecksumSHA256, ChecksumComposite}, {ChecksumCRC64NVME, ""},
	} {
		key := c.algo + "-" + c.typ
		u := e.create("c", key, UploadOptions{ChecksumAlgorithm: c.algo, ChecksumType: c.typ})
		sum1 := sumOf(newChecksumHash(c.algo), d1)
		p1, err := e.store.UploadPart(ctxb, "c", key, u.UploadID, 1, bytes.NewReader(d1), int64(len(d1)), PartOptions{ChecksumAlgorithm: c.algo, ChecksumValue: sum1})
		if err != nil || p1.Checksum.Value != sum1 {
			t.Fatalf("%s: part 1 %+v %v", key, p1, err)
		}
		if _, err := e.store.UploadPart(ctxb, "c", key, u.UploadID, 2, bytes.NewReader(d2), int64(len(d2)), PartOptions{ChecksumValue: sum1}); !errors.Is(err, ErrBadChecksum) {
			t.Fatalf("%s: wrong part checksum: %v", key, err)
		}
		p2 := e.part(u, 2, d2)
		var want string
		if u.ChecksumType == ChecksumFullObject {
			want = sumOf(newChecksumHash(c.algo), whole)
		} else {
			r1, _ := base64.StdEncoding.DecodeString(p1.Checksum.Value)
			r2, _ := base64.StdEncoding.DecodeString(p2.Checksum.Value)
			want = sumOf(newChecksumHash(c.algo), slices.Concat(r1, r2)) + "-2"
		}
		parts := []CompletePart{{Number: 1, ETag: p1.ETag, Checksum: p1.Checksum.Value}, {Number: 2, ETag: p2.ETag, Checksum: p2.Checksum.Value}}
		if _, err := e.store.CompleteMultipartUpload(ctxb, "c", key, u.UploadID, parts, CompleteOptions{ChecksumValue: sumOf(newChecksumHash(c.algo), []byte("no"))}); !errors.Is(err, ErrBadChecksum) {
			t.Fatalf("%s: wrong object checksum: %v", key, err)
		}
		other := ChecksumComposite
		if u.ChecksumType == ChecksumComposite {
			other = ChecksumFullObject
		}
		if _, err := e.store.CompleteMultipartUpload(ctxb, "c", key, u.UploadID, parts, CompleteOptions{ChecksumType: other}); !errors.Is(err, ErrInvalidChecksum) {
			t.Fatalf("%s: other checksum type on complete: %v", key, err)
		}
		info, err := e.store.CompleteMultipartUpload(ctxb, "c", key, u.UploadID, parts, CompleteOptions{ChecksumValue: strings.TrimSuffix(want, "-2")})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if info.Checksum != (Checksum{Algorithm: c.algo, Value: want, Type: u.ChecksumType}) {
			t.Fatalf("%s: checksum %+v, want %s", key, info.Checksum, want)
		}
		if info.Parts[0].Checksum.Value != p1.Checksum.Value {
			t.Fatalf("%s: part checksums %+v", key, info.Parts)
		}
	}
	for _, bad := range []UploadOptions{{ChecksumAlgorithm: ChecksumSHA256, ChecksumType: ChecksumFullObject}, {ChecksumAlgorithm: ChecksumCRC64NVME, ChecksumType: ChecksumComposite}, {ChecksumType: ChecksumComposite}} {
		if _, err := e.store.CreateMultipartUpload(ctxb, "c", "x", bad); !errors.Is(err, ErrInvalidChecksum) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestMultipartConditionalAndVersioned: Complete obeys versioning and
// If-Match / If-None-Match like PutObject.
func TestMultipartConditionalAndVersioned(t *testing.T) {
	e := newEnv(t, 2, 2)
	on := meta.VersioningEnabled
	old := e.putV("b", "k", []byte("old"), on)
	u := e.create("b", "k", UploadOptions{})
	p := e.part(u, 1, []byte("new"))
	_, err := e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, completeOf(p), CompleteOptions{Versioning: on, IfNoneMatch: "*"})
	if !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-None-Match on an existing key: %v", err)
	}
	_, err = e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, completeOf(p), CompleteOptions{Versioning: on, IfMatch: "0123"})
	if !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("If-Match with another ETag: %v", err)
	}
	info, err := e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, completeOf(p), CompleteOptions{Versioning: on, IfMatch: `"` + old.ETag + `"`})
	if err != nil || info.VersionID == NullVersionID || !info.IsLatest {
		t.Fatalf("If-Match: %+v %v", info, err)
	}
	e.mustReadVersion("b", "k", old.VersionID, []byte("old"))
	e.mustRead("b", "k", []byte("new"))
	vs, _ := listVersions(t, e.store, "b", "", "", 10)
	if len(vs) != 2 {
		t.Fatalf("versions %v", vs)
	}
	// A version of a multipart object can be deleted, freeing its parts.
	e.del("b", "k", DeleteOptions{VersionID: info.VersionID})
	e.mustRead("b", "k", []byte("old"))
	if e.shardFiles() != 0 {
		t.Fatalf("%d shard files left", e.shardFiles())
	}
}

// TestMultipartDegraded: a part uploaded while a drive was down is missing
// from that drive; the completed object records it and still reads with
// another drive down.
func TestMultipartDegraded(t *testing.T) {
	e := newEnv(t, 2, 2)
	pd := e.pgDrives("b", "k")
	u := e.create("b", "k", UploadOptions{})
	pd[0].down.Store(true)
	d1 := randBytes(1, MinPartSize)
	p1 := e.part(u, 1, d1)
	pd[0].down.Store(false)
	d2 := randBytes(2, 2<<20+1)
	p2 := e.part(u, 2, d2)
	if _, err := e.store.CompleteMultipartUpload(ctxb, "b", "k", u.UploadID, completeOf(p1, p2), CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	kv, err := pd[0].ReadVersions(ctxb, "b", "k", drive.Ref{}, 1)
	if err != nil || !slices.Equal(kv.Target.Missing, []int{1}) {
		t.Fatalf("drive 0's record: %+v %v", kv.Target, err)
	}
	whole := slices.Concat(d1, d2)
	e.mustRead("b", "k", whole)
	pd[1].down.Store(true) // part 1 now has exactly K shards
	e.mustRead("b", "k", whole)
	pd[2].down.Store(true) // part 1 is below K: a quorum error, never wrong bytes
	_, err = e.read("b", "k", 0, -1)
	var qe *QuorumError
	if !errors.As(err, &qe) {
		t.Fatalf("read with part 1 below K: %v", err)
	}
	// With drives down the upload survives a write quorum of them.
	pd[1].down.Store(false)
	pd[2].down.Store(false)
	pd[3].down.Store(true)
	u2 := e.create("b", "k2", UploadOptions{})
	e.part(u2, 1, []byte("x"))
	pd[2].down.Store(true)
	if _, err := e.store.UploadPart(ctxb, "b", "k2", u2.UploadID, 2, bytes.NewReader([]byte("y")), 1, PartOptions{}); !errors.As(err, &qe) {
		t.Fatalf("part with 2 of 4 drives: %v", err)
	}
}

func TestListMultipartUploads(t *testing.T) {
	e := newEnv(t, 2, 2)
	var want []string
	for _, k := range []string{"a", "dir/x", "dir/y", "m", "m", "z"} {
		u := e.create("u", k, UploadOptions{})
		want = append(want, k+"@"+u.UploadID)
	}
	listUploads := func(prefix, delim string, max int) (got, prefixes []string) {
		opts := ListUploadsOptions{Prefix: prefix, Delimiter: delim, Max: max}
		for range 100 {
			res, err := e.store.ListMultipartUploads(ctxb, "u", opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range res.Uploads {
				got = append(got, u.Key+"@"+u.UploadID)
			}
			prefixes = append(prefixes, res.Prefixes...)
			if !res.Truncated {
				return got, prefixes
			}
			opts.KeyMarker, opts.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		}
		t.Fatal("no end")
		return nil, nil
	}
	for _, max := range []int{1, 2, 1000} {
		got, _ := listUploads("", "", max)
		if !slices.Equal(got, want) {
			t.Fatalf("max %d: %v, want %v", max, got, want)
		}
	}
	got, prefixes := listUploads("", "/", 1)
	if len(got) != 4 || !slices.Equal(prefixes, []string{"dir/"}) {
		t.Fatalf("delimiter: %v %v", got, prefixes)
	}
	got, _ = listUploads("m", "", 1)
	if len(got) != 2 || !strings.HasPrefix(got[0], "m@") || got[0] > got[1] {
		t.Fatalf("prefix m (by initiation): %v", got)
	}
}

// TestDropBucketEverything: versions, delete markers, uploads and parts go.
func TestDropBucketEverything(t *testing.T) {
	e := newEnv(t, 2, 2)
	on := meta.VersioningEnabled
	for i := range 5 {
		e.putV("d", fmt.Sprint(i%2), randBytes(uint64(i), int64(i)*400000), on)
	}
	e.del("d", "0", DeleteOptions{Versioning: on})
	u := e.create("d", "up", UploadOptions{})
	e.part(u, 1, randBytes(9, 3<<20))
	e.put("keep", "k", []byte("x"))
	if err := e.store.DropBucket(ctxb, "d"); err != nil {
		t.Fatal(err)
	}
	if vs, _ := listVersions(t, e.store, "d", "", "", 10); len(vs) != 0 {
		t.Fatalf("versions after drop: %v", vs)
	}
	if ups, err := e.store.ListMultipartUploads(ctxb, "d", ListUploadsOptions{}); err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads after drop: %+v %v", ups, err)
	}
	if e.shardFiles() != 0 {
		t.Fatalf("%d shard files after drop", e.shardFiles())
	}
	e.mustRead("keep", "k", []byte("x"))
}

// TestLargePartRecordOnWire: a 10,000-part record crosses rpc as one frame
// of sane size, and the drive stores it compactly.
func TestLargePartRecordOnWire(t *testing.T) {
	fi := drive.FileInfo{Bucket: "b", Key: "k", VersionID: newVersionID(1), ModTime: 1, K: 4, M: 2, BlockSize: 1 << 20, UploadID: newUploadID(1)}
	for i := range MaxParts {
		fi.Parts = append(fi.Parts, drive.Part{Number: i + 1, Size: 512 << 20, ETag: md5hex([]byte(fmt.Sprint(i))), Checksum: "AAAAAAAAAAA=", DataDir: newDataDir()})
	}
	fi.PartCount = len(fi.Parts)
	b, err := encodeFrame(wireFI{FI: fi}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a 10,000-part record is %d bytes on the wire", len(b))
	if len(b) > 4<<20 {
		t.Fatalf("frame of %d bytes", len(b))
	}
	var back wireFI
	if _, err := decodeFrame(b, &back); err != nil || len(back.FI.Parts) != MaxParts || back.FI.Parts[9999] != fi.Parts[9999] {
		t.Fatalf("round trip: %v", err)
	}
	// Stored and read back through a drive.
	e := newEnv(t, 2, 2)
	d := e.drives[0]
	u := drive.Upload{Bucket: "b", Key: "k", UploadID: fi.UploadID, K: 4, M: 2, BlockSize: 1 << 20}
	if err := d.CreateUpload(ctxb, u); err != nil {
		t.Fatal(err)
	}
	if err := d.localDrive.CommitVersion(ctxb, fi); err != nil {
		t.Fatal(err)
	}
	kv, err := d.ReadVersions(ctxb, "b", "k", drive.Ref{}, 1)
	if err != nil || len(kv.Target.Missing) != MaxParts || len(kv.Target.Parts) != MaxParts || kv.Versions[0].Parts != nil {
		t.Fatalf("stored record: %v", err)
	}
}
