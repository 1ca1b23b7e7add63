package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// sampleReport is a run of put-1m, getput and list on two nodes.
func sampleReport() *Report {
	r := &Report{Endpoints: []string{"http://127.0.0.1:9500", "http://127.0.0.1:9501"}, Bucket: "b", Concurrency: 16, DurationSeconds: 30,
		Workloads: []Result{
			{Name: "put-1m", Concurrency: 16, ElapsedSeconds: 30,
				Ops:   []OpStats{{Op: "PUT", Ops: 3072, Bytes: 3 << 30, Objects: 3072, OpsPerSec: 102.4, MiBPerSec: 102.4, ObjPerSec: 102.4, P50ms: 150.2, P90ms: 201, P99ms: 1523}},
				Nodes: []NodeUsage{{"127.0.0.1:9500", 200 << 20, 12}, {"127.0.0.1:9501", 220 << 20, 18}}, ClientCPUSeconds: 4.5},
			{Name: "getput", Concurrency: 16, ElapsedSeconds: 30,
				Ops:   []OpStats{{Op: "GET", Ops: 700, Bytes: 700 << 20, Objects: 700}, {Op: "PUT", Ops: 300, Errors: 2, Bytes: 300 << 20, Objects: 300}},
				Nodes: []NodeUsage{{"127.0.0.1:9500", 250 << 20, 5}, {"127.0.0.1:9501", 180 << 20, 5}}, ErrorSamples: []string{"PUT: SlowDown: Please reduce your request rate. (2 times)"}},
			{Name: "list", Concurrency: 16, ElapsedSeconds: 30, Ops: []OpStats{{Op: "LIST", Ops: 300, Objects: 300000, OpsPerSec: 10, ObjPerSec: 10000, P50ms: 0.42}},
				Nodes: []NodeUsage{{"127.0.0.1:9500", 100 << 20, 1}}, Note: "ran out of objects after 3.0 s"},
		}}
	r.summarize()
	return r
}

func TestSummary(t *testing.T) {
	s := sampleReport().Summary
	// Stored: only put-1m (getput is a mix): 30 CPU s for 3 GiB.
	if s.GiBStored != 3 || s.CPUSecondsStored != 30 || s.CPUSecondsPerGiBStored != 10 {
		t.Errorf("stored: %+v", s)
	}
	if s.GiBServed != 0 || s.CPUSecondsPerGiBServed != 0 {
		t.Errorf("served without a get-* workload: %+v", s)
	}
	if s.Ops != 3072+1000+300 || s.Errors != 2 {
		t.Errorf("ops %d errors %d", s.Ops, s.Errors)
	}
	want := []NodeUsage{{Node: "127.0.0.1:9500", PeakRSSBytes: 250 << 20}, {Node: "127.0.0.1:9501", PeakRSSBytes: 220 << 20}}
	if fmt.Sprint(s.PeakRSS) != fmt.Sprint(want) {
		t.Errorf("peak RSS %v, want %v", s.PeakRSS, want)
	}
	r := sampleReport()
	if got := r.Workloads[1].CPUSecondsPerGiB; math.Abs(got-10*1024/1000.0) > 1e-9 { // 10 CPU s over 1000 MiB
		t.Errorf("getput CPU s/GiB %v", got)
	}
	if r.Workloads[2].CPUSecondsPerGiB != 0 {
		t.Error("list moved no bytes but has a CPU per GiB")
	}
}

func TestWriteTable(t *testing.T) {
	var out bytes.Buffer
	if err := sampleReport().WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	fields := func(prefix string) []string {
		for _, l := range strings.Split(text, "\n") {
			if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(strings.Join(f, " "), prefix) {
				return f
			}
		}
		t.Fatalf("no line %q in\n%s", prefix, text)
		return nil
	}
	if f := fields("WORKLOAD OP"); strings.Join(f, " ") != "WORKLOAD OP CLIENTS OPS OPS/S MiB/S OBJ/S P50 P90 P99 ERRORS NODE CPU s/GiB" {
		t.Errorf("header %v", f)
	}
	if f := fields("put-1m PUT"); strings.Join(f, " ") != "put-1m PUT 16 3072 102.4 102.4 102.4 150ms 201ms 1.52s 0 10.0" {
		t.Errorf("put-1m line %v", f)
	}
	if f := fields("getput PUT"); f[10] != "2" || f[11] != "-" {
		t.Errorf("getput PUT line %v", f)
	}
	if f := fields("list LIST"); f[5] != "-" || f[6] != "10000.0" || f[7] != "0.42ms" || f[8] != "-" {
		t.Errorf("list line %v", f)
	}
	if f := fields("WORKLOAD 127.0.0.1:9500"); strings.Join(f, " ") != "WORKLOAD 127.0.0.1:9500 127.0.0.1:9501 NODES CPU s CLIENT CPU s" {
		t.Errorf("nodes header %v", f)
	}
	if f := fields("put-1m 200 MiB"); strings.Join(f, " ") != "put-1m 200 MiB / 12.0 s 220 MiB / 18.0 s 30.0 4.5" {
		t.Errorf("put-1m nodes line %v", f)
	}
	if f := fields("list 100 MiB"); !strings.Contains(strings.Join(f, " "), "/ 1.0 s - 1.0") {
		t.Errorf("list nodes line (node 9501 missing) %v", f)
	}
	for _, want := range []string{
		"16 clients over http://127.0.0.1:9500, http://127.0.0.1:9501; 30s per workload; bucket b",
		"CPU per GiB stored: 10.0 s (nodes' CPU during put-*: 30.0 s for 3.00 GiB)",
		"peak RSS over the run: 127.0.0.1:9500 250 MiB, 127.0.0.1:9501 220 MiB",
		"requests: 4372 ok, 2 failed",
		"getput: error: PUT: SlowDown: Please reduce your request rate. (2 times)",
		"list: ran out of objects after 3.0 s",
		"list: OPS/S are pages",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if strings.Contains(text, "CPU per GiB served") {
		t.Error("a served line without get-* workloads")
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Workloads []struct {
			Name  string `json:"name"`
			Ops   []map[string]any
			Nodes []map[string]any
		}
		Summary map[string]any
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	op := m.Workloads[0].Ops[0]
	for _, k := range []string{"op", "ops", "errors", "bytes", "objects", "ops_per_sec", "mib_per_sec", "obj_per_sec", "p50_ms", "p90_ms", "p99_ms", "max_ms"} {
		if _, ok := op[k]; !ok {
			t.Errorf("op stats have no %q: %v", k, op)
		}
	}
	if m.Workloads[0].Nodes[0]["peak_rss_bytes"] != float64(200<<20) || m.Workloads[0].Nodes[0]["cpu_seconds"] != 12.0 {
		t.Errorf("node usage %v", m.Workloads[0].Nodes[0])
	}
	if m.Summary["cpu_seconds_per_gib_stored"] != 10.0 {
		t.Errorf("summary %v", m.Summary)
	}
}

func TestLatencyFormat(t *testing.T) {
	for ms, want := range map[float64]string{0: "-", 0.123: "0.12ms", 5: "5.0ms", 99.94: "99.9ms", 172.4: "172ms", 1523: "1.52s", 61234: "61.23s"} {
		if got := latency(ms); got != want {
			t.Errorf("latency(%v) = %s, want %s", ms, got, want)
		}
	}
}

func TestErrorLog(t *testing.T) {
	var l errorLog
	api := &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}
	for range 3 {
		l.add(OpPut, fmt.Errorf("operation error S3: PutObject, RequestID: %d: %w", 7, api))
	}
	for i := range maxErrorSamples + 2 {
		l.add(OpGet, fmt.Errorf("%w: key %d", errVerify, i))
	}
	s := l.samples()
	if len(s) != maxErrorSamples+1 || s[0] != "PUT: SlowDown: Please reduce your request rate. (3 times)" ||
		s[1] != "GET: verify: key 0 (once)" || s[len(s)-1] != "3 more errors of other kinds" {
		t.Errorf("samples %q", s)
	}
	if long := describe(errors.New(strings.Repeat("x", 400))); len(long) != 303 {
		t.Errorf("long error kept %d bytes", len(long))
	}
}
