package dataplane

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
)

// probeResult is what a write learns from asking every PG drive for its
// current record before committing.
type probeResult struct {
	reachable []bool // the drive answered (with a record or ErrNotFound)
	n         int    // number of reachable drives
	records   int    // number of drives holding any record of the key
	maxMod    int64  // newest ModTime among the records
}

// probe asks every PG drive for its current record of bucket/key, in
// parallel. A write uses it to commit only when a write quorum is reachable
// (a commit that reaches fewer drives would replace the previous version's
// records there and could leave neither version readable), and to give its
// record a ModTime newer than every stored one, so an overwrite or delete
// wins even when this node's clock is behind the writer of the stored record.
func (s *Store) probe(ctx context.Context, rt route, bucket, key string) probeResult {
	ctx, cancel := s.metaCtx(ctx)
	defer cancel()
	res := probeResult{reachable: make([]bool, len(rt.drives))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, d := range rt.drives {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fi, err := d.store.ReadVersion(ctx, bucket, key)
			if err != nil && !errors.Is(err, drive.ErrNotFound) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.reachable[i] = true
			res.n++
			if err == nil {
				res.records++
				res.maxMod = max(res.maxMod, fi.ModTime)
			}
		}()
	}
	wg.Wait()
	return res
}

// modTime is the ModTime of a new record: now, or just after the newest
// stored record when that one is ahead of this node's clock.
func (p probeResult) modTime() int64 {
	return max(time.Now().UnixNano(), p.maxMod+1)
}

// startProbe runs probe in the background; the returned function waits for
// its result.
func (s *Store) startProbe(ctx context.Context, rt route, bucket, key string) func() probeResult {
	ch := make(chan probeResult, 1)
	go func() { ch <- s.probe(ctx, rt, bucket, key) }()
	return sync.OnceValue(func() probeResult { return <-ch })
}
