package dataplane

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"
)

// objects is s3api.Objects, declared again here because dataplane cannot
// import s3api: *Store must keep implementing exactly what the frontend
// calls.
type objects interface {
	PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	GetObject(ctx context.Context, bucket, key string, opts GetOptions) (*Object, error)
	HeadObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, error)
	DeleteObject(ctx context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error)
	SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (ObjectInfo, error)
	ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error)
	ListObjectVersions(ctx context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error)
	CreateMultipartUpload(ctx context.Context, bucket, key string, opts UploadOptions) (UploadInfo, error)
	UploadPart(ctx context.Context, bucket, key, uploadID string, number int, r io.Reader, size int64, opts PartOptions) (PartInfo, error)
	ListParts(ctx context.Context, bucket, key, uploadID string, opts ListPartsOptions) (ListPartsResult, error)
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) (Freed, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error)
	DropBucket(ctx context.Context, bucket string) error
}

var _ objects = (*Store)(nil)

func TestVersionIDs(t *testing.T) {
	now := time.Now().UnixNano()
	var ids []string
	for i := range 100 {
		id := newVersionID(now + int64(i%10)*1000)
		if len(id) != idLen || len(id) > 64 || !ValidVersionID(id) {
			t.Fatalf("bad id %q", id)
		}
		for _, c := range id {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'v') {
				t.Fatalf("id %q is not URL-safe base32hex", id)
			}
		}
		if mod, ok := versionTime(id); !ok || mod != now+int64(i%10)*1000 {
			t.Fatalf("id %q decodes to %d", id, mod)
		}
		ids = append(ids, id)
	}
	// Newer versions sort first.
	a, b := newVersionID(now+1), newVersionID(now)
	if !(a < b) {
		t.Fatalf("newer id %q does not sort before older %q", a, b)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 100 {
		t.Fatal("duplicate version ids")
	}
	// Upload ids sort by initiation.
	u1, u2 := newUploadID(now), newUploadID(now+1)
	if !(u1 < u2) || !ValidUploadID(u1) {
		t.Fatalf("upload ids %q %q", u1, u2)
	}
	if init, _ := uploadTime(u1); init != now {
		t.Fatal("upload time")
	}
	for _, bad := range []string{"", "x", "NULL", "0123456789abcdefghijklmnoP", "0123456789abcdefghijklmnopq", "wwwwwwwwwwwwwwwwwwwwwwwwww"} {
		if ValidVersionID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if !ValidVersionID(NullVersionID) {
		t.Error("null refused")
	}
}
