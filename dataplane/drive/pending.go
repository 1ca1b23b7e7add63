package drive

import "sync"

// pendingShards are the shard files WriteShard is writing or wrote since
// Open that no commit took and no AbortShard removed yet. They live in
// shards/ beside the committed ones (shard.go); this set is what tells
// them apart: AbortShard removes only a written pending shard (never a
// committed one), a commit takes only a written one (never one still being
// written), and the orphan sweep never removes a pending one, however old.
//
// A written shard is claimed by the commit that names it (so that
// AbortShard cannot remove it while the record is being written), settled
// (dropped from the set) once the record is written, and unclaimed when
// the record could not be written, for a retry or AbortShard. The set does
// not outlive the process: a shard written before a restart and never
// committed is an orphan for the sweep.
type pendingShards struct {
	mu sync.Mutex
	m  map[string]shardState
}

// shardState is where a pending shard is.
type shardState uint8

const (
	shardWriting shardState = iota // WriteShard has not returned
	shardWritten                   // written and fsync'd, not committed
	shardClaimed                   // a commit is writing its record
)

// add records a shard about to be written; false if it is already pending.
func (p *pendingShards) add(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[id]; ok {
		return false
	}
	if p.m == nil {
		p.m = make(map[string]shardState)
	}
	p.m[id] = shardWriting
	return true
}

// move changes id's state from one to another; false if id is not pending
// in state from.
func (p *pendingShards) move(id string, from, to shardState) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.m[id]; !ok || st != from {
		return false
	}
	p.m[id] = to
	return true
}

// claim marks a written shard as taken by a commit. pending is false when
// id is not pending at all (committed already, or written before a
// restart); ok is false when it is pending but not written, or claimed by
// another commit.
func (p *pendingShards) claim(id string) (pending, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, pending := p.m[id]
	if pending && st == shardWritten {
		p.m[id] = shardClaimed
		return true, true
	}
	return pending, false
}

// drop forgets a written shard that no commit holds (AbortShard); false
// otherwise.
func (p *pendingShards) drop(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.m[id]; !ok || st != shardWritten {
		return false
	}
	delete(p.m, id)
	return true
}

// settle forgets a shard: its write failed, or its commit wrote its
// record.
func (p *pendingShards) settle(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, id)
}

// unwritten reports whether id is pending and not claimed by a commit:
// being written, or written and not committed (no reader may open it).
func (p *pendingShards) unwritten(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, ok := p.m[id]
	return ok && st != shardClaimed
}

// has reports whether id is pending, in any state.
func (p *pendingShards) has(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.m[id]
	return ok
}

// folderSyncs shares folder fsyncs among concurrent writers: every shard
// written at the same time goes to the same fan-out folder (the data
// plane's shard ids start with a time slot), and one fsync of the folder
// makes every entry created before it started durable.
type folderSyncs struct {
	mu sync.Mutex
	m  map[string]*folderSync
}

// folderSync is the group fsync of one folder: at most one fsync runs;
// writers that ask while it runs join the next round, which the first of
// them to see the running one finish starts.
type folderSync struct {
	mu      sync.Mutex
	running *syncRound // the fsync in progress; nil if none
	next    *syncRound // the round writers join while one runs; nil if none
}

// syncRound is one fsync of a folder and what it returned.
type syncRound struct {
	done chan struct{} // closed when err is set
	err  error
}

// sync makes the entries created in dir before the call durable, sharing
// the fsync (do) with concurrent callers for the same dir. Every caller a
// round covers gets that round's error.
func (s *folderSyncs) sync(dir string, do func() error) error {
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[string]*folderSync)
	}
	fs := s.m[dir]
	if fs == nil {
		fs = &folderSync{}
		s.m[dir] = fs
	}
	s.mu.Unlock()
	return fs.sync(do)
}

func (s *folderSync) sync(do func() error) error {
	s.mu.Lock()
	for {
		if s.running == nil {
			// Start a round: it covers this caller and every one that
			// joined the waiting round.
			r := s.next
			if r == nil {
				r = &syncRound{done: make(chan struct{})}
			}
			s.next, s.running = nil, r
			s.mu.Unlock()
			r.err = do()
			s.mu.Lock()
			s.running = nil
			s.mu.Unlock()
			close(r.done)
			return r.err
		}
		// The running fsync may have started before this caller's entry
		// was created: join the next round.
		if s.next == nil {
			s.next = &syncRound{done: make(chan struct{})}
		}
		mine, cur := s.next, s.running
		s.mu.Unlock()
		<-cur.done
		s.mu.Lock()
		if s.next != mine {
			// Another member started it.
			s.mu.Unlock()
			<-mine.done
			return mine.err
		}
	}
}
