package iam

import (
	"errors"
	"strings"
	"testing"
)

// stmt wraps statement JSON into a 2012-10-17 document.
func stmt(s ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(s, ",") + `]}`
}

const okStmt = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`
const okBucketStmt = `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`

func TestParsePolicyRejects(t *testing.T) {
	big := stmt(okStmt + strings.Repeat(" ", MaxPolicySize))
	deep := `{"Version":"2012-10-17","Statement":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`
	tests := []struct {
		name string
		kind PolicyKind
		doc  string
		want string // substring of the message
	}{
		{"empty", IdentityPolicy, ``, "not valid JSON"},
		{"bad JSON", IdentityPolicy, `{"Version":`, "not valid JSON"},
		{"truncated", IdentityPolicy, stmt(okStmt)[:40], "not valid JSON"},
		{"trailing data", IdentityPolicy, stmt(okStmt) + `{}`, "trailing data"},
		{"not an object", IdentityPolicy, `[]`, "want a JSON object"},
		{"too deep", IdentityPolicy, deep, "nested deeper"},
		{"oversized", IdentityPolicy, big, "larger than the limit"},
		{"unknown top-level element", IdentityPolicy, `{"Version":"2012-10-17","Statment":[]}`, `unknown element "Statment"`},
		{"bad version", IdentityPolicy, `{"Version":"2012-10-18","Statement":[` + okStmt + `]}`, "Version must be"},
		{"version as number", IdentityPolicy, `{"Version":2012,"Statement":[` + okStmt + `]}`, "Version must be"},
		{"no statement", IdentityPolicy, `{"Version":"2012-10-17"}`, "Statement is missing"},
		{"empty statement list", IdentityPolicy, `{"Version":"2012-10-17","Statement":[]}`, "Statement is empty"},
		{"statement is a string", IdentityPolicy, `{"Version":"2012-10-17","Statement":"x"}`, "want an object or an array"},
		{"statement entry not an object", IdentityPolicy, stmt(okStmt, `"x"`), "statement 2: is a string"},
		{"duplicate key", IdentityPolicy, stmt(`{"Effect":"Allow","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`), `duplicate key "Effect"`},
		{"unknown statement element", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Resources":"*"}`), `unknown element "Resources"`},
		{"lower-case element", IdentityPolicy, stmt(`{"effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), `unknown element "effect"`},
		{"missing effect", IdentityPolicy, stmt(`{"Action":"s3:GetObject","Resource":"*"}`), "Effect is missing"},
		{"bad effect", IdentityPolicy, stmt(`{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}`), `Effect must be "Allow" or "Deny"`},
		{"effect not string", IdentityPolicy, stmt(`{"Effect":true,"Action":"s3:GetObject","Resource":"*"}`), "Effect must be"},
		{"sid not string", IdentityPolicy, stmt(`{"Sid":1,"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), "Sid must be a string"},
		{"duplicate sid", IdentityPolicy, stmt(`{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`, `{"Sid":"A","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}`), "not unique"},
		{"missing action", IdentityPolicy, stmt(`{"Effect":"Allow","Resource":"*"}`), "Action is missing"},
		{"action and notaction", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}`), "cannot both"},
		{"empty action list", IdentityPolicy, stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), "Action is an empty array"},
		{"action not string", IdentityPolicy, stmt(`{"Effect":"Allow","Action":[1],"Resource":"*"}`), "Action holds a number"},
		{"action without service", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"GetObject","Resource":"*"}`), `"service:action"`},
		{"action with bad char", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:Get Object","Resource":"*"}`), "invalid character"},
		{"unknown s3 action", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObjects","Resource":"*"}`), `"s3:GetObjects": matches no S3 action`},
		{"ListObjects is not an IAM action", IdentityPolicy, stmt(`{"Effect":"Allow","NotAction":"s3:ListObjects","Resource":"*"}`), "NotAction \"s3:ListObjects\""},
		{"bad service", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s 3:GetObject","Resource":"*"}`), "invalid service prefix"},
		{"missing resource", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject"}`), "Resource is missing"},
		{"resource and notresource", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","NotResource":"*"}`), "cannot both"},
		{"resource not an ARN", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket/key"}`), "is not an ARN"},
		{"short ARN", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3"}`), "is not an ARN"},
		{"ARN without resource", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"}`), "no resource part"},
		{"ARN bad partition", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:amazon:s3:::b"}`), "unknown partition"},
		{"ARN without service", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws::::b"}`), "no service"},
		{"S3 ARN with region", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:us-east-1::b"}`), "region or account"},
		{"bad variable", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username"}`), "unterminated policy variable"},
		{"empty variable", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${}"}`), "invalid policy variable"},
		{"variable default unquoted", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, x}"}`), "single quotes"},
		{"principal in identity policy", IdentityPolicy, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "Principal is not allowed in an identity policy"},
		{"notprincipal in identity policy", IdentityPolicy, stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}`), "NotPrincipal is not allowed"},
		{"missing principal in bucket policy", BucketPolicy, stmt(okStmt), "Principal is missing"},
		{"principal and notprincipal", BucketPolicy, stmt(`{"Effect":"Deny","Principal":"*","NotPrincipal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), "cannot both"},
		{"principal plain name", BucketPolicy, stmt(`{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), `a string Principal must be "*"`},
		{"principal service", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), `unsupported principal type "Service"`},
		{"principal role", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/r"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), "neither an account root nor a user"},
		{"principal wildcard user", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/a*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), "wildcards are not allowed"},
		{"principal sts ARN", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/r/s"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), "not an IAM principal ARN"},
		{"principal empty object", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), "names no principal"},
		{"principal bad account", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{"AWS":"a b"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), "neither"},
		{"resource outside bucket", BucketPolicy, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}`), `outside bucket "b"`},
		{"resource prefix of bucket", BucketPolicy, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b*"}`), "outside bucket"},
		{"resource star in bucket policy", BucketPolicy, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), "outside bucket"},
		{"notresource outside bucket", BucketPolicy, stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::bb/*"}`), "NotResource"},
		{"non-s3 action in bucket policy", BucketPolicy, stmt(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"arn:aws:s3:::b/*"}`), "not an S3 action"},
		{"unknown operator", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualz":{"s3:prefix":"a"}}}`), `unknown operator "StringEqualz"`},
		{"operator case", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"stringequals":{"s3:prefix":"a"}}}`), "unknown operator"},
		{"bad qualifier", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"s3:prefix":"a"}}}`), "unknown operator"},
		{"NullIfExists", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NullIfExists":{"s3:prefix":"true"}}}`), "Null takes no qualifier"},
		{"ForAnyValue:Null", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:Null":{"s3:prefix":"true"}}}`), "Null takes no qualifier"},
		{"empty condition", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{}}`), "Condition is empty"},
		{"condition block not object", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":"x"}}`), "non-empty object"},
		{"condition value object", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:prefix":{"a":"b"}}}}`), "holds an object"},
		{"condition value null", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:prefix":null}}}`), "null"},
		{"condition empty values", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:prefix":[]}}}`), "empty array"},
		{"condition key without prefix", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"prefix":"a"}}}`), "invalid condition key"},
		{"condition key twice", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"a","S3:Prefix":"b"}}}`), "given twice"},
		{"bad number", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}`), "is not a number"},
		{"NaN", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"NaN"}}}`), "is not a number"},
		{"bad date", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), "is not a date"},
		{"bad bool", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), `"true" or "false"`},
		{"bad null value", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"Null":{"aws:SecureTransport":"1"}}}`), `"true" or "false"`},
		{"bad CIDR", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), "not a CIDR"},
		{"bad IP", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.256"}}}`), "not an IP address"},
		{"bad ARN value", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"topic"}}}`), "is not an ARN"},
		{"bad binary", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"BinaryEquals":{"s3:x":"!!"}}}`), "not base64"},
		{"bad variable in condition", IdentityPolicy, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"${aws:username"}}}`), "unterminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := ""
			if tt.kind == BucketPolicy {
				bucket = "b"
			}
			p, err := ParsePolicy([]byte(tt.doc), tt.kind, bucket)
			if err == nil {
				t.Fatalf("accepted: %s", tt.doc)
			}
			if p != nil {
				t.Fatal("returned a policy with an error")
			}
			if !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("error %v does not wrap ErrMalformedPolicy", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParsePolicyErrorLocation(t *testing.T) {
	doc := stmt(okStmt, `{"Sid":"DenyPut","Effect":"Deny","Action":["s3:PutObject","s3:Put*Object*x"],"Resource":"*"}`)
	_, err := ParsePolicy([]byte(doc), IdentityPolicy, "")
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not a *PolicyError", err)
	}
	if pe.Statement != 2 || pe.Sid != "DenyPut" || pe.Field != "Action" {
		t.Fatalf("location = %+v", pe)
	}
	const want = `policy: statement 2 ("DenyPut"): Action "s3:Put*Object*x": matches no S3 action`
	if err.Error() != want {
		t.Fatalf("message\n got %s\nwant %s", err, want)
	}
	// A single statement object is statement 1; no Sid, no parentheses.
	_, err = ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}}`), IdentityPolicy, "")
	if err == nil || err.Error() != `policy: statement 1: Effect must be "Allow" or "Deny"` {
		t.Fatalf("got %v", err)
	}
}

func TestParsePolicyAccepts(t *testing.T) {
	tests := []struct {
		name   string
		kind   PolicyKind
		doc    string
		stmts  int
		bucket string
	}{
		{"statement object", IdentityPolicy, `{"Version":"2012-10-17","Statement":` + okStmt + `}`, 1, ""},
		{"no version", IdentityPolicy, `{"Statement":[` + okStmt + `]}`, 1, ""},
		{"2008 with Id", IdentityPolicy, `{"Version":"2008-10-17","Id":"x","Statement":[` + okStmt + `,` + okStmt + `]}`, 2, ""},
		{"all elements", IdentityPolicy, stmt(`{"Sid":"Everything","Effect":"Deny","NotAction":["s3:Get*","sts:AssumeRole"],"NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/${aws:username}/*"],
			"Condition":{"ForAllValues:StringLikeIfExists":{"s3:RequestObjectTagKeys":["a*"]},"NumericGreaterThan":{"s3:max-keys":1.5},"Bool":{"aws:SecureTransport":false},
			"DateLessThan":{"aws:EpochTime":1700000000},"IpAddress":{"aws:SourceIp":["::1","10.0.0.0/8","::ffff:10.0.0.0/104"]},"Null":{"s3:x-amz-acl":["true"]}}}`), 1, ""},
		{"bucket policy, bucket ARN and variables", BucketPolicy, stmt(`{"Effect":"Allow","Principal":{"AWS":["123456789012","default","arn:aws:iam::default:root","arn:aws:iam::123456789012:user/div/alice"]},
			"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/home/${aws:username}/*"]}`), 1, "b"},
		{"bucket policy NotPrincipal", BucketPolicy, stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`), 1, "b"},
		{"bucket policy star", BucketPolicy, stmt(okBucketStmt), 1, "b"},
		{"admin-ish actions", IdentityPolicy, stmt(`{"Effect":"Allow","Action":["admin:*","iam:CreateUser","sts:AssumeRole","*"],"Resource":["*","arn:aws:iam::123456789012:user/*"]}`), 1, ""},
		{"exactly the size limit", IdentityPolicy, padTo(stmt(okStmt), MaxPolicySize), 1, ""},
	}
	for _, tt := range tests {
		p, err := ParsePolicy([]byte(tt.doc), tt.kind, tt.bucket)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if p.Statements() != tt.stmts {
			t.Errorf("%s: %d statements, want %d", tt.name, p.Statements(), tt.stmts)
		}
	}
}

// padTo pads a JSON document with trailing spaces to n bytes.
func padTo(doc string, n int) string { return doc + strings.Repeat(" ", n-len(doc)) }

func TestParsePolicyArguments(t *testing.T) {
	if _, err := ParsePolicy([]byte(stmt(okBucketStmt)), BucketPolicy, ""); err == nil {
		t.Fatal("bucket policy without a bucket accepted")
	}
	if _, err := ParsePolicy([]byte(stmt(okStmt)), PolicyKind(7), ""); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*", "a", true}, {"a*c", "abbbc", true},
		{"a*c", "abbbd", false}, {"a?c", "abc", true}, {"a?c", "ac", false}, {"a?c", "aéc", true},
		{"*a*b*c*", "xaybzc", true}, {"*a*b*c*", "xaycb", false}, {"a**b", "ab", true},
		{"", "", true}, {"", "a", false}, {"abc", "abc", true}, {"abc", "abcd", false},
		{"*ab", "aab", true}, {"*aab", "aaab", true}, {"?*?", "a", false}, {"?*?", "ab", true},
	} {
		p, err := compilePattern(c.pat, true, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.match(c.s, nil, false, nil); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}
