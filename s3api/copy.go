package s3api

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"net/url"
	"strconv"
	"strings"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// CopyObject and UploadPartCopy: the source is resolved with GetObject and
// streamed through Object.NewReader into PutObject or UploadPart; no
// object is ever held in memory.

// maxCopySourceSize is the largest object CopyObject copies in one
// request, as S3 (larger ones are copied part by part).
const maxCopySourceSize = 5 << 30

// copySource is the resolved x-amz-copy-source of a request.
type copySource struct {
	bucket    meta.Bucket
	key       string
	versionID string // as the request named it; "" for the current version
	obj       *dataplane.Object
}

// setVersionHeader answers x-amz-copy-source-version-id when the source
// bucket is or was versioned.
func (c copySource) setVersionHeader(r *request) {
	if c.bucket.Versioning != meta.VersioningOff && c.obj.Info.VersionID != "" {
		r.fctx.Response.Header.Set("x-amz-copy-source-version-id", c.obj.Info.VersionID)
	}
}

// parseCopySource splits x-amz-copy-source, "[/]bucket/key[?versionId=v]"
// with the bucket and key URL-encoded, into its parts.
func parseCopySource(v string) (bucket, key, versionID string, err error) {
	bad := apiError(codeInvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	rawPath, rawQuery, hasQuery := strings.Cut(strings.TrimSpace(v), "?")
	if hasQuery {
		q, qerr := parseQuery(rawQuery)
		if qerr != nil {
			return "", "", "", bad
		}
		if vs, ok := q["versionId"]; ok {
			if len(vs) != 1 || !validVersionID(vs[0]) {
				return "", "", "", apiError(codeInvalidArgument, "Invalid version id specified")
			}
			versionID = vs[0]
		}
	}
	p, perr := url.PathUnescape(rawPath)
	if perr != nil {
		return "", "", "", bad
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if bucket == "" || key == "" {
		return "", "", "", bad
	}
	return bucket, key, versionID, nil
}

// copySourceHeader maps the conditional header names of RFC 9110 to their
// x-amz-copy-source-* forms.
func copySourceHeader(h func(string) string) func(string) string {
	return func(name string) string { return h("x-amz-copy-source-" + name) }
}

// openCopySource resolves the request's copy source and evaluates the
// x-amz-copy-source-if-* conditions against it: any that fails is
// PreconditionFailed (a copy has no 304).
func (s *Server) openCopySource(r *request) (copySource, error) {
	bucket, key, versionID, err := parseCopySource(r.header("x-amz-copy-source"))
	if err != nil {
		return copySource{}, err
	}
	if err := checkKey(key); err != nil {
		return copySource{}, err
	}
	// Reading the source needs s3:GetObject (s3:GetObjectVersion) on it.
	if err := s.check(r, action(opGetObject, versionID != ""), bucket, key, versionID); err != nil {
		return copySource{}, err
	}
	src := copySource{key: key, versionID: versionID}
	if src.bucket, err = s.bucket(r.ctx, bucket); err != nil {
		return copySource{}, err
	}
	src.obj, err = s.deps.Objects.GetObject(r.ctx, bucket, key, dataplane.GetOptions{VersionID: versionID})
	var marker *dataplane.DeleteMarkerError
	switch {
	case errors.As(err, &marker) && marker.ByVersion:
		return copySource{}, apiError(codeInvalidRequest, "The source of a copy request may not specifically refer to a delete marker by version id.")
	case errors.As(err, &marker):
		return copySource{}, apiError(codeNoSuchKey)
	case err != nil:
		return copySource{}, err
	}
	info := src.obj.Info
	if evalConditions(copySourceHeader(r.header), info.ETag, info.ModTime) != condProceed {
		return copySource{}, apiError(codePreconditionFailed)
	}
	return src, nil
}

// directive reads x-amz-metadata-directive or x-amz-tagging-directive:
// COPY (the default) or REPLACE.
func directive(r *request, header, what string) (replace bool, err error) {
	switch v := strings.ToUpper(strings.TrimSpace(r.header(header))); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	}
	return false, apiError(codeInvalidArgument, "Unknown "+what+" directive.")
}

// copyObject serves CopyObject (PUT with x-amz-copy-source).
func (s *Server) copyObject(r *request) error {
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := refuseSSE(r); err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	replaceMeta, err := directive(r, "x-amz-metadata-directive", "metadata")
	if err != nil {
		return err
	}
	replaceTags, err := directive(r, "x-amz-tagging-directive", "tagging")
	if err != nil {
		return err
	}
	opts := dataplane.PutOptions{Versioning: b.Versioning}
	// The copy gets the ACL the request names (private by default), never
	// the source's, as in S3.
	if opts.ACL, err = requestACL(r, false); err != nil {
		return err
	}
	if replaceMeta {
		if opts.Meta, err = objectMeta(r); err != nil {
			return err
		}
	}
	if replaceTags {
		if opts.Tags, err = parseTaggingHeader(r.header("x-amz-tagging")); err != nil {
			return err
		}
	}
	if v := r.header("x-amz-checksum-algorithm"); v != "" {
		alg, ok := checksumAlgorithm(v)
		if !ok {
			return apiError(codeInvalidRequest, msgBadAlgorithm)
		}
		opts.ChecksumAlgorithm = alg
	}
	src, err := s.openCopySource(r)
	if err != nil {
		return err
	}
	info := src.obj.Info
	if src.bucket.Name == r.bucket && src.key == r.key && (src.versionID == "" || info.IsLatest) && !replaceMeta {
		return apiError(codeInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if limit := min(int64(maxCopySourceSize), s.cfg.MaxObjectSize); info.Size > limit {
		return apiError(codeInvalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: "+strconv.FormatInt(limit, 10))
	}
	if !replaceMeta {
		opts.Meta = maps.Clone(info.Meta)
	}
	if !replaceTags {
		opts.Tags = maps.Clone(info.Tags)
	}
	if opts.ChecksumAlgorithm == "" {
		// The copy keeps the source's algorithm, as S3 does; a composite
		// multipart checksum becomes a full-object one of the copy.
		opts.ChecksumAlgorithm = info.Checksum.Algorithm
	}
	ticket, err := s.admit(r, b, info.Size)
	if err != nil {
		return err
	}
	defer ticket.Cancel()
	var body io.Reader = bytes.NewReader(nil)
	if info.Size > 0 {
		rc, err := s.openReader(r.ctx, src.obj, 0, info.Size)
		if err != nil {
			return err
		}
		defer rc.Close()
		body = rc
	}
	out, err := s.deps.Objects.PutObject(r.ctx, r.bucket, r.key, body, info.Size, opts)
	if err != nil {
		return err
	}
	written(ticket, out.Size, out.Freed)
	setVersionHeader(r, b, out.VersionID)
	src.setVersionHeader(r)
	return s.writeXML(r, copyObjectResult{
		Xmlns: s3Namespace, ETag: `"` + out.ETag + `"`, LastModified: s3Time(out.ModTime),
		ChecksumType: out.Checksum.Type, checksumXML: checksumElems(out.Checksum),
	})
}
