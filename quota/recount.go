package quota

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// listPage is the page size of a recount's listings.
const listPage = 1000

// recountLoop recounts, every tick, the buckets this node is responsible
// for whose last recount is older than RecountInterval, oldest first.
func (a *Accountant) recountLoop(ctx context.Context) {
	tick := min(max(a.cfg.RecountInterval/4, time.Second), time.Minute)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, name := range a.dueBuckets() {
			if ctx.Err() != nil {
				return
			}
			if err := a.Recount(ctx, name); err != nil && ctx.Err() == nil {
				a.log.Warn("usage recount failed", "bucket", name, "err", err)
			}
		}
	}
}

// dueBuckets returns the buckets this node recounts whose last recount
// (begun or ended; their creation when never) is RecountInterval old,
// oldest first.
func (a *Accountant) dueBuckets() []string {
	now := a.cfg.Now().UnixNano()
	type due struct {
		name string
		last int64
	}
	var out []due
	a.ctl.View(func(st *meta.State) {
		var nodes []string
		for _, n := range st.Nodes {
			if n.State != meta.StateOut && (a.cfg.Alive == nil || n.ID == a.cfg.NodeID || a.cfg.Alive(n.ID)) {
				nodes = append(nodes, n.ID)
			}
		}
		for _, b := range st.Buckets {
			last := max(b.Usage.Recounted, b.Usage.RecountBegun, b.Created)
			if now-last >= int64(a.cfg.RecountInterval) && Recounter(b.Name, nodes) == a.cfg.NodeID {
				out = append(out, due{b.Name, last})
			}
		}
	})
	slices.SortFunc(out, func(x, y due) int { return cmp.Or(cmp.Compare(x.last, y.last), cmp.Compare(x.name, y.name)) })
	names := make([]string, len(out))
	for i, d := range out {
		names[i] = d.name
	}
	return names
}

// Recounter returns the node of nodes that recounts bucket: the highest
// rendezvous hash of bucket and node id ("" for no nodes). Every node
// computes the same answer from the same list.
func Recounter(bucket string, nodes []string) string {
	var best string
	var top uint64
	for _, id := range nodes {
		h := fnv.New64a()
		h.Write([]byte(bucket))
		h.Write([]byte{0})
		h.Write([]byte(id))
		if v := h.Sum64(); best == "" || v > top || v == top && id < best {
			best, top = id, v
		}
	}
	return best
}

// Recount recounts bucket now: BeginRecount, a paced listing of its
// versions and of the parts of its uploads in progress, EndRecount.
// Another recount begun meanwhile makes this one's end stale
// (meta.ErrStaleRecount, or a rejection the leader forwards); the usage
// is then that recount's.
func (a *Accountant) Recount(ctx context.Context, bucket string) error {
	if a.lister == nil {
		return errors.New("quota: no lister to recount with")
	}
	var (
		b     meta.Bucket
		found bool
	)
	a.ctl.View(func(st *meta.State) {
		if p := st.Buckets[bucket]; p != nil {
			b, found = *p, true
		}
	})
	if !found {
		return fmt.Errorf("quota: recount: %w: %s", meta.ErrNoSuchBucket, bucket)
	}
	epoch := b.Usage.Epoch + 1
	if err := a.ctl.Propose(ctx, meta.BeginRecount{Bucket: b.Name, Created: b.Created, Epoch: epoch, At: a.cfg.Now().UnixNano()}); err != nil {
		return fmt.Errorf("quota: begin recount of %s: %w", bucket, err)
	}
	start := time.Now()
	bytes, objects, err := a.measure(ctx, bucket)
	if err != nil {
		return fmt.Errorf("quota: recount of %s: %w", bucket, err)
	}
	if err := a.ctl.Propose(ctx, meta.EndRecount{Bucket: b.Name, Created: b.Created, Epoch: epoch, Bytes: bytes, Objects: objects, At: a.cfg.Now().UnixNano()}); err != nil {
		return fmt.Errorf("quota: end recount of %s: %w", bucket, err)
	}
	a.log.Debug("usage recounted", "bucket", bucket, "bytes", bytes, "objects", objects, "was_bytes", b.Usage.Bytes, "took", time.Since(start))
	return nil
}

// measure lists what bucket holds: the bytes and number of its versions
// that are not delete markers, plus the bytes of its uploads' parts.
func (a *Accountant) measure(ctx context.Context, bucket string) (bytes, objects int64, err error) {
	pace := a.pacer()
	vo := dataplane.ListVersionsOptions{Max: listPage}
	for {
		if err := pace(ctx); err != nil {
			return 0, 0, err
		}
		page, err := a.lister.ListObjectVersions(ctx, bucket, vo)
		if err != nil {
			return 0, 0, err
		}
		for _, v := range page.Versions {
			if !v.DeleteMarker {
				bytes += v.Size
				objects++
			}
		}
		if !page.Truncated {
			break
		}
		vo.KeyMarker, vo.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
	}
	uo := dataplane.ListUploadsOptions{Max: listPage}
	for {
		if err := pace(ctx); err != nil {
			return 0, 0, err
		}
		page, err := a.lister.ListMultipartUploads(ctx, bucket, uo)
		if err != nil {
			return 0, 0, err
		}
		for _, u := range page.Uploads {
			n, err := a.partBytes(ctx, bucket, u, pace)
			if errors.Is(err, dataplane.ErrNoSuchUpload) {
				continue // completed or aborted since: counted as that
			}
			if err != nil {
				return 0, 0, err
			}
			bytes += n
		}
		if !page.Truncated {
			break
		}
		uo.KeyMarker, uo.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
	return bytes, objects, nil
}

// partBytes sums the sizes of an upload's parts.
func (a *Accountant) partBytes(ctx context.Context, bucket string, u dataplane.UploadInfo, pace func(context.Context) error) (int64, error) {
	var n int64
	po := dataplane.ListPartsOptions{Max: listPage}
	for {
		page, err := a.lister.ListParts(ctx, bucket, u.Key, u.UploadID, po)
		if err != nil {
			return 0, err
		}
		for _, p := range page.Parts {
			n += p.Size
		}
		if !page.Truncated {
			return n, nil
		}
		po.Marker = page.NextMarker
		if err := pace(ctx); err != nil {
			return 0, err
		}
	}
}

// pacer returns a func that waits so that its calls come at most
// RecountPageRate per second.
func (a *Accountant) pacer() func(context.Context) error {
	gap := time.Duration(float64(time.Second) / a.cfg.RecountPageRate)
	var next time.Time
	return func(ctx context.Context) error {
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
		next = time.Now().Add(gap)
		return nil
	}
}
