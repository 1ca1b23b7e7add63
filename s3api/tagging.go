package s3api

import (
	"bytes"
	"encoding/xml"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// maxTaggingBodySize bounds a PutObjectTagging body: ten tags of 128 and
// 256 characters (up to 4 bytes each in UTF-8, more when escaped) fit well
// within it.
const maxTaggingBodySize = 64 << 10

// tagging is the Tagging XML document (GetObjectTagging's response,
// PutObjectTagging's request).
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  *tagSet  `xml:"TagSet"`
}

type tagSet struct {
	Tags []tag `xml:"Tag"`
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// validTagChar reports the characters S3 accepts in tag keys and values:
// letters, digits and white space in any script, and + - = . _ : / @.
func validTagChar(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsSpace(c) || unicode.IsMark(c) ||
		strings.ContainsRune("+-=._:/@", c)
}

// validateTags checks a tag set against S3's limits: at most 10 tags, keys
// of 1 to 128 characters, values of up to 256, allowed characters only, no
// key prefixed "aws:". Every violation is InvalidTag.
func validateTags(tags map[string]string) error {
	if len(tags) > dataplane.MaxTags {
		return apiError(codeInvalidTag, "Object tags cannot be greater than 10")
	}
	for k, v := range tags {
		switch {
		case k == "" || !utf8.ValidString(k) || strings.IndexFunc(k, func(c rune) bool { return !validTagChar(c) }) >= 0:
			return apiError(codeInvalidTag, "The TagKey you have provided is invalid")
		case utf8.RuneCountInString(k) > dataplane.MaxTagKeyLen:
			return apiError(codeInvalidTag, "The TagKey you have provided is too long, max 128")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return apiError(codeInvalidTag, "Your TagKey cannot be prefixed with aws:")
		case !utf8.ValidString(v) || strings.IndexFunc(v, func(c rune) bool { return !validTagChar(c) }) >= 0:
			return apiError(codeInvalidTag, "The TagValue you have provided is invalid")
		case utf8.RuneCountInString(v) > dataplane.MaxTagValLen:
			return apiError(codeInvalidTag, "The TagValue you have provided is too long, max 256")
		}
	}
	return nil
}

// parseTaggingHeader parses x-amz-tagging (PutObject, CopyObject with
// REPLACE, CreateMultipartUpload): URL query syntax, "k1=v1&k2=v2". nil
// when the header is empty.
func parseTaggingHeader(v string) (map[string]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	q, err := parseQuery(v)
	if err != nil {
		return nil, apiError(codeInvalidArgument, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	tags := make(map[string]string, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, apiError(codeInvalidTag, "Cannot provide multiple Tags with the same key")
		}
		tags[k] = vs[0]
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// parseTagging parses a Tagging XML body into a validated tag set.
func parseTagging(data []byte) (map[string]string, error) {
	var t tagging
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&t); err != nil || t.TagSet == nil {
		return nil, apiError(codeMalformedXML)
	}
	tags := make(map[string]string, len(t.TagSet.Tags))
	for _, tg := range t.TagSet.Tags {
		if _, dup := tags[tg.Key]; dup {
			return nil, apiError(codeInvalidTag, "Cannot provide multiple Tags with the same key")
		}
		tags[tg.Key] = tg.Value
	}
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	return tags, nil
}

// tagSetOf lists tags in key order (S3 keeps no order; a stable one makes
// responses reproducible).
func tagSetOf(tags map[string]string) *tagSet {
	ts := &tagSet{Tags: []tag{}}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		ts.Tags = append(ts.Tags, tag{Key: k, Value: tags[k]})
	}
	return ts
}

// versionInfo looks up the version a subresource request (?tagging,
// ?acl) names by its versionId, and answers its x-amz-version-id.
func (s *Server) versionInfo(r *request) (meta.Bucket, dataplane.ObjectInfo, error) {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return b, dataplane.ObjectInfo{}, err
	}
	versionID, err := versionParam(r)
	if err != nil {
		return b, dataplane.ObjectInfo{}, err
	}
	info, err := s.deps.Objects.HeadObject(r.ctx, r.bucket, r.key, dataplane.GetOptions{VersionID: versionID})
	if err != nil {
		return b, info, err
	}
	setVersionHeader(r, b, info.VersionID)
	return b, info, nil
}

// getObjectTagging serves GetObjectTagging (GET ?tagging).
func (s *Server) getObjectTagging(r *request) error {
	_, info, err := s.versionInfo(r)
	if err != nil {
		return err
	}
	return s.writeXML(r, tagging{Xmlns: s3Namespace, TagSet: tagSetOf(info.Tags)})
}

// putObjectTagging serves PutObjectTagging (PUT ?tagging): the tag set
// replaces the version's.
func (s *Server) putObjectTagging(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	versionID, err := versionParam(r)
	if err != nil {
		return err
	}
	data, err := s.readSmallBody(r, maxTaggingBodySize, apiError(codeMalformedXML))
	if err != nil {
		return err
	}
	tags, err := parseTagging(data)
	if err != nil {
		return err
	}
	info, err := s.deps.Objects.SetObjectTags(r.ctx, r.bucket, r.key, versionID, tags)
	if err != nil {
		return err
	}
	setVersionHeader(r, b, info.VersionID)
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// deleteObjectTagging serves DeleteObjectTagging (DELETE ?tagging): 204.
func (s *Server) deleteObjectTagging(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	versionID, err := versionParam(r)
	if err != nil {
		return err
	}
	info, err := s.deps.Objects.SetObjectTags(r.ctx, r.bucket, r.key, versionID, nil)
	if err != nil {
		return err
	}
	setVersionHeader(r, b, info.VersionID)
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}
