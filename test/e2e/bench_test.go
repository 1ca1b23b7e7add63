package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// benchJSON is the part of `stratactl bench --json` the test checks.
type benchJSON struct {
	Bucket    string `json:"bucket"`
	Workloads []struct {
		Name           string  `json:"name"`
		ElapsedSeconds float64 `json:"elapsed_seconds"`
		Ops            []struct {
			Op      string  `json:"op"`
			N       int64   `json:"ops"`
			E       int64   `json:"errors"`
			B       int64   `json:"bytes"`
			Objects int64   `json:"objects"`
			P50j    float64 `json:"p50_ms"`
			P90j    float64 `json:"p90_ms"`
			P99j    float64 `json:"p99_ms"`
			Maxj    float64 `json:"max_ms"`
		} `json:"ops"`
		Nodes []struct {
			Node         string  `json:"node"`
			PeakRSSBytes int64   `json:"peak_rss_bytes"`
			CPUSeconds   float64 `json:"cpu_seconds"`
		} `json:"nodes"`
	} `json:"workloads"`
	Summary struct {
		Errors                 int64   `json:"errors"`
		CPUSecondsPerGiBStored float64 `json:"cpu_seconds_per_gib_stored"`
		CPUSecondsPerGiBServed float64 `json:"cpu_seconds_per_gib_served"`
	} `json:"summary"`
	MetricsNote string `json:"metrics_note"`
}

// runBench runs the stratactl binary's bench over endpoints with the root
// keys (secret sk) and returns its stdout and stderr.
func runBench(endpoints []string, sk string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"--endpoint", strings.Join(endpoints, ","), "bench"}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "stratactl"), args...)
	cmd.Env = append(os.Environ(), "STRATA_ACCESS_KEY="+rootAK, "STRATA_SECRET_KEY="+sk)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestBenchCommand runs `stratactl bench` against a 4-node EC 6+2 cluster:
// short put-4k, get-4k and list workloads over the 4 endpoints, checked
// through --json (counts, bytes, latencies, every page of every listing,
// each node's RSS and CPU read from /strata/metrics), the bucket removed at
// the end; then the table with node metrics refused, and a run with a
// wrong secret failing.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	procs := startCluster(t, 4, "6+2")
	endpoints := endpointsOf(procs)

	const listKeys = 300
	stdout, stderr, err := runBench(endpoints, rootSK, "--workloads", "put-4k,get-4k,list", "--duration", "3s",
		"--concurrency", "8", "--list-keys", "300", "--objects", "200", "--json")
	if err != nil {
		t.Fatalf("stratactl bench: %v\n%s\n%s", err, stderr, stdout)
	}
	t.Logf("progress:\n%s", stderr)
	var rep benchJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stdout)
	}
	if len(rep.Workloads) != 3 || rep.Summary.Errors != 0 || rep.MetricsNote != "" {
		t.Fatalf("report %+v", rep)
	}
	for i, w := range rep.Workloads {
		if want := []string{"put-4k", "get-4k", "list"}[i]; w.Name != want || len(w.Ops) != 1 {
			t.Fatalf("workload %d: %s with %d ops, want %s", i, w.Name, len(w.Ops), want)
		}
		if w.ElapsedSeconds < 3 || w.ElapsedSeconds > 15 {
			t.Errorf("%s took %.1f s for a 3 s duration", w.Name, w.ElapsedSeconds)
		}
		o := w.Ops[0]
		if o.N < 10 || o.E != 0 || !(0 < o.P50j && o.P50j <= o.P90j && o.P90j <= o.P99j && o.P99j <= o.Maxj) {
			t.Errorf("%s: %d ok, %d failed, p50 %.1f p90 %.1f p99 %.1f max %.1f ms", w.Name, o.N, o.E, o.P50j, o.P90j, o.P99j, o.Maxj)
		}
		switch w.Name {
		case "put-4k", "get-4k":
			if o.B != o.N*4096 || o.Objects != o.N {
				t.Errorf("%s: %d ops, %d bytes, %d objects", w.Name, o.N, o.B, o.Objects)
			}
		case "list":
			// Every listing is one page of all the keys, checked by the tool.
			if o.B != 0 || o.Objects != o.N*listKeys {
				t.Errorf("list: %d pages, %d keys", o.N, o.Objects)
			}
		}
		if len(w.Nodes) != 4 {
			t.Errorf("%s: metrics of %d nodes", w.Name, len(w.Nodes))
		}
		for _, n := range w.Nodes {
			if n.PeakRSSBytes < 10<<20 || n.PeakRSSBytes > 4<<30 || n.CPUSeconds <= 0 {
				t.Errorf("%s: node %s: peak RSS %d, CPU %.2f s", w.Name, n.Node, n.PeakRSSBytes, n.CPUSeconds)
			}
		}
	}
	if rep.Summary.CPUSecondsPerGiBStored <= 0 || rep.Summary.CPUSecondsPerGiBServed <= 0 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if !regexp.MustCompile(`removed \d+ objects and the bucket`).MatchString(stderr) {
		t.Errorf("no cleanup line in\n%s", stderr)
	}
	c := sdkFor(procs[1].s3, newStatusCounter())
	_, err = c.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(rep.Bucket)})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("bucket %s after the run: %v", rep.Bucket, err)
	}

	// The table, with a token the nodes do not take: no node metrics, the
	// requests still all succeed (--keep: the cleanup was checked above).
	stdout, stderr, err = runBench(endpoints, rootSK, "--workloads", "put-4k", "--duration", "1s", "--concurrency", "2", "--metrics-token", "not-the-token", "--keep")
	if err != nil {
		t.Fatalf("bench with a wrong metrics token: %v\n%s\n%s", err, stderr, stdout)
	}
	for _, want := range []string{"WORKLOAD", "put-4k", "PUT", "node metrics: none could be read", "no node metrics from " + procs[0].s3, "0 failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table has no %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, "not-the-token") || strings.Contains(stdout+stderr, rootSK) {
		t.Error("a secret is printed")
	}

	// A wrong secret: no bucket, a clear error, exit status 1.
	stdout, stderr, err = runBench(endpoints, "wrong-secret-key", "--workloads", "put-4k", "--duration", "1s")
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v\n%s\n%s", err, stderr, stdout)
	}
}
