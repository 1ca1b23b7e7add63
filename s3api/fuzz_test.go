package s3api

import (
	"encoding/xml"
	"maps"
	"testing"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// Fuzz targets for the XML request bodies the frontend parses. Seeds are
// in testdata/fuzz/<FuzzName>/; each target checks the parser never
// panics and that whatever it accepts holds the invariants the handlers
// rely on.

func FuzzCompleteMultipartUpload(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`))
	up := dataplane.UploadInfo{ChecksumAlgorithm: dataplane.ChecksumCRC32}
	f.Fuzz(func(t *testing.T, data []byte) {
		parts, err := parseComplete(data, up)
		if err != nil {
			if _, ok := err.(*APIError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(parts) == 0 || len(parts) > dataplane.MaxParts {
			t.Fatalf("%d parts accepted", len(parts))
		}
		for _, p := range parts {
			if p.Number < 1 || p.Number > dataplane.MaxParts || p.ETag == "" {
				t.Fatalf("part accepted: %+v", p)
			}
		}
	})
}

func FuzzDeleteObjects(f *testing.F) {
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key><VersionId>v</VersionId></Object></Delete>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDelete(data)
		if err != nil {
			return
		}
		if len(d.Objects) == 0 || len(d.Objects) > maxDeleteKeys {
			t.Fatalf("%d objects accepted", len(d.Objects))
		}
		for _, o := range d.Objects {
			if o.Key == nil {
				t.Fatal("object without a key accepted")
			}
		}
	})
}

func FuzzTagging(f *testing.F) {
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tags, err := parseTagging(data)
		if err != nil {
			return
		}
		if err := validateTags(tags); err != nil {
			t.Fatalf("accepted tags fail validation: %v", err)
		}
		// What is accepted is answered back and parses to the same set.
		out, err := xml.Marshal(tagging{Xmlns: s3Namespace, TagSet: tagSetOf(tags)})
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseTagging(out)
		if err != nil || !maps.Equal(back, tags) {
			t.Fatalf("round trip of %q: %v %v", out, back, err)
		}
	})
}

func FuzzVersioningConfiguration(f *testing.F) {
	f.Add([]byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseVersioning(data)
		if err != nil {
			return
		}
		if v != meta.VersioningEnabled && v != meta.VersioningSuspended {
			t.Fatalf("state %v accepted", v)
		}
	})
}

func FuzzCreateBucketConfiguration(f *testing.F) {
	f.Add([]byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lc, err := parseCreateBucket(data)
		if err == nil && lc != "" && len(lc) > len(data) {
			t.Fatalf("constraint %q longer than the body", lc)
		}
	})
}
