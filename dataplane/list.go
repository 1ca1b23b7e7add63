package dataplane

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/strata-io/strata/dataplane/drive"
)

// listVersion is one version of a key and the number of drives whose
// listing showed its record.
type listVersion struct {
	FI    drive.FileInfo `json:"fi"`
	Count int            `json:"count"`
}

// listItem is one name of a merged listing: a common prefix, or a key with
// every version seen for it.
type listItem struct {
	Name     string        `json:"name"`
	Prefix   bool          `json:"prefix,omitempty"`
	Versions []listVersion `json:"versions,omitempty"` // resolution order: newest first
}

// listPage is a sorted page of items from one source (a drive, a node, the
// whole cluster).
//
// When More is set the source has items after Last, and the page is complete
// only for names <= Last: an item with a greater name may be missing records
// the source did not return yet.
type listPage struct {
	Items  []listItem `json:"items"`
	More   bool       `json:"more,omitempty"`
	Last   string     `json:"last,omitempty"`
	Drives []string   `json:"drives,omitempty"` // node pages: the drives that answered
}

// drivePage converts one drive's List result.
func drivePage(entries []drive.ListEntry, more bool) listPage {
	p := listPage{Items: make([]listItem, len(entries))}
	for i, e := range entries {
		if e.Prefix {
			p.Items[i] = listItem{Name: e.Name, Prefix: true}
			continue
		}
		fi := e.Info
		fi.Inline = nil
		p.Items[i] = listItem{Name: e.Name, Versions: []listVersion{{FI: fi, Count: 1}}}
	}
	// A source that claims more but returned nothing cannot bound anything;
	// treating it as complete is the only way to make progress.
	if more && len(entries) > 0 {
		p.More = true
		p.Last = entries[len(entries)-1].Name
	}
	return p
}

// mergePages merges sorted pages into one, at both levels (a node merging
// its drives, the coordinator merging nodes): items sorted by name, common
// prefixes deduplicated, a key's versions grouped by VersionID with their
// counts summed. Only items after `after` are kept, and, when some page has
// More, only items up to the smallest Last of those pages (the rest is not
// complete yet). limit > 0 cuts the result to limit items.
func mergePages(pages []listPage, after string, limit int) listPage {
	var out listPage
	bounded := false
	for _, p := range pages {
		if p.More && (!bounded || p.Last < out.Last) {
			bounded = true
			out.Last = p.Last
		}
	}
	out.More = bounded
	var all []listItem
	for _, p := range pages {
		for _, it := range p.Items {
			if it.Name <= after || (bounded && it.Name > out.Last) {
				continue
			}
			all = append(all, it)
		}
	}
	slices.SortStableFunc(all, func(a, b listItem) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		switch {
		case a.Prefix == b.Prefix:
			return 0
		case a.Prefix:
			return 1
		default:
			return -1
		}
	})
	for _, it := range all {
		if n := len(out.Items); n > 0 && out.Items[n-1].Name == it.Name && out.Items[n-1].Prefix == it.Prefix {
			last := &out.Items[n-1]
			last.Versions = mergeVersions(last.Versions, it.Versions)
			continue
		}
		it.Versions = mergeVersions(nil, it.Versions)
		out.Items = append(out.Items, it)
	}
	if limit > 0 && len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.More = true
		out.Last = out.Items[limit-1].Name
	}
	return out
}

// mergeVersions adds the versions of add into dst (summing counts of the
// same VersionID) and keeps dst newest first. dst is owned by the caller.
func mergeVersions(dst, add []listVersion) []listVersion {
	if len(add) == 0 {
		return dst
	}
	merged := false
outer:
	for _, v := range add {
		for i := range dst {
			if dst[i].FI.VersionID == v.FI.VersionID {
				dst[i].Count += v.Count
				continue outer
			}
		}
		dst = append(dst, v)
		merged = true
	}
	if merged && len(dst) > 1 {
		slices.SortFunc(dst, func(a, b listVersion) int {
			if c := cmp.Compare(b.FI.ModTime, a.FI.ModTime); c != 0 {
				return c
			}
			return cmp.Compare(b.FI.VersionID, a.FI.VersionID)
		})
	}
	return dst
}

// resolveItem decides whether a key is listed and with which version: newest
// first, a tombstone hides it, the first data version on >= K drives (or on
// fewer, when the extra drives of its PG that did not answer could hold the
// rest) is the one listed.
func resolveItem(it listItem, extra int) (drive.FileInfo, bool) {
	for _, v := range it.Versions {
		if v.FI.Deleted {
			return drive.FileInfo{}, false
		}
		if v.FI.K > 0 && v.Count+extra >= v.FI.K {
			return v.FI, true
		}
	}
	return drive.FileInfo{}, false
}

// clampLimit bounds a page size asked of a node.
func clampLimit(l int) int {
	switch {
	case l <= 0:
		return 1000
	case l > 10000:
		return 10000
	}
	return l
}

// listLocal is the node-level listing: every local drive lists the page and
// the drives' sorted pages are merged. Drives that fail are left out of
// Drives, so the coordinator knows their records are missing.
func (s *Store) listLocal(ctx context.Context, bucket, prefix, delimiter, after string, limit int) listPage {
	pages := make([]listPage, len(s.localIDs))
	ok := make([]bool, len(s.localIDs))
	var wg sync.WaitGroup
	for i, id := range s.localIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries, more, err := s.local[id].List(ctx, bucket, prefix, delimiter, after, limit)
			if err != nil && !errors.Is(err, drive.ErrNotFound) {
				s.log.Warn("list failed", "bucket", bucket, "drive", id, "err", err)
				return
			}
			pages[i] = drivePage(entries, more)
			ok[i] = true
		}()
	}
	wg.Wait()
	var answered []listPage
	var drives []string
	for i, id := range s.localIDs {
		if ok[i] {
			answered = append(answered, pages[i])
			drives = append(drives, id)
		}
	}
	page := mergePages(answered, after, limit)
	page.Drives = drives
	// Drives fold every key under a common prefix, tombstones included, so a
	// prefix whose keys were all deleted would stay listed. Keep a prefix
	// only if a local drive holds a live record under it (the coordinator
	// keeps it if any node does).
	kept := page.Items[:0]
	for _, it := range page.Items {
		if !it.Prefix || s.prefixLive(ctx, bucket, it.Name) {
			kept = append(kept, it)
		}
	}
	page.Items = kept
	return page
}

// prefixLive reports whether a local drive holds a record that is not a
// tombstone under prefix p. It scans past tombstones page by page and stops
// at the first live record; a drive that fails counts as live, so an error
// never hides a prefix.
func (s *Store) prefixLive(ctx context.Context, bucket, p string) bool {
	for _, id := range s.localIDs {
		after := ""
		for {
			entries, more, err := s.local[id].List(ctx, bucket, p, "", after, 64)
			if err != nil {
				return !errors.Is(err, drive.ErrNotFound)
			}
			for _, e := range entries {
				if !e.Prefix && !e.Info.Deleted {
					return true
				}
			}
			if !more || len(entries) == 0 {
				break
			}
			after = entries[len(entries)-1].Name
		}
	}
	return false
}

// maxListBody bounds a node's list reply (1000 records with metadata fit
// comfortably).
const maxListBody = 64 << 20

// listNode asks one node for its page.
func (s *Store) listNode(ctx context.Context, p peer, bucket, prefix, delimiter, after string, limit int) (listPage, error) {
	if p.self {
		return s.listLocal(ctx, bucket, prefix, delimiter, after, limit), nil
	}
	if s.tr == nil || p.addr == "" {
		return listPage{}, fmt.Errorf("%w: node %s has no address", errUnreachable, p.id)
	}
	req := wireReq{Bucket: bucket, Prefix: prefix, Delimiter: delimiter, After: after, Limit: limit}
	resp, err := callNode(ctx, s.tr, p.addr, methodListNode, req, nil)
	if err != nil {
		return listPage{}, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody))
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return listPage{}, fromRemote(err)
	}
	var page listPage
	if err := json.Unmarshal(body, &page); err != nil {
		return listPage{}, fmt.Errorf("dataplane: %s reply from %s: %w", methodListNode, p.id, err)
	}
	return page, nil
}

// ListObjects returns one page of bucket's current objects.
//
// Every node lists its local drives; the pages are merged and each key is
// resolved like a read (see resolveItem). Quorum rule: listing goes on with
// the nodes that answered as long as every PG keeps at least K of its drives
// among them — then every acknowledged version still shows at least one
// record, and a key is listed when its count plus its PG's silent drives
// reaches K. If some PG has fewer than K answering drives, it returns a
// *QuorumError: objects of that PG could be missing from the page.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	maxKeys := opts.Max
	if maxKeys <= 0 || maxKeys > 1000 {
		maxKeys = 1000
	}
	cv := s.viewCluster()
	if !cv.hasPlacement {
		return ListResult{}, ErrNoPlacement
	}
	var res ListResult
	after := opts.After
	count := 0
	for {
		// One more than needed per source: a source's first item may be
		// the common prefix equal to `after`, which is dropped.
		page, extra, err := s.listRound(ctx, cv, bucket, opts, after, maxKeys+1)
		if err != nil {
			return ListResult{}, err
		}
		for _, it := range page.Items {
			if it.Prefix {
				if count == maxKeys {
					res.Truncated = true
					return res, nil
				}
				res.Prefixes = append(res.Prefixes, it.Name)
			} else {
				x := 0
				if extra != nil {
					x = extra[PGOf(cv.clusterID, bucket, it.Name, cv.pgCount)]
				}
				fi, ok := resolveItem(it, x)
				if !ok {
					continue
				}
				if count == maxKeys {
					res.Truncated = true
					return res, nil
				}
				info := infoOf(fi)
				info.Bucket, info.Key = bucket, it.Name
				res.Objects = append(res.Objects, info)
			}
			count++
			res.Next = it.Name
		}
		if !page.More {
			res.Next = ""
			return res, nil
		}
		if count == maxKeys {
			res.Truncated = true // maybe nothing visible follows: the next page is then empty
			return res, nil
		}
		if page.Last <= after {
			return ListResult{}, fmt.Errorf("dataplane: listing of %s made no progress after %q", bucket, after)
		}
		after = page.Last
	}
}

// listRound asks every node for a page after `after` and merges them. extra
// is nil when every placed drive answered, else the number of silent drives
// per PG.
func (s *Store) listRound(ctx context.Context, cv clusterView, bucket string, opts ListOptions, after string, limit int) (listPage, []int, error) {
	lctx, cancel := s.metaCtx(ctx)
	defer cancel()
	pages := make([]listPage, len(cv.peers))
	errs := make([]error, len(cv.peers))
	var wg sync.WaitGroup
	for i, p := range cv.peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pages[i], errs[i] = s.listNode(lctx, p, bucket, opts.Prefix, opts.Delimiter, after, limit)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return listPage{}, nil, err
	}
	answered := map[string]bool{}
	var ok []listPage
	for i, p := range pages {
		if errs[i] != nil {
			s.log.Warn("node list failed", "bucket", bucket, "node", cv.peers[i].id, "err", errs[i])
			continue
		}
		ok = append(ok, p)
		for _, id := range p.Drives {
			answered[id] = true
		}
	}
	var extra []int
	for _, id := range cv.tc.placed {
		if !answered[id] {
			extra = make([]int, len(cv.tc.pgs))
			break
		}
	}
	if extra != nil {
		for pg, ids := range cv.tc.pgs {
			for _, id := range ids {
				if !answered[id] {
					extra[pg]++
				}
			}
			if have := len(ids) - extra[pg]; have < cv.k {
				return listPage{}, nil, &QuorumError{Op: "list", Have: have, Need: cv.k}
			}
		}
	}
	return mergePages(ok, after, 0), extra, nil
}

// dropLocal drops bucket from every local drive.
func (s *Store) dropLocal(ctx context.Context, bucket string) error {
	errs := make([]error, len(s.localIDs))
	var wg sync.WaitGroup
	for i, id := range s.localIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.local[id].DropBucket(ctx, bucket); err != nil {
				errs[i] = fmt.Errorf("drive %s: %w", id, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// DropBucket removes all records and shards of bucket from every drive.
// Every node drops it from its local drives; if a node or drive fails, the
// others still drop it and a *QuorumError (Have: nodes that succeeded, Need:
// all nodes) is returned so the caller can retry. It is not bounded by
// MetaTimeout: dropping a large bucket takes long; bound it with ctx.
func (s *Store) DropBucket(ctx context.Context, bucket string) error {
	cv := s.viewCluster()
	errs := make([]error, len(cv.peers))
	var wg sync.WaitGroup
	for i, p := range cv.peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.self {
				errs[i] = s.dropLocal(ctx, bucket)
				return
			}
			if s.tr == nil || p.addr == "" {
				errs[i] = fmt.Errorf("%w: node %s has no address", errUnreachable, p.id)
				return
			}
			resp, err := callNode(ctx, s.tr, p.addr, methodDropBucket, wireReq{Bucket: bucket}, nil)
			if err == nil {
				err = finish(resp)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err != nil {
			s.log.Warn("drop bucket failed", "bucket", bucket, "node", cv.peers[i].id, "err", err)
			continue
		}
		ok++
	}
	if ok < len(cv.peers) {
		return &QuorumError{Op: "drop_bucket", Have: ok, Need: len(cv.peers)}
	}
	return nil
}
