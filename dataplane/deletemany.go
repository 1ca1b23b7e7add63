package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/rpc"
)

// Batched deletes (S3 DeleteObjects).
//
// DeleteObject costs two fan-outs to the key's K+M drives, lock (with the
// read of the key's versions) and commit (which releases the lease), each
// a call per drive over rpc: a DeleteObjects of 1,000 keys on EC 6+2 made
// 16,000 drive calls, whose connection handling, framing and small index
// transactions made the CPU, not the disks, the limit (about 5 ms of CPU
// per key, 150-250 keys/s on 2 cores).
//
// DeleteObjects runs the same protocol for many keys at once: every phase
// sends each node one dp.key_ops call carrying that phase's operations for
// all keys on that node's drives; the node runs them in parallel on its
// drives (so their index writes share group commits) and answers them
// together. Per key, everything DeleteObject guarantees holds: the key's
// write lock is a majority of its PG's drives (keys whose lock another
// writer holds go through DeleteObject, which waits for it), the view read
// under the lock decides the write exactly as DeleteObject does (deleteWrite,
// versionsToRemove), the write needs a write quorum of the key's drives, and
// a node slower than the others gets the straggler grace (runQuorum) before
// the keys go on without it. Keys of a moving PG (route.alts), and repeats
// of a key in one call, also take the DeleteObject path.

// DeleteItem is one key of a DeleteObjects call, with the options
// DeleteObject would take for it.
type DeleteItem struct {
	Key     string
	Options DeleteOptions
}

// DeleteOutcome is what DeleteObject would have returned for one item.
type DeleteOutcome struct {
	Result DeleteResult
	Err    error
}

const (
	// singleDeleteWorkers is how many items of a DeleteObjects call that
	// take the DeleteObject path run at once.
	singleDeleteWorkers = 8
	// maxBatchKeys is how many keys go through the protocol together (an S3
	// DeleteObjects names at most 1,000).
	maxBatchKeys = 1000
)

// DeleteObjects deletes the items of bucket as DeleteObject would delete
// each (same results, same errors, item by item, in order), in a few
// batched round trips to each node instead of three fan-outs per key.
func (s *Store) DeleteObjects(ctx context.Context, bucket string, items []DeleteItem) []DeleteOutcome {
	out := make([]DeleteOutcome, len(items))
	b := &deleteBatch{s: s, bucket: bucket, items: items, out: out}
	var single []int
	seen := map[string]bool{}
	for j, it := range items {
		rt, err := s.route(bucket, it.Key)
		if err != nil {
			out[j].Err = err
			continue
		}
		var ref drive.Ref
		if it.Options.VersionID != "" {
			if ref, err = refFor(it.Options.VersionID); err != nil {
				out[j].Result = DeleteResult{VersionID: it.Options.VersionID} // no such version: nothing to delete
				continue
			}
		}
		if len(rt.alts) > 0 || seen[it.Key] {
			single = append(single, j)
			continue
		}
		seen[it.Key] = true
		b.keys = append(b.keys, &batchKey{item: j, rt: rt, ref: ref, owner: newOwner(s.cfg.NodeID)})
	}
	all := b.keys
	for len(all) > 0 {
		n := min(len(all), maxBatchKeys)
		b.keys, all = all[:n], all[n:]
		single = append(single, b.run(ctx)...)
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(singleDeleteWorkers, len(single)) {
		wg.Go(func() {
			for j := range jobs {
				out[j].Result, out[j].Err = s.DeleteObject(ctx, bucket, items[j].Key, items[j].Options)
			}
		})
	}
	for _, j := range single {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	return out
}

// deleteWrite decides, from the view read under the key's lock, what
// DeleteObject without a version id writes: a delete marker (Enabled: a
// new version; Suspended: the null version) or, unversioned, a tombstone
// replacing the null version. write is false when there is nothing to do
// (an unversioned key without records). fi lacks only Shard.
func deleteWrite(rt route, v *keyView, opts DeleteOptions) (fi drive.FileInfo, res DeleteResult, write bool) {
	fi = drive.FileInfo{Bucket: rt.bucket, Key: rt.key, Deleted: true, K: rt.k, M: rt.m}
	switch opts.Versioning {
	case meta.VersioningEnabled:
		res.DeleteMarker = true
	case meta.VersioningSuspended:
		fi.Null = true
		res.DeleteMarker = true
	default:
		if !v.hasRecords() {
			return fi, DeleteResult{}, false
		}
		fi.Null, fi.Tombstone = true, true
	}
	fi.ModTime = v.newModTime()
	fi.VersionID = newVersionID(fi.ModTime)
	if res.DeleteMarker {
		res.VersionID = extVersionID(fi)
	}
	return fi, res, true
}

// versionsToRemove returns the groups of the view that a delete of the
// version ref removes (the null version may have several records groups),
// and the one that describes it: the first that exists, else the first.
func versionsToRemove(v *keyView, ref drive.Ref) (groups []*versionGroup, main *versionGroup) {
	for _, g := range v.groups {
		if ref.Null && g.fi.Null || !ref.Null && g.fi.VersionID == ref.ID && g.fi.ModTime == ref.ModTime {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	main = groups[0]
	for _, g := range groups {
		if v.present(g) {
			return groups, g
		}
	}
	return groups, main
}

// batchKey is one key of a deleteBatch.
type batchKey struct {
	item  int // index in deleteBatch.items
	rt    route
	ref   drive.Ref // the version to remove; zero: write a marker or tombstone
	owner string    // the lock owner

	answers []keyAnswer // lock phase, per drive
	granted []bool      // lock leases granted, per drive
	v       *keyView
	res     DeleteResult
	freed   bool // res.Freed is settled by the write (nullFreed)
	// Write phase: per drive, the operations sent and those that worked.
	sent, ok []int
	done     bool // decided without a write, or failed
}

// deleteBatch is one DeleteObjects run through the batched protocol.
type deleteBatch struct {
	s      *Store
	bucket string
	items  []DeleteItem
	out    []DeleteOutcome
	keys   []*batchKey
}

// run deletes b.keys and returns the items left to DeleteObject.
func (b *deleteBatch) run(ctx context.Context) (single []int) {
	if len(b.keys) == 0 {
		return nil
	}
	s := b.s
	for _, k := range b.keys {
		k.answers = make([]keyAnswer, len(k.rt.drives))
		k.granted = make([]bool, len(k.rt.drives))
		for i := range k.answers {
			k.answers[i] = keyAnswer{drive: i, err: errUnreachable}
		}
	}

	// Lock every key on every drive of its PG; the view read under the
	// leases decides the write.
	legacy := false
	b.phase(ctx, func(k *batchKey, i int) []keyOp {
		return []keyOp{{Kind: opLock, Drive: k.rt.drives[i].id, Key: k.rt.key, Owner: k.owner}}
	}, func(k *batchKey, i int, r keyOpResult, err error) {
		if err == nil {
			if err = r.err(); err == nil && r.Versions != nil {
				k.answers[i].kv = *r.Versions
			}
		}
		var re *rpc.RemoteError
		if errors.As(err, &re) && re.Code == rpc.CodeUnknownMethod {
			legacy = true // a node of a version without dp.key_ops
		}
		k.answers[i].err = err
		k.granted[i] = err == nil && r.Granted
		k.answers[i].ok = k.granted[i]
	}, func(k *batchKey) bool {
		n := 0
		for _, a := range k.answers {
			if a.err == nil {
				n++
			}
		}
		return n >= max(writeQuorum(k.rt.k, k.rt.m), len(k.rt.drives)/2+1)
	}, true)
	if err := ctx.Err(); err != nil {
		b.unlock(b.keys, false)
		for _, k := range b.keys {
			b.out[k.item].Err = err
		}
		return nil
	}
	if legacy {
		b.unlock(b.keys, true)
		for _, k := range b.keys {
			single = append(single, k.item)
		}
		return single
	}
	var contended, writing []*batchKey
	for _, k := range b.keys {
		need := writeQuorum(k.rt.k, k.rt.m)
		reached := make([]bool, len(k.rt.drives))
		for i, a := range k.answers {
			reached[i] = a.err == nil
		}
		switch {
		case count(reached) < need:
			b.out[k.item].Err = &QuorumError{Op: "lock", Have: count(reached), Need: need}
			k.done = true
		case count(k.granted) < len(k.rt.drives)/2+1:
			contended = append(contended, k) // another writer holds it: DeleteObject waits for it
			single = append(single, k.item)
			k.done = true
		default:
			k.v = s.newKeyView(k.rt, k.answers)
			k.v.reachable = reached
			writing = append(writing, k)
		}
	}
	// Other writers' keys are released now, before DeleteObject locks them.
	b.unlock(contended, true)
	defer b.unlock(b.keys, false)

	// Decide each key's write as DeleteObject does, then write them all.
	ops := make(map[*batchKey][]drive.FileInfo) // markers and tombstones
	var removals map[*batchKey][]*versionGroup
	for _, k := range writing {
		opts := b.items[k.item].Options
		if opts.VersionID == "" {
			fi, res, write := deleteWrite(k.rt, k.v, opts)
			k.res, k.freed = res, fi.Null
			if !write {
				k.done = true
				continue
			}
			ops[k] = []drive.FileInfo{fi}
			continue
		}
		k.res = DeleteResult{VersionID: opts.VersionID}
		groups, main := versionsToRemove(k.v, k.ref)
		if groups == nil {
			k.done = true
			continue
		}
		k.res.DeleteMarker = main.fi.Deleted && !main.fi.Tombstone
		if k.v.present(main) && !main.fi.Deleted {
			k.res.Freed = Freed{Bytes: main.fi.Size, Versions: 1}
		}
		if removals == nil {
			removals = map[*batchKey][]*versionGroup{}
		}
		removals[k] = groups
	}
	for _, k := range writing {
		k.sent, k.ok = make([]int, len(k.rt.drives)), make([]int, len(k.rt.drives))
	}
	b.phase(context.WithoutCancel(ctx), func(k *batchKey, i int) []keyOp {
		if k.done || !k.v.reachable[i] {
			return nil
		}
		var kops []keyOp
		for _, fi := range ops[k] {
			rec := fi
			rec.Shard = i
			kops = append(kops, keyOp{Kind: opCommit, Drive: k.rt.drives[i].id, Key: k.rt.key, FI: &rec})
		}
		for _, g := range removals[k] {
			ref := drive.RefOf(g.fi)
			kops = append(kops, keyOp{Kind: opDeleteVersion, Drive: k.rt.drives[i].id, Key: k.rt.key, Ref: &ref})
		}
		if len(kops) == 1 && k.granted[i] {
			// The drive is done with the key once it wrote: the write
			// releases the lease (as CommitUnlock does). With several
			// writes on one drive, which run in parallel, unlock does.
			kops[0].Owner = k.owner
		}
		k.sent[i] = len(kops)
		return kops
	}, func(k *batchKey, i int, r keyOpResult, err error) {
		if err == nil && k.sent[i] == 1 {
			k.granted[i] = false // the node ran the write, and released the lease
		}
		if err == nil {
			err = r.err()
		}
		if err != nil && !(errors.Is(err, drive.ErrNotFound) && removals[k] != nil) {
			s.log.Warn("delete failed", "bucket", b.bucket, "key", k.rt.key, "drive", k.rt.drives[i].id, "err", err)
			return
		}
		k.ok[i]++
	}, func(k *batchKey) bool {
		return k.done || k.written() >= writeQuorum(k.rt.k, k.rt.m)
	}, false)
	for _, k := range writing {
		if k.done {
			b.out[k.item].Result = k.res
			continue
		}
		if need := writeQuorum(k.rt.k, k.rt.m); k.written() < need {
			b.out[k.item].Err = &QuorumError{Op: "delete", Have: k.written(), Need: need}
			continue
		}
		if k.freed {
			k.res.Freed = k.v.nullFreed()
		}
		b.out[k.item].Result = k.res
	}
	return single
}

// written is the number of drives that did every write sent to them.
func (k *batchKey) written() int {
	n := 0
	for i, sent := range k.sent {
		if sent > 0 && k.ok[i] == sent {
			n++
		}
	}
	return n
}

// unlock releases the leases of keys on every drive that was asked (a
// lock answer that comes later releases its own, see phase). wait: before
// returning; else in the background, as keyLock.release does.
func (b *deleteBatch) unlock(keys []*batchKey, wait bool) {
	if len(keys) == 0 {
		return
	}
	release := func() {
		b.phaseOf(context.Background(), keys, func(k *batchKey, i int) []keyOp {
			if !k.granted[i] {
				return nil
			}
			k.granted[i] = false
			return []keyOp{{Kind: opUnlock, Drive: k.rt.drives[i].id, Key: k.rt.key, Owner: k.owner}}
		}, nil, nil, false)
	}
	if wait {
		release()
		return
	}
	go release()
}

// phase runs one step of the protocol for every key of the batch, see
// phaseOf.
func (b *deleteBatch) phase(ctx context.Context, opsFor func(k *batchKey, i int) []keyOp, answer func(k *batchKey, i int, r keyOpResult, err error), enough func(k *batchKey) bool, lock bool) {
	b.phaseOf(ctx, b.keys, opsFor, answer, enough, lock)
}

// phaseOf sends each node, in one dp.key_ops call, the operations opsFor
// gives for keys on that node's drives, and hands every operation's
// outcome to answer (on this goroutine, one node's answers at a time). It
// returns when every node answered, or once enough holds for every key and
// the others had the straggler grace (runQuorum: they are not cancelled and
// finish in the background). lock: the operations take leases, so those
// that a late node grants are released when its answer comes.
func (b *deleteBatch) phaseOf(ctx context.Context, keys []*batchKey, opsFor func(k *batchKey, i int) []keyOp, answer func(k *batchKey, i int, r keyOpResult, err error), enough func(k *batchKey) bool, lock bool) {
	s := b.s
	type target struct {
		node, addr string
		local      bool
	}
	type slot struct {
		k *batchKey
		i int
	}
	type call struct {
		target
		ops   []keyOp
		slots []slot
	}
	var calls []*call
	byNode := map[string]*call{}
	for _, k := range keys {
		for i, d := range k.rt.drives {
			kops := opsFor(k, i)
			if len(kops) == 0 {
				continue
			}
			var t target
			switch st := d.store.(type) {
			case localStore:
				t = target{node: s.cfg.NodeID, local: true}
			case *remoteDrive:
				t = target{node: st.nodeID, addr: st.addr}
			default: // offline: no node to ask
				if answer != nil {
					for range kops {
						answer(k, i, keyOpResult{}, fmt.Errorf("%w: %s", errUnreachable, d.id))
					}
				}
				continue
			}
			c := byNode[t.node]
			if c == nil {
				c = &call{target: t}
				byNode[t.node] = c
				calls = append(calls, c)
			}
			for _, op := range kops {
				c.ops = append(c.ops, op)
				c.slots = append(c.slots, slot{k, i})
			}
		}
	}
	if len(calls) == 0 {
		return
	}
	type reply struct {
		c   *call
		res []keyOpResult
	}
	deliver := func(c *call, res []keyOpResult, err error) {
		if answer == nil {
			return
		}
		for n, sl := range c.slots {
			r := keyOpResult{}
			if err == nil {
				r = res[n]
			}
			answer(sl.k, sl.i, r, err)
		}
	}
	covered := func() bool {
		if enough == nil {
			return false
		}
		for _, k := range keys {
			if !enough(k) {
				return false
			}
		}
		return true
	}
	res := runQuorum(s, ctx, len(calls), nil, 1,
		func(r reply, err error) bool {
			deliver(r.c, r.res, err)
			return covered()
		},
		func(ctx context.Context, n int) (reply, error) {
			c := calls[n]
			var res []keyOpResult
			var err error
			if c.local {
				res = s.runKeyOps(ctx, b.bucket, s.cfg.LockTTL, c.ops)
			} else {
				res, err = s.callKeyOps(ctx, c.node, c.addr, b.bucket, c.ops)
			}
			return reply{c, res}, err
		},
		func(_ int, r reply, err error) {
			if !lock || err != nil {
				return
			}
			// Leases granted after the batch went on without this node.
			var late []keyOp
			for n, op := range r.c.ops {
				if r.res[n].Granted {
					late = append(late, keyOp{Kind: opUnlock, Drive: op.Drive, Key: op.Key, Owner: op.Owner})
				}
			}
			if len(late) > 0 {
				ctx, cancel := s.metaCtx(context.Background())
				defer cancel()
				if r.c.local {
					s.runKeyOps(ctx, b.bucket, s.cfg.LockTTL, late)
				} else if _, err := s.callKeyOps(ctx, r.c.node, r.c.addr, b.bucket, late); err != nil {
					s.log.Debug("releasing late leases failed", "bucket", b.bucket, "node", r.c.node, "err", err)
				}
			}
		})
	for n, r := range res {
		if !r.done {
			s.log.Warn("delete batch went on without a node slower than the straggler grace", "bucket", b.bucket, "node", calls[n].node, "operations", len(calls[n].ops))
		}
	}
}

// methodKeyOps is the batched key operations of DeleteObjects: hdr
// wireReq{Bucket, TTL (of the leases)}, body JSON []keyOp -> body JSON
// []keyOpResult (one per operation, in order).
const methodKeyOps = "dp.key_ops"

// keyOpKind is what a keyOp does.
type keyOpKind uint8

const (
	opLock          keyOpKind = iota + 1 // LockKey for Owner (versions read under the lease, without Target)
	opCommit                             // CommitVersion(FI), then with Owner UnlockKey
	opDeleteVersion                      // DeleteVersion(Ref), then with Owner UnlockKey
	opUnlock                             // UnlockKey for Owner
)

// keyOp is one operation on one key of one of the node's drives; the
// bucket is the call's.
type keyOp struct {
	Kind  keyOpKind       `json:"op"`
	Drive string          `json:"drive"`
	Key   string          `json:"key"`
	Owner string          `json:"owner,omitempty"`
	FI    *drive.FileInfo `json:"fi,omitempty"`
	Ref   *drive.Ref      `json:"ref,omitempty"`
}

// keyOpResult is the outcome of one keyOp. Code and Message carry an error
// as the rpc error of the single-key method would (errorCodes).
type keyOpResult struct {
	Granted  bool               `json:"granted,omitempty"`
	Versions *drive.KeyVersions `json:"versions,omitempty"`
	Code     string             `json:"code,omitempty"`
	Message  string             `json:"message,omitempty"`
}

// err returns the operation's error, mapped back to its sentinel.
func (r keyOpResult) err() error {
	if r.Code == "" {
		return nil
	}
	for _, e := range errorCodes {
		if r.Code == e.code {
			return fmt.Errorf("%w: %s", e.err, r.Message)
		}
	}
	return fmt.Errorf("dataplane: %s: %s", r.Code, r.Message)
}

// setErr records err in r as toRPCError would send it.
func (r *keyOpResult) setErr(err error) {
	if err == nil {
		return
	}
	r.Code, r.Message = "internal", err.Error()
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			r.Code = e.code
			return
		}
	}
}

// keyOpWorkers bounds the operations of one dp.key_ops call that run at
// once on a node: enough for a drive's group commit to gather many index
// writes into one transaction.
const keyOpWorkers = 128

// runKeyOps runs ops on this node's drives, in parallel, with the code of
// the single-key handlers (lockLocal, the drive's CommitVersion and
// DeleteVersion through the placement fence, the lock table).
func (s *Store) runKeyOps(ctx context.Context, bucket string, ttl time.Duration, ops []keyOp) []keyOpResult {
	res := make([]keyOpResult, len(ops))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(keyOpWorkers, len(ops)) {
		wg.Go(func() {
			for n := range jobs {
				res[n] = s.runKeyOp(ctx, bucket, ttl, ops[n])
			}
		})
	}
	for n := range ops {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	return res
}

// runKeyOp runs one operation; leases last ttl.
func (s *Store) runKeyOp(ctx context.Context, bucket string, ttl time.Duration, op keyOp) keyOpResult {
	var r keyOpResult
	if op.Kind == opUnlock {
		s.locks.release(lockName{drive: op.Drive, bucket: bucket, key: op.Key}, op.Owner)
		return r
	}
	d, ok := s.local[op.Drive]
	if !ok {
		r.setErr(fmt.Errorf("%w: %s on node %s", errNoDrive, op.Drive, s.cfg.NodeID))
		return r
	}
	switch op.Kind {
	case opLock:
		if op.Owner == "" {
			r.setErr(fmt.Errorf("%w: lock without owner", errBadRequest))
			return r
		}
		granted, kv, err := s.lockLocal(ctx, d, op.Drive, bucket, op.Key, op.Owner, ttl)
		kv.Target = nil // a delete reads no data
		r.Granted, r.Versions = granted, &kv
		r.setErr(err)
	case opCommit:
		if op.FI == nil || op.FI.Bucket != bucket || op.FI.Key != op.Key {
			r.setErr(fmt.Errorf("%w: commit without its record", errBadRequest))
			return r
		}
		r.setErr(d.CommitVersion(ctx, *op.FI))
		s.unlockAfter(bucket, op)
	case opDeleteVersion:
		if op.Ref == nil {
			r.setErr(fmt.Errorf("%w: delete without a version", errBadRequest))
			return r
		}
		r.setErr(d.DeleteVersion(ctx, bucket, op.Key, *op.Ref))
		s.unlockAfter(bucket, op)
	default:
		r.setErr(fmt.Errorf("%w: key operation %d", errBadRequest, op.Kind))
	}
	return r
}

// unlockAfter releases, after a write that names its lock's owner, the
// owner's lease on the key (whatever the write's outcome).
func (s *Store) unlockAfter(bucket string, op keyOp) {
	if op.Owner != "" {
		s.locks.release(lockName{drive: op.Drive, bucket: bucket, key: op.Key}, op.Owner)
	}
}

// maxKeyOps bounds the operations of one dp.key_ops call: maxBatchKeys
// keys with up to 16 of their PG's drives on the node.
const maxKeyOps = 16 * maxBatchKeys

// callKeyOps sends ops to node (at addr) and returns their outcomes. A node
// gossip declared down is not asked.
func (s *Store) callKeyOps(ctx context.Context, node, addr, bucket string, ops []keyOp) ([]keyOpResult, error) {
	if s.cfg.Down != nil && s.cfg.Down(node) {
		return nil, fmt.Errorf("%w: node %s is down", errUnreachable, node)
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	b, err := replyBody(callNode(ctx, s.tr, addr, methodKeyOps, wireReq{Bucket: bucket, TTL: s.cfg.LockTTL}, bytes.NewReader(body)))
	if err != nil {
		return nil, err
	}
	var res []keyOpResult
	if err := json.Unmarshal(b, &res); err != nil || len(res) != len(ops) {
		return nil, fmt.Errorf("dataplane: %s reply from %s: %d results for %d operations: %v", methodKeyOps, node, len(res), len(ops), err)
	}
	return res, nil
}

// handleKeyOps serves dp.key_ops.
func (s *Store) handleKeyOps(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	w, _, err := s.decodeReq(req, false)
	if err != nil {
		return nil, nil, err
	}
	body, err := readBody(req.Body)
	if err != nil {
		return nil, nil, toRPCError(err)
	}
	var ops []keyOp
	if err := json.Unmarshal(body, &ops); err != nil {
		return nil, nil, badRequest("key operations: %v", err)
	}
	if len(ops) > maxKeyOps {
		return nil, nil, badRequest("%d key operations, at most %d", len(ops), maxKeyOps)
	}
	if w.TTL <= 0 || w.TTL > maxLockTTL {
		return nil, nil, badRequest("key operations with lease ttl %v", w.TTL)
	}
	out, err := json.Marshal(s.runKeyOps(ctx, w.Bucket, w.TTL, ops))
	if err != nil {
		return nil, nil, err
	}
	return nil, bodyReply(out), nil
}
