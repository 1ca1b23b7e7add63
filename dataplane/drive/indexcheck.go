package drive

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// The bbolt file format (go.etcd.io/bbolt, format version 2), read by
// checkIndexFile without bbolt, in the machine's byte order:
//
//	page:    id u64, flags u16, count u16, overflow u32, then the elements;
//	         a page spans 1+overflow pages of the meta's page size
//	meta:    (pages 0 and 1, after the page header) magic u32, version u32,
//	         page size u32, flags u32, root bucket {root page u64,
//	         sequence u64}, freelist page u64, high water mark u64, txid
//	         u64, FNV-64a of the preceding 56 bytes u64
//	branch:  count elements {pos u32, key size u32, child page u64}; an
//	         element's key is at its own offset + pos
//	leaf:    count elements {flags u32, pos u32, key size u32, value size
//	         u32}; key then value at the element's offset + pos; flag 1
//	         marks a nested bucket, whose value is {root page u64, sequence
//	         u64}, followed, when the root page is 0, by the bucket's only
//	         page (a leaf) inline
//	freelist: count ids u64 (a count of 0xFFFF means that the first u64
//	         holds the real count)
const (
	bbMagic        = 0xED0CDAED
	bbVersion      = 2
	bbPageHeader   = 16
	bbElem         = 16
	bbBranch       = 0x01
	bbLeaf         = 0x02
	bbMeta         = 0x04
	bbFreelist     = 0x10
	bbBucketLeaf   = 0x01
	bbBucketHeader = 16
	bbNoFreelist   = ^uint64(0)
	bbMaxDepth     = 64 // page tree depth plus bucket nesting; far above any real index
)

var ne = binary.NativeEndian

// indexStats is what checkIndexFile went through.
type indexStats struct {
	pages   int64 // pages reached (meta, freelist, tree)
	records int64 // versions, uploads and parts checked
}

// indexChecker checks one index file; see checkIndexFile.
type indexChecker struct {
	ctx   context.Context
	file  []byte // the index file, never modified
	psize int
	hwm   uint64 // pages [0, hwm) are in use or free
	seen  []bool // reached
	freed []bool // in the freelist
	stats indexStats

	// objects/<bucket>/<key>/ being walked: its null pointer and versions.
	nullTo   []byte
	versions map[string]bool
	// uploads/<bucket>/<key>/<id>/ being walked: its upload record seen.
	uploadSeen bool
	tops       map[string]bool
}

// corruptf returns an ErrCorrupt describing damage of the index file.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("drive: index file: %s: %w", fmt.Sprintf(format, args...), ErrCorrupt)
}

// checkIndexFile checks the bbolt file whose content is file without bbolt
// (so that no damage can make it panic or fault): the meta pages (magic,
// version, checksum, both of them), every page of the tree reached once
// and only once, of the right type, with its elements packed after it as
// bbolt writes them, keys strictly in order and within their parent's
// range, nothing both reachable and free and no page lost, the layout of
// schema.go, every record's CRC (version 3) or decoding (older records).
// Damage gives an error wrapping ErrCorrupt. An empty file (bbolt
// initialises it) is sound.
//
// With live nil the file is at rest (bbolt does not have it open): both
// meta pages must be valid, and the newer one's tree and freelist are
// checked. Otherwise the file is live and live describes the tree of a
// read transaction held open during the check: bbolt leaves the pages
// reachable from it untouched until it ends, but rewrites meta pages and
// free pages meanwhile, so only the tree is checked (not the meta pages,
// nor the freelist and the pages it accounts for). ctx ends the check.
func checkIndexFile(ctx context.Context, file []byte, live *liveTree) (indexStats, error) {
	c := &indexChecker{ctx: ctx, file: file, tops: map[string]bool{}}
	if len(file) == 0 {
		return c.stats, nil
	}
	if live != nil {
		c.psize, c.hwm = live.pageSize, live.hwm
		if c.hwm > uint64(len(file)/c.psize) || live.root < 2 || live.root >= c.hwm {
			return c.stats, corruptf("root page %d, high water mark %d of a file of %d pages", live.root, c.hwm, len(file)/c.psize)
		}
		c.seen = make([]bool, c.hwm)
		c.freed = make([]bool, c.hwm)
		return c.stats, c.bucket(nil, live.root, nil, 0)
	}
	m0, err := c.meta(0, 0)
	if err != nil {
		return c.stats, err
	}
	c.psize = int(ne.Uint32(m0[8:]))
	if c.psize < 512 || c.psize > 1<<20 || c.psize&(c.psize-1) != 0 {
		return c.stats, corruptf("page size %d", c.psize)
	}
	m1, err := c.meta(1, c.psize)
	if err != nil {
		return c.stats, err
	}
	if ne.Uint32(m1[8:]) != uint32(c.psize) {
		return c.stats, corruptf("meta pages disagree on the page size")
	}
	m := m0
	if ne.Uint64(m1[48:]) > ne.Uint64(m0[48:]) {
		m = m1
	}
	return c.stats, c.tree0(m)
}

// liveTree is the tree of a read transaction of an open index (checkLive).
type liveTree struct {
	root     uint64 // root bucket's root page
	hwm      uint64 // pages [0, hwm) in the transaction
	pageSize int
}

// tree0 checks the pages of meta m: freelist, then the tree.
func (c *indexChecker) tree0(m []byte) error {
	root, freelist := ne.Uint64(m[16:]), ne.Uint64(m[32:])
	c.hwm = ne.Uint64(m[40:])
	if c.hwm < 4 || c.hwm > uint64(len(c.file)/c.psize) {
		return corruptf("high water mark %d (file of %d pages)", c.hwm, len(c.file)/c.psize)
	}
	if root < 2 || root >= c.hwm || freelist != bbNoFreelist && (freelist < 2 || freelist >= c.hwm) {
		return corruptf("root page %d or freelist page %d outside [2, %d)", root, freelist, c.hwm)
	}
	c.seen = make([]bool, c.hwm)
	c.freed = make([]bool, c.hwm)
	c.seen[0], c.seen[1] = true, true
	c.stats.pages = 2
	if freelist != bbNoFreelist {
		if err := c.freelist(freelist); err != nil {
			return err
		}
	}
	if err := c.bucket(nil, root, nil, 0); err != nil {
		return err
	}
	if freelist != bbNoFreelist {
		for id := range c.hwm {
			if !c.seen[id] && !c.freed[id] {
				return corruptf("page %d neither reachable nor free", id)
			}
		}
	}
	return nil
}

// meta validates meta page id at off; it returns the meta's 64 bytes.
func (c *indexChecker) meta(id int, off int) ([]byte, error) {
	if len(c.file) < off+bbPageHeader+64 {
		return nil, corruptf("meta page %d: file too short", id)
	}
	b := c.file[off : off+bbPageHeader+64]
	if ne.Uint16(b[8:]) != bbMeta {
		return nil, corruptf("meta page %d: page type %#x", id, ne.Uint16(b[8:]))
	}
	m := b[bbPageHeader:]
	if ne.Uint32(m[0:]) != bbMagic || ne.Uint32(m[4:]) != bbVersion {
		return nil, corruptf("meta page %d: not a bbolt meta page of version %d", id, bbVersion)
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return nil, corruptf("meta page %d: checksum mismatch", id)
	}
	return m, nil
}

// page reads page id (with its overflow pages) and marks it reached.
func (c *indexChecker) page(id uint64) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, corruptf("page %d outside [2, %d)", id, c.hwm)
	}
	if c.stats.pages%1024 == 0 {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
	}
	off := int(id) * c.psize
	b := c.file[off : off+c.psize]
	if got := ne.Uint64(b); got != id {
		return nil, corruptf("page %d says it is page %d", id, got)
	}
	over := uint64(ne.Uint32(b[12:]))
	if id+over >= c.hwm {
		return nil, corruptf("page %d: %d overflow pages past the high water mark %d", id, over, c.hwm)
	}
	for p := id; p <= id+over; p++ {
		if c.seen[p] {
			return nil, corruptf("page %d reached twice", p)
		}
		if c.freed[p] {
			return nil, corruptf("page %d both reachable and free", p)
		}
		c.seen[p] = true
	}
	c.stats.pages += int64(over + 1)
	end := off + int(over+1)*c.psize
	return c.file[off:end:end], nil
}

// freelist reads the freelist page and marks its pages free.
func (c *indexChecker) freelist(id uint64) error {
	b, err := c.page(id)
	if err != nil {
		return err
	}
	if ne.Uint16(b[8:]) != bbFreelist {
		return corruptf("freelist page %d: page type %#x", id, ne.Uint16(b[8:]))
	}
	count, at := uint64(ne.Uint16(b[10:])), bbPageHeader
	if count == 0xFFFF {
		count, at = ne.Uint64(b[bbPageHeader:]), bbPageHeader+8
	}
	if count > uint64(len(b)-at)/8 {
		return corruptf("freelist page %d: %d ids do not fit", id, count)
	}
	for i := range count {
		p := ne.Uint64(b[at+8*int(i):])
		if p < 2 || p >= c.hwm {
			return corruptf("freelist page %d: free page %d outside [2, %d)", id, p, c.hwm)
		}
		if c.freed[p] || c.seen[p] {
			return corruptf("freelist page %d: page %d freed twice or in use", id, p)
		}
		c.freed[p] = true
	}
	return nil
}

// bucket walks the bucket at path whose root is page root, or the inline
// page when root is 0, and checks its entries against the layout.
func (c *indexChecker) bucket(path [][]byte, root uint64, inline []byte, depth int) error {
	if root == 0 {
		if len(inline) < bbPageHeader || ne.Uint16(inline[8:]) != bbLeaf {
			return corruptf("bucket %q: bad inline page", path)
		}
		if err := c.leaf(path, inline, true, nil, nil, depth); err != nil {
			return err
		}
	} else if err := c.tree(path, root, nil, nil, depth); err != nil {
		return err
	}
	return c.leave(path)
}

// tree walks the subtree of page id of the bucket at path, whose keys must
// lie in [lo, hi) (nil: unbounded).
func (c *indexChecker) tree(path [][]byte, id uint64, lo, hi []byte, depth int) error {
	if depth > bbMaxDepth {
		return corruptf("bucket %q: tree deeper than %d", path, bbMaxDepth)
	}
	b, err := c.page(id)
	if err != nil {
		return err
	}
	switch ne.Uint16(b[8:]) {
	case bbLeaf:
		return c.leaf(path, b, false, lo, hi, depth)
	case bbBranch:
	default:
		return corruptf("page %d: page type %#x in a tree", id, ne.Uint16(b[8:]))
	}
	n := int(ne.Uint16(b[10:]))
	if n == 0 || bbPageHeader+n*bbElem > len(b) {
		return corruptf("branch page %d: %d elements", id, n)
	}
	keys := make([][]byte, n)
	off := bbPageHeader + n*bbElem // bbolt packs the keys after the elements, in order
	for i := range n {
		e := bbPageHeader + i*bbElem
		k, ok := slice(b, e+int(ne.Uint32(b[e:])), int(ne.Uint32(b[e+4:])))
		if !ok || e+int(ne.Uint32(b[e:])) != off {
			return corruptf("branch page %d: element %d misplaced", id, i)
		}
		off += len(k)
		keys[i] = k
		if i > 0 && bytes.Compare(keys[i-1], k) >= 0 || lo != nil && bytes.Compare(k, lo) < 0 || hi != nil && bytes.Compare(k, hi) >= 0 {
			return corruptf("branch page %d: key %d out of order", id, i)
		}
	}
	if err := c.used(b, off); err != nil {
		return err
	}
	for i := range n {
		e := bbPageHeader + i*bbElem
		next := hi
		if i+1 < n {
			next = keys[i+1]
		}
		if err := c.tree(path, ne.Uint64(b[e+8:]), keys[i], next, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// used checks that page b, whose elements and data end at off, spans the
// pages bbolt allocates for that size: as many as it needs, no more.
func (c *indexChecker) used(b []byte, off int) error {
	if over := len(b)/c.psize - 1; over > 0 && off <= over*c.psize {
		return corruptf("page %d: %d bytes used in %d pages", ne.Uint64(b), off, over+1)
	}
	return nil
}

// leaf checks the elements of leaf page b of the bucket at path (keys in
// [lo, hi)) and walks its nested buckets. An inline page (b is the rest of
// its bucket's value) must end exactly where its data ends.
func (c *indexChecker) leaf(path [][]byte, b []byte, inline bool, lo, hi []byte, depth int) error {
	n := int(ne.Uint16(b[10:]))
	if bbPageHeader+n*bbElem > len(b) {
		return corruptf("leaf page %d of bucket %q: %d elements", ne.Uint64(b), path, n)
	}
	var prev []byte
	off := bbPageHeader + n*bbElem // bbolt packs keys and values after the elements, in order
	for i := range n {
		e := bbPageHeader + i*bbElem
		flags, pos := ne.Uint32(b[e:]), int(ne.Uint32(b[e+4:]))
		k, ok := slice(b, e+pos, int(ne.Uint32(b[e+8:])))
		var v []byte
		if ok {
			v, ok = slice(b, e+pos+len(k), int(ne.Uint32(b[e+12:])))
		}
		if !ok || e+pos != off || flags&^bbBucketLeaf != 0 {
			return corruptf("leaf page %d of bucket %q: element %d broken", ne.Uint64(b), path, i)
		}
		off += len(k) + len(v)
		if i > 0 && bytes.Compare(prev, k) >= 0 || lo != nil && bytes.Compare(k, lo) < 0 || hi != nil && bytes.Compare(k, hi) >= 0 {
			return corruptf("leaf page %d of bucket %q: key %q out of order", ne.Uint64(b), path, k)
		}
		prev = k
		if flags&bbBucketLeaf == 0 {
			if err := c.entry(path, k, v); err != nil {
				return err
			}
			continue
		}
		if err := c.enter(path, k); err != nil {
			return err
		}
		if len(v) < bbBucketHeader {
			return corruptf("bucket %q/%q: header of %d bytes", path, k, len(v))
		}
		root := ne.Uint64(v)
		if root != 0 && len(v) != bbBucketHeader {
			return corruptf("bucket %q/%q: root page and an inline page", path, k)
		}
		sub := append(path[:len(path):len(path)], k)
		if err := c.bucket(sub, root, v[bbBucketHeader:], depth+1); err != nil {
			return err
		}
	}
	if inline {
		if off != len(b) {
			return corruptf("inline page of bucket %q: %d bytes used of %d", path, off, len(b))
		}
		return nil
	}
	return c.used(b, off)
}

// slice returns b[off:off+n], ok false when it does not fit.
func slice(b []byte, off, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off > len(b) || n > len(b)-off {
		return nil, false
	}
	return b[off : off+n], true
}

// The layout of schema.go, as checkIndexFile sees it. Every entry the
// drive writes must be known here: an unknown one is damage.

// enter is called for nested bucket name of the bucket at path.
func (c *indexChecker) enter(path [][]byte, name []byte) error {
	switch {
	case len(path) == 0:
		if !bytes.Equal(name, bucketObjects) && !bytes.Equal(name, bucketUploads) {
			return corruptf("unknown top-level bucket %q", name)
		}
		c.tops[string(name)] = true
	case bytes.Equal(path[0], bucketObjects) && len(path) == 2:
		c.nullTo, c.versions = nil, map[string]bool{}
	case bytes.Equal(path[0], bucketObjects) && len(path) < 2:
	case bytes.Equal(path[0], bucketUploads) && len(path) == 3:
		c.uploadSeen = false
	case bytes.Equal(path[0], bucketUploads) && len(path) < 3:
	default:
		return corruptf("unexpected bucket %q in %q", name, path)
	}
	if len(name) == 0 {
		return corruptf("bucket with an empty name in %q", path)
	}
	return nil
}

// entry is called for each key/value of the bucket at path.
func (c *indexChecker) entry(path [][]byte, k, v []byte) error {
	switch {
	case len(path) == 2 && bytes.Equal(path[0], bucketObjects):
		// A key written before versioning: one version-1 record.
		c.stats.records++
		if len(v) == 0 || v[0] != recordV1 {
			return corruptf("record %q/%q of version %v at the place of a version-1 record", path[1], k, v[:min(1, len(v))])
		}
		_, err := decodeRecord(string(path[1]), string(k), v, decodeAll)
		return err
	case len(path) == 3 && bytes.Equal(path[0], bucketObjects):
		return c.version(string(path[1]), string(path[2]), k, v)
	case len(path) == 4 && bytes.Equal(path[0], bucketUploads):
		return c.upload(path, k, v)
	}
	return corruptf("unexpected entry %q in %q", k, path)
}

// version checks one entry of objects/<bucket>/<key>/.
func (c *indexChecker) version(bucket, key string, k, v []byte) error {
	if bytes.Equal(k, keyNullPointer) {
		if len(v) <= 8 {
			return corruptf("%s/%s: null pointer of %d bytes", bucket, key, len(v))
		}
		c.nullTo = bytes.Clone(v)
		return nil
	}
	if len(k) <= 8 {
		return corruptf("%s/%s: unknown entry %q", bucket, key, k)
	}
	c.stats.records++
	c.versions[string(k)] = true
	if len(v) == 0 {
		return corruptf("%s/%s: empty record", bucket, key)
	}
	switch v[0] {
	case recordV3:
		return checkRecordV3(bucket, key, k, v)
	case recordV2:
		fi, err := decodeRecord(bucket, key, v, decodeAll)
		if err != nil {
			return err
		}
		if !bytes.Equal(versionKey(fi.ModTime, fi.VersionID), k) {
			return corruptf("%s/%s: record of version %s under another version key", bucket, key, fi.VersionID)
		}
		return nil
	}
	return corruptf("%s/%s: record of version %d in a key's versions", bucket, key, v[0])
}

// upload checks one entry of uploads/<bucket>/<key>/<id>/.
func (c *indexChecker) upload(path [][]byte, k, v []byte) error {
	c.stats.records++
	switch {
	case bytes.Equal(k, keyUploadInfo):
		var u Upload
		if err := decodeValue(v, &u); err != nil {
			return err
		}
		if u.Bucket != string(path[1]) || u.Key != string(path[2]) || u.UploadID != string(path[3]) {
			return corruptf("upload record of %s/%s/%s at %q", u.Bucket, u.Key, u.UploadID, path)
		}
		c.uploadSeen = true
		return nil
	case len(k) == 5 && k[0] == 'p':
		var p Part
		if err := decodeValue(v, &p); err != nil {
			return err
		}
		if uint32(p.Number) != binary.BigEndian.Uint32(k[1:]) {
			return corruptf("part %d at the place of part %d in %q", p.Number, binary.BigEndian.Uint32(k[1:]), path)
		}
		return nil
	}
	return corruptf("unexpected entry %q in upload %q", k, path)
}

// leave is called when the bucket at path is done.
func (c *indexChecker) leave(path [][]byte) error {
	switch {
	case len(path) == 0:
		if !c.tops[string(bucketObjects)] || !c.tops[string(bucketUploads)] {
			return corruptf("top-level buckets missing")
		}
	case len(path) == 3 && bytes.Equal(path[0], bucketObjects):
		if c.nullTo != nil && !c.versions[string(c.nullTo)] {
			return corruptf("%s/%s: null pointer to a missing version", path[1], path[2])
		}
	case len(path) == 4 && bytes.Equal(path[0], bucketUploads):
		if !c.uploadSeen {
			return corruptf("upload %q without its record", path)
		}
	}
	return nil
}
