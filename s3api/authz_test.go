package s3api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/meta"
)

// IAM fixtures: users, groups, policies and service accounts are created
// through Propose, so meta's apply functions decide what exists.

func propose(t *testing.T, ts *testServer, cmd meta.Command) {
	t.Helper()
	if err := ts.ctl.Propose(context.Background(), cmd); err != nil {
		t.Fatalf("propose %T: %v", cmd, err)
	}
}

// addUser creates the user ak (name = access key) with secret sk and the
// named policies attached.
func addUser(t *testing.T, ts *testServer, ak, sk string, policies ...string) {
	t.Helper()
	propose(t, ts, meta.PutUser{User: meta.User{AccessKey: ak, Name: ak, SecretSealed: []byte(sealPrefix + sk), Policies: policies}})
}

func addPolicy(t *testing.T, ts *testServer, name, doc string) {
	t.Helper()
	propose(t, ts, meta.PutPolicy{Policy: meta.Policy{Name: name, Document: []byte(doc)}})
}

func addServiceAccount(t *testing.T, ts *testServer, ak, sk, parent, policy string) {
	t.Helper()
	u := meta.User{AccessKey: ak, Name: ak, SecretSealed: []byte(sealPrefix + sk), Parent: parent}
	if policy != "" {
		u.SessionPolicy = []byte(policy)
	}
	propose(t, ts, meta.PutUser{User: u})
}

// setUser changes a user in place (disable, policies) through PutUser.
func setUser(t *testing.T, ts *testServer, ak string, change func(*meta.User)) {
	t.Helper()
	var u meta.User
	ts.ctl.View(func(st *meta.State) { u = *st.Users[ak] })
	change(&u)
	propose(t, ts, meta.PutUser{User: u})
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) error {
	t.Helper()
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	return err
}

func getBody(t *testing.T, c *s3.Client, bucket, key string) (string, error) {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

// anon sends an unsigned request.
func anon(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// mustOK fails the test on err.
func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

const (
	denyDeletePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::*"}]}`
	homePolicy       = `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::shared/home/${aws:username}/*"},
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::shared","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}}]}`
)

// TestUserPolicies: a user with no policy can do nothing; the predefined
// readonly and writeonly policies; group policies; an explicit Deny wins;
// managed policies with variables and conditions; disabled users.
func TestUserPolicies(t *testing.T) {
	ts := startTestServer(t)
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	ctx := t.Context()
	for _, b := range []string{"data", "shared"} {
		_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		mustOK(t, "create "+b, err)
	}
	mustOK(t, "seed", put(t, root, "data", "k", "hello"))

	addUser(t, ts, "nobody", "nobody-secret-1")
	addUser(t, ts, "reader", "reader-secret-1", "readonly")
	addUser(t, ts, "writer", "writer-secret-1", "writeonly")
	nobody := sdkClient(t, ts, "nobody", "nobody-secret-1")
	reader := sdkClient(t, ts, "reader", "reader-secret-1")
	writer := sdkClient(t, ts, "writer", "writer-secret-1")

	wantCode(t, "no policy: put", put(t, nobody, "data", "x", "x"), "AccessDenied")
	_, err := getBody(t, nobody, "data", "k")
	wantCode(t, "no policy: get", err, "AccessDenied")
	_, err = nobody.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mine")})
	wantCode(t, "no policy: create bucket", err, "AccessDenied")
	lb, err := nobody.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 0 {
		t.Errorf("no policy: ListBuckets shows %v, %v", lb, err)
	}

	if got, err := getBody(t, reader, "data", "k"); err != nil || got != "hello" {
		t.Errorf("readonly get: %q %v", got, err)
	}
	wantCode(t, "readonly put", put(t, reader, "data", "x", "x"), "AccessDenied")
	_, err = reader.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("k")})
	wantCode(t, "readonly delete", err, "AccessDenied")

	mustOK(t, "writeonly put", put(t, writer, "data", "w", "written"))
	_, err = getBody(t, writer, "data", "w")
	wantCode(t, "writeonly get", err, "AccessDenied")
	if got, _ := getBody(t, root, "data", "w"); got != "written" {
		t.Errorf("written object reads %q", got)
	}

	// Group policies apply to members only.
	propose(t, ts, meta.PutGroup{Group: meta.Group{Name: "editors", Members: []string{"nobody"}}})
	propose(t, ts, meta.AttachPolicy{Policy: "readwrite", Group: "editors"})
	mustOK(t, "group member put", put(t, nobody, "data", "g", "g"))
	propose(t, ts, meta.PutGroup{Group: meta.Group{Name: "editors"}})
	wantCode(t, "former member put", put(t, nobody, "data", "g2", "g"), "AccessDenied")

	// An explicit Deny beats any Allow.
	addPolicy(t, ts, "nodelete", denyDeletePolicy)
	addUser(t, ts, "careful", "careful-secret-1", "readwrite", "nodelete")
	careful := sdkClient(t, ts, "careful", "careful-secret-1")
	mustOK(t, "readwrite put", put(t, careful, "data", "c", "c"))
	_, err = careful.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("c")})
	wantCode(t, "denied delete", err, "AccessDenied")

	// ${aws:username} and an s3:prefix condition.
	addPolicy(t, ts, "home", homePolicy)
	addUser(t, ts, "alice", "alice-secret-12", "home")
	alice := sdkClient(t, ts, "alice", "alice-secret-12")
	mustOK(t, "own home", put(t, alice, "shared", "home/alice/notes", "n"))
	wantCode(t, "other home", put(t, alice, "shared", "home/bob/notes", "n"), "AccessDenied")
	_, err = alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared"), Prefix: aws.String("home/alice/")})
	mustOK(t, "list own prefix", err)
	_, err = alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared"), Prefix: aws.String("home/")})
	wantCode(t, "list other prefix", err, "AccessDenied")
	// A policy she may list shows the bucket in ListBuckets? ListBucket
	// is conditional on a prefix she does not give there: not shown.
	if lb, err := alice.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(lb.Buckets) != 0 {
		t.Errorf("alice's buckets: %v %v", lb, err)
	}

	// Disabling a user refuses its key at once.
	setUser(t, ts, "reader", func(u *meta.User) { u.Disabled = true })
	_, err = getBody(t, reader, "data", "k")
	wantCode(t, "disabled", err, "InvalidAccessKeyId")
	// Detaching a policy takes effect on the next request.
	propose(t, ts, meta.DetachPolicy{Policy: "writeonly", User: "writer"})
	wantCode(t, "detached", put(t, writer, "data", "w2", "x"), "AccessDenied")
}

// TestServiceAccounts: a service account has its parent's permissions,
// narrowed by its own policy, and dies with its parent.
func TestServiceAccounts(t *testing.T) {
	ts := startTestServer(t)
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("data")})
	mustOK(t, "create", err)
	addUser(t, ts, "parent", "parent-secret-1", "readwrite")
	addServiceAccount(t, ts, "SACHILD", "child-secret-12", "parent",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::data/tools/*"}]}`)
	addServiceAccount(t, ts, "SAFULL", "full-secret-123", "parent", "")
	child := sdkClient(t, ts, "SACHILD", "child-secret-12")
	full := sdkClient(t, ts, "SAFULL", "full-secret-123")

	mustOK(t, "prefix put", put(t, child, "data", "tools/a", "a"))
	wantCode(t, "outside prefix", put(t, child, "data", "other/a", "a"), "AccessDenied")
	mustOK(t, "unrestricted put", put(t, full, "data", "other/a", "a"))
	if got, err := getBody(t, child, "data", "tools/a"); err != nil || got != "a" {
		t.Errorf("prefix get: %q %v", got, err)
	}

	// Buckets a service account creates belong to its parent.
	_, err = full.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("made-by-sa")})
	mustOK(t, "sa create bucket", err)
	ts.ctl.View(func(st *meta.State) {
		if o := st.Buckets["made-by-sa"].Owner; o != "parent" {
			t.Errorf("bucket owner %q, want the parent", o)
		}
	})

	setUser(t, ts, "parent", func(u *meta.User) { u.Disabled = true })
	wantCode(t, "parent disabled", put(t, full, "data", "x", "x"), "InvalidAccessKeyId")
	setUser(t, ts, "parent", func(u *meta.User) { u.Disabled = false })
	mustOK(t, "parent enabled again", put(t, full, "data", "x", "x"))
	propose(t, ts, meta.DeleteUser{AccessKey: "parent"})
	wantCode(t, "parent removed", put(t, full, "data", "x", "x"), "InvalidAccessKeyId")
	wantCode(t, "parent removed (restricted)", put(t, child, "data", "tools/b", "x"), "InvalidAccessKeyId")
}

// TestBucketPolicies: Put/Get/DeleteBucketPolicy and PolicyStatus, the
// owner's rights, anonymous access through Principal "*", a grant to a
// named user, and a Deny in the bucket policy.
func TestBucketPolicies(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	addPolicy(t, ts, "maker", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:CreateBucket","s3:PutObject"],"Resource":"*"}]}`)
	addUser(t, ts, "owner", "owner-secret-12", "maker")
	addUser(t, ts, "bob", "bob-secret-1234")
	addUser(t, ts, "eve", "eve-secret-1234", "readonly")
	owner := sdkClient(t, ts, "owner", "owner-secret-12")
	bob := sdkClient(t, ts, "bob", "bob-secret-1234")
	eve := sdkClient(t, ts, "eve", "eve-secret-1234")
	_, err := owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pub")})
	mustOK(t, "owner creates", err)
	mustOK(t, "owner puts", put(t, owner, "pub", "index.html", "<html/>"))

	_, err = owner.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pub")})
	wantCode(t, "no policy", err, "NoSuchBucketPolicy")
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
	wantCode(t, "malformed", err, "MalformedPolicy")
	other := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::elsewhere/*"}]}`
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(other)})
	wantCode(t, "resource of another bucket", err, "MalformedPolicy")

	// Anonymous reads are refused until the policy allows them.
	if resp, body := anon(t, "GET", ts.url+"/pub/index.html", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous get before policy: %d %s", resp.StatusCode, body)
	}
	pol := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*"},
		{"Sid":"Bob","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::default:user/bob"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::pub/uploads/*"},
		{"Sid":"NoSecrets","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/secret/*"}]}`
	// The owner manages the policy without an identity policy saying so;
	// others may not.
	_, err = eve.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(pol)})
	wantCode(t, "someone else's bucket policy", err, "AccessDenied")
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(pol)})
	mustOK(t, "owner puts policy", err)
	got, err := owner.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pub")})
	if err != nil || aws.ToString(got.Policy) != pol {
		t.Errorf("get policy: %v %v", got, err)
	}
	st, err := owner.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("pub")})
	if err != nil || !aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Errorf("policy status: %+v %v", st, err)
	}

	if resp, body := anon(t, "GET", ts.url+"/pub/index.html", ""); resp.StatusCode != 200 || body != "<html/>" {
		t.Errorf("anonymous get: %d %s", resp.StatusCode, body)
	}
	if resp, body := anon(t, "PUT", ts.url+"/pub/evil.html", "x"); resp.StatusCode != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("anonymous put: %d %s", resp.StatusCode, body)
	}
	if resp, _ := anon(t, "GET", ts.url+"/pub?list-type=2", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous list: %d", resp.StatusCode)
	}
	mustOK(t, "bob uploads", put(t, bob, "pub", "uploads/b", "b"))
	wantCode(t, "bob outside uploads", put(t, bob, "pub", "b", "b"), "AccessDenied")
	mustOK(t, "secret stored", put(t, owner, "pub", "secret/s", "s"))
	if resp, _ := anon(t, "GET", ts.url+"/pub/secret/s", ""); resp.StatusCode != 403 {
		t.Errorf("denied by the bucket policy: %d", resp.StatusCode)
	}
	_, err = getBody(t, eve, "pub", "secret/s")
	wantCode(t, "bucket Deny beats identity Allow", err, "AccessDenied")
	_, err = getBody(t, root, "pub", "secret/s")
	mustOK(t, "root is not bound by policies", err)

	// Even a policy that denies the owner everything can be replaced.
	lockout := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::pub","arn:aws:s3:::pub/*"]}]}`
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(lockout)})
	mustOK(t, "lockout policy", err)
	wantCode(t, "locked out of puts", put(t, owner, "pub", "x", "x"), "AccessDenied")
	_, err = owner.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("pub")})
	mustOK(t, "owner deletes policy", err)
	mustOK(t, "puts again", put(t, owner, "pub", "x", "x"))
	if resp, _ := anon(t, "GET", ts.url+"/pub/index.html", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous get after delete: %d", resp.StatusCode)
	}
	_, err = owner.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("pub")})
	wantCode(t, "status without policy", err, "NoSuchBucketPolicy")

	// A restricted public grant is not public.
	restricted := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pub/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(restricted)})
	mustOK(t, "restricted policy", err)
	st, err = owner.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("pub")})
	if err != nil || aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Errorf("restricted status: %+v %v", st, err)
	}
	// The test client is 127.0.0.1: outside 10.0.0.0/8.
	if resp, _ := anon(t, "GET", ts.url+"/pub/index.html", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous get from outside the range: %d", resp.StatusCode)
	}
	loopback := strings.ReplaceAll(restricted, "10.0.0.0/8", "127.0.0.0/8")
	_, err = owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pub"), Policy: aws.String(loopback)})
	mustOK(t, "loopback policy", err)
	if resp, _ := anon(t, "GET", ts.url+"/pub/index.html", ""); resp.StatusCode != 200 {
		t.Errorf("anonymous get from inside the range: %d", resp.StatusCode)
	}
}

// TestListBucketsVisibility: root sees every bucket; a user its own and
// those a policy lets it list; nobody else's otherwise.
func TestListBucketsVisibility(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	addPolicy(t, ts, "maker", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:CreateBucket","Resource":"*"},
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::listable"}]}`)
	addUser(t, ts, "u1", "u1-secret-1234", "maker")
	u1 := sdkClient(t, ts, "u1", "u1-secret-1234")
	for _, b := range []string{"listable", "hidden"} {
		_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		mustOK(t, "create "+b, err)
	}
	_, err := u1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("own")})
	mustOK(t, "u1 creates", err)
	names := func(c *s3.Client) []string {
		out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		mustOK(t, "list buckets", err)
		var n []string
		for _, b := range out.Buckets {
			n = append(n, aws.ToString(b.Name))
		}
		return n
	}
	if got := names(u1); !slices.Equal(got, []string{"listable", "own"}) {
		t.Errorf("u1 sees %v", got)
	}
	if got := names(root); !slices.Equal(got, []string{"hidden", "listable", "own"}) {
		t.Errorf("root sees %v", got)
	}
	if resp, _ := anon(t, "GET", ts.url+"/", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous ListBuckets: %d", resp.StatusCode)
	}
}

// TestCopyAndDeleteObjectsAuthz: a copy needs GetObject on the source and
// PutObject on the destination; DeleteObjects checks every key.
func TestCopyAndDeleteObjectsAuthz(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	for _, b := range []string{"src", "dst"} {
		_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		mustOK(t, "create "+b, err)
	}
	mustOK(t, "seed", put(t, root, "src", "k", "data"))
	mustOK(t, "seed", put(t, root, "src", "keep/k", "data"))
	addPolicy(t, ts, "dstonly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::dst/*"}]}`)
	addPolicy(t, ts, "srcread", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src/*"},
		{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::src/*"},
		{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::src/keep/*"}]}`)
	addUser(t, ts, "copier", "copier-secret-1", "dstonly")
	c := sdkClient(t, ts, "copier", "copier-secret-1")
	cp := func() error {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("k"), CopySource: aws.String("src/k")})
		return err
	}
	wantCode(t, "copy without source read", cp(), "AccessDenied")
	propose(t, ts, meta.AttachPolicy{Policy: "srcread", User: "copier"})
	mustOK(t, "copy", cp())

	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("src"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("k")}, {Key: aws.String("keep/k")}}}})
	mustOK(t, "delete objects", err)
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "k" || len(out.Errors) != 1 ||
		aws.ToString(out.Errors[0].Key) != "keep/k" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("delete objects: deleted %+v errors %+v", out.Deleted, out.Errors)
	}
	if got, err := getBody(t, root, "src", "keep/k"); err != nil || got != "data" {
		t.Errorf("denied key deleted: %q %v", got, err)
	}
}

// TestConditionKeys: tag conditions (existing and requested) and
// s3:x-amz-acl reach the policies.
func TestConditionKeys(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tags")})
	mustOK(t, "create", err)
	_, err = root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("open"), Body: strings.NewReader("o"), Tagging: aws.String("class=open")})
	mustOK(t, "seed open", err)
	_, err = root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("closed"), Body: strings.NewReader("c"), Tagging: aws.String("class=closed")})
	mustOK(t, "seed closed", err)
	addPolicy(t, ts, "tagged", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::tags/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/class":"open"}}},
		{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::tags/*","Condition":{"StringEquals":{"s3:RequestObjectTag/class":"open"}}},
		{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::tags/*","Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"}}}]}`)
	addUser(t, ts, "tagger", "tagger-secret-1", "tagged")
	c := sdkClient(t, ts, "tagger", "tagger-secret-1")
	if got, err := getBody(t, c, "tags", "open"); err != nil || got != "o" {
		t.Errorf("open object: %q %v", got, err)
	}
	_, err = getBody(t, c, "tags", "closed")
	wantCode(t, "closed object", err, "AccessDenied")
	putTagged := func(tagging string, acl types.ObjectCannedACL) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("new"), Body: strings.NewReader("n"), Tagging: aws.String(tagging), ACL: acl})
		return err
	}
	mustOK(t, "put tagged open", putTagged("class=open", ""))
	wantCode(t, "put tagged closed", putTagged("class=closed", ""), "AccessDenied")
	wantCode(t, "put public-read", putTagged("class=open", types.ObjectCannedACLPublicRead), "AccessDenied")
}

// signedAs is signed() for any credentials and signing time.
func signedAs(t *testing.T, ts *testServer, method, path string, body []byte, ak, sk, token string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("x-amz-content-sha256", hash)
	creds := aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, SessionToken: token}
	if err := v4signer().SignHTTP(t.Context(), creds, req, hash, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// BenchmarkAuthorize measures what authorization adds to a request of a
// user whose attached policy has 1, 10 or 100 statements (the last one
// allowing): state lookup, cached policies, evaluation.
func BenchmarkAuthorize(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			ts := startTestServerDeps(b, nil)
			var stmts []string
			for i := range n - 1 {
				stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::other%d/*"}`, i))
			}
			stmts = append(stmts, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`)
			doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
			ctx := b.Context()
			for _, cmd := range []meta.Command{
				meta.PutPolicy{Policy: meta.Policy{Name: "p", Document: []byte(doc)}},
				meta.PutUser{User: meta.User{AccessKey: "u", Name: "u", SecretSealed: []byte(sealPrefix + "s"), Policies: []string{"p"}}},
				meta.CreateBucket{Bucket: meta.Bucket{Name: "data", Owner: testAccessKey}},
			} {
				if err := ts.ctl.Propose(ctx, cmd); err != nil {
					b.Fatal(err)
				}
			}
			var u meta.User
			ts.ctl.View(func(st *meta.State) { u = *st.Users["u"] })
			r := &request{ctx: ctx, fctx: &fasthttp.RequestCtx{}, op: opGetObject, query: url.Values{},
				who: &identity{kind: identUser, accessKey: "u", user: u}}
			r.bucket, r.key = "data", "some/key"
			if err := ts.authorize(r); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := ts.authorize(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
