package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is a run's results; encoding/json writes it as `stratactl bench
// --json` prints it.
type Report struct {
	Started         time.Time `json:"started"`
	Endpoints       []string  `json:"endpoints"`
	Bucket          string    `json:"bucket"`
	Concurrency     int       `json:"concurrency"`
	DurationSeconds float64   `json:"duration_seconds"` // each workload's
	Workloads       []Result  `json:"workloads"`
	Summary         Summary   `json:"summary"`
	// MetricsNote says which nodes' metrics could not be read, and why.
	MetricsNote string `json:"metrics_note,omitempty"`
	// Interrupted: the run was stopped before its end.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Result is one workload's outcome.
type Result struct {
	Name           string  `json:"name"`
	Concurrency    int     `json:"concurrency"`
	ObjectSize     int64   `json:"object_size"`
	ElapsedSeconds float64 `json:"elapsed_seconds"` // from the first request to the last answer
	// PrepareSeconds is the time spent writing the objects it needed
	// before its clock started.
	PrepareSeconds float64     `json:"prepare_seconds,omitempty"`
	Ops            []OpStats   `json:"ops"`   // one per kind of request it made
	Nodes          []NodeUsage `json:"nodes"` // the nodes whose metrics could be read
	// ClientCPUSeconds is the CPU the benchmark process itself used.
	ClientCPUSeconds float64 `json:"client_cpu_seconds"`
	// CPUSecondsPerGiB is the nodes' CPU seconds per GiB of object bytes
	// moved (0 when none moved or no node metrics).
	CPUSecondsPerGiB float64  `json:"cpu_seconds_per_gib,omitempty"`
	Note             string   `json:"note,omitempty"`
	ErrorSamples     []string `json:"error_samples,omitempty"`
}

// OpStats is one kind of request of a workload. Rates are over the
// workload's elapsed time; latencies are of the successful requests, from
// sending the request to reading the last byte of the answer.
type OpStats struct {
	Op        string  `json:"op"`
	Ops       int64   `json:"ops"` // successful requests
	Errors    int64   `json:"errors"`
	Bytes     int64   `json:"bytes"`   // object bytes sent (PUT) or received (GET)
	Objects   int64   `json:"objects"` // objects written, read, checked or deleted; keys listed
	OpsPerSec float64 `json:"ops_per_sec"`
	MiBPerSec float64 `json:"mib_per_sec"`
	ObjPerSec float64 `json:"obj_per_sec"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// Summary is the whole run: CPU per byte over the pure PUT and GET
// workloads, and each node's highest RSS.
type Summary struct {
	Ops    int64 `json:"ops"`
	Errors int64 `json:"errors"`
	// GiBStored and CPUSecondsStored are the bytes the put-* workloads
	// wrote and the nodes' CPU seconds during them; likewise Served for
	// the get-* workloads.
	GiBStored              float64 `json:"gib_stored"`
	CPUSecondsStored       float64 `json:"cpu_seconds_stored"`
	CPUSecondsPerGiBStored float64 `json:"cpu_seconds_per_gib_stored"`
	GiBServed              float64 `json:"gib_served"`
	CPUSecondsServed       float64 `json:"cpu_seconds_served"`
	CPUSecondsPerGiBServed float64 `json:"cpu_seconds_per_gib_served"`
	// PeakRSS is each node's highest resident memory over the run.
	PeakRSS []NodeUsage `json:"peak_rss"`
}

// summarize fills r.Summary from r.Workloads.
func (r *Report) summarize() {
	s := Summary{}
	peak := map[string]int64{}
	var order []string
	for i := range r.Workloads {
		w := &r.Workloads[i]
		var cpu float64
		for _, n := range w.Nodes {
			cpu += n.CPUSeconds
			if _, ok := peak[n.Node]; !ok {
				order = append(order, n.Node)
			}
			peak[n.Node] = max(peak[n.Node], n.PeakRSSBytes)
		}
		var bytes int64
		for _, o := range w.Ops {
			s.Ops += o.Ops
			s.Errors += o.Errors
			bytes += o.Bytes
		}
		gib := float64(bytes) / (1 << 30)
		if gib > 0 && len(w.Nodes) > 0 {
			w.CPUSecondsPerGiB = cpu / gib
		}
		switch kind, _, _ := strings.Cut(w.Name, "-"); {
		case len(w.Nodes) == 0:
		case kind == "put" && len(w.Ops) == 1:
			s.GiBStored += gib
			s.CPUSecondsStored += cpu
		case kind == "get" && len(w.Ops) == 1:
			s.GiBServed += gib
			s.CPUSecondsServed += cpu
		}
	}
	if s.GiBStored > 0 {
		s.CPUSecondsPerGiBStored = s.CPUSecondsStored / s.GiBStored
	}
	if s.GiBServed > 0 {
		s.CPUSecondsPerGiBServed = s.CPUSecondsServed / s.GiBServed
	}
	for _, n := range order {
		s.PeakRSS = append(s.PeakRSS, NodeUsage{Node: n, PeakRSSBytes: peak[n]})
	}
	r.Summary = s
}

// WriteTable prints the report for people: a line per workload and op,
// each node's peak RSS and CPU seconds per workload, and the summary.
func (r *Report) WriteTable(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "%d clients over %s; %s per workload; bucket %s\n\n",
		r.Concurrency, strings.Join(r.Endpoints, ", "), time.Duration(r.DurationSeconds*float64(time.Second)), r.Bucket)
	fmt.Fprintln(tw, "WORKLOAD\tOP\tCLIENTS\tOPS\tOPS/S\tMiB/S\tOBJ/S\tP50\tP90\tP99\tERRORS\tNODE CPU s/GiB\t")
	for _, w := range r.Workloads {
		for i, o := range w.Ops {
			perGiB := "-"
			if i == 0 && w.CPUSecondsPerGiB > 0 {
				perGiB = fmt.Sprintf("%.1f", w.CPUSecondsPerGiB)
			}
			mibs := "-"
			if o.Bytes > 0 {
				mibs = fmt.Sprintf("%.1f", o.MiBPerSec)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%s\t%.1f\t%s\t%s\t%s\t%d\t%s\t\n",
				w.Name, o.Op, w.Concurrency, o.Ops, o.OpsPerSec, mibs, o.ObjPerSec,
				latency(o.P50ms), latency(o.P90ms), latency(o.P99ms), o.Errors, perGiB)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, w := range r.Workloads {
		if w.Name == "list" {
			fmt.Fprintln(out, "list: OPS/S are pages (up to 1,000 keys), OBJ/S keys listed")
		}
	}
	r.writeNodes(out)
	r.writeSummary(out)
	return nil
}

// writeNodes prints, per workload, every node's peak RSS and CPU seconds
// and the benchmark client's own CPU seconds.
func (r *Report) writeNodes(out io.Writer) {
	var nodes []string
	for _, p := range r.Summary.PeakRSS {
		nodes = append(nodes, p.Node)
	}
	fmt.Fprintln(out)
	if len(nodes) == 0 {
		fmt.Fprintln(out, "node metrics: none could be read")
	} else {
		fmt.Fprintln(out, "per node: peak RSS / CPU seconds used during the workload")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "WORKLOAD\t")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprintln(tw, "NODES CPU s\tCLIENT CPU s\t")
	for _, w := range r.Workloads {
		fmt.Fprintf(tw, "%s\t", w.Name)
		var total float64
		for _, n := range nodes {
			cell := "-"
			for _, u := range w.Nodes {
				if u.Node == n {
					cell = fmt.Sprintf("%s / %.1f s", mibString(u.PeakRSSBytes), u.CPUSeconds)
					total += u.CPUSeconds
				}
			}
			fmt.Fprintf(tw, "%s\t", cell)
		}
		fmt.Fprintf(tw, "%.1f\t%.1f\t\n", total, w.ClientCPUSeconds)
	}
	tw.Flush()
}

// writeSummary prints the run's totals, CPU per GiB and notes.
func (r *Report) writeSummary(out io.Writer) {
	s := r.Summary
	fmt.Fprintln(out)
	if s.GiBStored > 0 && s.CPUSecondsStored > 0 {
		fmt.Fprintf(out, "CPU per GiB stored: %.1f s (nodes' CPU during put-*: %.1f s for %s)\n", s.CPUSecondsPerGiBStored, s.CPUSecondsStored, gibString(s.GiBStored))
	}
	if s.GiBServed > 0 && s.CPUSecondsServed > 0 {
		fmt.Fprintf(out, "CPU per GiB served: %.1f s (nodes' CPU during get-*: %.1f s for %s)\n", s.CPUSecondsPerGiBServed, s.CPUSecondsServed, gibString(s.GiBServed))
	}
	if len(s.PeakRSS) > 0 {
		var parts []string
		for _, p := range s.PeakRSS {
			parts = append(parts, p.Node+" "+mibString(p.PeakRSSBytes))
		}
		fmt.Fprintf(out, "peak RSS over the run: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(out, "requests: %d ok, %d failed\n", s.Ops, s.Errors)
	for _, w := range r.Workloads {
		if w.Note != "" {
			fmt.Fprintf(out, "%s: %s\n", w.Name, w.Note)
		}
		for _, e := range w.ErrorSamples {
			fmt.Fprintf(out, "%s: error: %s\n", w.Name, e)
		}
	}
	if r.MetricsNote != "" {
		fmt.Fprintln(out, r.MetricsNote)
	}
	if r.Interrupted {
		fmt.Fprintln(out, "interrupted: the run stopped before its end")
	}
}

// latency formats milliseconds: 0.42ms, 12.3ms, 172ms, 1.52s; "-" for none.
func latency(ms float64) string {
	switch {
	case ms <= 0:
		return "-"
	case ms < 1:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.2fs", ms/1000)
}

// gibString formats a size in GiB: 2.00 GiB, or 37.5 MiB below 1 GiB.
func gibString(gib float64) string {
	if gib < 1 {
		return fmt.Sprintf("%.1f MiB", gib*1024)
	}
	return fmt.Sprintf("%.2f GiB", gib)
}

// mibString formats bytes as whole MiB.
func mibString(b int64) string { return fmt.Sprintf("%.0f MiB", math.Round(float64(b)/mib)) }
