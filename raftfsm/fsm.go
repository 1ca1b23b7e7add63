package raftfsm

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/strata-io/strata/meta"
)

// fsm is the raft.FSM over meta.State. Raft calls Apply, Snapshot and Restore
// from one goroutine; readers take the read lock.
//
// applied is the index of the last command entry applied (or of the snapshot
// restored). Raft does not hand no-op and configuration entries to the FSM, so
// applied may stay below raft's own applied index; every index a caller waits
// for (a command's index, or a leader's applied value) is one this counter
// reaches.
type fsm struct {
	log *slog.Logger

	mu      sync.RWMutex
	state   *meta.State
	applied uint64
	changed chan struct{} // closed and replaced whenever applied advances
}

func newFSM(log *slog.Logger) *fsm {
	return &fsm{log: log, state: meta.NewState(), changed: make(chan struct{})}
}

// Apply implements raft.FSM. The response is the command's rejection (an
// error, nil when applied). An entry that cannot be decoded stops the node:
// applying around it would let this replica diverge from the others.
func (f *fsm) Apply(l *raft.Log) any {
	cmd, err := meta.Decode(l.Data)
	if err != nil {
		panic(fmt.Sprintf("raftfsm: Raft log entry %d cannot be decoded (is this node older than the cluster?): %v", l.Index, err))
	}
	f.mu.Lock()
	rejection := f.state.Apply(cmd)
	f.advance(l.Index)
	f.mu.Unlock()
	if rejection != nil {
		f.log.Debug("command rejected", "index", l.Index, "kind", cmd.Kind().String(), "err", rejection)
	} else {
		f.log.Debug("command applied", "index", l.Index, "kind", cmd.Kind().String())
	}
	return rejection
}

// advance records idx as applied and wakes waiters. Call with mu held.
func (f *fsm) advance(idx uint64) {
	f.applied = idx
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fsm) appliedIndex() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.applied
}

// waitApplied blocks until index is applied, ctx ends or stop closes.
func (f *fsm) waitApplied(ctx context.Context, index uint64, stop <-chan struct{}) error {
	for {
		f.mu.RLock()
		applied, changed := f.applied, f.changed
		f.mu.RUnlock()
		if applied >= index {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrClosed
		}
	}
}

// view runs fn under the read lock.
func (f *fsm) view(fn func(*meta.State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.state)
}

// The FSM snapshot stream is a small raftfsm header followed by a
// meta snapshot:
//
//	[raftfsm snapshot version u8 = 1][applied index u64 big-endian][meta.WriteSnapshot]
//
// The applied index lets a restored follower answer WaitApplied for indexes
// inside the snapshot.
const fsmSnapshotVersion = 1

// Snapshot implements raft.FSM: it copies the state so Persist can run while
// Apply continues.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &fsmSnapshot{state: f.state.Clone(), applied: f.applied}, nil
}

// Restore implements raft.FSM: it builds a fresh state from the snapshot and
// swaps it in.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReader(rc)
	var hdr [9]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return fmt.Errorf("raftfsm: snapshot header: %w", err)
	}
	if hdr[0] != fsmSnapshotVersion {
		return fmt.Errorf("raftfsm: snapshot version %d unsupported", hdr[0])
	}
	applied := binary.BigEndian.Uint64(hdr[1:])
	st, err := meta.ReadSnapshot(br)
	if err != nil {
		return fmt.Errorf("raftfsm: restore: %w", err)
	}
	f.mu.Lock()
	f.state = st
	f.advance(applied)
	f.mu.Unlock()
	f.log.Info("state restored from snapshot", "index", applied)
	return nil
}

type fsmSnapshot struct {
	state   *meta.State
	applied uint64
}

// Persist implements raft.FSMSnapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := s.write(sink)
	if err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) write(w io.Writer) error {
	var hdr [9]byte
	hdr[0] = fsmSnapshotVersion
	binary.BigEndian.PutUint64(hdr[1:], s.applied)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	return meta.WriteSnapshot(w, s.state)
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}
