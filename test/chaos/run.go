package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	Faults   []string      // fault kinds, cycled in a seeded order while the workload runs
	Parity   int           // m of the EC layout: at most m nodes are killed at once
	// Converge bounds the wait, after the faults healed, for every
	// endpoint to list the same keys.
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
	ByKind        map[string][3]int `json:"by_kind"` // attempted, acknowledged (ok or not found), failed
	BytesWritten  int64             `json:"bytes_acknowledged"`
	MultipartPuts int               `json:"multipart_puts_acknowledged"`
	Faults        []FaultEvent      `json:"faults"`
	ConvergeS     float64           `json:"time_to_converge_s"`
	Converged     bool              `json:"converged"`
	Crashes       []string          `json:"crashes,omitempty"`
	Verdict       Verdict           `json:"verdict"`
}

// Failed reports whether the run broke a guarantee or a node crashed.
func (r *Report) Failed() bool { return r.Verdict.Failed() || len(r.Crashes) > 0 || !r.Converged }

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
		fmt.Fprintf(&b, "    %-13s %6d attempted %6d acknowledged %5d failed\n", k, c[0], c[1], c[2])
	}
	for _, f := range r.Faults {
		fmt.Fprintf(&b, "  fault %-7s %-28s at %6.1fs healed %6.1fs ready %6.1fs  longest unavailable %5.2fs  %s %s\n",
			f.Kind, f.Target, float64(f.Start)/1e9, float64(f.Healed)/1e9, float64(f.Ready)/1e9, f.LongestUnavailable, f.Detail, f.Err)
	}
	v := r.Verdict
	fmt.Fprintf(&b, "  converged: %v in %.1fs\n", r.Converged, r.ConvergeS)
	fmt.Fprintf(&b, "  acknowledged writes lost: %d   corrupt reads: %d   deleted back: %d   stale: %d   unreadable: %d   list mismatches: %d   metadata lost: %d   linearizable: %s (%d keys)\n",
		v.LostWrites, v.CorruptReads, v.Resurrected, v.Stale, v.Unreadable, v.ListMismatch, v.MetadataLost, v.Linearizable, v.KeysChecked)
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

func (a adminStatus) status(ctx context.Context) (string, map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	st, err := a.c.ClusterStatus(ctx)
	if err != nil {
		return "", nil, err
	}
	alive := map[string]bool{}
	for _, n := range st.Nodes {
		alive[n.ID] = n.Alive
	}
	return st.Leader, alive, nil
}

// Run makes the buckets, runs the workload while injecting the faults,
// heals everything, waits for convergence, reads every key back and checks
// the history. It returns the report (also written to cfg.Dir) and an
// error only when the run itself could not be carried out.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	w := cfg.Workload
	h := NewHistory()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	faultLog, err := os.Create(filepath.Join(cfg.Dir, "faults.log"))
	if err != nil {
		return nil, err
	}
	defer faultLog.Close()
	in := &injector{c: cfg.Cluster, h: h, parity: cfg.Parity, logf: logf, log: faultLog,
		admin: func(ep string) statusGetter { return adminStatus{w.admin(ep)} }}
	in.note("run %s: seed %d, %d clients, %s, faults %v", cfg.Name, cfg.Seed, w.Clients, cfg.Duration, cfg.Faults)

	setup := w.s3Client(w.Endpoints[0])
	for _, b := range w.Buckets {
		if err := retry(ctx, 30*time.Second, func() error {
			_, err := setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b})
			if err != nil && (strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") || strings.Contains(err.Error(), "BucketAlreadyExists")) {
				return nil
			}
			return err
		}); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", b, err)
		}
	}

	wctx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(wctx, h) })
	var events []FaultEvent
	in.hold = wctx
	if cfg.Cluster != nil && len(cfg.Faults) > 0 {
		r := rand.New(rand.NewPCG(cfg.Seed, 0xfa17))
		order := append([]string(nil), cfg.Faults...)
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		in.sleep(wctx, 3*time.Second) // a baseline before the first fault
		for i := 0; wctx.Err() == nil; i++ {
			ev := in.Inject(ctx, order[i%len(order)], r)
			events = append(events, ev)
			in.sleep(wctx, in.jitter(r, time.Second, 3*time.Second))
		}
	}
	wg.Wait()
	end := h.Now()
	in.note("workload done after %s", time.Duration(end).Round(time.Millisecond))

	rep := &Report{Name: cfg.Name, Seed: cfg.Seed, Dir: cfg.Dir, Endpoints: len(w.Endpoints), Clients: w.Clients,
		DurationS: float64(end) / 1e9, ByKind: map[string][3]int{}}
	healStart := time.Now()
	if cfg.Cluster != nil {
		if err := in.healAll(ctx); err != nil {
			in.note("heal: %v", err)
		}
	}
	ops := h.Ops()
	final, converged := converge(ctx, w, ops, cfg.Converge, in)
	rep.ConvergeS, rep.Converged = time.Since(healStart).Seconds(), converged
	in.note("converged=%v after %.1fs", converged, rep.ConvergeS)

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
	for i := range events {
		// Clipped at the workload's end: no operation runs after it.
		events[i].LongestUnavailable = longestGap(ops, events[i].Start, min(events[i].Ready, end)).Seconds()
	}
	rep.Faults = events
	if cfg.Cluster != nil {
		rep.Crashes = cfg.Cluster.Crashes()
	}
	rep.Verdict = Check(ops, final, cfg.Dir)

	if err := h.WriteJSONLines(filepath.Join(cfg.Dir, "history.jsonl")); err != nil {
		return rep, err
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.Dir, "report.json"), b, 0o644); err != nil {
		return rep, err
	}
	return rep, nil
}

// longestGap is the longest stretch overlapping [from, to] in which no
// operation succeeded (ended OK or NotFound).
func longestGap(ops []Op, from, to int64) time.Duration {
	var ends []int64
	for _, op := range ops {
		if op.Status != Fail {
			ends = append(ends, op.End)
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	var longest int64
	prev := int64(0)
	for _, e := range append(ends, to) {
		if e >= from && prev <= to {
			longest = max(longest, min(e, to)-max(prev, from)) // the gap clipped to the fault's window
		}
		prev = e
	}
	return time.Duration(max(longest, 0))
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
// reads every key and metadata name back. A key whose GET fails is retried
// until the deadline: unavailability that outlasts it is a finding.
func converge(ctx context.Context, w Workload, ops []Op, d time.Duration, in *injector) (Final, bool) {
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
	seen := map[ObjKey]bool{}
	for _, op := range ops {
		k := ObjKey{op.Bucket, op.Key}
		if (op.Kind == OpPut || op.Kind == OpDelete || op.Kind == OpGet) && !seen[k] {
			seen[k] = true
			fin := Op{Kind: OpGet, Bucket: k.Bucket, Key: k.Key, Endpoint: w.Endpoints[0]}
			for {
				fin.Status, fin.Err = "", ""
				w.do(ctx, h, &fin, func(ctx context.Context) error { return get(ctx, clients[0], &fin) })
				if fin.Status != Fail || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			final.Objects[k] = fin
		}
		if op.Status != OK {
			continue
		}
		switch op.Kind {
		case OpCreateBucket:
			name := op.Bucket
			m := Op{Kind: OpHeadBucket, Bucket: name}
			_ = retry(ctx, time.Until(deadline), func() error {
				w.do(ctx, h, &m, func(ctx context.Context) error {
					_, err := clients[0].HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
					return err
				})
				if m.Status == Fail {
					return errors.New(m.Err)
				}
				return nil
			})
			final.Meta["bucket "+name] = m
		case OpCreateUser:
			name := op.Bucket
			m := Op{Kind: OpCreateUser, Bucket: name}
			_ = retry(ctx, time.Until(deadline), func() error {
				w.do(ctx, h, &m, func(ctx context.Context) error {
					_, err := w.admin(w.Endpoints[0]).GetUser(ctx, name)
					return err
				})
				if m.Status == Fail {
					return errors.New(m.Err)
				}
				return nil
			})
			final.Meta["user "+name] = m
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
