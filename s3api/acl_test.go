package s3api

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// grantSet renders an SDK grant list as "TYPE:WHO:PERMISSION" strings.
func grantSet(gs []types.Grant) []string {
	var out []string
	for _, g := range gs {
		who := aws.ToString(g.Grantee.ID)
		if g.Grantee.URI != nil {
			who = aws.ToString(g.Grantee.URI)
		}
		out = append(out, string(g.Grantee.Type)+":"+who+":"+string(g.Permission))
	}
	return out
}

// TestCannedACLs: bucket and object ACLs set by header and by
// AccessControlPolicy, read back in the AWS XML, and honoured for
// anonymous and authenticated callers without any policy.
func TestCannedACLs(t *testing.T) {
	ts := startTestServer(t)
	ctx := t.Context()
	root := sdkClient(t, ts, testAccessKey, testSecretKey)
	addUser(t, ts, "plain", "plain-secret-12")
	plain := sdkClient(t, ts, "plain", "plain-secret-12")

	_, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("open"), ACL: types.BucketCannedACLPublicRead})
	mustOK(t, "create public-read", err)
	mustOK(t, "seed", put(t, root, "open", "private-object", "p"))
	acl, err := root.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("open")})
	mustOK(t, "get bucket acl", err)
	own := ts.ownerOf(testAccessKey)
	want := []string{"CanonicalUser:" + own.ID + ":FULL_CONTROL", "Group:" + groupAllUsers + ":READ"}
	if got := grantSet(acl.Grants); strings.Join(got, " ") != strings.Join(want, " ") || aws.ToString(acl.Owner.ID) != own.ID {
		t.Errorf("bucket acl: %v owner %v", got, aws.ToString(acl.Owner.ID))
	}
	// A public-read bucket lists for anyone; its objects stay private.
	if resp, body := anon(t, "GET", ts.url+"/open?list-type=2", ""); resp.StatusCode != 200 || !strings.Contains(body, "private-object") {
		t.Errorf("anonymous list of a public-read bucket: %d %s", resp.StatusCode, body)
	}
	if resp, _ := anon(t, "GET", ts.url+"/open/private-object", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous get of a private object: %d", resp.StatusCode)
	}
	if resp, _ := anon(t, "PUT", ts.url+"/open/x", "x"); resp.StatusCode != 403 {
		t.Errorf("anonymous put into a public-read bucket: %d", resp.StatusCode)
	}

	// An object ACL makes one object public.
	_, err = root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("open"), Key: aws.String("pub"), Body: strings.NewReader("hi"), ACL: types.ObjectCannedACLPublicRead})
	mustOK(t, "put public-read object", err)
	if resp, body := anon(t, "GET", ts.url+"/open/pub", ""); resp.StatusCode != 200 || body != "hi" {
		t.Errorf("anonymous get of a public-read object: %d %s", resp.StatusCode, body)
	}
	oacl, err := root.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("open"), Key: aws.String("pub")})
	if err != nil || len(oacl.Grants) != 2 {
		t.Errorf("object acl: %v %v", oacl, err)
	}
	// PutObjectAcl in place: authenticated-read keeps anonymous callers out
	// and lets any user in.
	_, err = root.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("open"), Key: aws.String("pub"), ACL: types.ObjectCannedACLAuthenticatedRead})
	mustOK(t, "put object acl", err)
	if resp, _ := anon(t, "GET", ts.url+"/open/pub", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous get of an authenticated-read object: %d", resp.StatusCode)
	}
	if got, err := getBody(t, plain, "open", "pub"); err != nil || got != "hi" {
		t.Errorf("user get of an authenticated-read object: %q %v", got, err)
	}
	oacl, _ = root.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("open"), Key: aws.String("pub")})
	if g := grantSet(oacl.Grants); len(g) != 2 || g[1] != "Group:"+groupAuthenticated+":READ" {
		t.Errorf("object acl after put: %v", g)
	}
	// The user still may not write, and a copy does not carry the ACL.
	wantCode(t, "user put", put(t, plain, "open", "x", "x"), "AccessDenied")
	_, err = root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("open"), Key: aws.String("copy"), CopySource: aws.String("open/pub")})
	mustOK(t, "copy", err)
	_, err = getBody(t, plain, "open", "copy")
	wantCode(t, "copy is private", err, "AccessDenied")

	// PutBucketAcl with an AccessControlPolicy body: private again.
	_, err = root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("open"), AccessControlPolicy: &types.AccessControlPolicy{
		Owner:  &types.Owner{ID: aws.String(own.ID)},
		Grants: []types.Grant{{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(own.ID)}, Permission: types.PermissionFullControl}},
	}})
	mustOK(t, "put bucket acl body", err)
	if resp, _ := anon(t, "GET", ts.url+"/open?list-type=2", ""); resp.StatusCode != 403 {
		t.Errorf("anonymous list of a private bucket: %d", resp.StatusCode)
	}
	// A body that is the grant list of public-read-write: anyone writes.
	_, err = root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("open"), AccessControlPolicy: &types.AccessControlPolicy{
		Owner: &types.Owner{ID: aws.String(own.ID)},
		Grants: []types.Grant{
			{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String(groupAllUsers)}, Permission: types.PermissionRead},
			{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String(groupAllUsers)}, Permission: types.PermissionWrite},
		},
	}})
	mustOK(t, "put bucket acl public-read-write body", err)
	if resp, body := anon(t, "PUT", ts.url+"/open/anon", "a"); resp.StatusCode != 200 {
		t.Errorf("anonymous put into a public-read-write bucket: %d %s", resp.StatusCode, body)
	}
	// Grants that are no canned ACL are not implemented.
	_, err = root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("open"), AccessControlPolicy: &types.AccessControlPolicy{
		Owner:  &types.Owner{ID: aws.String(own.ID)},
		Grants: []types.Grant{{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("someone-else")}, Permission: types.PermissionRead}},
	}})
	wantCode(t, "grant to another user", err, "NotImplemented")
	_, err = root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("open"), ACL: "bogus"})
	wantCode(t, "unknown canned acl", err, "InvalidArgument")
	// Only the owner (or a policy) manages a bucket's ACL.
	_, err = plain.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("open"), ACL: types.BucketCannedACLPrivate})
	wantCode(t, "someone else's bucket acl", err, "AccessDenied")
}

func TestCannedOfBody(t *testing.T) {
	own := owner{ID: "abc"}
	for _, acl := range []string{aclPrivate, aclPublicRead, aclPublicReadWrite, aclAuthenticatedRead, aclLogDeliveryWrite} {
		body, err := marshalXML(accessControlPolicy{Xmlns: s3Namespace, Owner: own, Grants: grantsOf(acl, own)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cannedOfBody(body, own)
		want := acl
		if acl == aclPrivate {
			want = ""
		}
		if err != nil || got != want {
			t.Errorf("%s: round trip gives %q, %v", acl, got, err)
		}
		if !strings.Contains(string(body), `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`) || !strings.Contains(string(body), `xsi:type="CanonicalUser"`) {
			t.Errorf("%s: grantee attributes missing: %s", acl, body)
		}
	}
	if _, err := cannedOfBody([]byte("<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission>"), own); err == nil {
		t.Error("truncated body accepted")
	}
}

func TestACLAllows(t *testing.T) {
	cases := []struct {
		acl, action   string
		authenticated bool
		object        bool
		want          bool
	}{
		{aclPublicRead, actListBucket, false, false, true},
		{aclPublicRead, actGetObject, false, false, false}, // a bucket ACL does not open its objects
		{aclPublicRead, actGetObject, false, true, true},
		{aclPublicRead, actPutObject, false, false, false},
		{aclPublicReadWrite, actPutObject, false, false, true},
		{aclPublicReadWrite, actDeleteObject, false, false, true},
		{aclPublicReadWrite, actPutObject, false, true, false},
		{aclAuthenticatedRead, actGetObject, false, true, false},
		{aclAuthenticatedRead, actGetObject, true, true, true},
		{aclAuthenticatedRead, actListBucketVersions, true, false, true},
		{"", actListBucket, true, false, false},
		{aclBucketOwnerFullControl, actGetObject, true, true, false},
		{aclPublicRead, "s3:GetObjectTagging", false, true, false},
	}
	for _, c := range cases {
		if got := aclAllows(c.acl, c.action, c.authenticated, c.object); got != c.want {
			t.Errorf("aclAllows(%q, %s, auth=%v, object=%v) = %v", c.acl, c.action, c.authenticated, c.object, got)
		}
	}
}
