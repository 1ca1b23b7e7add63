package dataplane

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/rpc"
)

// PutObject reads the body (size bytes, or to EOF when size is -1),
// erasure-codes it across the object's PG, and returns once the data and
// the version record are durable on a write quorum. An error from r is
// returned wrapped (%w).
//
// Objects up to the cluster's InlineMax are encoded in memory and stored in
// the drives' records; larger ones are streamed block by block to one shard
// file per drive, with a few blocks of memory whatever the size. The MD5
// (the ETag) and the checksum of opts.ChecksumAlgorithm are computed on the
// way. Nothing is committed unless the whole body was read, its digests
// matched opts.ContentMD5 and opts.ChecksumValue (when given), a write
// quorum holds the fsync'd shards, and the conditions of opts held under
// the key's write lock (lock.go). opts.Versioning decides between a new
// version (Enabled) and replacing the null version (Off, Suspended).
//
// A QuorumError at commit time may still leave the version readable when K
// but fewer than a quorum of drives committed it: the outcome is then
// undetermined, as with any request that fails after reaching the server.
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	if size < -1 {
		return ObjectInfo{}, ErrInvalidSize
	}
	if size > MaxPartSize {
		return ObjectInfo{}, fmt.Errorf("%w: %d bytes, at most %d in one PUT", ErrEntityTooLarge, size, int64(MaxPartSize))
	}
	algo, err := normAlgorithm(opts.ChecksumAlgorithm)
	if err != nil {
		return ObjectInfo{}, err
	}
	if algo == "" {
		algo = ChecksumCRC64NVME
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	cd, err := s.codecs.get(rt.k, rt.m, rt.blockSize)
	if err != nil {
		return ObjectInfo{}, err
	}
	early := &earlyLock{bucket: bucket, key: key, owner: newOwner(s.cfg.NodeID)}
	dw, err := s.writeBody(ctx, rt, cd, r, size, algo, true, early)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := dw.verify(opts.ContentMD5, opts.ChecksumValue); err != nil {
		s.discard(ctx, rt, dw)
		return ObjectInfo{}, err
	}
	fi := drive.FileInfo{
		Bucket:        bucket,
		Key:           key,
		Null:          opts.Versioning != meta.VersioningEnabled,
		Size:          dw.lay.size,
		ETag:          dw.etag(),
		Meta:          opts.Meta,
		Tags:          withACL(opts.Tags, opts.ACL),
		ChecksumAlgo:  algo,
		ChecksumValue: dw.checksum(),
		ChecksumType:  ChecksumFullObject,
		K:             rt.k,
		M:             rt.m,
		BlockSize:     rt.blockSize,
		DataDir:       dw.dataDir,
	}
	if len(fi.Tags) == 0 {
		fi.Tags = nil
	}
	return s.commitWrite(ctx, rt, fi, dw, conditions{ifMatch: opts.IfMatch, ifNoneMatch: opts.IfNoneMatch})
}

// conditions are the preconditions of a write (If-Match, If-None-Match).
type conditions struct {
	ifMatch, ifNoneMatch string
}

func (c conditions) any() bool { return c.ifMatch != "" || c.ifNoneMatch != "" }

// etagIn reports whether etag is one of the comma-separated, possibly
// quoted, ETags of list, or list is "*".
func etagIn(etag, list string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		e = strings.TrimPrefix(e, "W/")
		e = strings.Trim(e, `"`)
		if e == "*" || e == etag {
			return true
		}
	}
	return false
}

// check evaluates the conditions against the key's current version.
func (c conditions) check(v *keyView) error {
	if !c.any() {
		return nil
	}
	cur, ambiguous := v.current()
	if cur == nil && ambiguous {
		return &QuorumError{Op: "read", Have: v.answered, Need: len(v.rt.drives)}
	}
	live := cur != nil && !cur.fi.Deleted
	if c.ifNoneMatch != "" && live && etagIn(cur.fi.ETag, c.ifNoneMatch) {
		return fmt.Errorf("%w: %s/%s exists (If-None-Match %s)", ErrPreconditionFailed, v.rt.bucket, v.rt.key, c.ifNoneMatch)
	}
	if c.ifMatch != "" {
		if !live {
			return fmt.Errorf("%w: If-Match on %s/%s, which has no current version", ErrObjectNotFound, v.rt.bucket, v.rt.key)
		}
		if !etagIn(cur.fi.ETag, c.ifMatch) {
			return fmt.Errorf("%w: %s/%s has ETag %s (If-Match %s)", ErrPreconditionFailed, v.rt.bucket, v.rt.key, cur.fi.ETag, c.ifMatch)
		}
	}
	return nil
}

// newModTime is the ModTime of a new version of the key: now, or just
// after the newest version seen when that one is ahead of this node's
// clock, so an overwrite or delete wins whatever the writers' clocks.
func (v *keyView) newModTime() int64 {
	return max(time.Now().UnixNano(), v.maxMod+1)
}

// commitWrite commits the new version fi of a body already written (dw)
// under the key's write lock: conditions checked, ModTime and version id
// chosen, record committed on the drives that hold the shards (or, for an
// inline object, on every drive that answered the lock). Temporary shards
// that were not committed are removed.
func (s *Store) commitWrite(ctx context.Context, rt route, fi drive.FileInfo, dw *dataWrite, cond conditions) (ObjectInfo, error) {
	need := writeQuorum(rt.k, rt.m)
	lk, v, err := s.lockKey(ctx, rt, fi.Bucket, fi.Key, cond.any(), dw.early)
	dw.early = nil // lockKey took its leases over, or released them
	if err != nil {
		s.discard(ctx, rt, dw)
		return ObjectInfo{}, err
	}
	defer lk.release()
	if err := cond.check(v); err != nil {
		s.discard(ctx, rt, dw)
		return ObjectInfo{}, err
	}
	fi.ModTime = v.newModTime()
	fi.VersionID = newVersionID(fi.ModTime)
	which := make([]bool, len(rt.drives))
	n := 0
	for i := range which {
		which[i] = v.reachable[i] && (dw.inline != nil || dw.stored[i])
		if which[i] {
			n++
		}
	}
	if n < need {
		s.discard(ctx, rt, dw)
		return ObjectInfo{}, &QuorumError{Op: "put", Have: n, Need: need}
	}
	// The commit runs to its end even if the client goes away, so that a
	// version is not left on fewer drives than it could have reached.
	_, failed, ok := s.commitAll(context.WithoutCancel(ctx), rt, lk, fi, which, dw.inline)
	if dw.dataDir != "" {
		// Temporary shards that were not committed are removed: those of
		// failed commits and of drives left out of the commit; committed
		// ones now belong to the record, and a drive still committing in
		// the background keeps its own.
		leftover := make([]bool, len(rt.drives))
		for i := range leftover {
			leftover[i] = dw.stored[i] && (failed[i] || !which[i])
		}
		s.abortShards(ctx, rt, dw.dataDir, leftover)
	}
	if ok < need {
		return ObjectInfo{}, &QuorumError{Op: "put", Have: ok, Need: need}
	}
	info := infoOf(fi)
	info.IsLatest = true
	if fi.Null {
		info.Freed = v.nullFreed()
	}
	return info, nil
}

// nullFreed is what replacing the key's null version frees: its data,
// when the newest null version that exists is not a delete marker. (A
// null version older than the readLimit newest versions is not seen:
// its bytes stay counted until a recount.)
func (v *keyView) nullFreed() Freed {
	for _, g := range v.groups {
		if g.fi.Null && v.present(g) {
			if g.fi.Deleted {
				return Freed{}
			}
			return Freed{Bytes: g.fi.Size, Versions: 1}
		}
	}
	return Freed{}
}

// dataWrite is a body written to the PG's drives, not committed yet.
type dataWrite struct {
	lay     layout
	inline  [][]byte   // inline: each drive's shard bytes (nil when streamed)
	dataDir string     // streamed: the temporary shard file id on every drive
	stored  []bool     // streamed: the drives holding the fsync'd temporary shard
	early   *earlyLock // streamed PUT: the key's lock the drives took at the end of their writes
	md5     []byte
	sum     []byte // digest of the checksum algorithm
}

func (dw *dataWrite) etag() string     { return hex.EncodeToString(dw.md5) }
func (dw *dataWrite) checksum() string { return checksumValue(dw.sum) }

// verify compares the body's digests with the client's declared ones.
func (dw *dataWrite) verify(md5want []byte, declared string) error {
	if len(md5want) > 0 && !bytes.Equal(dw.md5, md5want) {
		return ErrBadDigest
	}
	if declared != "" {
		if raw, err := base64.StdEncoding.DecodeString(declared); err != nil || !bytes.Equal(raw, dw.sum) {
			return fmt.Errorf("%w: the declared checksum did not match the calculated one", ErrBadChecksum)
		}
	}
	return nil
}

// discard removes the temporary shards of a body that will not be
// committed, and releases its early lock (before lockKey took it over).
func (s *Store) discard(ctx context.Context, rt route, dw *dataWrite) {
	if dw != nil && dw.dataDir != "" {
		s.abortShards(ctx, rt, dw.dataDir, dw.stored)
	}
	if dw != nil {
		dw.early.release(s, rt)
		dw.early = nil
	}
}

// writeBody reads a body of size bytes (or to EOF when size < 0, refusing
// more than MaxPartSize) and writes it to the PG's drives: inline (in
// memory, for the commit to carry) when allowed and the body is at most
// InlineMax, else streamed to temporary shard files. It computes the MD5
// and the checksum of algo on the way. early (nil: none) is the key's
// lock a streamed write asks the drives for at the end of their writes.
func (s *Store) writeBody(ctx context.Context, rt route, cd *codec, r io.Reader, size int64, algo string, allowInline bool, early *earlyLock) (*dataWrite, error) {
	body := &bodyReader{r: r, md5: md5.New(), sum: newChecksumHash(algo), size: size, limit: s.maxBody}
	if size < 0 && allowInline {
		// Unknown length: an object that ends within InlineMax is inline.
		buf := make([]byte, rt.inlineMax+1)
		n, err := io.ReadFull(r, buf)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			size = int64(n)
			body.r, body.size = bytes.NewReader(buf[:n]), size
		case err != nil:
			return nil, fmt.Errorf("dataplane: reading body: %w", err)
		default:
			body.r = io.MultiReader(bytes.NewReader(buf), r)
		}
	}
	lay := layout{size: size, blockSize: rt.blockSize, k: rt.k, m: rt.m}
	if allowInline && size >= 0 && size <= rt.inlineMax {
		return s.writeInline(ctx, rt, cd, lay, body)
	}
	return s.writeStream(ctx, rt, cd, lay, body, early)
}

// bodyReader reads the request body block by block, hashing it on the way.
type bodyReader struct {
	r       io.Reader
	md5     hash.Hash
	sum     hash.Hash
	got     int64
	size    int64 // < 0: unknown, read to EOF
	limit   int64 // unknown size: the most bytes accepted
	eof     bool
	scratch []byte // unknown size: one block
}

func (b *bodyReader) hash(p []byte) {
	b.md5.Write(p)
	b.sum.Write(p)
}

// fill reads exactly len(p) bytes.
func (b *bodyReader) fill(p []byte) error {
	n, err := io.ReadFull(b.r, p)
	b.hash(p[:n])
	b.got += int64(n)
	switch {
	case err == nil:
		return nil
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: got %d of %d bytes", ErrIncompleteBody, b.got, b.size)
	default:
		return fmt.Errorf("dataplane: reading body: %w", err)
	}
}

// fillBlock reads the next blockLen bytes into bb's data shards, zero pads
// them, and computes the parity shards.
func (b *bodyReader) fillBlock(cd *codec, bb *blockBuf, blockLen int64) error {
	ss := shardLen(blockLen, cd.k)
	bb.setShardLen(int(ss))
	rest := blockLen
	for i := range cd.k {
		n := min(ss, rest)
		if err := b.fill(bb.shards[i][:n]); err != nil {
			return err
		}
		clear(bb.shards[i][n:])
		rest -= n
	}
	if err := cd.enc.Encode(bb.shards); err != nil {
		return fmt.Errorf("dataplane: encode: %w", err)
	}
	return nil
}

// nextBlock reads block blk: of its layout length when the size is known,
// else up to a full block (0 at the end of the body).
func (b *bodyReader) nextBlock(cd *codec, bb *blockBuf, lay layout, blk int64) (int64, error) {
	if b.size >= 0 {
		n := lay.blockLen(blk)
		return n, b.fillBlock(cd, bb, n)
	}
	if b.eof {
		return 0, nil
	}
	if b.scratch == nil {
		b.scratch = make([]byte, lay.blockSize)
	}
	n, err := io.ReadFull(b.r, b.scratch)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		b.eof = true
	case err != nil:
		return 0, fmt.Errorf("dataplane: reading body: %w", err)
	}
	b.got += int64(n)
	if b.got > b.limit {
		return 0, fmt.Errorf("%w: body longer than %d bytes", ErrEntityTooLarge, b.limit)
	}
	if n == 0 {
		return 0, nil
	}
	data := b.scratch[:n]
	b.hash(data)
	ss := shardLen(int64(n), cd.k)
	bb.setShardLen(int(ss))
	for i := range cd.k {
		c := copy(bb.shards[i], data)
		clear(bb.shards[i][c:])
		data = data[c:]
	}
	if err := cd.enc.Encode(bb.shards); err != nil {
		return 0, fmt.Errorf("dataplane: encode: %w", err)
	}
	return int64(n), nil
}

// digests finishes the hashes.
func (b *bodyReader) digests(dw *dataWrite) {
	dw.md5 = b.md5.Sum(nil)
	dw.sum = b.sum.Sum(nil)
}

// writeInline encodes a small object (of known size) in memory; the commit
// will carry every drive's shard bytes inside its record.
func (s *Store) writeInline(ctx context.Context, rt route, cd *codec, lay layout, body *bodyReader) (*dataWrite, error) {
	n := rt.k + rt.m
	inline := make([][]byte, n)
	for i := range inline {
		inline[i] = make([]byte, 0, lay.shardFileSize())
	}
	if nb := lay.blocks(); nb > 0 {
		bb := cd.newBlockBuf()
		defer cd.release(bb)
		for b := range nb {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := body.fillBlock(cd, bb, lay.blockLen(b)); err != nil {
				return nil, err
			}
			for i := range n {
				region := bb.regions[i]
				binary.BigEndian.PutUint32(region, crc32.Checksum(region[crcLen:], castagnoli))
				inline[i] = append(inline[i], region...)
			}
		}
	}
	dw := &dataWrite{lay: lay, inline: inline}
	body.digests(dw)
	return dw, nil
}

// putInFlight is the number of blocks a streamed PUT has in flight: read and
// encoded ahead while the drives still write earlier ones. It bounds the
// memory of a PUT to putInFlight * (K+M)/K * BlockSize.
const putInFlight = 2

// putBlock is one block buffer in flight to the drives: a latch counts the
// drives that have not released it; the coordinator reuses it only after
// done is closed.
type putBlock struct {
	bb       *blockBuf
	seq      int64         // index of the block it holds
	armed    time.Time     // when it was handed to the drives
	pending  atomic.Int32  // drives still holding it
	done     chan struct{} // closed when pending reaches 0; nil before first use
	progress chan struct{} // poked (never blocking) at every release
}

// arm prepares pb for block seq, to be released by n drives.
func (pb *putBlock) arm(seq int64, n int) {
	pb.seq = seq
	pb.armed = time.Now()
	pb.pending.Store(int32(n))
	pb.done = make(chan struct{})
	if pb.progress == nil {
		pb.progress = make(chan struct{}, 1)
	}
}

// release records that one drive is done with the block.
func (pb *putBlock) release() {
	if pb.pending.Add(-1) == 0 {
		close(pb.done)
	}
	select {
	case pb.progress <- struct{}{}:
	default:
	}
}

// keptUp counts the feeds that consumed pb and have not failed.
func (pb *putBlock) keptUp(feeds []*shardFeed) int {
	n := 0
	for _, f := range feeds {
		if f.released.Load() > pb.seq && !f.failed.Load() {
			n++
		}
	}
	return n
}

// errFeedClosed is returned to a reader of a feed whose drive already gave up.
var errFeedClosed = errors.New("dataplane: shard feed closed")

// shardFeed is the io.Reader a drive's WriteShard consumes: the [crc][shard]
// regions of shard idx of each block, in order, straight from the shared
// block buffers (no pipe and no copy with WriteTo). The CRC is computed by
// the consuming goroutine, so drives checksum their shards in parallel.
//
// Every block sent on ch is released exactly once, in order: when consumed,
// or by finish after WriteShard returned.
type shardFeed struct {
	idx   int
	ch    chan *putBlock // closed by the coordinator when done or aborting
	abort error          // set before close(ch): the error readers get instead of EOF

	mu     sync.Mutex // held while reading, so finish cannot release a block in use
	cur    *putBlock
	off    int
	closed bool

	released atomic.Int64 // blocks released so far (for the stall watchdog)
	failed   atomic.Bool  // its WriteShard failed (set before finish)
}

// releaseCur releases the current block.
func (f *shardFeed) releaseCur() {
	f.cur.release()
	f.cur = nil
	f.released.Add(1)
}

// take makes the next block current; ok is false at the end of the feed.
func (f *shardFeed) take() (ok bool, err error) {
	blk, ok := <-f.ch
	if !ok {
		if f.abort != nil {
			return false, f.abort
		}
		return false, nil
	}
	f.cur, f.off = blk, 0
	region := blk.bb.regions[f.idx]
	binary.BigEndian.PutUint32(region, crc32.Checksum(region[crcLen:], castagnoli))
	return true, nil
}

// advance records n bytes of the current region as consumed.
func (f *shardFeed) advance(n int) {
	f.off += n
	if f.off == len(f.cur.bb.regions[f.idx]) {
		f.releaseCur()
	}
}

// Read implements io.Reader.
func (f *shardFeed) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, errFeedClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.cur == nil {
		ok, err := f.take()
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, io.EOF
		}
	}
	n := copy(p, f.cur.bb.regions[f.idx][f.off:])
	f.advance(n)
	return n, nil
}

// Regions marks the feed as an rpc.RegionSource: a remote drive's shard
// stream goes out region by region without a copy.
func (f *shardFeed) Regions() {}

var _ rpc.RegionSource = (*shardFeed)(nil)

// WriteTo implements io.WriterTo, so io.Copy hands whole regions to w.
func (f *shardFeed) WriteTo(w io.Writer) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var total int64
	for {
		if f.closed {
			return total, errFeedClosed
		}
		if f.cur == nil {
			ok, err := f.take()
			if err != nil || !ok {
				return total, err
			}
		}
		n, err := w.Write(f.cur.bb.regions[f.idx][f.off:])
		total += int64(n)
		f.advance(n)
		if err != nil {
			return total, err
		}
	}
}

// finish releases the current block and every block still queued; called
// once WriteShard has returned, it returns after the coordinator closed ch.
func (f *shardFeed) finish() {
	f.mu.Lock()
	f.closed = true
	if f.cur != nil {
		f.releaseCur()
	}
	f.mu.Unlock()
	for blk := range f.ch {
		blk.release()
		f.released.Add(1)
	}
}

// waitBlock waits until every drive released pb. Drives that still hold
// it once need healthy drives released it get the stream grace
// (streamGrace of the time the quorum took), and all of them
// StallTimeout at most; then evict is called with a predicate telling which
// feeds still hold the block: it cancels their WriteShard (for a remote
// drive this closes the connection, which unblocks it), they release the
// block as they fail, and the write goes on with the others if they are
// still a quorum. A drive that falls a block behind a write quorum thus
// costs a PUT the grace, not StallTimeout.
func (s *Store) waitBlock(pb *putBlock, feeds []*shardFeed, need int, evict func(stalled func(*shardFeed) bool)) {
	if pb.done == nil {
		return
	}
	select {
	case <-pb.done:
		return
	default:
	}
	stall := time.NewTimer(s.cfg.StallTimeout)
	defer stall.Stop()
	var grace <-chan time.Time
wait:
	for {
		select {
		case <-pb.done:
			return
		case <-stall.C:
			break wait
		case <-grace:
			break wait
		case <-pb.progress:
			if grace == nil && pb.keptUp(feeds) >= need {
				t := time.NewTimer(s.streamGrace(time.Since(pb.armed)))
				defer t.Stop()
				grace = t.C
			}
		}
	}
	evict(func(f *shardFeed) bool { return f.released.Load() <= pb.seq })
	<-pb.done
}

// shardResult is the outcome of one drive's WriteShard.
type shardResult struct {
	n    int64
	err  error
	lock *lockAnswer // the early lock's answer (shardLockWriter); nil: none
}

// writeStream streams a body to one temporary shard file per drive: one
// WriteShard per drive, fed block by block from putInFlight rotating block
// buffers. It returns once every drive has fsync'd its file or failed, with
// the drives that hold it; fewer than a write quorum is a *QuorumError
// (and nothing is left behind). With early, each drive that can
// (shardLockWriter) takes the key's lock at the end of its write; the
// answers go to dw.early, and on failure the leases are released.
func (s *Store) writeStream(ctx context.Context, rt route, cd *codec, lay layout, body *bodyReader, early *earlyLock) (*dataWrite, error) {
	n := rt.k + rt.m
	need := writeQuorum(rt.k, rt.m)
	dataDir := newDataDir()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feeds := make([]*shardFeed, n)
	stops := make([]context.CancelFunc, n) // per drive: the stall watchdog's lever
	results := make([]shardResult, n)
	var failed atomic.Int32
	var writers sync.WaitGroup
	finished := make(chan bool, n) // per writer, once: whether it stored its shard
	for i, d := range rt.drives {
		f := &shardFeed{idx: i, ch: make(chan *putBlock, putInFlight)}
		feeds[i] = f
		dctx, stop := context.WithCancel(wctx)
		stops[i] = stop
		writers.Add(1)
		go func() {
			defer writers.Done()
			defer stop()
			var nw int64
			var la *lockAnswer
			var err error
			if lw, ok := d.store.(shardLockWriter); ok && early != nil {
				nw, la, err = lw.WriteShardLock(dctx, dataDir, f, early.bucket, early.key, early.owner, s.cfg.LockTTL)
			} else {
				nw, err = d.store.WriteShard(dctx, dataDir, f)
			}
			results[i] = shardResult{n: nw, err: err, lock: la}
			if err != nil {
				failed.Add(1)
				f.failed.Store(true)
			}
			f.finish()
			finished <- err == nil
		}()
	}
	var bufs [putInFlight]*putBlock
	for i := range bufs {
		bufs[i] = &putBlock{bb: cd.newBlockBuf()}
	}
	releaseBufs := func() {
		for _, pb := range bufs {
			cd.release(pb.bb)
		}
	}

	// fail stops every writer with cause, waits for them, and removes the
	// temporary shards. Nothing was committed.
	fail := func(cause error) (*dataWrite, error) {
		for _, f := range feeds {
			f.abort = cause
			close(f.ch)
		}
		cancel()
		writers.Wait()
		releaseBufs()
		s.abortShards(ctx, rt, dataDir, nil)
		earlyAnswers(early, results).release(s, rt)
		return nil, cause
	}

	wait := func(pb *putBlock) {
		s.waitBlock(pb, feeds, need, func(stalled func(*shardFeed) bool) {
			for i, f := range feeds {
				if stalled(f) {
					s.log.Warn("drive stalled, dropped from write", "drive", rt.drives[i].id, "shard", i, "block", pb.seq)
					stops[i]()
				}
			}
		})
	}
	known := lay.size >= 0
	for b := int64(0); !known || b < lay.blocks(); b++ {
		pb := bufs[b%putInFlight]
		wait(pb)
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if alive := n - int(failed.Load()); alive < need {
			return fail(&QuorumError{Op: "put", Have: alive, Need: need})
		}
		blen, err := body.nextBlock(cd, pb.bb, lay, b)
		if err != nil {
			return fail(err)
		}
		if blen == 0 && !known {
			break
		}
		pb.arm(b, n)
		for _, f := range feeds {
			f.ch <- pb
		}
		if !known && blen < lay.blockSize {
			break
		}
	}
	if !known {
		lay.size = body.got
	}
	for _, pb := range bufs {
		wait(pb)
	}
	for _, f := range feeds {
		close(f.ch) // EOF: each drive fsyncs and closes its temporary shard
	}
	// Drives that have not stored their shard once a quorum has are given
	// the stream grace (streamGrace), then cancelled.
	s.awaitQuorum(finished, n, need, func() {
		for _, stop := range stops {
			stop() // a writer already done is not affected
		}
	})
	writers.Wait()
	releaseBufs()

	want := lay.shardFileSize()
	dw := &dataWrite{lay: lay, dataDir: dataDir, stored: make([]bool, n)}
	body.digests(dw)
	nstored := 0
	for i, res := range results {
		err := res.err
		if err == nil && res.n != want {
			err = fmt.Errorf("dataplane: drive %s stored %d of %d shard bytes", rt.drives[i].id, res.n, want)
		}
		if err != nil {
			s.log.Warn("shard write failed", "drive", rt.drives[i].id, "shard", i, "err", err)
			continue
		}
		dw.stored[i] = true
		nstored++
	}
	dw.early = earlyAnswers(early, results)
	if nstored < need {
		s.abortShards(ctx, rt, dataDir, nil)
		dw.early.release(s, rt)
		return nil, &QuorumError{Op: "put", Have: nstored, Need: need}
	}
	return dw, nil
}

// earlyAnswers records the drives' answers to early (nil: none asked) and
// returns it.
func earlyAnswers(early *earlyLock, results []shardResult) *earlyLock {
	if early == nil {
		return nil
	}
	early.answers = make([]*lockAnswer, len(results))
	for i, r := range results {
		early.answers[i] = r.lock
	}
	return early
}

// commitAll commits fi (with Shard set per drive, and that drive's inline
// bytes when inline != nil) on every PG drive selected by which (nil: all)
// in parallel, releasing lk's lease on each drive in the same call (see
// fanOut for drives that do not answer). It returns which drives
// committed, which failed (a drive in neither is still committing) and how
// many committed. A null version also removes the null version it
// replaces from the position's alts (see route); the position counts only
// if that worked too.
func (s *Store) commitAll(ctx context.Context, rt route, lk *keyLock, fi drive.FileInfo, which []bool, inline [][]byte) (committed, failed []bool, n int) {
	committed, failed = s.fanOut(ctx, rt, which, func(ctx context.Context, i int, d shardStore) error {
		rec := fi
		rec.Shard = i
		if inline != nil {
			rec.Inline = inline[i]
		}
		if err := lk.commit(ctx, i, d, rec); err != nil {
			s.log.Warn("commit failed", "bucket", fi.Bucket, "key", fi.Key, "drive", rt.drives[i].id, "shard", i, "err", err)
			return err
		}
		if fi.Null {
			// The null version this one replaces must not stay on the
			// position's old drive (a moving PG).
			for _, alt := range rt.altsAt(i) {
				err := alt.store.DeleteVersion(ctx, fi.Bucket, fi.Key, drive.Ref{Null: true})
				if err != nil && !errors.Is(err, drive.ErrNotFound) {
					s.log.Warn("commit: removing the replaced null version from the old drive failed", "bucket", fi.Bucket, "key", fi.Key, "drive", alt.id, "shard", i, "err", err)
					return err
				}
			}
		}
		return nil
	})
	return committed, failed, count(committed)
}

// abortShards removes the temporary shard dataDir from the PG drives
// selected by which (nil: all), best effort: a drive that cannot be reached
// now drops its temporary files on its own later. It waits for the drives
// up to WriteStragglerWait; slower ones finish in the background.
func (s *Store) abortShards(ctx context.Context, rt route, dataDir string, which []bool) {
	ctx, cancel := s.metaCtx(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for i, d := range rt.drives {
		if which != nil && !which[i] {
			continue
		}
		wg.Go(func() {
			if err := d.store.AbortShard(ctx, dataDir); err != nil && !errors.Is(err, drive.ErrNotFound) {
				s.log.Debug("abort shard failed", "drive", d.id, "data_dir", dataDir, "err", err)
			}
		})
	}
	all := make(chan struct{})
	go func() {
		wg.Wait()
		cancel()
		close(all)
	}()
	t := time.NewTimer(s.cfg.WriteStragglerWait)
	defer t.Stop()
	select {
	case <-all:
	case <-t.C:
	}
}
