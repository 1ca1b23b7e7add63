package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Target is one webhook to send every event to, its token unsealed.
type Target struct {
	URL   string
	Token string
}

// Config configures a Logger.
type Config struct {
	Node string // the node's id, set in every event
	// File, when set, also appends every event to this file (JSON lines).
	File  string
	Queue QueueConfig
	// Targets returns the webhooks now; Generation returns a number that
	// changes whenever they may have changed (the Raft applied index):
	// Log reads Targets again only then. Both nil: no webhooks.
	Targets    func() []Target
	Generation func() uint64
	// HTTP sends the webhook requests; nil: a client with a 10 s timeout.
	HTTP *http.Client
	// CloseTimeout bounds how long Close (and the removal of a webhook)
	// keeps delivering what is queued; default 5 s.
	CloseTimeout time.Duration
}

// TargetStats are one target's delivery counters.
type TargetStats struct {
	Target string // the webhook URL, or "file:" and the path
	QueueStats
}

// Logger fans every event out to the file and the webhooks.
type Logger struct {
	cfg Config
	log *slog.Logger

	file *queueOf // nil without Config.File

	mu       sync.Mutex                 // serialises refresh
	webhooks map[Target]*queueOf        // by target, under mu
	current  atomic.Pointer[[]*queueOf] // file and webhooks, read by Log
	gen      atomic.Uint64
	fresh    atomic.Bool // gen is meaningful
	closing  sync.WaitGroup
	closed   atomic.Bool
}

// queueOf is a queue with the target it delivers to.
type queueOf struct {
	name string
	q    *Queue
	file *File // the file sender, closed after the queue
}

// New starts a Logger; the file, when configured, is opened now.
func New(cfg Config, log *slog.Logger) (*Logger, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 5 * time.Second
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: webhookTimeout}
	}
	l := &Logger{cfg: cfg, log: log.With("component", "audit"), webhooks: map[Target]*queueOf{}}
	if cfg.File != "" {
		f, err := OpenFile(cfg.File)
		if err != nil {
			return nil, err
		}
		name := "file:" + cfg.File
		l.file = &queueOf{name: name, q: NewQueue(name, cfg.Queue, f, l.log), file: f}
	}
	l.publish()
	return l, nil
}

// Log sends ev to every target. It never blocks: a full queue drops the
// event. Node and Version are filled in.
func (l *Logger) Log(ev *Event) {
	if l.closed.Load() {
		return
	}
	l.refresh()
	qs := *l.current.Load()
	if len(qs) == 0 {
		return
	}
	ev.Version, ev.Node = EventVersion, l.cfg.Node
	b, err := json.Marshal(ev)
	if err != nil {
		l.log.Error("audit event not encodable", "request_id", ev.RequestID, "err", err)
		return
	}
	for _, q := range qs {
		q.q.Add(b)
	}
}

// refresh re-reads the webhooks when the generation moved: new ones get a
// queue, removed ones (or ones whose token changed) are closed in the
// background after delivering what they hold.
func (l *Logger) refresh() {
	if l.cfg.Targets == nil || l.cfg.Generation == nil {
		return
	}
	g := l.cfg.Generation()
	if l.fresh.Load() && g == l.gen.Load() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fresh.Load() && g == l.gen.Load() || l.closed.Load() {
		return
	}
	want := map[Target]bool{}
	for _, t := range l.cfg.Targets() {
		want[t] = true
		if l.webhooks[t] == nil {
			l.webhooks[t] = &queueOf{name: t.URL, q: NewQueue(t.URL, l.cfg.Queue,
				&Webhook{URL: t.URL, Token: t.Token, Client: l.cfg.HTTP}, l.log)}
			l.log.Info("audit webhook added", "target", t.URL)
		}
	}
	for t, q := range l.webhooks {
		if !want[t] {
			delete(l.webhooks, t)
			l.closeLater(q)
		}
	}
	l.publish()
	l.gen.Store(g)
	l.fresh.Store(true)
}

// publish makes the current queues visible to Log; under mu (or in New).
func (l *Logger) publish() {
	qs := make([]*queueOf, 0, 1+len(l.webhooks))
	if l.file != nil {
		qs = append(qs, l.file)
	}
	for _, q := range l.webhooks {
		qs = append(qs, q)
	}
	slices.SortFunc(qs, func(a, b *queueOf) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	l.current.Store(&qs)
}

func (l *Logger) closeLater(q *queueOf) {
	l.closing.Add(1)
	go func() {
		defer l.closing.Done()
		l.closeQueue(q)
	}()
}

func (l *Logger) closeQueue(q *queueOf) {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.CloseTimeout)
	defer cancel()
	q.q.Close(ctx)
	if q.file != nil {
		if err := q.file.Close(); err != nil {
			l.log.Warn("audit file close", "err", err)
		}
	}
}

// Stats returns every current target's counters, ordered by target.
func (l *Logger) Stats() []TargetStats {
	qs := *l.current.Load()
	out := make([]TargetStats, len(qs))
	for i, q := range qs {
		out[i] = TargetStats{Target: q.name, QueueStats: q.q.Stats()}
	}
	return out
}

// Close delivers what is queued (for up to Config.CloseTimeout) and stops
// every queue. Log does nothing afterwards.
func (l *Logger) Close() {
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return
	}
	qs := *l.current.Load()
	l.webhooks = map[Target]*queueOf{}
	empty := []*queueOf{}
	l.current.Store(&empty)
	l.mu.Unlock()
	for _, q := range qs {
		l.closeLater(q)
	}
	l.closing.Wait()
}
