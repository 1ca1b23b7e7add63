package s3api

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/quota"
)

// Quotas. Every write that adds data (PutObject, UploadPart, CopyObject,
// UploadPartCopy, POST uploads) is admitted by Deps.Quota before its body
// is read: refused with QuotaExceeded (403) when it would pass the
// bucket's or its owner's quota, else its bytes are reserved until it
// ends. A body of unknown length is counted while it streams and the
// write fails, nothing stored, once it would pass. What writes and
// deletes add and free (dataplane.Freed) is recorded for the cluster's
// usage. CompleteMultipartUpload is not admitted: its parts were counted
// as they were uploaded, so it only frees (the parts it leaves out, the
// null version it replaces).

// Quota is what s3api needs from the usage accountant (package quota);
// *quota.Accountant implements it.
type Quota interface {
	Admit(ctx context.Context, b meta.Bucket, size int64) (*quota.Ticket, error)
	Record(b meta.Bucket, bytes, objects int64)
	// Pending is what this node counted for b and has not yet seen
	// applied; never called inside Control.View.
	Pending(b meta.Bucket) (bytes, objects int64)
}

// usageOf is b's usage as this node knows it: the replicated usage and
// this node's changes not yet applied (what its quota checks use), so
// that the admin API shows a node's own writes at once. b is a copy made
// outside Control.View.
func (s *Server) usageOf(b meta.Bucket) (bytes, objects int64) {
	bytes, objects = b.Usage.Bytes, b.Usage.Objects
	if s.deps.Quota != nil {
		pb, po := s.deps.Quota.Pending(b)
		bytes, objects = bytes+pb, objects+po
	}
	return max(bytes, 0), max(objects, 0)
}

// admit admits a write of size bytes to b (-1: unknown length). The
// ticket is nil without an accountant; its methods accept that.
func (s *Server) admit(r *request, b meta.Bucket, size int64) (*quota.Ticket, error) {
	if s.deps.Quota == nil {
		return nil, nil
	}
	return s.deps.Quota.Admit(r.ctx, b, size)
}

// recordUsage records what a request that needed no admission changed
// (deletes, aborts, completions).
func (s *Server) recordUsage(b meta.Bucket, bytes, objects int64) {
	if s.deps.Quota != nil && (bytes != 0 || objects != 0) {
		s.deps.Quota.Record(b, bytes, objects)
	}
}

// written ends the ticket of a write that stored a new version (one
// object version more, less what it replaced).
func written(t *quota.Ticket, size int64, freed dataplane.Freed) {
	t.Done(size-freed.Bytes, 1-freed.Versions)
}

// maxRefusedDrain bounds what is read and dropped of a refused upload's
// body: a client still sending it then reads the QuotaExceeded answer
// instead of a reset connection. A longer rest is left to fasthttp, which
// closes the connection.
const maxRefusedDrain = 64 << 20

// drainRefused reads and drops what is left of r's body, up to
// maxRefusedDrain bytes, moving the read deadline as bytes arrive.
func (s *Server) drainRefused(r *request) {
	body := &clientBody{r: r.bodyStream(), remaining: -1, fctx: r.fctx, timeout: s.cfg.ReadTimeout}
	_, _ = io.CopyN(io.Discard, body, maxRefusedDrain)
}

// quotaMessage is the S3 error message of a refused write.
func quotaMessage(e *quota.ExceededError) string {
	if e.User {
		return fmt.Sprintf("User quota exceeded: the owner of bucket %s uses %d of its %d bytes; an upload of %d bytes does not fit.", e.Bucket, e.Used, e.Quota, e.Size)
	}
	return fmt.Sprintf("Bucket quota exceeded: bucket %s uses %d of its %d bytes; an upload of %d bytes does not fit.", e.Bucket, e.Used, e.Quota, e.Size)
}
