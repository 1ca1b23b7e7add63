package drive

import (
	"errors"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit.
//
// Every bbolt write transaction costs two fdatasyncs (pages, then meta
// page), whatever it holds, and transactions of one index run one at a
// time. Concurrent writers of small records (every PUT commits a record on
// each drive of its PG) would queue behind each other's fsyncs. Batch
// gathers them instead: the first writer to arrive leads and commits the
// writes queued at that moment in one transaction; writers that arrive
// meanwhile queue, and when the leader is done one of them leads the next
// transaction. Nothing waits for a timer, so a lone writer commits as fast
// as with Update, and under load one fsync pair is shared by many writes.
// Every write is still durable when Batch returns.
//
// A function that fails rolls back the shared transaction: it is then run
// alone (its error is its own) and the others are committed again without
// it. Functions may therefore run more than once, and must only change
// the transaction and variables they reset at their start (as bbolt's own
// DB.Batch requires).

// maxBatch bounds the writes of one transaction.
const maxBatch = 256

// batcher is an index's queue of writes waiting for a transaction.
type batcher struct {
	mu      sync.Mutex
	queue   []*batchCall
	leading bool // a writer is running transactions for the queue
}

// batchCall is one queued write: fn, and where its outcome goes.
type batchCall struct {
	fn  func(*bolt.Tx) error
	res chan error // buffered: errLead (lead now), then the outcome
}

// errLead tells a queued writer that it leads the next transaction.
var errLead = errors.New("drive: lead the next batch")

// Batch runs fn in a write transaction shared with concurrent Batch calls
// (see above), behind the integrity guard like Update. fn may run more than
// once.
func (x *indexDB) Batch(fn func(*bolt.Tx) error) error {
	c := &batchCall{fn: fn, res: make(chan error, 1)}
	b := &x.batch
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.leading {
		b.mu.Unlock()
		if err := <-c.res; err != errLead {
			return err
		}
		b.mu.Lock()
	}
	b.leading = true
	calls := b.queue[:min(len(b.queue), maxBatch)]
	b.queue = b.queue[len(calls):]
	b.mu.Unlock()

	x.commitBatch(calls)

	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].res <- errLead // still leading: hand over
	} else {
		b.leading = false
	}
	b.mu.Unlock()
	return <-c.res
}

// commitBatch commits calls in one transaction and gives each its outcome.
func (x *indexDB) commitBatch(calls []*batchCall) {
	calls = append([]*batchCall(nil), calls...)
	for len(calls) > 0 {
		failed := -1
		err := x.Update(func(tx *bolt.Tx) error {
			failed = -1
			for i, c := range calls {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 || len(calls) == 1 {
			// Committed, or the transaction itself failed: the outcome
			// of every call.
			for _, c := range calls {
				c.res <- err
			}
			return
		}
		f := calls[failed]
		calls = append(calls[:failed], calls[failed+1:]...)
		f.res <- x.Update(f.fn)
	}
}
