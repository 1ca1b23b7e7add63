package s3api

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"strings"
	"sync"

	"github.com/strata-io/strata/dataplane"
)

const (
	// maxDeleteKeys is the most keys one DeleteObjects request names.
	maxDeleteKeys = 1000
	// maxDeleteBodySize bounds a DeleteObjects body: 1,000 keys of 1,024
	// bytes, escaped, with version ids.
	maxDeleteBodySize = 8 << 20
	// deleteWorkers is how many keys of one DeleteObjects are deleted at
	// once without the batch path (batchDeleter).
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

// batchDeleter is the data plane's batched DeleteObjects
// (dataplane.Store.DeleteObjects): each key deleted as DeleteObject would,
// in a few round trips to each node for the whole request instead of
// three fan-outs per key. Objects implementations without it get one
// DeleteObject per key, deleteWorkers at once.
type batchDeleter interface {
	DeleteObjects(ctx context.Context, bucket string, items []dataplane.DeleteItem) []dataplane.DeleteOutcome
}

// deleteObjects serves DeleteObjects (POST ?delete): each key deleted as
// DeleteObject would, the outcome of each reported in one DeleteResult
// (only the errors in Quiet mode). Keys are checked and authorized one by
// one, then the allowed ones deleted together.
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
	var (
		items []dataplane.DeleteItem
		at    []int // items[n] is req.Objects[at[n]]
	)
	for i, o := range req.Objects {
		key, versionID := *o.Key, ""
		if o.VersionID != nil {
			versionID = strings.TrimSpace(*o.VersionID)
		}
		if err := s.checkDelete(r, key, versionID, o.VersionID != nil); err != nil {
			results[i] = s.deleteFailed(r, key, versionID, err)
			continue
		}
		items = append(items, dataplane.DeleteItem{Key: key, Options: dataplane.DeleteOptions{VersionID: versionID, Versioning: b.Versioning}})
		at = append(at, i)
	}
	for n, out := range s.deleteItems(r, items) {
		it := items[n]
		if out.Err != nil && !errors.Is(out.Err, dataplane.ErrObjectNotFound) {
			results[at[n]] = s.deleteFailed(r, it.Key, it.Options.VersionID, out.Err)
			continue
		}
		s.recordUsage(b, -out.Result.Freed.Bytes, -out.Result.Freed.Versions)
		d := deletedEntry{Key: it.Key, VersionID: it.Options.VersionID}
		if out.Result.DeleteMarker {
			d.DeleteMarker = true
			d.DeleteMarkerVersionID = out.Result.VersionID
		}
		results[at[n]] = d
	}

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

// deleteItems deletes items through the batch path when the data plane has
// one, else one DeleteObject per key, deleteWorkers at once.
func (s *Server) deleteItems(r *request, items []dataplane.DeleteItem) []dataplane.DeleteOutcome {
	if len(items) == 0 {
		return nil
	}
	if bd, ok := s.deps.Objects.(batchDeleter); ok {
		return bd.DeleteObjects(r.ctx, r.bucket, items)
	}
	outs := make([]dataplane.DeleteOutcome, len(items))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(deleteWorkers, len(items)) {
		wg.Go(func() {
			for n := range jobs {
				outs[n].Result, outs[n].Err = s.deps.Objects.DeleteObject(r.ctx, r.bucket, items[n].Key, items[n].Options)
			}
		})
	}
	for n := range items {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	return outs
}

// checkDelete validates one key of a DeleteObjects request and authorizes
// it on its own, as AWS does: s3:DeleteObject (s3:DeleteObjectVersion for
// a version). hasVersion: the entry named a VersionId (maybe blank).
func (s *Server) checkDelete(r *request, key, versionID string, hasVersion bool) error {
	switch {
	case key == "":
		return apiError(codeInvalidArgument, "The key must not be empty.")
	case len(key) > maxKeyLength:
		return apiError(codeKeyTooLong)
	case hasVersion && !validVersionID(versionID):
		return apiError(codeInvalidArgument, "Invalid version id specified")
	}
	return s.check(r, action(opDeleteObject, versionID != ""), r.bucket, key, versionID)
}

// deleteFailed describes a key of a DeleteObjects request that was not
// deleted; an error that is not an S3 one is logged.
func (s *Server) deleteFailed(r *request, key, versionID string, err error) deleteError {
	e, known := classify(err, s.deps.Unavailable)
	if !known {
		s.log.Error("internal error", "request_id", r.id, "op", r.op.String(), "bucket", r.bucket, "key", key, "err", err)
	}
	return deleteError{Key: key, VersionID: versionID, Code: e.Code, Message: e.Message}
}
