package iam

import (
	"strings"
	"testing"
)

// The policies below are the examples of the AWS documentation (IAM User
// Guide: "IAM JSON policy elements" — NotAction, NotResource, NotPrincipal,
// Condition operators, policy variables, condition set operators,
// "Example IAM identity-based policies"; Amazon S3 User Guide: "Examples of
// Amazon S3 bucket policies", "Bucket policy examples using condition
// keys", "Controlling access to a bucket with user policies"), with their
// account ids and bucket names; some are cut to the statements a case
// exercises.

const (
	demo    = "arn:aws:s3:::amzn-s3-demo-bucket"
	demoObj = demo + "/"
)

type docPolicy struct {
	kind   PolicyKind
	bucket string
	doc    string
}

func ident(doc string) docPolicy { return docPolicy{IdentityPolicy, "", doc} }
func bucketPol(bucket, doc string) docPolicy {
	return docPolicy{BucketPolicy, bucket, doc}
}

var examplePolicies = map[string]docPolicy{
	// S3 User Guide: a user's home folder with ${aws:username}.
	"home": ident(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"AllowListingOfUserFolder","Action":["s3:ListBucket"],"Effect":"Allow","Resource":["arn:aws:s3:::amzn-s3-demo-bucket"],
	  "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","home/${aws:username}"]}}},
	 {"Sid":"AllowAllS3ActionsInUserFolder","Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"]}]}`),
	// The same in a 2008-10-17 document: ${...} is literal text.
	"home2008": ident(`{"Version":"2008-10-17","Statement":[
	 {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}]}`),
	// IAM: date and time window.
	"datewindow": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
	 "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}]}`),
	// IAM: deny by source IP (with aws:ViaAWSService, absent here).
	"denyip": ident(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
	 "Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`),
	"denyiponly": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
	 {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}}]}`),
	// S3: public read.
	"publicread": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*",
	 "Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket/*"]}]}`),
	// S3: restrict to an IP range.
	"ipallow": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Id":"S3PolicyId1","Statement":[{"Sid":"IPAllow","Effect":"Deny","Principal":"*","Action":"s3:*",
	 "Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],"Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`),
	// S3: IPv4 and IPv6 mix.
	"ipmix": bucketPol("amzn-s3-demo-bucket", `{"Id":"PolicyId2","Version":"2012-10-17","Statement":[{"Sid":"AllowIPmix","Effect":"Allow","Principal":"*","Action":"s3:*",
	 "Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],
	 "Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:DB8:1234:5678::/64"]},"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678:ABCD::/80"]}}}]}`),
	// S3: TLS only.
	"tlsonly": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[{"Sid":"RestrictToTLSRequestsOnly","Action":"s3:*","Effect":"Deny",
	 "Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Principal":"*"}]}`),
	// S3: cross-account upload with bucket-owner-full-control.
	"ownerfull": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[{"Sid":"PolicyForAllowUploadWithACL","Effect":"Allow",
	 "Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
	 "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`),
	// S3: s3:max-keys.
	"maxkeys": ident(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"statement1","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}},
	 {"Sid":"statement2","Effect":"Deny","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"NumericGreaterThan":{"s3:max-keys":"10"}}}]}`),
	// S3: list only one folder (s3:prefix).
	"prefix": ident(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"statement1","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket"],"Condition":{"StringEquals":{"s3:prefix":"projects"}}},
	 {"Sid":"statement2","Effect":"Deny","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket"],"Condition":{"StringNotEquals":{"s3:prefix":"projects"}}}]}`),
	// S3: s3:delimiter plus prefix (AND of keys in one operator).
	"delimiter": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket",
	 "Condition":{"StringEquals":{"s3:prefix":["","home/"],"s3:delimiter":["/"]}}}]}`),
	// S3: existing object tag.
	"existingtag": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
	 "Condition":{"StringEquals":{"s3:ExistingObjectTag/environment":"production"}}}]}`),
	// S3: request object tag.
	"requesttag": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*",
	 "Condition":{"StringEquals":{"s3:RequestObjectTag/Project":"X"}}}]}`),
	// S3: restrict tag keys (ForAllValues) and require one (ForAnyValue).
	"tagkeysall": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:PutObjectTagging"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket/*"],
	 "Condition":{"ForAllValues:StringLike":{"s3:RequestObjectTagKeys":["Owner","CreationDate"]}}}]}`),
	"tagkeysany": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:PutObjectTagging"],"Resource":["arn:aws:s3:::amzn-s3-demo-bucket/*"],
	 "Condition":{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":["Project"]}}}]}`),
	// IAM: ForAllValues with a Null check so a missing key is not true.
	"tagkeysallnull": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjectTagging","Resource":"*",
	 "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]},"Null":{"aws:TagKeys":"false"}}}]}`),
	// IAM: negated set operators deny.
	"denytagprefix": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjectTagging","Resource":"*"},
	 {"Effect":"Deny","Action":"s3:PutObjectTagging","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["key1*"]}}}]}`),
	"allnotequals": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjectTagging","Resource":"*",
	 "Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret","internal"]}}}]}`),
	"anynotlike": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObjectTagging","Resource":"*",
	 "Condition":{"ForAnyValue:StringNotLike":{"aws:TagKeys":["team-*"]}}},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`),
	// IAM: NotAction with Allow.
	"notactionallow": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["s3:DeleteBucket","s3:DeleteObject*"],"Resource":"*"}]}`),
	// IAM: NotAction with Deny and BoolIfExists on MFA.
	"denynomfa": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","iam:*"],"Resource":"*"},
	 {"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`),
	// IAM: NotResource with Deny.
	"notresource": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
	 {"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]}]}`),
	// IAM: NotResource with Allow.
	"notresourceallow": ident(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}}`),
	// S3/IAM: NotPrincipal with Deny.
	"notprincipal": bucketPol("BUCKETNAME", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":["arn:aws:s3:::BUCKETNAME","arn:aws:s3:::BUCKETNAME/*"]},
	 {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob"]},"Action":"s3:*","Resource":["arn:aws:s3:::BUCKETNAME","arn:aws:s3:::BUCKETNAME/*"]}]}`),
	// S3: grant to one user and to an account root.
	"users": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[
	 {"Sid":"Dave","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/Dave"},"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"},
	 {"Sid":"Account","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket"}]}`),
	// S3: deny public ACLs on upload.
	"denypublicacl": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"},
	 {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringEquals":{"s3:x-amz-acl":["public-read","public-read-write"]}}}]}`),
	// IAM: StringEqualsIgnoreCase / StringNotEqualsIgnoreCase.
	"ignorecase": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
	 "Condition":{"StringEqualsIgnoreCase":{"s3:x-amz-storage-class":"standard_ia"}}}]}`),
	"notignorecase": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
	 "Condition":{"StringNotEqualsIgnoreCase":{"s3:x-amz-storage-class":["GLACIER","DEEP_ARCHIVE"]}}}]}`),
	// IAM: StringLike / StringNotLike with ? and *.
	"like": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
	 "Condition":{"StringLike":{"s3:prefix":["logs/20??/*","public/*"]}}}]}`),
	"notlike": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
	 "Condition":{"StringNotLike":{"s3:prefix":["private/*","secret*"]}}}]}`),
	// IAM: ...IfExists.
	"likeifexists": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
	 "Condition":{"StringLikeIfExists":{"s3:x-amz-storage-class":["STANDARD","INTELLIGENT_*"]}}}]}`),
	"numericifexists": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
	 "Condition":{"NumericLessThanIfExists":{"s3:max-keys":"100"}}}]}`),
	"ipifexists": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",
	 "Condition":{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}}]}`),
	// IAM: Null (long-term credentials have no aws:TokenIssueTime).
	"nullcheck": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
	 {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}]}`),
	// IAM: dates with epoch time, DateEquals and DateNotEquals.
	"epoch": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
	 "Condition":{"DateLessThanEquals":{"aws:EpochTime":"1735689600"}}}]}`),
	"dateeq": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
	 "Condition":{"DateEquals":{"aws:TokenIssueTime":"2024-05-01T12:00:00Z"}}},
	 {"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"DateNotEquals":{"aws:TokenIssueTime":["2024-05-01T12:00:00Z","2024-05-02T12:00:00Z"]}}}]}`),
	"dategte": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
	 "Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01"}}}]}`),
	// IAM: numeric family.
	"numeric": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
	 "Condition":{"NumericEquals":{"s3:max-keys":[10,20]},"NumericNotEquals":{"s3:max-keys":"15"}}}]}`),
	"numericrange": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
	 "Condition":{"NumericGreaterThanEquals":{"s3:max-keys":"5"},"NumericLessThan":{"s3:max-keys":"50.5"}}}]}`),
	// S3: presigned URL age limit (s3:signatureAge).
	"sigage": bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[{"Sid":"Deny a presigned URL request if the signature is more than 10 min old",
	 "Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"NumericGreaterThan":{"s3:signatureAge":600000}}}]}`),
	// Bool written as a JSON boolean.
	"boolliteral": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}]}`),
	// IAM: ArnLike / ArnNotEquals and BinaryEquals.
	"arnlike": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
	 "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:topic-*"}}}]}`),
	"arnnot": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
	 "Condition":{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:blocked"}}}]}`),
	"binary": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*",
	 "Condition":{"BinaryEquals":{"s3:x-amz-meta-key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}}]}`),
	// Wildcard actions, case-insensitive.
	"getstar":    ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","S3:LIST?UCKET"],"Resource":"arn:aws:s3:::amzn-s3-demo-bucket*"}]}`),
	"starobject": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}`),
	"allstar":    ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
	// Explicit deny over allow.
	"denydelete": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
	 {"Sid":"NoDelete","Effect":"Deny","Action":["s3:DeleteObject","s3:DeleteBucket"],"Resource":"arn:aws:s3:::amzn-s3-demo-bucket*"}]}`),
	// Variables: ${aws:userid}, escapes, defaults, in condition values.
	"userid":  ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:userid}/*"}]}`),
	"escapes": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/literal${*}star${?}q${$}d"}]}`),
	"default": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*"}]}`),
	"condvar": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket",
	 "Condition":{"StringEquals":{"s3:prefix":"${aws:username}/"}}}]}`),
	"denyothers": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
	 {"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}]}`),
	// Multiple values are ORed, multiple keys and operators ANDed.
	"andor": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
	 "Condition":{"IpAddress":{"aws:SourceIp":["10.1.0.0/16","10.2.0.0/16"]},"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:username":["alice","carol"],"aws:userid":"AID1"}}}]}`),
	// Condition key names ignore case.
	"keycase": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"AWS:UserName":"alice"}}}]}`),
	// Other services' actions are matched literally.
	"sts": ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","admin:*"],"Resource":"*"}]}`),
	// The predefined policies.
	"readonly":  {doc: predefinedDocs["readonly"]},
	"writeonly": {doc: predefinedDocs["writeonly"]},
	"readwrite": {doc: predefinedDocs["readwrite"]},
}

var (
	alice = Principal{Account: "111122223333", User: "alice"}
	bob   = Principal{Account: "444455556666", User: "Bob"}
	carl  = Principal{Account: "444455556666", User: "carl"}
	dave  = Principal{Account: "123456789012", User: "Dave"}
	anon  = Principal{Anonymous: true}
)

// ctx parses "key=v1,v2;key2=v" into a request context, lower-casing keys
// as the caller does. "key=" gives the key one empty value.
func ctx(s string) map[string][]string {
	m := map[string][]string{}
	if s == "" {
		return m
	}
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(kv, "=")
		m[strings.ToLower(strings.TrimSpace(k))] = strings.Split(v, ",")
	}
	return m
}

type evalCase struct {
	policy   string
	action   string
	resource string
	who      Principal
	ctx      string
	want     Effect
}

var evalCases = []evalCase{
	// home folder with ${aws:username}
	{"home", "s3:ListBucket", demo, alice, "aws:username=alice;s3:prefix=home/alice/", Allow},
	{"home", "s3:ListBucket", demo, alice, "aws:username=alice;s3:prefix=home/alice", Allow},
	{"home", "s3:ListBucket", demo, alice, "aws:username=alice;s3:prefix=home/bob/", NoMatch},
	{"home", "s3:ListBucket", demo, alice, "aws:username=alice", NoMatch},
	{"home", "s3:GetObject", demoObj + "home/alice/notes.txt", alice, "aws:username=alice", Allow},
	{"home", "s3:PutObject", demoObj + "home/alice/a/b/c", alice, "aws:username=alice", Allow},
	{"home", "s3:GetObject", demoObj + "home/bob/notes.txt", alice, "aws:username=alice", NoMatch},
	{"home", "s3:GetObject", demoObj + "home/alice/x", alice, "", NoMatch}, // no username: variable unresolved
	{"home", "s3:GetObject", demoObj + "home/a*/x", alice, "aws:username=a*", Allow},
	{"home", "s3:GetObject", demoObj + "home/ab/x", alice, "aws:username=a*", NoMatch}, // a substituted * is literal
	{"home2008", "s3:GetObject", demoObj + "home/alice/x", alice, "aws:username=alice", NoMatch},
	{"home2008", "s3:GetObject", demoObj + "home/${aws:username}/x", alice, "aws:username=alice", Allow},

	// date window
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2020-05-01T00:00:00Z", Allow},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2020-03-31T23:59:59Z", NoMatch},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2020-04-01T00:00:00Z", NoMatch},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2020-06-30T23:59:58Z", Allow},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2020-06-30T23:59:59Z", NoMatch},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2020-05-01T02:00:00+02:00", Allow},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "", NoMatch},
	{"datewindow", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=garbage", NoMatch},

	// deny by source IP
	{"denyip", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=198.51.100.1;aws:viaawsservice=false", Deny},
	{"denyip", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=192.0.2.77;aws:viaawsservice=false", NoMatch},
	{"denyip", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=198.51.100.1;aws:viaawsservice=true", NoMatch},
	{"denyip", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=198.51.100.1", NoMatch}, // Bool on a missing key is false
	{"denyiponly", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=203.0.113.9", Allow},
	{"denyiponly", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=203.0.114.9", Deny},
	{"denyiponly", "s3:GetObject", demoObj + "k", alice, "", Deny}, // NotIpAddress on a missing key is true
	{"denyiponly", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=not-an-ip", Deny},

	// public read
	{"publicread", "s3:GetObject", demoObj + "index.html", anon, "", Allow},
	{"publicread", "s3:GetObjectVersion", demoObj + "index.html", anon, "", Allow},
	{"publicread", "s3:GetObject", demoObj + "index.html", alice, "", Allow},
	{"publicread", "s3:PutObject", demoObj + "index.html", anon, "", NoMatch},
	{"publicread", "s3:ListBucket", demo, anon, "", NoMatch},
	{"publicread", "s3:GetObject", "arn:aws:s3:::other-bucket/index.html", anon, "", NoMatch},

	// IP allow list in a bucket policy
	{"ipallow", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=192.0.2.1", NoMatch},
	{"ipallow", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=192.0.3.1", Deny},
	{"ipallow", "s3:ListBucket", demo, anon, "aws:sourceip=10.0.0.1", Deny},
	{"ipallow", "s3:ListBucket", demo, anon, "aws:sourceip=::ffff:192.0.2.8", NoMatch}, // IPv4-mapped IPv6

	// IPv4 + IPv6
	{"ipmix", "s3:GetObject", demoObj + "k", anon, "aws:sourceip=192.0.2.5", Allow},
	{"ipmix", "s3:GetObject", demoObj + "k", anon, "aws:sourceip=2001:db8:1234:5678::1", Allow},
	{"ipmix", "s3:GetObject", demoObj + "k", anon, "aws:sourceip=2001:db8:1234:5678:abcd::1", NoMatch},
	{"ipmix", "s3:GetObject", demoObj + "k", anon, "aws:sourceip=2001:db8:1234:5679::1", NoMatch},
	{"ipmix", "s3:GetObject", demoObj + "k", anon, "aws:sourceip=203.0.113.5", NoMatch},
	{"ipmix", "s3:GetObject", demoObj + "k", anon, "", NoMatch},

	// TLS only
	{"tlsonly", "s3:GetObject", demoObj + "k", alice, "aws:securetransport=false", Deny},
	{"tlsonly", "s3:GetObject", demoObj + "k", alice, "aws:securetransport=true", NoMatch},
	{"tlsonly", "s3:ListBucket", demo, anon, "aws:securetransport=FALSE", Deny},
	{"tlsonly", "s3:ListBucket", demo, anon, "", NoMatch},

	// bucket-owner-full-control for account 111122223333
	{"ownerfull", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-acl=bucket-owner-full-control", Allow},
	{"ownerfull", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-acl=private", NoMatch},
	{"ownerfull", "s3:PutObject", demoObj + "k", alice, "", NoMatch},
	{"ownerfull", "s3:PutObject", demoObj + "k", bob, "s3:x-amz-acl=bucket-owner-full-control", NoMatch},
	{"ownerfull", "s3:PutObject", demoObj + "k", anon, "s3:x-amz-acl=bucket-owner-full-control", NoMatch},

	// s3:max-keys
	{"maxkeys", "s3:ListBucket", demo, alice, "s3:max-keys=10", Allow},
	{"maxkeys", "s3:ListBucket", demo, alice, "s3:max-keys=3", Allow},
	{"maxkeys", "s3:ListBucket", demo, alice, "s3:max-keys=11", Deny},
	{"maxkeys", "s3:ListBucket", demo, alice, "", NoMatch},
	{"maxkeys", "s3:ListBucket", demo, alice, "s3:max-keys=10.0", Allow},

	// s3:prefix equals / not equals
	{"prefix", "s3:ListBucket", demo, alice, "s3:prefix=projects", Allow},
	{"prefix", "s3:ListBucket", demo, alice, "s3:prefix=Projects", Deny},
	{"prefix", "s3:ListBucket", demo, alice, "s3:prefix=other", Deny},
	{"prefix", "s3:ListBucket", demo, alice, "", Deny}, // StringNotEquals on a missing key is true

	// s3:delimiter AND s3:prefix
	{"delimiter", "s3:ListBucket", demo, alice, "s3:prefix=;s3:delimiter=/", Allow},
	{"delimiter", "s3:ListBucket", demo, alice, "s3:prefix=home/;s3:delimiter=/", Allow},
	{"delimiter", "s3:ListBucket", demo, alice, "s3:prefix=home/;s3:delimiter=|", NoMatch},
	{"delimiter", "s3:ListBucket", demo, alice, "s3:prefix=home/", NoMatch},

	// object tags
	{"existingtag", "s3:GetObject", demoObj + "k", alice, "s3:existingobjecttag/environment=production", Allow},
	{"existingtag", "s3:GetObject", demoObj + "k", alice, "s3:existingobjecttag/environment=test", NoMatch},
	{"existingtag", "s3:GetObject", demoObj + "k", alice, "", NoMatch},
	{"requesttag", "s3:PutObject", demoObj + "k", alice, "s3:requestobjecttag/project=X", Allow},
	{"requesttag", "s3:PutObjectTagging", demoObj + "k", alice, "s3:requestobjecttag/project=Y", NoMatch},

	// ForAllValues / ForAnyValue
	{"tagkeysall", "s3:PutObject", demoObj + "k", alice, "s3:requestobjecttagkeys=Owner", Allow},
	{"tagkeysall", "s3:PutObject", demoObj + "k", alice, "s3:requestobjecttagkeys=Owner,CreationDate", Allow},
	{"tagkeysall", "s3:PutObject", demoObj + "k", alice, "s3:requestobjecttagkeys=Owner,Project", NoMatch},
	{"tagkeysall", "s3:PutObject", demoObj + "k", alice, "", Allow}, // ForAllValues on a missing key is true
	{"tagkeysany", "s3:PutObject", demoObj + "k", alice, "s3:requestobjecttagkeys=Owner,Project", Allow},
	{"tagkeysany", "s3:PutObject", demoObj + "k", alice, "s3:requestobjecttagkeys=Owner", NoMatch},
	{"tagkeysany", "s3:PutObject", demoObj + "k", alice, "", NoMatch}, // ForAnyValue on a missing key is false
	{"tagkeysallnull", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=environment", Allow},
	{"tagkeysallnull", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=environment,owner", NoMatch},
	{"tagkeysallnull", "s3:PutObjectTagging", demoObj + "k", alice, "", NoMatch},
	{"denytagprefix", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=a,key1x", Deny},
	{"denytagprefix", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=a,b", Allow},
	{"denytagprefix", "s3:PutObjectTagging", demoObj + "k", alice, "", Allow},
	{"allnotequals", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=a,b", Allow},
	{"allnotequals", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=a,secret", NoMatch},
	{"allnotequals", "s3:PutObjectTagging", demoObj + "k", alice, "", Allow},
	{"anynotlike", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=team-a,team-b", Allow},
	{"anynotlike", "s3:PutObjectTagging", demoObj + "k", alice, "aws:tagkeys=team-a,owner", Deny},
	{"anynotlike", "s3:PutObjectTagging", demoObj + "k", alice, "", Allow},

	// NotAction
	{"notactionallow", "s3:GetObject", demoObj + "k", alice, "", Allow},
	{"notactionallow", "s3:DeleteObject", demoObj + "k", alice, "", NoMatch},
	{"notactionallow", "s3:DeleteObjectVersion", demoObj + "k", alice, "", NoMatch},
	{"notactionallow", "s3:deletebucket", demo, alice, "", NoMatch},
	{"notactionallow", "s3:DeleteBucketPolicy", demo, alice, "", Allow},
	{"denynomfa", "s3:GetObject", demoObj + "k", alice, "", Deny}, // BoolIfExists: missing key is true
	{"denynomfa", "s3:GetObject", demoObj + "k", alice, "aws:multifactorauthpresent=true", Allow},
	{"denynomfa", "s3:GetObject", demoObj + "k", alice, "aws:multifactorauthpresent=false", Deny},
	{"denynomfa", "iam:ListUsers", "*", alice, "", Allow},

	// NotResource
	{"notresource", "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv", alice, "", Allow},
	{"notresource", "s3:ListBucket", "arn:aws:s3:::HRBucket/Payroll", alice, "", Allow},
	{"notresource", "s3:GetObject", "arn:aws:s3:::HRBucket/Other", alice, "", Deny},
	{"notresource", "s3:GetObject", demoObj + "k", alice, "", Deny},
	{"notresourceallow", "s3:GetObject", "arn:aws:s3:::public/k", alice, "", Allow},
	{"notresourceallow", "s3:GetObject", "arn:aws:s3:::secret/k", alice, "", NoMatch},
	{"notresourceallow", "s3:PutObject", "arn:aws:s3:::public/k", alice, "", NoMatch},

	// NotPrincipal
	{"notprincipal", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k", bob, "", Allow},
	{"notprincipal", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k", carl, "", Deny},
	{"notprincipal", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k", alice, "", Deny},
	{"notprincipal", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k", anon, "", Deny},
	{"notprincipal", "s3:ListBucket", "arn:aws:s3:::BUCKETNAME", Principal{Account: "111122223333", User: "Bob"}, "", Deny},

	// named principals
	{"users", "s3:PutObject", demoObj + "k", dave, "", Allow},
	{"users", "s3:GetObject", demoObj + "k", dave, "", Allow},
	{"users", "s3:ListBucket", demo, dave, "", NoMatch},
	{"users", "s3:PutObject", demoObj + "k", Principal{Account: "123456789012", User: "dave"}, "", NoMatch}, // user names are case-sensitive
	{"users", "s3:PutObject", demoObj + "k", Principal{Account: "111122223333", User: "Dave"}, "", NoMatch},
	{"users", "s3:ListBucket", demo, alice, "", Allow},
	{"users", "s3:GetObject", demoObj + "k", alice, "", NoMatch},
	{"users", "s3:ListBucket", demo, anon, "", NoMatch},

	// deny public ACLs
	{"denypublicacl", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-acl=private", Allow},
	{"denypublicacl", "s3:PutObject", demoObj + "k", alice, "", Allow},
	{"denypublicacl", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-acl=public-read", Deny},
	{"denypublicacl", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-acl=public-read-write", Deny},
	{"denypublicacl", "s3:PutObject", demoObj + "k", bob, "s3:x-amz-acl=private", NoMatch},

	// string family
	{"ignorecase", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=STANDARD_IA", Allow},
	{"ignorecase", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=standard_ia", Allow},
	{"ignorecase", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=STANDARD", NoMatch},
	{"notignorecase", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=glacier", NoMatch},
	{"notignorecase", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=Deep_Archive", NoMatch},
	{"notignorecase", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=STANDARD", Allow},
	{"notignorecase", "s3:PutObject", demoObj + "k", alice, "", Allow},
	{"like", "s3:ListBucket", demo, alice, "s3:prefix=logs/2024/jan", Allow},
	{"like", "s3:ListBucket", demo, alice, "s3:prefix=logs/1999/jan", NoMatch},
	{"like", "s3:ListBucket", demo, alice, "s3:prefix=logs/20245/jan", NoMatch},
	{"like", "s3:ListBucket", demo, alice, "s3:prefix=public/", Allow},
	{"like", "s3:ListBucket", demo, alice, "s3:prefix=Public/", NoMatch},
	{"notlike", "s3:ListBucket", demo, alice, "s3:prefix=public/", Allow},
	{"notlike", "s3:ListBucket", demo, alice, "s3:prefix=private/x", NoMatch},
	{"notlike", "s3:ListBucket", demo, alice, "s3:prefix=secrets", NoMatch},
	{"notlike", "s3:ListBucket", demo, alice, "", Allow},

	// IfExists
	{"likeifexists", "s3:PutObject", demoObj + "k", alice, "", Allow},
	{"likeifexists", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=STANDARD", Allow},
	{"likeifexists", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=INTELLIGENT_TIERING", Allow},
	{"likeifexists", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-storage-class=GLACIER", NoMatch},
	{"numericifexists", "s3:ListBucket", demo, alice, "", Allow},
	{"numericifexists", "s3:ListBucket", demo, alice, "s3:max-keys=99", Allow},
	{"numericifexists", "s3:ListBucket", demo, alice, "s3:max-keys=100", NoMatch},
	{"ipifexists", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.9.9.9", Allow},
	{"ipifexists", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=11.0.0.1", NoMatch},
	{"ipifexists", "s3:GetObject", demoObj + "k", alice, "", Allow},

	// Null
	{"nullcheck", "s3:DeleteObject", demoObj + "k", alice, "", Deny},
	{"nullcheck", "s3:DeleteObject", demoObj + "k", alice, "aws:tokenissuetime=2024-01-01T00:00:00Z", Allow},
	{"nullcheck", "s3:GetObject", demoObj + "k", alice, "", Allow},

	// date family
	{"epoch", "s3:GetObject", demoObj + "k", alice, "aws:epochtime=1735689600", Allow},
	{"epoch", "s3:GetObject", demoObj + "k", alice, "aws:epochtime=1735689601", NoMatch},
	{"epoch", "s3:GetObject", demoObj + "k", alice, "aws:epochtime=2024-12-31T23:00:00Z", Allow},
	{"dateeq", "s3:GetObject", demoObj + "k", alice, "aws:tokenissuetime=2024-05-01T12:00:00Z", Allow},
	{"dateeq", "s3:GetObject", demoObj + "k", alice, "aws:tokenissuetime=2024-05-02T12:00:00Z", NoMatch},
	{"dateeq", "s3:GetObject", demoObj + "k", alice, "aws:tokenissuetime=2024-05-03T12:00:00Z", Deny},
	{"dategte", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2024-01-01T00:00:00Z", Allow},
	{"dategte", "s3:GetObject", demoObj + "k", alice, "aws:currenttime=2023-12-31T23:59:59Z", NoMatch},

	// numeric family
	{"numeric", "s3:ListBucket", demo, alice, "s3:max-keys=10", Allow},
	{"numeric", "s3:ListBucket", demo, alice, "s3:max-keys=20", Allow},
	{"numeric", "s3:ListBucket", demo, alice, "s3:max-keys=15", NoMatch},
	{"numeric", "s3:ListBucket", demo, alice, "s3:max-keys=abc", NoMatch},
	{"numericrange", "s3:ListBucket", demo, alice, "s3:max-keys=5", Allow},
	{"numericrange", "s3:ListBucket", demo, alice, "s3:max-keys=50", Allow},
	{"numericrange", "s3:ListBucket", demo, alice, "s3:max-keys=4", NoMatch},
	{"numericrange", "s3:ListBucket", demo, alice, "s3:max-keys=51", NoMatch},
	{"sigage", "s3:GetObject", demoObj + "k", anon, "s3:signatureage=600001", Deny},
	{"sigage", "s3:GetObject", demoObj + "k", anon, "s3:signatureage=600000", NoMatch},
	{"sigage", "s3:GetObject", demoObj + "k", alice, "", NoMatch},

	// bool, ARN, binary
	{"boolliteral", "s3:GetObject", demoObj + "k", alice, "aws:securetransport=true", Allow},
	{"boolliteral", "s3:GetObject", demoObj + "k", alice, "aws:securetransport=false", NoMatch},
	{"boolliteral", "s3:GetObject", demoObj + "k", alice, "", NoMatch},
	{"arnlike", "s3:PutObject", demoObj + "k", alice, "aws:sourcearn=arn:aws:sns:eu-west-1:123456789012:topic-a", Allow},
	{"arnlike", "s3:PutObject", demoObj + "k", alice, "aws:sourcearn=arn:aws:sns:eu-west-1:999999999999:topic-a", NoMatch},
	{"arnlike", "s3:PutObject", demoObj + "k", alice, "aws:sourcearn=not-an-arn", NoMatch},
	{"arnnot", "s3:PutObject", demoObj + "k", alice, "aws:sourcearn=arn:aws:sns:us-east-1:123456789012:blocked", NoMatch},
	{"arnnot", "s3:PutObject", demoObj + "k", alice, "aws:sourcearn=arn:aws:sns:us-east-1:123456789012:fine", Allow},
	{"binary", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-meta-key=QmluYXJ5VmFsdWVJbkJhc2U2NA==", Allow},
	{"binary", "s3:PutObject", demoObj + "k", alice, "s3:x-amz-meta-key=QQ==", NoMatch},

	// action wildcards and case
	{"getstar", "s3:GetObject", demoObj + "k", alice, "", Allow},
	{"getstar", "s3:getbucketlocation", demo, alice, "", Allow},
	{"getstar", "s3:ListBucket", demo, alice, "", Allow},
	{"getstar", "s3:ListBuckets", demo, alice, "", NoMatch},
	{"getstar", "s3:PutObject", demoObj + "k", alice, "", NoMatch},
	{"getstar", "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-2/k", alice, "", Allow}, // resource wildcard
	{"getstar", "s3:GetObject", "arn:aws:s3:::other/k", alice, "", NoMatch},
	{"starobject", "s3:PutObject", demoObj + "k", alice, "", Allow},
	{"starobject", "s3:DeleteObject", demoObj + "k", alice, "", Allow},
	{"starobject", "s3:GetObjectAcl", demoObj + "k", alice, "", NoMatch},
	{"starobject", "s3:GetObject", demo, alice, "", NoMatch},
	{"allstar", "sts:AssumeRole", "*", alice, "", Allow},
	{"allstar", "s3:PutObject", demoObj + "k", anon, "", Allow},

	// explicit deny
	{"denydelete", "s3:DeleteObject", demoObj + "k", alice, "", Deny},
	{"denydelete", "s3:DeleteBucket", demo, alice, "", Deny},
	{"denydelete", "s3:DeleteObject", "arn:aws:s3:::other/k", alice, "", Allow},
	{"denydelete", "s3:PutObject", demoObj + "k", alice, "", Allow},

	// variables
	{"userid", "s3:GetObject", demoObj + "AIDAJQABLZS4A3QDU576Q/k", alice, "aws:userid=AIDAJQABLZS4A3QDU576Q", Allow},
	{"userid", "s3:GetObject", demoObj + "AIDAJQABLZS4A3QDU576Q/k", alice, "aws:userid=OTHER", NoMatch},
	{"userid", "s3:GetObject", demoObj + "AIDAJQABLZS4A3QDU576Q/k", alice, "aws:userid=A,B", NoMatch}, // multi-valued key: no substitution
	{"escapes", "s3:GetObject", demoObj + "literal*star?q$d", alice, "", Allow},
	{"escapes", "s3:GetObject", demoObj + "literalXstarYq$d", alice, "", NoMatch},
	{"default", "s3:GetObject", demoObj + "company-wide/k", alice, "", Allow},
	{"default", "s3:GetObject", demoObj + "red/k", alice, "aws:principaltag/team=red", Allow},
	{"default", "s3:GetObject", demoObj + "company-wide/k", alice, "aws:principaltag/team=red", NoMatch},
	{"condvar", "s3:ListBucket", demo, alice, "aws:username=alice;s3:prefix=alice/", Allow},
	{"condvar", "s3:ListBucket", demo, alice, "aws:username=alice;s3:prefix=bob/", NoMatch},
	{"condvar", "s3:ListBucket", demo, alice, "s3:prefix=alice/", NoMatch},
	{"denyothers", "s3:GetObject", demoObj + "home/alice/k", alice, "aws:username=alice", Allow},
	{"denyothers", "s3:GetObject", demoObj + "home/bob/k", alice, "aws:username=alice", Deny},
	{"denyothers", "s3:GetObject", demoObj + "home/alice/k", alice, "", Deny}, // unresolved in a Deny: nothing excluded

	// AND / OR
	{"andor", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.2.3.4;aws:securetransport=true;aws:username=alice;aws:userid=AID1", Allow},
	{"andor", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.1.3.4;aws:securetransport=true;aws:username=carol;aws:userid=AID1", Allow},
	{"andor", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.3.3.4;aws:securetransport=true;aws:username=alice;aws:userid=AID1", NoMatch},
	{"andor", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.2.3.4;aws:securetransport=false;aws:username=alice;aws:userid=AID1", NoMatch},
	{"andor", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.2.3.4;aws:securetransport=true;aws:username=bob;aws:userid=AID1", NoMatch},
	{"andor", "s3:GetObject", demoObj + "k", alice, "aws:sourceip=10.2.3.4;aws:securetransport=true;aws:username=alice", NoMatch},
	{"keycase", "s3:GetObject", demoObj + "k", alice, "aws:username=alice", Allow},
	{"keycase", "s3:GetObject", demoObj + "k", alice, "aws:username=Alice", NoMatch},

	// other services
	{"sts", "sts:AssumeRole", "*", alice, "", Allow},
	{"sts", "STS:assumerole", "*", alice, "", Allow},
	{"sts", "admin:CreateUser", "*", alice, "", Allow},
	{"sts", "s3:GetObject", demoObj + "k", alice, "", NoMatch},

	// predefined
	{"readonly", "s3:GetObject", demoObj + "k", alice, "", Allow},
	{"readonly", "s3:GetBucketLocation", demo, alice, "", Allow},
	{"readonly", "s3:PutObject", demoObj + "k", alice, "", NoMatch},
	{"readonly", "s3:ListBucket", demo, alice, "", NoMatch},
	{"writeonly", "s3:PutObject", demoObj + "k", alice, "", Allow},
	{"writeonly", "s3:GetObject", demoObj + "k", alice, "", NoMatch},
	{"readwrite", "s3:DeleteBucket", demo, alice, "", Allow},
	{"readwrite", "s3:ListAllMyBuckets", "arn:aws:s3:::*", alice, "", Allow},
	{"readwrite", "sts:AssumeRole", "*", alice, "", NoMatch},
}

func mustParse(t testing.TB, d docPolicy) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(d.doc), d.kind, d.bucket)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, d.doc)
	}
	return p
}

func TestEvaluateExamples(t *testing.T) {
	if len(evalCases) < 150 {
		t.Fatalf("only %d cases", len(evalCases))
	}
	parsed := map[string]*Policy{}
	for name, d := range examplePolicies {
		parsed[name] = mustParse(t, d)
	}
	used := map[string]bool{}
	for i, c := range evalCases {
		p, ok := parsed[c.policy]
		if !ok {
			t.Fatalf("case %d: no policy %q", i, c.policy)
		}
		used[c.policy] = true
		r := &Request{Action: c.action, Resource: c.resource, Principal: c.who, Context: ctx(c.ctx)}
		if got := p.Evaluate(r); got != c.want {
			t.Errorf("case %d: %s %s %s as %+v ctx %q: got %v, want %v", i, c.policy, c.action, c.resource, c.who, c.ctx, got, c.want)
		}
	}
	for name := range examplePolicies {
		if !used[name] {
			t.Errorf("policy %q has no case", name)
		}
	}
}

// TestAuthorize covers the combination of identity, session and bucket
// policies.
func TestAuthorize(t *testing.T) {
	pol := func(name string) *Policy {
		p, ok := Predefined(name)
		if ok {
			return p
		}
		return mustParse(t, examplePolicies[name])
	}
	prefixOnly := mustParse(t, ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::amzn-s3-demo-bucket/tools/*"}]}`))
	denyPut := mustParse(t, ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`))
	aliceBucket := mustParse(t, bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:*","Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"]}]}`))
	denyAnonPutBucket := mustParse(t, bucketPol("amzn-s3-demo-bucket", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"},{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"Null":{"aws:username":"true"}}}]}`))

	get := func(key string) *Request {
		return &Request{Action: "s3:GetObject", Resource: demoObj + key, Principal: alice, Context: ctx("aws:username=alice")}
	}
	put := func(key string) *Request {
		return &Request{Action: "s3:PutObject", Resource: demoObj + key, Principal: alice, Context: ctx("aws:username=alice")}
	}
	anonReq := func(action, key string) *Request {
		return &Request{Action: action, Resource: demoObj + key, Principal: anon, Context: ctx("")}
	}
	tests := []struct {
		name     string
		r        *Request
		identity []*Policy
		session  *Policy
		bucket   *Policy
		want     bool
	}{
		{"no policy at all", get("k"), nil, nil, nil, false},
		{"readonly reads", get("k"), []*Policy{pol("readonly")}, nil, nil, true},
		{"readonly cannot put", put("k"), []*Policy{pol("readonly")}, nil, nil, false},
		{"writeonly cannot get", get("k"), []*Policy{pol("writeonly")}, nil, nil, false},
		{"writeonly puts", put("k"), []*Policy{pol("writeonly")}, nil, nil, true},
		{"group policy adds", put("k"), []*Policy{pol("readonly"), pol("writeonly")}, nil, nil, true},
		{"deny in one identity policy wins", put("k"), []*Policy{pol("readwrite"), denyPut}, nil, nil, false},
		{"nil identity entries ignored", get("k"), []*Policy{nil, pol("readonly")}, nil, nil, true},
		{"bucket policy alone allows a named user", put("k"), nil, nil, aliceBucket, true},
		{"bucket policy does not allow another user", &Request{Action: "s3:PutObject", Resource: demoObj + "k", Principal: bob}, nil, nil, aliceBucket, false},
		{"bucket deny beats identity allow", &Request{Action: "s3:GetObject", Resource: demoObj + "k", Principal: alice, Context: ctx("aws:securetransport=false")}, []*Policy{pol("readwrite")}, nil, pol("tlsonly"), false},
		{"anonymous public read", anonReq("s3:GetObject", "k"), nil, nil, pol("publicread"), true},
		{"anonymous put refused", anonReq("s3:PutObject", "k"), nil, nil, pol("publicread"), false},
		{"anonymous put explicitly denied", anonReq("s3:PutObject", "k"), nil, nil, denyAnonPutBucket, false},
		{"user put allowed by identity despite public bucket", put("k"), []*Policy{pol("writeonly")}, nil, denyAnonPutBucket, true},
		{"session narrows: inside prefix", get("tools/x"), []*Policy{pol("readwrite")}, prefixOnly, nil, true},
		{"session narrows: outside prefix", get("data/x"), []*Policy{pol("readwrite")}, prefixOnly, nil, false},
		{"session narrows: action", &Request{Action: "s3:DeleteObject", Resource: demoObj + "tools/x", Principal: alice}, []*Policy{pol("readwrite")}, prefixOnly, nil, false},
		{"session cannot widen", put("tools/x"), []*Policy{pol("readonly")}, prefixOnly, nil, false},
		{"session without identity", get("tools/x"), nil, prefixOnly, nil, false},
		{"session deny", put("tools/x"), []*Policy{pol("readwrite")}, denyPut, nil, false},
		{"session limits a bucket grant to the parent user", &Request{Action: "s3:DeleteObject", Resource: demoObj + "data/x", Principal: alice}, nil, prefixOnly, aliceBucket, false},
		{"session and bucket grant to the parent user", get("tools/x"), nil, prefixOnly, aliceBucket, true},
		{"public grant reaches a session", get("data/x"), []*Policy{pol("writeonly")}, pol("writeonly"), pol("publicread"), true},
		{"public grant does not lift a session deny", get("data/x"), []*Policy{pol("readwrite")}, mustParse(t, ident(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`)), pol("publicread"), false},
		{"service account policy narrows readwrite", put("tools/a"), []*Policy{pol("readwrite")}, pol("readonly"), nil, false},
	}
	for _, tt := range tests {
		if got := Authorize(tt.r, tt.identity, tt.session, tt.bucket); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPredefined(t *testing.T) {
	names := PredefinedNames()
	if strings.Join(names, ",") != "readonly,readwrite,writeonly" {
		t.Fatalf("PredefinedNames = %v", names)
	}
	for _, n := range names {
		if p, ok := Predefined(n); !ok || p == nil {
			t.Fatalf("Predefined(%q) missing", n)
		}
		if doc, ok := PredefinedDocument(n); !ok || len(doc) == 0 {
			t.Fatalf("PredefinedDocument(%q) missing", n)
		}
	}
	if _, ok := Predefined("consoleAdmin"); ok {
		t.Fatal("unknown predefined policy found")
	}
}

func TestIsPublic(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, true},
	} {
		p, err := ParsePolicy([]byte(c.doc), BucketPolicy, "b")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.IsPublic(); got != c.want {
			t.Errorf("IsPublic(%s) = %v, want %v", c.doc, got, c.want)
		}
	}
}
