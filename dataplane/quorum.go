package dataplane

import (
	"context"
	"time"
)

// awaitQuorum collects the outcomes of calls parallel calls from done (one
// value per call: whether it counts towards the quorum) and returns how
// many counted, once every call has reported. When need have counted while
// others are still out, those get the straggler grace (see
// Config.WriteStragglerWait) and are then stopped with stop, which must make
// them return soon (cancel their context); awaitQuorum still waits for
// their reports, so the caller's per-call results are complete and no
// longer written to when it returns.
//
// This is what keeps a write from waiting MetaTimeout or StallTimeout for a
// node that accepts connections but does not answer (a paused process): the
// write completes on the quorum, and the silent drive misses it as if it had
// failed.
func (s *Store) awaitQuorum(done <-chan bool, calls, need int, stop func()) int {
	start := time.Now()
	var grace <-chan time.Time
	stopped := false
	ok := 0
	for got := 0; got < calls; {
		select {
		case counted := <-done:
			got++
			if counted {
				ok++
			}
			if ok >= need && grace == nil && !stopped && got < calls {
				t := time.NewTimer(s.stragglerGrace(time.Since(start)))
				defer t.Stop()
				grace = t.C
			}
		case <-grace:
			stop()
			stopped, grace = true, nil
		}
	}
	return ok
}

// stragglerGrace is how long a write waits for the remaining drives after a
// quorum answered in took: WriteStragglerWait, or 2*took when longer.
func (s *Store) stragglerGrace(took time.Duration) time.Duration {
	return max(s.cfg.WriteStragglerWait, 2*took)
}

// fanOut runs fn on the PG drives selected by which (nil: all) in
// parallel, bounded by MetaTimeout and not cancelled by the client going
// away, and returns which succeeded. Once a write quorum succeeded, the
// others get the straggler grace (awaitQuorum) and are then cancelled.
func (s *Store) fanOut(ctx context.Context, rt route, which []bool, fn func(ctx context.Context, i int, d shardStore) error) []bool {
	ctx, cancel := s.metaCtx(context.WithoutCancel(ctx))
	defer cancel()
	ok := make([]bool, len(rt.drives))
	done := make(chan bool, len(rt.drives))
	calls := 0
	for i, d := range rt.drives {
		if which != nil && !which[i] {
			continue
		}
		calls++
		go func() {
			err := fn(ctx, i, d.store)
			if err != nil {
				s.log.Debug("drive call failed", "bucket", rt.bucket, "key", rt.key, "drive", d.id, "err", err)
			}
			ok[i] = err == nil
			done <- err == nil
		}()
	}
	s.awaitQuorum(done, calls, writeQuorum(rt.k, rt.m), cancel)
	return ok
}
