package testcluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/internal/testcluster"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/node"
)

// quotaCluster starts nodes that flush their usage every flush and never
// recount on their own (the tests recount when they mean to).
func quotaCluster(t *testing.T, nodes int, ec string, flush time.Duration) *testcluster.Cluster {
	return testcluster.Start(t, testcluster.Options{Nodes: nodes, EC: ec, Configure: func(c *node.Config) {
		c.QuotaFlushInterval = flush
		c.QuotaRecountInterval = -1
	}})
}

func rootAdmin(cl *testcluster.Cluster, i int) *adminapi.Client {
	return &adminapi.Client{Endpoint: cl.Endpoint(i), AccessKey: testcluster.RootAccessKey, SecretKey: testcluster.RootSecretKey, HTTP: cl.HTTPClient()}
}

// quotaRefused checks err is the S3 error QuotaExceeded, 403, with a
// message naming the quota.
func quotaRefused(t *testing.T, err error, what, message string) {
	t.Helper()
	var re *awshttp.ResponseError
	if apiCode(err) != "QuotaExceeded" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden || !strings.Contains(err.Error(), message) {
		t.Fatalf("%s: %v, want QuotaExceeded (403) saying %q", what, err, message)
	}
}

// waitUsage waits until node i's admin API reports bucket's usage as
// bytes and objects (the other nodes' changes arrive with their flushes).
func waitUsage(t *testing.T, c *adminapi.Client, bucket string, bytes, objects int64) adminapi.Bucket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := c.GetBucket(context.Background(), bucket)
		if err == nil && b.UsageBytes == bytes && b.Objects == objects {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("bucket %s: usage %d bytes, %d objects (%v); want %d, %d", bucket, b.UsageBytes, b.Objects, err, bytes, objects)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQuotas drives quotas with real clients (aws-sdk-go-v2, plain HTTP
// for a chunked presigned PUT) through the admin API's commands: a bucket
// quota refuses a PUT, a part, a copy and a body of unknown length that
// would pass it, storing nothing; a delete frees room; usage is the same
// on every node after a flush; a user quota spans the user's buckets and
// its service account's writes; clearing a quota lifts it; a recount
// corrects drift.
func TestQuotas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	const kib = 1 << 10
	cl := quotaCluster(t, 3, "2+1", 200*time.Millisecond)
	ctx := context.Background()
	root0, root1 := rootAdmin(cl, 0), rootAdmin(cl, 1)
	alice, err := root0.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := root0.AttachPolicy(ctx, "readwrite", adminapi.AttachRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"q-one", "q-two"} {
		if _, err := root0.CreateBucket(ctx, adminapi.CreateBucketRequest{Name: name, Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := root0.SetBucketQuota(ctx, "q-one", 1<<20); err != nil || b.QuotaBytes != 1<<20 || b.Owner != "alice" {
		t.Fatalf("set bucket quota: %+v %v", b, err)
	}
	a0 := cl.S3ClientAs(0, "alice", alice.SecretKey)
	a1 := cl.S3ClientAs(1, "alice", alice.SecretKey)
	putObj := func(c *s3.Client, bucket, key string, n int) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(payload(n, int64(n)))})
		return err
	}
	absent := func(bucket, key string) {
		t.Helper()
		if _, err := a0.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); apiCode(err) != "NotFound" {
			t.Fatalf("%s/%s after a refused write: %v", bucket, key, err)
		}
	}

	// PUT under the quota, then one that would pass it.
	if err := putObj(a0, "q-one", "a", 600*kib); err != nil {
		t.Fatal(err)
	}
	quotaRefused(t, putObj(a0, "q-one", "b", 500*kib), "PUT over the quota", "Bucket quota exceeded")
	absent("q-one", "b")

	// A part that would pass it.
	mp, err := a0.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("q-one"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a0.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("q-one"), Key: aws.String("mp"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(payload(5<<20, 1))})
	quotaRefused(t, err, "UploadPart over the quota", "Bucket quota exceeded")
	parts, err := a0.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("q-one"), Key: aws.String("mp"), UploadId: mp.UploadId})
	if err != nil || len(parts.Parts) != 0 {
		t.Fatalf("parts after a refused part: %+v %v", parts, err)
	}
	if _, err := a0.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("q-one"), Key: aws.String("mp"), UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}

	// A copy that would pass it.
	_, err = a0.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("q-one"), Key: aws.String("a-copy"), CopySource: aws.String("q-one/a")})
	quotaRefused(t, err, "CopyObject over the quota", "Bucket quota exceeded")
	absent("q-one", "a-copy")

	// A body of unknown length (chunked, presigned) is refused while it
	// streams; a smaller one is stored.
	chunked := func(key string, n int) (int, string) {
		t.Helper()
		signer := &adminapi.Client{Endpoint: cl.Endpoint(0), AccessKey: "alice", SecretKey: alice.SecretKey}
		u, err := signer.Presign(ctx, http.MethodPut, "q-one", key, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPut, u, io.MultiReader(bytes.NewReader(payload(n, 9))))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cl.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if len(resp.TransferEncoding) > 0 || req.ContentLength != 0 {
			t.Fatalf("the test's request had a length")
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := chunked("stream-big", 500*kib); st != 403 || !strings.Contains(body, "<Code>QuotaExceeded</Code>") {
		t.Fatalf("chunked PUT over the quota: %d %s", st, body)
	}
	absent("q-one", "stream-big")
	if st, body := chunked("stream", 100*kib); st != 200 {
		t.Fatalf("chunked PUT under the quota: %d %s", st, body)
	}

	// A delete frees room at once on the node that served it.
	if _, err := a0.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("q-one"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if err := putObj(a0, "q-one", "c", 900*kib); err != nil {
		t.Fatalf("PUT after the delete: %v", err)
	}
	// Every node sees the same usage after a flush, and refuses what
	// would pass the quota.
	b := waitUsage(t, root1, "q-one", 1000*kib, 2)
	quotaRefused(t, putObj(a1, "q-one", "d", 100*kib), "PUT over the quota through another node", "Bucket quota exceeded")
	list, err := root1.ListBuckets(ctx)
	if err != nil || len(list) != 2 || list[0] != b || list[1].Name != "q-two" || list[1].UsageBytes != 0 {
		t.Fatalf("bucket list %+v %v", list, err)
	}

	// A user quota spans the user's buckets.
	if _, err := root0.ClearBucketQuota(ctx, "q-one"); err != nil {
		t.Fatal(err)
	}
	if u, err := root0.SetUserQuota(ctx, "alice", 2<<20); err != nil || u.QuotaBytes != 2<<20 || u.Buckets != 2 {
		t.Fatalf("set user quota: %+v %v", u, err)
	}
	if err := putObj(a0, "q-two", "e", 1000*kib); err != nil {
		t.Fatal(err)
	}
	quotaRefused(t, putObj(a0, "q-two", "f", 100*kib), "PUT over the user quota", "User quota exceeded")
	absent("q-two", "f")
	// A service account's writes count toward its user.
	aliceAdmin := &adminapi.Client{Endpoint: cl.Endpoint(0), AccessKey: "alice", SecretKey: alice.SecretKey, HTTP: cl.HTTPClient()}
	sa, err := aliceAdmin.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{Name: "sync"})
	if err != nil {
		t.Fatal(err)
	}
	s0 := cl.S3ClientAs(0, sa.ServiceAccount.AccessKey, sa.SecretKey)
	// alice's buckets hold 2000 KiB of her 2048.
	quotaRefused(t, putObj(s0, "q-two", "g", 60*kib), "service account PUT over the user quota", "User quota exceeded")
	if err := putObj(s0, "q-two", "g", 40*kib); err != nil {
		t.Fatal(err)
	}
	waitUsage(t, root1, "q-two", 1040*kib, 2)
	if u, err := root1.GetUser(ctx, "alice"); err != nil || u.UsageBytes != 2040*kib || u.Objects != 4 || u.QuotaBytes != 2<<20 {
		t.Fatalf("user show: %+v %v", u, err)
	}
	if _, err := root1.SetUserQuota(ctx, "SVC"+sa.ServiceAccount.AccessKey, 1); err == nil {
		t.Fatal("a quota on a missing user was accepted")
	}
	if _, err := root1.SetUserQuota(ctx, sa.ServiceAccount.AccessKey, 1<<20); err == nil || !strings.Contains(err.Error(), "service account") {
		t.Fatalf("a quota on a service account: %v", err)
	}
	// Cleared, the quota no longer applies.
	if u, err := root1.ClearUserQuota(ctx, "alice"); err != nil || u.QuotaBytes != 0 {
		t.Fatalf("clear user quota: %+v %v", u, err)
	}
	if err := putObj(a0, "q-two", "f", 500*kib); err != nil {
		t.Fatalf("PUT after the quota was cleared: %v", err)
	}

	// Drift (here: a batch of a node that never existed) is corrected by a
	// recount.
	qone := waitUsage(t, root0, "q-one", 1000*kib, 2)
	var created int64
	cl.Instance(0).Node().Raft().View(func(st *meta.State) { created = st.Buckets["q-one"].Created })
	drift := meta.AddUsage{Node: "ghost", Seq: 1, Changes: []meta.UsageChange{{Bucket: "q-one", Created: created, Bytes: 5 << 20, Objects: 3}}}
	if err := cl.Instance(1).Node().Raft().Propose(ctx, drift); err != nil {
		t.Fatal(err)
	}
	waitUsage(t, root0, "q-one", 1000*kib+5<<20, 5)
	if err := cl.Instance(2).Node().Quota().Recount(ctx, "q-one"); err != nil {
		t.Fatal(err)
	}
	after := waitUsage(t, root0, "q-one", qone.UsageBytes, qone.Objects)
	if after.Recounted.IsZero() {
		t.Fatalf("recount time not shown: %+v", after)
	}

	// The admin API removes only an empty bucket.
	if err := root0.RemoveBucket(ctx, "q-one"); err == nil || !strings.Contains(err.Error(), "BucketNotEmpty") {
		t.Fatalf("remove a full bucket: %v", err)
	}
	if _, err := root0.CreateBucket(ctx, adminapi.CreateBucketRequest{Name: "q-empty"}); err != nil {
		t.Fatal(err)
	}
	if err := root0.RemoveBucket(ctx, "q-empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := root1.GetBucket(ctx, "q-empty"); err == nil || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Fatalf("removed bucket: %v", err)
	}
}

// accepted is one write the cluster took.
type accepted struct {
	node       int
	start, end time.Time
	size       int64
}

// TestQuotaConcurrentBound: writers on every node fill a bucket with a
// quota at once. The bucket ends at most the documented bound above its
// quota (the bytes the other nodes accepted within a flush interval plus
// Raft's latency of the last write admitted), and once the writers stop
// and a flush passed, its usage is exactly what it holds.
func TestQuotaConcurrentBound(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	const (
		flush   = 250 * time.Millisecond
		window  = 2 * flush // flush interval plus Raft latency, generously
		size    = 64 << 10
		quota   = 16 << 20
		writers = 2 // per node
	)
	nodes := 4
	cl := quotaCluster(t, nodes, "2+2", flush)
	ctx := context.Background()
	root := rootAdmin(cl, 0)
	if _, err := root.CreateBucket(ctx, adminapi.CreateBucketRequest{Name: "fill", QuotaBytes: quota}); err != nil {
		t.Fatal(err)
	}
	body := payload(size, 3)
	var (
		mu   sync.Mutex
		took []accepted
		errs []error
		wg   sync.WaitGroup
	)
	for n := range nodes {
		c := cl.S3Client(n)
		for w := range writers {
			wg.Go(func() {
				var refusedSince time.Time
				for i := 0; ; i++ {
					start := time.Now()
					_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("fill"), Key: aws.String(fmt.Sprintf("n%d/w%d/%05d", n, w, i)), Body: bytes.NewReader(body)})
					end := time.Now()
					switch {
					case err == nil:
						refusedSince = time.Time{}
						mu.Lock()
						took = append(took, accepted{n, start, end, size})
						mu.Unlock()
					case apiCode(err) == "QuotaExceeded":
						if refusedSince.IsZero() {
							refusedSince = end
						}
						// Refused for longer than every flush takes to
						// arrive: the bucket is full everywhere.
						if end.Sub(refusedSince) > 2*window {
							return
						}
						time.Sleep(10 * time.Millisecond)
					default:
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("writers failed: %v", errs)
	}
	// What the bucket holds, listed.
	var held, count int64
	p := s3.NewListObjectsV2Paginator(cl.S3Client(1), &s3.ListObjectsV2Input{Bucket: aws.String("fill")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			held += aws.ToInt64(o.Size)
			count++
		}
	}
	if count != int64(len(took)) || held != int64(len(took))*size {
		t.Fatalf("the bucket holds %d objects (%d bytes); the writers were told %d were stored", count, held, len(took))
	}
	// The bound: for each accepted write w, the bytes accepted by the
	// other nodes that w's node may not have seen when it admitted w
	// (those still in flight, or done less than a window before w began).
	// The last write admitted bounds the overshoot; the largest over all
	// writes bounds that.
	var bound int64
	for _, w := range took {
		var unseen int64
		for _, x := range took {
			if x.node != w.node && !x.start.After(w.end) && x.end.After(w.start.Add(-window)) {
				unseen += x.size
			}
		}
		bound = max(bound, unseen)
	}
	over := held - quota
	t.Logf("quota %d bytes; %d writers on %d nodes stored %d bytes in %d objects: %d bytes over the quota (%.1f%%), bound %d bytes (flush %v, window %v)",
		quota, writers*nodes, nodes, held, count, over, 100*float64(over)/quota, bound, flush, window)
	if over > bound {
		t.Fatalf("the bucket passed its quota by %d bytes, more than the bound %d", over, bound)
	}
	// After a flush, every node's usage is exactly what the bucket holds.
	for i := range nodes {
		waitUsage(t, rootAdmin(cl, i), "fill", held, count)
	}
	// Deleting everything brings it back to zero, counted on whichever
	// node served each delete.
	var ids []s3types.ObjectIdentifier
	p = s3.NewListObjectsV2Paginator(cl.S3Client(2), &s3.ListObjectsV2Input{Bucket: aws.String("fill")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
	}
	for i := 0; i < len(ids); i += 1000 {
		c := cl.S3Client(i / 1000 % nodes)
		if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("fill"), Delete: &s3types.Delete{Objects: ids[i:min(i+1000, len(ids))]}}); err != nil {
			t.Fatal(err)
		}
	}
	waitUsage(t, rootAdmin(cl, 3), "fill", 0, 0)
}
