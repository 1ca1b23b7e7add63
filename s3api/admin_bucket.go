package s3api

import (
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

// The bucket and quota routes of the admin API (adminapi/buckets.go):
// buckets with their usage, made and removed by the root user for any
// user, and the quotas of buckets and users. Usage is the replicated one
// (package quota): at most a flush interval behind other nodes' writes.

// ownerTotal is what the buckets of one owner hold.
type ownerTotal struct {
	buckets        int
	bytes, objects int64
}

// bucketsOf copies the buckets out of st (owner "" : all), so that their
// usage can be completed (usageOf) outside Control.View.
func bucketsOf(st *meta.State, owner string) []meta.Bucket {
	var out []meta.Bucket
	for _, b := range st.Buckets {
		if owner == "" || b.Owner == owner {
			out = append(out, meta.Bucket{Name: b.Name, Owner: b.Owner, Created: b.Created, Versioning: b.Versioning, Quota: b.Quota, Usage: b.Usage})
		}
	}
	return out
}

// ownerTotals sums the buckets and usage of every owner.
func (s *Server) ownerTotals(buckets []meta.Bucket) map[string]ownerTotal {
	out := map[string]ownerTotal{}
	for _, b := range buckets {
		bytes, objects := s.usageOf(b)
		t := out[b.Owner]
		t.buckets++
		t.bytes += bytes
		t.objects += objects
		out[b.Owner] = t
	}
	return out
}

func (s *Server) bucketInfo(b meta.Bucket) adminapi.Bucket {
	bytes, objects := s.usageOf(b)
	return adminapi.Bucket{
		Name:       b.Name,
		Owner:      b.Owner,
		Created:    unixTime(b.Created),
		Versioning: b.Versioning.String(),
		Objects:    objects,
		UsageBytes: bytes,
		QuotaBytes: b.Quota,
		Recounted:  unixTime(b.Usage.Recounted),
	}
}

func noSuchBucket(name string) *APIError {
	return adminErr(adminapi.CodeNoSuchBucket, fasthttp.StatusNotFound, "No bucket %q.", name)
}

// showBucket answers the bucket's record on this node.
func (s *Server) showBucket(name string) (adminapi.Bucket, error) {
	var b meta.Bucket
	found := false
	s.deps.Control.View(func(st *meta.State) {
		if p := st.Buckets[name]; p != nil {
			b, found = *p, true
		}
	})
	if !found {
		return adminapi.Bucket{}, noSuchBucket(name)
	}
	return s.bucketInfo(b), nil
}

// lookupBucket checks, after a read barrier, that bucket name exists.
func (s *Server) lookupBucket(c *adminCall, name string) error {
	found := false
	if err := s.adminView(c, func(st *meta.State) { found = st.Buckets[name] != nil }); err != nil {
		return err
	}
	if !found {
		return noSuchBucket(name)
	}
	return nil
}

func (s *Server) adminCreateBucket(c *adminCall) (any, error) {
	var req adminapi.CreateBucketRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if err := meta.ValidateBucketName(req.Name); err != nil {
		return nil, adminErr(adminapi.CodeInvalidBucketName, fasthttp.StatusBadRequest, "%s", strings.TrimPrefix(err.Error(), "meta: "))
	}
	if s.reservedBucket(req.Name) {
		return nil, adminErr(adminapi.CodeInvalidBucketName, fasthttp.StatusBadRequest, "The bucket name %q is reserved by this server.", req.Name)
	}
	if req.QuotaBytes < 0 {
		return nil, adminErr(adminapi.CodeInvalidQuota, fasthttp.StatusBadRequest, "A quota is a positive number of bytes.")
	}
	owner := req.Owner
	if owner == "" {
		owner = c.caller.AccessKey
	}
	var (
		exists bool
		u      *meta.User
	)
	if err := s.adminView(c, func(st *meta.State) {
		exists = st.Buckets[req.Name] != nil
		if p := st.Users[owner]; p != nil {
			cp := copyUser(p)
			u = &cp
		}
	}); err != nil {
		return nil, err
	}
	switch {
	case exists:
		return nil, adminErr(adminapi.CodeBucketAlreadyExists, fasthttp.StatusConflict, "The bucket %q exists.", req.Name)
	case u == nil:
		return nil, adminErr(adminapi.CodeNoSuchUser, fasthttp.StatusNotFound, "No user %q to own the bucket.", owner)
	case u.Parent != "":
		return nil, invalidArgument("A service account owns no buckets: %q belongs to user %q, which would own it.", owner, u.Parent)
	}
	cmd := meta.CreateBucket{Bucket: meta.Bucket{Name: req.Name, Owner: owner, Created: s.now(), Region: s.cfg.Region, Quota: req.QuotaBytes}}
	if err := s.deps.Control.Propose(c.r.ctx, cmd); err != nil {
		return nil, err
	}
	return s.showBucket(req.Name)
}

func (s *Server) adminListBuckets(c *adminCall) (any, error) {
	var buckets []meta.Bucket
	if err := s.adminView(c, func(st *meta.State) { buckets = bucketsOf(st, "") }); err != nil {
		return nil, err
	}
	out := adminapi.BucketList{Buckets: []adminapi.Bucket{}}
	for _, b := range buckets {
		out.Buckets = append(out.Buckets, s.bucketInfo(b))
	}
	slices.SortFunc(out.Buckets, func(a, b adminapi.Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (s *Server) adminShowBucket(c *adminCall) (any, error) {
	if err := s.lookupBucket(c, c.segs[1]); err != nil {
		return nil, err
	}
	return s.showBucket(c.segs[1])
}

func (s *Server) adminRemoveBucket(c *adminCall) (any, error) {
	name := c.segs[1]
	if err := s.lookupBucket(c, name); err != nil {
		return nil, err
	}
	return nil, s.removeBucket(c.r.ctx, name, c.r.id)
}

// readQuota reads a QuotaRequest: a positive number of bytes.
func (s *Server) readQuota(c *adminCall) (int64, error) {
	var req adminapi.QuotaRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return 0, err
	}
	if req.Bytes <= 0 {
		return 0, adminErr(adminapi.CodeInvalidQuota, fasthttp.StatusBadRequest, "A quota is a positive number of bytes; clear a quota with DELETE.")
	}
	return req.Bytes, nil
}

func (s *Server) adminSetBucketQuota(c *adminCall) (any, error) {
	bytes, err := s.readQuota(c)
	if err != nil {
		return nil, err
	}
	return s.setBucketQuota(c, bytes)
}

func (s *Server) adminClearBucketQuota(c *adminCall) (any, error) { return s.setBucketQuota(c, 0) }

func (s *Server) setBucketQuota(c *adminCall, bytes int64) (any, error) {
	name := c.segs[1]
	if err := s.lookupBucket(c, name); err != nil {
		return nil, err
	}
	if err := s.deps.Control.Propose(c.r.ctx, meta.SetBucketQuota{Bucket: name, Bytes: bytes}); err != nil {
		return nil, err
	}
	return s.showBucket(name)
}

func (s *Server) adminSetUserQuota(c *adminCall) (any, error) {
	bytes, err := s.readQuota(c)
	if err != nil {
		return nil, err
	}
	return s.setUserQuota(c, bytes)
}

func (s *Server) adminClearUserQuota(c *adminCall) (any, error) { return s.setUserQuota(c, 0) }

func (s *Server) setUserQuota(c *adminCall, bytes int64) (any, error) {
	name := c.segs[1]
	var parent string
	if err := s.adminView(c, func(st *meta.State) {
		if u := st.Users[name]; u != nil {
			parent = u.Parent
		}
	}); err != nil {
		return nil, err
	}
	if parent != "" {
		return nil, invalidArgument("A service account has no quota of its own: its buckets count toward user %q.", parent)
	}
	u, err := s.lookupUser(c, name)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Control.Propose(c.r.ctx, meta.SetUserQuota{AccessKey: u.AccessKey, Bytes: bytes}); err != nil {
		return nil, err
	}
	return s.showUser(u.AccessKey)
}
