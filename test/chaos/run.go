package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-io/strata/adminapi"
)

// Config is one chaos run.
type Config struct {
	Name     string
	Seed     uint64
	Dir      string   // run folder: report.json, history.jsonl, faults.log (and node folders)
	Cluster  *Cluster // nil against existing endpoints: process and drive faults are then off
	Workload Workload
	Duration time.Duration // how long the workload runs
	// Faults are the fault kinds, injected one after the other in a
	// seeded order (a new order each round) while the workload runs. Kinds
	// the cluster cannot take (Cluster.FaultOff) are left out and listed
	// in Report.Skipped.
	Faults []string
	Parity int // m of the EC layout: at most m nodes are killed at once
	// Converge bounds the wait, after the faults healed, for the nodes to
	// agree and every endpoint to list the same keys.
	Converge time.Duration
	Logf     func(format string, args ...any)
}

// Report is the outcome of a run, printed and written as report.json.
type Report struct {
	Name          string            `json:"name"`
	Seed          uint64            `json:"seed"`
	Dir           string            `json:"dir"`
	Endpoints     int               `json:"endpoints"`
	Clients       int               `json:"clients"`
	DurationS     float64           `json:"workload_s"`
	Attempted     int               `json:"ops_attempted"`
	Acknowledged  int               `json:"ops_acknowledged"`
	FailedOps     int               `json:"ops_failed"`
	ByKind        map[string][3]int `json:"by_kind"` // attempted, acknowledged (a definite answer: ok, not found, exists), failed
	BytesWritten  int64             `json:"bytes_acknowledged"`
	MultipartPuts int               `json:"multipart_puts_acknowledged"`
	Faults        []*FaultEvent     `json:"faults"`
	// Skipped lists the fault kinds asked for that this cluster cannot
	// take, and why.
	Skipped   map[string]string `json:"skipped,omitempty"`
	ConvergeS float64           `json:"time_to_converge_s"`
	Converged bool              `json:"converged"`
	Crashes   []string          `json:"crashes,omitempty"`
	// Unrepaired counts faults whose damage was not repaired in time
	// (FaultEvent.Unrepaired).
	Unrepaired int `json:"unrepaired"`
	// Orphans counts, per drive ("n1/d2"), the shard files no record of
	// the drive's index refers to at the end of the run: space nothing
	// frees (deletes and overwrites cut by faults leave them). Reported,
	// not a failure.
	Orphans map[string]int `json:"orphan_shard_files,omitempty"`
	Verdict Verdict        `json:"verdict"`
}

// Failed reports whether the run broke a guarantee, a node crashed, the
// cluster did not converge or damage stayed unrepaired.
func (r *Report) Failed() bool {
	return r.Verdict.Failed() || len(r.Crashes) > 0 || !r.Converged || r.Unrepaired > 0
}

// faultSummary is the worst of each fault kind.
type faultSummary struct {
	count                     int
	unavail, converge, repair float64
	failed                    int
}

// String renders the report for people.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos run %s: seed %d (replay: CHAOS_SEED=%d), folder %s\n", r.Name, r.Seed, r.Seed, r.Dir)
	fmt.Fprintf(&b, "  workload %.0fs, %d clients on %d endpoints: %d ops attempted, %d acknowledged, %d failed; %d MiB acknowledged, %d multipart\n",
		r.DurationS, r.Clients, r.Endpoints, r.Attempted, r.Acknowledged, r.FailedOps, r.BytesWritten>>20, r.MultipartPuts)
	kinds := make([]string, 0, len(r.ByKind))
	for k := range r.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := r.ByKind[k]
		fmt.Fprintf(&b, "    %-14s %6d attempted %6d acknowledged %5d failed\n", k, c[0], c[1], c[2])
	}
	fmt.Fprintf(&b, "  %-10s %-26s %7s %7s %7s %7s %6s %8s  %s\n", "fault", "target", "at s", "held s", "unavl s", "conv s", "failed", "repair s", "detail")
	sum := map[string]*faultSummary{}
	var order []string
	for _, f := range r.Faults {
		repair := "-"
		switch {
		case f.Unrepaired:
			repair = "NEVER"
		case f.RepairS > 0:
			repair = fmt.Sprintf("%.1f", f.RepairS)
		}
		conv := "NEVER"
		if f.ConvergeS >= 0 {
			conv = fmt.Sprintf("%.2f", f.ConvergeS)
		}
		detail := f.Detail
		if f.Repair != "" {
			detail += "; repair: " + f.Repair
		}
		if f.Err != "" {
			detail += "; ERROR " + f.Err
		}
		fmt.Fprintf(&b, "  %-10s %-26s %7.1f %7.1f %7.2f %7s %6d %8s  %s\n", f.Kind, f.Target, float64(f.Start)/1e9,
			float64(f.Healed-f.Start)/1e9, f.LongestUnavailable, conv, f.FailedOps, repair, detail)
		s := sum[f.Kind]
		if s == nil {
			s = &faultSummary{}
			sum[f.Kind] = s
			order = append(order, f.Kind)
		}
		s.count++
		s.unavail = max(s.unavail, f.LongestUnavailable)
		s.converge = max(s.converge, f.ConvergeS)
		s.repair = max(s.repair, f.RepairS)
		s.failed += f.FailedOps
	}
	sort.Strings(order)
	fmt.Fprintf(&b, "  per fault kind: %-10s %5s %17s %14s %13s %10s\n", "kind", "count", "longest unavail s", "max converge s", "max repair s", "ops failed")
	for _, k := range order {
		s := sum[k]
		fmt.Fprintf(&b, "  per fault kind: %-10s %5d %17.2f %14.2f %13.1f %10d\n", k, s.count, s.unavail, s.converge, s.repair, s.failed)
	}
	skipped := make([]string, 0, len(r.Skipped))
	for k := range r.Skipped {
		skipped = append(skipped, k)
	}
	sort.Strings(skipped)
	for _, k := range skipped {
		fmt.Fprintf(&b, "  SKIPPED fault %s: %s\n", k, r.Skipped[k])
	}
	v := r.Verdict
	fmt.Fprintf(&b, "  converged: %v in %.1fs; damage unrepaired: %d\n", r.Converged, r.ConvergeS, r.Unrepaired)
	fmt.Fprintf(&b, "  acknowledged writes lost: %d   corrupt reads: %d   deleted back: %d   stale: %d   unreadable: %d   list mismatches: %d   metadata lost: %d   linearizable: %s (%d keys, %d bucket/user names)\n",
		v.LostWrites, v.CorruptReads, v.Resurrected, v.Stale, v.Unreadable, v.ListMismatch, v.MetadataLost, v.Linearizable, v.KeysChecked, v.NamesChecked)
	if len(r.Orphans) > 0 {
		drives := make([]string, 0, len(r.Orphans))
		total := 0
		for d, c := range r.Orphans {
			drives = append(drives, fmt.Sprintf("%s %d", d, c))
			total += c
		}
		sort.Strings(drives)
		fmt.Fprintf(&b, "  orphan shard files (no record refers to them; nothing frees them): %d (%s)\n", total, strings.Join(drives, ", "))
	}
	if v.StaleBucketReads > 0 {
		fmt.Fprintf(&b, "  stale \"bucket exists\" answers (HeadBucket from a node not yet at a delete; bucket lookups are local by design): %d\n", v.StaleBucketReads)
	}
	for _, c := range r.Crashes {
		fmt.Fprintf(&b, "  CRASH %s\n", c)
	}
	for i, f := range v.Findings {
		if i == 50 {
			fmt.Fprintf(&b, "  ... %d more findings in report.json\n", len(v.Findings)-50)
			break
		}
		fmt.Fprintf(&b, "  FINDING %s %s: %s\n", f.Kind, f.Object, f.Detail)
	}
	return b.String()
}

type adminStatus struct{ c *adminapi.Client }

func (a adminStatus) status(ctx context.Context) (adminapi.ClusterStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return a.c.ClusterStatus(ctx)
}

// Run makes the buckets, runs the workload while injecting the faults,
// heals everything, waits for convergence, reads every key and name back
// and checks the history. It returns the report (also written to cfg.Dir,
// with history.jsonl) and an error only when the run itself could not be
// carried out.
func Run(ctx context.Context, cfg Config) (_ *Report, err error) {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	w := cfg.Workload
	h := NewHistory()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	// The history is kept whatever happens, for the analysis of a failure.
	defer func() {
		if werr := h.WriteJSONLines(filepath.Join(cfg.Dir, "history.jsonl")); err == nil {
			err = werr
		}
	}()
	faultLog, err := os.Create(filepath.Join(cfg.Dir, "faults.log"))
	if err != nil {
		return nil, err
	}
	defer faultLog.Close()
	in := &injector{c: cfg.Cluster, h: h, parity: cfg.Parity, logf: logf, log: faultLog,
		admin: func(ep string) statusGetter { return adminStatus{w.admin(ep)} }}
	rep := &Report{Name: cfg.Name, Seed: cfg.Seed, Dir: cfg.Dir, Endpoints: len(w.Endpoints), Clients: w.Clients,
		ByKind: map[string][3]int{}, Skipped: map[string]string{}}
	var faults []string
	for _, f := range cfg.Faults {
		if cfg.Cluster == nil {
			rep.Skipped[f] = "no cluster of the harness's own (endpoints only)"
		} else if why := cfg.Cluster.FaultOff(f); why != "" {
			rep.Skipped[f] = why
		} else {
			faults = append(faults, f)
		}
	}
	in.note("run %s: seed %d, %d clients, %s, faults %v", cfg.Name, cfg.Seed, w.Clients, cfg.Duration, faults)
	for f, why := range rep.Skipped {
		in.note("run %s: fault %s SKIPPED: %s", cfg.Name, f, why)
	}

	setup := w.s3Client(w.Endpoints[0])
	for _, b := range w.Buckets {
		if err := retry(ctx, 30*time.Second, func() error {
			_, err := setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b})
			if c := apiCode(err); c == "BucketAlreadyOwnedByYou" || c == "BucketAlreadyExists" {
				return nil
			}
			return err
		}); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", b, err)
		}
	}

	if err := w.WriteCold(ctx, h); err != nil {
		return nil, err
	}

	// After stop the clients start no operation: stretches without
	// success are counted up to it only.
	stop := h.Now() + int64(cfg.Duration)
	wctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(wctx, h) })
	var events []*FaultEvent
	in.hold = wctx
	if len(faults) > 0 {
		r := rand.New(rand.NewPCG(cfg.Seed, 0xfa17))
		in.sleep(wctx, 3*time.Second) // a baseline before the first fault
		var order []string
		for wctx.Err() == nil {
			if len(order) == 0 {
				order = slices.Clone(faults)
				r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			events = append(events, in.Inject(ctx, order[0], r))
			order = order[1:]
			in.sleep(wctx, in.jitter(r, time.Second, 3*time.Second))
		}
	}
	wg.Wait()
	end := h.Now()
	in.note("workload done after %s", time.Duration(end).Round(time.Millisecond))
	rep.DurationS = float64(end) / 1e9

	healStart := time.Now()
	converged := true
	if cfg.Cluster != nil {
		if err := in.healAll(ctx); err != nil {
			in.note("heal: %v", err)
		}
		if _, err := in.agree(ctx, cfg.Converge); err != nil {
			in.note("heal: %v", err)
			converged = false
		}
	}
	ops := h.Ops()
	final, listed := converge(ctx, w, ops, time.Until(healStart.Add(cfg.Converge)))
	rep.ConvergeS, rep.Converged = time.Since(healStart).Seconds(), converged && listed
	in.note("converged=%v after %.1fs", rep.Converged, rep.ConvergeS)
	in.Wait() // repair watchers: they end by repairBound
	if cfg.Cluster != nil {
		rep.Orphans = map[string]int{}
		for _, n := range cfg.Cluster.Nodes {
			for _, d := range n.Drives {
				if c, err := orphanShards(d); err != nil {
					in.note("orphans of %s: %v", d, err)
				} else if c > 0 {
					rep.Orphans[n.ID+"/"+filepath.Base(d)] = c
				}
			}
		}
	}

	for _, op := range ops {
		c := rep.ByKind[string(op.Kind)]
		c[0]++
		rep.Attempted++
		if op.Status == Fail {
			c[2]++
			rep.FailedOps++
		} else {
			c[1]++
			rep.Acknowledged++
			if op.Kind == OpPut {
				rep.BytesWritten += op.Size
				if op.Multipart {
					rep.MultipartPuts++
				}
			}
		}
		rep.ByKind[string(op.Kind)] = c
	}
	in.mu.Lock()
	for _, ev := range events {
		if ev.Unrepaired {
			rep.Unrepaired++
		}
	}
	for _, g := range gaps(ops, min(end, stop)) {
		if i := charge(events, g[0]); i >= 0 {
			events[i].LongestUnavailable = max(events[i].LongestUnavailable, time.Duration(g[1]-g[0]).Seconds())
		}
	}
	for _, op := range ops {
		if i := charge(events, op.Start); i >= 0 && op.Status == Fail {
			events[i].FailedOps++
		}
	}
	in.mu.Unlock()
	rep.Faults = events
	if cfg.Cluster != nil {
		rep.Crashes = cfg.Cluster.Crashes()
	}
	rep.Verdict = Check(ops, final, cfg.Dir)
	if err := writeFinal(filepath.Join(cfg.Dir, "final.jsonl"), final); err != nil {
		return rep, err
	}

	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.Dir, "report.json"), b, 0o644); err != nil {
		return rep, err
	}
	return rep, nil
}

// gaps returns the stretches, up to end, in which no operation
// succeeded (ended OK or with a definite answer): from one success to the
// next.
func gaps(ops []Op, end int64) [][2]int64 {
	var ends []int64
	for _, op := range ops {
		if op.Status != Fail {
			ends = append(ends, op.End)
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	var out [][2]int64
	for i, e := range ends {
		next := end
		if i+1 < len(ends) {
			next = min(ends[i+1], end)
		}
		if next > e {
			out = append(out, [2]int64{e, next})
		}
	}
	return out
}

// chargeSlack: a stretch without success, or a failed operation, that
// began at t is charged to the last fault begun by t+chargeSlack. The last
// success before a stall, or the start of an operation a fault then broke,
// may precede the fault by up to about one operation's time; a stall that
// began in the aftermath of a fault (after it healed, before the next) is
// that fault's.
const chargeSlack = int64(time.Second)

// charge returns the index in events (in start order) of the fault that
// something begun at t is charged to, -1 before the first fault.
func charge(events []*FaultEvent, t int64) int {
	i := -1
	for j, ev := range events {
		if ev.Start <= t+chargeSlack {
			i = j
		}
	}
	return i
}

func retry(ctx context.Context, d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// converge waits until every endpoint lists every bucket alike and then
// reads every key and bucket or user name back, as the history (final
// reads are recorded there too). A read that fails is retried until the
// deadline: unavailability that outlasts it is a finding. It reports
// whether the listings agreed.
func converge(ctx context.Context, w Workload, ops []Op, d time.Duration) (Final, bool) {
	deadline := time.Now().Add(d)
	clients := make([]*s3.Client, len(w.Endpoints))
	for i, ep := range w.Endpoints {
		clients[i] = w.s3Client(ep)
	}
	final := Final{Objects: map[ObjKey]Op{}, Lists: map[string]map[string]int64{}, Meta: map[string]Op{}}
	converged := false
	for !converged && time.Now().Before(deadline) && ctx.Err() == nil {
		converged = true
		for _, b := range w.Buckets {
			var first map[string]int64
			for i, cl := range clients {
				keys, err := listAll(ctx, cl, b)
				if err != nil {
					converged = false
					break
				}
				final.Lists[w.Endpoints[i]+" "+b] = keys
				if i == 0 {
					first = keys
				} else if !sameKeys(first, keys) {
					converged = false
				}
			}
		}
		if !converged {
			time.Sleep(time.Second)
		}
	}
	h := NewHistory()
	// readBack runs a final read until it gives a definite answer or the
	// deadline passes.
	readBack := func(op *Op, fn func(context.Context) error) {
		for {
			op.Status, op.Err = "", ""
			w.do(ctx, h, op, fn)
			if op.Status != Fail || time.Now().After(deadline) || ctx.Err() != nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	adm := w.admin(w.Endpoints[0])
	for _, op := range ops {
		switch key := metaKey(op); {
		case op.Kind == OpPut || op.Kind == OpDelete || op.Kind == OpGet:
			k := ObjKey{op.Bucket, op.Key}
			if _, ok := final.Objects[k]; ok {
				continue
			}
			fin := Op{Kind: OpGet, Bucket: k.Bucket, Key: k.Key, Endpoint: w.Endpoints[0]}
			readBack(&fin, func(ctx context.Context) error { return get(ctx, clients[0], &fin) })
			final.Objects[k] = fin
		case key != "":
			if _, ok := final.Meta[key]; ok {
				continue
			}
			fin := Op{Kind: OpHeadBucket, Bucket: op.Bucket, Name: op.Name, Endpoint: w.Endpoints[0]}
			if op.Name != "" {
				fin.Kind = OpGetUser
				readBack(&fin, func(ctx context.Context) error {
					_, err := adm.GetUser(ctx, fin.Name)
					return err
				})
			} else {
				readBack(&fin, func(ctx context.Context) error {
					_, err := clients[0].HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &fin.Bucket})
					return err
				})
			}
			final.Meta[key] = fin
		}
	}
	return final, converged
}

func sameKeys(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// writeFinal writes the reads made after heal, one per line, sorted.
func writeFinal(path string, final Final) error {
	h := NewHistory()
	for _, op := range final.Objects {
		h.Add(op)
	}
	for _, op := range final.Meta {
		h.Add(op)
	}
	sort.Slice(h.ops, func(i, j int) bool { return h.ops[i].Start < h.ops[j].Start })
	return h.WriteJSONLines(path)
}
