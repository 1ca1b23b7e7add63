// This file holds the browser POST upload (PostObject): the
// multipart/form-data form, its policy document and its signature. The
// router selects opPostObject for a form POST to a bucket and hands the
// request to (*Server).postObject without header authentication.

package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/s3api/sigv"
)

const (
	// maxPostFields bounds the names and values of the form fields before
	// the file, as S3 does (20 KB).
	maxPostFields = 20 << 10
	// maxPostPreData bounds the raw bytes read before the file's content:
	// the fields with their part headers and boundaries, and what the
	// multipart reader buffers ahead.
	maxPostPreData = 64 << 10
)

func errMalformedPOST() *APIError { return apiError(codeMalformedPOSTRequest) }

func errPostFiles() *APIError { return apiError(codeIncorrectNumberOfFilesInPostRequest) }

func errPostPreData() *APIError { return apiError(codeMaxPostPreDataLengthExceeded) }

// postError translates the errors of sigv's POST form checks, which
// depend on the POST context (the other sigv errors go through
// toS3Error as for any request).
func postError(err error) error {
	var pe *sigv.PolicyError
	var me *sigv.MissingFieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return apiError(codeAccessDenied, "Invalid according to Policy: "+pe.Reason)
	case errors.As(err, &me):
		return apiError(codeInvalidArgument, "Bucket POST must contain a field named '"+me.Field+"'.  If it is specified, please check the order of the fields.")
	case errors.Is(err, sigv.ErrPostPolicyMalformed):
		// The detail (which condition, what is wrong with it) helps the
		// form's author; the package prefix does not.
		return apiError(codeInvalidPolicyDocument, "Invalid Policy: "+strings.TrimPrefix(err.Error(), "sigv: "))
	case errors.Is(err, sigv.ErrPostFormMalformed):
		return apiError(codeInvalidArgument, strings.TrimPrefix(err.Error(), "sigv: "))
	case errors.Is(err, sigv.ErrPostTooLarge):
		return apiError(codeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	case errors.Is(err, sigv.ErrPostTooSmall):
		return apiError(codeEntityTooSmall, "Your proposed upload is smaller than the minimum allowed size")
	}
	return err
}

// preData counts the raw bytes of the request body read before the file
// part starts, and fails the read once there are more than maxPostPreData.
type preData struct {
	r        io.Reader
	n        int64
	inFile   bool
	exceeded bool
}

func (p *preData) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if !p.inFile {
		p.n += int64(n)
		if p.n > maxPostPreData {
			p.exceeded = true
			return 0, errPostPreData()
		}
	}
	return n, err
}

// postForm reads the form fields (names lower-cased) up to the file part,
// which it returns unread with its file name. Fields after the file are
// not read: S3 ignores them.
func postForm(body io.Reader, contentType string) (map[string]string, *multipart.Part, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, nil, errMalformedPOST()
	}
	pre := &preData{r: body}
	mr := multipart.NewReader(pre, params["boundary"])
	fields := map[string]string{}
	size := 0
	for {
		part, err := mr.NextRawPart()
		switch {
		case pre.exceeded:
			return nil, nil, errPostPreData()
		case errors.Is(err, io.EOF):
			return nil, nil, errPostFiles()
		case err != nil:
			return nil, nil, errMalformedPOST()
		}
		name := strings.ToLower(part.FormName())
		if name == "" {
			return nil, nil, errMalformedPOST()
		}
		if name == "file" {
			pre.inFile = true
			return fields, part, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, int64(maxPostFields-size+1)))
		switch {
		case pre.exceeded:
			return nil, nil, errPostPreData()
		case err != nil:
			return nil, nil, errMalformedPOST()
		}
		if size += len(name) + len(v); size > maxPostFields {
			return nil, nil, errPostPreData()
		}
		if _, dup := fields[name]; dup {
			return nil, nil, apiError(codeInvalidArgument, "The form field "+name+" is given more than once.")
		}
		fields[name] = string(v)
	}
}

// postFile is the file of a POST upload on its way to the data plane,
// which reads it to EOF (size -1). It fails as soon as the file grows past
// max (the policy's content-length-range, bounded by MaxObjectSize), and
// at EOF when it is shorter than the range: the data plane then commits
// nothing.
type postFile struct {
	r      io.Reader
	n      int64
	policy *sigv.Policy
	max    int64 // MaxObjectSize
}

func (f *postFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if f.n > f.max {
		return 0, apiError(codeEntityTooLarge)
	}
	if _, hi, ok := f.policy.LengthRange(); ok && f.n > hi {
		return 0, postError(f.policy.CheckLength(f.n))
	}
	if errors.Is(err, io.EOF) {
		if err := f.policy.CheckLength(f.n); err != nil {
			return 0, postError(err)
		}
	}
	return n, err
}

// postOptions collects what the object stores from the form fields: the
// content fields and x-amz-meta-*, the tagging document, the canned ACL,
// Content-MD5 and a declared checksum.
func postOptions(fields map[string]string) (dataplane.PutOptions, error) {
	var opts dataplane.PutOptions
	m := map[string]string{}
	for _, name := range storedHeaders() {
		if v := fields[name]; v != "" {
			m[name] = v
		}
	}
	userMeta := 0
	checksums := 0
	for name, v := range fields {
		switch {
		case strings.HasPrefix(name, metaPrefix):
			m[name] = v
			userMeta += len(name) - len(metaPrefix) + len(v)
		case strings.HasPrefix(name, checksumPrefix) && name != "x-amz-checksum-algorithm" && name != "x-amz-checksum-type":
			alg, ok := checksumAlgorithm(strings.TrimPrefix(name, checksumPrefix))
			if !ok {
				return opts, apiError(codeInvalidRequest, "The checksum algorithm of field "+name+" is not supported.")
			}
			if !validChecksumValue(alg, v) {
				return opts, apiError(codeInvalidRequest, "Value for "+name+" is invalid.")
			}
			checksums++
			opts.ChecksumAlgorithm, opts.ChecksumValue = alg, v
		}
	}
	if userMeta > maxUserMetaSize {
		return opts, apiError(codeMetadataTooLarge)
	}
	if checksums > 1 {
		return opts, apiError(codeInvalidRequest, msgMultipleChecksums)
	}
	if v := fields["x-amz-checksum-algorithm"]; v != "" {
		alg, ok := checksumAlgorithm(v)
		switch {
		case !ok:
			return opts, apiError(codeInvalidRequest, msgBadAlgorithm)
		case opts.ChecksumAlgorithm != "" && alg != opts.ChecksumAlgorithm:
			return opts, apiError(codeInvalidRequest, "Value for x-amz-checksum-algorithm is invalid.")
		}
		opts.ChecksumAlgorithm = alg
	}
	opts.Meta = m
	if v := fields["content-md5"]; v != "" {
		sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(sum) != md5.Size {
			return opts, apiError(codeInvalidDigest)
		}
		opts.ContentMD5 = sum
	}
	if v := fields["tagging"]; v != "" {
		tags, err := parseTagging([]byte(v))
		if err != nil {
			return opts, err
		}
		opts.Tags = tags
	}
	if v := strings.TrimSpace(fields["acl"]); v != "" {
		acl, err := cannedACL(v, false)
		if err != nil {
			return opts, err
		}
		opts.ACL = acl
	}
	return opts, nil
}

// postSuccess answers a stored POST upload as the form asks: a 303
// redirect to success_action_redirect (or the older redirect field) with
// bucket, key and etag added to its query; else success_action_status
// 200, 201 (with a PostResponse document) or 204, the default.
func (s *Server) postSuccess(r *request, fields map[string]string, key string, info dataplane.ObjectInfo) error {
	scheme := "http"
	if r.fctx.IsTLS() {
		scheme = "https"
	}
	path := "/" + r.bucket + "/" + key
	if r.vhost {
		path = "/" + key
	}
	location := scheme + "://" + string(r.fctx.Request.Header.Host()) + (&url.URL{Path: path}).EscapedPath()
	etag := `"` + info.ETag + `"`
	h := &r.fctx.Response.Header
	h.Set("ETag", etag)
	h.Set("Location", location)

	redirect := fields["success_action_redirect"]
	if redirect == "" {
		redirect = fields["redirect"]
	}
	if u, err := url.Parse(redirect); redirect != "" && err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		q := u.Query()
		q.Set("bucket", r.bucket)
		q.Set("key", key)
		q.Set("etag", etag)
		u.RawQuery = q.Encode()
		h.Set("Location", u.String())
		r.fctx.SetStatusCode(fasthttp.StatusSeeOther)
		return nil
	}
	switch fields["success_action_status"] {
	case "200":
		r.fctx.SetStatusCode(fasthttp.StatusOK)
	case "201":
		body, err := marshalXML(postResponse{Location: location, Bucket: r.bucket, Key: key, ETag: etag})
		if err != nil {
			return err
		}
		r.fctx.SetStatusCode(fasthttp.StatusCreated)
		r.fctx.SetContentType("application/xml")
		r.fctx.SetBody(body)
	default:
		r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	}
	return nil
}

// postResponse is the document of a 201 answer to a POST upload.
type postResponse struct {
	XMLName  struct{} `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// postObject serves PostObject, a browser upload: the form fields are read
// (bounded), the policy's signature verified and its conditions checked,
// then the file streams to the data plane, checked against the policy's
// content-length-range as it goes.
func (s *Server) postObject(r *request) error {
	raw := r.bodyStream()
	cl := int64(r.fctx.Request.Header.ContentLength())
	if cl < 0 {
		cl = -1
	}
	body := &clientBody{r: raw, remaining: cl, fctx: r.fctx, timeout: s.cfg.ReadTimeout}
	fields, file, err := postForm(body, r.header("content-type"))
	if err != nil {
		return err
	}

	// The signature, with the lookup failures that are not "no such key"
	// reported as themselves (as authenticate does). A session's token is
	// the x-amz-security-token field.
	kr := s.newKeyResolver(r.ctx, fields["x-amz-security-token"])
	auth, err := sigv.VerifyPost(fields, kr.lookup)
	if err := kr.failure(err); err != nil {
		return postError(err)
	}
	r.who = kr.who
	if r.who == nil {
		r.who = &identity{kind: identAnonymous}
	}

	key := fields["key"]
	if key == "" {
		return postError(&sigv.MissingFieldError{Field: "key"})
	}
	key = strings.ReplaceAll(key, "${filename}", file.FileName())
	fields["key"] = key
	if err := postError(auth.Policy.Check(r.bucket, fields, s.cfg.Now())); err != nil {
		return err
	}
	r.key = key
	if err := checkKey(key); err != nil {
		return err
	}
	r.postACL = fields["acl"]
	if err := s.check(r, actPutObject, r.bucket, key, ""); err != nil {
		return err
	}
	if fields["x-amz-server-side-encryption"] != "" || fields["x-amz-server-side-encryption-customer-algorithm"] != "" {
		return apiError(codeNotImplemented, "Server-side encryption is not implemented.")
	}
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	opts, err := postOptions(fields)
	if err != nil {
		return err
	}
	opts.Versioning = b.Versioning

	ticket, err := s.admit(r, b, -1)
	if err != nil {
		return err
	}
	defer ticket.Cancel()
	upload := ticket.Reader(&postFile{r: file, policy: auth.Policy, max: s.cfg.MaxObjectSize})
	info, err := s.deps.Objects.PutObject(r.ctx, r.bucket, key, upload, -1, opts)
	if err != nil {
		return withAlg(err, opts.ChecksumAlgorithm)
	}
	written(ticket, info.Size, info.Freed)
	setVersionHeader(r, b, info.VersionID)
	setChecksumHeaders(&r.fctx.Response.Header, info.Checksum)
	return s.postSuccess(r, fields, key, info)
}
