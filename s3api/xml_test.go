package s3api

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestListBucketResultV2XML(t *testing.T) {
	own := &owner{ID: "abc", DisplayName: "root"}
	res := listBucketResultV2{
		Xmlns: s3Namespace, Name: "bkt", Prefix: "p/", Delimiter: "/", MaxKeys: 2, KeyCount: 2,
		IsTruncated: true,
		Contents: []objectEntry{{
			Key: "p/a", LastModified: s3Time(time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600))),
			ETag: `"e"`, Size: 3, Owner: own, StorageClass: "STANDARD",
		}},
		CommonPrefixes:        []commonPrefix{{Prefix: "p/d/"}},
		NextContinuationToken: "cC9kLw==",
	}
	b, err := marshalXML(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<Name>bkt</Name><Prefix>p/</Prefix><Delimiter>/</Delimiter><MaxKeys>2</MaxKeys><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>` +
		`<Contents><Key>p/a</Key><LastModified>2024-01-02T02:04:05.006Z</LastModified><ETag>&#34;e&#34;</ETag><Size>3</Size>` +
		`<Owner><ID>abc</ID><DisplayName>root</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>` +
		`<CommonPrefixes><Prefix>p/d/</Prefix></CommonPrefixes>` +
		`<NextContinuationToken>cC9kLw==</NextContinuationToken></ListBucketResult>`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
}

func TestEmptyListsXML(t *testing.T) {
	b, err := marshalXML(listBucketResultV1{Xmlns: s3Namespace, Name: "bkt", MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`
	if !strings.HasSuffix(string(b), want) {
		t.Errorf("got %s", b)
	}
	b, err = marshalXML(listAllMyBucketsResult{Xmlns: s3Namespace, Owner: owner{ID: "i", DisplayName: "d"}, Buckets: []bucketEntry{}})
	if err != nil {
		t.Fatal(err)
	}
	want = `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>i</ID><DisplayName>d</DisplayName></Owner><Buckets></Buckets></ListAllMyBucketsResult>`
	if !strings.HasSuffix(string(b), want) {
		t.Errorf("got %s", b)
	}
	b, err = marshalXML(locationConstraint{Xmlns: s3Namespace})
	if err != nil {
		t.Fatal(err)
	}
	want = `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`
	if !strings.HasSuffix(string(b), want) {
		t.Errorf("got %s", b)
	}
}

func TestURLEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a/b c+d": "a/b+c%2Bd",
		"é€":      "%C3%A9%E2%82%AC",
		"x&y=z":   "x%26y%3Dz",
		"":        "",
	} {
		got := urlEncode(in)
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
		if back, err := url.QueryUnescape(got); err != nil || back != in {
			t.Errorf("%q does not decode back: %q %v", got, back, err)
		}
	}
}
