package s3api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

func putString(t *testing.T, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

func getString(t *testing.T, c *s3.Client, bucket, key, version string) (string, *s3.GetObjectOutput) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	data, out := getAll(t, c, in)
	return string(data), out
}

func setVersioning(t *testing.T, c *s3.Client, bucket string, status types.BucketVersioningStatus) {
	t.Helper()
	if _, err := c.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: status}}); err != nil {
		t.Fatalf("versioning %s: %v", status, err)
	}
}

func TestSDKVersioning(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "ver")

	// A bucket never versioned: no status, no version id headers.
	gv, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || gv.Status != "" {
		t.Fatalf("initial versioning: %v %q", err, gv.Status)
	}
	if out := putString(t, c, "ver", "k", "null-1"); out.VersionId != nil {
		t.Errorf("unversioned put has a version id %q", aws.ToString(out.VersionId))
	}
	if _, got := getString(t, c, "ver", "k", ""); got.VersionId != nil {
		t.Errorf("unversioned get has a version id %q", aws.ToString(got.VersionId))
	}
	// The null version can still be named.
	if body, _ := getString(t, c, "ver", "k", "null"); body != "null-1" {
		t.Errorf("get null version: %q", body)
	}

	setVersioning(t, c, "ver", types.BucketVersioningStatusEnabled)
	gv, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("ver")})
	if err != nil || gv.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning: %v %q", err, gv.Status)
	}
	v1 := aws.ToString(putString(t, c, "ver", "k", "one").VersionId)
	v2 := aws.ToString(putString(t, c, "ver", "k", "two").VersionId)
	if v1 == "" || v2 == "" || v1 == v2 || v1 == "null" {
		t.Fatalf("version ids %q %q", v1, v2)
	}
	body, got := getString(t, c, "ver", "k", "")
	if body != "two" || aws.ToString(got.VersionId) != v2 {
		t.Errorf("current: %q %q", body, aws.ToString(got.VersionId))
	}
	for v, want := range map[string]string{v1: "one", v2: "two", "null": "null-1"} {
		if body, got := getString(t, c, "ver", "k", v); body != want || aws.ToString(got.VersionId) != v {
			t.Errorf("version %s: %q %q", v, body, aws.ToString(got.VersionId))
		}
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), VersionId: aws.String(v1)})
	if err != nil || aws.ToString(head.VersionId) != v1 || aws.ToInt64(head.ContentLength) != 3 {
		t.Errorf("head v1: %v %+v", err, head)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), VersionId: aws.String(dataplane.NewVersionID(time.Now()))})
	wantCode(t, "missing version", err, "NoSuchVersion")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), VersionId: aws.String("bad version")})
	wantCode(t, "malformed version", err, "InvalidArgument")

	// Delete without a version id: a delete marker.
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	dm := aws.ToString(del.VersionId)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ver"), Key: aws.String("k")})
	wantCode(t, "get behind a delete marker", err, "NoSuchKey")
	// By version id, a delete marker is 405 with the marker headers.
	resp, rbody := do(t, ts, rawReq{method: "GET", path: "/ver/k?versionId=" + dm})
	wantS3Error(t, "get delete marker by id", resp, rbody, http.StatusMethodNotAllowed, "MethodNotAllowed")
	if resp.Header.Get("x-amz-delete-marker") != "true" || resp.Header.Get("x-amz-version-id") != dm || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("405 headers: %v", resp.Header)
	}
	resp, _ = do(t, ts, rawReq{method: "HEAD", path: "/ver/k"})
	if resp.StatusCode != 404 || resp.Header.Get("x-amz-delete-marker") != "true" || resp.Header.Get("x-amz-version-id") != dm {
		t.Errorf("head behind a marker: %d %v", resp.StatusCode, resp.Header)
	}
	// The old versions are still there.
	if body, _ := getString(t, c, "ver", "k", v1); body != "one" {
		t.Errorf("v1 after delete: %q", body)
	}

	// ListObjectVersions: versions and the marker, newest first.
	lv, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lv.DeleteMarkers) != 1 || aws.ToString(lv.DeleteMarkers[0].VersionId) != dm || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
		t.Errorf("markers: %+v", lv.DeleteMarkers)
	}
	var ids []string
	for _, v := range lv.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
		if aws.ToBool(v.IsLatest) || v.StorageClass != types.ObjectVersionStorageClassStandard || aws.ToString(v.ETag) == "" {
			t.Errorf("version entry %+v", v)
		}
	}
	if !slices.Equal(ids, []string{v2, v1, "null"}) {
		t.Errorf("versions %q", ids)
	}
	// The raw body interleaves the two kinds in order.
	resp, rbody = do(t, ts, rawReq{method: "GET", path: "/ver?versions"})
	if resp.StatusCode != 200 || strings.Index(rbody, "<DeleteMarker>") > strings.Index(rbody, "<Version>") ||
		!strings.Contains(rbody, `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`) {
		t.Errorf("raw versions: %s", rbody)
	}

	// Deleting the marker by id makes v2 current again.
	del, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), VersionId: aws.String(dm)})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != dm {
		t.Errorf("delete marker by id: %v %+v", err, del)
	}
	if body, _ := getString(t, c, "ver", "k", ""); body != "two" {
		t.Errorf("after removing the marker: %q", body)
	}
	// Deleting a version for good.
	del, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), VersionId: aws.String(v2)})
	if err != nil || aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != v2 {
		t.Errorf("delete v2: %v %+v", err, del)
	}
	if body, _ := getString(t, c, "ver", "k", ""); body != "one" {
		t.Errorf("after deleting v2: %q", body)
	}

	// Suspended: writes replace the null version; deletes put a null marker.
	setVersioning(t, c, "ver", types.BucketVersioningStatusSuspended)
	if out := putString(t, c, "ver", "k", "null-2"); aws.ToString(out.VersionId) != "null" {
		t.Errorf("suspended put version %q", aws.ToString(out.VersionId))
	}
	lv, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("ver"), Prefix: aws.String("k")})
	if err != nil || len(lv.Versions) != 2 || aws.ToString(lv.Versions[0].VersionId) != "null" || aws.ToString(lv.Versions[1].VersionId) != v1 {
		t.Errorf("versions after a suspended put: %v %+v", err, lv.Versions)
	}
	del, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != "null" {
		t.Errorf("suspended delete: %v %+v", err, del)
	}

	// A bucket with versions or markers is not empty.
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("ver")})
	wantCode(t, "delete bucket with versions", err, "BucketNotEmpty")
	for _, v := range []string{"null", v1} {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), VersionId: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("ver")}); err != nil {
		t.Errorf("delete emptied bucket: %v", err)
	}

	// Malformed configurations.
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("nope"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	wantCode(t, "versioning of a missing bucket", err, "NoSuchBucket")
}

func TestVersioningRaw(t *testing.T) {
	ts := startTestServer(t)
	if resp, body := do(t, ts, rawReq{method: "PUT", path: "/vraw"}); resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, ts, rawReq{method: "GET", path: "/vraw?versioning"})
	if resp.StatusCode != 200 || !strings.HasSuffix(body, `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></VersioningConfiguration>`) {
		t.Errorf("get never versioned: %s", body)
	}
	for _, c := range []struct {
		what, xml string
		status    int
		code      string
	}{
		{"malformed", "<VersioningConfiguration><Status>", 400, "MalformedXML"},
		{"bad status", "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>", 400, "MalformedXML"},
		{"no status", "<VersioningConfiguration></VersioningConfiguration>", 400, "IllegalVersioningConfigurationException"},
		{"mfa delete", "<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>", 501, "NotImplemented"},
	} {
		resp, body := do(t, ts, rawReq{method: "PUT", path: "/vraw?versioning", body: []byte(c.xml)})
		wantS3Error(t, c.what, resp, body, c.status, c.code)
	}
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/vraw?versioning",
		body: []byte(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`)})
	if resp.StatusCode != 200 {
		t.Fatalf("enable: %d %s", resp.StatusCode, body)
	}
	var v meta.Versioning
	ts.ctl.View(func(st *meta.State) { v = st.Buckets["vraw"].Versioning })
	if v != meta.VersioningEnabled {
		t.Errorf("state after enable: %v", v)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/vraw?versioning"})
	if !strings.Contains(body, "<Status>Enabled</Status>") {
		t.Errorf("get enabled: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/vraw?versions&version-id-marker=x"})
	wantS3Error(t, "version-id-marker without key-marker", resp, body, 400, "InvalidArgument")
	resp, body = do(t, ts, rawReq{method: "GET", path: "/vraw/k?versionId="})
	wantS3Error(t, "empty version id", resp, body, 400, "InvalidArgument")
}

// TestSDKListObjectVersionsPaging pages versions, markers and prefixes two
// entries at a time with the SDK's paginator.
func TestSDKListObjectVersionsPaging(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "pages")
	setVersioning(t, c, "pages", types.BucketVersioningStatusEnabled)
	var want []string
	for _, k := range []string{"a", "b", "c"} {
		var vs []string
		for i := range 3 {
			vs = append(vs, aws.ToString(putString(t, c, "pages", k, k+string(rune('0'+i))).VersionId))
		}
		slices.Reverse(vs)
		for _, v := range vs {
			want = append(want, k+"@"+v)
		}
	}
	putString(t, c, "pages", "d/x", "in a prefix")
	putString(t, c, "pages", "d/y", "in a prefix")
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("pages"), Key: aws.String("e")})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "d/", "e@"+aws.ToString(del.VersionId))

	var got []string
	keyMarker, vidMarker := "", ""
	pages := 0
	for {
		in := &s3.ListObjectVersionsInput{Bucket: aws.String("pages"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}
		if keyMarker != "" {
			in.KeyMarker = aws.String(keyMarker)
			in.VersionIdMarker = aws.String(vidMarker)
		}
		out, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, v := range out.Versions {
			got = append(got, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
		for _, p := range out.CommonPrefixes {
			got = append(got, aws.ToString(p.Prefix))
		}
		for _, m := range out.DeleteMarkers {
			got = append(got, aws.ToString(m.Key)+"@"+aws.ToString(m.VersionId))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		keyMarker, vidMarker = aws.ToString(out.NextKeyMarker), aws.ToString(out.NextVersionIdMarker)
		if pages > 20 {
			t.Fatal("listing does not end")
		}
	}
	if !slices.Equal(got, want) || pages != 6 {
		t.Errorf("%d pages:\n got %q\nwant %q", pages, got, want)
	}
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("pages"), MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Versions) != 0 || aws.ToBool(out.IsTruncated) {
		t.Errorf("max-keys 0: %v %+v", err, out)
	}
	// ListObjects sees only current versions, not keys behind a marker.
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pages")})
	if err != nil || len(lo.Contents) != 5 {
		t.Errorf("current listing: %v %d", err, len(lo.Contents))
	}
}
