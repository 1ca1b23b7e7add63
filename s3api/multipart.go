package s3api

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
)

// maxCompleteBodySize bounds a CompleteMultipartUpload body: 10,000 parts
// with an ETag and a SHA-256 each take about 2 MB of XML.
const maxCompleteBodySize = 5 << 20

// maxListParts is the most parts or uploads one listing page returns.
const maxListParts = 1000

// uploadIDParam returns the uploadId query parameter; an empty one names
// no upload (NoSuchUpload, as S3 answers).
func uploadIDParam(r *request) (string, error) {
	id := r.query.Get("uploadId")
	if id == "" {
		return "", apiError(codeNoSuchUpload)
	}
	return id, nil
}

// uploadInfo looks an upload in progress up (NoSuchUpload when it is
// not), for what the request must be checked against: its checksum
// algorithm.
func (s *Server) uploadInfo(r *request, uploadID string) (dataplane.UploadInfo, error) {
	page, err := s.deps.Objects.ListParts(r.ctx, r.bucket, r.key, uploadID, dataplane.ListPartsOptions{Max: 1})
	if err != nil {
		return dataplane.UploadInfo{}, err
	}
	return page.Upload, nil
}

// createMultipartUpload serves CreateMultipartUpload (POST ?uploads).
func (s *Server) createMultipartUpload(r *request) error {
	if err := checkKey(r.key); err != nil {
		return err
	}
	if err := refuseSSE(r); err != nil {
		return err
	}
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	var opts dataplane.UploadOptions
	var err error
	if opts.Meta, err = objectMeta(r); err != nil {
		return err
	}
	if opts.Tags, err = parseTaggingHeader(r.header("x-amz-tagging")); err != nil {
		return err
	}
	if opts.ACL, err = requestACL(r, false); err != nil {
		return err
	}
	if v := r.header("x-amz-checksum-algorithm"); v != "" {
		alg, ok := checksumAlgorithm(v)
		if !ok {
			return apiError(codeInvalidRequest, msgBadAlgorithm)
		}
		opts.ChecksumAlgorithm = alg
	}
	if v := r.header("x-amz-checksum-type"); v != "" {
		typ, ok := checksumType(v)
		switch {
		case !ok:
			return apiError(codeInvalidRequest, "Value for x-amz-checksum-type header is invalid.")
		case opts.ChecksumAlgorithm == "":
			return apiError(codeInvalidRequest, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		opts.ChecksumType = typ
	}
	up, err := s.deps.Objects.CreateMultipartUpload(r.ctx, r.bucket, r.key, opts)
	if err != nil {
		return err
	}
	if opts.ChecksumAlgorithm != "" {
		h := &r.fctx.Response.Header
		h.Set("x-amz-checksum-algorithm", up.ChecksumAlgorithm)
		if up.ChecksumType != "" {
			h.Set("x-amz-checksum-type", up.ChecksumType)
		}
	}
	return s.writeXML(r, initiateMultipartUploadResult{Xmlns: s3Namespace, Bucket: r.bucket, Key: r.key, UploadID: up.UploadID})
}

// partSizeLimit is the largest part body accepted.
func (s *Server) partSizeLimit() int64 {
	return min(int64(dataplane.MaxPartSize), s.cfg.MaxObjectSize)
}

// uploadPart serves UploadPart (PUT ?partNumber&uploadId).
func (s *Server) uploadPart(r *request) error {
	number, err := partNumberParam(r)
	if err != nil {
		return err
	}
	uploadID, err := uploadIDParam(r)
	if err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	md5sum, err := contentMD5(r)
	if err != nil {
		return err
	}
	cs, err := requestChecksum(r)
	if err != nil {
		return err
	}
	// The data plane checks the algorithm against the upload's (sigv
	// verifies the value against the body in any case).
	opts := dataplane.PartOptions{ContentMD5: md5sum, ChecksumAlgorithm: cs.alg, ChecksumValue: cs.value}
	body, size, err := s.requestBody(r, lengthRequired)
	if err != nil {
		return err
	}
	if size > s.partSizeLimit() {
		return apiError(codeEntityTooLarge)
	}
	ticket, err := s.admit(r, b, size)
	if err != nil {
		return err
	}
	defer ticket.Cancel()
	if body, err = objectBody(body, size, size); err != nil {
		return withAlg(err, cs.alg)
	}
	part, err := s.deps.Objects.UploadPart(r.ctx, r.bucket, r.key, uploadID, number, body, size, opts)
	if err != nil {
		return withAlg(err, cs.alg)
	}
	ticket.Done(part.Size-part.Freed.Bytes, 0)
	h := &r.fctx.Response.Header
	h.Set("ETag", `"`+part.ETag+`"`)
	if v := r.auth.Checksums()[cs.alg]; cs.alg != "" && v != "" && opts.ChecksumAlgorithm == "" {
		// The client's own checksum, verified by sigv, not the one stored.
		h.Set(checksumPrefix+strings.ToLower(cs.alg), v)
	} else {
		setChecksumHeaders(h, part.Checksum)
	}
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// uploadPartCopy serves UploadPartCopy (PUT ?partNumber&uploadId with
// x-amz-copy-source): a byte range of an object streamed into a part.
func (s *Server) uploadPartCopy(r *request) error {
	number, err := partNumberParam(r)
	if err != nil {
		return err
	}
	uploadID, err := uploadIDParam(r)
	if err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	src, err := s.openCopySource(r)
	if err != nil {
		return err
	}
	info := src.obj.Info
	start, length := int64(0), info.Size
	if v := r.header("x-amz-copy-source-range"); v != "" {
		if start, length, err = parseCopyRange(v, info.Size); err != nil {
			return err
		}
	}
	if length > s.partSizeLimit() {
		return apiError(codeInvalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: "+strconv.FormatInt(s.partSizeLimit(), 10))
	}
	ticket, err := s.admit(r, b, length)
	if err != nil {
		return err
	}
	defer ticket.Cancel()
	var body io.Reader = bytes.NewReader(nil)
	if length > 0 {
		rc, err := s.openReader(r.ctx, src.obj, start, length)
		if err != nil {
			return err
		}
		defer rc.Close()
		body = rc
	}
	part, err := s.deps.Objects.UploadPart(r.ctx, r.bucket, r.key, uploadID, number, body, length, dataplane.PartOptions{})
	if err != nil {
		return err
	}
	ticket.Done(part.Size-part.Freed.Bytes, 0)
	src.setVersionHeader(r)
	return s.writeXML(r, copyPartResult{
		Xmlns: s3Namespace, ETag: `"` + part.ETag + `"`, LastModified: s3Time(part.ModTime),
		checksumXML: checksumElems(part.Checksum),
	})
}

// parseCopyRange parses x-amz-copy-source-range, "bytes=first-last", both
// zero-based and inclusive, within an object of size bytes.
func parseCopyRange(v string, size int64) (start, length int64, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	first, last, ok2 := strings.Cut(spec, "-")
	a, okA := parseDigits(first)
	b, okB := parseDigits(last)
	if !ok || !ok2 || !okA || !okB || b < a {
		return 0, 0, apiError(codeInvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	}
	if b >= size {
		return 0, 0, apiError(codeInvalidArgument, "Range specified is not valid for source object of size: "+strconv.FormatInt(size, 10))
	}
	return a, b - a + 1, nil
}

// parseComplete parses a CompleteMultipartUpload body into its parts for
// upload up. Part checksums of another algorithm than the upload's are
// left out (see partChecksum: they were verified, not stored).
func parseComplete(data []byte, up dataplane.UploadInfo) ([]dataplane.CompletePart, error) {
	var c completeMultipartUpload
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil || len(c.Parts) == 0 {
		return nil, apiError(codeMalformedXML)
	}
	if len(c.Parts) > dataplane.MaxParts {
		return nil, apiError(codeMalformedXML)
	}
	parts := make([]dataplane.CompletePart, 0, len(c.Parts))
	for _, p := range c.Parts {
		n, err := strconv.Atoi(strings.TrimSpace(p.PartNumber))
		if err != nil {
			return nil, apiError(codeMalformedXML)
		}
		if n < 1 || n > dataplane.MaxParts {
			return nil, apiError(codeInvalidArgument, msgPartNumber)
		}
		etag := strings.Trim(strings.TrimSpace(p.ETag), `"`)
		if etag == "" {
			return nil, apiError(codeMalformedXML)
		}
		alg, value, count := p.declared()
		if count > 1 {
			return nil, apiError(codeInvalidRequest, msgMultipleChecksums)
		}
		cp := dataplane.CompletePart{Number: n, ETag: etag}
		switch {
		case alg == up.ChecksumAlgorithm:
			cp.Checksum = value
		case alg != "" && !up.ChecksumDefaulted:
			return nil, errOtherAlgorithm(up)
		}
		parts = append(parts, cp)
	}
	return parts, nil
}

// completeMultipartUpload serves CompleteMultipartUpload (POST ?uploadId).
// Its x-amz-checksum-<alg> header is the whole object's checksum, checked
// by the data plane against the one it composes, not a checksum of the
// XML body.
func (s *Server) completeMultipartUpload(r *request) error {
	uploadID, err := uploadIDParam(r)
	if err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	opts := dataplane.CompleteOptions{Versioning: b.Versioning}
	if opts.IfMatch, opts.IfNoneMatch, err = writeConditions(r); err != nil {
		return err
	}
	objectSum, err := objectChecksumHeader(r)
	if err != nil {
		return err
	}
	if v := r.header("x-amz-checksum-type"); v != "" {
		typ, ok := checksumType(v)
		if !ok {
			return apiError(codeInvalidRequest, "Value for x-amz-checksum-type header is invalid.")
		}
		opts.ChecksumType = typ
	}
	r.auth.IgnoreHeaderChecksums()
	data, err := s.readSmallBody(r, maxCompleteBodySize, apiError(codeMalformedXML, "The XML you provided was too large."))
	if err != nil {
		return err
	}
	up, err := s.uploadInfo(r, uploadID)
	if err != nil {
		return err
	}
	parts, err := parseComplete(data, up)
	if err != nil {
		return err
	}
	if objectSum.alg != "" && !(objectSum.alg != up.ChecksumAlgorithm && up.ChecksumDefaulted) {
		if objectSum.alg != up.ChecksumAlgorithm {
			return errOtherAlgorithm(up)
		}
		opts.ChecksumValue = objectSum.value
	}
	info, err := s.deps.Objects.CompleteMultipartUpload(r.ctx, r.bucket, r.key, uploadID, parts, opts)
	if err != nil {
		return withAlg(err, objectSum.alg)
	}
	// The parts were counted as they were uploaded: the new version is
	// one object more, less what the completion freed. (A completion
	// repeated after a lost answer counts the object again, until a
	// recount.)
	s.recordUsage(b, -info.Freed.Bytes, 1-info.Freed.Versions)
	setVersionHeader(r, b, info.VersionID)
	return s.writeXML(r, completeMultipartUploadResult{
		Xmlns:        s3Namespace,
		Location:     s.location(r),
		Bucket:       r.bucket,
		Key:          r.key,
		ETag:         `"` + info.ETag + `"`,
		checksumXML:  checksumElems(info.Checksum),
		ChecksumType: info.Checksum.Type,
	})
}

// objectChecksumHeader reads the x-amz-checksum-<alg> header of a
// CompleteMultipartUpload (the whole object's expected checksum).
func objectChecksumHeader(r *request) (declaredChecksum, error) {
	var d declaredChecksum
	n := 0
	for k, v := range r.fctx.Request.Header.All() {
		suffix, ok := strings.CutPrefix(strings.ToLower(string(k)), checksumPrefix)
		if !ok || suffix == "type" || suffix == "mode" || suffix == "algorithm" {
			continue
		}
		alg, ok := checksumAlgorithm(suffix)
		if !ok {
			return d, apiError(codeInvalidRequest, msgBadAlgorithm)
		}
		d.alg, d.value = alg, strings.TrimSpace(string(v))
		n++
	}
	if n > 1 {
		return declaredChecksum{}, apiError(codeInvalidRequest, msgMultipleChecksums)
	}
	return d, nil
}

// location is the URL of the object r names, for CompleteMultipartUpload's
// Location: on the host and in the style the client used.
func (s *Server) location(r *request) string {
	scheme := "http"
	if r.fctx.IsTLS() {
		scheme = "https"
	}
	host := string(r.fctx.Request.Header.Host())
	path := "/" + escapeKey(r.key)
	if !r.vhost {
		path = "/" + r.bucket + path
	}
	return scheme + "://" + host + path
}

// escapeKey percent-encodes a key for a URL path, keeping '/'.
func escapeKey(key string) string {
	return strings.ReplaceAll(url.PathEscape(key), "%2F", "/")
}

// abortMultipartUpload serves AbortMultipartUpload (DELETE ?uploadId).
func (s *Server) abortMultipartUpload(r *request) error {
	uploadID, err := uploadIDParam(r)
	if err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	freed, err := s.deps.Objects.AbortMultipartUpload(r.ctx, r.bucket, r.key, uploadID)
	if err != nil {
		return err
	}
	s.recordUsage(b, -freed.Bytes, -freed.Versions)
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// intParam reads a non-negative integer query parameter (def when
// absent); a malformed one is InvalidArgument.
func intParam(r *request, name string, def int) (int, error) {
	vs, ok := r.query[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	if err != nil || n < 0 {
		return 0, apiError(codeInvalidArgument, "Provided "+name+" not an integer or within integer range")
	}
	return n, nil
}

// parseEncoding reads encoding-type: only "url" is valid.
func parseEncoding(r *request) (bool, error) {
	v, ok := r.query["encoding-type"]
	if !ok {
		return false, nil
	}
	if !strings.EqualFold(v[0], "url") {
		return false, apiError(codeInvalidArgument, "Invalid Encoding Method specified in Request")
	}
	return true, nil
}

// listParts serves ListParts (GET ?uploadId).
func (s *Server) listParts(r *request) error {
	uploadID, err := uploadIDParam(r)
	if err != nil {
		return err
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	maxParts, err := intParam(r, "max-parts", maxListParts)
	if err != nil {
		return err
	}
	maxParts = min(maxParts, maxListParts)
	marker, err := intParam(r, "part-number-marker", 0)
	if err != nil {
		return err
	}
	encode, err := parseEncoding(r)
	if err != nil {
		return err
	}
	p := listParams{encode: encode}
	// The data plane is asked for one part at least: it also tells the
	// upload exists.
	page, err := s.deps.Objects.ListParts(r.ctx, r.bucket, r.key, uploadID, dataplane.ListPartsOptions{Marker: marker, Max: max(maxParts, 1)})
	if err != nil {
		return err
	}
	if maxParts == 0 {
		page.Truncated = len(page.Parts) > 0 || page.Truncated
		page.Parts = nil
		page.NextMarker = 0
	}
	own := s.ownerOf(b.Owner)
	res := listPartsResult{
		Xmlns: s3Namespace, Bucket: r.bucket, Key: p.enc(r.key), UploadID: uploadID,
		Initiator: own, Owner: own, StorageClass: "STANDARD",
		PartNumberMarker: marker, MaxParts: maxParts, IsTruncated: page.Truncated,
		ChecksumAlgorithm: page.Upload.ChecksumAlgorithm, ChecksumType: page.Upload.ChecksumType,
		EncodingType: p.encodingType(),
	}
	if page.Truncated {
		res.NextPartNumberMarker = page.NextMarker
	}
	for _, part := range page.Parts {
		res.Parts = append(res.Parts, partEntry{
			PartNumber: part.Number, LastModified: s3Time(part.ModTime), ETag: `"` + part.ETag + `"`,
			Size: part.Size, checksumXML: checksumElems(part.Checksum),
		})
	}
	return s.writeXML(r, res)
}

// listMultipartUploads serves ListMultipartUploads (GET ?uploads).
func (s *Server) listMultipartUploads(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	maxUploads, err := intParam(r, "max-uploads", maxListParts)
	if err != nil {
		return err
	}
	maxUploads = min(maxUploads, maxListParts)
	encode, err := parseEncoding(r)
	if err != nil {
		return err
	}
	p := listParams{prefix: r.query.Get("prefix"), delimiter: r.query.Get("delimiter"), maxKeys: maxUploads, encode: encode}
	keyMarker := r.query.Get("key-marker")
	uploadIDMarker := ""
	if keyMarker != "" {
		// S3 ignores upload-id-marker without key-marker.
		uploadIDMarker = r.query.Get("upload-id-marker")
	}
	var page dataplane.ListUploadsResult
	if maxUploads > 0 {
		page, err = s.deps.Objects.ListMultipartUploads(r.ctx, r.bucket, dataplane.ListUploadsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker, UploadIDMarker: uploadIDMarker, Max: maxUploads,
		})
		if err != nil {
			return err
		}
	}
	own := s.ownerOf(b.Owner)
	res := listMultipartUploadsResult{
		Xmlns: s3Namespace, Bucket: r.bucket, KeyMarker: p.enc(keyMarker), UploadIDMarker: uploadIDMarker,
		Delimiter: p.enc(p.delimiter), Prefix: p.enc(p.prefix), MaxUploads: maxUploads,
		IsTruncated: page.Truncated, EncodingType: p.encodingType(),
	}
	if page.Truncated {
		res.NextKeyMarker = p.enc(page.NextKeyMarker)
		res.NextUploadIDMarker = page.NextUploadIDMarker
	}
	for _, u := range page.Uploads {
		res.Uploads = append(res.Uploads, uploadEntry{
			Key: p.enc(u.Key), UploadID: u.UploadID, Initiator: own, Owner: own, StorageClass: "STANDARD",
			Initiated: s3Time(u.Initiated), ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType,
		})
	}
	for _, pre := range page.Prefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p.enc(pre)})
	}
	return s.writeXML(r, res)
}

// errOtherAlgorithm answers a CompleteMultipartUpload whose checksums are
// of another algorithm than the one the upload was created with.
func errOtherAlgorithm(up dataplane.UploadInfo) *APIError {
	return apiError(codeInvalidRequest, "The upload was created using the "+up.ChecksumAlgorithm+" checksum algorithm. The complete request must use the same checksum algorithm.")
}
