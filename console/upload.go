package console

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Uploads from the browser: the page's script cuts the file into parts of
// Config.PartSize and sends each as one request to the console, which
// streams it to S3 with the session's keys (PutObject for a file of one
// part, else UploadPart of a multipart upload it created), so that a node
// holds no more than a copy buffer of any upload. The script shows the
// progress and, on any failure, the S3 error; it aborts a multipart upload
// that failed.

// maxParts is S3's limit of parts per upload.
const maxParts = 10000

// uploadStartRequest is the body of POST api/upload/start.
type uploadStartRequest struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
}

// uploadPlan answers api/upload/start: one PutObject ("single"), or a
// multipart upload in parts of PartSize.
type uploadPlan struct {
	Mode     string `json:"mode"` // single or multipart
	UploadID string `json:"uploadId,omitempty"`
	PartSize int64  `json:"partSize"`
}

// readJSON decodes a small JSON body of a script call.
func readJSON(q *request, v any) bool {
	err := json.NewDecoder(io.LimitReader(q.r.Body, 1<<20)).Decode(v)
	if err != nil {
		writeJSONError(q.w, &Error{Status: 400, Code: "MalformedRequest", Message: "The console could not read this request: " + err.Error()})
		return false
	}
	return true
}

// partSize returns the part size for a file of size bytes: the configured
// one, raised (in MiB steps) when the file needs more than 10,000 parts.
func (c *Console) partSize(size int64) int64 {
	p := c.cfg.PartSize
	if size > p*maxParts {
		p = (size/maxParts + 1<<20) &^ (1<<20 - 1)
	}
	return p
}

// contentType keeps a browser's idea of a file's type when it is a media
// type; anything else becomes S3's default.
func contentType(s string) string {
	if _, _, err := mime.ParseMediaType(s); err != nil {
		return ""
	}
	return s
}

func (c *Console) uploadStart(q *request) {
	var req uploadStartRequest
	if !readJSON(q, &req) {
		return
	}
	if req.Bucket == "" || req.Key == "" || req.Size < 0 {
		writeJSONError(q.w, &Error{Status: 400, Code: "InvalidRequest", Message: "An upload needs a bucket, a key and a size."})
		return
	}
	ps := c.partSize(req.Size)
	if req.Size <= ps {
		writeJSON(q.w, http.StatusOK, uploadPlan{Mode: "single", PartSize: ps})
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	id, err := q.s3.createUpload(ctx, req.Bucket, req.Key, contentType(req.ContentType))
	if err != nil {
		writeJSONError(q.w, apiError(err))
		return
	}
	c.log.Info("upload started", "access_key", q.sess.accessKey, "bucket", req.Bucket, "key", req.Key, "size", req.Size, "parts", (req.Size+ps-1)/ps)
	writeJSON(q.w, http.StatusOK, uploadPlan{Mode: "multipart", UploadID: id, PartSize: ps})
}

// bodyLength returns the declared length of a part or object sent by the
// page; S3 needs it up front (UploadPart refuses a body of unknown length).
func bodyLength(q *request) (int64, bool) {
	if q.r.ContentLength < 0 {
		writeJSONError(q.w, &Error{Status: http.StatusLengthRequired, Code: "MissingContentLength", Message: "Send the part with a Content-Length."})
		return 0, false
	}
	return q.r.ContentLength, true
}

// uploadObject streams a one-part file to PutObject.
func (c *Console) uploadObject(q *request) {
	qs := q.r.URL.Query()
	size, ok := bodyLength(q)
	if !ok {
		return
	}
	etag, err := q.s3.putObject(q.r.Context(), qs.Get("bucket"), qs.Get("key"), q.r.Body, size, contentType(qs.Get("type")))
	if err != nil {
		writeJSONError(q.w, apiError(err))
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]string{"etag": etag})
}

// uploadPart streams one part to UploadPart.
func (c *Console) uploadPart(q *request) {
	qs := q.r.URL.Query()
	n, err := strconv.Atoi(qs.Get("partNumber"))
	if err != nil || n < 1 || n > maxParts {
		writeJSONError(q.w, &Error{Status: 400, Code: "InvalidArgument", Message: "partNumber must be 1..10000."})
		return
	}
	size, ok := bodyLength(q)
	if !ok {
		return
	}
	etag, err := q.s3.uploadPart(q.r.Context(), qs.Get("bucket"), qs.Get("key"), qs.Get("uploadId"), n, q.r.Body, size)
	if err != nil {
		writeJSONError(q.w, apiError(err))
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]string{"etag": etag})
}

// uploadCompleteRequest is the body of POST api/upload/complete.
type uploadCompleteRequest struct {
	Bucket   string          `json:"bucket"`
	Key      string          `json:"key"`
	UploadID string          `json:"uploadId"`
	Parts    []completedPart `json:"parts"`
}

func (c *Console) uploadComplete(q *request) {
	var req uploadCompleteRequest
	if !readJSON(q, &req) {
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	etag, err := q.s3.completeUpload(ctx, req.Bucket, req.Key, req.UploadID, req.Parts)
	if err != nil {
		writeJSONError(q.w, apiError(err))
		return
	}
	c.log.Info("upload completed", "access_key", q.sess.accessKey, "bucket", req.Bucket, "key", req.Key, "parts", len(req.Parts))
	writeJSON(q.w, http.StatusOK, map[string]string{"etag": etag})
}

func (c *Console) uploadAbort(q *request) {
	var req uploadCompleteRequest
	if !readJSON(q, &req) {
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	if err := q.s3.abortUpload(ctx, req.Bucket, req.Key, req.UploadID); err != nil {
		writeJSONError(q.w, apiError(err))
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]string{})
}

// download streams an object (or one version) to the browser as an
// attachment: never rendered in the console's origin.
func (c *Console) download(q *request) {
	qs := q.r.URL.Query()
	bucket, key := qs.Get("bucket"), qs.Get("key")
	resp, err := q.s3.getObject(q.r.Context(), bucket, key, qs.Get("versionId"))
	if err != nil {
		c.errorPage(q, err)
		return
	}
	defer resp.Body.Close()
	h := q.w.Header()
	name := key[strings.LastIndexByte(key, '/')+1:]
	if name == "" {
		name = "download"
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if cl := resp.Header.Get("Content-Length"); cl != "" {
		h.Set("Content-Length", cl)
	}
	if et := resp.Header.Get("ETag"); et != "" {
		h.Set("ETag", et)
	}
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method == http.MethodHead {
		return
	}
	if f, ok := q.w.(http.Flusher); ok {
		f.Flush()
	}
	if n, err := io.Copy(q.w, resp.Body); err != nil {
		c.log.Warn("download cut short", "access_key", q.sess.accessKey, "bucket", bucket, "key", key, "sent", n, "err", err)
	}
}
