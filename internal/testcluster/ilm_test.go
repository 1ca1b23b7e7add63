package testcluster_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/internal/testcluster"
	"github.com/strata-io/strata/node"
)

// TestLifecycle executes lifecycle rules put with aws-sdk-go-v2 on a
// 4-node cluster whose lifecycle clock the test moves (15 days, then 40):
// every node runs a pass and acts on the keys it owns, and the test checks
// exactly what each pass expired, deleted, removed and aborted — once,
// whatever node owns the key — and that what the filters leave out
// (prefix, tag, size) remains. The cascade of a versioned bucket takes
// several passes, as in S3: a current version expires into a delete
// marker, its noncurrent version goes NoncurrentDays later, and the marker
// left alone goes on the next pass.
func TestLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	var offset atomic.Int64 // how far the lifecycle clock is ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	cl := testcluster.Start(t, testcluster.Options{Nodes: 4, EC: "2+2", Configure: func(c *node.Config) {
		c.ILMInterval = -1 // the test runs the passes
		c.ILMRate = 1e6
		c.ILMNow = clock
		c.QuotaFlushInterval = 100 * time.Millisecond
		c.QuotaRecountInterval = -1
	}})
	ctx := t.Context()
	c := cl.S3Client(0)
	admin := rootAdmin(cl, 1)
	const plain, vers = "ilm-plain", "ilm-vers"
	mustCreateBucket(t, c, plain)
	mustCreateBucket(t, c, vers)
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(vers),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	mustDo(t, "versioning", err)

	rule := func(id string, f s3types.LifecycleRuleFilter) s3types.LifecycleRule {
		return s3types.LifecycleRule{ID: aws.String(id), Status: s3types.ExpirationStatusEnabled, Filter: &f}
	}
	big := rule("big-logs", s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{Prefix: aws.String("logs/"), ObjectSizeGreaterThan: aws.Int64(10)}})
	big.Expiration = &s3types.LifecycleExpiration{Days: aws.Int32(30)}
	tmp := rule("tmp", s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("tmp"), Value: aws.String("yes")}})
	tmp.Expiration = &s3types.LifecycleExpiration{Days: aws.Int32(7)}
	uploads := rule("uploads", s3types.LifecycleRuleFilter{Prefix: aws.String("up/")})
	uploads.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)}
	off := rule("off", s3types.LifecycleRuleFilter{Prefix: aws.String("")})
	off.Status = s3types.ExpirationStatusDisabled
	off.Expiration = &s3types.LifecycleExpiration{Days: aws.Int32(1)}
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(plain),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{big, tmp, uploads, off}}})
	mustDo(t, "put lifecycle of "+plain, err)

	versions := rule("versions", s3types.LifecycleRuleFilter{Prefix: aws.String("")})
	versions.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(10), NewerNoncurrentVersions: aws.Int32(1)}
	versions.Expiration = &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}
	current := rule("current", s3types.LifecycleRuleFilter{Prefix: aws.String("cur/")})
	current.Expiration = &s3types.LifecycleExpiration{Days: aws.Int32(20)}
	current.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(10)}
	gone := rule("gone", s3types.LifecycleRuleFilter{Prefix: aws.String("gone/")})
	gone.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(10)}
	_, err = cl.S3Client(2).PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(vers),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{versions, current, gone}}})
	mustDo(t, "put lifecycle of "+vers, err)

	putTagged := func(bucket, key string, size int, tagging string) string {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(bytes.Repeat([]byte("x"), size))}
		if tagging != "" {
			in.Tagging = aws.String(tagging)
		}
		out, err := c.PutObject(ctx, in)
		mustDo(t, "put "+bucket+"/"+key, err)
		return aws.ToString(out.VersionId)
	}
	// The unversioned bucket: many keys, so that every node owns some.
	var bigLogs, tinyLogs, tmpKeys, kept []string
	for i := range 12 {
		bigLogs = append(bigLogs, fmt.Sprintf("logs/big-%02d", i))
		putTagged(plain, bigLogs[i], 100, "")
		tinyLogs = append(tinyLogs, fmt.Sprintf("logs/tiny-%02d", i))
		putTagged(plain, tinyLogs[i], 5, "")
		tmpKeys = append(tmpKeys, fmt.Sprintf("scratch/%02d", i))
		putTagged(plain, tmpKeys[i], 20, "tmp=yes&team=a")
		kept = append(kept, fmt.Sprintf("scratch/kept-%02d", i))
		putTagged(plain, kept[i], 20, "tmp=no")
	}
	var doomedUploads, keptUploads []string
	for i := range 6 {
		for prefix, list := range map[string]*[]string{"up/": &doomedUploads, "other/": &keptUploads} {
			out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(plain), Key: aws.String(fmt.Sprintf("%s%02d", prefix, i))})
			mustDo(t, "create upload", err)
			_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(plain), Key: out.Key, UploadId: out.UploadId, PartNumber: aws.Int32(1),
				Body: bytes.NewReader([]byte("part data"))})
			mustDo(t, "upload part", err)
			*list = append(*list, aws.ToString(out.UploadId))
		}
	}
	// The versioned bucket: docs/N with three versions, gone/N deleted
	// (a marker over one version), cur/N current versions.
	docs := map[string][]string{}
	for i := range 6 {
		k := fmt.Sprintf("docs/%02d", i)
		for v := range 3 {
			docs[k] = append([]string{putTagged(vers, k, 10+v, "")}, docs[k]...)
		}
		g := fmt.Sprintf("gone/%02d", i)
		putTagged(vers, g, 10, "")
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(vers), Key: aws.String(g)})
		mustDo(t, "delete", err)
		putTagged(vers, fmt.Sprintf("cur/%02d", i), 10, "")
	}

	// pass runs a lifecycle pass on every node at once and returns the
	// sum of what they did, as the admin API reports it.
	pass := func(days int) adminapi.ILMCounters {
		t.Helper()
		offset.Store(int64(time.Duration(days) * 24 * time.Hour))
		var wg sync.WaitGroup
		for i := range cl.N() {
			wg.Go(func() {
				if err := cl.Instance(i).Node().ILM().Pass(ctx); err != nil {
					t.Errorf("pass on n%d: %v", i+1, err)
				}
			})
		}
		wg.Wait()
		st, err := admin.ClusterStatus(ctx)
		mustDo(t, "cluster status", err)
		var sum adminapi.ILMCounters
		for _, n := range st.Nodes {
			if n.ILM == nil || n.ILM.Running || n.ILM.LastPassEnd.IsZero() {
				t.Fatalf("node %s lifecycle status %+v", n.ID, n.ILM)
			}
			p := n.ILM.Pass
			if days == 0 && p.Versions == 0 {
				// 84 versions of 66 keys: a node owning none is as
				// likely as (3/4)^66.
				t.Errorf("node %s examined no version: the keys are not spread", n.ID)
			}
			sum.Buckets += p.Buckets
			sum.Versions += p.Versions
			sum.Uploads += p.Uploads
			sum.Expired += p.Expired
			sum.NoncurrentExpired += p.NoncurrentExpired
			sum.MarkersRemoved += p.MarkersRemoved
			sum.UploadsAborted += p.UploadsAborted
			sum.Errors += p.Errors
		}
		return sum
	}
	want := func(what string, got, w adminapi.ILMCounters) {
		t.Helper()
		got.Buckets, got.Versions, got.Uploads = 0, 0, 0 // per node; checked below
		if got != w {
			t.Fatalf("%s: the nodes did %+v, want %+v", what, got, w)
		}
	}

	// Day 0: nothing is due.
	got := pass(0)
	want("day 0", got, adminapi.ILMCounters{})
	// Every node walked both buckets; each version and upload was
	// examined by one node.
	if got.Buckets != 8 || got.Versions != 48+6*(3+2+1) || got.Uploads != 12 {
		t.Fatalf("day 0 examined %+v", got)
	}

	// Day 15: the tagged scratch objects (7 days) and the up/ uploads (3
	// days) go; big logs (30 days) and cur/ (20 days) stay; the oldest
	// docs version and the version under each gone/ marker went
	// noncurrent 15 days ago (NoncurrentDays 10) and go, but the newest
	// noncurrent docs version stays (NewerNoncurrentVersions 1; the gone/
	// rule keeps none).
	want("day 15", pass(15), adminapi.ILMCounters{Expired: 12, NoncurrentExpired: 12, UploadsAborted: 6})
	wantKeys(t, c, plain, append(append(slices.Clone(bigLogs), tinyLogs...), kept...))
	wantUploads(t, c, plain, keptUploads)
	for k, ids := range docs {
		wantHistory(t, c, vers, k, ids[:2]...)
	}
	for i := range 6 {
		wantHistory(t, c, vers, fmt.Sprintf("gone/%02d", i), "M")
	}

	// Day 40: the big logs go (the tiny ones are below the size bound),
	// the lone gone/ markers go, the cur/ versions expire into markers.
	want("day 40", pass(40), adminapi.ILMCounters{Expired: 12 + 6, MarkersRemoved: 6})
	wantKeys(t, c, plain, append(slices.Clone(tinyLogs), kept...))
	for i := range 6 {
		wantHistory(t, c, vers, fmt.Sprintf("gone/%02d", i))
		wantHistory(t, c, vers, fmt.Sprintf("cur/%02d", i), "M", "*")
	}
	// The cur/ versions became noncurrent just now, which is more than 10
	// days before the lifecycle clock: the next pass deletes them (their
	// rule keeps no noncurrent version), and the one after removes the
	// markers left alone.
	want("day 40, again", pass(40), adminapi.ILMCounters{NoncurrentExpired: 6})
	want("day 40, once more", pass(40), adminapi.ILMCounters{MarkersRemoved: 6})
	for i := range 6 {
		wantHistory(t, c, vers, fmt.Sprintf("cur/%02d", i))
	}
	for k, ids := range docs {
		wantHistory(t, c, vers, k, ids[:2]...)
	}
	want("nothing left to do", pass(400), adminapi.ILMCounters{})

	// The usage the nodes recorded matches what is left: 12 tiny logs, 12
	// kept scratch objects and the parts of the 6 kept uploads in the
	// plain bucket.
	for i := range cl.N() {
		mustDo(t, "flush", cl.Instance(i).Node().Quota().Flush(ctx))
	}
	if b, err := admin.GetBucket(ctx, plain); err != nil || b.Objects != 24 || b.UsageBytes != 12*5+12*20+6*9 {
		t.Fatalf("usage of %s: %d objects, %d bytes (%v)", plain, b.Objects, b.UsageBytes, err)
	}

	// A node restarted keeps its lifecycle status.
	before := cl.Instance(3).Node().ILM().Status()
	cl.Restart(3)
	cl.WaitReady(30 * time.Second)
	if after := cl.Instance(3).Node().ILM().Status(); after.Passes != before.Passes || !after.LastPassEnd.Equal(before.LastPassEnd) || after.Total != before.Total {
		t.Fatalf("status after a restart %+v, before %+v", after, before)
	}
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantKeys checks bucket lists exactly keys.
func wantKeys(t *testing.T, c *s3.Client, bucket string, keys []string) {
	t.Helper()
	var got []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		mustDo(t, "list "+bucket, err)
		for _, o := range page.Contents {
			got = append(got, aws.ToString(o.Key))
		}
	}
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("%s holds %q, want %q", bucket, got, want)
	}
}

// wantUploads checks bucket's uploads in progress are exactly ids.
func wantUploads(t *testing.T, c *s3.Client, bucket string, ids []string) {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	mustDo(t, "list uploads", err)
	var got []string
	for _, u := range out.Uploads {
		got = append(got, aws.ToString(u.UploadId))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("%s uploads %q, want %q", bucket, got, want)
	}
}

// wantHistory checks key's versions, newest first: version ids, "M" for
// a delete marker, "*" for any version that is not one.
func wantHistory(t *testing.T, c *s3.Client, bucket, key string, want ...string) {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	mustDo(t, "list versions", err)
	type entry struct {
		id     string
		mod    time.Time
		marker bool
	}
	var got []entry
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			got = append(got, entry{aws.ToString(v.VersionId), aws.ToTime(v.LastModified), false})
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			got = append(got, entry{aws.ToString(m.VersionId), aws.ToTime(m.LastModified), true})
		}
	}
	// S3 lists versions and markers apart; Strata's version ids sort
	// newest first.
	slices.SortFunc(got, func(a, b entry) int { return strings.Compare(a.id, b.id) })
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		switch want[i] {
		case "M":
			ok = got[i].marker
		case "*":
			ok = !got[i].marker
		default:
			ok = !got[i].marker && got[i].id == want[i]
		}
	}
	if !ok {
		t.Fatalf("%s/%s versions %+v, want %q", bucket, key, got, want)
	}
}
