package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func tagMap(ts []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func TestSDKTagging(t *testing.T) {
	ts := startTestServer(t)
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	mustBucket(t, c, "tags")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("k"), Body: strings.NewReader("x"),
		Tagging: aws.String("project=alpha%20beta&empty=")}); err != nil {
		t.Fatal(err)
	}
	gt, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || !maps.Equal(tagMap(gt.TagSet), map[string]string{"project": "alpha beta", "empty": ""}) {
		t.Fatalf("tags from x-amz-tagging: %v %+v", err, gt)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("été"), Value: aws.String("+-=._:/@ ok")}}}}); err != nil {
		t.Fatal(err)
	}
	gt, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || !maps.Equal(tagMap(gt.TagSet), map[string]string{"a": "1", "été": "+-=._:/@ ok"}) {
		t.Errorf("tags after put: %v %+v", err, gt)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || aws.ToInt32(head.TagCount) != 2 {
		t.Errorf("tag count: %v %d", err, aws.ToInt32(head.TagCount))
	}
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	gt, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || len(gt.TagSet) != 0 {
		t.Errorf("tags after delete: %v %+v", err, gt)
	}
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tags"), Key: aws.String("k")})
	if err != nil || head.TagCount != nil {
		t.Errorf("tag count after delete: %v %v", err, head.TagCount)
	}

	// Limits.
	many := []types.Tag{}
	for i := range 11 {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	for name, set := range map[string][]types.Tag{
		"eleven tags":   many,
		"long key":      {{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}},
		"long value":    {{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}},
		"duplicate key": {{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}},
		"bad character": {{Key: aws.String("k"), Value: aws.String("semi;colon")}},
		"aws prefix":    {{Key: aws.String("aws:x"), Value: aws.String("v")}},
		"empty key":     {{Key: aws.String(""), Value: aws.String("v")}},
	} {
		_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k"), Tagging: &types.Tagging{TagSet: set}})
		wantCode(t, name, err, "InvalidTag")
	}
	// At the limits.
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: append(many[:9], types.Tag{Key: aws.String(strings.Repeat("é", 128)), Value: aws.String(strings.Repeat("ü", 256))})}}); err != nil {
		t.Errorf("ten tags at the length limits: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("k2"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&a=2")})
	wantCode(t, "duplicate in x-amz-tagging", err, "InvalidTag")
	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("missing")})
	wantCode(t, "tags of a missing key", err, "NoSuchKey")

	// Versioned: tags belong to a version.
	setVersioning(t, c, "tags", types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(putString(t, c, "tags", "v", "1").VersionId)
	putString(t, c, "tags", "v", "2")
	pt, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("v"), VersionId: aws.String(v1),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("old"), Value: aws.String("yes")}}}})
	if err != nil || aws.ToString(pt.VersionId) != v1 {
		t.Fatalf("tag v1: %v %+v", err, pt)
	}
	gt, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("v")})
	if err != nil || len(gt.TagSet) != 0 {
		t.Errorf("current version tags: %v %+v", err, gt.TagSet)
	}
	gt, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("v"), VersionId: aws.String(v1)})
	if err != nil || tagMap(gt.TagSet)["old"] != "yes" || aws.ToString(gt.VersionId) != v1 {
		t.Errorf("v1 tags: %v %+v", err, gt)
	}
}

func TestTaggingRaw(t *testing.T) {
	ts := startTestServer(t)
	do(t, ts, rawReq{method: "PUT", path: "/traw"})
	do(t, ts, rawReq{method: "PUT", path: "/traw/k", body: []byte("x")})
	doc := []byte(`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`)
	sum := md5.Sum(doc)
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/traw/k?tagging", body: doc, header: map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}})
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-version-id") != "" {
		t.Errorf("put tagging: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/traw/k?tagging", body: doc, header: map[string]string{"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}})
	wantS3Error(t, "wrong md5", resp, body, 400, "BadDigest")
	resp, body = do(t, ts, rawReq{method: "PUT", path: "/traw/k?tagging", body: []byte(`<Tagging></Tagging>`)})
	wantS3Error(t, "no TagSet", resp, body, 400, "MalformedXML")
	resp, body = do(t, ts, rawReq{method: "GET", path: "/traw/k?tagging"})
	if resp.StatusCode != 200 || !strings.Contains(body, `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`) {
		t.Errorf("get tagging: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "DELETE", path: "/traw/k?tagging"})
	if resp.StatusCode != 204 {
		t.Errorf("delete tagging: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, ts, rawReq{method: "GET", path: "/traw/k?tagging"})
	if resp.StatusCode != 200 || !strings.Contains(body, "<TagSet></TagSet>") {
		t.Errorf("empty tag set: %d %s", resp.StatusCode, body)
	}
}

func TestParseTaggingHeader(t *testing.T) {
	got, err := parseTaggingHeader("a=1&b=x%20y&c=&d%2Fe=f%2Bg")
	if err != nil || !maps.Equal(got, map[string]string{"a": "1", "b": "x y", "c": "", "d/e": "f+g"}) {
		t.Errorf("%v %v", got, err)
	}
	if got, err := parseTaggingHeader(""); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"a=%zz", "a=1&a=2", "k=" + strings.Repeat("v", 257), "=v"} {
		if _, err := parseTaggingHeader(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
