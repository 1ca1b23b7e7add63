package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// Per-key write locks.
//
// Every write that changes which version of a key is current (PutObject,
// CompleteMultipartUpload, DeleteObject, SetObjectTags) runs its decisive
// step under a lock on the key: it takes the lock, reads the key's versions
// under it, checks its conditions (If-Match, If-None-Match), picks a ModTime
// newer than every version it saw, commits, and releases. The body of a PUT
// or the parts of an upload are written before, outside the lock, so the
// lock is held for two round trips. A streamed PUT asks for the lock with
// its shard writes instead (earlyLock: each drive takes the lease and reads
// the key's versions when its shard is stored, in the reply of that call);
// when a majority granted it, the lock costs the PUT no round trip of its
// own, else its leases are released and the lock is taken in rounds as
// below.
//
// The lock is dsync-style: each PG drive's node keeps a lease table in
// memory, and a writer holds the key when a majority of the PG's K+M
// drives granted it a lease (LockKey also reads the drive's versions under
// the lease, so taking the lock is the write's probe). Two writers cannot
// both hold a majority. A writer that gets fewer grants releases them and
// retries after a random back-off; a conditional writer gives up after
// LockWait with ErrConditionalConflict, others after MetaTimeout with a
// *QuorumError. Leases expire after LockTTL, so a writer that died does not
// block the key for longer.
//
// Trade-offs. A majority is available whenever a write quorum is (W >
// (K+M)/2), so locking never makes a key unwritable that could otherwise be
// written, and no node is special: an owner-node scheme (the first live
// drive's node decides) is one round trip cheaper and keeps no leases on
// other nodes, but two coordinators that disagree on which node is alive
// (a partition, a node coming back) would both think they hold the key. The
// cost here is one extra round trip for writes (the lock replaces the
// probe, the release is not waited for; a streamed PUT's early lock rides
// on its shard writes). Leases live in memory: a node
// that restarts within a lease forgets it, and a lease that expires while
// its holder is still committing (a commit slower than LockTTL) lets a
// second writer in; both need a fault on top of a race, and the outcome is
// then that of two unconditional writes (the newer ModTime wins).

// lockName identifies one drive's lease on one key.
type lockName struct {
	drive, bucket, key string
}

// lease is a granted lock.
type lease struct {
	owner   string
	expires time.Time
}

// lockTable is one node's leases, for all its drives.
type lockTable struct {
	mu     sync.Mutex
	m      map[lockName]lease
	sweeps int                      // acquisitions since the last sweep of expired leases
	asked  int                      // acquire calls so far (tests)
	down   func(nodeID string) bool // Config.Down: a dead writer's leases are free
}

// newOwner returns a lock owner for a writer on node: node/unique, so that
// the leases of a writer whose node gossip declared dead (killed in the
// middle of a write) are free at once instead of after LockTTL.
func newOwner(node string) string { return node + "/" + newDataDir() }

// ownerDown reports whether owner's node is down (see newOwner).
func (t *lockTable) ownerDown(owner string) bool {
	i := strings.LastIndexByte(owner, '/')
	return i > 0 && t.down != nil && t.down(owner[:i])
}

// acquire grants name to owner for ttl if it is free, expired, already
// owner's (a retry extends it) or held by a writer on a node that is down.
func (t *lockTable) acquire(name lockName, owner string, ttl time.Duration) bool {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[lockName]lease{}
	}
	t.asked++
	if l, ok := t.m[name]; ok && l.owner != owner && now.Before(l.expires) && !t.ownerDown(l.owner) {
		return false
	}
	t.m[name] = lease{owner: owner, expires: now.Add(ttl)}
	if t.sweeps++; t.sweeps >= 1024 {
		t.sweeps = 0
		for n, l := range t.m {
			if !now.Before(l.expires) {
				delete(t.m, n)
			}
		}
	}
	return true
}

// release drops owner's lease on name (nothing if it is not owner's).
func (t *lockTable) release(name lockName, owner string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.m[name]; ok && l.owner == owner {
		delete(t.m, name)
	}
}

// held reports the number of leases not expired (tests).
func (t *lockTable) held() int {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, l := range t.m {
		if now.Before(l.expires) {
			n++
		}
	}
	return n
}

// keyLock is a lock held on a key.
type keyLock struct {
	s       *Store
	rt      route
	bucket  string
	key     string
	owner   string
	granted []bool
	// released marks drives whose lease a commit already released
	// (CommitUnlock); set from background commits, read by releaseNow.
	released []atomic.Bool
}

// commit commits fi on d, the PG's drive i, and releases the lease there
// in the same call (shardStore.CommitUnlock).
func (l *keyLock) commit(ctx context.Context, i int, d shardStore, fi drive.FileInfo) error {
	if !l.granted[i] {
		return d.CommitVersion(ctx, fi)
	}
	unlocked, err := d.CommitUnlock(ctx, fi, l.owner)
	if unlocked {
		l.released[i].Store(true)
	}
	return err
}

// release releases the leases in the background: nothing waits for it, and
// a lease that is not released expires.
func (l *keyLock) release() {
	go l.releaseNow()
}

// lockAnswer is one drive's answer to LockKey.
type lockAnswer struct {
	granted bool
	kv      drive.KeyVersions
}

// earlyLock is the key's lock asked of each drive at the end of a streamed
// PUT's shard write (shardLockWriter), so that the lock costs the write no
// round trip of its own: when a majority granted it, lockKey takes the
// view from those answers instead of asking again. It is filled by
// writeStream; answers[i] is nil when drive i gave none (its write failed,
// or its node predates early locks).
type earlyLock struct {
	bucket, key, owner string
	answers            []*lockAnswer
}

// keyLock is the lock the drives granted (granted[i]: drive i did).
func (el *earlyLock) keyLock(s *Store, rt route) *keyLock {
	l := &keyLock{s: s, rt: rt, bucket: el.bucket, key: el.key, owner: el.owner, granted: make([]bool, len(rt.drives))}
	for i, a := range el.answers {
		l.granted[i] = a != nil && a.granted
	}
	return l
}

// release releases, in the background, the leases the drives granted.
func (el *earlyLock) release(s *Store, rt route) {
	if el != nil && el.answers != nil {
		el.keyLock(s, rt).release()
	}
}

// shardLockWriter is a shardStore that can take a key's lock at the end
// of a successful WriteShard: WriteShardLock is WriteShard, then LockKey
// of bucket/key for owner. The answer is nil when the drive took no lock
// (the lock step failed, or the drive's node predates it); the write's
// outcome is err alone.
type shardLockWriter interface {
	WriteShardLock(ctx context.Context, dataDir string, r io.Reader, bucket, key, owner string, ttl time.Duration) (int64, *lockAnswer, error)
}

// unlock releases the lease of drive i (granted after the lock was decided).
func (l *keyLock) unlock(i int) {
	ctx, cancel := context.WithTimeout(context.Background(), l.s.cfg.MetaTimeout)
	defer cancel()
	if err := l.rt.drives[i].store.UnlockKey(ctx, l.bucket, l.key, l.owner); err != nil {
		l.s.log.Debug("unlock failed", "bucket", l.bucket, "key", l.key, "drive", l.rt.drives[i].id, "err", err)
	}
}

// releaseNow releases the leases and waits for the drives.
func (l *keyLock) releaseNow() {
	var wg sync.WaitGroup
	for i := range l.rt.drives {
		if l.granted[i] && (l.released == nil || !l.released[i].Load()) {
			wg.Go(func() { l.unlock(i) })
		}
	}
	wg.Wait()
}

// lockKey takes the write lock of bucket/key (see the top of this file)
// and returns it with the key's view read under it: from early, the lock
// a streamed PUT's drives took at the end of their shard writes, when a
// majority granted it, else in rounds of LockKey calls. conditional selects
// the wait: LockWait then ErrConditionalConflict, or MetaTimeout then a
// *QuorumError. Fewer than a write quorum of drives answering is a
// *QuorumError at once.
func (s *Store) lockKey(ctx context.Context, rt route, bucket, key string, conditional bool, early *earlyLock) (*keyLock, *keyView, error) {
	n := len(rt.drives)
	need := writeQuorum(rt.k, rt.m)
	majority := n/2 + 1
	wait := s.cfg.MetaTimeout
	if conditional {
		wait = s.cfg.LockWait
	}
	deadline := time.Now().Add(wait)
	if l, v, ok := s.earlyView(ctx, rt, early); ok {
		return l, v, nil
	}
	// No early lock, or no majority for it: its leases are released and
	// the lock is taken here, under a new owner.
	early.release(s, rt)
	l := &keyLock{s: s, rt: rt, bucket: bucket, key: key, owner: newOwner(s.cfg.NodeID)}
	backoff := time.Millisecond
	for {
		l.granted = make([]bool, n)
		answers := make([]keyAnswer, n)
		reached := make([]bool, n)
		// A drive still silent once a quorum answered takes no part in the
		// write; a lease it grants later is released at once.
		res := runQuorum(s, ctx, n, nil, max(need, majority), succeeded,
			func(ctx context.Context, i int) (lockAnswer, error) {
				granted, kv, err := rt.drives[i].store.LockKey(ctx, bucket, key, l.owner, s.cfg.LockTTL)
				return lockAnswer{granted, kv}, err
			},
			func(i int, a lockAnswer, err error) {
				if err == nil && a.granted {
					l.unlock(i)
				}
			})
		for i, r := range res {
			reached[i] = r.done && r.err == nil
			l.granted[i] = reached[i] && r.v.granted
			// A drive that refused the lease read nothing: for the view it
			// did not answer.
			answers[i] = keyAnswer{drive: i, kv: r.v.kv, ok: l.granted[i], err: r.err}
		}
		if err := ctx.Err(); err != nil {
			l.releaseNow()
			return nil, nil, err
		}
		granted := count(l.granted)
		for i, a := range answers {
			if a.err != nil && !errors.Is(a.err, context.Canceled) {
				s.log.Debug("lock: drive did not answer", "bucket", bucket, "key", key, "drive", rt.drives[i].id, "err", a.err)
			}
		}
		if n := count(reached); n < need {
			l.releaseNow()
			return nil, nil, &QuorumError{Op: "lock", Have: n, Need: need}
		}
		if granted >= majority {
			// A moving PG: the alts' records join the view (they take no
			// lease; writers lock the new drives).
			answers, reached = s.readAlts(ctx, rt, bucket, key, answers, reached)
			v := s.newKeyView(rt, answers)
			// Writes go to every drive that answered: one that refused the
			// lease holds another writer's, which has no majority.
			v.reachable = reached
			l.released = make([]atomic.Bool, n)
			return l, v, nil
		}
		l.releaseNow()
		if time.Now().After(deadline) {
			if conditional {
				return nil, nil, fmt.Errorf("%w: %s/%s is being written by another request", ErrConditionalConflict, bucket, key)
			}
			return nil, nil, &QuorumError{Op: "lock", Have: granted, Need: majority}
		}
		sleep := backoff/2 + rand.N(backoff)
		backoff = min(2*backoff, 50*time.Millisecond)
		select {
		case <-time.After(sleep):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// earlyView is the lock and view of an early lock (earlyLock) that a
// majority of the PG's drives granted, with a write quorum of them
// answering; ok is false otherwise.
func (s *Store) earlyView(ctx context.Context, rt route, early *earlyLock) (*keyLock, *keyView, bool) {
	if early == nil || early.answers == nil {
		return nil, nil, false
	}
	n := len(rt.drives)
	l := early.keyLock(s, rt)
	answers := make([]keyAnswer, n)
	reached := make([]bool, n)
	for i, a := range early.answers {
		reached[i] = a != nil
		answers[i] = keyAnswer{drive: i, ok: l.granted[i]}
		if a != nil {
			answers[i].kv = a.kv
		}
	}
	if count(reached) < writeQuorum(rt.k, rt.m) || count(l.granted) < n/2+1 {
		return nil, nil, false
	}
	answers, reached = s.readAlts(ctx, rt, early.bucket, early.key, answers, reached)
	v := s.newKeyView(rt, answers)
	v.reachable = reached
	l.released = make([]atomic.Bool, n)
	s.early.Add(1)
	return l, v, true
}

// readAlts appends the answers of rt's alts about bucket/key to answers
// and reached (indexes len(rt.drives)...).
func (s *Store) readAlts(ctx context.Context, rt route, bucket, key string, answers []keyAnswer, reached []bool) ([]keyAnswer, []bool) {
	if len(rt.alts) == 0 {
		return answers, reached
	}
	rctx, cancel := s.metaCtx(ctx)
	defer cancel()
	n := len(rt.drives)
	more := make([]keyAnswer, len(rt.alts))
	ok := make([]bool, len(rt.alts))
	var wg sync.WaitGroup
	for j, a := range rt.alts {
		wg.Go(func() {
			kv, err := a.store.ReadVersions(rctx, bucket, key, drive.Ref{}, readLimit)
			if errors.Is(err, drive.ErrNotFound) {
				err = nil
			}
			more[j] = keyAnswer{drive: n + j, kv: kv, ok: err == nil, err: err}
			ok[j] = err == nil
		})
	}
	wg.Wait()
	return append(answers, more...), append(reached, ok...)
}

// keyAnswer is one drive's answer about a key.
type keyAnswer struct {
	drive int
	kv    drive.KeyVersions
	ok    bool // the drive answered (with versions, or none)
	err   error
}
