package dataplane

import (
	"context"
	"time"
)

// graceWait receives the answers of calls parallel calls from ch, giving
// each to take (if not nil), until all have answered or, once need of them
// counted (counts) while others are still out, until the grace (of the
// time the quorum took) has passed. It returns how many answered; the
// others still send to ch (which must have room).
func graceWait[A any](ch <-chan A, calls, need int, counts func(A) bool, take func(A), grace func(took time.Duration) time.Duration) int {
	start := time.Now()
	var expired <-chan time.Time
	got, ok := 0, 0
	for got < calls {
		select {
		case a := <-ch:
			got++
			if take != nil {
				take(a)
			}
			if counts(a) {
				ok++
			}
			if ok >= need && expired == nil && got < calls {
				t := time.NewTimer(grace(time.Since(start)))
				defer t.Stop()
				expired = t.C
			}
		case <-expired:
			return got
		}
	}
	return got
}

// awaitQuorum waits for calls parallel calls that report on done whether
// they count towards the quorum (graceWait with streamGrace); calls still
// out after the grace are stopped with stop, which must make them return soon (cancel
// their context), and awaited, so the caller's per-call results are
// complete and no longer written to when it returns.
//
// This is what keeps a streamed write from waiting StallTimeout for a node
// that accepts connections but does not answer (a paused process): the
// write completes on the quorum, and the silent drive misses it as if it had
// failed.
func (s *Store) awaitQuorum(done <-chan bool, calls, need int, stop func()) {
	got := graceWait(done, calls, need, func(counted bool) bool { return counted }, nil, s.streamGrace)
	if got < calls {
		stop()
		for ; got < calls; got++ {
			<-done
		}
	}
}

// stragglerGrace is how long a write waits for the remaining drives after a
// quorum answered in took: WriteStragglerWait, or 2*took when longer.
func (s *Store) stragglerGrace(took time.Duration) time.Duration {
	return max(s.cfg.WriteStragglerWait, 2*took)
}

// streamGrace is how long a streamed PUT waits for a drive that lags
// behind a write quorum before it cuts the drive off (the object is then
// stored without that shard until healed, so it is longer than
// stragglerGrace, where a slow drive only finishes late):
// 10*WriteStragglerWait or 4*took, at most StallTimeout. A drive that is
// merely slow under load keeps up within it; a paused node does not.
func (s *Store) streamGrace(took time.Duration) time.Duration {
	return min(s.cfg.StallTimeout, max(10*s.cfg.WriteStragglerWait, 4*took))
}

// callResult is one call of a runQuorum fan-out as the caller sees it.
type callResult[T any] struct {
	v    T
	err  error
	done bool // it answered before runQuorum returned (else it is still running)
}

// runQuorum calls call for every i in [0, n) that sel selects (nil: all),
// in parallel, under ctx bounded by MetaTimeout. It returns when every call
// has answered, or once need answers counted (counts) and the others have
// had the straggler grace (stragglerGrace of the time the quorum took).
// Calls still running then are not cancelled: they go on in the background
// (a slow drive still gets the write) and late, if not nil, gets their
// outcome there. Only a drive that does not answer within MetaTimeout is
// cut off. The result is indexed like the calls; done marks the answers.
//
// This is what keeps a write from waiting MetaTimeout for a node that
// accepts connections but does not answer (a paused process), without
// giving up on drives that are merely slower than the quorum.
func runQuorum[T any](s *Store, ctx context.Context, n int, sel func(i int) bool, need int, counts func(v T, err error) bool,
	call func(ctx context.Context, i int) (T, error), late func(i int, v T, err error)) []callResult[T] {
	cctx, cancel := s.metaCtx(ctx)
	type answer struct {
		i   int
		v   T
		err error
	}
	ch := make(chan answer, n)
	calls := 0
	for i := range n {
		if sel != nil && !sel(i) {
			continue
		}
		calls++
		go func() {
			v, err := call(cctx, i)
			ch <- answer{i, v, err}
		}()
	}
	res := make([]callResult[T], n)
	got := graceWait(ch, calls, need, func(a answer) bool { return counts(a.v, a.err) },
		func(a answer) { res[a.i] = callResult[T]{v: a.v, err: a.err, done: true} }, s.stragglerGrace)
	if got == calls {
		cancel()
		return res
	}
	go func() {
		defer cancel()
		for range calls - got {
			a := <-ch
			if late != nil {
				late(a.i, a.v, a.err)
			}
		}
	}()
	return res
}

// succeeded counts an answer without error.
func succeeded[T any](_ T, err error) bool { return err == nil }

// fanOut runs fn on the PG drives selected by which (nil: all) in
// parallel, bounded by MetaTimeout and not cancelled by the client going
// away (runQuorum: once a write quorum succeeded, slower drives are not
// waited for beyond the straggler grace). It returns which succeeded and
// which failed; a drive in neither is still running.
func (s *Store) fanOut(ctx context.Context, rt route, which []bool, fn func(ctx context.Context, i int, d shardStore) error) (ok, failed []bool) {
	var sel func(int) bool
	if which != nil {
		sel = func(i int) bool { return which[i] }
	}
	res := runQuorum(s, context.WithoutCancel(ctx), len(rt.drives), sel, writeQuorum(rt.k, rt.m), succeeded,
		func(ctx context.Context, i int) (struct{}, error) { return struct{}{}, fn(ctx, i, rt.drives[i].store) },
		func(i int, _ struct{}, err error) {
			if err != nil {
				s.log.Debug("drive call failed after the write returned", "bucket", rt.bucket, "key", rt.key, "drive", rt.drives[i].id, "err", err)
			}
		})
	ok, failed = make([]bool, len(res)), make([]bool, len(res))
	for i, r := range res {
		if r.done && r.err != nil {
			s.log.Debug("drive call failed", "bucket", rt.bucket, "key", rt.key, "drive", rt.drives[i].id, "err", r.err)
		}
		ok[i] = r.done && r.err == nil
		failed[i] = r.done && r.err != nil
	}
	return ok, failed
}
