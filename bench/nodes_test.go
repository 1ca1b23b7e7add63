package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// strataExposition is the shape of a node's /strata/metrics (the process
// collector of client_golang).
const strataExposition = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total %g
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes %g
# HELP strata_requests_total Requests served.
# TYPE strata_requests_total counter
strata_requests_total{api="PutObject",code="200"} 7
`

// minioExposition is the shape of MinIO's /minio/v2/metrics/node.
const minioExposition = `# HELP minio_node_process_cpu_total_seconds Total user and system CPU time spent in seconds
# TYPE minio_node_process_cpu_total_seconds counter
minio_node_process_cpu_total_seconds{server="127.0.0.1:9000"} 12.5
# HELP minio_node_process_resident_memory_bytes Resident memory size in bytes
# TYPE minio_node_process_resident_memory_bytes gauge
minio_node_process_resident_memory_bytes{server="127.0.0.1:9000"} 2.5e+08
`

func TestParseProcess(t *testing.T) {
	p, err := parseProcess(strings.NewReader(fmt.Sprintf(strataExposition, 3.25, 1.5e8)))
	if err != nil || p != (process{rss: 1.5e8, cpu: 3.25}) {
		t.Errorf("strata: %+v %v", p, err)
	}
	p, err = parseProcess(strings.NewReader(minioExposition))
	if err != nil || p != (process{rss: 2.5e8, cpu: 12.5}) {
		t.Errorf("minio: %+v %v", p, err)
	}
	for name, text := range map[string]string{
		"no process metrics": "# TYPE go_goroutines gauge\ngo_goroutines 42\n",
		"no cpu":             "process_resident_memory_bytes 5\n",
		"not prometheus":     "<html>hello</html>\n",
	} {
		if p, err := parseProcess(strings.NewReader(text)); err == nil {
			t.Errorf("%s: %+v", name, p)
		}
	}
}

// fakeNode serves a process exposition whose values the test sets, behind
// an auth check.
type fakeNode struct {
	srv      *httptest.Server
	mu       sync.Mutex
	rss, cpu float64
	served   atomic.Int64 // scrapes answered
	hits     atomic.Int64 // requests, answered or refused
}

func newFakeNode(t *testing.T, auth func(*http.Request) bool) *fakeNode {
	n := &fakeNode{rss: 1, cpu: 1}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.hits.Add(1)
		if r.URL.Path != "/strata/metrics" || !auth(r) {
			http.Error(w, "denied", http.StatusForbidden)
			return
		}
		n.mu.Lock()
		fmt.Fprintf(w, strataExposition, n.cpu, n.rss)
		n.mu.Unlock()
		n.served.Add(1)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *fakeNode) set(rss, cpu float64) {
	n.mu.Lock()
	n.rss, n.cpu = rss, cpu
	n.mu.Unlock()
}

// waitServed waits until the node answered k more scrapes.
func (n *fakeNode) waitServed(t *testing.T, k int64) {
	t.Helper()
	target := n.served.Load() + k
	for deadline := time.Now().Add(10 * time.Second); n.served.Load() < target; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sampler stopped scraping")
		}
	}
}

func TestSamplerPeaksAndCPU(t *testing.T) {
	bearer := newFakeNode(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok" })
	s := &scraper{hc: http.DefaultClient, token: "tok"}
	ctx := context.Background()
	sm, note := newSampler(ctx, s, []string{bearer.srv.URL}, "/strata/metrics", 5*time.Millisecond)
	if note != "" {
		t.Fatal(note)
	}
	bearer.set(100e6, 5)
	sm.begin(ctx)
	bearer.set(300e6, 6)
	bearer.waitServed(t, 2) // the peak is only seen between begin and end
	bearer.set(150e6, 7.5)
	got := sm.end(ctx)
	host := strings.TrimPrefix(bearer.srv.URL, "http://")
	if len(got) != 1 || got[0] != (NodeUsage{Node: host, PeakRSSBytes: 300e6, CPUSeconds: 2.5}) {
		t.Fatalf("usage %+v", got)
	}
	// After end, the sampler no longer scrapes.
	n := bearer.served.Load()
	time.Sleep(30 * time.Millisecond)
	if bearer.served.Load() != n {
		t.Error("scrapes go on after end")
	}
}

func TestSamplerSignsAndLeavesOutDeniedNodes(t *testing.T) {
	signed := newFakeNode(t, func(r *http.Request) bool {
		return strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKID/") &&
			strings.Contains(r.Header.Get("Authorization"), "/us-east-1/s3/aws4_request") &&
			r.Header.Get("x-amz-content-sha256") == emptySHA256
	})
	denied := newFakeNode(t, func(*http.Request) bool { return false })
	s := &scraper{hc: http.DefaultClient, creds: aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"},
		region: "us-east-1", signer: v4.NewSigner()}
	ctx := context.Background()
	sm, note := newSampler(ctx, s, []string{signed.srv.URL, denied.srv.URL}, "/strata/metrics", time.Hour)
	deniedHost := strings.TrimPrefix(denied.srv.URL, "http://")
	if !strings.Contains(note, deniedHost+": metrics: GET") || !strings.Contains(note, "403") || strings.Contains(note, "secret") {
		t.Errorf("note %q", note)
	}
	signed.set(64e6, 1)
	sm.begin(ctx)
	signed.set(64e6, 3)
	got := sm.end(ctx)
	if len(got) != 1 || got[0].Node != strings.TrimPrefix(signed.srv.URL, "http://") || got[0].CPUSeconds != 2 || got[0].PeakRSSBytes != 64e6 {
		t.Fatalf("usage %+v", got)
	}
	// The denied node was asked once, by the probe, and then left alone.
	if h := denied.hits.Load(); h != 1 {
		t.Errorf("the denied node got %d requests, want 1", h)
	}
}
