package dataplane

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync/atomic"
	"time"
)

// Shard read failures. A bad shard (checksum mismatch, short or missing
// data) is never used again by the reader that saw it.
var (
	errChecksum    = errors.New("dataplane: shard block checksum mismatch")
	errShardShort  = errors.New("dataplane: shard shorter than its layout")
	errReaderClose = errors.New("dataplane: reader closed")
)

// shardState is how a reader is using one shard index.
type shardState uint8

const (
	shardIdle    shardState = iota // not read yet
	shardActive                    // streaming; rc is open at block next
	shardBad                       // missing or corrupt: skipped from now on
	shardUnreach                   // its drive could not be asked: skipped from now on
)

// shardStream is a reader's state for one shard index.
type shardStream struct {
	state  shardState
	rc     io.ReadCloser
	ctx    context.Context // the stream's own ctx: cancelling it unblocks a stalled read
	cancel context.CancelFunc
	next   int64 // block rc delivers next
	err    error // result of the last readBlock

	busy    atomic.Bool // a readBlock is running
	stalled atomic.Bool // the watchdog cancelled it
}

// objReader streams a byte range of one erasure-coded stream of an object
// (the object, or one part of a multipart object). It keeps one block of
// K+M shards in memory and one open stream per shard it uses, each opened
// once for the whole range: data shards first, a parity shard only from
// the block where a data shard failed.
type objReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	o      *Object
	p      *objPart
	cd     *codec
	bb     *blockBuf

	streams   []shardStream
	good      []bool // per shard: verified for the current block
	first     int64  // first block of the range
	last      int64  // last block of the range
	next      int64  // next block to decode
	skip      int64  // offset of the range inside block first
	remaining int64  // bytes still to return
	lo, hi    int    // bytes [lo, hi) of the current block still to return
	err       error  // sticky
}

// newPartReader reads length bytes (> 0, within the part) from offset of
// part p.
func (o *Object) newPartReader(ctx context.Context, p *objPart, offset, length int64) (*objReader, error) {
	cd, err := o.s.codecs.get(p.lay.k, p.lay.m, p.lay.blockSize)
	if err != nil {
		return nil, err
	}
	n := p.lay.k + p.lay.m
	bs := p.lay.blockSize
	rctx, cancel := context.WithCancel(ctx)
	r := &objReader{
		ctx:       rctx,
		cancel:    cancel,
		o:         o,
		p:         p,
		cd:        cd,
		bb:        cd.newBlockBuf(),
		streams:   make([]shardStream, n),
		good:      make([]bool, n),
		first:     offset / bs,
		last:      (offset + length - 1) / bs,
		skip:      offset % bs,
		remaining: length,
	}
	r.next = r.first
	return r, nil
}

// Read implements io.Reader.
func (r *objReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := 0
	for n < len(p) {
		if r.lo == r.hi {
			if r.remaining == 0 {
				if n > 0 {
					return n, nil
				}
				return 0, io.EOF
			}
			if err := r.loadNext(); err != nil {
				r.err = err
				return n, err
			}
		}
		ss := r.bb.ss
		i, off := r.lo/ss, r.lo%ss
		end := min(ss, off+(r.hi-r.lo))
		c := copy(p[n:], r.bb.regions[i][crcLen+off:crcLen+end])
		n += c
		r.lo += c
		r.remaining -= int64(c)
	}
	return n, nil
}

// Close releases the streams and the block buffer.
func (r *objReader) Close() error {
	if r.bb == nil {
		return nil
	}
	// Streams first: a stream read to its end goes back to the pool on
	// Close, while cancelling its context first would close its connection.
	for i := range r.streams {
		if rc := r.streams[i].rc; rc != nil {
			_ = rc.Close()
			r.streams[i].rc = nil
		}
	}
	r.cancel()
	r.cd.release(r.bb)
	r.bb = nil
	if r.err == nil {
		r.err = errReaderClose
	}
	return nil
}

// loadNext decodes block r.next and positions [lo, hi) on the requested
// bytes in it.
func (r *objReader) loadNext() error {
	if r.bb == nil {
		return errReaderClose
	}
	b := r.next
	if err := r.loadBlock(b); err != nil {
		return err
	}
	bl := r.p.lay.blockLen(b)
	lo := int64(0)
	if b == r.first {
		lo = r.skip
	}
	r.lo = int(lo)
	r.hi = int(lo + min(bl-lo, r.remaining))
	r.next++
	return nil
}

// loadBlock fills the buffer with K verified shards of block b and, when a
// data shard is among the missing, reconstructs the data shards.
func (r *objReader) loadBlock(b int64) error {
	k := r.p.lay.k
	ss := int(r.p.lay.shardBlockLen(b))
	r.bb.setShardLen(ss)
	clear(r.good)
	ngood := 0
	cands := make([]int, 0, len(r.streams))
	for ngood < k {
		cands = r.candidates(cands[:0], k-ngood)
		if len(cands) == 0 {
			break
		}
		r.readAll(cands, b)
		if err := r.ctx.Err(); err != nil {
			return err
		}
		for _, i := range cands {
			st := &r.streams[i]
			if st.err == nil {
				r.good[i] = true
				ngood++
				continue
			}
			r.drop(i, b, st.err)
		}
	}
	if ngood < k {
		return r.shortErr(b, ngood)
	}
	for i := range k {
		if !r.good[i] {
			return r.reconstruct(ss)
		}
	}
	return nil
}

// readAll reads block b of the shards cands in parallel. A read still
// running once the others are done gets the straggler grace (see
// Store.stragglerGrace), and any read StallTimeout at most; then its stream
// is cancelled and fails as unavailable, so a silent drive (a paused node)
// costs a switch to parity after the grace, not a hung request.
func (r *objReader) readAll(cands []int, b int64) {
	done := make(chan struct{}, len(cands))
	start := time.Now()
	for _, i := range cands {
		st := &r.streams[i]
		if st.ctx == nil {
			st.ctx, st.cancel = context.WithCancel(r.ctx)
		}
		st.busy.Store(true)
		go func() {
			err := r.readBlock(i, b)
			if err != nil && st.stalled.Load() {
				err = fmt.Errorf("%w: no shard data after the straggler grace", errUnreachable)
			}
			st.err = err
			st.busy.Store(false)
			done <- struct{}{}
		}()
	}
	stall := time.NewTimer(r.o.s.cfg.StallTimeout)
	defer stall.Stop()
	var grace <-chan time.Time
	got := 0
wait:
	for got < len(cands) {
		select {
		case <-done:
			got++
			if grace == nil && got < len(cands) {
				t := time.NewTimer(r.o.s.stragglerGrace(time.Since(start)))
				defer t.Stop()
				grace = t.C
			}
			continue
		case <-grace:
		case <-stall.C:
		}
		break wait
	}
	if got == len(cands) {
		return
	}
	for _, i := range cands {
		if st := &r.streams[i]; st.busy.Load() {
			st.stalled.Store(true)
			st.cancel()
		}
	}
	for ; got < len(cands); got++ {
		<-done
	}
}

// candidates appends up to want shard indexes to read next: streams already
// open first (they are positioned), then unused shards with a source, data
// shards before parity.
func (r *objReader) candidates(dst []int, want int) []int {
	for _, st := range []shardState{shardActive, shardIdle} {
		for i := range r.streams {
			if len(dst) == want {
				return dst
			}
			if r.streams[i].state == st && !r.good[i] && r.p.srcs[i] != nil {
				dst = append(dst, i)
			}
		}
	}
	return dst
}

// readBlock reads shard i of block b into its region and verifies its CRC.
func (r *objReader) readBlock(i int, b int64) error {
	st := &r.streams[i]
	lay := r.p.lay
	if st.rc == nil {
		off := lay.shardOffset(b)
		rc, err := r.open(st.ctx, r.p.srcs[i], off, lay.shardEnd(r.last)-off)
		if err != nil {
			return err
		}
		st.rc, st.next, st.state = rc, b, shardActive
	}
	if st.next < b {
		skip := lay.shardOffset(b) - lay.shardOffset(st.next)
		if _, err := io.CopyN(io.Discard, st.rc, skip); err != nil {
			return shortRead(err)
		}
		st.next = b
	}
	region := r.bb.regions[i]
	if _, err := io.ReadFull(st.rc, region); err != nil {
		return shortRead(err)
	}
	st.next = b + 1
	if binary.BigEndian.Uint32(region) != crc32.Checksum(region[crcLen:], castagnoli) {
		return errChecksum
	}
	return nil
}

// shortRead turns the end of a stream into errShardShort.
func shortRead(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errShardShort
	}
	return err
}

// open opens the shard bytes [off, off+length) of src: a range of its
// inline bytes, or a stream of its shard file.
func (r *objReader) open(ctx context.Context, src *shardSource, off, length int64) (io.ReadCloser, error) {
	if r.p.dataDir == "" {
		data := src.inline
		if off+length > int64(len(data)) {
			return nil, errShardShort
		}
		return io.NopCloser(bytes.NewReader(data[off : off+length])), nil
	}
	return src.store.OpenShard(ctx, r.p.dataDir, off, length)
}

// drop stops using shard i after it failed at block b.
func (r *objReader) drop(i int, b int64, err error) {
	st := &r.streams[i]
	if st.rc != nil {
		_ = st.rc.Close()
		st.rc = nil
	}
	if st.cancel != nil {
		st.cancel()
	}
	st.state = shardBad
	if unavailable(err) {
		st.state = shardUnreach
	}
	if st.state == shardUnreach || r.ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		r.o.s.log.Debug("shard unavailable", "bucket", r.o.Info.Bucket, "key", r.o.Info.Key,
			"drive", r.p.srcs[i].driveID, "shard", i, "block", b, "err", err)
		return
	}
	// A bad shard (checksum, short or missing data) of a drive that
	// answered: the read goes on from parity and the version is queued for
	// repair (only by this node, which coordinates the read).
	r.o.s.log.Warn("shard unreadable", "bucket", r.o.Info.Bucket, "key", r.o.Info.Key,
		"drive", r.p.srcs[i].driveID, "shard", i, "block", b, "err", err)
	if !r.o.noRepair {
		r.o.s.enqueueRepair(r.o.Info.Bucket, r.o.Info.Key, r.o.ref, r.p.srcs[i].driveID)
	}
}

// shortErr is the error of a block with only ngood verified shards: a
// *QuorumError when drives that could not be asked might still make up K
// (retrying may work), ErrCorrupt otherwise.
func (r *objReader) shortErr(b int64, ngood int) error {
	k := r.p.lay.k
	unreach := r.o.missing
	for i := range r.streams {
		if r.streams[i].state == shardUnreach {
			unreach++
		}
	}
	if ngood+unreach >= k {
		return &QuorumError{Op: "read", Have: ngood, Need: k}
	}
	return fmt.Errorf("%w: %s/%s block %d: %d of %d shards good", ErrCorrupt, r.o.Info.Bucket, r.o.Info.Key, b, ngood, k)
}

// reconstruct rebuilds the missing data shards of the current block from
// the K verified ones, in place.
func (r *objReader) reconstruct(ss int) error {
	shards := r.bb.shards
	for i := range shards {
		if !r.good[i] {
			shards[i] = shards[i][:0] // zero length, capacity ss: filled in place
		}
	}
	if err := r.cd.enc.ReconstructData(shards); err != nil {
		return fmt.Errorf("%w: reconstruct: %w", ErrCorrupt, err)
	}
	for i := range r.p.lay.k {
		if !r.good[i] {
			// reedsolomon fills the given capacity; copy only if it did not.
			if dst := r.bb.regions[i][crcLen:]; len(shards[i]) == ss && &shards[i][0] != &dst[0] {
				copy(dst, shards[i])
			}
		}
	}
	r.bb.setShardLen(ss)
	return nil
}
