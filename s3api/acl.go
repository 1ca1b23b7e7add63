package s3api

import (
	"bytes"
	"encoding/xml"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/meta"
)

// Canned ACLs on buckets (meta.Bucket.ACL, in Raft) and on object versions
// (dataplane's ObjectInfo.ACL, stored with the version): x-amz-acl on
// CreateBucket, PutObject, CopyObject, CreateMultipartUpload and POST
// uploads; Get/PutBucketAcl and Get/PutObjectAcl in the AWS XML. Only
// canned ACLs exist: an AccessControlPolicy body is accepted when it is the
// grant list of one. Every object is owned by its bucket's owner (S3's
// object ownership "bucket owner preferred"), and grants to owners confer
// nothing beyond the owner's own policies, as in AWS where ACL grants name
// accounts and IAM users still need policies. What ACLs add to
// authorization is their grants to everyone (public-read,
// public-read-write) and to every authenticated caller
// (authenticated-read): aclAllows.

// Canned ACL names.
const (
	aclPrivate                = "private"
	aclPublicRead             = "public-read"
	aclPublicReadWrite        = "public-read-write"
	aclAuthenticatedRead      = "authenticated-read"
	aclBucketOwnerRead        = "bucket-owner-read"
	aclBucketOwnerFullControl = "bucket-owner-full-control"
	aclAWSExecRead            = "aws-exec-read"
	aclLogDeliveryWrite       = "log-delivery-write"
)

// ACL grantee group URIs and permissions, as S3 spells them.
const (
	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"
	permFullControl    = "FULL_CONTROL"
	permRead           = "READ"
	permWrite          = "WRITE"
	permReadACP        = "READ_ACP"
	xsiNamespace       = "http://www.w3.org/2001/XMLSchema-instance"
)

// maxACLBodySize bounds a Put*Acl body.
const maxACLBodySize = 64 << 10

// cannedACL checks a canned ACL name and returns what is stored: "" for
// private, and for the bucket-owner-* ACLs on a bucket, which S3 ignores
// there.
func cannedACL(v string, onBucket bool) (string, error) {
	switch v {
	case aclPrivate:
		return "", nil
	case aclBucketOwnerRead, aclBucketOwnerFullControl:
		if onBucket {
			return "", nil
		}
		return v, nil
	case aclPublicRead, aclPublicReadWrite, aclAuthenticatedRead, aclAWSExecRead, aclLogDeliveryWrite:
		return v, nil
	}
	return "", apiError(codeInvalidArgument, "The canned ACL "+v+" is not valid.")
}

// requestACL returns the canned ACL a request sets with x-amz-acl (""
// when none or private). Explicit grants (x-amz-grant-*) are not
// implemented.
func requestACL(r *request, onBucket bool) (string, error) {
	for k := range r.fctx.Request.Header.All() {
		if strings.HasPrefix(strings.ToLower(string(k)), "x-amz-grant-") {
			return "", apiError(codeNotImplemented, "Explicit grants (x-amz-grant-*) are not implemented; use a canned ACL (x-amz-acl).")
		}
	}
	v := strings.TrimSpace(r.header("x-amz-acl"))
	if v == "" {
		return "", nil
	}
	return cannedACL(v, onBucket)
}

// aclAllows reports whether a canned ACL lets a caller (authenticated or
// not) take action: on a bucket, READ to everyone (public-read,
// public-read-write) or to authenticated callers (authenticated-read)
// lists it, WRITE to everyone (public-read-write) writes and deletes its
// objects; on an object, READ reads it.
func aclAllows(acl, action string, authenticated, onObject bool) bool {
	read := acl == aclPublicRead || acl == aclPublicReadWrite || acl == aclAuthenticatedRead && authenticated
	write := acl == aclPublicReadWrite
	if onObject {
		return read && (action == actGetObject || action == actGetObjectVersion)
	}
	switch action {
	case actListBucket, actListBucketVersions, actListBucketMultipartUploads:
		return read
	case actPutObject, actDeleteObject:
		return write
	}
	return false
}

// accessControlPolicy is the AccessControlPolicy XML of Get*Acl.
type accessControlPolicy struct {
	XMLName xml.Name   `xml:"AccessControlPolicy"`
	Xmlns   string     `xml:"xmlns,attr,omitempty"`
	Owner   owner      `xml:"Owner"`
	Grants  []aclGrant `xml:"AccessControlList>Grant"`
}

type aclGrant struct {
	Grantee    aclGrantee `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type aclGrantee struct {
	XMLNSXsi    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

// grantsOf lists the grants of a canned ACL whose owner is own.
func grantsOf(acl string, own owner) []aclGrant {
	user := func(perm string) aclGrant {
		return aclGrant{Grantee: aclGrantee{XMLNSXsi: xsiNamespace, Type: "CanonicalUser", ID: own.ID, DisplayName: own.DisplayName}, Permission: perm}
	}
	group := func(uri, perm string) aclGrant {
		return aclGrant{Grantee: aclGrantee{XMLNSXsi: xsiNamespace, Type: "Group", URI: uri}, Permission: perm}
	}
	grants := []aclGrant{user(permFullControl)}
	switch acl {
	case aclPublicRead:
		grants = append(grants, group(groupAllUsers, permRead))
	case aclPublicReadWrite:
		grants = append(grants, group(groupAllUsers, permRead), group(groupAllUsers, permWrite))
	case aclAuthenticatedRead:
		grants = append(grants, group(groupAuthenticated, permRead))
	case aclLogDeliveryWrite:
		grants = append(grants, group(groupLogDelivery, permWrite), group(groupLogDelivery, permReadACP))
	}
	return grants
}

// aclRequest is a Put*Acl body: an AccessControlPolicy (the xsi:type
// attribute matched by its local name).
type aclRequest struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *owner   `xml:"Owner"`
	Grants  []struct {
		Grantee *struct {
			Type         string `xml:"type,attr"`
			ID           string `xml:"ID"`
			URI          string `xml:"URI"`
			EmailAddress string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// cannedOfBody parses an AccessControlPolicy body and returns the canned
// ACL whose grants it lists (grants to the owner aside), as stored ("" for
// private). A malformed body is MalformedACLError; grants no canned ACL
// has are NotImplemented.
func cannedOfBody(data []byte, own owner) (string, error) {
	var req aclRequest
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&req); err != nil {
		return "", apiError(codeMalformedACLError)
	}
	var got []string
	for _, g := range req.Grants {
		if g.Grantee == nil {
			return "", apiError(codeMalformedACLError)
		}
		switch perm := strings.TrimSpace(g.Permission); {
		case perm != permFullControl && perm != permRead && perm != permWrite && perm != permReadACP && perm != "WRITE_ACP":
			return "", apiError(codeMalformedACLError)
		case g.Grantee.Type == "CanonicalUser" && strings.TrimSpace(g.Grantee.ID) == own.ID:
			// The owner's own grant: the owner always has full control.
		case g.Grantee.Type == "Group":
			got = append(got, strings.TrimSpace(g.Grantee.URI)+" "+perm)
		default:
			return "", apiError(codeNotImplemented, "Only grants to the owner and to the AllUsers, AuthenticatedUsers and LogDelivery groups, as canned ACLs make them, are implemented.")
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	for _, acl := range []string{aclPrivate, aclPublicRead, aclPublicReadWrite, aclAuthenticatedRead, aclLogDeliveryWrite} {
		var want []string
		for _, g := range grantsOf(acl, own)[1:] {
			want = append(want, g.Grantee.URI+" "+g.Permission)
		}
		slices.Sort(want)
		if slices.Equal(got, want) {
			if acl == aclPrivate {
				return "", nil
			}
			return acl, nil
		}
	}
	return "", apiError(codeNotImplemented, "Only grant lists equal to those of a canned ACL (private, public-read, public-read-write, authenticated-read, log-delivery-write) are implemented.")
}

// aclOfPut returns the ACL a Put*Acl request sets: x-amz-acl or an
// AccessControlPolicy body, not both.
func (s *Server) aclOfPut(r *request, own owner, onBucket bool) (string, error) {
	acl, err := requestACL(r, onBucket)
	if err != nil {
		return "", err
	}
	data, err := s.readSmallBody(r, maxACLBodySize, apiError(codeMalformedACLError))
	if err != nil {
		return "", err
	}
	hasBody := len(bytes.TrimSpace(data)) > 0
	switch {
	case r.header("x-amz-acl") != "" && hasBody:
		return "", apiError(codeInvalidRequest, "Specifying both a canned ACL and an access control policy is not allowed.")
	case r.header("x-amz-acl") != "":
		return acl, nil
	case !hasBody:
		return "", apiError(codeMalformedACLError)
	}
	acl, err = cannedOfBody(data, own)
	if err != nil {
		return "", err
	}
	if onBucket && (acl == aclBucketOwnerRead || acl == aclBucketOwnerFullControl) {
		acl = ""
	}
	return acl, nil
}

// getBucketACL serves GetBucketAcl (GET ?acl).
func (s *Server) getBucketACL(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	own := s.ownerOf(b.Owner)
	return s.writeXML(r, accessControlPolicy{Xmlns: s3Namespace, Owner: own, Grants: grantsOf(b.ACL, own)})
}

// putBucketACL serves PutBucketAcl (PUT ?acl).
func (s *Server) putBucketACL(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	acl, err := s.aclOfPut(r, s.ownerOf(b.Owner), true)
	if err != nil {
		return err
	}
	if acl == "" {
		acl = aclPrivate // meta stores it as ""
	}
	if err := s.deps.Control.Propose(r.ctx, meta.SetBucketACL{Bucket: r.bucket, ACL: acl}); err != nil {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// getObjectACL serves GetObjectAcl (GET key?acl[&versionId]).
func (s *Server) getObjectACL(r *request) error {
	b, info, err := s.versionInfo(r)
	if err != nil {
		return err
	}
	own := s.ownerOf(b.Owner)
	return s.writeXML(r, accessControlPolicy{Xmlns: s3Namespace, Owner: own, Grants: grantsOf(info.ACL, own)})
}

// putObjectACL serves PutObjectAcl (PUT key?acl[&versionId]): the
// version's ACL replaced in place.
func (s *Server) putObjectACL(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	versionID, err := versionParam(r)
	if err != nil {
		return err
	}
	acl, err := s.aclOfPut(r, s.ownerOf(b.Owner), false)
	if err != nil {
		return err
	}
	info, err := s.deps.Objects.SetObjectACL(r.ctx, r.bucket, r.key, versionID, acl)
	if err != nil {
		return err
	}
	setVersionHeader(r, b, info.VersionID)
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}
