package audit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Sender delivers one batch of marshalled events to a target. An error
// means the batch may not have arrived: the queue sends it again later.
type Sender interface {
	Send(ctx context.Context, batch [][]byte) error
}

// QueueConfig shapes a Queue. Zero fields take DefaultQueueConfig's values.
type QueueConfig struct {
	Size          int           // events held at most; more are dropped
	BatchSize     int           // events per batch at most
	FlushInterval time.Duration // longest a queued event waits for its batch to fill
	MinBackoff    time.Duration // pause after a batch's first failed attempt
	MaxBackoff    time.Duration // longest pause between attempts
	MaxAttempts   int           // attempts per batch before it is dropped
}

// DefaultQueueConfig returns the defaults: 10000 events, batches of 100
// or 1 s, backoff 100 ms doubling to 30 s, 10 attempts (about 2 minutes
// of retries).
func DefaultQueueConfig() QueueConfig {
	return QueueConfig{Size: 10000, BatchSize: 100, FlushInterval: time.Second,
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second, MaxAttempts: 10}
}

func (c QueueConfig) withDefaults() QueueConfig {
	d := DefaultQueueConfig()
	if c.Size <= 0 {
		c.Size = d.Size
	}
	if c.BatchSize <= 0 {
		c.BatchSize = d.BatchSize
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = d.MinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(d.MaxBackoff, c.MinBackoff)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	return c
}

// DropLogInterval is the least time between two log lines about events a
// queue dropped.
const DropLogInterval = 10 * time.Second

// QueueStats are a queue's counters since it started.
type QueueStats struct {
	Queued  int   // events waiting now
	Sent    int64 // events delivered
	Dropped int64 // events dropped: queue full, or their batch failed MaxAttempts times
	Retries int64 // failed attempts that were retried
	Failed  int64 // batches dropped after MaxAttempts
}

// Queue is a bounded queue of marshalled events with one goroutine that
// delivers them through a Sender in batches. Add never blocks.
type Queue struct {
	name string // the target, for logs
	cfg  QueueConfig
	send Sender
	log  *slog.Logger

	ch     chan []byte
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	once   sync.Once

	sent, dropped, retries, failed atomic.Int64
	unlogged                       atomic.Int64 // drops not logged yet
	lastLog                        atomic.Int64 // unix nanoseconds of the last drop log
}

// NewQueue starts a queue delivering to s. name identifies the target in
// logs (a URL, never a token).
func NewQueue(name string, cfg QueueConfig, s Sender, log *slog.Logger) *Queue {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{name: name, cfg: cfg, send: s, log: log, ch: make(chan []byte, cfg.Size),
		stop: make(chan struct{}), done: make(chan struct{})}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	go q.run()
	return q
}

// Add queues one marshalled event; false when the queue is full and the
// event was dropped.
func (q *Queue) Add(ev []byte) bool {
	select {
	case q.ch <- ev:
		return true
	default:
		q.drop(1, "queue full")
		return false
	}
}

// drop counts n dropped events and logs, at most once per DropLogInterval,
// how many were dropped since the last line.
func (q *Queue) drop(n int64, why string) {
	q.dropped.Add(n)
	q.unlogged.Add(n)
	now := time.Now().UnixNano()
	last := q.lastLog.Load()
	if now-last < int64(DropLogInterval) || !q.lastLog.CompareAndSwap(last, now) {
		return
	}
	q.log.Warn("audit events dropped", "target", q.name, "reason", why,
		"dropped", q.unlogged.Swap(0), "dropped_total", q.dropped.Load())
}

// Stats returns the queue's counters.
func (q *Queue) Stats() QueueStats {
	return QueueStats{Queued: len(q.ch), Sent: q.sent.Load(), Dropped: q.dropped.Load(),
		Retries: q.retries.Load(), Failed: q.failed.Load()}
}

// Close stops the queue: what is queued is still delivered until ctx
// ends; then the attempt in flight is abandoned and the rest is counted
// as dropped. Events added after Close are not delivered.
func (q *Queue) Close(ctx context.Context) {
	q.once.Do(func() { close(q.stop) })
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancel()
		<-q.done
	}
	q.cancel()
}

func (q *Queue) run() {
	defer close(q.done)
	batch := make([][]byte, 0, q.cfg.BatchSize)
	for {
		batch = batch[:0]
		select {
		case ev := <-q.ch:
			batch = append(batch, ev)
		case <-q.stop:
			q.drain(batch)
			return
		}
		stopping := q.fill(&batch)
		q.deliver(batch)
		if stopping {
			q.drain(batch[:0])
			return
		}
	}
}

// fill adds to batch what arrives until it is full or FlushInterval has
// passed; true when the queue is stopping.
func (q *Queue) fill(batch *[][]byte) bool {
	t := time.NewTimer(q.cfg.FlushInterval)
	defer t.Stop()
	for len(*batch) < q.cfg.BatchSize {
		select {
		case ev := <-q.ch:
			*batch = append(*batch, ev)
		case <-t.C:
			return false
		case <-q.stop:
			return true
		}
	}
	return false
}

// drain delivers what is queued, in batches, once the queue stops.
func (q *Queue) drain(batch [][]byte) {
	for {
		select {
		case ev := <-q.ch:
			batch = append(batch, ev)
			if len(batch) < q.cfg.BatchSize {
				continue
			}
		default:
			if len(batch) > 0 {
				q.deliver(batch)
			}
			return
		}
		q.deliver(batch)
		batch = batch[:0]
	}
}

// deliver sends batch, retrying with exponential backoff; after
// MaxAttempts failures, or once Close gave up waiting, the batch is
// dropped.
func (q *Queue) deliver(batch [][]byte) {
	wait := q.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		if q.ctx.Err() != nil {
			q.drop(int64(len(batch)), "shutting down")
			return
		}
		err := q.send.Send(q.ctx, batch)
		if err == nil {
			q.sent.Add(int64(len(batch)))
			return
		}
		if attempt >= q.cfg.MaxAttempts {
			q.failed.Add(1)
			q.log.Warn("audit batch dropped after retries", "target", q.name, "events", len(batch), "attempts", attempt, "err", err)
			q.drop(int64(len(batch)), "target failing")
			return
		}
		q.retries.Add(1)
		q.log.Debug("audit batch failed, retrying", "target", q.name, "attempt", attempt, "backoff", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, q.cfg.MaxBackoff)
	}
}
