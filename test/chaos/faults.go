package chaos

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The faults a run can inject. Each is scripted (inject, hold, heal),
// seeded and logged.
const (
	FaultKill   = "kill"   // kill -9 of 1..m nodes at once (m = parity), restart after a random delay
	FaultLeader = "leader" // kill -9 of the Raft leader amid metadata writes, restart
	FaultPause  = "pause"  // SIGSTOP of a node until gossip declares it dead, then SIGCONT
	FaultBitrot = "bitrot" // bit flips in shard files of one drive of a running node
	FaultDrive  = "drive"  // a drive's shards/ hidden under a tiny tmpfs (missing files, ENOSPC, EXDEV), then restored
	FaultFsync  = "fsync"  // a node's drives fsync slowly (drive.FsyncDelayEnv)
)

// AllFaults lists every fault kind, in the order a smoke run cycles them.
var AllFaults = []string{FaultKill, FaultLeader, FaultBitrot, FaultPause, FaultFsync, FaultDrive}

// FaultEvent is one injected fault. Times are history times (ns since the
// run began).
type FaultEvent struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Detail string `json:"detail,omitempty"`
	Start  int64  `json:"start_ns"`
	Healed int64  `json:"healed_ns"` // the fault removed (node restarted, drive back)
	Ready  int64  `json:"ready_ns"`  // the target serving again
	// LongestUnavailable is the longest time, overlapping the fault, in
	// which no client operation succeeded (seconds).
	LongestUnavailable float64 `json:"longest_unavailable_s"`
	Err                string  `json:"err,omitempty"`
}

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
}

type statusGetter interface {
	status(ctx context.Context) (leader string, alive map[string]bool, err error)
}

func (in *injector) note(format string, args ...any) {
	line := time.Now().Format("15:04:05.000") + " " + fmt.Sprintf(format, args...)
	in.logf("%s", line)
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

// Inject runs one fault of kind to its end (healed and the target ready
// again) and returns what happened.
func (in *injector) Inject(ctx context.Context, kind string, r *rand.Rand) FaultEvent {
	ev := FaultEvent{Kind: kind, Start: in.h.Now()}
	var err error
	switch kind {
	case FaultKill:
		err = in.kill(ctx, r, &ev)
	case FaultLeader:
		err = in.killLeader(ctx, r, &ev)
	case FaultPause:
		err = in.pause(ctx, r, &ev)
	case FaultBitrot:
		err = in.bitrot(ctx, r, &ev)
	case FaultDrive:
		err = in.drive(ctx, r, &ev)
	case FaultFsync:
		err = in.fsync(ctx, r, &ev)
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
	return ev
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
	ev.Detail = fmt.Sprintf("%d node(s) down for %s", count, down)
	in.sleep(ctx, down)
	return in.restart(ctx, ev, victims)
}

func (in *injector) leader(ctx context.Context) (*Node, error) {
	for _, n := range in.running() {
		leader, _, err := in.admin("http://" + n.S3).status(ctx)
		if err != nil || leader == "" {
			continue
		}
		for _, m := range in.c.Nodes {
			if m.ID == leader {
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
	ev.Detail = "leader down for " + down.String()
	in.sleep(ctx, down)
	return in.restart(ctx, ev, []*Node{n})
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
	if err := n.Pause(); err != nil {
		return err
	}
	// Hold it until another node's gossip declares it dead, then a little
	// more: longer than the failure-detection timeout.
	start := time.Now()
	detected := time.Duration(0)
	for time.Since(start) < 45*time.Second && ctx.Err() == nil && (in.hold == nil || in.hold.Err() == nil) {
		_, alive, err := in.admin("http://" + observer.S3).status(ctx)
		if err == nil && !alive[n.ID] {
			detected = time.Since(start)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
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

// shardFiles lists the committed shard files of drive.
func shardFiles(drive string) []string {
	var files []string
	_ = filepath.WalkDir(filepath.Join(drive, "shards"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files
}

func (in *injector) bitrot(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[r.IntN(len(n.Drives))]
	files := shardFiles(drive)
	ev.Target = drive
	if len(files) == 0 {
		ev.Detail = "no shard files yet"
		return nil
	}
	r.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	flipped := 0
	for _, p := range files[:min(len(files), 8)] {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		st, err := f.Stat()
		if err != nil || st.Size() == 0 {
			f.Close()
			continue
		}
		off := r.Int64N(st.Size())
		b := []byte{0}
		if _, err := f.ReadAt(b, off); err == nil {
			bit := byte(1) << r.IntN(8)
			b[0] ^= bit
			if _, err := f.WriteAt(b, off); err == nil {
				flipped++
				in.note("fault bitrot: %s offset %d bit %#02x flipped", p, off, bit)
			}
		}
		f.Close()
	}
	ev.Detail = fmt.Sprintf("%d shard file(s) of %s/%s corrupted", flipped, n.ID, filepath.Base(drive))
	in.sleep(ctx, in.jitter(r, 2*time.Second, 4*time.Second))
	return nil
}

// drive hides a drive's committed shards under a 256 KiB tmpfs mounted on
// <drive>/shards: reads find no shard files, writes fill it (ENOSPC) or
// cannot rename across it (EXDEV). Unmounting brings the old files back,
// without those written meanwhile: a drive that lost recent files. As root,
// chmod 000 stops nothing; a mount does, and needs CAP_SYS_ADMIN.
func (in *injector) drive(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	drive := n.Drives[r.IntN(len(n.Drives))]
	target := filepath.Join(drive, "shards")
	ev.Target = target
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "chaos-drive-fault", target).CombinedOutput(); err != nil {
		return fmt.Errorf("mount tmpfs on %s (needs root with CAP_SYS_ADMIN): %v: %s", target, err, strings.TrimSpace(string(out)))
	}
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	in.note("fault drive: %s hidden under a 256 KiB tmpfs for %s", target, hold)
	ev.Detail = "shards/ hidden for " + hold.String()
	in.sleep(ctx, hold)
	if out, err := exec.Command("umount", "-l", target).CombinedOutput(); err != nil {
		return fmt.Errorf("umount %s: %v: %s", target, err, strings.TrimSpace(string(out)))
	}
	in.note("fault drive: %s back", target)
	ev.Healed = in.h.Now()
	return nil
}

func (in *injector) fsync(ctx context.Context, r *rand.Rand, ev *FaultEvent) error {
	nodes := in.running()
	n := nodes[r.IntN(len(nodes))]
	delay := time.Duration(100+r.IntN(400)) * time.Millisecond
	hold := in.jitter(r, 4*time.Second, 8*time.Second)
	ev.Target = n.ID
	ev.Detail = fmt.Sprintf("fsync +%s for %s", delay, hold)
	if err := os.WriteFile(n.FsyncControl(), []byte(delay.String()), 0o644); err != nil {
		return err
	}
	in.note("fault fsync: %s drives fsync +%s", n.ID, delay)
	in.sleep(ctx, hold)
	if err := os.WriteFile(n.FsyncControl(), nil, 0o644); err != nil {
		return err
	}
	in.note("fault fsync: %s back to normal", n.ID)
	ev.Healed = in.h.Now()
	return nil
}

// healAll undoes whatever is left: paused nodes continue, stopped nodes
// start, slow fsync ends. Used at the end of a run and on failure.
func (in *injector) healAll(ctx context.Context) error {
	var errs []error
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
