package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/meta"
)

// TestBucketLifecycleAPI: Put/Get/DeleteBucketLifecycleConfiguration with
// the SDK, every element round-tripping.
func TestBucketLifecycleAPI(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")})
	mustOK(t, "create", err)

	_, err = root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("logs")})
	if apiCode(err) != "NoSuchLifecycleConfiguration" || !strings.Contains(err.Error(), "404") {
		t.Fatalf("get before put: %v", err)
	}
	date := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
	in := types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
		{ID: aws.String("tmp"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(7)}, AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)}},
		{ID: aws.String("tagged"), Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{
			Prefix: aws.String("data/"), Tags: []types.Tag{{Key: aws.String("class"), Value: aws.String("scratch")}, {Key: aws.String("owner"), Value: aws.String("")}},
			ObjectSizeGreaterThan: aws.Int64(1024), ObjectSizeLessThan: aws.Int64(1 << 30)}},
			Expiration: &types.LifecycleExpiration{Date: &date}},
		{ID: aws.String("versions"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{ObjectSizeGreaterThan: aws.Int64(0)},
			NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(30), NewerNoncurrentVersions: aws.Int32(3)}},
		{ID: aws.String("markers"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
		{Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Tag: &types.Tag{Key: aws.String("gone"), Value: aws.String("yes")}},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}},
	}}
	_, err = root.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("logs"), LifecycleConfiguration: &in})
	mustOK(t, "put", err)
	out, err := root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("logs")})
	mustOK(t, "get", err)
	if len(out.Rules) != 5 {
		t.Fatalf("get: %d rules", len(out.Rules))
	}
	r := out.Rules
	if aws.ToString(r[0].ID) != "tmp" || r[0].Status != types.ExpirationStatusEnabled || aws.ToString(r[0].Filter.Prefix) != "tmp/" ||
		aws.ToInt32(r[0].Expiration.Days) != 7 || aws.ToInt32(r[0].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 2 {
		t.Errorf("rule 0: %+v", r[0])
	}
	and := r[1].Filter.And
	if r[1].Status != types.ExpirationStatusDisabled || and == nil || aws.ToString(and.Prefix) != "data/" || len(and.Tags) != 2 ||
		aws.ToString(and.Tags[1].Key) != "owner" || aws.ToInt64(and.ObjectSizeGreaterThan) != 1024 || aws.ToInt64(and.ObjectSizeLessThan) != 1<<30 ||
		r[1].Expiration.Date == nil || !r[1].Expiration.Date.Equal(date) {
		t.Errorf("rule 1: %+v %+v", r[1], and)
	}
	if aws.ToInt64(r[2].Filter.ObjectSizeGreaterThan) != 0 || r[2].Filter.ObjectSizeGreaterThan == nil ||
		aws.ToInt32(r[2].NoncurrentVersionExpiration.NoncurrentDays) != 30 || aws.ToInt32(r[2].NoncurrentVersionExpiration.NewerNoncurrentVersions) != 3 {
		t.Errorf("rule 2: %+v", r[2])
	}
	if r[3].Filter.Prefix == nil || !aws.ToBool(r[3].Expiration.ExpiredObjectDeleteMarker) || r[3].Expiration.Days != nil {
		t.Errorf("rule 3: %+v", r[3])
	}
	if id := aws.ToString(r[4].ID); len(id) != lifecycleRuleIDLen || aws.ToString(r[4].Filter.Tag.Key) != "gone" {
		t.Errorf("rule 4 (given an ID): %q %+v", id, r[4])
	}

	_, err = root.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String("logs")})
	mustOK(t, "delete", err)
	_, err = root.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String("logs")})
	mustOK(t, "delete again", err)
	if _, err = root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("logs")}); apiCode(err) != "NoSuchLifecycleConfiguration" {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err = root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("nope")}); apiCode(err) != "NoSuchBucket" {
		t.Fatalf("get on a missing bucket: %v", err)
	}
}

// TestBucketLifecycleXML: raw documents, as written and as read back, and
// the answers to the ones S3 refuses.
func TestBucketLifecycleXML(t *testing.T) {
	ts := startTestServer(t)
	propose(t, ts, meta.CreateBucket{Bucket: meta.Bucket{Name: "logs", Owner: testAccessKey}})
	withMD5 := func(b string) map[string]string {
		sum := md5.Sum([]byte(b))
		return map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}
	}
	put := func(doc string) (int, string) {
		resp, body := do(t, ts, rawReq{method: "PUT", path: "/logs?lifecycle", body: []byte(doc), header: withMD5(doc)})
		return resp.StatusCode, body
	}
	const legacy = `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule><ID>old</ID><Prefix>archive/</Prefix><Status>Enabled</Status>
    <Expiration><Date>2032-01-01T00:00:00.000Z</Date></Expiration></Rule>
  <Rule><ID>all</ID><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>
  <Rule><ID>one-prefix-in-and</ID><Filter><And><Prefix>p/</Prefix><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>
    <NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>
</LifecycleConfiguration>`
	if code, body := put(legacy); code != 200 {
		t.Fatalf("put: %d %s", code, body)
	}
	_, body := do(t, ts, rawReq{method: "GET", path: "/logs?lifecycle"})
	for _, want := range []string{
		`<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>old</ID><Prefix>archive/</Prefix><Status>Enabled</Status><Expiration><Date>2032-01-01T00:00:00.000Z</Date></Expiration></Rule>`,
		`<Rule><ID>all</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>`,
		`<Filter><And><Prefix>p/</Prefix><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("get lacks\n%s\nin\n%s", want, body)
		}
	}

	rule := func(inner string) string {
		return "<LifecycleConfiguration><Rule>" + inner + "</Rule></LifecycleConfiguration>"
	}
	const ok = `<Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status>`
	days := func(n string) string { return "<Expiration><Days>" + n + "</Days></Expiration>" }
	many := "<LifecycleConfiguration>" + strings.Repeat("<Rule>"+ok+days("1")+"</Rule>", 1001) + "</LifecycleConfiguration>"
	for _, c := range []struct {
		name, doc string
		status    int
		code, msg string
	}{
		{"not xml", "<LifecycleConfiguration", 400, "MalformedXML", ""},
		{"other root", "<CORSConfiguration/>", 400, "MalformedXML", ""},
		{"no rules", "<LifecycleConfiguration/>", 400, "MalformedXML", ""},
		{"1001 rules", many, 400, "MalformedXML", ""},
		{"no status", rule(`<Filter/>` + days("1")), 400, "MalformedXML", ""},
		{"bad status", rule(`<Filter/><Status>enabled</Status>` + days("1")), 400, "MalformedXML", ""},
		{"no filter nor prefix", rule(`<Status>Enabled</Status>` + days("1")), 400, "MalformedXML", ""},
		{"filter and prefix", rule(`<Prefix>a</Prefix>` + ok + days("1")), 400, "MalformedXML", ""},
		{"two filter elements", rule(`<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status>` + days("1")), 400, "MalformedXML", ""},
		{"two tags without and", rule(`<Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></Filter><Status>Enabled</Status>` + days("1")), 400, "MalformedXML", ""},
		{"and of one", rule(`<Filter><And><Prefix>a</Prefix></And></Filter><Status>Enabled</Status>` + days("1")), 400, "MalformedXML", ""},
		{"unknown element", rule(ok + days("1") + "<Frobnicate/>"), 400, "MalformedXML", ""},
		{"days not a number", rule(ok + days("soon")), 400, "MalformedXML", ""},
		{"empty expiration", rule(ok + "<Expiration></Expiration>"), 400, "MalformedXML", ""},
		{"days and date", rule(ok + "<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>"), 400, "MalformedXML", ""},
		{"days and marker", rule(ok + "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"), 400, "MalformedXML", ""},
		{"transition", rule(ok + "<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>"), 501, "NotImplemented", ""},
		{"days zero", rule(ok + days("0")), 400, "InvalidArgument", "'Days' for Expiration action must be a positive integer"},
		{"date not midnight", rule(ok + "<Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>"), 400, "InvalidArgument", "'Date' must be at midnight GMT"},
		{"noncurrent without days", rule(ok + "<NoncurrentVersionExpiration><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>"), 400, "InvalidArgument",
			"'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
		{"abort without days", rule(ok + "<AbortIncompleteMultipartUpload></AbortIncompleteMultipartUpload>"), 400, "InvalidArgument",
			"'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"},
		{"id too long", rule("<ID>" + strings.Repeat("i", 256) + "</ID>" + ok + days("1")), 400, "InvalidArgument", "ID length should not exceed allowed limit of 255"},
		{"same id", "<LifecycleConfiguration><Rule><ID>x</ID>" + ok + days("1") + "</Rule><Rule><ID>x</ID>" + ok + days("2") + "</Rule></LifecycleConfiguration>", 400, "InvalidArgument",
			"Rule ID must be unique. Found same ID for more than one rule"},
		{"no action", rule(ok), 400, "InvalidRequest", "At least one action needs to be specified in a rule."},
		{"marker with tag", rule(`<Filter><Tag><Key>a</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`),
			400, "InvalidRequest", "ExpiredObjectDeleteMarker cannot be specified with Tags."},
		{"abort with tag", rule(`<Filter><Tag><Key>a</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`),
			400, "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."},
		{"size range", rule(`<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>` + days("1")),
			400, "InvalidRequest", "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'."},
	} {
		resp, body := do(t, ts, rawReq{method: "PUT", path: "/logs?lifecycle", body: []byte(c.doc), header: withMD5(c.doc)})
		wantS3Error(t, c.name, resp, body, c.status, c.code)
		if c.msg != "" && !strings.Contains(body, "<Message>"+xmlEscape(c.msg)+"</Message>") {
			t.Errorf("%s: message in %s", c.name, body)
		}
	}
	resp, body := do(t, ts, rawReq{method: "PUT", path: "/logs?lifecycle", body: []byte(legacy)})
	wantS3Error(t, "no Content-MD5", resp, body, 400, "InvalidRequest")
	// The refused documents left the stored one alone.
	if _, body = do(t, ts, rawReq{method: "GET", path: "/logs?lifecycle"}); !strings.Contains(body, "<ID>one-prefix-in-and</ID>") {
		t.Fatalf("after refused puts:\n%s", body)
	}
}

// TestBucketLifecycleAuthorization: the lifecycle API needs
// s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration
// (DeleteBucketLifecycle too, as AWS); the bucket owner has them without a
// policy.
func TestBucketLifecycleAuthorization(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")})
	mustOK(t, "create", err)
	addPolicy(t, ts, "lc-admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutLifecycleConfiguration","s3:GetLifecycleConfiguration"],"Resource":"arn:aws:s3:::shared"}]}`)
	addPolicy(t, ts, "lc-reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetLifecycleConfiguration","Resource":"arn:aws:s3:::shared"}]}`)
	addUser(t, ts, "admin", "admin-secret-1", "lc-admin")
	addUser(t, ts, "reader", "reader-secret-1", "lc-reader")
	addUser(t, ts, "owner", "owner-secret-1")
	admin, reader := sdkClient(t, ts, "admin", "admin-secret-1"), sdkClient(t, ts, "reader", "reader-secret-1")
	owner := sdkClient(t, ts, "owner", "owner-secret-1")

	conf := &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled,
		Filter: &types.LifecycleRuleFilter{Prefix: aws.String("")}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}}}
	put := func(c *s3.Client, bucket string) error {
		_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket), LifecycleConfiguration: conf})
		return err
	}
	get := func(c *s3.Client, bucket string) error {
		_, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
		return err
	}
	del := func(c *s3.Client, bucket string) error {
		_, err := c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
		return err
	}
	if err := put(reader, "shared"); apiCode(err) != "AccessDenied" {
		t.Fatalf("put without s3:PutLifecycleConfiguration: %v", err)
	}
	mustOK(t, "put with s3:PutLifecycleConfiguration", put(admin, "shared"))
	mustOK(t, "get with s3:GetLifecycleConfiguration", get(reader, "shared"))
	if err := del(reader, "shared"); apiCode(err) != "AccessDenied" {
		t.Fatalf("delete with only s3:GetLifecycleConfiguration: %v", err)
	}
	mustOK(t, "delete with s3:PutLifecycleConfiguration", del(admin, "shared"))

	// The owner of a bucket manages its lifecycle without a policy.
	propose(t, ts, meta.CreateBucket{Bucket: meta.Bucket{Name: "owned", Owner: "owner"}})
	mustOK(t, "owner puts", put(owner, "owned"))
	mustOK(t, "owner gets", get(owner, "owned"))
	if err := get(admin, "owned"); apiCode(err) != "AccessDenied" {
		t.Fatalf("get of another's bucket outside the policy: %v", err)
	}
	mustOK(t, "owner deletes", del(owner, "owned"))
}
