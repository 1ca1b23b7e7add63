package raftfsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/raft"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/rpc"
)

// Codes of rpc errors the raftfsm handlers send. Both mean "not done, retry
// elsewhere or later": the command was not put into the log.
const (
	codeNotLeader = "not_leader" // this node is not (or no longer) the leader
	codeNotReady  = "not_ready"  // leader still catching up in its new term
	codeUnknown   = "outcome_unknown"
)

// applyReply is the response header of "raft.apply". Index is the log index
// the command was applied at (0 when it never entered the log, e.g. it could
// not be decoded); Code/Message carry meta's rejection (see rejectionCodes).
type applyReply struct {
	Index   uint64 `json:"index"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// readIndexReply is the response header of "raft.readindex".
type readIndexReply struct {
	Index uint64 `json:"index"`
}

// retryBackoff bounds the wait between attempts while no leader answers.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = 500 * time.Millisecond
)

// errRetry marks an attempt that did not reach a leader able to act; the
// command did not enter the log.
type errRetry struct {
	leader string // rpc address of the leader tried, "" if none known
	err    error
}

func (e *errRetry) Error() string { return fmt.Sprintf("retry (leader %q): %v", e.leader, e.err) }
func (e *errRetry) Unwrap() error { return e.err }

// Propose is the one door for writes. On the leader it applies cmd through
// Raft; on a follower it forwards cmd to the leader and then waits until this
// node has applied it, so the caller's next View sees the write. The result
// is meta's rejection (match with errors.Is: meta.ErrBucketExists, ...) or nil
// when applied. While no leader can take the command Propose retries with
// backoff until ctx ends, then returns *NotLeaderError (a leader was known)
// or ErrNoLeader. ErrOutcomeUnknown means the command may have been applied.
func (s *Store) Propose(ctx context.Context, cmd meta.Command) error {
	data, err := meta.Encode(cmd)
	if err != nil {
		return err
	}
	_, err = s.propose(ctx, data)
	return err
}

// propose returns the index at which data was applied and its rejection.
func (s *Store) propose(ctx context.Context, data []byte) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err // not submitted
	}
	var last *errRetry
	backoff := minBackoff
	start := time.Now()
	for {
		var (
			res result
			err error
		)
		if s.raft.State() == raft.Leader {
			res, err = s.applyLocal(ctx, data)
		} else {
			res, err = s.forward(ctx, data)
		}
		if err == nil {
			// Wait even for a rejection: it may name state (an existing
			// bucket) that the caller reads next.
			if err := s.WaitApplied(ctx, res.index); err != nil && res.rejection == nil {
				return res.index, fmt.Errorf("raftfsm: committed at index %d, not yet applied on this node: %w", res.index, err)
			}
			if s.cfg.OnApply != nil {
				s.cfg.OnApply(time.Since(start))
			}
			return res.index, res.rejection
		}
		if !errors.As(err, &last) {
			return 0, err
		}
		if err := s.sleep(ctx, backoff); err != nil {
			return 0, last.final(err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// final is the error returned when the caller's context ends (or the store
// closes) while retrying.
func (e *errRetry) final(ctxErr error) error {
	if errors.Is(ctxErr, ErrClosed) {
		return ErrClosed
	}
	if e.leader == "" {
		return fmt.Errorf("%w: %w", ErrNoLeader, ctxErr)
	}
	return fmt.Errorf("%w: %w", &NotLeaderError{Leader: e.leader}, ctxErr)
}

// sleep waits d unless ctx ends or the store closes.
func (s *Store) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

// timeout is the time left in ctx, or the configured default.
func (s *Store) timeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond)
	}
	return s.cfg.ApplyTimeout
}

// result is the outcome of a command that went through the log.
type result struct {
	index     uint64 // log index it was applied at
	rejection error  // meta's rejection, nil when applied
}

// applyLocal applies data through Raft on this (leader) node. err is an
// *errRetry when the command surely did not enter the log.
func (s *Store) applyLocal(ctx context.Context, data []byte) (result, error) {
	f := s.raft.Apply(data, s.timeout(ctx))
	if err := waitFuture(ctx, f, s.done); err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrEnqueueTimeout),
			errors.Is(err, raft.ErrLeadershipTransferInProgress):
			// Refused before it entered the log.
			leader, _ := s.raft.LeaderWithID()
			return result{}, &errRetry{leader: string(leader), err: err}
		case errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, ErrClosed):
			return result{}, ErrClosed
		}
		return result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	rejection, _ := f.Response().(error)
	return result{index: f.Index(), rejection: rejection}, nil
}

// waitFuture waits for f unless ctx ends or stop closes first.
func waitFuture(ctx context.Context, f raft.Future, stop <-chan struct{}) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return ErrClosed
	}
}

// forward sends data to the leader's "raft.apply".
func (s *Store) forward(ctx context.Context, data []byte) (result, error) {
	addr, _ := s.raft.LeaderWithID()
	if addr == "" {
		return result{}, &errRetry{err: ErrNoLeader}
	}
	var reply applyReply
	if err := s.call(ctx, string(addr), methodApply, data, &reply); err != nil {
		var re *rpc.RemoteError
		var ce *rpc.ConnError
		switch {
		case errors.As(err, &re) && (re.Code == codeNotLeader || re.Code == codeNotReady):
			return result{}, &errRetry{leader: string(addr), err: err}
		case errors.As(err, &re) && re.Code == codeUnknown:
			return result{}, fmt.Errorf("%w: %s", ErrOutcomeUnknown, re.Message)
		case errors.As(err, &ce) && (ce.Op == "dial" || ce.Op == "handshake"):
			// Never reached the leader: safe to try again.
			return result{}, &errRetry{leader: string(addr), err: err}
		case rpc.IsUnavailable(err), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			// The request may have reached the leader before the failure.
			return result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return result{}, err
	}
	return result{index: reply.Index, rejection: rejectionError(reply.Code, reply.Message)}, nil
}

// call makes one rpc call with a JSON reply header.
func (s *Store) call(ctx context.Context, addr, method string, hdr []byte, reply any) error {
	resp, err := s.tr.Call(ctx, addr, method, hdr, nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(resp.Header, reply); err != nil {
		return fmt.Errorf("raftfsm: %s reply from %s: %w", method, addr, err)
	}
	return nil
}

// handleApply serves "raft.apply" on the leader: the header is an encoded
// command, applied as is (a command of a newer kind flagged ignore-if-unknown
// passes through for the nodes that know it).
func (s *Store) handleApply(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
	if _, err := meta.Decode(req.Header); err != nil {
		// Never let an undecodable entry into the log: it would stop every node.
		return jsonHeader(applyReply{Code: rejectionCode(err), Message: err.Error()})
	}
	if s.raft.State() != raft.Leader {
		leader, _ := s.raft.LeaderWithID()
		return nil, nil, &rpc.Error{Code: codeNotLeader, Message: string(leader)}
	}
	res, err := s.applyLocal(ctx, req.Header)
	if err != nil {
		var retry *errRetry
		if errors.As(err, &retry) || errors.Is(err, ErrClosed) {
			return nil, nil, &rpc.Error{Code: codeNotLeader, Message: err.Error()}
		}
		return nil, nil, &rpc.Error{Code: codeUnknown, Message: err.Error()}
	}
	r := applyReply{Index: res.index}
	if res.rejection != nil {
		r.Code, r.Message = rejectionCode(res.rejection), res.rejection.Error()
	}
	return jsonHeader(r)
}

func jsonHeader(v any) ([]byte, io.ReadCloser, error) {
	b, err := json.Marshal(v)
	return b, nil, err
}

// Barrier is a read barrier: when it returns nil, the local state holds every
// write acknowledged anywhere before Barrier was called. It asks the leader
// for its applied index (the leader first confirms it still leads) and waits
// until this node has applied that far. Use it before answering "not found"
// from local state. Errors as for Propose.
func (s *Store) Barrier(ctx context.Context) error {
	var last *errRetry
	backoff := minBackoff
	for {
		idx, err := s.readIndex(ctx)
		if err == nil {
			return s.WaitApplied(ctx, idx)
		}
		if !errors.As(err, &last) {
			return err
		}
		if err := s.sleep(ctx, backoff); err != nil {
			return last.final(err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// readIndex returns the leader's applied index, asking it over rpc when this
// node is a follower.
func (s *Store) readIndex(ctx context.Context) (uint64, error) {
	if s.raft.State() == raft.Leader {
		return s.leaderReadIndex(ctx)
	}
	addr, _ := s.raft.LeaderWithID()
	if addr == "" {
		return 0, &errRetry{err: ErrNoLeader}
	}
	var reply readIndexReply
	if err := s.call(ctx, string(addr), methodReadIndex, nil, &reply); err != nil {
		var re *rpc.RemoteError
		if (errors.As(err, &re) && (re.Code == codeNotLeader || re.Code == codeNotReady)) || rpc.IsUnavailable(err) {
			// A read is idempotent: any failure to reach the leader is retried.
			return 0, &errRetry{leader: string(addr), err: err}
		}
		return 0, err
	}
	return reply.Index, nil
}

// leaderReadIndex confirms leadership with a quorum and returns this leader's
// applied index. It refuses until the leader's barrier of its term finished.
func (s *Store) leaderReadIndex(ctx context.Context) (uint64, error) {
	leader, _ := s.raft.LeaderWithID()
	if !s.leaderReady() {
		return 0, &errRetry{leader: string(leader), err: errors.New("leader not ready in its term")}
	}
	// Read the index before verifying: everything acknowledged before the
	// request is applied by now, and verification proves no newer leader
	// could have acknowledged more.
	idx := s.fsm.appliedIndex()
	if err := waitFuture(ctx, s.raft.VerifyLeader(), s.done); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return 0, &errRetry{err: err}
		}
		return 0, err
	}
	return idx, nil
}

// handleReadIndex serves "raft.readindex" on the leader.
func (s *Store) handleReadIndex(ctx context.Context, _ *rpc.Request) ([]byte, io.ReadCloser, error) {
	if s.raft.State() != raft.Leader {
		leader, _ := s.raft.LeaderWithID()
		return nil, nil, &rpc.Error{Code: codeNotLeader, Message: string(leader)}
	}
	idx, err := s.leaderReadIndex(ctx)
	if err != nil {
		var retry *errRetry
		if errors.As(err, &retry) {
			return nil, nil, &rpc.Error{Code: codeNotReady, Message: err.Error()}
		}
		return nil, nil, err
	}
	return jsonHeader(readIndexReply{Index: idx})
}
