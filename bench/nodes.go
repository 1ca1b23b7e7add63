package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The process metrics a node is sampled for: the Prometheus client's
// standard names, and the suffixes of servers that prefix them (MinIO's
// minio_node_process_resident_memory_bytes and
// minio_node_process_cpu_total_seconds).
var (
	rssNames = []string{"process_resident_memory_bytes"}
	cpuNames = []string{"process_cpu_seconds_total", "process_cpu_total_seconds"}
)

// process is one reading of a node's process metrics.
type process struct {
	rss float64 // bytes
	cpu float64 // seconds since the process started
}

// parseProcess reads the process metrics out of a Prometheus text
// exposition.
func parseProcess(r io.Reader) (process, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return process{}, fmt.Errorf("metrics: %w", err)
	}
	rss, okRSS := find(fams, rssNames)
	cpu, okCPU := find(fams, cpuNames)
	if !okRSS || !okCPU {
		return process{}, errors.New("metrics: no process_resident_memory_bytes and process_cpu_seconds_total")
	}
	return process{rss: rss, cpu: cpu}, nil
}

// find is the value of the family named one of names, or ending in _name;
// a family of several series (labels) adds them up.
func find(fams map[string]*dto.MetricFamily, names []string) (float64, bool) {
	for _, name := range names {
		for fname, f := range fams {
			if fname != name && !strings.HasSuffix(fname, "_"+name) {
				continue
			}
			var sum float64
			for _, m := range f.GetMetric() {
				switch {
				case m.Gauge != nil:
					sum += m.Gauge.GetValue()
				case m.Counter != nil:
					sum += m.Counter.GetValue()
				case m.Untyped != nil:
					sum += m.Untyped.GetValue()
				}
			}
			return sum, len(f.GetMetric()) > 0
		}
	}
	return 0, false
}

// emptySHA256 is the payload hash of a request without a body.
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// scraper reads nodes' process metrics.
type scraper struct {
	hc     *http.Client
	token  string
	creds  aws.Credentials
	region string
	signer *v4.Signer
}

// scrape reads the process metrics at u.
func (s *scraper) scrape(ctx context.Context, u string) (process, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return process{}, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	} else {
		req.Header.Set("x-amz-content-sha256", emptySHA256)
		if err := s.signer.SignHTTP(ctx, s.creds, req, emptySHA256, "s3", s.region, time.Now()); err != nil {
			return process{}, err
		}
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return process{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return process{}, fmt.Errorf("metrics: GET %s: %s", u, resp.Status)
	}
	return parseProcess(io.LimitReader(resp.Body, 64<<20))
}

// NodeUsage is what one node spent during a workload.
type NodeUsage struct {
	Node         string  `json:"node"` // its endpoint's host:port
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	CPUSeconds   float64 `json:"cpu_seconds"` // process CPU (user + system) used during the workload
}

// sampler follows the nodes' process metrics during workloads: CPU at the
// start and end of each, resident memory every interval in between.
type sampler struct {
	s        *scraper
	nodes    []string // host:port
	urls     []string
	interval time.Duration

	live []bool // the node answered the probe

	mu     sync.Mutex
	start  []process
	peak   []float64
	cancel context.CancelFunc
	done   chan struct{}
}

// newSampler probes every endpoint's metrics at path once; the nodes that
// do not answer are left out, with the reason in note.
func newSampler(ctx context.Context, s *scraper, endpoints []string, path string, interval time.Duration) (sm *sampler, note string) {
	sm = &sampler{s: s, interval: interval}
	for _, e := range endpoints {
		u, _ := url.Parse(e)
		sm.nodes = append(sm.nodes, u.Host)
		sm.urls = append(sm.urls, e+path)
	}
	sm.live = make([]bool, len(endpoints))
	for i := range sm.live {
		sm.live[i] = true
	}
	var reasons []string
	for i, p := range sm.readAll(ctx) {
		if p.err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", sm.nodes[i], p.err))
			sm.live[i] = false
		}
	}
	if len(reasons) > 0 {
		note = "no node metrics from " + strings.Join(reasons, "; ")
	}
	return sm, note
}

// reading is one node's answer to a scrape.
type reading struct {
	process
	err error
}

// readAll scrapes every live node at once (live is set before any
// concurrent use and never changes after).
func (sm *sampler) readAll(ctx context.Context) []reading {
	out := make([]reading, len(sm.urls))
	var wg sync.WaitGroup
	for i, u := range sm.urls {
		if !sm.live[i] {
			out[i].err = errors.New("metrics: node left out")
			continue
		}
		wg.Go(func() {
			p, err := sm.s.scrape(ctx, u)
			out[i] = reading{p, err}
		})
	}
	wg.Wait()
	return out
}

// begin starts following a workload: CPU now, RSS every interval.
func (sm *sampler) begin(ctx context.Context) {
	rs := sm.readAll(ctx)
	sm.mu.Lock()
	sm.start = make([]process, len(rs))
	sm.peak = make([]float64, len(rs))
	for i, r := range rs {
		if r.err == nil {
			sm.start[i], sm.peak[i] = r.process, r.rss
		}
	}
	sm.mu.Unlock()
	ctx, sm.cancel = context.WithCancel(ctx)
	sm.done = make(chan struct{})
	go sm.loop(ctx)
}

// loop raises the peaks every interval until the workload ends.
func (sm *sampler) loop(ctx context.Context) {
	defer close(sm.done)
	t := time.NewTicker(sm.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sm.raise(sm.readAll(ctx))
		}
	}
}

// raise records readings' RSS in the peaks.
func (sm *sampler) raise(rs []reading) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for i, r := range rs {
		if r.err == nil {
			sm.peak[i] = max(sm.peak[i], r.rss)
		}
	}
}

// end stops following the workload and returns each live node's usage.
func (sm *sampler) end(ctx context.Context) []NodeUsage {
	sm.cancel()
	<-sm.done
	rs := sm.readAll(ctx)
	sm.raise(rs)
	sm.mu.Lock()
	defer sm.mu.Unlock()
	var out []NodeUsage
	for i, r := range rs {
		if r.err != nil || sm.start[i] == (process{}) {
			continue
		}
		out = append(out, NodeUsage{Node: sm.nodes[i], PeakRSSBytes: int64(sm.peak[i]), CPUSeconds: r.cpu - sm.start[i].cpu})
	}
	return out
}
