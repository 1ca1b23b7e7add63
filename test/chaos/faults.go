package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// The faults a run can inject. Each is scripted (inject, hold, heal),
// seeded and logged; after each the harness measures how long the cluster
// takes to agree again (every node alive in every node's view, one
// leader). Node faults (kill, leader, pause) and partition act on
// processes and links; the others on one drive of one node (drivefaults.go).
const (
	FaultKill       = "kill"       // kill -9 of 1..m nodes at once (m = parity), restart after a random delay
	FaultLeader     = "leader"     // kill -9 of the Raft leader amid metadata writes, restart
	FaultPause      = "pause"      // SIGSTOP of a node until gossip declares it dead, then SIGCONT
	FaultPartition  = "partition"  // links between nodes cut (minority/majority, the leader's minority, one way), then healed
	FaultBitrot     = "bitrot"     // bit flips in shard files of one drive of a running node; the scanner's repair is timed
	FaultIndex      = "index"      // bit flips in the bbolt index of a stopped node's drive, then restart
	FaultHide       = "hide"       // a drive's shards/ hidden under a tiny tmpfs (missing files, ENOSPC, EXDEV), then restored
	FaultUnreadable = "unreadable" // a drive folder chmod 000 (the nodes run without CAP_DAC_OVERRIDE), then restored
	FaultRemoved    = "removed"    // a drive folder renamed away, then put back or replaced by an empty one (refill timed)
	FaultFull       = "full"       // a drive's file system filled to ENOSPC, then freed
	FaultFsync      = "fsync"      // a node's drives fsync slowly (drive.FsyncDelayEnv)
)

// AllFaults lists every fault kind.
var AllFaults = []string{FaultKill, FaultLeader, FaultPause, FaultPartition, FaultBitrot, FaultIndex,
	FaultHide, FaultUnreadable, FaultRemoved, FaultFull, FaultFsync}

// NodeFaults act on processes and the network; DriveFaults on drives.
var (
	NodeFaults  = []string{FaultKill, FaultLeader, FaultPause, FaultPartition}
	DriveFaults = []string{FaultBitrot, FaultIndex, FaultHide, FaultUnreadable, FaultRemoved, FaultFull, FaultFsync}
)

// FaultOff says why the cluster cannot take fault kind ("" when it can).
func (c *Cluster) FaultOff(kind string) string {
	switch kind {
	case FaultPartition:
		if c.Net == nil {
			if c.NetErr != "" {
				return "no network namespaces: " + c.NetErr
			}
			return "the cluster does not run in network namespaces"
		}
	case FaultUnreadable:
		if c.NoDACErr != "" {
			return "nodes keep CAP_DAC_OVERRIDE: " + c.NoDACErr
		}
	case FaultFull:
		if c.SmallDriveErr != "" {
			return "no small drive file system: " + c.SmallDriveErr
		}
		if len(c.Nodes) == 0 || c.Nodes[0].Mount == "" {
			return "the cluster has no small drive file systems"
		}
	}
	return ""
}

// FaultEvent is one injected fault. Times are history times (ns since the
// run began).
type FaultEvent struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Detail string `json:"detail,omitempty"`
	Start  int64  `json:"start_ns"`
	Healed int64  `json:"healed_ns"` // the fault removed (node restarted, drive back, links up)
	Ready  int64  `json:"ready_ns"`  // the target serving again
	// LongestUnavailable is the longest time in which no client
	// operation succeeded, of those charged to this fault (seconds), and
	// FailedOps the failed operations charged to it (see charge).
	LongestUnavailable float64 `json:"longest_unavailable_s"`
	FailedOps          int     `json:"ops_failed"`
	// ConvergeS is the time from Healed until every node saw every node
	// alive and all named the same Raft leader; -1 when that did not
	// happen within convergeBound.
	ConvergeS float64 `json:"converge_s"`
	// RepairS is the time from the damage until it was repaired: flipped
	// shard files restored (bitrot), a damaged or replaced drive healthy
	// and refilled (index, removed); -1 when not within repairBound, 0
	// when the fault has no repair to time. Repair says what was seen.
	RepairS float64 `json:"repair_s,omitempty"`
	Repair  string  `json:"repair,omitempty"`
	// Unrepaired is set when the repair did not happen within repairBound
	// (a failed run).
	Unrepaired bool   `json:"unrepaired,omitempty"`
	Err        string `json:"err,omitempty"`
}

const (
	convergeBound = 90 * time.Second  // for the cluster to agree after a fault healed
	repairBound   = 150 * time.Second // for a repair (scanner, refill) after the damage
)

// injector runs faults on a cluster.
type injector struct {
	c      *Cluster
	h      *History
	admin  func(ep string) statusGetter
	parity int
	logf   func(format string, args ...any)
	log    *os.File // faults.log in the run folder
	// hold ends the holding of faults (the workload's end); restarts and
	// waits for readiness use the run's context, so a fault cut short by
	// the end of the workload is still healed cleanly.
	hold context.Context

	mu       sync.Mutex     // guards log and the events' repair fields
	watchers sync.WaitGroup // repair watchers still running
}

type statusGetter interface {
	status(ctx context.Context) (adminapi.ClusterStatus, error)
}

func (in *injector) note(format string, args ...any) {
	line := time.Now().Format("15:04:05.000") + " " + fmt.Sprintf(format, args...)
	in.logf("%s", line)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.log != nil {
		fmt.Fprintln(in.log, line)
	}
}

func (in *injector) sleep(ctx context.Context, d time.Duration) {
	hold := in.hold
	if hold == nil {
		hold = ctx
	}
	select {
	case <-ctx.Done():
	case <-hold.Done():
	case <-time.After(d):
	}
}

func (in *injector) jitter(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// running returns the nodes that run and are not paused, in order.
func (in *injector) running() []*Node {
	var out []*Node
	for _, n := range in.c.Nodes {
		if n.Running() && !n.Paused() {
			out = append(out, n)
		}
	}
	return out
}

func (in *injector) statusOf(ctx context.Context, n *Node) (adminapi.ClusterStatus, error) {
	return in.admin("http://" + n.S3).status(ctx)
}

// Inject runs one fault of kind to its end (healed, the target ready again,
// the cluster agreeing) and returns what happened. Repairs go on being
// watched in the background (Wait).
func (in *injector) Inject(ctx context.Context, kind string, r *rand.Rand) *FaultEvent {
	ev := &FaultEvent{Kind: kind, Start: in.h.Now()}
	var err error
	switch kind {
	case FaultKill:
		err = in.kill(ctx, r, ev)
	case FaultLeader:
		err = in.killLeader(ctx, r, ev)
	case FaultPause:
		err = in.pause(ctx, r, ev)
	case FaultPartition:
		err = in.partition(ctx, r, ev)
	case FaultBitrot:
		err = in.bitrot(ctx, r, ev)
	case FaultIndex:
		err = in.index(ctx, r, ev)
	case FaultHide:
		err = in.hide(ctx, r, ev)
	case FaultUnreadable:
		err = in.unreadable(ctx, r, ev)
	case FaultRemoved:
		err = in.removed(ctx, r, ev)
	case FaultFull:
		err = in.full(ctx, r, ev)
	case FaultFsync:
		err = in.fsync(ctx, r, ev)
	default:
		err = fmt.Errorf("unknown fault %q", kind)
	}
	if err != nil {
		ev.Err = err.Error()
		in.note("fault %s: %v", kind, err)
	}
	if ev.Healed == 0 {
		ev.Healed = in.h.Now()
	}
	if ev.Ready == 0 {
		ev.Ready = in.h.Now()
	}
	if d, err := in.agree(ctx, convergeBound); err != nil {
		ev.ConvergeS = -1
		ev.Err = strings.TrimPrefix(ev.Err+"; "+err.Error(), "; ")
		in.note("fault %s: %v", kind, err)
	} else {
		ev.ConvergeS = max(0, d.Sub(in.h.At(ev.Healed)).Seconds())
		in.note("fault %s: cluster agrees again %.2fs after the heal", kind, ev.ConvergeS)
	}
	return ev
}

// agree waits until every running node sees every node of the cluster
// alive and all name the same Raft leader; it returns when that was first
// seen.
func (in *injector) agree(ctx context.Context, bound time.Duration) (time.Time, error) {
	deadline, start := time.Now().Add(bound), time.Now()
	var last string
	for {
		seen := time.Now()
		why := in.disagreement(ctx)
		if why == "" {
			if last != "" && seen.Sub(start) > 2*time.Second {
				in.note("agreement took %s; last disagreement: %s", seen.Sub(start).Round(time.Millisecond), last)
			}
			return seen, nil
		}
		last = why
		if time.Now().After(deadline) || ctx.Err() != nil {
			return time.Time{}, fmt.Errorf("cluster did not agree within %s: %s", bound, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// disagreement says why the running nodes do not agree yet, "" when they do.
func (in *injector) disagreement(ctx context.Context) string {
	leader := ""
	for _, n := range in.c.Nodes {
		if !n.Running() || n.Paused() {
			return n.ID + " is not running"
		}
		st, err := in.statusOf(ctx, n)
		if err != nil {
			return n.ID + ": " + err.Error()
		}
		if st.Leader == "" {
			return n.ID + " knows no leader"
		}
		if leader != "" && st.Leader != leader {
			return fmt.Sprintf("%s names leader %s, another node %s", n.ID, st.Leader, leader)
		}
		leader = st.Leader
		alive := map[string]bool{}
		for _, s := range st.Nodes {
			alive[s.ID] = s.Alive
		}
		for _, m := range in.c.Nodes {
			if !alive[m.ID] {
				return n.ID + " does not see " + m.ID + " alive"
			}
		}
	}
	return ""
}

// Wait waits for the repair watchers (each ends by repairBound).
func (in *injector) Wait() { in.watchers.Wait() }

// watch polls check every 500 ms in the background until it reports done
// or repairBound has passed since from, and records the outcome in ev:
// check returns whether the repair is complete and what it saw.
func (in *injector) watch(ctx context.Context, ev *FaultEvent, from time.Time, check func(ctx context.Context) (bool, string)) {
	in.watchers.Go(func() {
		for {
			done, what := check(ctx)
			in.mu.Lock()
			ev.Repair = what
			if done {
				ev.RepairS = time.Since(from).Seconds()
			} else if time.Since(from) > repairBound || ctx.Err() != nil {
				ev.RepairS, ev.Unrepaired = -1, true
				ev.Repair = fmt.Sprintf("NOT repaired within %s: %s", repairBound, what)
				done = true
			}
			in.mu.Unlock()
			if done {
				in.note("fault %s %s: %s (%.1fs)", ev.Kind, ev.Target, ev.Repair, ev.RepairS)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
}

func (in *injector) restart(ctx context.Context, ev *FaultEvent, nodes []*Node) error {
	for _, n := range nodes {
		if err := n.Start(); err != nil {
			return err
		}
		in.note("fault %s: restarted %s (pid %d)", ev.Kind, n.ID, n.PID())
	}
	ev.Healed = in.h.Now()
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.WaitReady(ctx, 90*time.Second))
	}
	ev.Ready = in.h.Now()
	return errors.Join(errs...)
}

func (in *injector) kill(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	count := 1 + r.IntN(max(1, in.parity))
	count = min(count, len(nodes)-1)
	r.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	victims := nodes[:count]
	var ids []string
	for _, n := range victims {
		ids = append(ids, n.ID)
	}
	ev.Target = strings.Join(ids, ",")
	down := in.jitter(r, 2*time.Second, 6*time.Second)
	for _, n := range victims {
		in.note("fault kill: kill -9 %s (pid %d)", n.ID, n.PID())
		n.Kill()
	}
	ev.Detail = fmt.Sprintf("%d node(s) down for %s", count, down.Round(time.Millisecond))
	in.sleep(ctx, down)
	return in.restart(ctx, ev, victims)
}

func (in *injector) leader(ctx context.Context) (*Node, error) {
	for _, n := range in.running() {
		st, err := in.statusOf(ctx, n)
		if err != nil || st.Leader == "" {
			continue
		}
		for _, m := range in.c.Nodes {
			if m.ID == st.Leader {
				return m, nil
			}
		}
	}
	return nil, errors.New("no node names a Raft leader")
}

func (in *injector) killLeader(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	n, err := in.leader(ctx)
	if err != nil {
		return err
	}
	ev.Target = n.ID
	down := in.jitter(r, 2*time.Second, 5*time.Second)
	in.note("fault leader: kill -9 Raft leader %s (pid %d) amid metadata writes", n.ID, n.PID())
	n.Kill()
	ev.Detail = "leader down for " + down.Round(time.Millisecond).String()
	in.sleep(ctx, down)
	return in.restart(ctx, ev, []*Node{n})
}

// declaredDead polls observer until it reports one of ids not alive, or
// until the run's hold ends or bound passes; it returns how long that took
// (0: not seen).
func (in *injector) declaredDead(ctx context.Context, observer *Node, ids []string, bound time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < bound && ctx.Err() == nil && (in.hold == nil || in.hold.Err() == nil) {
		st, err := in.statusOf(ctx, observer)
		if err == nil {
			for _, s := range st.Nodes {
				if slices.Contains(ids, s.ID) && !s.Alive {
					return time.Since(start)
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return 0
}

func (in *injector) pause(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	var observer *Node
	for _, m := range nodes {
		if m != n {
			observer = m
			break
		}
	}
	ev.Target = n.ID
	in.note("fault pause: SIGSTOP %s (pid %d)", n.ID, n.PID())
	start := time.Now()
	if err := n.Pause(); err != nil {
		return err
	}
	// Hold it until another node's gossip declares it dead, then a little
	// more: longer than the failure-detection timeout.
	detected := in.declaredDead(ctx, observer, []string{n.ID}, 45*time.Second)
	extra := in.jitter(r, time.Second, 3*time.Second)
	in.sleep(ctx, extra)
	if detected > 0 {
		ev.Detail = fmt.Sprintf("declared dead after %s, paused %s", detected.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	} else {
		ev.Detail = fmt.Sprintf("NOT declared dead within %s", time.Since(start).Round(time.Millisecond))
	}
	in.note("fault pause: SIGCONT %s (%s)", n.ID, ev.Detail)
	if err := n.Resume(); err != nil {
		return err
	}
	ev.Healed = in.h.Now()
	err := n.WaitReady(ctx, 90*time.Second)
	ev.Ready = in.h.Now()
	return err
}

// partition cuts links between nodes, one of three ways picked by the
// seed: a minority of the nodes from the majority (both ways), the same
// with the Raft leader in the minority, or one node's packets to all the
// others lost (one way: it hears them, they do not hear it) or the
// reverse. It holds the cut until a node on the other side declares a cut
// node dead (or at most 20 s), plus 1-3 s, then heals it.
func (in *injector) partition(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nt := in.c.Net
	if nt == nil {
		return errors.New("partition: " + in.c.FaultOff(FaultPartition))
	}
	nodes := in.c.Nodes
	n := len(nodes)
	ids := func(idx []int) string {
		var s []string
		for _, i := range idx {
			s = append(s, nodes[i].ID)
		}
		return strings.Join(s, ",")
	}
	var cut []int      // the nodes cut off
	var observer *Node // a node on the other side
	switch mode := r.IntN(3); mode {
	case 0, 1:
		perm := r.Perm(n)
		size := 1 + r.IntN(max(1, (n-1)/2))
		minority := slices.Clone(perm[:size])
		how := "minority"
		if mode == 1 {
			how = "leader's minority"
			if l, err := in.leader(ctx); err == nil && !slices.Contains(minority, l.Index) {
				minority[0] = l.Index
			}
		}
		var majority []int
		for i := range n {
			if !slices.Contains(minority, i) {
				majority = append(majority, i)
			}
		}
		for _, a := range minority {
			for _, b := range majority {
				if err := errors.Join(nt.Block(a, b), nt.Block(b, a)); err != nil {
					_ = nt.Heal()
					return err
				}
			}
		}
		cut, observer = minority, nodes[majority[0]]
		ev.Target = ids(minority) + " | " + ids(majority)
		ev.Detail = how + " cut off"
	default:
		a := r.IntN(n)
		var others []int
		for i := range n {
			if i != a {
				others = append(others, i)
			}
		}
		out := r.IntN(2) == 0
		for _, o := range others {
			var err error
			if out {
				err = nt.Block(a, o)
			} else {
				err = nt.Block(o, a)
			}
			if err != nil {
				_ = nt.Heal()
				return err
			}
		}
		cut, observer = []int{a}, nodes[others[0]]
		if out {
			ev.Target = nodes[a].ID + " -/-> " + ids(others)
			ev.Detail = "one way: " + nodes[a].ID + "'s packets to the others lost"
		} else {
			ev.Target = ids(others) + " -/-> " + nodes[a].ID
			ev.Detail = "one way: " + nodes[a].ID + " hears no one"
		}
	}
	in.note("fault partition: %s (%s): cuts %s", ev.Target, ev.Detail, strings.Join(nt.Blocked(), " "))
	start := time.Now()
	detected := in.declaredDead(ctx, observer, strings.Split(ids(cut), ","), 20*time.Second)
	in.sleep(ctx, in.jitter(r, time.Second, 3*time.Second))
	if detected > 0 {
		ev.Detail += fmt.Sprintf("; %s saw a cut node dead after %s", observer.ID, detected.Round(time.Millisecond))
	} else {
		ev.Detail += fmt.Sprintf("; %s never saw a cut node dead", observer.ID)
	}
	ev.Detail += fmt.Sprintf(", held %s", time.Since(start).Round(time.Millisecond))
	if err := nt.Heal(); err != nil {
		return err
	}
	ev.Healed = in.h.Now()
	in.note("fault partition: healed (%s)", ev.Detail)
	return nil
}

// healAll undoes whatever is left: links cut, paused nodes, stopped nodes,
// slow fsync. Used at the end of a run.
func (in *injector) healAll(ctx context.Context) error {
	var errs []error
	if in.c.Net != nil {
		errs = append(errs, in.c.Net.Heal())
	}
	for _, n := range in.c.Nodes {
		_ = os.WriteFile(n.FsyncControl(), nil, 0o644)
		if n.Paused() {
			errs = append(errs, n.Resume())
		}
		if !n.Running() {
			in.note("heal: start %s", n.ID)
			errs = append(errs, n.Start())
		}
	}
	for _, n := range in.c.Nodes {
		errs = append(errs, n.WaitReady(ctx, 90*time.Second))
	}
	return errors.Join(errs...)
}
