package s3api

import (
	"testing"
)

func TestParseTarget(t *testing.T) {
	domains := []string{"s3.example.com", "localhost"}
	cases := []struct {
		host, uri         string
		bucket, key       string
		vhost             bool
		rawPath, rawQuery string
		wantErr           bool
	}{
		{host: "127.0.0.1:9000", uri: "/", bucket: "", key: "", rawPath: "/"},
		{host: "127.0.0.1:9000", uri: "/?x-id=ListBuckets", rawPath: "/", rawQuery: "x-id=ListBuckets"},
		{host: "127.0.0.1:9000", uri: "/bkt", bucket: "bkt", rawPath: "/bkt"},
		{host: "127.0.0.1:9000", uri: "/bkt/", bucket: "bkt", rawPath: "/bkt/"},
		{host: "127.0.0.1:9000", uri: "/bkt?list-type=2&prefix=a%2Fb", bucket: "bkt", rawPath: "/bkt", rawQuery: "list-type=2&prefix=a%2Fb"},
		{host: "127.0.0.1:9000", uri: "/bkt/a/b/c.txt", bucket: "bkt", key: "a/b/c.txt", rawPath: "/bkt/a/b/c.txt"},
		{host: "127.0.0.1:9000", uri: "/bkt/with%20space", bucket: "bkt", key: "with space", rawPath: "/bkt/with%20space"},
		{host: "127.0.0.1:9000", uri: "/bkt/plus+sign", bucket: "bkt", key: "plus+sign", rawPath: "/bkt/plus+sign"},
		{host: "127.0.0.1:9000", uri: "/bkt/plus%2Bsign", bucket: "bkt", key: "plus+sign", rawPath: "/bkt/plus%2Bsign"},
		{host: "127.0.0.1:9000", uri: "/bkt/a%2Fb", bucket: "bkt", key: "a/b", rawPath: "/bkt/a%2Fb"},
		{host: "127.0.0.1:9000", uri: "/bkt/a//b", bucket: "bkt", key: "a//b", rawPath: "/bkt/a//b"},
		{host: "127.0.0.1:9000", uri: "/bkt//lead", bucket: "bkt", key: "/lead", rawPath: "/bkt//lead"},
		{host: "127.0.0.1:9000", uri: "/bkt/dot/./x/../y", bucket: "bkt", key: "dot/./x/../y", rawPath: "/bkt/dot/./x/../y"},
		{host: "127.0.0.1:9000", uri: "/bkt/%E2%82%AC%20%C3%A9t%C3%A9", bucket: "bkt", key: "€ été", rawPath: "/bkt/%E2%82%AC%20%C3%A9t%C3%A9"},
		{host: "127.0.0.1:9000", uri: "/bkt/trailing/", bucket: "bkt", key: "trailing/", rawPath: "/bkt/trailing/"},
		{host: "127.0.0.1:9000", uri: "/bkt/k?versionId=null", bucket: "bkt", key: "k", rawPath: "/bkt/k", rawQuery: "versionId=null"},
		{host: "127.0.0.1:9000", uri: "/bkt/bad%zz", wantErr: true},
		{host: "127.0.0.1:9000", uri: "http://127.0.0.1:9000/bkt/abs", bucket: "bkt", key: "abs", rawPath: "/bkt/abs"},
		// Virtual-host style.
		{host: "bkt.s3.example.com", uri: "/", bucket: "bkt", vhost: true, rawPath: "/"},
		{host: "bkt.s3.example.com:9000", uri: "/key/with%2Fslash", bucket: "bkt", key: "key/with/slash", vhost: true, rawPath: "/key/with%2Fslash"},
		{host: "My.Bucket.S3.Example.com", uri: "/k", bucket: "my.bucket", key: "k", vhost: true, rawPath: "/k"},
		{host: "bkt.localhost:9000", uri: "//double", bucket: "bkt", key: "/double", vhost: true, rawPath: "//double"},
		{host: "bkt.localhost:9000", uri: "/a+b%20c", bucket: "bkt", key: "a+b c", vhost: true, rawPath: "/a+b%20c"},
		// The domain itself, or a host that merely ends with its letters, is path-style.
		{host: "s3.example.com", uri: "/bkt/k", bucket: "bkt", key: "k", rawPath: "/bkt/k"},
		{host: "evils3.example.com", uri: "/bkt/k", bucket: "bkt", key: "k", rawPath: "/bkt/k"},
		{host: "localhost:9000", uri: "/bkt/k", bucket: "bkt", key: "k", rawPath: "/bkt/k"},
	}
	for _, c := range cases {
		got, err := parseTarget(c.host, c.uri, domains)
		if (err != nil) != c.wantErr {
			t.Errorf("%s %s: err = %v", c.host, c.uri, err)
			continue
		}
		if c.wantErr {
			continue
		}
		want := target{rawPath: c.rawPath, rawQuery: c.rawQuery, bucket: c.bucket, key: c.key, vhost: c.vhost}
		if got != want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.host, c.uri, got, want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	q, err := parseQuery("location&prefix=a%20b+c&delimiter=%2F&empty=&x=1&x=2&semi=a;b")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := q["location"]; !ok {
		t.Error("valueless key lost")
	}
	for k, want := range map[string]string{"prefix": "a b c", "delimiter": "/", "empty": "", "x": "1", "semi": "a;b"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if len(q["x"]) != 2 {
		t.Errorf("x = %v", q["x"])
	}
	if _, err := parseQuery("a=%zz"); err == nil {
		t.Error("bad escape accepted")
	}
}

func TestSelectOp(t *testing.T) {
	noHeader := func(string) string { return "" }
	copyHeader := func(n string) string {
		if n == "x-amz-copy-source" {
			return "/src/key"
		}
		return ""
	}
	formHeader := func(n string) string {
		if n == "content-type" {
			return "Multipart/Form-Data; boundary=xyz"
		}
		return ""
	}
	cases := []struct {
		method, host, uri string
		header            func(string) string
		want              op
	}{
		{"GET", "h", "/", noHeader, opListBuckets},
		{"PUT", "h", "/", noHeader, opNotImplemented},
		{"PUT", "h", "/bkt", noHeader, opCreateBucket},
		{"HEAD", "h", "/bkt", noHeader, opHeadBucket},
		{"DELETE", "h", "/bkt/", noHeader, opDeleteBucket},
		{"GET", "h", "/bkt?location", noHeader, opGetBucketLocation},
		{"GET", "h", "/bkt?location=", noHeader, opGetBucketLocation},
		{"GET", "h", "/bkt", noHeader, opListObjectsV1},
		{"GET", "h", "/bkt?list-type=2&prefix=x", noHeader, opListObjectsV2},
		{"GET", "h", "/bkt?versioning", noHeader, opGetBucketVersioning},
		{"PUT", "h", "/bkt?versioning", noHeader, opPutBucketVersioning},
		{"GET", "h", "/bkt?versions&prefix=a", noHeader, opListObjectVersions},
		{"GET", "h", "/bkt?uploads", noHeader, opListMultipartUploads},
		{"PUT", "h", "/bkt?policy", noHeader, opPutBucketPolicy},
		{"GET", "h", "/bkt?policy", noHeader, opGetBucketPolicy},
		{"DELETE", "h", "/bkt?policy", noHeader, opDeleteBucketPolicy},
		{"GET", "h", "/bkt?policyStatus", noHeader, opGetBucketPolicyStatus},
		{"GET", "h", "/bkt?acl", noHeader, opGetBucketACL},
		{"PUT", "h", "/bkt?acl", noHeader, opPutBucketACL},
		{"DELETE", "h", "/bkt?acl", noHeader, opNotImplemented},
		{"PUT", "h", "/bkt?cors", noHeader, opPutBucketCORS},
		{"GET", "h", "/bkt?cors", noHeader, opGetBucketCORS},
		{"DELETE", "h", "/bkt?cors", noHeader, opDeleteBucketCORS},
		{"POST", "h", "/bkt?cors", noHeader, opNotImplemented},
		{"OPTIONS", "h", "/bkt", noHeader, opPreflight},
		{"OPTIONS", "h", "/bkt/k?uploads", noHeader, opPreflight},
		{"OPTIONS", "bkt.s3.example.com", "/", noHeader, opPreflight},
		{"OPTIONS", "h", "/", noHeader, opNotImplemented},
		{"POST", "h", "/bkt?delete", noHeader, opDeleteObjects},
		{"POST", "h", "/bkt", noHeader, opNotImplemented},
		{"POST", "h", "/bkt", formHeader, opPostObject},
		{"POST", "h", "/bkt?delete", formHeader, opDeleteObjects},
		{"GET", "h", "/bkt?location&acl", noHeader, opNotImplemented},
		{"PATCH", "h", "/bkt", noHeader, opMethodNotAllowed},
		{"PUT", "h", "/bkt/k", noHeader, opPutObject},
		{"PUT", "h", "/bkt/k?x-id=PutObject", noHeader, opPutObject},
		{"PUT", "h", "/bkt/k", copyHeader, opCopyObject},
		{"GET", "h", "/bkt/k", noHeader, opGetObject},
		{"GET", "h", "/bkt/k?response-content-type=text/plain", noHeader, opGetObject},
		{"GET", "h", "/bkt/k?versionId=null", noHeader, opGetObject},
		{"GET", "h", "/bkt/k?versionId=abc", noHeader, opGetObject},
		{"GET", "h", "/bkt/k?partNumber=2", noHeader, opGetObject},
		{"HEAD", "h", "/bkt/k?partNumber=2&versionId=v", noHeader, opHeadObject},
		{"GET", "h", "/bkt/k?tagging", noHeader, opGetObjectTagging},
		{"GET", "h", "/bkt/k?tagging&versionId=v", noHeader, opGetObjectTagging},
		{"PUT", "h", "/bkt/k?tagging", noHeader, opPutObjectTagging},
		{"DELETE", "h", "/bkt/k?tagging", noHeader, opDeleteObjectTagging},
		{"GET", "h", "/bkt/k?attributes", noHeader, opGetObjectAttributes},
		{"GET", "h", "/bkt/k?acl", noHeader, opGetObjectACL},
		{"PUT", "h", "/bkt/k?acl", noHeader, opPutObjectACL},
		{"GET", "h", "/bkt/k?legal-hold", noHeader, opNotImplemented},
		{"GET", "h", "/bkt/k?tagging&acl", noHeader, opNotImplemented},
		{"HEAD", "h", "/bkt/k", noHeader, opHeadObject},
		{"DELETE", "h", "/bkt/k", noHeader, opDeleteObject},
		{"DELETE", "h", "/bkt/k?uploadId=1", noHeader, opAbortMultipartUpload},
		{"GET", "h", "/bkt/k?uploadId=1", noHeader, opListParts},
		{"PUT", "h", "/bkt/k?partNumber=1&uploadId=2", noHeader, opUploadPart},
		{"PUT", "h", "/bkt/k?partNumber=1&uploadId=2", copyHeader, opUploadPartCopy},
		{"PUT", "h", "/bkt/k?uploadId=2", noHeader, opNotImplemented},
		{"POST", "h", "/bkt/k?uploads", noHeader, opCreateMultipartUpload},
		{"POST", "h", "/bkt/k?uploadId=1", noHeader, opCompleteMultipartUpload},
		{"POST", "h", "/bkt/k", formHeader, opNotImplemented},
		{"POST", "h", "/bkt/k?restore", noHeader, opNotImplemented},
		{"TRACE", "h", "/bkt/k", noHeader, opMethodNotAllowed},
		// Virtual host: "/" is the bucket.
		{"GET", "bkt.s3.example.com", "/", noHeader, opListObjectsV1},
		{"PUT", "bkt.s3.example.com", "/", noHeader, opCreateBucket},
		{"GET", "bkt.s3.example.com", "/k", noHeader, opGetObject},
		{"POST", "bkt.s3.example.com", "/", formHeader, opPostObject},
		{"POST", "bkt.s3.example.com", "/?delete", noHeader, opDeleteObjects},
		{"POST", "bkt.s3.example.com", "/k?uploads", noHeader, opCreateMultipartUpload},
		{"GET", "bkt.s3.example.com", "/?versions", noHeader, opListObjectVersions},
	}
	for _, c := range cases {
		tg, err := parseTarget(c.host, c.uri, []string{"s3.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		q, err := parseQuery(tg.rawQuery)
		if err != nil {
			t.Fatal(err)
		}
		if got := selectOp(c.method, tg, q, c.header); got != c.want {
			t.Errorf("%s %s%s: got %v, want %v", c.method, c.host, c.uri, got, c.want)
		}
	}
}

func TestVhostBucket(t *testing.T) {
	d := []string{"s3.example.com"}
	for host, want := range map[string]string{
		"b.s3.example.com":     "b",
		"b.s3.example.com.":    "b",
		"b.s3.example.com:443": "b",
		"a.b.s3.example.com":   "a.b",
		"s3.example.com":       "",
		".s3.example.com":      "",
		"xs3.example.com":      "",
		"[::1]:9000":           "",
		"b.s3.example.org":     "",
	} {
		if got := vhostBucket(host, d); got != want {
			t.Errorf("%q: got %q, want %q", host, got, want)
		}
	}
}

// TestOpNames checks every operation has its AWS name and that only data
// operations get the transfer timeout.
func TestOpNames(t *testing.T) {
	seen := map[string]bool{}
	for o := opMethodNotAllowed; o < numOps; o++ {
		name := o.String()
		if name == "NotImplemented" || seen[name] {
			t.Errorf("op %d: name %q missing or repeated", o, name)
		}
		seen[name] = true
	}
	for _, o := range []op{opPutObject, opGetObject, opCopyObject, opUploadPart, opUploadPartCopy, opCompleteMultipartUpload, opPostObject} {
		if !o.transfersData() {
			t.Errorf("%v does not get the transfer timeout", o)
		}
	}
	if opListParts.transfersData() || opHeadObject.transfersData() {
		t.Error("metadata operations get the transfer timeout")
	}
}
