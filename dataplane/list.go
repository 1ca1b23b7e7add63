package dataplane

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// listMode is what a listing walks.
type listMode uint8

const (
	modeLatest   listMode = iota // keys with their newest versions (ListObjects)
	modeVersions                 // every version of every key (ListObjectVersions)
	modeUploads                  // uploads in progress (ListMultipartUploads)
)

// subPos is a position among a key's versions (ModTime, VersionID) or
// uploads (ID only), ordered as drive.CompareVersions orders them.
type subPos struct {
	Mod int64  `json:"mod,omitempty"`
	ID  string `json:"id"`
}

func cmpSub(a, b subPos) int { return drive.CompareVersions(a.Mod, a.ID, b.Mod, b.ID) }

// listReq is one listing request to a node.
type listReq struct {
	Mode      listMode `json:"mode,omitempty"`
	Prefix    string   `json:"prefix,omitempty"`
	Delimiter string   `json:"delimiter,omitempty"`
	After     string   `json:"after,omitempty"`
	AfterSub  *subPos  `json:"after_sub,omitempty"` // resume inside key After
	Limit     int      `json:"limit,omitempty"`
	// PGs, when set, keeps only the keys of these PGs (the scanner's);
	// the page's bounds (More, Last) stay those of the unfiltered page.
	PGs pgSet `json:"pgs,omitempty"`
	// Enc is the encoding of the reply: listEncBinary, or JSON when empty
	// (what nodes that predate the binary page answer; see listwire.go).
	Enc string `json:"enc,omitempty"`
}

// listVersion is one version of a key and the number of drives whose
// listing showed its record.
type listVersion struct {
	FI    drive.FileInfo `json:"fi"`
	Count int            `json:"count"`
}

func (v listVersion) pos() subPos { return subPos{Mod: v.FI.ModTime, ID: v.FI.VersionID} }

// listUpload is one upload of a key and the number of drives holding it.
type listUpload struct {
	U     drive.Upload `json:"u"`
	Count int          `json:"count"`
}

func (u listUpload) pos() subPos { return subPos{ID: u.U.UploadID} }

// listItem is one name of a merged listing: a common prefix, or a key with
// every version (or upload) seen for it.
type listItem struct {
	Name     string        `json:"name"`
	Prefix   bool          `json:"prefix,omitempty"`
	Versions []listVersion `json:"versions,omitempty"` // newest first
	Uploads  []listUpload  `json:"uploads,omitempty"`  // by upload id
	// More (Latest mode): some drive had more versions of the key than it
	// returned.
	More bool `json:"more,omitempty"`
}

// listPage is a sorted page of items from one source (a drive, a node, the
// whole cluster).
//
// When More is set the source has items after (Last, LastSub), and the page
// is complete only up to there: an item after it may be missing records
// the source did not return yet. LastSub nil means "after every version of
// Last"; set, the page ended inside key Last.
type listPage struct {
	Items   []listItem `json:"items"`
	More    bool       `json:"more,omitempty"`
	Last    string     `json:"last,omitempty"`
	LastSub *subPos    `json:"last_sub,omitempty"`
	Drives  []string   `json:"drives,omitempty"` // node pages: the drives that answered
}

// drivePage converts one drive's List result.
func drivePage(entries []drive.ListEntry, more bool, mode listMode) listPage {
	p := listPage{Items: make([]listItem, len(entries))}
	n := 0
	for _, e := range entries {
		n += len(e.Versions)
	}
	all := make([]listVersion, 0, n) // one allocation for the page's versions
	for i, e := range entries {
		if e.Prefix {
			p.Items[i] = listItem{Name: e.Name, Prefix: true}
			continue
		}
		it := listItem{Name: e.Name, More: mode == modeLatest && e.More}
		start := len(all)
		for _, fi := range e.Versions {
			fi.Inline, fi.Parts = nil, nil
			all = append(all, listVersion{FI: fi, Count: 1})
		}
		if len(all) > start {
			it.Versions = all[start:len(all):len(all)]
		}
		p.Items[i] = it
	}
	// A source that claims more but returned nothing cannot bound anything;
	// treating it as complete is the only way to make progress.
	if more && len(entries) > 0 {
		last := entries[len(entries)-1]
		p.More, p.Last = true, last.Name
		if mode == modeVersions && last.More && len(last.Versions) > 0 {
			v := last.Versions[len(last.Versions)-1]
			p.LastSub = &subPos{Mod: v.ModTime, ID: v.VersionID}
		}
	}
	return p
}

// uploadPage converts one drive's ListUploads result.
func uploadPage(entries []drive.UploadEntry, more bool) listPage {
	p := listPage{Items: make([]listItem, len(entries))}
	for i, e := range entries {
		it := listItem{Name: e.Name, Prefix: e.Prefix}
		for _, u := range e.Uploads {
			it.Uploads = append(it.Uploads, listUpload{U: u, Count: 1})
		}
		p.Items[i] = it
	}
	if more && len(entries) > 0 {
		last := entries[len(entries)-1]
		p.More, p.Last = true, last.Name
		if last.More && len(last.Uploads) > 0 {
			p.LastSub = &subPos{ID: last.Uploads[len(last.Uploads)-1].UploadID}
		}
	}
	return p
}

// posLess orders listing positions: by name, then inside a name by sub
// position, nil (after every version of the name) last.
func posLess(aName string, aSub *subPos, bName string, bSub *subPos) bool {
	if aName != bName {
		return aName < bName
	}
	return aSub != nil && (bSub == nil || cmpSub(*aSub, *bSub) < 0)
}

// clip keeps the versions and uploads of it after lo (nil: none dropped)
// and up to hi (nil: none dropped).
func clip(it listItem, lo, hi *subPos) listItem {
	keep := func(p subPos) bool {
		return (lo == nil || cmpSub(p, *lo) > 0) && (hi == nil || cmpSub(p, *hi) <= 0)
	}
	var vs []listVersion
	for _, v := range it.Versions {
		if keep(v.pos()) {
			vs = append(vs, v)
		}
	}
	var us []listUpload
	for _, u := range it.Uploads {
		if keep(u.pos()) {
			us = append(us, u)
		}
	}
	it.Versions, it.Uploads = vs, us
	return it
}

// mergePages merges sorted pages into one, at both levels (a node merging
// its drives, the coordinator merging nodes): items sorted by name, common
// prefixes deduplicated, a key's versions (uploads) grouped by id with
// their counts summed. Only what lies after (after, afterSub) is kept, and,
// when some page has More, only what lies up to the smallest bound of those
// pages (the rest is not complete yet).
//
// Each page's items are merged in order (a k-way merge; a page out of
// order is sorted first), and a key's versions are copied once, into slabs
// the merged page owns, where the other sources' counts are added in
// place: a 1,000-key page costs no sort and a few allocations. pages are
// not changed; the merged page may share upload slices with them.
func mergePages(pages []listPage, after string, afterSub *subPos) listPage {
	var out listPage
	items := make([][]listItem, len(pages)) // each page's items, in order
	most, mostVersions := 0, 0
	for i, p := range pages {
		if p.More && (!out.More || posLess(p.Last, p.LastSub, out.Last, out.LastSub)) {
			out.More, out.Last, out.LastSub = true, p.Last, p.LastSub
		}
		items[i] = p.Items
		if !slices.IsSortedFunc(p.Items, cmpItems) {
			items[i] = slices.Clone(p.Items)
			slices.SortStableFunc(items[i], cmpItems)
		}
		most = max(most, len(p.Items))
		n := 0
		for _, it := range p.Items {
			n += len(it.Versions)
		}
		mostVersions = max(mostVersions, n)
	}
	out.Items = make([]listItem, 0, most)
	// The merged items' versions live in slabs owned here, so the counts of
	// the other sources' copies of a version are added in place.
	var slab []listVersion
	own := func(vs []listVersion) []listVersion {
		if len(vs) == 0 {
			return nil
		}
		if cap(slab)-len(slab) < len(vs) {
			slab = make([]listVersion, 0, max(len(vs), mostVersions))
			mostVersions /= 4 // the first slab is the usual whole
		}
		start := len(slab)
		slab = append(slab, vs...)
		return slab[start:len(slab):len(slab)]
	}
	next := make([]int, len(pages)) // each page's next item
	for {
		src := -1
		for i, its := range items {
			if next[i] < len(its) && (src < 0 || cmpItems(its[next[i]], items[src][next[src]]) < 0) {
				src = i
			}
		}
		if src < 0 {
			return out
		}
		it := items[src][next[src]]
		next[src]++
		if it.Name < after || it.Name == after && (afterSub == nil || it.Prefix) {
			continue
		}
		if out.More && (it.Name > out.Last || it.Name == out.Last && it.Prefix && out.LastSub != nil) {
			continue
		}
		var lo, hi *subPos
		if it.Name == after {
			lo = afterSub
		}
		if out.More && it.Name == out.Last {
			hi = out.LastSub
		}
		if !it.Prefix && (lo != nil || hi != nil) {
			it = clip(it, lo, hi)
			if len(it.Versions) == 0 && len(it.Uploads) == 0 {
				continue
			}
		}
		if n := len(out.Items); n > 0 && cmpItems(out.Items[n-1], it) == 0 {
			last := &out.Items[n-1]
			if !addVersions(last.Versions, it.Versions) {
				last.Versions = own(mergeVersions(last.Versions, it.Versions))
			}
			last.Uploads = mergeUploads(last.Uploads, it.Uploads)
			last.More = last.More || it.More
			continue
		}
		it.Versions = own(mergeVersions(nil, it.Versions))
		it.Uploads = mergeUploads(nil, it.Uploads)
		out.Items = append(out.Items, it)
	}
}

// cmpItems orders listing items by name, a key before the common prefix
// of the same name.
func cmpItems(a, b listItem) int {
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
}

// mergeVersions merges the versions of add with dst (summing the counts
// of the same version), newest first, without changing either; the result
// may be one of them (see mergeCounted).
func mergeVersions(dst, add []listVersion) []listVersion {
	return mergeCounted(dst, add, func(v *listVersion) *int { return &v.Count },
		func(a, b listVersion) int { return cmpSub(a.pos(), b.pos()) })
}

// addVersions adds the counts of add to the same versions in dst, in
// place, when dst has every version of add (the usual case: the sources
// agree); else it changes nothing and reports false.
func addVersions(dst, add []listVersion) bool {
	add = mergeVersions(nil, add)
	for pass := range 2 {
		i := 0
		for _, a := range add {
			for i < len(dst) && cmpSub(dst[i].pos(), a.pos()) < 0 {
				i++
			}
			if i == len(dst) || cmpSub(dst[i].pos(), a.pos()) != 0 {
				return false // pass 0: nothing changed yet
			}
			if pass == 1 {
				dst[i].Count += a.Count
			}
		}
	}
	return true
}

// mergeUploads is mergeVersions for uploads, kept in upload id order.
func mergeUploads(dst, add []listUpload) []listUpload {
	return mergeCounted(dst, add, func(u *listUpload) *int { return &u.Count },
		func(a, b listUpload) int { return cmp.Compare(a.U.UploadID, b.U.UploadID) })
}

// mergeCounted merges two lists in order (order compares positions: a
// version's (ModTime, VersionID), an upload's id), summing the counts of
// entries at the same position. Either list is returned as is when the
// other is empty (and it is in order, with one entry per position, as
// every source sends it); else the result is a new slice.
func mergeCounted[T any](dst, add []T, count func(*T) *int, order func(a, b T) int) []T {
	dst, add = normalize(dst, count, order), normalize(add, count, order)
	switch {
	case len(add) == 0:
		return dst
	case len(dst) == 0:
		return add
	}
	out := make([]T, 0, len(dst)+len(add))
	i, j := 0, 0
	for i < len(dst) && j < len(add) {
		switch c := order(dst[i], add[j]); {
		case c < 0:
			out = append(out, dst[i])
			i++
		case c > 0:
			out = append(out, add[j])
			j++
		default:
			v := dst[i]
			*count(&v) += *count(&add[j])
			out = append(out, v)
			i, j = i+1, j+1
		}
	}
	out = append(out, dst[i:]...)
	return append(out, add[j:]...)
}

// normalize returns vs in strict order, entries at the same position
// merged into one (summing counts); vs itself when it already is.
func normalize[T any](vs []T, count func(*T) *int, order func(a, b T) int) []T {
	if len(vs) < 2 || slices.IsSortedFunc(vs, func(a, b T) int {
		if c := order(a, b); c != 0 {
			return c
		}
		return -1 // two entries at one position: not strictly ordered
	}) {
		return vs
	}
	sorted := slices.Clone(vs)
	slices.SortStableFunc(sorted, order)
	out := sorted[:1]
	for _, v := range sorted[1:] {
		if last := &out[len(out)-1]; order(*last, v) == 0 {
			*count(last) += *count(&v)
			continue
		}
		out = append(out, v)
	}
	return out
}

// listed reports whether a listed version exists, counting extra drives of
// its PG that did not answer: a data version on K drives, a delete marker
// or tombstone on more than N-W (see keyView).
func listed(v listVersion, extra, markerQ int) bool {
	if v.FI.Deleted {
		return v.Count+extra >= markerQ
	}
	return v.FI.K > 0 && v.Count+extra >= v.FI.K
}

// resolveItem decides whether a key is listed by ListObjects and with
// which version: newest first, the first version that exists is current; a
// delete marker or tombstone hides the key. undecided: no version shown
// exists but a drive did not return them all.
func resolveItem(it listItem, extra, markerQ int) (fi drive.FileInfo, ok, undecided bool) {
	for _, v := range it.Versions {
		if !listed(v, extra, markerQ) {
			continue
		}
		if v.FI.Deleted {
			return drive.FileInfo{}, false, false
		}
		return v.FI, true, false
	}
	return drive.FileInfo{}, false, it.More
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
func (s *Store) listLocal(ctx context.Context, bucket string, req listReq) listPage {
	pages := make([]listPage, len(s.localIDs))
	ok := make([]bool, len(s.localIDs))
	o := drive.ListOptions{Prefix: req.Prefix, Delimiter: req.Delimiter, After: req.After, Limit: req.Limit, Versions: req.Mode == modeVersions}
	if req.AfterSub != nil {
		switch req.Mode {
		case modeVersions:
			o.AfterVersion = &drive.Ref{ID: req.AfterSub.ID, ModTime: req.AfterSub.Mod}
		case modeUploads:
			o.AfterUpload = req.AfterSub.ID
		}
	}
	// Records of a PG a drive no longer holds (left by a rebalance whose
	// clean-up could not reach the drive) are not listed.
	var (
		set   settings
		holds map[string]pgSet
	)
	s.topology.View(func(st *meta.State) {
		set = settingsOf(st.Cluster)
		if hasPlacement(st) {
			holds = s.topoCacheLocked(st).holds
		}
	})
	held := func(id, name string) bool {
		return holds == nil || holds[id].has(PGOf(set.clusterID, bucket, name, set.pgCount))
	}
	var wg sync.WaitGroup
	for i, id := range s.localIDs {
		wg.Go(func() {
			d := s.local[id]
			var err error
			if req.Mode == modeUploads {
				var entries []drive.UploadEntry
				var more bool
				entries, more, err = d.ListUploads(ctx, bucket, o)
				pages[i] = uploadPage(entries, more)
			} else {
				var entries []drive.ListEntry
				var more bool
				entries, more, err = d.List(ctx, bucket, o)
				pages[i] = drivePage(entries, more, req.Mode)
			}
			kept := pages[i].Items[:0]
			for _, it := range pages[i].Items {
				if it.Prefix || held(id, it.Name) {
					kept = append(kept, it)
				}
			}
			pages[i].Items = kept
			if err != nil && !errors.Is(err, drive.ErrNotFound) {
				s.log.Warn("list failed", "bucket", bucket, "drive", id, "err", err)
				return
			}
			ok[i] = true
		})
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
	page := mergePages(answered, req.After, req.AfterSub)
	page.Drives = drives
	if len(req.PGs) > 0 {
		kept := page.Items[:0]
		for _, it := range page.Items {
			if !it.Prefix && req.PGs.has(PGOf(set.clusterID, bucket, it.Name, set.pgCount)) {
				kept = append(kept, it)
			}
		}
		page.Items = kept
	}
	if req.Mode == modeUploads {
		return page
	}
	// Drives fold every key under a common prefix, deleted ones included,
	// so a prefix whose keys were all deleted would stay listed. Keep a
	// prefix only if a local drive holds something listable under it (the
	// coordinator keeps it if any node does).
	kept := page.Items[:0]
	for _, it := range page.Items {
		if !it.Prefix || s.prefixLive(ctx, bucket, it.Name, req.Mode) {
			kept = append(kept, it)
		}
	}
	page.Items = kept
	return page
}

// prefixLive reports whether a local drive holds something listable under
// prefix p: a key whose newest version holds data (Latest mode), or any
// version that is not a tombstone (Versions mode). It scans page by page
// and stops at the first; a drive that fails counts as live, so an error
// never hides a prefix.
//
// It runs for every common prefix of a delimiter listing, and the first
// key under a prefix is nearly always live: the first page asks for one
// key, later ones for more (up to prefixScanMax), so the usual check reads
// one record per drive, not a page of them.
func (s *Store) prefixLive(ctx context.Context, bucket, p string, mode listMode) bool {
	for _, id := range s.localIDs {
		o := drive.ListOptions{Prefix: p, Limit: 1}
		for {
			entries, more, err := s.local[id].List(ctx, bucket, o)
			if err != nil {
				return !errors.Is(err, drive.ErrNotFound)
			}
			for _, e := range entries {
				if e.Prefix || len(e.Versions) == 0 {
					continue
				}
				if mode == modeLatest && !e.Versions[0].Deleted {
					return true
				}
				if mode == modeVersions {
					if e.More {
						return true
					}
					for _, v := range e.Versions {
						if !v.Tombstone {
							return true
						}
					}
				}
			}
			if !more || len(entries) == 0 {
				break
			}
			o.After = entries[len(entries)-1].Name
			o.Limit = min(8*o.Limit, prefixScanMax)
		}
	}
	return false
}

// prefixScanMax is the largest page prefixLive asks a drive for.
const prefixScanMax = 64

// maxListBody bounds a node's list reply (1000 records with metadata fit
// comfortably).
const maxListBody = 64 << 20

// listNode asks one node for its page.
func (s *Store) listNode(ctx context.Context, p peer, bucket string, req listReq) (listPage, error) {
	if p.self {
		return s.listLocal(ctx, bucket, req), nil
	}
	if s.tr == nil || p.addr == "" {
		return listPage{}, fmt.Errorf("%w: node %s has no address", errUnreachable, p.id)
	}
	if s.cfg.Down != nil && s.cfg.Down(p.id) {
		return listPage{}, fmt.Errorf("%w: node %s is down", errUnreachable, p.id)
	}
	req.Enc = listEncBinary
	resp, err := callNode(ctx, s.tr, p.addr, methodListNode, wireReq{Bucket: bucket, List: &req}, nil)
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
	page, err := decodeNodePage(body)
	if err != nil {
		return listPage{}, fmt.Errorf("dataplane: %s reply from %s: %w", methodListNode, p.id, err)
	}
	return page, nil
}

// clampMax bounds a client's page size to 1..1000.
func clampMax(m int) int {
	if m <= 0 || m > 1000 {
		return 1000
	}
	return m
}

// extraOf is the number of silent drives of key's PG (0 when all answered).
func extraOf(cv clusterView, extra []int, bucket, key string) int {
	if extra == nil {
		return 0
	}
	return extra[PGOf(cv.clusterID, bucket, key, cv.pgCount)]
}

// ListObjects returns one page of bucket's current objects: keys whose
// current version holds data (a key whose current version is a delete
// marker or tombstone is left out).
//
// Every node lists its local drives; the pages are merged and each key is
// resolved like a read (see resolveItem). Quorum rule: listing goes on with
// the nodes that answered as long as every PG keeps at least K of its drives
// among them — then every acknowledged version still shows at least one
// record, and a version is counted with its PG's silent drives. If some PG
// has fewer than K answering drives, it returns a *QuorumError: objects of
// that PG could be missing from the page.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	maxKeys := clampMax(opts.Max)
	cv := s.viewCluster()
	if !cv.hasPlacement {
		return ListResult{}, ErrNoPlacement
	}
	markerQ := markerQuorum(cv.k, cv.m)
	var res ListResult
	after := opts.After
	count := 0
	for {
		// One more than needed per source: a source's first item may be
		// the common prefix equal to `after`, which is dropped.
		req := listReq{Mode: modeLatest, Prefix: opts.Prefix, Delimiter: opts.Delimiter, After: after, Limit: maxKeys + 1}
		page, extra, err := s.listRound(ctx, cv, bucket, req)
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
				fi, ok, undecided := resolveItem(it, extraOf(cv, extra, bucket, it.Name), markerQ)
				if undecided {
					// The drives returned only the newest versions and none
					// of them exists: read the key like a GET.
					info, err := s.HeadObject(ctx, bucket, it.Name, GetOptions{})
					switch {
					case err == nil:
						fi, ok = drive.FileInfo{Bucket: bucket, Key: it.Name, VersionID: info.VersionID, ModTime: info.ModTime.UnixNano(), Size: info.Size, ETag: info.ETag, Meta: info.Meta,
							ChecksumAlgo: info.Checksum.Algorithm, ChecksumValue: info.Checksum.Value, ChecksumType: info.Checksum.Type}, true
					case errors.Is(err, ErrObjectNotFound):
					default:
						return ListResult{}, err
					}
				}
				if !ok {
					continue
				}
				if count == maxKeys {
					res.Truncated = true
					return res, nil
				}
				info := infoOf(fi)
				info.Bucket, info.Key, info.IsLatest = bucket, it.Name, true
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

// ListObjectVersions returns one page of every version and delete marker
// of bucket, by key then newest first, with S3's key-marker and
// version-id-marker paging; keys are merged across nodes and their versions
// resolved like ListObjects does (a version is listed when it exists by the
// rules of keyView, counting the silent drives of its PG). Tombstones of
// unversioned deletes are never listed.
func (s *Store) ListObjectVersions(ctx context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error) {
	maxKeys := clampMax(opts.Max)
	cv := s.viewCluster()
	if !cv.hasPlacement {
		return ListVersionsResult{}, ErrNoPlacement
	}
	markerQ := markerQuorum(cv.k, cv.m)
	after := opts.KeyMarker
	var afterSub *subPos
	if opts.KeyMarker != "" && opts.VersionIDMarker != "" {
		pos, err := s.versionPos(ctx, bucket, opts.KeyMarker, opts.VersionIDMarker)
		if err != nil {
			return ListVersionsResult{}, err
		}
		afterSub = pos
	}
	var res ListVersionsResult
	count := 0
	// The key being listed, and whether one of its existing versions was
	// seen (the first one is the latest; a page resumed inside a key saw
	// it on an earlier page).
	curKey, seen := "", false
	if afterSub != nil {
		curKey, seen = after, true
	}
	for {
		req := listReq{Mode: modeVersions, Prefix: opts.Prefix, Delimiter: opts.Delimiter, After: after, AfterSub: afterSub, Limit: maxKeys + 1}
		page, extra, err := s.listRound(ctx, cv, bucket, req)
		if err != nil {
			return ListVersionsResult{}, err
		}
		for _, it := range page.Items {
			if it.Prefix {
				if count == maxKeys {
					res.Truncated = true
					return res, nil
				}
				res.Prefixes = append(res.Prefixes, it.Name)
				count++
				res.NextKeyMarker, res.NextVersionIDMarker = it.Name, ""
				continue
			}
			if it.Name != curKey {
				curKey, seen = it.Name, false
			}
			x := extraOf(cv, extra, bucket, it.Name)
			for _, v := range it.Versions {
				if !listed(v, x, markerQ) {
					continue
				}
				latest := !seen
				seen = true
				if v.FI.Tombstone {
					continue
				}
				if count == maxKeys {
					res.Truncated = true
					return res, nil
				}
				info := infoOf(v.FI)
				info.Bucket, info.Key, info.IsLatest = bucket, it.Name, latest
				res.Versions = append(res.Versions, info)
				count++
				res.NextKeyMarker, res.NextVersionIDMarker = it.Name, info.VersionID
			}
		}
		if !page.More {
			res.NextKeyMarker, res.NextVersionIDMarker = "", ""
			return res, nil
		}
		if count == maxKeys {
			res.Truncated = true
			return res, nil
		}
		if !posLess(after, afterSub, page.Last, page.LastSub) {
			return ListVersionsResult{}, fmt.Errorf("dataplane: version listing of %s made no progress after %q", bucket, after)
		}
		after, afterSub = page.Last, page.LastSub
	}
}

// versionPos is the listing position of version versionID of key (S3's
// version-id-marker): decoded from the id, or, for the null version, read
// from the key's drives (nil when the key has no null version: the listing
// then resumes after the key).
func (s *Store) versionPos(ctx context.Context, bucket, key, versionID string) (*subPos, error) {
	ref, err := refFor(versionID)
	if err != nil {
		return nil, err
	}
	if !ref.Null {
		return &subPos{Mod: ref.ModTime, ID: ref.ID}, nil
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return nil, err
	}
	v, err := s.readKey(ctx, rt, bucket, key, ref)
	if err != nil {
		return nil, err
	}
	if g, _ := v.find(ref); g != nil {
		return &subPos{Mod: g.fi.ModTime, ID: g.fi.VersionID}, nil
	}
	return nil, nil
}

// ListMultipartUploads returns one page of bucket's uploads in progress, by
// key then initiation time, with S3's key-marker and upload-id-marker
// paging. An upload is listed when it exists by the rule of uploadState
// (counting the silent drives of its PG).
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	maxUploads := clampMax(opts.Max)
	cv := s.viewCluster()
	if !cv.hasPlacement {
		return ListUploadsResult{}, ErrNoPlacement
	}
	markerQ := markerQuorum(cv.k, cv.m)
	after := opts.KeyMarker
	var afterSub *subPos
	if opts.KeyMarker != "" && opts.UploadIDMarker != "" {
		afterSub = &subPos{ID: opts.UploadIDMarker}
	}
	var res ListUploadsResult
	count := 0
	for {
		req := listReq{Mode: modeUploads, Prefix: opts.Prefix, Delimiter: opts.Delimiter, After: after, AfterSub: afterSub, Limit: maxUploads + 1}
		page, extra, err := s.listRound(ctx, cv, bucket, req)
		if err != nil {
			return ListUploadsResult{}, err
		}
		for _, it := range page.Items {
			if it.Prefix {
				if count == maxUploads {
					res.Truncated = true
					return res, nil
				}
				res.Prefixes = append(res.Prefixes, it.Name)
				count++
				res.NextKeyMarker, res.NextUploadIDMarker = it.Name, ""
				continue
			}
			x := extraOf(cv, extra, bucket, it.Name)
			for _, u := range it.Uploads {
				if u.Count+x < markerQ {
					continue
				}
				if count == maxUploads {
					res.Truncated = true
					return res, nil
				}
				res.Uploads = append(res.Uploads, uploadInfoOf(u.U))
				count++
				res.NextKeyMarker, res.NextUploadIDMarker = it.Name, u.U.UploadID
			}
		}
		if !page.More {
			res.NextKeyMarker, res.NextUploadIDMarker = "", ""
			return res, nil
		}
		if count == maxUploads {
			res.Truncated = true
			return res, nil
		}
		if !posLess(after, afterSub, page.Last, page.LastSub) {
			return ListUploadsResult{}, fmt.Errorf("dataplane: upload listing of %s made no progress after %q", bucket, after)
		}
		after, afterSub = page.Last, page.LastSub
	}
}

// listRound asks every node for a page and merges them. extra is nil when
// every placed drive answered, else the number of silent drives per PG.
//
// It waits for every node (bounded by MetaTimeout; nodes gossip declared
// down are not asked): a listing without a node counts that node's drives
// as possibly holding every version (silentPerPG), which is right for a
// node that failed but would let a marker on one drive hide a key whenever
// a node is merely slow. (A straggler grace of 500 ms or twice the others'
// time dropped a node from about one page in eight under 16 concurrent
// listings on 2 cores.)
func (s *Store) listRound(ctx context.Context, cv clusterView, bucket string, req listReq) (listPage, []int, error) {
	lctx, cancel := s.metaCtx(ctx)
	defer cancel()
	pages := make([]listPage, len(cv.peers))
	errs := make([]error, len(cv.peers))
	var wg sync.WaitGroup
	for i, p := range cv.peers {
		wg.Go(func() {
			pages[i], errs[i] = s.listNode(lctx, p, bucket, req)
		})
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
	extra, err := silentPerPG(cv, answered)
	if err != nil {
		return listPage{}, nil, err
	}
	return mergePages(ok, req.After, req.AfterSub), extra, nil
}

// silentPerPG is the number of placed drives of each PG that are not in
// answered: nil when every placed drive answered, a *QuorumError when a PG
// has fewer than K answering drives (its objects could be missing).
func silentPerPG(cv clusterView, answered map[string]bool) ([]int, error) {
	var extra []int
	for _, id := range cv.tc.placed {
		if !answered[id] {
			extra = make([]int, len(cv.tc.pgs))
			break
		}
	}
	if extra == nil {
		return nil, nil
	}
	for pg, ids := range cv.tc.pgs {
		for _, id := range ids {
			if !answered[id] {
				extra[pg]++
			}
		}
		if have := len(ids) - extra[pg]; have < cv.k {
			return nil, &QuorumError{Op: "list", Have: have, Need: cv.k}
		}
	}
	return extra, nil
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

// DropBucket removes every version, delete marker, upload, part and shard
// of bucket from every drive.
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
