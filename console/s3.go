package console

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/strata-io/strata/adminapi"
)

// s3Client makes S3 requests as one identity: signed with SigV4 by the
// SDK's signer (as adminapi.Client signs admin calls) and sent to the
// node's own S3 endpoint, so that S3 authenticates and authorizes every
// console action exactly as it would the same request from any client.
type s3Client struct {
	endpoint string // scheme://host:port, no trailing slash
	region   string
	creds    aws.Credentials
	http     *http.Client
	now      func() time.Time
}

// Error is an S3 or admin API error answer, shown to the user with its
// code, message and request id.
type Error struct {
	Status    int
	Code      string
	Message   string
	RequestID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// apiError turns err into an *Error: S3 and admin API errors keep their
// code; anything else (the node's own endpoint unreachable, a context
// ended) is a 502 with its text.
func apiError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		return &Error{Status: ae.Status, Code: ae.Code, Message: ae.Message}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusGatewayTimeout, Code: "Timeout", Message: "The request took too long: " + err.Error()}
	}
	return &Error{Status: http.StatusBadGateway, Code: "ConsoleError", Message: err.Error()}
}

// isCode reports whether err is an S3 or admin API error with code.
func isCode(err error, code string) bool {
	return err != nil && apiError(err).Code == code
}

// s3Escape percent-encodes a bucket or key for the request path: every
// byte but the unreserved characters, and '/' unless escSlash. The path
// sent is then the canonical path SigV4 signs.
func s3Escape(s string, escSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !escSlash {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// encodeQuery writes q sorted, encoded as SigV4 canonicalises it (%20 for
// a space), so that the query sent is the query signed.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			if v == "" && emptyParam[k] {
				parts = append(parts, s3Escape(k, true))
				continue
			}
			parts = append(parts, s3Escape(k, true)+"="+s3Escape(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// emptyParam are the subresources sent without '=' (?versioning).
var emptyParam = map[string]bool{
	"versioning": true, "policy": true, "cors": true, "lifecycle": true, "tagging": true,
	"uploads": true, "versions": true, "attributes": true,
}

// s3Request is one S3 call.
type s3Request struct {
	method string
	bucket string
	key    string
	query  url.Values
	header http.Header
	body   io.Reader
	size   int64 // -1: unknown; bodies are sent UNSIGNED-PAYLOAD unless small
}

// do sends req and returns the response of a 2xx answer (the caller closes
// its body); any other answer is returned as *Error.
func (c *s3Client) do(ctx context.Context, req s3Request) (*http.Response, error) {
	path := "/"
	if req.bucket != "" {
		path += s3Escape(req.bucket, true)
		if req.key != "" {
			path += "/" + s3Escape(req.key, false)
		}
	}
	u, err := url.Parse(c.endpoint)
	if err != nil {
		return nil, err
	}
	u.RawPath = path
	u.Path, _ = url.PathUnescape(path)
	u.RawQuery = encodeQuery(req.query)
	body := req.body
	payload := "UNSIGNED-PAYLOAD"
	var small []byte
	switch b := body.(type) {
	case nil:
		small, req.size = nil, 0
	case *bytes.Reader:
		small = make([]byte, b.Len())
		_, _ = b.Read(small)
		req.size = int64(len(small))
	}
	if small != nil || body == nil {
		sum := sha256.Sum256(small)
		payload = hex.EncodeToString(sum[:])
		body = bytes.NewReader(small)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	hreq.ContentLength = req.size
	if req.size == 0 {
		hreq.Body = http.NoBody
	}
	for k, vs := range req.header {
		hreq.Header[k] = vs
	}
	hreq.Header.Set("x-amz-content-sha256", payload)
	hreq.Header.Set("User-Agent", "strata-console")
	noEscape := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }
	if err := v4.NewSigner().SignHTTP(ctx, c.creds, hreq, payload, "s3", c.region, c.now(), noEscape); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readS3Error(resp)
}

// readS3Error decodes an S3 error answer; a body-less one (HEAD) gets a
// code from its status, as the SDKs do.
func readS3Error(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("x-amz-request-id")}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var x struct {
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
		RequestID string `xml:"RequestId"`
	}
	if xml.Unmarshal(b, &x) == nil && x.Code != "" {
		e.Code, e.Message = x.Code, x.Message
		if x.RequestID != "" {
			e.RequestID = x.RequestID
		}
		return e
	}
	switch resp.StatusCode {
	case http.StatusForbidden:
		e.Code, e.Message = "AccessDenied", "Access Denied."
	case http.StatusNotFound:
		e.Code, e.Message = "NotFound", "No such object, version or bucket."
	case http.StatusPreconditionFailed:
		e.Code, e.Message = "PreconditionFailed", "At least one of the preconditions you specified did not hold."
	default:
		e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(b))
	}
	return e
}

// call runs req and decodes an XML answer into out (may be nil).
func (c *s3Client) call(ctx context.Context, req s3Request, out any) (http.Header, error) {
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return resp.Header, nil
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		return nil, fmt.Errorf("console: unreadable answer to %s: %w", req.method, err)
	}
	return resp.Header, nil
}

// bucketEntry is one bucket of ListBuckets.
type bucketEntry struct {
	Name    string    `xml:"Name"`
	Created time.Time `xml:"CreationDate"`
}

func (c *s3Client) listBuckets(ctx context.Context) ([]bucketEntry, error) {
	var all []bucketEntry
	q := url.Values{"max-buckets": {"1000"}}
	for {
		var page struct {
			Buckets           []bucketEntry `xml:"Buckets>Bucket"`
			ContinuationToken string        `xml:"ContinuationToken"`
		}
		if _, err := c.call(ctx, s3Request{method: http.MethodGet, query: q}, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Buckets...)
		if page.ContinuationToken == "" || len(all) >= 100000 {
			return all, nil
		}
		q.Set("continuation-token", page.ContinuationToken)
	}
}

// objectEntry is one object of a listing.
type objectEntry struct {
	Key          string    `xml:"Key"`
	Size         int64     `xml:"Size"`
	ETag         string    `xml:"ETag"`
	LastModified time.Time `xml:"LastModified"`
}

// listing is one page of ListObjectsV2 with the delimiter '/'.
type listing struct {
	Prefixes  []string
	Objects   []objectEntry
	NextToken string
}

func (c *s3Client) listObjects(ctx context.Context, bucket, prefix, token string, max int) (listing, error) {
	q := url.Values{"list-type": {"2"}, "delimiter": {"/"}, "max-keys": {strconv.Itoa(max)}, "encoding-type": {"url"}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if token != "" {
		q.Set("continuation-token", token)
	}
	var out struct {
		Contents       []objectEntry `xml:"Contents"`
		CommonPrefixes []struct {
			Prefix string `xml:"Prefix"`
		} `xml:"CommonPrefixes"`
		IsTruncated           bool   `xml:"IsTruncated"`
		NextContinuationToken string `xml:"NextContinuationToken"`
	}
	if _, err := c.call(ctx, s3Request{method: http.MethodGet, bucket: bucket, query: q}, &out); err != nil {
		return listing{}, err
	}
	var l listing
	for _, p := range out.CommonPrefixes {
		l.Prefixes = append(l.Prefixes, urlDecode(p.Prefix))
	}
	for _, o := range out.Contents {
		o.Key = urlDecode(o.Key)
		o.ETag = strings.Trim(o.ETag, `"`)
		l.Objects = append(l.Objects, o)
	}
	if out.IsTruncated {
		l.NextToken = out.NextContinuationToken
	}
	return l, nil
}

// urlDecode decodes a key of a listing asked with encoding-type=url.
func urlDecode(s string) string {
	if v, err := url.QueryUnescape(s); err == nil {
		return v
	}
	return s
}

// versionEntry is one version or delete marker of a key.
type versionEntry struct {
	VersionID    string
	IsLatest     bool
	DeleteMarker bool
	Size         int64
	ETag         string
	LastModified time.Time
}

// listKeyVersions lists the versions of key (newest first), at most max.
func (c *s3Client) listKeyVersions(ctx context.Context, bucket, key string, max int) ([]versionEntry, bool, error) {
	q := url.Values{"versions": {""}, "prefix": {key}, "max-keys": {strconv.Itoa(max)}, "encoding-type": {"url"}}
	type ver struct {
		XMLName      xml.Name
		Key          string    `xml:"Key"`
		VersionID    string    `xml:"VersionId"`
		IsLatest     bool      `xml:"IsLatest"`
		Size         int64     `xml:"Size"`
		ETag         string    `xml:"ETag"`
		LastModified time.Time `xml:"LastModified"`
	}
	var out struct {
		Entries     []ver `xml:",any"`
		IsTruncated bool  `xml:"IsTruncated"`
	}
	if _, err := c.call(ctx, s3Request{method: http.MethodGet, bucket: bucket, query: q}, &out); err != nil {
		return nil, false, err
	}
	var vs []versionEntry
	for _, v := range out.Entries {
		if (v.XMLName.Local != "Version" && v.XMLName.Local != "DeleteMarker") || urlDecode(v.Key) != key {
			continue
		}
		vs = append(vs, versionEntry{VersionID: v.VersionID, IsLatest: v.IsLatest, DeleteMarker: v.XMLName.Local == "DeleteMarker",
			Size: v.Size, ETag: strings.Trim(v.ETag, `"`), LastModified: v.LastModified})
	}
	return vs, out.IsTruncated, nil
}

func versionQuery(versionID string) url.Values {
	q := url.Values{}
	if versionID != "" {
		q.Set("versionId", versionID)
	}
	return q
}

// headObject returns the headers of HeadObject, stored checksums included.
func (c *s3Client) headObject(ctx context.Context, bucket, key, versionID string) (http.Header, error) {
	h := http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}
	return c.call(ctx, s3Request{method: http.MethodHead, bucket: bucket, key: key, query: versionQuery(versionID), header: h}, nil)
}

// getObject opens an object for reading; the caller closes the body.
func (c *s3Client) getObject(ctx context.Context, bucket, key, versionID string) (*http.Response, error) {
	return c.do(ctx, s3Request{method: http.MethodGet, bucket: bucket, key: key, query: versionQuery(versionID)})
}

// putObject stores size bytes of body (streamed) as bucket/key.
func (c *s3Client) putObject(ctx context.Context, bucket, key string, body io.Reader, size int64, contentType string) (string, error) {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	hdr, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, key: key, body: body, size: size, header: h}, nil)
	if err != nil {
		return "", err
	}
	return strings.Trim(hdr.Get("ETag"), `"`), nil
}

// deleteObject deletes key, or one version of it.
func (c *s3Client) deleteObject(ctx context.Context, bucket, key, versionID string) error {
	_, err := c.call(ctx, s3Request{method: http.MethodDelete, bucket: bucket, key: key, query: versionQuery(versionID)}, nil)
	return err
}

// copyVersion makes versionID of key its current version again (a copy
// onto itself, as the S3 console restores a version).
func (c *s3Client) copyVersion(ctx context.Context, bucket, key, versionID string) error {
	src := "/" + s3Escape(bucket, true) + "/" + s3Escape(key, false) + "?versionId=" + url.QueryEscape(versionID)
	h := http.Header{"X-Amz-Copy-Source": {src}, "X-Amz-Metadata-Directive": {"COPY"}}
	var out struct {
		ETag string `xml:"ETag"`
	}
	_, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, key: key, header: h}, &out)
	return err
}

// canWrite probes whether the identity may put objects under prefix
// without writing anything: a conditional PutObject of an empty body that
// no object can match. S3 authorizes it like any upload, then refuses the
// condition (NoSuchKey, or PreconditionFailed when the key exists).
func (c *s3Client) canWrite(ctx context.Context, bucket, prefix string) (bool, error) {
	h := http.Header{"If-Match": {`"00000000000000000000000000000000"`}}
	_, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, key: prefix + ".strata-console-write-probe", header: h, body: bytes.NewReader(nil)}, nil)
	switch {
	case err == nil:
		// Cannot happen (no object has that ETag); allowed all the same.
		return true, nil
	case isCode(err, "NoSuchKey"), isCode(err, "PreconditionFailed"):
		return true, nil
	case isCode(err, "AccessDenied"):
		return false, err
	}
	return false, err
}

// createUpload starts a multipart upload.
func (c *s3Client) createUpload(ctx context.Context, bucket, key, contentType string) (string, error) {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	var out struct {
		UploadID string `xml:"UploadId"`
	}
	if _, err := c.call(ctx, s3Request{method: http.MethodPost, bucket: bucket, key: key, query: url.Values{"uploads": {""}}, header: h}, &out); err != nil {
		return "", err
	}
	return out.UploadID, nil
}

// uploadPart streams size bytes of body as part number n.
func (c *s3Client) uploadPart(ctx context.Context, bucket, key, uploadID string, n int, body io.Reader, size int64) (string, error) {
	q := url.Values{"uploadId": {uploadID}, "partNumber": {strconv.Itoa(n)}}
	hdr, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, key: key, query: q, body: body, size: size}, nil)
	if err != nil {
		return "", err
	}
	return strings.Trim(hdr.Get("ETag"), `"`), nil
}

// completedPart is one part of CompleteMultipartUpload.
type completedPart struct {
	PartNumber int    `xml:"PartNumber" json:"partNumber"`
	ETag       string `xml:"ETag" json:"etag"`
}

func (c *s3Client) completeUpload(ctx context.Context, bucket, key, uploadID string, parts []completedPart) (string, error) {
	doc := struct {
		XMLName xml.Name        `xml:"CompleteMultipartUpload"`
		Parts   []completedPart `xml:"Part"`
	}{Parts: parts}
	for i := range doc.Parts {
		doc.Parts[i].ETag = `"` + strings.Trim(doc.Parts[i].ETag, `"`) + `"`
	}
	body, err := xml.Marshal(doc)
	if err != nil {
		return "", err
	}
	var out struct {
		ETag string `xml:"ETag"`
	}
	if _, err := c.call(ctx, s3Request{method: http.MethodPost, bucket: bucket, key: key, query: url.Values{"uploadId": {uploadID}}, body: bytes.NewReader(body)}, &out); err != nil {
		return "", err
	}
	return strings.Trim(out.ETag, `"`), nil
}

func (c *s3Client) abortUpload(ctx context.Context, bucket, key, uploadID string) error {
	_, err := c.call(ctx, s3Request{method: http.MethodDelete, bucket: bucket, key: key, query: url.Values{"uploadId": {uploadID}}}, nil)
	return err
}

// tag is one object tag.
type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func (c *s3Client) getTags(ctx context.Context, bucket, key, versionID string) ([]tag, error) {
	q := versionQuery(versionID)
	q.Set("tagging", "")
	var out struct {
		Tags []tag `xml:"TagSet>Tag"`
	}
	_, err := c.call(ctx, s3Request{method: http.MethodGet, bucket: bucket, key: key, query: q}, &out)
	return out.Tags, err
}

func (c *s3Client) putTags(ctx context.Context, bucket, key, versionID string, tags []tag) error {
	q := versionQuery(versionID)
	q.Set("tagging", "")
	doc := struct {
		XMLName xml.Name `xml:"Tagging"`
		Tags    []tag    `xml:"TagSet>Tag"`
	}{Tags: tags}
	body, err := xml.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, key: key, query: q, body: bytes.NewReader(body), header: md5Header(body)}, nil)
	return err
}

func (c *s3Client) createBucket(ctx context.Context, bucket string) error {
	_, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket}, nil)
	return err
}

func (c *s3Client) deleteBucket(ctx context.Context, bucket string) error {
	_, err := c.call(ctx, s3Request{method: http.MethodDelete, bucket: bucket}, nil)
	return err
}

// versioning returns the bucket's versioning status: Enabled, Suspended
// or "" (never enabled).
func (c *s3Client) versioning(ctx context.Context, bucket string) (string, error) {
	var out struct {
		Status string `xml:"Status"`
	}
	_, err := c.call(ctx, s3Request{method: http.MethodGet, bucket: bucket, query: url.Values{"versioning": {""}}}, &out)
	return out.Status, err
}

func (c *s3Client) setVersioning(ctx context.Context, bucket, status string) error {
	body := []byte(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>` + status + `</Status></VersioningConfiguration>`)
	_, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, query: url.Values{"versioning": {""}}, body: bytes.NewReader(body)}, nil)
	return err
}

// subresources of a bucket the console edits as documents: the error code
// S3 answers when there is none.
var bucketDocs = map[string]string{
	"policy":    "NoSuchBucketPolicy",
	"cors":      "NoSuchCORSConfiguration",
	"lifecycle": "NoSuchLifecycleConfiguration",
}

// getBucketDoc returns the bucket's policy (JSON), CORS or lifecycle
// configuration (XML) as S3 stores it; "" when it has none.
func (c *s3Client) getBucketDoc(ctx context.Context, bucket, sub string) (string, error) {
	resp, err := c.do(ctx, s3Request{method: http.MethodGet, bucket: bucket, query: url.Values{sub: {""}}})
	if isCode(err, bucketDocs[sub]) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b), err
}

// putBucketDoc stores a policy, CORS or lifecycle document as written.
func (c *s3Client) putBucketDoc(ctx context.Context, bucket, sub, doc string) error {
	body := []byte(doc)
	h := md5Header(body)
	if sub == "policy" {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/xml")
	}
	_, err := c.call(ctx, s3Request{method: http.MethodPut, bucket: bucket, query: url.Values{sub: {""}}, body: bytes.NewReader(body), header: h}, nil)
	return err
}

func (c *s3Client) deleteBucketDoc(ctx context.Context, bucket, sub string) error {
	_, err := c.call(ctx, s3Request{method: http.MethodDelete, bucket: bucket, query: url.Values{sub: {""}}}, nil)
	return err
}

// md5Header is the Content-MD5 that S3 requires on configuration bodies.
func md5Header(body []byte) http.Header {
	sum := md5.Sum(body)
	return http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(sum[:])}}
}
