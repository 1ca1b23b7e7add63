package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/audit"
	"github.com/strata-io/strata/node"
)

// exchange is one HTTP request of the workload as the client saw it.
type exchange struct {
	label     string // the API the test meant to call
	node      string // the node it went to
	method    string
	requestID string
	status    int
	sent      int64 // request body bytes
	received  int64 // response body bytes
}

// recorder is an http.RoundTripper that records every exchange, labelled
// with the API the test is calling.
type recorder struct {
	base  http.RoundTripper
	nodes map[string]string // host:port -> node id

	mu    sync.Mutex
	label string
	log   []exchange
}

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rc.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// The response body is read to count it: the SDK gets a copy.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.log = append(rc.log, exchange{label: rc.label, node: rc.nodes[req.URL.Host], method: req.Method,
		requestID: resp.Header.Get("x-amz-request-id"), status: resp.StatusCode, sent: max(req.ContentLength, 0), received: int64(len(body))})
	return resp, nil
}

func (rc *recorder) call(label string) { rc.mu.Lock(); rc.label = label; rc.mu.Unlock() }

// auditReceiver is the webhook: it records every event by request id.
type auditReceiver struct {
	t      *testing.T
	token  string
	mu     sync.Mutex
	events map[string][]audit.Event
}

func (ar *auditReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer "+ar.token {
		ar.t.Errorf("webhook request %s %q %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var batch []audit.Event
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		ar.t.Errorf("webhook body: %v", err)
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	for _, ev := range batch {
		ar.events[ev.RequestID] = append(ar.events[ev.RequestID], ev)
	}
}

func (ar *auditReceiver) count(id string) int {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return len(ar.events[id])
}

// TestAuditAndMetrics: with an audit webhook set through the admin API, a
// workload of S3 calls (through the aws SDK), admin calls and a health
// check spread over three nodes arrives at a real HTTP receiver, each
// request exactly once and with its fields; then /strata/metrics of every
// node, read with the bearer token, counts that workload.
func TestAuditAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	const metricsToken = "prom-token-0123"
	ar := &auditReceiver{t: t, token: "hook-token-abc", events: map[string][]audit.Event{}}
	hook := httptest.NewServer(ar)
	t.Cleanup(hook.Close) // after the nodes stop (cleanups run last first): they deliver to the end
	c := Start(t, Options{Nodes: 3, EC: "2+1", Configure: func(cfg *node.Config) { cfg.MetricsToken = metricsToken }})

	rec := &recorder{base: c.HTTPClient().Transport, nodes: map[string]string{}}
	hc := &http.Client{Transport: rec, Timeout: time.Minute}
	admins := make([]*adminapi.Client, c.N())
	s3c := make([]*s3.Client, c.N())
	for i := range c.N() {
		rec.nodes[c.Instance(i).Config.S3Addr] = c.Instance(i).Config.ID
		admins[i] = &adminapi.Client{Endpoint: c.Endpoint(i), AccessKey: RootAccessKey, SecretKey: RootSecretKey, HTTP: hc}
		s3c[i] = s3.New(c.S3Client(i).Options(), func(o *s3.Options) { o.HTTPClient = hc; o.RetryMaxAttempts = 1 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	rec.call("admin:SetAuditWebhook")
	if _, err := admins[0].SetAuditWebhook(ctx, adminapi.SetAuditWebhookRequest{URL: hook.URL + "/audit", Token: ar.token}); err != nil {
		t.Fatal(err)
	}
	// Listing on every node passes a read barrier there: from then on each
	// node knows the webhook, and the listing itself is audited.
	for i := range c.N() {
		rec.call("admin:ListAuditWebhooks")
		hooks, err := admins[i].ListAuditWebhooks(ctx)
		if err != nil || len(hooks) != 1 || !hooks[0].HasToken {
			t.Fatalf("node %d lists %+v, %v", i, hooks, err)
		}
	}
	// The setting call came before any node knew the webhook.
	rec.mu.Lock()
	rec.log = rec.log[1:]
	rec.mu.Unlock()

	// The workload: node i%3 serves call i.
	big := bytes.Repeat([]byte("0123456789abcdef"), 20<<10) // 320 KiB: erasure-coded, not inline
	steps := []struct {
		label string
		do    func(*s3.Client) error
	}{
		{"CreateBucket", func(s *s3.Client) error {
			_, err := s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audited")})
			return err
		}},
		{"PutObject", func(s *s3.Client) error {
			_, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audited"), Key: aws.String("small"), Body: strings.NewReader("hello audit")})
			return err
		}},
		{"PutObject", func(s *s3.Client) error {
			_, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audited"), Key: aws.String("big"), Body: bytes.NewReader(big)})
			return err
		}},
		{"GetObject", func(s *s3.Client) error {
			out, err := s.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("audited"), Key: aws.String("big")})
			if err == nil {
				_, err = io.Copy(io.Discard, out.Body)
				out.Body.Close()
			}
			return err
		}},
		{"ListObjectsV2", func(s *s3.Client) error {
			_, err := s.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("audited")})
			return err
		}},
		{"HeadObject", func(s *s3.Client) error {
			_, err := s.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("audited"), Key: aws.String("small")})
			return err
		}},
		{"GetObject", func(s *s3.Client) error {
			_, err := s.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("audited"), Key: aws.String("missing")})
			if err == nil {
				return fmt.Errorf("GET of a missing key succeeded")
			}
			return nil
		}},
		{"DeleteObject", func(s *s3.Client) error {
			_, err := s.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("audited"), Key: aws.String("small")})
			return err
		}},
		{"PutObject", func(s *s3.Client) error {
			_, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audited"), Key: aws.String("again"), Body: strings.NewReader("x")})
			return err
		}},
	}
	for i, st := range steps {
		rec.call(st.label)
		if err := st.do(s3c[i%c.N()]); err != nil {
			t.Fatalf("step %d %s: %v", i, st.label, err)
		}
	}
	rec.call("admin:ClusterStatus")
	if _, err := admins[1].ClusterStatus(ctx); err != nil {
		t.Fatal(err)
	}
	rec.call("HealthReady")
	if resp, err := hc.Get(c.Endpoint(2) + "/strata/health/ready"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	rec.mu.Lock()
	workload := append([]exchange(nil), rec.log...)
	rec.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for _, x := range workload {
		for ar.count(x.requestID) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(1500 * time.Millisecond) // longer than a batch's flush interval: a duplicate would be here by now
	ar.mu.Lock()
	for _, x := range workload {
		evs := ar.events[x.requestID]
		if len(evs) != 1 {
			t.Errorf("%s %s on %s (request %s): %d events", x.label, x.method, x.node, x.requestID, len(evs))
			continue
		}
		ev := evs[0]
		wantKey, wantUser := RootAccessKey, "root"
		if x.label == "HealthReady" {
			wantKey, wantUser = "", ""
		}
		if ev.API != x.label || ev.Node != x.node || ev.Method != x.method || ev.Status != x.status || ev.AccessKey != wantKey || ev.User != wantUser ||
			ev.BytesIn != x.sent || ev.BytesOut != x.received || ev.SourceIP != "127.0.0.1" || ev.Duration <= 0 || ev.Version != audit.EventVersion ||
			time.Since(ev.Time) > 5*time.Minute {
			t.Errorf("%s on %s: event %+v\nexchange %+v", x.label, x.node, ev, x)
		}
		if strings.HasPrefix(x.label, "admin:") || x.label == "HealthReady" {
			if ev.Bucket != "" || ev.Key != "" {
				t.Errorf("%s: bucket %q key %q", x.label, ev.Bucket, ev.Key)
			}
		} else if ev.Bucket != "audited" {
			t.Errorf("%s: bucket %q", x.label, ev.Bucket)
		}
		if x.status == 404 && ev.ErrorCode != "NoSuchKey" {
			t.Errorf("missing key: error code %q", ev.ErrorCode)
		}
	}
	ar.mu.Unlock()
	if len(workload) != 3+len(steps)+2 {
		t.Fatalf("recorded %d exchanges: %+v", len(workload), workload)
	}

	// Metrics: every node, with the token. Node 0 served steps 0, 3, 6.
	var leaders int
	var applies uint64
	for i := range c.N() {
		mfs := scrape(t, c, i, metricsToken)
		id := c.Instance(i).Config.ID
		var puts, putBytes, gets float64
		for j, st := range steps {
			if j%c.N() != i {
				continue
			}
			switch st.label {
			case "PutObject":
				puts++
			case "GetObject":
				gets++
			}
		}
		for _, x := range workload {
			if x.node == id && x.label == "PutObject" {
				putBytes += float64(x.sent)
			}
		}
		if got := value(mfs, "strata_requests_total", "api", "PutObject", "status", "200"); got != puts {
			t.Errorf("%s: PutObject 200 = %v, want %v", id, got, puts)
		}
		if got := value(mfs, "strata_request_received_bytes_total", "api", "PutObject"); got != putBytes {
			t.Errorf("%s: PutObject bytes in = %v, want %v", id, got, putBytes)
		}
		if got := histogramCount(mfs, "strata_request_duration_seconds", "api", "GetObject"); float64(got) != gets {
			t.Errorf("%s: GetObject latency samples = %v, want %v", id, got, gets)
		}
		if n := len(mfs["strata_drive_capacity_bytes"].GetMetric()); n != 2 {
			t.Errorf("%s: %d drives", id, n)
		}
		for _, m := range mfs["strata_drive_online"].GetMetric() {
			if m.GetGauge().GetValue() != 1 {
				t.Errorf("%s: drive offline: %v", id, m)
			}
		}
		for _, m := range mfs["strata_drive_capacity_bytes"].GetMetric() {
			if m.GetGauge().GetValue() <= 0 {
				t.Errorf("%s: drive capacity %v", id, m)
			}
		}
		if got := value(mfs, "strata_pgs", "state", "healthy"); got != 64 {
			t.Errorf("%s: healthy PGs %v", id, got)
		}
		if got := value(mfs, "strata_gossip_members"); got != 3 {
			t.Errorf("%s: gossip members %v", id, got)
		}
		if value(mfs, "strata_raft_applied_index") <= 0 || value(mfs, "strata_raft_term") <= 0 || value(mfs, "strata_raft_has_leader") != 1 {
			t.Errorf("%s: raft metrics %v", id, mfs["strata_raft_applied_index"])
		}
		leaders += int(value(mfs, "strata_raft_leader"))
		if got := value(mfs, "strata_audit_sent_events_total", "target", hook.URL+"/audit"); got < 1 {
			t.Errorf("%s: audit events sent %v", id, got)
		}
		if mfs["strata_heal_passes_total"] == nil || mfs["strata_rebalance_moving_pgs"] == nil || mfs["go_goroutines"] == nil ||
			mfs["strata_ilm_passes_total"] == nil {
			t.Errorf("%s: heal, rebalance, ILM or runtime families missing", id)
		}
		// Every node's drives committed shards of the PUTs (EC 2+1 over
		// 3 nodes: every PG has a drive on every node), and every node
		// proposed commands (the bucket, or forwarded NodeUp at least).
		var commits uint64
		for _, m := range mfs["strata_drive_operation_duration_seconds"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == "commit" {
					commits += m.GetHistogram().GetSampleCount()
				}
			}
		}
		if commits == 0 {
			t.Errorf("%s: no drive commit latency samples", id)
		}
		for _, m := range mfs["strata_drive_operations_total"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "error" && m.GetCounter().GetValue() > 0 {
					t.Errorf("%s: drive errors on a healthy cluster: %v", id, m)
				}
			}
		}
		if mfs["strata_raft_apply_duration_seconds"] == nil {
			t.Errorf("%s: no raft apply latency family", id)
		} else {
			applies += mfs["strata_raft_apply_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if leaders != 1 {
		t.Errorf("%d nodes report being the leader", leaders)
	}
	if applies == 0 {
		t.Error("no node timed a Raft apply (the workload created a bucket and set a webhook)")
	}
	// Without the token, or with another: 401.
	for _, tok := range []string{"", "wrong"} {
		req, _ := http.NewRequest("GET", c.Endpoint(0)+"/strata/metrics", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: status %d", tok, resp.StatusCode)
		}
	}
}

// scrape reads node i's metrics with the bearer token and parses them.
func scrape(t *testing.T, c *Cluster, i int, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", c.Endpoint(i)+"/strata/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// find returns the metric of family name whose labels include the pairs.
func find(mfs map[string]*dto.MetricFamily, name string, pairs ...string) *dto.Metric {
	for _, m := range mfs[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k := 0; k+1 < len(pairs); k += 2 {
			ok = ok && labels[pairs[k]] == pairs[k+1]
		}
		if ok {
			return m
		}
	}
	return nil
}

// value is the counter or gauge value of a metric (0 when absent).
func value(mfs map[string]*dto.MetricFamily, name string, pairs ...string) float64 {
	m := find(mfs, name, pairs...)
	if m == nil {
		return 0
	}
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func histogramCount(mfs map[string]*dto.MetricFamily, name string, pairs ...string) uint64 {
	return find(mfs, name, pairs...).GetHistogram().GetSampleCount()
}
