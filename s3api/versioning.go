package s3api

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// maxVersioningBodySize bounds a PutBucketVersioning body.
const maxVersioningBodySize = 16 << 10

// versioningConfiguration is the VersioningConfiguration document of
// Get/PutBucketVersioning. The request's namespace is not required: some
// clients omit it.
type versioningConfiguration struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

// parseVersioning parses a PutBucketVersioning body into the state to set.
// Status must be Enabled or Suspended; MFA delete cannot be enabled.
func parseVersioning(data []byte) (meta.Versioning, error) {
	var c versioningConfiguration
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return meta.VersioningOff, apiError(codeMalformedXML)
	}
	switch strings.TrimSpace(c.MfaDelete) {
	case "", "Disabled":
	case "Enabled":
		return meta.VersioningOff, apiError(codeNotImplemented, "MFA Delete is not implemented.")
	default:
		return meta.VersioningOff, apiError(codeMalformedXML)
	}
	switch strings.TrimSpace(c.Status) {
	case "Enabled":
		return meta.VersioningEnabled, nil
	case "Suspended":
		return meta.VersioningSuspended, nil
	case "":
		return meta.VersioningOff, apiError(codeIllegalVersioningConfiguration, "The Versioning element must be specified")
	}
	return meta.VersioningOff, apiError(codeMalformedXML)
}

// putBucketVersioning serves PutBucketVersioning: Enabled or Suspended,
// proposed through Raft. A bucket never goes back to unversioned.
func (s *Server) putBucketVersioning(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	if r.header("x-amz-mfa") != "" {
		return apiError(codeNotImplemented, "MFA Delete is not implemented.")
	}
	data, err := s.readSmallBody(r, maxVersioningBodySize, apiError(codeMalformedXML))
	if err != nil {
		return err
	}
	v, err := parseVersioning(data)
	if err != nil {
		return err
	}
	if err := s.deps.Control.Propose(r.ctx, meta.SetBucketVersioning{Name: r.bucket, Versioning: v}); err != nil {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// getBucketVersioning serves GetBucketVersioning: no Status for a bucket
// that was never versioned, as S3 answers.
func (s *Server) getBucketVersioning(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	return s.writeXML(r, versioningConfiguration{Xmlns: s3Namespace, Status: b.Versioning.String()})
}

// listObjectVersions serves ListObjectVersions (GET ?versions): versions
// and delete markers of every key, newest first, with key-marker and
// version-id-marker paging.
func (s *Server) listObjectVersions(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	p, err := parseListParams(r)
	if err != nil {
		return err
	}
	keyMarker := r.query.Get("key-marker")
	vidMarker, hasVID := r.query["version-id-marker"]
	versionMarker := ""
	if hasVID {
		versionMarker = vidMarker[0]
		switch {
		case keyMarker == "":
			return apiError(codeInvalidArgument, "A version-id marker cannot be specified without a key marker.")
		case versionMarker != "" && !validVersionID(versionMarker):
			return apiError(codeInvalidArgument, "Invalid version id specified")
		}
	}
	var page dataplane.ListVersionsResult
	if p.maxKeys > 0 {
		page, err = s.deps.Objects.ListObjectVersions(r.ctx, r.bucket, dataplane.ListVersionsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker, VersionIDMarker: versionMarker, Max: p.maxKeys,
		})
		if err != nil {
			return err
		}
	}
	own := s.ownerOf(b.Owner)
	res := listVersionsResult{
		Xmlns:           s3Namespace,
		Name:            r.bucket,
		Prefix:          p.enc(p.prefix),
		KeyMarker:       p.enc(keyMarker),
		VersionIDMarker: versionMarker,
		MaxKeys:         p.maxKeys,
		Delimiter:       p.enc(p.delimiter),
		IsTruncated:     page.Truncated,
		EncodingType:    p.encodingType(),
	}
	if page.Truncated {
		res.NextKeyMarker = p.enc(page.NextKeyMarker)
		res.NextVersionIDMarker = page.NextVersionIDMarker
	}
	for _, v := range page.Versions {
		vid := v.VersionID
		if vid == "" {
			vid = dataplane.NullVersionID
		}
		if v.DeleteMarker {
			res.Entries = append(res.Entries, versionEntry{
				XMLName: xml.Name{Local: "DeleteMarker"},
				Key:     p.enc(v.Key), VersionID: vid, IsLatest: v.IsLatest,
				LastModified: s3Time(v.ModTime), Owner: &own,
			})
			continue
		}
		size := v.Size
		res.Entries = append(res.Entries, versionEntry{
			XMLName: xml.Name{Local: "Version"},
			Key:     p.enc(v.Key), VersionID: vid, IsLatest: v.IsLatest,
			LastModified: s3Time(v.ModTime), ETag: `"` + v.ETag + `"`, Size: &size,
			Owner: &own, StorageClass: "STANDARD",
			ChecksumAlgorithm: v.Checksum.Algorithm, ChecksumType: v.Checksum.Type,
		})
	}
	for _, pre := range page.Prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p.enc(pre)})
	}
	return s.writeXML(r, res)
}
