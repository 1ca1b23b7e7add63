package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/adminapi"
)

// The tests of this file run real node processes through the life of a
// cluster (issue 5): growing under a verified workload, the scanner
// repairing shard files damaged on disk, the refill of a wiped drive and
// the decommission of a node. Every object is checked by the SHA-256 of
// what was PUT.
//
// Node flags the harness does not pass (--scan-interval, --rebalance-rate)
// are given through the environment (STRATA_<FLAG>, which every node reads),
// set with t.Setenv before the nodes start.

// --- cluster helpers ---

// flagValue returns the value following flag name in args ("" if absent).
func flagValue(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// drivesOf returns the drive folders of p (its --data).
func drivesOf(p *proc) []string { return strings.Split(flagValue(p.args, "--data"), ",") }

// waitReady waits until p answers its readiness probe.
func waitReady(t *testing.T, p *proc, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !p.ready() {
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s", p.id, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addNode starts node id with two empty drives, joining the cluster of
// procs with the same cluster key and environment (no --bootstrap-expect:
// it becomes a member of the running cluster), and waits until it is
// ready. It is killed at the end of the test.
func addNode(t *testing.T, procs []*proc, id string) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{
		id:     id,
		log:    filepath.Join(dir, "node.log"),
		s3:     fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		env:    procs[0].env,
	}
	var join []string
	for _, q := range procs {
		join = append(join, q.gossip)
	}
	p.args = []string{"server", "--id", id,
		"--data", filepath.Join(dir, "d1") + "," + filepath.Join(dir, "d2"),
		"--s3-addr", p.s3,
		"--rpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--gossip-addr", p.gossip,
		"--cluster-key-file", flagValue(procs[0].args, "--cluster-key-file"),
		"--join", strings.Join(join, ",")}
	p.start(t)
	t.Cleanup(func() {
		p.kill9()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("--- %s log (last 3000 bytes):\n%s", p.id, tail(b, 3000))
		}
	})
	waitReady(t, p, 60*time.Second)
	return p
}

// stopNode stops p by its PID: SIGTERM, then SIGKILL if it has not
// exited within 20 s.
func stopNode(t *testing.T, p *proc) {
	t.Helper()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Logf("%s did not stop within 20 s of SIGTERM; killing it", p.id)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// ctlWithin runs stratactl as root against endpoint, killed after d.
func ctlWithin(d time.Duration, endpoint string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "stratactl"), args...)
	cmd.Env = append(os.Environ(), "STRATA_ENDPOINT=http://"+endpoint,
		"STRATA_ACCESS_KEY="+rootAK, "STRATA_SECRET_KEY="+rootSK)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (killed after %s)", err, d)
	}
	return string(out), err
}

// rebalanceJSON is `stratactl rebalance status --json`.
type rebalanceJSON struct {
	Epoch       uint64 `json:"epoch"`
	MovingPGs   int    `json:"moving_pgs"`
	MovingTotal int    `json:"moving_total"`
	TotalPGs    int    `json:"total_pgs"`
	MovedBytes  int64  `json:"moved_bytes"`
	Done        bool   `json:"done"`
	Pending     string `json:"pending"`
	Nodes       []struct {
		Node      string                  `json:"node"`
		State     string                  `json:"state"`
		PGs       int                     `json:"pgs"`
		Rebalance *adminapi.NodeRebalance `json:"rebalance"`
	} `json:"nodes"`
}

func (r rebalanceJSON) pgsOf(node string) int {
	for _, n := range r.Nodes {
		if n.Node == node {
			return n.PGs
		}
	}
	return 0
}

func rebalanceStatus(endpoint string) (rebalanceJSON, error) {
	var v rebalanceJSON
	out, err := ctlWithin(30*time.Second, endpoint, "rebalance", "status", "--json")
	if err != nil {
		return v, fmt.Errorf("stratactl rebalance status: %w\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return v, fmt.Errorf("stratactl rebalance status --json: %w\n%s", err, out)
	}
	return v, nil
}

// waitRebalanced polls `stratactl rebalance status --json` until a
// placement epoch after `after` is installed and done, and node (when not
// "") holds PGs.
func waitRebalanced(t *testing.T, endpoint string, after uint64, node string, within time.Duration) rebalanceJSON {
	t.Helper()
	deadline := time.Now().Add(within)
	var last rebalanceJSON
	var lastErr error
	for time.Now().Before(deadline) {
		v, err := rebalanceStatus(endpoint)
		if err == nil {
			last = v
			if v.Epoch > after && v.Done && (node == "" || v.pgsOf(node) > 0) {
				return v
			}
		}
		lastErr = err
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("rebalance not done within %s (waiting for an epoch after %d, node %q placed): last %s, err %v", within, after, node, last, lastErr)
	return last
}

// String summarises the status for failure messages.
func (r rebalanceJSON) String() string {
	s := fmt.Sprintf("epoch %d, %d of %d PGs moving, done %v (%s)", r.Epoch, r.MovingPGs, r.MovingTotal, r.Done, r.Pending)
	for _, n := range r.Nodes {
		s += fmt.Sprintf("; %s %s %d PGs", n.Node, n.State, n.PGs)
		if rb := n.Rebalance; rb != nil && rb.Errors > 0 {
			s += fmt.Sprintf(" (%d rebalance errors, last: %s)", rb.Errors, rb.LastError)
		}
	}
	return s
}

// healJSON is `stratactl heal status --json`.
type healJSON struct {
	Active        bool  `json:"active"`
	BytesRepaired int64 `json:"bytes_repaired"`
	Nodes         []struct {
		Node string             `json:"node"`
		Heal *adminapi.NodeHeal `json:"heal"`
	} `json:"nodes"`
}

func healStatus(t *testing.T, endpoint string) healJSON {
	t.Helper()
	out, err := ctlWithin(30*time.Second, endpoint, "heal", "status", "--json")
	if err != nil {
		t.Fatalf("stratactl heal status: %v\n%s", err, out)
	}
	var v healJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stratactl heal status --json: %v\n%s", err, out)
	}
	return v
}

// healedBytes is the shard bytes the live nodes' healing wrote since they
// started.
func healedBytes(t *testing.T, endpoint string) int64 {
	t.Helper()
	var n int64
	for _, node := range healStatus(t, endpoint).Nodes {
		if node.Heal != nil {
			n += node.Heal.BytesRepaired
		}
	}
	return n
}

// --- drive folders ---

// shardFiles maps the shard files of drive folder dir (relative paths,
// shards/xx/id) to their sizes. Files removed during the walk are
// skipped.
func shardFiles(dir string) map[string]int64 {
	files := map[string]int64{}
	root := filepath.Join(dir, "shards")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel] = info.Size()
		return nil
	})
	return files
}

// clusterShards maps every drive folder of procs to its shard files.
func clusterShards(procs []*proc) map[string]map[string]int64 {
	all := map[string]map[string]int64{}
	for _, p := range procs {
		for _, d := range drivesOf(p) {
			all[d] = shardFiles(d)
		}
	}
	return all
}

func sumSizes(m map[string]int64) int64 {
	var n int64
	for _, s := range m {
		n += s
	}
	return n
}

// --- objects ---

// acked is an object the cluster acknowledged: the SHA-256 and size of
// what was PUT.
type acked struct {
	sum  [32]byte
	size int64
}

// ackedSet is the objects acknowledged so far, by key.
type ackedSet struct {
	mu sync.Mutex
	m  map[string]acked
}

func newAckedSet() *ackedSet { return &ackedSet{m: map[string]acked{}} }

func (a *ackedSet) add(key string, data []byte) {
	a.mu.Lock()
	a.m[key] = acked{sha256.Sum256(data), int64(len(data))}
	a.mu.Unlock()
}

func (a *ackedSet) snapshot() map[string]acked {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string]acked, len(a.m))
	for k, v := range a.m {
		m[k] = v
	}
	return m
}

// randomKey returns a key among the acknowledged ones ("" when none).
func (a *ackedSet) randomKey(r *mrand.Rand) (string, acked) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := r.IntN(len(a.m) + 1)
	for k, v := range a.m { // map order is random enough; n picks how far
		if n <= 0 {
			return k, v
		}
		n--
	}
	return "", acked{}
}

// statusCounter is an HTTP transport that counts the answers of status
// 500 and above (each one retried by the SDK unless it was the last
// attempt) and transport errors.
type statusCounter struct {
	next          http.RoundTripper
	n5xx, netErrs atomic.Int64
	mu            sync.Mutex
	codes         map[int]int
}

func newStatusCounter() *statusCounter {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return &statusCounter{next: tr, codes: map[int]int{}}
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	switch {
	case err != nil:
		c.netErrs.Add(1)
	case resp.StatusCode >= 500:
		c.n5xx.Add(1)
		c.mu.Lock()
		c.codes[resp.StatusCode]++
		c.mu.Unlock()
	}
	return resp, err
}

// sdkFor is an aws-sdk-go-v2 client (root keys, path style, the standard
// retryer with 4 attempts) for endpoint host:port over transport rt.
func sdkFor(endpoint string, rt http.RoundTripper) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(rootAK, rootSK, ""),
		BaseEndpoint:     aws.String("http://" + endpoint),
		UsePathStyle:     true,
		RetryMaxAttempts: 4,
		HTTPClient:       &http.Client{Transport: rt},
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func putObject(ctx context.Context, c *s3.Client, bucket, key string, data []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	return err
}

// putMultipart uploads parts as one multipart object.
func putMultipart(ctx context.Context, c *s3.Client, bucket, key string, parts ...[]byte) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	var done []types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		r, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p)))})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(n), ETag: r.ETag})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	return err
}

// checkObject GETs bucket/key and compares it with want.
func checkObject(ctx context.Context, c *s3.Client, bucket, key string, want acked) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("GET %s: %w", key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return fmt.Errorf("GET %s: body after %d bytes: %w", key, n, err)
	}
	if n != want.size || !bytes.Equal(h.Sum(nil), want.sum[:]) {
		return fmt.Errorf("GET %s: %d bytes, sha256 %x; PUT was %d bytes, sha256 %x", key, n, h.Sum(nil), want.size, want.sum)
	}
	return nil
}

// verifyAll GETs every object of objs from every endpoint (4 at a time)
// and reports each one that fails or differs; it returns how many GETs it
// made.
func verifyAll(t *testing.T, endpoints []string, bucket string, objs map[string]acked) int {
	t.Helper()
	type job struct {
		ep, key string
		want    acked
	}
	jobs := make(chan job)
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
	)
	rt := newStatusCounter()
	clients := map[string]*s3.Client{}
	for _, ep := range endpoints {
		clients[ep] = sdkFor(ep, rt)
	}
	for range 4 {
		wg.Go(func() {
			for j := range jobs {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				if err := checkObject(ctx, clients[j.ep], bucket, j.key, j.want); err != nil {
					mu.Lock()
					errs = append(errs, j.ep+": "+err.Error())
					mu.Unlock()
				}
				cancel()
			}
		})
	}
	n := 0
	for _, ep := range endpoints {
		for k, v := range objs {
			jobs <- job{ep, k, v}
			n++
		}
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		t.Errorf("%d of %d GETs failed or differ; first ones:\n%s", len(errs), n, strings.Join(errs[:min(len(errs), 10)], "\n"))
	}
	return n
}

func endpointsOf(procs []*proc) []string {
	var eps []string
	for _, p := range procs {
		eps = append(eps, p.s3)
	}
	return eps
}

// --- TestGrowUnderLoad ---

// sample is one GET's start and duration.
type sample struct {
	at time.Time
	d  time.Duration
}

// growWorkload PUTs and GETs objects through the endpoints it is given,
// verifying every GET against what was PUT.
type growWorkload struct {
	bucket string
	objs   *ackedSet
	rt     *statusCounter

	mu      sync.Mutex
	clients []*s3.Client
	gets    []sample
	fails   []string

	puts, getsN, multiparts atomic.Int64
	written                 atomic.Int64 // bytes PUT
	start                   time.Time
}

// growRate bounds the bytes the writers PUT per second of workload (past
// a first 4 MiB): beyond it they write only small objects. It spreads the
// larger objects over the whole run and keeps the data, and the time to
// move and verify it, small.
const growRate = 1.5 * (1 << 20)

// bigAllowed reports whether the writers are within growRate.
func (w *growWorkload) bigAllowed() bool {
	return float64(w.written.Load()) < 4<<20+growRate*time.Since(w.start).Seconds()
}

func (w *growWorkload) addEndpoint(ep string) {
	c := sdkFor(ep, w.rt)
	w.mu.Lock()
	w.clients = append(w.clients, c)
	w.mu.Unlock()
}

func (w *growWorkload) client(r *mrand.Rand) *s3.Client {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.clients[r.IntN(len(w.clients))]
}

func (w *growWorkload) fail(format string, args ...any) {
	w.mu.Lock()
	w.fails = append(w.fails, time.Now().Format("15:04:05.000")+" "+fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

// size draws an object size: 0 B to 3 MiB, most of them inline (<= 128
// KiB), only small ones while the writers are ahead of growRate.
func (w *growWorkload) size(r *mrand.Rand) int {
	x := r.IntN(100)
	switch {
	case x < 40 || !w.bigAllowed():
		return r.IntN(16 << 10)
	case x < 65:
		return 16<<10 + r.IntN(112<<10)
	case x < 90:
		return 128<<10 + r.IntN(896<<10)
	default:
		return 1<<20 + r.IntN(2<<20)
	}
}

// writer PUTs new objects (every 15th a multipart one of two parts, within
// growRate) and reads each back from the same endpoint.
func (w *growWorkload) writer(ctx context.Context, id int) {
	r := mrand.New(mrand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
	for i := 0; ctx.Err() == nil; i++ {
		c := w.client(r)
		key := fmt.Sprintf("load/w%d/%05d", id, i)
		opCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var (
			data []byte
			err  error
		)
		if i%15 == 14 && w.bigAllowed() {
			p1, p2 := randomBytes(5<<20), randomBytes(r.IntN(512<<10)+1)
			data = append(p1, p2...)
			err = putMultipart(opCtx, c, w.bucket, key, p1, p2)
			w.multiparts.Add(1)
		} else {
			data = randomBytes(w.size(r))
			err = putObject(opCtx, c, w.bucket, key, data)
		}
		w.puts.Add(1)
		if err != nil {
			w.fail("PUT %s (%d bytes): %v", key, len(data), err)
		} else {
			w.objs.add(key, data)
			w.written.Add(int64(len(data)))
			if err := checkObject(opCtx, c, w.bucket, key, acked{sha256.Sum256(data), int64(len(data))}); err != nil {
				w.fail("read-your-write: %v", err)
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// reader GETs random acknowledged objects, timing each.
func (w *growWorkload) reader(ctx context.Context, id int) {
	r := mrand.New(mrand.NewPCG(uint64(100+id), uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		if key, want := w.objs.randomKey(r); key != "" {
			opCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			start := time.Now()
			err := checkObject(opCtx, w.client(r), w.bucket, key, want)
			d := time.Since(start)
			cancel()
			w.getsN.Add(1)
			if err != nil {
				w.fail("%v", err)
			} else {
				w.mu.Lock()
				w.gets = append(w.gets, sample{start, d})
				w.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(40 * time.Millisecond):
		}
	}
}

// latency returns the p50 and p99 of the GETs started in any of the
// windows ([from, to)) and how many there were.
func (w *growWorkload) latency(windows ...[2]time.Time) (p50, p99 time.Duration, n int) {
	w.mu.Lock()
	var ds []time.Duration
	for _, s := range w.gets {
		for _, win := range windows {
			if !s.at.Before(win[0]) && s.at.Before(win[1]) {
				ds = append(ds, s.d)
				break
			}
		}
	}
	w.mu.Unlock()
	if len(ds) == 0 {
		return 0, 0, 0
	}
	slices.Sort(ds)
	q := func(f float64) time.Duration { return ds[min(len(ds)-1, int(f*float64(len(ds))))] }
	return q(0.50), q(0.99), len(ds)
}

// movedShards compares the shard files of the cluster before and after a
// rebalance: the bytes of the shard files that existed before and are now
// on a drive that did not hold them, over all shard bytes before.
func movedShards(before, after map[string]map[string]int64) (moved, total int64) {
	known := map[string]bool{}
	for _, files := range before {
		total += sumSizes(files)
		for f := range files {
			known[f] = true
		}
	}
	for d, files := range after {
		for f, size := range files {
			if _, had := before[d][f]; known[f] && !had {
				moved += size
			}
		}
	}
	return moved, total
}

// TestGrowUnderLoad grows a 4-node cluster (EC 2+2) to 5 and then 6 nodes
// while a workload PUTs and GETs objects through every node, verifying
// every GET; then every acknowledged object is read back from every node.
// It reports the data moved by each step (ideal: 1/(N+1)) and the GET
// latency before and during the rebalances.
func TestGrowUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	t.Setenv("STRATA_REBALANCE_RATE", "4MiB") // a move that lasts seconds, under the workload
	procs := startCluster(t, 4, "2+2")
	ep := procs[0].s3
	const bucket = "grow"
	mustAWS(t, ep, "s3", "mb", "s3://"+bucket)

	w := &growWorkload{bucket: bucket, objs: newAckedSet(), rt: newStatusCounter()}
	for _, p := range procs {
		w.addEndpoint(p.s3)
	}
	ctx := context.Background()

	// Objects stored before the growth: inline, single-block and
	// multi-block ones, through every node.
	r := mrand.New(mrand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range 30 {
		var n int
		switch {
		case i%3 == 0:
			n = r.IntN(128 << 10)
		case i%10 == 1:
			n = 2<<20 + r.IntN(2<<20)
		default:
			n = 200<<10 + r.IntN(1300<<10)
		}
		data := randomBytes(n)
		key := fmt.Sprintf("pre/%03d", i)
		if err := putObject(ctx, sdkFor(procs[i%4].s3, w.rt), bucket, key, data); err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		w.objs.add(key, data)
	}
	// Two multipart uploads begun before the growth and completed after
	// it: their upload records and first parts must follow their PGs.
	c0 := sdkFor(ep, w.rt)
	type pending struct {
		key, id string
		part1   []byte
		etag    *string
	}
	var uploads []pending
	for i := range 2 {
		key := fmt.Sprintf("pre/upload-%d", i)
		up, err := c0.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload %s: %v", key, err)
		}
		p1 := randomBytes(5 << 20)
		pr, err := c0.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(p1), ContentLength: aws.Int64(int64(len(p1)))})
		if err != nil {
			t.Fatalf("UploadPart %s: %v", key, err)
		}
		uploads = append(uploads, pending{key, *up.UploadId, p1, pr.ETag})
	}

	// The workload: 2 writers, 2 readers.
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	loadStart := time.Now()
	w.start = loadStart
	for i := range 2 {
		wg.Go(func() { w.writer(wctx, i) })
		wg.Go(func() { w.reader(wctx, i) })
	}
	defer func() { stop(); wg.Wait() }()
	time.Sleep(6 * time.Second) // the latency before any rebalance

	type step struct {
		node              string
		from, to          time.Time // node start, rebalance done
		epoch, moving     int
		movedFiles, total int64
		movedCounter      int64
		healed            int64 // shard bytes written by heal (read repairs) during the step
	}
	var steps []step
	all := procs
	for _, id := range []string{"n5", "n6"} {
		before, err := rebalanceStatus(ep)
		if err != nil {
			t.Fatal(err)
		}
		shardsBefore := clusterShards(all)
		healedBefore := healedBytes(t, ep)
		s := step{node: id, from: time.Now()}
		p := addNode(t, all, id)
		all = append(all, p)
		w.addEndpoint(p.s3)
		v := waitRebalanced(t, ep, before.Epoch, id, 3*time.Minute)
		s.to = time.Now()
		s.epoch, s.moving = int(v.Epoch), v.MovingTotal
		s.movedFiles, s.total = movedShards(shardsBefore, clusterShards(all))
		s.movedCounter = v.MovedBytes - before.MovedBytes
		s.healed = healedBytes(t, ep) - healedBefore
		steps = append(steps, s)

		st := clusterStatus(t, ep, rootSK)
		i := slices.IndexFunc(st.Nodes, func(n adminapi.NodeStatus) bool { return n.ID == id })
		if i < 0 {
			t.Fatalf("%s not in cluster status: %+v", id, st.Nodes)
		}
		pgs := 0
		for _, d := range st.Nodes[i].Drives {
			pgs += d.PGs
		}
		if n := st.Nodes[i]; n.State != "up" || !n.Alive || pgs == 0 {
			t.Fatalf("%s after the rebalance: state %s, alive %v, %d PGs on its drives", id, n.State, n.Alive, pgs)
		}
		for _, n := range v.Nodes {
			if n.Rebalance != nil && n.Rebalance.Errors > 0 {
				t.Logf("%s: %d rebalance errors (retried), last: %s", n.Node, n.Rebalance.Errors, n.Rebalance.LastError)
			}
		}
		t.Logf("grew to %d nodes: epoch %d moved %d of %d PGs in %s; the new node holds %d PGs",
			len(all), v.Epoch, v.MovingTotal, v.TotalPGs, s.to.Sub(s.from).Round(100*time.Millisecond), pgs)
		time.Sleep(2 * time.Second) // settled latency between the steps
	}
	time.Sleep(2 * time.Second)
	stop()
	wg.Wait()

	// The uploads begun before the growth complete after it.
	for _, u := range uploads {
		p2 := randomBytes(100 << 10)
		pr, err := c0.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(u.key), UploadId: aws.String(u.id),
			PartNumber: aws.Int32(2), Body: bytes.NewReader(p2), ContentLength: aws.Int64(int64(len(p2)))})
		if err != nil {
			t.Fatalf("UploadPart 2 of %s after the growth: %v", u.key, err)
		}
		if _, err := c0.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(u.key), UploadId: aws.String(u.id),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
				{PartNumber: aws.Int32(1), ETag: u.etag}, {PartNumber: aws.Int32(2), ETag: pr.ETag}}}}); err != nil {
			t.Fatalf("CompleteMultipartUpload %s after the growth: %v", u.key, err)
		}
		w.objs.add(u.key, append(u.part1, p2...))
	}

	// Zero final failures: every error above was retried by the SDK.
	w.mu.Lock()
	fails := slices.Clone(w.fails)
	codes := fmt.Sprint(w.rt.codes)
	w.mu.Unlock()
	t.Logf("workload: %d PUTs (%d multipart, %.1f MiB), %d GETs; %d answers >= 500 retried by the SDK %s, %d transport errors; %d final failures",
		w.puts.Load(), w.multiparts.Load(), float64(w.written.Load())/(1<<20), w.getsN.Load(), w.rt.n5xx.Load(), codes, w.rt.netErrs.Load(), len(fails))
	if len(fails) > 0 {
		t.Errorf("%d requests failed after the SDK's retries; first ones:\n%s", len(fails), strings.Join(fails[:min(len(fails), 10)], "\n"))
	}

	for i, s := range steps {
		n := 4 + i
		frac := float64(s.movedFiles) / float64(s.total)
		t.Logf("%d -> %d nodes: moved %.1f%% of the %.1f MiB of shard files (ideal 1/%d = %.1f%%); rebalance moved_bytes grew by %.1f MiB (%.1f%%), heal wrote %.1f MiB meanwhile; %d PGs moved",
			n, n+1, 100*frac, float64(s.total)/(1<<20), n+1, 100/float64(n+1), float64(s.movedCounter)/(1<<20), 100*float64(s.movedCounter)/float64(s.total),
			float64(s.healed)/(1<<20), s.moving)
		if frac <= 0 || frac > 2.5/float64(n+1) {
			t.Errorf("%d -> %d nodes moved %.1f%% of the shard bytes; want more than 0 and close to 1/%d", n, n+1, 100*frac, n+1)
		}
	}
	before := [][2]time.Time{{loadStart, steps[0].from}}
	var during, settled [][2]time.Time
	for i, s := range steps {
		during = append(during, [2]time.Time{s.from, s.to})
		end := time.Now()
		if i+1 < len(steps) {
			end = steps[i+1].from
		}
		settled = append(settled, [2]time.Time{s.to, end})
	}
	for _, ph := range []struct {
		name string
		win  [][2]time.Time
	}{{"before the growth", before}, {"while growing (node start to rebalance done)", during}, {"after each rebalance", settled}} {
		p50, p99, n := w.latency(ph.win...)
		t.Logf("GET latency %s: p50 %s, p99 %s (%d GETs)", ph.name, p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), n)
	}

	// Every acknowledged object, from every node; the listing holds
	// exactly them.
	objs := w.objs.snapshot()
	listed := map[string]int64{}
	pager := s3.NewListObjectsV2Paginator(sdkFor(all[len(all)-1].s3, w.rt), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		for _, o := range page.Contents {
			listed[*o.Key] = *o.Size
		}
	}
	for k, v := range objs {
		if size, ok := listed[k]; !ok || size != v.size {
			t.Errorf("acknowledged %s (%d bytes) listed: %v, %d bytes", k, v.size, ok, size)
		}
	}
	for k := range listed {
		if _, ok := objs[k]; !ok {
			t.Errorf("listing has %s, never acknowledged", k)
		}
	}
	start := time.Now()
	n := verifyAll(t, endpointsOf(all), bucket, objs)
	t.Logf("read back %d objects from each of the %d nodes (%d GETs) in %s", len(objs), len(all), n, time.Since(start).Round(100*time.Millisecond))
}

// --- TestScannerRepairsCorruptAndMissingShards ---

// damaged is one shard file changed on disk: its path and original bytes.
type damaged struct {
	path, how string
	orig      []byte
}

// TestScannerRepairsCorruptAndMissingShards flips bytes in some shard
// files and deletes others, then watches the background scanner rewrite
// them with their original content; objects read during the damage answer
// right (and queue read repairs), objects nobody reads are repaired by
// the scanner alone.
func TestScannerRepairsCorruptAndMissingShards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	t.Setenv("STRATA_SCAN_INTERVAL", "2s") // the first pass starts after 2 s too
	procs := startCluster(t, 4, "2+2")
	ep := procs[0].s3
	const bucket = "scan"
	mustAWS(t, ep, "s3", "mb", "s3://"+bucket)
	ctx := context.Background()
	rt := newStatusCounter()
	c := sdkFor(ep, rt)
	objs := newAckedSet()

	// Objects, one at a time, so that the shard files each one adds are
	// known: 14 of 150 KiB to 2.5 MiB (one shard file per drive of their
	// PG), one multipart (two parts, a shard file each per drive), and 8
	// inline ones (<= 128 KiB, in the drives' indexes).
	shards := map[string][]string{} // key -> shard file paths
	seen := map[string]bool{}
	newShards := func() []string {
		var added []string
		for d, files := range clusterShards(procs) {
			for f := range files {
				if p := filepath.Join(d, f); !seen[p] {
					seen[p] = true
					added = append(added, p)
				}
			}
		}
		sort.Strings(added)
		return added
	}
	var large []string
	for i := range 14 {
		key := fmt.Sprintf("large/%02d", i)
		data := randomBytes(150<<10 + i*170<<10)
		if err := putObject(ctx, c, bucket, key, data); err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		objs.add(key, data)
		shards[key] = newShards()
		if len(shards[key]) != 4 {
			t.Fatalf("PUT %s (%d bytes) added %d shard files, want 4 (EC 2+2): %v", key, len(data), len(shards[key]), shards[key])
		}
		large = append(large, key)
	}
	p1, p2 := randomBytes(5<<20), randomBytes(300<<10)
	if err := putMultipart(ctx, c, bucket, "multipart", p1, p2); err != nil {
		t.Fatalf("multipart PUT: %v", err)
	}
	objs.add("multipart", append(p1, p2...))
	shards["multipart"] = newShards()
	if len(shards["multipart"]) != 8 {
		t.Fatalf("a 2-part upload added %d shard files, want 8: %v", len(shards["multipart"]), shards["multipart"])
	}
	for i := range 8 {
		key := fmt.Sprintf("small/%02d", i)
		data := randomBytes(i * 16 << 10)
		if err := putObject(ctx, c, bucket, key, data); err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		objs.add(key, data)
		if added := newShards(); len(added) != 0 {
			t.Fatalf("inline PUT %s (%d bytes) added shard files %v", key, len(data), added)
		}
	}

	// Damage: in each object at most 2 of its 4 shards (k = 2 stay good);
	// 4 objects get a corrupt shard, 4 a missing one, 3 one of each, and
	// the multipart object a corrupt shard of part 1 and a missing one of
	// part 2. The read group is GET while damaged; the others are not
	// read until the files are back, so only the scanner repairs them.
	var dmg []damaged
	corrupt := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(b)
		for i := range 8 {
			bad[len(bad)/2+i] ^= 0xff
		}
		if err := os.WriteFile(path, bad, 0o640); err != nil {
			t.Fatal(err)
		}
		dmg = append(dmg, damaged{path, "corrupt", b})
	}
	remove := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		dmg = append(dmg, damaged{path, "deleted", b})
	}
	for i, key := range large[:11] {
		files := shards[key]
		switch {
		case i < 4:
			corrupt(files[i%4])
		case i < 8:
			remove(files[i%4])
		default:
			corrupt(files[i%4])
			remove(files[(i+1)%4])
		}
	}
	mp := shards["multipart"] // sorted paths: part files interleave by drive
	byName := map[string][]string{}
	for _, p := range mp {
		byName[filepath.Base(p)] = append(byName[filepath.Base(p)], p)
	}
	var parts [][]string
	for _, ps := range byName {
		parts = append(parts, ps)
	}
	if len(parts) != 2 {
		t.Fatalf("multipart shard files: %v", mp)
	}
	corrupt(parts[0][0])
	remove(parts[1][1])

	readGroup := map[string]acked{}
	all := objs.snapshot()
	for k, v := range all {
		if !slices.Contains(large[:11], k) || slices.Index(large, k)%2 == 0 {
			readGroup[k] = v // undamaged, inline, and half the damaged ones
		}
	}
	delete(readGroup, "multipart")
	t.Logf("damaged %d shard files of 12 objects; reading %d objects meanwhile", len(dmg), len(readGroup))

	restored := func() (int, []string) {
		var left []string
		for _, d := range dmg {
			b, err := os.ReadFile(d.path)
			if err != nil || !bytes.Equal(b, d.orig) {
				left = append(left, d.how+" "+d.path)
			}
		}
		return len(dmg) - len(left), left
	}
	start := time.Now()
	deadline := start.Add(2 * time.Minute)
	gets := 0
	for {
		for k, v := range readGroup {
			if err := checkObject(ctx, sdkFor(procs[gets%4].s3, rt), bucket, k, v); err != nil {
				t.Fatalf("while damaged: %v", err)
			}
			gets++
		}
		n, left := restored()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d damaged shard files rewritten; left:\n%s", time.Since(start).Round(time.Second), n, len(dmg), strings.Join(left, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(start)

	hs := healStatus(t, ep)
	var repaired, bytesRepaired, verified, passes, errs int64
	for _, n := range hs.Nodes {
		if n.Heal == nil {
			t.Fatalf("heal status: node %s does not report", n.Node)
		}
		repaired += n.Heal.ShardsRepaired
		bytesRepaired += n.Heal.BytesRepaired
		verified += n.Heal.BytesVerified
		passes += n.Heal.Passes
		errs += n.Heal.Errors
	}
	// Every damaged file is back (checked above, byte for byte); the
	// counters count a rebuilt shard once even when it spans several
	// damaged files, and a repair raced by another node's is not counted
	// twice: at least one repair per damaged object.
	if repaired < 12 || passes == 0 {
		t.Errorf("heal status: %d shards repaired, %d scanner passes; want at least one per damaged object (12), and passes", repaired, passes)
	}
	t.Logf("all %d damaged shard files rewritten with their original bytes in %s (%d verified GETs meanwhile); heal status: %d shards (%.1f MiB) repaired, %.1f MiB verified, %d scanner passes, %d errors",
		len(dmg), took.Round(100*time.Millisecond), gets, repaired, float64(bytesRepaired)/(1<<20), float64(verified)/(1<<20), passes, errs)
	verifyAll(t, endpointsOf(procs), bucket, all)
}

// --- TestWipedDriveRefills ---

// TestWipedDriveRefills wipes the second drive folder of a stopped node
// (the first holds its Raft state and drive map), restarts it with the
// same flags and waits until the drive holds again every shard file it
// held, byte for byte; then, with two other nodes stopped, every object
// is read through the two left, which needs the refilled drive.
func TestWipedDriveRefills(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	procs := startCluster(t, 4, "2+2") // default --scan-interval: the refill alone restores the drive
	ep := procs[0].s3
	const bucket = "refill"
	mustAWS(t, ep, "s3", "mb", "s3://"+bucket)
	ctx := context.Background()
	rt := newStatusCounter()
	objs := newAckedSet()
	for i := range 40 {
		key := fmt.Sprintf("obj/%02d", i)
		n := i * 3 << 10 // inline ones
		if i%2 == 1 {
			n = 130<<10 + i*40<<10
		}
		data := randomBytes(n)
		if err := putObject(ctx, sdkFor(procs[i%4].s3, rt), bucket, key, data); err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		objs.add(key, data)
	}
	all := objs.snapshot()

	victim := procs[1]
	drive := drivesOf(victim)[1]
	sums := func() map[string][32]byte {
		m := map[string][32]byte{}
		for f := range shardFiles(drive) {
			if b, err := os.ReadFile(filepath.Join(drive, f)); err == nil {
				m[f] = sha256.Sum256(b)
			}
		}
		return m
	}
	before := sums()
	if len(before) == 0 {
		t.Fatalf("%s holds no shard files before the wipe", drive)
	}
	stopNode(t, victim)
	ents, err := os.ReadDir(drive)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(drive, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	victim.start(t)
	waitReady(t, victim, 60*time.Second)

	// No client reads the objects until the drive is back, so that no
	// read repair helps: the refill alone restores it.
	deadline := time.Now().Add(2 * time.Minute)
	var heal *adminapi.NodeHeal
	for {
		for _, n := range healStatus(t, ep).Nodes {
			if n.Node == victim.id {
				heal = n.Heal
			}
		}
		now := sums()
		if heal != nil && len(heal.Refilling) == 0 && maps.Equal(now, before) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not refilled after 2 minutes: heal %+v, %d of %d shard files back", drive, heal, len(now), len(before))
		}
		time.Sleep(300 * time.Millisecond)
	}
	took := time.Since(start)
	if heal.ShardsRepaired < int64(len(before)) {
		t.Errorf("%s's heal status: %d shards repaired, want at least the %d shard files of the refilled drive", victim.id, heal.ShardsRepaired, len(before))
	}
	t.Logf("%s refilled within %s of the restart: %d shard files back byte for byte; %s rebuilt %d shards (%.1f MiB, inline ones included)",
		drive, took.Round(100*time.Millisecond), len(before), victim.id, heal.ShardsRepaired, float64(heal.BytesRepaired)/(1<<20))

	// Every object from every node, then from the victim and one other
	// node only: every PG has a shard on each of the 4 nodes, so the
	// objects of the PGs of the refilled drive need it (inline ones
	// included: their shards are in its index).
	verifyAll(t, endpointsOf(procs), bucket, all)
	procs[2].kill9()
	procs[3].kill9()
	verifyAll(t, []string{procs[0].s3, victim.s3}, bucket, all)
}

// --- TestDecommission ---

// TestDecommission drains n5 of a 5-node cluster with `stratactl node
// decommission`: n5 ends out, without PGs, out of Raft and without shard
// files, and every object reads right from the 4 left. On those 4 (EC
// 2+2), draining another is refused unless forced; forced, it drains, and
// every object reads right from the 3 left.
func TestDecommission(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	procs := startCluster(t, 5, "2+2")
	ep := procs[0].s3
	const bucket = "drain"
	mustAWS(t, ep, "s3", "mb", "s3://"+bucket)
	ctx := context.Background()
	rt := newStatusCounter()
	objs := newAckedSet()
	for i := range 40 {
		key := fmt.Sprintf("obj/%02d", i)
		n := i * 3 << 10
		if i%2 == 1 {
			n = 130<<10 + i*40<<10
		}
		data := randomBytes(n)
		if err := putObject(ctx, sdkFor(procs[i%5].s3, rt), bucket, key, data); err != nil {
			t.Fatalf("PUT %s: %v", key, err)
		}
		objs.add(key, data)
	}
	all := objs.snapshot()
	n5 := procs[4]
	held := 0
	for _, d := range drivesOf(n5) {
		held += len(shardFiles(d))
	}
	if held == 0 {
		t.Fatal("n5 holds no shard files before the decommission")
	}

	start := time.Now()
	out, err := ctlWithin(3*time.Minute, ep, "node", "decommission", "n5")
	if err != nil {
		t.Fatalf("stratactl node decommission n5: %v\n%s", err, out)
	}
	took := time.Since(start)
	if !strings.Contains(out, "draining") || !strings.Contains(out, "n5: drained, out of the cluster") {
		t.Errorf("stratactl node decommission n5 output:\n%s", out)
	}

	st := clusterStatus(t, ep, rootSK)
	i := slices.IndexFunc(st.Nodes, func(n adminapi.NodeStatus) bool { return n.ID == "n5" })
	if i < 0 {
		t.Fatalf("n5 gone from cluster status: %+v", st.Nodes)
	}
	gone := st.Nodes[i]
	pgs := 0
	for _, d := range gone.Drives {
		pgs += d.PGs
	}
	if gone.State != "out" || gone.Raft != "none" || pgs != 0 {
		t.Errorf("n5 after the decommission: state %q, raft %q, %d PGs; want out, none, 0", gone.State, gone.Raft, pgs)
	}
	if slices.Contains(st.Raft.Voters, "n5") || slices.Contains(st.Raft.NonVoters, "n5") {
		t.Errorf("n5 still in Raft: voters %v, non-voters %v", st.Raft.Voters, st.Raft.NonVoters)
	}
	for _, n := range st.Nodes {
		if n.ID != "n5" && (n.State != "up" || n.Raft == "none") {
			t.Errorf("node %s after the decommission: state %q, raft %q", n.ID, n.State, n.Raft)
		}
	}
	for _, d := range drivesOf(n5) {
		if files := shardFiles(d); len(files) > 0 {
			t.Errorf("%s still holds %d shard files", d, len(files))
		}
	}
	t.Logf("n5 decommissioned in %s (%d shard files moved off it); raft voters %v", took.Round(100*time.Millisecond), held, st.Raft.Voters)
	rest := endpointsOf(procs[:4])
	verifyAll(t, rest, bucket, all)

	// 4 nodes are left for PGs of 4 shards: draining one more is refused,
	// unless forced; a forced drain then runs to its end, with two shards
	// of a PG on one node. n5's process still runs, out of the cluster
	// (nothing tells an operator to stop it): the drain must not need it.
	epoch := st.PlacementEpoch
	out, err = ctlWithin(time.Minute, ep, "node", "decommission", "n4")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(out, "would leave 3 nodes") || !strings.Contains(out, "force") {
		t.Fatalf("decommission of n4 on 4 nodes (EC 2+2): err %v, output:\n%s", err, out)
	}
	t.Logf("refused: %s", strings.TrimSpace(out))
	nodeOf := func(st adminapi.ClusterStatus, id string) adminapi.NodeStatus {
		i := slices.IndexFunc(st.Nodes, func(n adminapi.NodeStatus) bool { return n.ID == id })
		if i < 0 {
			t.Fatalf("%s not in cluster status: %+v", id, st.Nodes)
		}
		return st.Nodes[i]
	}
	if st := clusterStatus(t, ep, rootSK); st.PlacementEpoch != epoch || nodeOf(st, "n4").State != "up" {
		t.Fatalf("a refused decommission changed the cluster: epoch %d -> %d, n4 %+v", epoch, st.PlacementEpoch, nodeOf(st, "n4"))
	}
	out, err = ctlWithin(time.Minute, ep, "node", "decommission", "n4", "--force", "--no-wait")
	if err != nil || !strings.Contains(out, "draining") {
		t.Fatalf("forced decommission of n4: %v\n%s", err, out)
	}
	start = time.Now()
	deadline := start.Add(90 * time.Second)
	for nodeOf(clusterStatus(t, ep, rootSK), "n4").State != "out" {
		if time.Now().After(deadline) {
			v, err := rebalanceStatus(ep)
			t.Fatalf("forced drain of n4 not done after 90 s: %s %v", v, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// The leader records the node out, then takes it out of Raft (a voter
	// is demoted, then removed): wait for the second step.
	st = clusterStatus(t, ep, rootSK)
	for nodeOf(st, "n4").Raft != "none" && time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		st = clusterStatus(t, ep, rootSK)
	}
	if n4 := nodeOf(st, "n4"); n4.Raft != "none" {
		t.Errorf("n4 out but still in Raft: %+v", n4)
	}
	for _, d := range drivesOf(procs[3]) {
		if files := shardFiles(d); len(files) > 0 {
			t.Errorf("%s still holds %d shard files after n4's drain", d, len(files))
		}
	}
	t.Logf("forced drain of n4 done in %s; placement epoch %d", time.Since(start).Round(100*time.Millisecond), st.PlacementEpoch)
	verifyAll(t, endpointsOf(procs[:3]), bucket, all)
}
