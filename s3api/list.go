package s3api

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/strata-io/strata/dataplane"
)

// maxListKeys is the most keys one listing page returns, as S3.
const maxListKeys = 1000

// listParams are the request parameters both ListObjects versions share.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	encode            bool // encoding-type=url
}

// parseListParams reads prefix, delimiter, max-keys (0..1000, default 1000;
// larger values are capped as S3 does) and encoding-type.
func parseListParams(r *request) (listParams, error) {
	p := listParams{prefix: r.query.Get("prefix"), delimiter: r.query.Get("delimiter"), maxKeys: maxListKeys}
	if v, ok := r.query["max-keys"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil || n < 0 {
			return p, apiError(codeInvalidArgument, "Provided max-keys not an integer or within integer range")
		}
		p.maxKeys = min(n, maxListKeys)
	}
	if v, ok := r.query["encoding-type"]; ok {
		if !strings.EqualFold(v[0], "url") {
			return p, apiError(codeInvalidArgument, "Invalid Encoding Method specified in Request")
		}
		p.encode = true
	}
	return p, nil
}

// enc applies encoding-type=url to a key or prefix when requested.
func (p listParams) enc(s string) string {
	if p.encode {
		return urlEncode(s)
	}
	return s
}

// encodingType is the EncodingType element to answer with.
func (p listParams) encodingType() string {
	if p.encode {
		return "url"
	}
	return ""
}

// listPage fetches one page from the data plane; max-keys 0 answers an empty,
// untruncated page without asking it.
func (s *Server) listPage(r *request, p listParams, after string) (dataplane.ListResult, error) {
	if p.maxKeys == 0 {
		return dataplane.ListResult{}, nil
	}
	return s.deps.Objects.ListObjects(r.ctx, r.bucket, dataplane.ListOptions{
		Prefix: p.prefix, Delimiter: p.delimiter, After: after, Max: p.maxKeys,
	})
}

// entries converts a page to <Contents> and <CommonPrefixes>.
func (p listParams) entries(page dataplane.ListResult, own *owner) ([]objectEntry, []commonPrefix) {
	var contents []objectEntry
	for _, o := range page.Objects {
		contents = append(contents, objectEntry{
			Key:          p.enc(o.Key),
			LastModified: s3Time(o.ModTime),
			ETag:         `"` + o.ETag + `"`,
			Size:         o.Size,
			Owner:        own,
			StorageClass: "STANDARD",
		})
	}
	var prefixes []commonPrefix
	for _, pre := range page.Prefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: p.enc(pre)})
	}
	return contents, prefixes
}

// listObjectsV2 serves ListObjectsV2 (GET /bucket?list-type=2). The
// continuation token is the base64 of the data plane's Next: opaque to
// clients, and enough to resume.
func (s *Server) listObjectsV2(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	p, err := parseListParams(r)
	if err != nil {
		return err
	}
	startAfter := r.query.Get("start-after")
	after := startAfter
	token, hasToken := r.query["continuation-token"]
	if hasToken {
		dec, err := base64.StdEncoding.DecodeString(token[0])
		if err != nil || token[0] == "" {
			return apiError(codeInvalidArgument, "The continuation token provided is incorrect")
		}
		after = string(dec)
	}
	page, err := s.listPage(r, p, after)
	if err != nil {
		return err
	}
	var own *owner
	if r.query.Get("fetch-owner") == "true" {
		o := s.ownerOf(b.Owner)
		own = &o
	}
	contents, prefixes := p.entries(page, own)
	res := listBucketResultV2{
		Xmlns:          s3Namespace,
		Name:           r.bucket,
		Prefix:         p.enc(p.prefix),
		Delimiter:      p.enc(p.delimiter),
		MaxKeys:        p.maxKeys,
		KeyCount:       len(contents) + len(prefixes),
		IsTruncated:    page.Truncated,
		Contents:       contents,
		CommonPrefixes: prefixes,
		StartAfter:     p.enc(startAfter),
		EncodingType:   p.encodingType(),
	}
	if hasToken {
		res.ContinuationToken = token[0]
	}
	if page.Truncated {
		res.NextContinuationToken = base64.StdEncoding.EncodeToString([]byte(page.Next))
	}
	return s.writeXML(r, res)
}

// listObjectsV1 serves ListObjects version 1 (GET /bucket). NextMarker is
// returned, as S3 does, only when a delimiter was given; without one
// clients resume from the last key.
func (s *Server) listObjectsV1(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	p, err := parseListParams(r)
	if err != nil {
		return err
	}
	marker := r.query.Get("marker")
	page, err := s.listPage(r, p, marker)
	if err != nil {
		return err
	}
	own := s.ownerOf(b.Owner)
	contents, prefixes := p.entries(page, &own)
	res := listBucketResultV1{
		Xmlns:          s3Namespace,
		Name:           r.bucket,
		Prefix:         p.enc(p.prefix),
		Marker:         p.enc(marker),
		MaxKeys:        p.maxKeys,
		Delimiter:      p.enc(p.delimiter),
		IsTruncated:    page.Truncated,
		Contents:       contents,
		CommonPrefixes: prefixes,
		EncodingType:   p.encodingType(),
	}
	if page.Truncated && p.delimiter != "" {
		res.NextMarker = p.enc(page.Next)
	}
	return s.writeXML(r, res)
}
