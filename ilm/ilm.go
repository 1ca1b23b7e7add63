package ilm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/lifecycle"
	"github.com/strata-io/strata/meta"
)

// Store is what the scanner needs of the data plane: *dataplane.Store
// implements it.
type Store interface {
	OwnsKey(bucket, key string) bool
	ListObjectVersions(ctx context.Context, bucket string, opts dataplane.ListVersionsOptions) (dataplane.ListVersionsResult, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts dataplane.ListUploadsOptions) (dataplane.ListUploadsResult, error)
	HeadObject(ctx context.Context, bucket, key string, opts dataplane.GetOptions) (dataplane.ObjectInfo, error)
	DeleteObject(ctx context.Context, bucket, key string, opts dataplane.DeleteOptions) (dataplane.DeleteResult, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) (dataplane.Freed, error)
}

// Control is read access to the replicated state: raftfsm.Store
// implements it.
type Control interface {
	View(fn func(*meta.State))
}

// Usage records what the scanner frees: *quota.Accountant implements it.
type Usage interface {
	Record(b meta.Bucket, bytes, objects int64)
}

// Config configures a Scanner. Zero fields take DefaultConfig's values.
type Config struct {
	NodeID string
	// Interval is the pause between the end of a pass and the start of
	// the next; negative: Run does nothing (Pass still works).
	Interval time.Duration
	// FirstDelay is how long after Run starts the first pass begins when
	// no pass is to be resumed (a pass left unfinished resumes after
	// min(FirstDelay, 10 s)).
	FirstDelay time.Duration
	// Rate bounds the object versions and uploads examined per second
	// (acting on one is part of examining it).
	Rate float64
	// StateFile keeps the status and the position of an unfinished pass
	// across restarts; "" keeps nothing.
	StateFile string
	// Now is the clock of every lifecycle decision; nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults: a pass every hour, the first one a
// minute after start, 1,000 versions per second.
func DefaultConfig() Config {
	return Config{Interval: time.Hour, FirstDelay: time.Minute, Rate: 1000, Now: time.Now}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.FirstDelay <= 0 {
		c.FirstDelay = d.FirstDelay
	}
	if c.Rate <= 0 {
		c.Rate = d.Rate
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	return c
}

// Counters are what a pass did.
type Counters struct {
	Buckets           int64 `json:"buckets"`            // buckets with rules walked
	Versions          int64 `json:"versions"`           // object versions examined (of keys this node owns)
	Uploads           int64 `json:"uploads"`            // multipart uploads examined
	Expired           int64 `json:"expired"`            // current versions expired
	NoncurrentExpired int64 `json:"noncurrent_expired"` // noncurrent versions (and noncurrent markers) deleted
	MarkersRemoved    int64 `json:"markers_removed"`    // expired object delete markers removed
	UploadsAborted    int64 `json:"uploads_aborted"`
	Errors            int64 `json:"errors"` // actions or listings that failed (retried by the next pass)
}

// Status is one node's lifecycle execution.
type Status struct {
	Running     bool      `json:"running"`       // a pass is in progress
	Passes      int64     `json:"passes"`        // complete passes
	PassStarted time.Time `json:"pass_started"`  // of the pass in progress, or the last one; zero before the first
	LastPassEnd time.Time `json:"last_pass_end"` // zero before the first complete pass
	NextPass    time.Time `json:"next_pass"`     // zero while a pass runs, or when there are no background passes
	Bucket      string    `json:"bucket"`        // being walked
	Resumed     bool      `json:"resumed"`       // the pass continues one a restart interrupted
	// Pass is what the pass in progress has done so far, or the last
	// pass when none runs; Total sums every pass since the state file
	// was made.
	Pass      Counters `json:"pass"`
	Total     Counters `json:"total"`
	LastError string   `json:"last_error,omitempty"`
}

// position is where an unfinished pass stands: the bucket, its phase,
// and the last key fully done in it ("" when none yet).
type position struct {
	Bucket string `json:"bucket"`
	Phase  phase  `json:"phase"`
	Key    string `json:"key,omitempty"`
}

// phase is the part of a bucket a pass is in: versions, then uploads.
type phase uint8

const (
	phaseVersions phase = 1
	phaseUploads  phase = 2
)

// stateFile is the content of Config.StateFile.
type stateFile struct {
	Status Status    `json:"status"`
	Active *position `json:"active,omitempty"` // nil when no pass is unfinished
}

// Scanner runs the lifecycle passes of one node.
type Scanner struct {
	cfg   Config
	store Store
	ctl   Control
	usage Usage
	log   *slog.Logger

	passMu sync.Mutex // one pass at a time

	mu     sync.Mutex // guards the fields below
	status Status
	resume *position // where an interrupted pass stands
	saved  time.Time // when the state file was last written (real time)
}

// New returns a scanner, reading the state file if there is one (a
// missing file is a fresh start; an unreadable one is logged and
// replaced). usage may be nil.
func New(cfg Config, store Store, ctl Control, usage Usage, log *slog.Logger) (*Scanner, error) {
	cfg = cfg.withDefaults()
	if store == nil || ctl == nil {
		return nil, errors.New("ilm: a Store and a Control are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scanner{cfg: cfg, store: store, ctl: ctl, usage: usage, log: log.With("component", "ilm")}
	if cfg.StateFile != "" {
		b, err := os.ReadFile(cfg.StateFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("ilm: state file: %w", err)
		default:
			var st stateFile
			if err := json.Unmarshal(b, &st); err != nil {
				s.log.Warn("ilm state file unreadable: starting afresh", "file", cfg.StateFile, "err", err)
			} else {
				s.status, s.resume = st.Status, st.Active
				s.status.Running, s.status.NextPass = false, time.Time{}
			}
		}
	}
	return s, nil
}

// Status returns a snapshot of the scanner's status.
func (s *Scanner) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Run runs passes every Interval until ctx is done; an unfinished pass
// resumes first. With a negative Interval it returns at once.
func (s *Scanner) Run(ctx context.Context) {
	if s.cfg.Interval < 0 {
		return
	}
	for {
		s.mu.Lock()
		var wait time.Duration
		switch {
		case s.resume != nil:
			wait = min(s.cfg.FirstDelay, 10*time.Second)
		case s.status.LastPassEnd.IsZero():
			wait = s.cfg.FirstDelay
		default:
			wait = max(s.status.LastPassEnd.Add(s.cfg.Interval).Sub(s.cfg.Now()), 0)
		}
		s.status.NextPass = s.cfg.Now().Add(wait)
		s.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("lifecycle pass failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// Pass runs one pass now, or resumes the unfinished one, and returns when
// it is done (Run calls it every Interval). Listing and action errors are
// counted in the status and do not stop the pass; the error is ctx's when
// it ends the pass early (the position is kept for the next call).
func (s *Scanner) Pass(ctx context.Context) error {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	s.mu.Lock()
	start := s.resume
	if start == nil {
		s.status.Pass = Counters{}
		s.status.PassStarted = s.cfg.Now()
		s.status.Resumed = false
		s.status.LastError = ""
	} else {
		s.status.Resumed = true
		s.log.Info("resuming the lifecycle pass a restart interrupted", "bucket", start.Bucket, "after_key", start.Key)
	}
	s.status.Running, s.status.NextPass = true, time.Time{}
	s.mu.Unlock()
	pace := newPacer(s.cfg.Rate)

	for _, name := range s.buckets() {
		if start != nil && name < start.Bucket {
			continue
		}
		pos, fresh := position{Bucket: name, Phase: phaseVersions}, true
		if start != nil && name == start.Bucket {
			pos, fresh = *start, false
		}
		start = nil
		if err := s.walkBucket(ctx, pos, fresh, pace); err != nil {
			s.mu.Lock()
			s.status.Running = false
			s.mu.Unlock()
			s.save(true)
			return err
		}
	}
	s.mu.Lock()
	s.resume = nil
	s.status.Running, s.status.Bucket = false, ""
	s.status.Passes++
	s.status.LastPassEnd = s.cfg.Now()
	p := s.status.Pass
	s.mu.Unlock()
	s.save(true)
	s.log.Info("lifecycle pass done", "buckets", p.Buckets, "versions", p.Versions, "expired", p.Expired,
		"noncurrent_expired", p.NoncurrentExpired, "markers_removed", p.MarkersRemoved, "uploads_aborted", p.UploadsAborted, "errors", p.Errors)
	return nil
}

// buckets returns, sorted, the buckets that have lifecycle rules now.
func (s *Scanner) buckets() []string {
	var out []string
	s.ctl.View(func(st *meta.State) {
		for name, b := range st.Buckets {
			if len(b.Lifecycle) > 0 {
				out = append(out, name)
			}
		}
	})
	slices.Sort(out)
	return out
}

// bucketNow returns a copy of bucket's record and its compiled rules;
// false when it is gone.
func (s *Scanner) bucketNow(bucket string) (meta.Bucket, lifecycle.Policy, bool) {
	var b meta.Bucket
	ok := false
	s.ctl.View(func(st *meta.State) {
		if p := st.Buckets[bucket]; p != nil {
			b, ok = *p, true
		}
	})
	return b, lifecycle.Compile(b.Lifecycle), ok
}

// walkBucket runs pos's bucket from pos (fresh: from its start, not
// resumed): its versions, then its uploads. Only ctx's end is an error.
func (s *Scanner) walkBucket(ctx context.Context, pos position, fresh bool, pace *pacer) error {
	_, policy, ok := s.bucketNow(pos.Bucket)
	if !ok || policy.Empty() {
		return nil
	}
	s.mu.Lock()
	s.status.Bucket = pos.Bucket
	s.mu.Unlock()
	if fresh {
		s.count(func(c *Counters) { c.Buckets++ })
	}
	s.setPos(pos, true)
	if pos.Phase == phaseVersions {
		if err := s.walkVersions(ctx, &pos, policy, pace); err != nil {
			return err
		}
		pos = position{Bucket: pos.Bucket, Phase: phaseUploads}
		s.setPos(pos, true)
	}
	if policy.AbortsUploads() {
		if err := s.walkUploads(ctx, &pos, policy, pace); err != nil {
			return err
		}
	}
	return nil
}

// listPage is the page size of the walks.
const listPage = 1000

// opTimeout bounds one listing page or one action.
const opTimeout = time.Minute

// keyWalk is the state of the walk through one key's versions, newest
// first.
type keyWalk struct {
	key        string
	owned      bool
	sawLatest  bool
	prevMod    time.Time // creation time of the version before (newer than) the next
	noncurrent int       // noncurrent versions seen so far
	// marker is the key's current version when it is a delete marker:
	// decided once the walk knows whether versions follow it.
	marker *dataplane.ObjectInfo
}

// walkVersions walks the versions of pos.Bucket after pos.Key and acts
// on those due.
func (s *Scanner) walkVersions(ctx context.Context, pos *position, policy lifecycle.Policy, pace *pacer) error {
	opts := dataplane.ListVersionsOptions{KeyMarker: pos.Key, Max: listPage}
	var kw keyWalk
	finish := func() {
		if kw.owned && kw.marker != nil {
			s.decideMarker(ctx, pos.Bucket, policy, *kw.marker)
		}
		if kw.key != "" {
			pos.Key = kw.key
			s.setPos(*pos, false)
		}
	}
	for {
		lctx, cancel := context.WithTimeout(ctx, opTimeout)
		page, err := s.store.ListObjectVersions(lctx, pos.Bucket, opts)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.fail(fmt.Errorf("list versions of %s: %w", pos.Bucket, err))
			return nil
		}
		for _, v := range page.Versions {
			if v.Key != kw.key {
				finish()
				kw = keyWalk{key: v.Key, owned: s.store.OwnsKey(pos.Bucket, v.Key)}
			}
			if !kw.owned {
				continue
			}
			if err := pace.wait(ctx); err != nil {
				return err
			}
			s.count(func(c *Counters) { c.Versions++ })
			s.version(ctx, pos.Bucket, policy, &kw, v)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !page.Truncated {
			finish()
			return ctx.Err()
		}
		opts.KeyMarker, opts.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
	}
}

// version handles the next version v of the key kw walks.
func (s *Scanner) version(ctx context.Context, bucket string, policy lifecycle.Policy, kw *keyWalk, v dataplane.ObjectInfo) {
	now := s.cfg.Now()
	if v.IsLatest {
		kw.sawLatest, kw.prevMod = true, v.ModTime
		if v.DeleteMarker {
			kw.marker = &v
			return
		}
		d := policy.Version(lifecycle.Version{Key: v.Key, Size: v.Size, Tags: v.Tags, ModTime: v.ModTime, IsLatest: true}, now)
		if d.Action == lifecycle.ExpireCurrent {
			s.act(ctx, bucket, d, v, lifecycle.Version{})
		}
		return
	}
	kw.marker = nil // versions follow it: not an expired object delete marker
	if !kw.sawLatest {
		// Without the current version the walk cannot know when this one
		// became noncurrent; the next pass will.
		return
	}
	lv := lifecycle.Version{Key: v.Key, Size: v.Size, Tags: v.Tags, ModTime: v.ModTime, DeleteMarker: v.DeleteMarker,
		NoncurrentSince: kw.prevMod, NewerNoncurrent: kw.noncurrent}
	kw.noncurrent++
	kw.prevMod = v.ModTime
	if d := policy.Version(lv, now); d.Action == lifecycle.DeleteVersion {
		s.act(ctx, bucket, d, v, lv)
	}
}

// decideMarker handles a key whose only version is delete marker m.
func (s *Scanner) decideMarker(ctx context.Context, bucket string, policy lifecycle.Policy, m dataplane.ObjectInfo) {
	lv := lifecycle.Version{Key: m.Key, ModTime: m.ModTime, IsLatest: true, DeleteMarker: true}
	if d := policy.Version(lv, s.cfg.Now()); d.Action == lifecycle.RemoveMarker {
		s.act(ctx, bucket, d, m, lv)
	}
}

// act carries out decision d for version v, after checking that it still
// holds under the bucket's rules as they are now (see the package doc).
// lv is the version as decided (for the noncurrent and marker actions).
func (s *Scanner) act(ctx context.Context, bucket string, d lifecycle.Decision, v dataplane.ObjectInfo, lv lifecycle.Version) {
	actx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	b, policy, ok := s.bucketNow(bucket)
	if !ok {
		return
	}
	still, err := s.stillDue(actx, bucket, policy, d, v, lv)
	if err != nil {
		if ctx.Err() != nil {
			return // the pass stops; the next one decides again
		}
		s.fail(fmt.Errorf("%s %s/%s version %s: recheck: %w", d.Action, bucket, v.Key, v.VersionID, err))
		return
	}
	if !still {
		return
	}
	opts := dataplane.DeleteOptions{Versioning: b.Versioning}
	if d.Action != lifecycle.ExpireCurrent {
		opts.VersionID = v.VersionID
	}
	res, err := s.store.DeleteObject(actx, bucket, v.Key, opts)
	switch {
	case errors.Is(err, dataplane.ErrObjectNotFound), errors.Is(err, dataplane.ErrNoSuchVersion):
		return // gone meanwhile
	case err != nil:
		if ctx.Err() == nil {
			s.fail(fmt.Errorf("%s %s/%s version %s: %w", d.Action, bucket, v.Key, v.VersionID, err))
		}
		return
	}
	if s.usage != nil && (res.Freed.Bytes != 0 || res.Freed.Versions != 0) {
		s.usage.Record(b, -res.Freed.Bytes, -res.Freed.Versions)
	}
	s.log.Debug("lifecycle action", "action", d.Action.String(), "rule", d.Rule, "bucket", bucket, "key", v.Key, "version", v.VersionID)
	s.count(func(c *Counters) {
		switch d.Action {
		case lifecycle.ExpireCurrent:
			c.Expired++
		case lifecycle.DeleteVersion:
			c.NoncurrentExpired++
		case lifecycle.RemoveMarker:
			c.MarkersRemoved++
		}
	})
}

// stillDue reads v again by quorum and reports whether d still holds:
// the version exists, has the same place in its key's history, and its
// tags and size still make the policy decide d; a marker to remove is
// still alone.
func (s *Scanner) stillDue(ctx context.Context, bucket string, policy lifecycle.Policy, d lifecycle.Decision, v dataplane.ObjectInfo, lv lifecycle.Version) (bool, error) {
	info, err := s.store.HeadObject(ctx, bucket, v.Key, dataplane.GetOptions{VersionID: v.VersionID})
	var marker *dataplane.DeleteMarkerError
	switch {
	case errors.As(err, &marker):
		info = marker.Info
	case errors.Is(err, dataplane.ErrNoSuchVersion), errors.Is(err, dataplane.ErrObjectNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	if info.DeleteMarker != v.DeleteMarker || !info.ModTime.Equal(v.ModTime) {
		return false, nil
	}
	now := s.cfg.Now()
	switch d.Action {
	case lifecycle.ExpireCurrent:
		if !info.IsLatest {
			return false, nil
		}
		return policy.Version(lifecycle.Version{Key: v.Key, Size: info.Size, Tags: info.Tags, ModTime: info.ModTime, IsLatest: true}, now).Action == d.Action, nil
	case lifecycle.DeleteVersion:
		if info.IsLatest {
			return false, nil
		}
		lv.Size, lv.Tags = info.Size, info.Tags
		return policy.Version(lv, now).Action == d.Action, nil
	case lifecycle.RemoveMarker:
		if !info.IsLatest {
			return false, nil
		}
		page, err := s.store.ListObjectVersions(ctx, bucket, dataplane.ListVersionsOptions{Prefix: v.Key, Max: 2})
		if err != nil {
			return false, err
		}
		alone := len(page.Versions) > 0 && page.Versions[0].Key == v.Key && page.Versions[0].VersionID == v.VersionID &&
			(len(page.Versions) == 1 || page.Versions[1].Key != v.Key)
		return alone, nil
	}
	return false, nil
}

// walkUploads walks the uploads of pos.Bucket after pos.Key and aborts
// those due.
func (s *Scanner) walkUploads(ctx context.Context, pos *position, policy lifecycle.Policy, pace *pacer) error {
	opts := dataplane.ListUploadsOptions{KeyMarker: pos.Key, Max: listPage}
	b, _, ok := s.bucketNow(pos.Bucket)
	if !ok {
		return nil
	}
	for {
		lctx, cancel := context.WithTimeout(ctx, opTimeout)
		page, err := s.store.ListMultipartUploads(lctx, pos.Bucket, opts)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.fail(fmt.Errorf("list uploads of %s: %w", pos.Bucket, err))
			return nil
		}
		last := ""
		for _, u := range page.Uploads {
			if u.Key != last && last != "" {
				pos.Key = last
				s.setPos(*pos, false)
			}
			last = u.Key
			if !s.store.OwnsKey(pos.Bucket, u.Key) {
				continue
			}
			if err := pace.wait(ctx); err != nil {
				return err
			}
			s.count(func(c *Counters) { c.Uploads++ })
			if policy.Upload(u.Key, u.Initiated, s.cfg.Now()).Action != lifecycle.AbortUpload {
				continue
			}
			actx, cancel := context.WithTimeout(ctx, opTimeout)
			freed, err := s.store.AbortMultipartUpload(actx, pos.Bucket, u.Key, u.UploadID)
			cancel()
			switch {
			case errors.Is(err, dataplane.ErrNoSuchUpload):
			case err != nil:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.fail(fmt.Errorf("abort upload %s of %s/%s: %w", u.UploadID, pos.Bucket, u.Key, err))
			default:
				if s.usage != nil && (freed.Bytes != 0 || freed.Versions != 0) {
					s.usage.Record(b, -freed.Bytes, -freed.Versions)
				}
				s.log.Debug("lifecycle action", "action", lifecycle.AbortUpload.String(), "bucket", pos.Bucket, "key", u.Key, "upload", u.UploadID)
				s.count(func(c *Counters) { c.UploadsAborted++ })
			}
		}
		if !page.Truncated {
			return nil
		}
		opts.KeyMarker, opts.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
}

// count applies f to the pass's and the total counters.
func (s *Scanner) count(f func(*Counters)) {
	s.mu.Lock()
	f(&s.status.Pass)
	f(&s.status.Total)
	s.mu.Unlock()
}

// fail counts and logs an error of the pass.
func (s *Scanner) fail(err error) {
	s.mu.Lock()
	s.status.Pass.Errors++
	s.status.Total.Errors++
	s.status.LastError = err.Error()
	s.mu.Unlock()
	s.log.Warn("lifecycle action failed; the next pass retries", "err", err)
}

// setPos records the pass's position and writes the state file when it
// is due (force: now).
func (s *Scanner) setPos(p position, force bool) {
	s.mu.Lock()
	s.resume = &p
	s.mu.Unlock()
	s.save(force)
}

// saveEvery is the least time between two writes of the state file
// within a bucket.
const saveEvery = time.Second

// save writes the state file (at most every saveEvery unless force). A
// failure is logged: it only costs redoing part of a pass.
func (s *Scanner) save(force bool) {
	if s.cfg.StateFile == "" {
		return
	}
	s.mu.Lock()
	if !force && time.Since(s.saved) < saveEvery {
		s.mu.Unlock()
		return
	}
	s.saved = time.Now()
	st := stateFile{Status: s.status}
	if s.resume != nil {
		p := *s.resume
		st.Active = &p
	}
	s.mu.Unlock()
	b, err := json.Marshal(st)
	if err == nil {
		err = writeFileAtomic(s.cfg.StateFile, b)
	}
	if err != nil {
		s.log.Warn("ilm state file not written", "file", s.cfg.StateFile, "err", err)
	}
}

// writeFileAtomic replaces path by data: written to a temporary file in
// the same folder, synced, then renamed over it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// pacer spaces calls to wait to a rate per second. Not safe for
// concurrent use: one pass uses one.
type pacer struct {
	gap  time.Duration
	next time.Time
}

func newPacer(rate float64) *pacer {
	return &pacer{gap: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the next call fits in the rate, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	d := p.next.Sub(now)
	p.next = p.next.Add(p.gap)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
