package s3api

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-io/strata/dataplane"
)

// batchObjects gives the fake Objects the data plane's batch path: each
// item deleted with DeleteObject, every batch recorded.
type batchObjects struct {
	Objects
	mu      sync.Mutex
	batches [][]dataplane.DeleteItem
}

func (b *batchObjects) DeleteObjects(ctx context.Context, bucket string, items []dataplane.DeleteItem) []dataplane.DeleteOutcome {
	b.mu.Lock()
	b.batches = append(b.batches, items)
	b.mu.Unlock()
	outs := make([]dataplane.DeleteOutcome, len(items))
	for i, it := range items {
		outs[i].Result, outs[i].Err = b.DeleteObject(ctx, bucket, it.Key, it.Options)
	}
	return outs
}

// TestSDKDeleteObjects runs DeleteObjects with one DeleteObject per key
// and through the batch path (batchDeleter): same answers; the batch gets
// only the keys that passed the checks and authorization.
func TestSDKDeleteObjects(t *testing.T) {
	t.Run("per key", func(t *testing.T) { testSDKDeleteObjects(t, startTestServer(t)) })
	t.Run("batch", func(t *testing.T) {
		var bo *batchObjects
		ts := startTestServerDeps(t, func(d *Deps) { bo = &batchObjects{Objects: d.Objects}; d.Objects = bo })
		testSDKDeleteObjects(t, ts)
		if len(bo.batches) != 3 {
			t.Fatalf("%d batches, want one per request that had a key to delete", len(bo.batches))
		}
		for _, batch := range bo.batches {
			for _, it := range batch {
				if len(it.Key) > maxKeyLength || it.Options.VersionID == "bad id" {
					t.Errorf("batch got a key that failed its checks: %.20q %q", it.Key, it.Options.VersionID)
				}
			}
		}
	})
}

func testSDKDeleteObjects(t *testing.T, ts *testServer) {
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "many")
	var ids []types.ObjectIdentifier
	for i := range 30 {
		k := fmt.Sprintf("k/%02d & <x>", i)
		putString(t, c, "many", k, k)
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	ids = append(ids, types.ObjectIdentifier{Key: aws.String("never-existed")}, types.ObjectIdentifier{Key: aws.String(strings.Repeat("x", 1025))})
	// The SDK sends a CRC32 of the body, not Content-MD5.
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("many"), Delete: &types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 31 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "KeyTooLongError" {
		t.Errorf("deleted %d, errors %+v", len(out.Deleted), out.Errors)
	}
	var keys []string
	for _, d := range out.Deleted {
		keys = append(keys, aws.ToString(d.Key))
	}
	if !slices.Contains(keys, "k/07 & <x>") || !slices.Contains(keys, "never-existed") {
		t.Errorf("deleted keys %q", keys)
	}
	if n := ts.objs.currentCount("many"); n != 0 {
		t.Errorf("%d keys left", n)
	}

	// Quiet: only errors; versioned: markers reported.
	setVersioning(t, c, "many", types.BucketVersioningStatusEnabled)
	v := aws.ToString(putString(t, c, "many", "a", "1").VersionId)
	putString(t, c, "many", "b", "2")
	out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("many"), Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("b")}}}})
	if err != nil || len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Errorf("quiet: %v %+v", err, out)
	}
	out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("many"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("a"), VersionId: aws.String(v)}, {Key: aws.String("a"), VersionId: aws.String("bad id")}}}})
	if err != nil || len(out.Deleted) != 2 || len(out.Errors) != 1 {
		t.Fatalf("versioned: %v %+v", err, out)
	}
	for _, d := range out.Deleted {
		switch aws.ToString(d.VersionId) {
		case "":
			if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) == "" {
				t.Errorf("marker entry %+v", d)
			}
		case v:
			if aws.ToBool(d.DeleteMarker) {
				t.Errorf("version entry %+v", d)
			}
		default:
			t.Errorf("entry %+v", d)
		}
	}
	if e := out.Errors[0]; aws.ToString(e.Code) != "InvalidArgument" || aws.ToString(e.VersionId) != "bad id" || aws.ToString(e.Key) != "a" {
		t.Errorf("error entry %+v", e)
	}
	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("nope"), Delete: &types.Delete{Objects: ids[:1]}})
	wantCode(t, "missing bucket", err, "NoSuchBucket")
}

func TestDeleteObjectsRaw(t *testing.T) {
	ts := startTestServer(t)
	do(t, ts, rawReq{method: "PUT", path: "/draw"})
	do(t, ts, rawReq{method: "PUT", path: "/draw/x", body: []byte("x")})
	doc := []byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>x</Key></Object><Object><Key>y</Key></Object></Delete>`)
	md5b64 := func(b []byte) string { s := md5.Sum(b); return base64.StdEncoding.EncodeToString(s[:]) }
	resp, body := do(t, ts, rawReq{method: "POST", path: "/draw?delete", body: doc})
	wantS3Error(t, "no integrity header", resp, body, 400, "InvalidRequest")
	resp, body = do(t, ts, rawReq{method: "POST", path: "/draw?delete", body: doc, header: map[string]string{"Content-MD5": md5b64([]byte("other"))}})
	wantS3Error(t, "wrong md5", resp, body, 400, "BadDigest")
	resp, body = do(t, ts, rawReq{method: "POST", path: "/draw?delete", body: doc, header: map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}})
	wantS3Error(t, "wrong crc32", resp, body, 400, "BadDigest")
	resp, body = do(t, ts, rawReq{method: "POST", path: "/draw?delete", body: doc, header: map[string]string{"Content-MD5": md5b64(doc)}})
	if resp.StatusCode != 200 || !strings.Contains(body, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>x</Key></Deleted><Deleted><Key>y</Key></Deleted></DeleteResult>`) {
		t.Errorf("delete: %d %s", resp.StatusCode, body)
	}
	var objs strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&objs, "<Object><Key>%d</Key></Object>", i)
	}
	for name, d := range map[string]string{
		"1001 keys":  "<Delete>" + objs.String() + "</Delete>",
		"no keys":    "<Delete></Delete>",
		"no key":     "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
		"not xml":    "<Delete><Object>",
		"wrong root": "<Remove><Object><Key>x</Key></Object></Remove>",
	} {
		resp, body := do(t, ts, rawReq{method: "POST", path: "/draw?delete", body: []byte(d), header: map[string]string{"Content-MD5": md5b64([]byte(d))}})
		wantS3Error(t, name, resp, body, 400, "MalformedXML")
	}
}

func TestMinioRemoveObjects(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	mc, err := minio.New(ts.Addr(), &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, "mrm", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	ch := make(chan minio.ObjectInfo, 5)
	for i := range 5 {
		k := fmt.Sprint("obj", i)
		if _, err := mc.PutObject(ctx, "mrm", k, strings.NewReader(k), int64(len(k)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	for e := range mc.RemoveObjects(ctx, "mrm", ch, minio.RemoveObjectsOptions{}) {
		t.Errorf("remove %s: %v", e.ObjectName, e.Err)
	}
	if n := ts.objs.currentCount("mrm"); n != 0 {
		t.Errorf("%d objects left", n)
	}
}
