package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"sync"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

const (
	// maxDeleteKeys is the most keys one DeleteObjects request names.
	maxDeleteKeys = 1000
	// maxDeleteBodySize bounds a DeleteObjects body: 1,000 keys of 1,024
	// bytes, escaped, with version ids.
	maxDeleteBodySize = 8 << 20
	// deleteWorkers is how many keys of one DeleteObjects are deleted at
	// once.
	deleteWorkers = 8
)

// hasBodyChecksum reports whether the request carries an integrity check
// of its body: Content-MD5, an x-amz-checksum-* header, or a checksum
// trailer. sigv verifies the checksums, readSmallBody the MD5.
func hasBodyChecksum(r *request) bool {
	if r.header("content-md5") != "" || strings.Contains(strings.ToLower(r.header("x-amz-trailer")), checksumPrefix) {
		return true
	}
	for k := range r.fctx.Request.Header.All() {
		suffix, ok := strings.CutPrefix(strings.ToLower(string(k)), checksumPrefix)
		if ok && suffix != "type" && suffix != "mode" && suffix != "algorithm" {
			return true
		}
	}
	return false
}

// parseDelete parses a DeleteObjects body: 1 to 1,000 objects, each with a
// key.
func parseDelete(data []byte) (deleteRequest, error) {
	var d deleteRequest
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&d); err != nil {
		return d, apiError(codeMalformedXML)
	}
	if len(d.Objects) == 0 || len(d.Objects) > maxDeleteKeys {
		return d, apiError(codeMalformedXML)
	}
	for _, o := range d.Objects {
		if o.Key == nil {
			return d, apiError(codeMalformedXML)
		}
	}
	return d, nil
}

// deleteObjects serves DeleteObjects (POST ?delete): each key deleted as
// DeleteObject would, the outcome of each reported in one DeleteResult
// (only the errors in Quiet mode).
func (s *Server) deleteObjects(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	if !hasBodyChecksum(r) {
		return apiError(codeInvalidRequest, "Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
	}
	data, err := s.readSmallBody(r, maxDeleteBodySize, apiError(codeMalformedXML))
	if err != nil {
		return err
	}
	req, err := parseDelete(data)
	if err != nil {
		return err
	}
	results := make([]any, len(req.Objects)) // deletedEntry or deleteError
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(deleteWorkers, len(req.Objects)) {
		wg.Go(func() {
			for i := range jobs {
				results[i] = s.deleteOne(r, b, req.Objects[i])
			}
		})
	}
	for i := range req.Objects {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	res := deleteResult{Xmlns: s3Namespace}
	for _, v := range results {
		switch e := v.(type) {
		case deletedEntry:
			if !req.Quiet {
				res.Deleted = append(res.Deleted, e)
			}
		case deleteError:
			res.Errors = append(res.Errors, e)
		}
	}
	return s.writeXML(r, res)
}

// deleteOne deletes one key of a DeleteObjects request and describes the
// outcome.
func (s *Server) deleteOne(r *request, b meta.Bucket, o deleteObjectEntry) any {
	key := *o.Key
	versionID := ""
	if o.VersionID != nil {
		versionID = strings.TrimSpace(*o.VersionID)
	}
	fail := func(err error) deleteError {
		e, known := classify(err, s.deps.Unavailable)
		if !known {
			s.log.Error("internal error", "request_id", r.id, "op", r.op.String(), "bucket", r.bucket, "key", key, "err", err)
		}
		return deleteError{Key: key, VersionID: versionID, Code: e.Code, Message: e.Message}
	}
	switch {
	case key == "":
		return fail(apiError(codeInvalidArgument, "The key must not be empty."))
	case len(key) > maxKeyLength:
		return fail(apiError(codeKeyTooLong))
	case o.VersionID != nil && !validVersionID(versionID):
		return fail(apiError(codeInvalidArgument, "Invalid version id specified"))
	}
	// Each key is authorized on its own, as AWS does: s3:DeleteObject
	// (s3:DeleteObjectVersion for a version).
	if err := s.check(r, action(opDeleteObject, versionID != ""), r.bucket, key, versionID); err != nil {
		return fail(err)
	}
	res, err := s.deps.Objects.DeleteObject(r.ctx, r.bucket, key, dataplane.DeleteOptions{VersionID: versionID, Versioning: b.Versioning})
	if err != nil && !errors.Is(err, dataplane.ErrObjectNotFound) {
		return fail(err)
	}
	s.recordUsage(b, -res.Freed.Bytes, -res.Freed.Versions)
	d := deletedEntry{Key: key, VersionID: versionID}
	if res.DeleteMarker {
		d.DeleteMarker = true
		d.DeleteMarkerVersionID = res.VersionID
	}
	return d
}
