package dataplane

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/strata-io/strata/dataplane/drive"
)

// newVersionID returns a fresh version id (a random uuid).
func newVersionID() string { return uuid.NewString() }

// newDataDir returns a fresh shard file id: a random uuid without dashes.
func newDataDir() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// PutObject reads exactly size bytes from r, erasure-codes them across the
// object's PG and returns once the data and the record are durable on a write
// quorum. An error from r is returned wrapped (%w).
//
// Objects up to the cluster's InlineMax are encoded in memory and stored in
// the drives' records; larger ones are streamed block by block to one shard
// file per drive, with a few blocks of memory whatever the size. Nothing
// is committed unless the whole body was read, its MD5 matched
// opts.ContentMD5 (when given) and a write quorum holds the fsync'd shards.
// A QuorumError at commit time may still leave the version readable when K
// but fewer than a quorum of drives committed it: the outcome is then
// undetermined, as with any request that fails after reaching the server.
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	if size < 0 {
		return ObjectInfo{}, ErrInvalidSize
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	cd, err := s.codecs.get(rt.k, rt.m, rt.blockSize)
	if err != nil {
		return ObjectInfo{}, err
	}
	lay := layout{size: size, blockSize: rt.blockSize, k: rt.k, m: rt.m}
	fi := drive.FileInfo{
		Bucket:    bucket,
		Key:       key,
		Size:      size,
		Meta:      opts.Meta,
		K:         rt.k,
		M:         rt.m,
		BlockSize: rt.blockSize,
	}
	body := &bodyReader{r: r, h: newMD5(), size: size}
	// The probe runs while the body is read and encoded.
	probe := s.startProbe(ctx, rt, bucket, key)
	if size == 0 || size <= rt.inlineMax {
		return s.putInline(ctx, rt, cd, lay, fi, body, opts.ContentMD5, probe)
	}
	return s.putStream(ctx, rt, cd, lay, fi, body, opts.ContentMD5, probe)
}

// bodyReader reads the request body block by block, hashing it on the way.
type bodyReader struct {
	r    io.Reader
	h    hash.Hash
	got  int64
	size int64
}

// fill reads exactly len(p) bytes.
func (b *bodyReader) fill(p []byte) error {
	n, err := io.ReadFull(b.r, p)
	b.h.Write(p[:n])
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

// etag returns the hex MD5 of the body, or ErrBadDigest when it differs
// from want (if given).
func (b *bodyReader) etag(want []byte) (string, error) {
	sum := b.h.Sum(nil)
	if len(want) > 0 && !bytes.Equal(sum, want) {
		return "", ErrBadDigest
	}
	return hex.EncodeToString(sum), nil
}

// putInline encodes a small object in memory and commits every drive's shard
// bytes inside its record.
//
// The drives are committed only if the probe found a write quorum reachable,
// and only those: there is no shard write before the commit to find the
// drives that are down.
func (s *Store) putInline(ctx context.Context, rt route, cd *codec, lay layout, fi drive.FileInfo, body *bodyReader, md5want []byte, probe func() probeResult) (ObjectInfo, error) {
	n := rt.k + rt.m
	var inline [][]byte
	if nb := lay.blocks(); nb > 0 {
		bb := cd.newBlockBuf()
		defer cd.release(bb)
		inline = make([][]byte, n)
		for i := range inline {
			inline[i] = make([]byte, 0, lay.shardFileSize())
		}
		for b := range nb {
			if err := ctx.Err(); err != nil {
				return ObjectInfo{}, err
			}
			if err := body.fillBlock(cd, bb, lay.blockLen(b)); err != nil {
				return ObjectInfo{}, err
			}
			for i := range n {
				region := bb.regions[i]
				binary.BigEndian.PutUint32(region, crc32.Checksum(region[crcLen:], castagnoli))
				inline[i] = append(inline[i], region...)
			}
		}
	}
	etag, err := body.etag(md5want)
	if err != nil {
		return ObjectInfo{}, err
	}
	pr := probe()
	need := writeQuorum(rt.k, rt.m)
	if pr.n < need {
		return ObjectInfo{}, &QuorumError{Op: "put", Have: pr.n, Need: need}
	}
	fi.ETag = etag
	fi.VersionID = newVersionID()
	fi.ModTime = pr.modTime()
	// The commit runs to its end even if the client goes away, so that a
	// version is not left on fewer drives than it could have reached.
	_, ok := s.commitAll(context.WithoutCancel(ctx), rt, fi, pr.reachable, inline)
	if ok < need {
		return ObjectInfo{}, &QuorumError{Op: "put", Have: ok, Need: need}
	}
	return infoOf(fi), nil
}

// putInFlight is the number of blocks a streamed PUT has in flight: read and
// encoded ahead while the drives still write earlier ones. It bounds the
// memory of a PUT to putInFlight * (K+M)/K * BlockSize.
const putInFlight = 2

// putBlock is one block buffer in flight to the drives: a latch counts the
// drives that have not released it; the coordinator reuses it only after
// done is closed.
type putBlock struct {
	bb      *blockBuf
	seq     int64         // index of the block it holds
	pending atomic.Int32  // drives still holding it
	done    chan struct{} // closed when pending reaches 0; nil before first use
}

// arm prepares pb for block seq, to be released by n drives.
func (pb *putBlock) arm(seq int64, n int) {
	pb.seq = seq
	pb.pending.Store(int32(n))
	pb.done = make(chan struct{})
}

// release records that one drive is done with the block.
func (pb *putBlock) release() {
	if pb.pending.Add(-1) == 0 {
		close(pb.done)
	}
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

// waitBlock waits until every drive released pb. If that takes longer than
// StallTimeout, evict is called with a predicate telling which feeds still
// hold the block; it cancels their WriteShard (for a remote drive this closes
// the connection, which unblocks it), they release the block as they fail,
// and the write goes on with the others if they are still a quorum.
func (s *Store) waitBlock(pb *putBlock, evict func(stalled func(*shardFeed) bool)) {
	if pb.done == nil {
		return
	}
	t := time.NewTimer(s.cfg.StallTimeout)
	defer t.Stop()
	select {
	case <-pb.done:
		return
	case <-t.C:
	}
	evict(func(f *shardFeed) bool { return f.released.Load() <= pb.seq })
	<-pb.done
}

// shardResult is the outcome of one drive's WriteShard.
type shardResult struct {
	n   int64
	err error
}

// putStream streams a large object: one WriteShard per drive, fed block by
// block from putInFlight rotating block buffers, then a commit on the drives that
// stored their shard.
func (s *Store) putStream(ctx context.Context, rt route, cd *codec, lay layout, fi drive.FileInfo, body *bodyReader, md5want []byte, probe func() probeResult) (ObjectInfo, error) {
	n := rt.k + rt.m
	need := writeQuorum(rt.k, rt.m)
	fi.DataDir = newDataDir()
	want := lay.shardFileSize()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feeds := make([]*shardFeed, n)
	stops := make([]context.CancelFunc, n) // per drive: the stall watchdog's lever
	results := make([]shardResult, n)
	var failed atomic.Int32
	var writers sync.WaitGroup
	for i, d := range rt.drives {
		f := &shardFeed{idx: i, ch: make(chan *putBlock, putInFlight)}
		feeds[i] = f
		dctx, stop := context.WithCancel(wctx)
		stops[i] = stop
		writers.Add(1)
		go func() {
			defer writers.Done()
			defer stop()
			nw, err := d.store.WriteShard(dctx, fi.DataDir, f)
			if err == nil && nw != want {
				err = fmt.Errorf("dataplane: drive %s stored %d of %d shard bytes", d.id, nw, want)
			}
			results[i] = shardResult{n: nw, err: err}
			if err != nil {
				failed.Add(1)
			}
			f.finish()
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
	fail := func(cause error) (ObjectInfo, error) {
		for _, f := range feeds {
			f.abort = cause
			close(f.ch)
		}
		cancel()
		writers.Wait()
		releaseBufs()
		s.abortShards(ctx, rt, fi.DataDir, nil)
		return ObjectInfo{}, cause
	}

	wait := func(pb *putBlock) {
		s.waitBlock(pb, func(stalled func(*shardFeed) bool) {
			for i, f := range feeds {
				if stalled(f) {
					s.log.Warn("drive stalled, dropped from write", "bucket", fi.Bucket, "key", fi.Key, "drive", rt.drives[i].id, "shard", i, "block", pb.seq)
					stops[i]()
				}
			}
		})
	}
	for b := range lay.blocks() {
		pb := bufs[b%putInFlight]
		wait(pb)
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if alive := n - int(failed.Load()); alive < need {
			return fail(&QuorumError{Op: "put", Have: alive, Need: need})
		}
		if err := body.fillBlock(cd, pb.bb, lay.blockLen(b)); err != nil {
			return fail(err)
		}
		pb.arm(b, n)
		for _, f := range feeds {
			f.ch <- pb
		}
	}
	for _, pb := range bufs {
		wait(pb)
	}
	etag, err := body.etag(md5want)
	if err != nil {
		return fail(err)
	}
	for _, f := range feeds {
		close(f.ch) // EOF: each drive fsyncs and closes its temporary shard
	}
	writers.Wait()
	releaseBufs()

	stored := make([]bool, n)
	nstored := 0
	for i, res := range results {
		if res.err != nil {
			s.log.Warn("shard write failed", "bucket", fi.Bucket, "key", fi.Key, "drive", rt.drives[i].id, "shard", i, "err", res.err)
			continue
		}
		stored[i] = true
		nstored++
	}
	if nstored < need {
		s.abortShards(ctx, rt, fi.DataDir, nil)
		return ObjectInfo{}, &QuorumError{Op: "put", Have: nstored, Need: need}
	}

	fi.ETag = etag
	fi.VersionID = newVersionID()
	fi.ModTime = probe().modTime()
	committed, ok := s.commitAll(context.WithoutCancel(ctx), rt, fi, stored, nil)
	// Temporary shards that were not committed (failed writers, failed
	// commits) are removed; committed ones now belong to the record.
	leftover := make([]bool, n)
	for i := range leftover {
		leftover[i] = !committed[i]
	}
	s.abortShards(ctx, rt, fi.DataDir, leftover)
	if ok < need {
		return ObjectInfo{}, &QuorumError{Op: "put", Have: ok, Need: need}
	}
	return infoOf(fi), nil
}

// commitAll commits fi (with Shard set per drive, and that drive's inline
// bytes when inline != nil) on every PG drive selected by which (nil: all),
// in parallel. It returns which drives committed and how many.
func (s *Store) commitAll(ctx context.Context, rt route, fi drive.FileInfo, which []bool, inline [][]byte) ([]bool, int) {
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	committed := make([]bool, len(rt.drives))
	var wg sync.WaitGroup
	for i, d := range rt.drives {
		if which != nil && !which[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := fi
			rec.Shard = i
			if inline != nil {
				rec.Inline = inline[i]
			}
			if err := d.store.CommitVersion(ctx, rec); err != nil {
				s.log.Warn("commit failed", "bucket", fi.Bucket, "key", fi.Key, "drive", d.id, "shard", i, "err", err)
				return
			}
			committed[i] = true
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range committed {
		if c {
			n++
		}
	}
	return committed, n
}

// abortShards removes the temporary shard dataDir from the PG drives
// selected by which (nil: all), best effort: a drive that cannot be reached
// now drops its temporary files on its own later.
func (s *Store) abortShards(ctx context.Context, rt route, dataDir string, which []bool) {
	ctx, cancel := s.metaCtx(context.WithoutCancel(ctx))
	defer cancel()
	var wg sync.WaitGroup
	for i, d := range rt.drives {
		if which != nil && !which[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.store.AbortShard(ctx, dataDir); err != nil && !errors.Is(err, drive.ErrNotFound) {
				s.log.Debug("abort shard failed", "drive", d.id, "data_dir", dataDir, "err", err)
			}
		}()
	}
	wg.Wait()
}

// newMD5 returns the hash that makes the ETag.
func newMD5() hash.Hash { return md5.New() }
