package dataplane

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
)

// Multipart uploads.
//
// An upload lives in the drives of its object's PG: each drive keeps the
// upload's record and, per part, the part's record and shard file (every
// part is erasure-coded on its own, like an object, never inline).
// CompleteMultipartUpload commits a version whose record lists the parts
// and their shard files: the data is never copied. An upload, like a
// delete marker, exists when more than N-W drives hold it; a part when K
// drives hold the same upload of it (the newest such).

// uploadInfoOf converts a drive's upload record.
func uploadInfoOf(u drive.Upload) UploadInfo {
	info := UploadInfo{
		Bucket:            u.Bucket,
		Key:               u.Key,
		UploadID:          u.UploadID,
		Initiated:         time.Unix(0, u.Initiated),
		Meta:              u.Meta,
		ChecksumAlgorithm: u.ChecksumAlgo,
		ChecksumType:      u.ChecksumType,
		ChecksumDefaulted: u.ChecksumDefaulted,
	}
	info.Tags, info.ACL = splitACL(u.Tags)
	return info
}

// CreateMultipartUpload records a new upload of bucket/key on a write
// quorum of the PG's drives. The checksum algorithm and type follow S3's
// rules (resolveChecksumType); an invalid pair is ErrInvalidChecksum.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, opts UploadOptions) (UploadInfo, error) {
	algo, typ, err := resolveChecksumType(opts.ChecksumAlgorithm, opts.ChecksumType)
	if err != nil {
		return UploadInfo{}, err
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return UploadInfo{}, err
	}
	now := time.Now().UnixNano()
	u := drive.Upload{
		Bucket:       bucket,
		Key:          key,
		UploadID:     newUploadID(now),
		Initiated:    now,
		Meta:         opts.Meta,
		Tags:         withACL(opts.Tags, opts.ACL),
		ChecksumAlgo: algo,
		ChecksumType: typ,
		// The default is only a default: see UploadInfo.
		ChecksumDefaulted: opts.ChecksumAlgorithm == "",
		K:                 rt.k,
		M:                 rt.m,
		BlockSize:         rt.blockSize,
	}
	if len(u.Tags) == 0 {
		u.Tags = nil
	}
	created, _ := s.fanOut(ctx, rt, nil, func(ctx context.Context, i int, d shardStore) error {
		ud := u
		ud.Shard = i
		return d.CreateUpload(ctx, ud)
	})
	need := writeQuorum(rt.k, rt.m)
	if n := count(created); n < need {
		s.fanOut(ctx, rt, created, func(ctx context.Context, _ int, d shardStore) error {
			return d.AbortUpload(ctx, bucket, key, u.UploadID)
		})
		return UploadInfo{}, &QuorumError{Op: "create_upload", Have: n, Need: need}
	}
	return uploadInfoOf(u), nil
}

func count(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

// uploadAnswer is one drive's answer about an upload.
type uploadAnswer struct {
	u     drive.Upload
	parts []drive.Part
	more  bool
	ok    bool // the drive answered
	found bool // it holds the upload
}

// uploadState is what the PG's drives said about one upload.
type uploadState struct {
	rt      route
	answers []uploadAnswer
	holders int
	unans   int
	upload  drive.Upload
}

// readUpload asks every PG drive for the upload and its parts numbered
// above after (at most limit; <= 0: all); answers are by shard position.
func (s *Store) readUpload(ctx context.Context, rt route, uploadID string, after, limit int) *uploadState {
	rctx, cancel := s.metaCtx(ctx)
	defer cancel()
	st := &uploadState{rt: rt, answers: make([]uploadAnswer, len(rt.drives))}
	// Drives still silent once a write quorum answered get the straggler
	// grace, then count as unanswered.
	found := func(_ uploadAnswer, err error) bool { return err == nil || errors.Is(err, drive.ErrNotFound) }
	res := runQuorum(s, ctx, len(rt.drives), nil, writeQuorum(rt.k, rt.m), found,
		func(ctx context.Context, i int) (uploadAnswer, error) {
			u, parts, more, err := rt.drives[i].store.ReadUpload(ctx, rt.bucket, rt.key, uploadID, after, limit)
			return uploadAnswer{u: u, parts: parts, more: more, ok: true, found: true}, err
		}, nil)
	for i, r := range res {
		switch {
		case !r.done:
		case r.err == nil:
			st.answers[i] = r.v
		case errors.Is(r.err, drive.ErrNotFound):
			st.answers[i] = uploadAnswer{ok: true}
		default:
			s.log.Debug("read upload failed", "bucket", rt.bucket, "key", rt.key, "drive", rt.drives[i].id, "err", r.err)
		}
	}
	// A moving PG: a position whose new drive has not got the upload yet
	// answers with its old drive's copy (the rebalance copies it soon).
	for _, alt := range rt.alts {
		if a := st.answers[alt.pos]; a.found {
			continue
		}
		u, parts, more, err := alt.store.ReadUpload(rctx, rt.bucket, rt.key, uploadID, after, limit)
		if err == nil {
			st.answers[alt.pos] = uploadAnswer{u: u, parts: parts, more: more, ok: true, found: true}
		}
	}
	for _, a := range st.answers {
		switch {
		case a.found:
			st.holders++
			st.upload = a.u
		case !a.ok:
			st.unans++
		}
	}
	return st
}

// check returns ErrNoSuchUpload when the upload does not exist, a
// *QuorumError when the drives that answered cannot tell.
func (st *uploadState) check() error {
	t := markerQuorum(st.rt.k, st.rt.m)
	switch {
	case st.holders >= t:
		return nil
	case st.holders+st.unans >= t:
		return &QuorumError{Op: "read_upload", Have: st.holders, Need: t}
	}
	return ErrNoSuchUpload
}

// partChoice is one part as the drives hold it: the drives holding the
// same upload of it.
type partChoice struct {
	p       drive.Part
	holders []int
}

// parts merges the drives' parts: for each number, the newest upload of it
// held by at least want drives (K for a part to be readable), in number
// order. Numbers above bound are left out.
func (st *uploadState) parts(want, bound int) []partChoice {
	byNum := map[int][]*partChoice{}
	for i, a := range st.answers {
		for _, p := range a.parts {
			if p.Number > bound {
				continue
			}
			var c *partChoice
			for _, x := range byNum[p.Number] {
				if x.p.DataDir == p.DataDir {
					c = x
				}
			}
			if c == nil {
				c = &partChoice{p: p}
				byNum[p.Number] = append(byNum[p.Number], c)
			}
			c.holders = append(c.holders, i)
		}
	}
	var out []partChoice
	for _, cs := range byNum {
		slices.SortFunc(cs, func(a, b *partChoice) int {
			if c := cmp.Compare(b.p.ModTime, a.p.ModTime); c != 0 {
				return c
			}
			return cmp.Compare(b.p.DataDir, a.p.DataDir)
		})
		for _, c := range cs {
			if len(c.holders) >= want {
				out = append(out, *c)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b partChoice) int { return cmp.Compare(a.p.Number, b.p.Number) })
	return out
}

// bound is the highest part number every drive that has more parts has
// reported (parts above it may be missing from some answers).
func (st *uploadState) bound() (int, bool) {
	b, bounded := MaxParts, false
	for _, a := range st.answers {
		if a.more && len(a.parts) > 0 {
			bounded = true
			b = min(b, a.parts[len(a.parts)-1].Number)
		}
	}
	return b, bounded
}

// findUpload resolves an upload's record by quorum.
func (s *Store) findUpload(ctx context.Context, rt route, uploadID string) (drive.Upload, error) {
	if !ValidUploadID(uploadID) {
		return drive.Upload{}, ErrNoSuchUpload
	}
	st := s.readUpload(ctx, rt, uploadID, MaxParts, 1)
	if err := ctx.Err(); err != nil {
		return drive.Upload{}, err
	}
	if err := st.check(); err != nil {
		return drive.Upload{}, err
	}
	return st.upload, nil
}

// findUploadPart is findUpload that also reads what part number holds
// now (Freed when it is replaced), in the same round trip.
func (s *Store) findUploadPart(ctx context.Context, rt route, uploadID string, number int) (drive.Upload, Freed, error) {
	if !ValidUploadID(uploadID) {
		return drive.Upload{}, Freed{}, ErrNoSuchUpload
	}
	st := s.readUpload(ctx, rt, uploadID, number-1, 1)
	if err := ctx.Err(); err != nil {
		return drive.Upload{}, Freed{}, err
	}
	if err := st.check(); err != nil {
		return drive.Upload{}, Freed{}, err
	}
	var old Freed
	for _, c := range st.parts(st.upload.K, number) {
		if c.p.Number == number {
			old.Bytes = c.p.Size
		}
	}
	return st.upload, old, nil
}

// UploadPart erasure-codes one part (size bytes, or to EOF when size is -1;
// at most MaxPartSize) to its own shard files and records it on a write
// quorum of the drives before returning. Re-uploading a part number
// replaces the part (PartInfo.Freed: the part it replaced, as read when
// the upload started). The part's checksum is computed with the upload's
// algorithm and verified against opts.
func (s *Store) UploadPart(ctx context.Context, bucket, key, uploadID string, number int, r io.Reader, size int64, opts PartOptions) (PartInfo, error) {
	if number < 1 || number > MaxParts {
		return PartInfo{}, fmt.Errorf("%w: part number %d (want 1..%d)", ErrTooManyParts, number, MaxParts)
	}
	if size < -1 {
		return PartInfo{}, ErrInvalidSize
	}
	if size > MaxPartSize {
		return PartInfo{}, fmt.Errorf("%w: part of %d bytes, at most %d", ErrEntityTooLarge, size, int64(MaxPartSize))
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return PartInfo{}, err
	}
	u, replaced, err := s.findUploadPart(ctx, rt, uploadID, number)
	if err != nil {
		return PartInfo{}, err
	}
	if opts.ChecksumAlgorithm != "" {
		a, err := normAlgorithm(opts.ChecksumAlgorithm)
		if err != nil {
			return PartInfo{}, err
		}
		switch {
		case a != u.ChecksumAlgo && u.ChecksumDefaulted:
			opts.ChecksumAlgorithm, opts.ChecksumValue = "", ""
		case a != u.ChecksumAlgo:
			return PartInfo{}, fmt.Errorf("%w: part checksum %s, the upload's is %s", ErrInvalidChecksum, a, u.ChecksumAlgo)
		}
	}
	rt.k, rt.m, rt.blockSize = u.K, u.M, u.BlockSize
	cd, err := s.codecs.get(u.K, u.M, u.BlockSize)
	if err != nil {
		return PartInfo{}, err
	}
	dw, err := s.writeBody(ctx, rt, cd, r, size, u.ChecksumAlgo, false, nil)
	if err != nil {
		return PartInfo{}, err
	}
	if err := dw.verify(opts.ContentMD5, opts.ChecksumValue); err != nil {
		s.discard(ctx, rt, dw)
		return PartInfo{}, err
	}
	now := time.Now()
	p := drive.Part{Number: number, Size: dw.lay.size, ETag: dw.etag(), Checksum: dw.checksum(), DataDir: dw.dataDir, ModTime: now.UnixNano()}
	committed, failed := s.fanOut(ctx, rt, dw.stored, func(ctx context.Context, i int, d shardStore) error {
		ud := u
		ud.Shard = i
		return d.CommitPart(ctx, ud, p)
	})
	// Temporary shards of failed commits are removed; a drive still
	// committing in the background keeps its own.
	s.abortShards(ctx, rt, dw.dataDir, failed)
	if n, need := count(committed), writeQuorum(rt.k, rt.m); n < need {
		return PartInfo{}, &QuorumError{Op: "upload_part", Have: n, Need: need}
	}
	return PartInfo{Number: number, Size: p.Size, ETag: p.ETag, ModTime: now, Checksum: Checksum{Algorithm: u.ChecksumAlgo, Value: p.Checksum}, Freed: replaced}, nil
}

// partInfoOf converts a part record.
func partInfoOf(u drive.Upload, p drive.Part) PartInfo {
	return PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, ModTime: time.Unix(0, p.ModTime),
		Checksum: Checksum{Algorithm: u.ChecksumAlgo, Value: p.Checksum}}
}

// ListParts returns a page of an upload's parts numbered above
// opts.Marker, in number order. A part is listed when enough drives hold
// it to read it (counting the drives that did not answer).
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, opts ListPartsOptions) (ListPartsResult, error) {
	maxParts := opts.Max
	if maxParts <= 0 || maxParts > 1000 {
		maxParts = 1000
	}
	if !ValidUploadID(uploadID) {
		return ListPartsResult{}, ErrNoSuchUpload
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return ListPartsResult{}, err
	}
	var res ListPartsResult
	after := max(opts.Marker, 0)
	for round := 0; ; round++ {
		st := s.readUpload(ctx, rt, uploadID, after, maxParts+1)
		if err := ctx.Err(); err != nil {
			return ListPartsResult{}, err
		}
		if err := st.check(); err != nil {
			return ListPartsResult{}, err
		}
		if round == 0 {
			res.Upload = uploadInfoOf(st.upload)
		}
		bound, bounded := st.bound()
		want := max(st.upload.K-st.unans, 1)
		for _, c := range st.parts(want, bound) {
			if len(res.Parts) == maxParts {
				res.Truncated = true
				return res, nil
			}
			res.Parts = append(res.Parts, partInfoOf(st.upload, c.p))
			res.NextMarker = c.p.Number
		}
		if !bounded || bound <= after {
			return res, nil
		}
		after = bound
	}
}

// AbortMultipartUpload removes an upload and frees its parts' shards on
// every drive that answers; a write quorum of them must confirm. It
// returns the parts' bytes.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) (Freed, error) {
	rt, err := s.route(bucket, key)
	if err != nil {
		return Freed{}, err
	}
	if !ValidUploadID(uploadID) {
		return Freed{}, ErrNoSuchUpload
	}
	st := s.readUpload(ctx, rt, uploadID, 0, 0)
	if err := ctx.Err(); err != nil {
		return Freed{}, err
	}
	if err := st.check(); err != nil {
		return Freed{}, err
	}
	var freed Freed
	for _, c := range st.parts(st.upload.K, MaxParts) {
		freed.Bytes += c.p.Size
	}
	done, _ := s.fanOut(ctx, rt, nil, func(ctx context.Context, _ int, d shardStore) error {
		err := d.AbortUpload(ctx, bucket, key, uploadID)
		if errors.Is(err, drive.ErrNotFound) {
			return nil
		}
		return err
	})
	if n, need := count(done), writeQuorum(rt.k, rt.m); n < need {
		return Freed{}, &QuorumError{Op: "abort_upload", Have: n, Need: need}
	}
	return freed, nil
}

// multipartETag is S3's ETag of a multipart object: the MD5 of the
// concatenated binary MD5s of its parts, in hex, then "-N".
func multipartETag(etags []string) (string, error) {
	h := md5.New()
	for _, e := range etags {
		raw, err := hex.DecodeString(e)
		if err != nil {
			return "", fmt.Errorf("dataplane: part ETag %q is not hex", e)
		}
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(etags)), nil
}

// CompleteMultipartUpload makes the listed parts of an upload one object
// version, without copying data: the version's record references the
// parts' shard files, and the parts not listed are freed.
//
// It validates the list (ErrInvalidPartOrder, ErrInvalidPart for a part
// not uploaded or whose ETag or checksum differs, ErrEntityTooSmall for a
// part but the last under MinPartSize), composes the ETag and the checksum
// (COMPOSITE or FULL_OBJECT, as the upload was created; verified against
// opts.ChecksumValue), and commits under the key's write lock with the
// conditions and versioning of opts, like PutObject. Completing an upload
// again returns the object it made while that is the key's current
// version, else ErrNoSuchUpload. ObjectInfo.Freed is the parts left out
// and the null version replaced.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error) {
	if len(parts) == 0 {
		return ObjectInfo{}, fmt.Errorf("%w: no parts", ErrInvalidPart)
	}
	for i, p := range parts {
		if p.Number < 1 || p.Number > MaxParts {
			return ObjectInfo{}, fmt.Errorf("%w: part number %d", ErrInvalidPart, p.Number)
		}
		if i > 0 && p.Number <= parts[i-1].Number {
			return ObjectInfo{}, ErrInvalidPartOrder
		}
	}
	if !ValidUploadID(uploadID) {
		return ObjectInfo{}, ErrNoSuchUpload
	}
	rt, err := s.route(bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	cond := conditions{ifMatch: opts.IfMatch, ifNoneMatch: opts.IfNoneMatch}
	lk, v, err := s.lockKey(ctx, rt, bucket, key, cond.any(), nil)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer lk.release()
	st := s.readUpload(ctx, rt, uploadID, 0, 0)
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	if err := st.check(); err != nil {
		if errors.Is(err, ErrNoSuchUpload) {
			// Completed before? Then its object is still the current one.
			if cur, _ := v.current(); cur != nil && !cur.fi.Deleted && cur.fi.UploadID == uploadID {
				if _, ok := cur.fullRecord(); !ok {
					s.fetchFull(ctx, v, cur)
				}
				return v.groupInfo(cur), nil
			}
		}
		return ObjectInfo{}, err
	}
	u := st.upload
	if t := strings.ToUpper(opts.ChecksumType); t != "" && t != u.ChecksumType {
		return ObjectInfo{}, fmt.Errorf("%w: checksum type %s, the upload's is %s", ErrInvalidChecksum, t, u.ChecksumType)
	}
	have := map[int]partChoice{}
	for _, c := range st.parts(u.K, MaxParts) {
		have[c.p.Number] = c
	}
	var (
		chosen []drive.Part
		etags  []string
		sums   []string
		sizes  []int64
		total  int64
	)
	for i, cp := range parts {
		c, ok := have[cp.Number]
		if !ok {
			return ObjectInfo{}, fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, cp.Number)
		}
		if !strings.EqualFold(strings.Trim(cp.ETag, `"`), c.p.ETag) {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has ETag %s, not %s", ErrInvalidPart, cp.Number, c.p.ETag, cp.ETag)
		}
		if cp.Checksum != "" && cp.Checksum != c.p.Checksum {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has checksum %s, not %s", ErrInvalidPart, cp.Number, c.p.Checksum, cp.Checksum)
		}
		if i < len(parts)-1 && c.p.Size < MinPartSize {
			return ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes", ErrEntityTooSmall, cp.Number, c.p.Size)
		}
		p := c.p
		p.ModTime = 0
		chosen = append(chosen, p)
		etags = append(etags, p.ETag)
		sums = append(sums, p.Checksum)
		sizes = append(sizes, p.Size)
		total += p.Size
	}
	if total > MaxObjectSize {
		return ObjectInfo{}, fmt.Errorf("%w: %d bytes, at most %d", ErrEntityTooLarge, total, int64(MaxObjectSize))
	}
	sum, err := composeChecksum(u.ChecksumAlgo, u.ChecksumType, sums, sizes)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.ChecksumValue != "" && opts.ChecksumValue != sum && opts.ChecksumValue+"-"+strconv.Itoa(len(parts)) != sum {
		return ObjectInfo{}, fmt.Errorf("%w: the %s you specified did not match the calculated checksum", ErrBadChecksum, u.ChecksumAlgo)
	}
	etag, err := multipartETag(etags)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := cond.check(v); err != nil {
		return ObjectInfo{}, err
	}
	fi := drive.FileInfo{
		Bucket:        bucket,
		Key:           key,
		Null:          opts.Versioning != meta.VersioningEnabled,
		Size:          total,
		ETag:          etag,
		Meta:          u.Meta,
		Tags:          u.Tags,
		ChecksumAlgo:  u.ChecksumAlgo,
		ChecksumValue: sum,
		ChecksumType:  u.ChecksumType,
		K:             u.K,
		M:             u.M,
		BlockSize:     u.BlockSize,
		UploadID:      uploadID,
		Parts:         chosen,
		PartCount:     len(chosen),
	}
	fi.ModTime = v.newModTime()
	fi.VersionID = newVersionID(fi.ModTime)
	which := make([]bool, len(rt.drives))
	for i := range which {
		which[i] = v.reachable[i] && st.answers[i].found
	}
	need := writeQuorum(rt.k, rt.m)
	if n := count(which); n < need {
		return ObjectInfo{}, &QuorumError{Op: "complete", Have: n, Need: need}
	}
	_, _, ok := s.commitAll(context.WithoutCancel(ctx), rt, lk, fi, which, nil)
	if ok < need {
		return ObjectInfo{}, &QuorumError{Op: "complete", Have: ok, Need: need}
	}
	info := infoOf(fi)
	info.IsLatest = true
	if fi.Null {
		info.Freed = v.nullFreed()
	}
	for _, cp := range parts {
		delete(have, cp.Number)
	}
	for _, c := range have { // the parts left out
		info.Freed.Bytes += c.p.Size
	}
	return info, nil
}
