package s3api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// maxBucketConfigSize bounds the CreateBucket body we read into memory.
const maxBucketConfigSize = 64 << 10

// bucket returns a copy of the named bucket. A bucket missing from the
// local state is looked up again after a read barrier before NoSuchBucket
// is answered, so a bucket created a moment ago through another node is
// found.
func (s *Server) bucket(ctx context.Context, name string) (meta.Bucket, error) {
	var b meta.Bucket
	found := false
	lookup := func(st *meta.State) {
		if p := st.Buckets[name]; p != nil {
			b, found = *p, true
		}
	}
	s.deps.Control.View(lookup)
	if !found {
		if err := s.deps.Control.Barrier(ctx); err != nil {
			return b, fmt.Errorf("read barrier for bucket lookup: %w", err)
		}
		s.deps.Control.View(lookup)
	}
	if !found {
		return b, apiError(codeNoSuchBucket)
	}
	return b, nil
}

// ownerOf describes the user with accessKey as an S3 owner. The ID is a
// stable 64-hex-digit canonical id derived from the access key (AWS's
// canonical user ids look alike); the display name is the user's name.
func (s *Server) ownerOf(accessKey string) owner {
	sum := sha256.Sum256([]byte("strata/owner/" + accessKey))
	o := owner{ID: hex.EncodeToString(sum[:])}
	s.deps.Control.View(func(st *meta.State) {
		if u := st.Users[accessKey]; u != nil {
			o.DisplayName = u.Name
		}
	})
	if o.DisplayName == "" {
		o.DisplayName = accessKey
	}
	return o
}

// regionOf is the region a bucket lives in.
func (s *Server) regionOf(b meta.Bucket) string {
	if b.Region != "" {
		return b.Region
	}
	return s.cfg.Region
}

// maxBucketsPage is the largest max-buckets of ListBuckets, and the page
// size when a paging parameter is given without it, as S3.
const maxBucketsPage = 10000

// listBuckets serves ListBuckets (GET /): a root user sees every bucket,
// any other caller the buckets it owns and those its policies (or a
// bucket's policy or ACL) let it list; prefix and bucket-region filter,
// max-buckets and continuation-token page (the token is the base64 of the
// last name of the previous page).
func (s *Server) listBuckets(r *request) error {
	prefix := r.query.Get("prefix")
	region := r.query.Get("bucket-region")
	limit := 0 // no paging
	if v, ok := r.query["max-buckets"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil || n < 1 || n > maxBucketsPage {
			return apiError(codeInvalidArgument, "Argument max-buckets must be an integer between 1 and 10000.")
		}
		limit = n
	}
	after := ""
	if v, ok := r.query["continuation-token"]; ok {
		dec, err := base64.RawURLEncoding.DecodeString(v[0])
		if err != nil || v[0] == "" {
			return apiError(codeInvalidArgument, "The continuation token provided is incorrect")
		}
		after = string(dec)
	}
	if limit == 0 && (after != "" || prefix != "" || region != "") {
		limit = maxBucketsPage
	}
	ak := r.who.ownerKey()
	all := r.who.kind == identRoot
	var list, others []meta.Bucket
	s.deps.Control.View(func(st *meta.State) {
		for _, b := range st.Buckets {
			if strings.HasPrefix(b.Name, prefix) && b.Name > after && (region == "" || s.regionOf(*b) == region) {
				if all || b.Owner == ak {
					list = append(list, *b)
				} else {
					others = append(others, *b)
				}
			}
		}
	})
	for _, b := range others {
		if s.canListBucket(r, b.Name) {
			list = append(list, b)
		}
	}
	slices.SortFunc(list, func(a, b meta.Bucket) int { return strings.Compare(a.Name, b.Name) })
	res := listAllMyBucketsResult{Xmlns: s3Namespace, Owner: s.ownerOf(ak), Buckets: []bucketEntry{}, Prefix: prefix}
	if limit > 0 && len(list) > limit {
		list = list[:limit]
		res.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(list[limit-1].Name))
	}
	for _, b := range list {
		res.Buckets = append(res.Buckets, bucketEntry{
			Name:         b.Name,
			CreationDate: s3Time(time.Unix(0, b.Created)),
			BucketRegion: s.regionOf(b),
		})
	}
	return s.writeXML(r, res)
}

// parseCreateBucket parses an optional CreateBucketConfiguration body and
// returns its location constraint ("" for none).
func parseCreateBucket(data []byte) (string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return "", nil
	}
	var conf createBucketConfiguration
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&conf); err != nil {
		return "", apiError(codeMalformedXML)
	}
	return strings.TrimSpace(conf.LocationConstraint), nil
}

// createBucket serves CreateBucket (PUT /bucket) with an optional
// CreateBucketConfiguration body.
func (s *Server) createBucket(r *request) error {
	if err := meta.ValidateBucketName(r.bucket); err != nil {
		return err
	}
	if s.reservedBucket(r.bucket) {
		return apiError(codeInvalidBucketName, "The bucket name is reserved by this service.")
	}
	data, err := s.readSmallBody(r, maxBucketConfigSize, apiError(codeMalformedXML))
	if err != nil {
		return err
	}
	lc, err := parseCreateBucket(data)
	if err != nil {
		return err
	}
	// A constraint naming another region is refused, as AWS refuses one
	// that does not match the endpoint's region.
	region := s.cfg.Region
	if lc != "" && lc != s.cfg.Region {
		return apiError(codeIllegalLocationConstraint,
			fmt.Sprintf("The %s location constraint is incompatible for the region specific endpoint this request was sent to (%s).", lc, s.cfg.Region))
	}

	acl, err := requestACL(r, true)
	if err != nil {
		return err
	}
	// A bucket created with a service account's or a session's keys
	// belongs to their user.
	me := r.who.ownerKey()
	if err := s.bucketTakenNow(r, me); err != nil {
		return err
	}
	cmd := meta.CreateBucket{Bucket: meta.Bucket{
		Name:    r.bucket,
		Owner:   me,
		Created: s.cfg.Now().UnixNano(),
		Region:  region,
		ACL:     acl,
	}}
	if err := s.deps.Control.Propose(r.ctx, cmd); err != nil {
		if errors.Is(err, meta.ErrBucketExists) {
			// The leader has it; this node may not have applied it yet.
			if err := s.bucketTakenNow(r, me); err != nil {
				return err
			}
		}
		return err
	}
	r.fctx.Response.Header.Set("Location", "/"+r.bucket)
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// bucketTakenNow is bucketTaken of the request's bucket, answered only from
// a state that has caught up with the leader: a local state that still has
// a bucket another node deleted a moment ago would tell the client it owns
// a bucket that is gone (then NoSuchBucket on its next request).
func (s *Server) bucketTakenNow(r *request, me string) error {
	if s.bucketTaken(r.bucket, me) == nil {
		return nil // not here: the proposal decides
	}
	if err := s.deps.Control.Barrier(r.ctx); err != nil {
		return err
	}
	return s.bucketTaken(r.bucket, me)
}

// bucketTaken returns BucketAlreadyOwnedByYou or BucketAlreadyExists when
// name exists in the local state, nil otherwise.
func (s *Server) bucketTaken(name, me string) error {
	var b meta.Bucket
	found := false
	s.deps.Control.View(func(st *meta.State) {
		if p := st.Buckets[name]; p != nil {
			b, found = *p, true
		}
	})
	switch {
	case !found:
		return nil
	case b.Owner == me:
		return apiError(codeBucketAlreadyOwnedByYou)
	}
	return apiError(codeBucketAlreadyExists)
}

// headBucket serves HeadBucket.
func (s *Server) headBucket(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	r.fctx.Response.Header.Set("x-amz-bucket-region", s.regionOf(b))
	r.fctx.SetStatusCode(fasthttp.StatusOK)
	return nil
}

// getBucketLocation serves GetBucketLocation (GET /bucket?location): empty
// for us-east-1, as AWS answers.
func (s *Server) getBucketLocation(r *request) error {
	b, err := s.bucket(r.ctx, r.bucket)
	if err != nil {
		return err
	}
	loc := s.regionOf(b)
	if loc == "us-east-1" {
		loc = ""
	}
	return s.writeXML(r, locationConstraint{Xmlns: s3Namespace, Location: loc})
}

// deleteBucket serves DeleteBucket: only a bucket without versions or
// delete markers is deleted. Once
// Raft has removed it, the data plane drops whatever a racing PUT may have
// left behind.
func (s *Server) deleteBucket(r *request) error {
	if _, err := s.bucket(r.ctx, r.bucket); err != nil {
		return err
	}
	if err := s.removeBucket(r.ctx, r.bucket, r.id); err != nil {
		return err
	}
	r.fctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// removeBucket removes an existing bucket when it holds no version or
// delete marker (BucketNotEmpty otherwise), then drops whatever a racing
// write left in the data plane. DeleteBucket and the admin API share it.
func (s *Server) removeBucket(ctx context.Context, name, requestID string) error {
	// Any version or delete marker left keeps the bucket, as in S3.
	page, err := s.deps.Objects.ListObjectVersions(ctx, name, dataplane.ListVersionsOptions{Max: 1})
	if err != nil {
		return err
	}
	if len(page.Versions) > 0 || len(page.Prefixes) > 0 {
		return apiError(codeBucketNotEmpty)
	}
	if err := s.deps.Control.Propose(ctx, meta.DeleteBucket{Name: name}); err != nil {
		return err
	}
	if err := s.deps.Objects.DropBucket(ctx, name); err != nil {
		// The bucket is gone from Raft: answering an error would only make
		// the client retry into NoSuchBucket. Leftovers are logged for the
		// operator.
		s.log.Error("drop data of deleted bucket", "bucket", name, "request_id", requestID, "err", err)
	}
	return nil
}
