package meta

import "errors"

// Quotas and usage.
//
// A bucket and a user may have a hard quota in bytes (0: none). A bucket's
// Usage is the logical bytes and the object versions it holds (object
// sizes of every version that is not a delete marker, plus the parts of
// multipart uploads in progress); a user's usage is the sum of the usage
// of the buckets it owns (Bucket.Owner: buckets made with a service
// account's or a session's keys belong to their user).
//
// Usage is kept cluster-wide by package quota, which documents the
// protocol: every node counts the bytes its own requests add and free
// and proposes them in batches (AddUsage); a recount (BeginRecount, then
// EndRecount once the bucket is listed) sets the usage from a listing.
// meta keeps the numbers and the rule that makes the two agree: a change
// carries the recount epoch its node had seen when it counted it
// (Usage.Counts).

// ErrStaleRecount: an EndRecount of a recount that is not the bucket's
// current one, or a BeginRecount whose epoch is not current+1 (another
// node started one first).
var ErrStaleRecount = errors.New("meta: recount epoch is not current")

// Usage is what a bucket holds, as the cluster has counted it. Bytes may
// be momentarily off (see package quota) and is never trusted below 0.
type Usage struct {
	Bytes   int64 `json:"bytes,omitempty"`
	Objects int64 `json:"objects,omitempty"` // object versions, not delete markers
	// Epoch is the number of the last recount begun; Recounting is true
	// from its BeginRecount until its EndRecount.
	Epoch      uint64 `json:"epoch,omitempty"`
	Recounting bool   `json:"recounting,omitempty"`
	// SinceBytes and SinceObjects sum the changes of epoch Epoch applied
	// while Recounting: made after their node saw the recount begin, so
	// possibly missed by its listing. EndRecount adds them to the listing.
	SinceBytes   int64 `json:"since_bytes,omitempty"`
	SinceObjects int64 `json:"since_objects,omitempty"`
	// RecountBegun and Recounted are when the last recount began and
	// when the last one ended (unix nanoseconds, the proposer's clock;
	// 0: never).
	RecountBegun int64 `json:"recount_begun,omitempty"`
	Recounted    int64 `json:"recounted,omitempty"`
}

// Counts says what becomes of a change labelled epoch (the recount epoch
// its node had seen when it counted the change): add — it is added to
// Bytes and Objects; since — it is also kept for the recount under way.
//
//   - epoch == Epoch: counted after the node saw the last recount begin,
//     so the recount's listing may have missed it: added, and kept in
//     Since while the recount runs.
//   - epoch < Epoch: counted before the node saw the last recount begin,
//     so that recount's listing includes it. Added while the recount runs
//     (EndRecount replaces the sum anyway); skipped once it ended.
//   - epoch > Epoch: cannot be (a change of another bucket of the same
//     name is told apart by Created): skipped.
func (u Usage) Counts(epoch uint64) (add, since bool) {
	switch {
	case epoch == u.Epoch:
		return true, u.Recounting
	case epoch < u.Epoch:
		return u.Recounting, false
	}
	return false, false
}

// SetBucketQuota sets (Bytes > 0) or clears (0) a bucket's quota.
type SetBucketQuota struct {
	Bucket string `json:"bucket"`
	Bytes  int64  `json:"bytes"`
}

// SetUserQuota sets (Bytes > 0) or clears (0) a user's quota. A service
// account has none: its buckets count toward its user.
type SetUserQuota struct {
	AccessKey string `json:"access_key"`
	Bytes     int64  `json:"bytes"`
}

// UsageChange is one bucket's change in one batch: the bytes and object
// versions a node's requests added (positive) and freed (negative), all
// counted while the node saw recount epoch Epoch. Created tells the
// bucket apart from an earlier bucket of the same name: a change of
// another Created is skipped.
type UsageChange struct {
	Bucket  string `json:"bucket"`
	Created int64  `json:"created"`
	Epoch   uint64 `json:"epoch,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	Objects int64  `json:"objects,omitempty"`
}

// AddUsage applies one node's batch of usage changes (Usage.Counts says
// which count). Seq orders a node's batches: a batch whose Seq is not
// above the last applied one of Node is a retry and applies as a no-op,
// so that a proposal repeated after a lost answer counts once.
type AddUsage struct {
	Node    string        `json:"node"`
	Seq     uint64        `json:"seq"`
	Changes []UsageChange `json:"changes"`
}

// BeginRecount starts recount Epoch of a bucket (Epoch must be the
// bucket's current epoch + 1, else ErrStaleRecount). At is the proposer's
// clock, when it starts listing.
type BeginRecount struct {
	Bucket  string `json:"bucket"`
	Created int64  `json:"created"`
	Epoch   uint64 `json:"epoch"`
	At      int64  `json:"at"`
}

// EndRecount ends recount Epoch with what the listing found: the usage
// becomes Bytes and Objects plus the changes counted since the recount
// began (Usage.SinceBytes, SinceObjects). An epoch that is not the
// bucket's current recount is ErrStaleRecount.
type EndRecount struct {
	Bucket  string `json:"bucket"`
	Created int64  `json:"created"`
	Epoch   uint64 `json:"epoch"`
	Bytes   int64  `json:"bytes"`
	Objects int64  `json:"objects"`
	At      int64  `json:"at"`
}

// Kind implements Command.
func (SetBucketQuota) Kind() Kind { return KindSetBucketQuota }

// Kind implements Command.
func (SetUserQuota) Kind() Kind { return KindSetUserQuota }

// Kind implements Command.
func (AddUsage) Kind() Kind { return KindAddUsage }

// Kind implements Command.
func (BeginRecount) Kind() Kind { return KindBeginRecount }

// Kind implements Command.
func (EndRecount) Kind() Kind { return KindEndRecount }

func (s *State) applySetBucketQuota(c SetBucketQuota) error {
	return s.updateBucket(c.Bucket, func(nb *Bucket) error {
		if c.Bytes < 0 {
			return invalid("bucket %s: quota of %d bytes", c.Bucket, c.Bytes)
		}
		nb.Quota = c.Bytes
		return nil
	})
}

func (s *State) applySetUserQuota(c SetUserQuota) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	u, ok := s.Users[c.AccessKey]
	switch {
	case !ok:
		return reject(ErrNoSuchUser, "%s", c.AccessKey)
	case u.Parent != "":
		return invalid("service account %s has no quota of its own: its buckets count toward user %s", c.AccessKey, u.Parent)
	case c.Bytes < 0:
		return invalid("user %s: quota of %d bytes", c.AccessKey, c.Bytes)
	}
	nu := u.clone()
	nu.Quota = c.Bytes
	s.Users[c.AccessKey] = nu
	return nil
}

func (s *State) applyAddUsage(c AddUsage) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	if c.Node == "" {
		return invalid("usage batch without a node")
	}
	if c.Seq <= s.UsageSeqs[c.Node] {
		return nil // a retry of a batch already applied
	}
	for _, ch := range c.Changes {
		b := s.Buckets[ch.Bucket]
		if b == nil || b.Created != ch.Created {
			continue // the bucket is gone (or was made anew)
		}
		add, since := b.Usage.Counts(ch.Epoch)
		if !add {
			continue
		}
		nb := b.clone()
		nb.Usage.Bytes += ch.Bytes
		nb.Usage.Objects += ch.Objects
		if since {
			nb.Usage.SinceBytes += ch.Bytes
			nb.Usage.SinceObjects += ch.Objects
		}
		s.Buckets[ch.Bucket] = nb
	}
	s.UsageSeqs[c.Node] = c.Seq
	return nil
}

// recountBucket returns the bucket a recount command names, checking its
// Created.
func (s *State) recountBucket(name string, created int64) (*Bucket, error) {
	if !s.Bootstrapped() {
		return nil, ErrNotBootstrapped
	}
	b := s.Buckets[name]
	if b == nil || b.Created != created {
		return nil, reject(ErrNoSuchBucket, "%s (created %d)", name, created)
	}
	return b, nil
}

func (s *State) applyBeginRecount(c BeginRecount) error {
	b, err := s.recountBucket(c.Bucket, c.Created)
	if err != nil {
		return err
	}
	if c.Epoch != b.Usage.Epoch+1 {
		return reject(ErrStaleRecount, "bucket %s: recount %d begun, current is %d", c.Bucket, c.Epoch, b.Usage.Epoch)
	}
	nb := b.clone()
	nb.Usage.Epoch = c.Epoch
	nb.Usage.Recounting = true
	nb.Usage.SinceBytes, nb.Usage.SinceObjects = 0, 0
	nb.Usage.RecountBegun = c.At
	s.Buckets[c.Bucket] = nb
	return nil
}

func (s *State) applyEndRecount(c EndRecount) error {
	b, err := s.recountBucket(c.Bucket, c.Created)
	if err != nil {
		return err
	}
	switch {
	case c.Epoch != b.Usage.Epoch || !b.Usage.Recounting:
		return reject(ErrStaleRecount, "bucket %s: recount %d ended, current is %d (running: %t)", c.Bucket, c.Epoch, b.Usage.Epoch, b.Usage.Recounting)
	case c.Bytes < 0 || c.Objects < 0:
		return invalid("bucket %s: recount of %d bytes, %d objects", c.Bucket, c.Bytes, c.Objects)
	}
	nb := b.clone()
	u := &nb.Usage
	u.Bytes, u.Objects = c.Bytes+u.SinceBytes, c.Objects+u.SinceObjects
	u.Recounting = false
	u.SinceBytes, u.SinceObjects = 0, 0
	u.Recounted = c.At
	s.Buckets[c.Bucket] = nb
	return nil
}

// OwnerUsage returns the usage of the buckets the user with accessKey
// owns: their bytes (a bucket below 0 counts as 0) and object versions.
func (s *State) OwnerUsage(accessKey string) (bytes, objects int64) {
	for _, b := range s.Buckets {
		if b.Owner == accessKey {
			bytes += max(b.Usage.Bytes, 0)
			objects += max(b.Usage.Objects, 0)
		}
	}
	return bytes, objects
}
