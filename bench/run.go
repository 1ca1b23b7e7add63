package bench

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

const (
	// opTimeout bounds one request; one that takes longer is an error.
	opTimeout = 5 * time.Minute
	// cleanupBatch is how many keys one DeleteObjects of the cleanup
	// names: small batches spread the work over the endpoints.
	cleanupBatch = 100
	// cleanupTimeout bounds the removal of the run's objects and bucket.
	cleanupTimeout = 10 * time.Minute
	// copyBuffer is the size of the pooled buffers GET bodies are read into.
	copyBuffer = 256 * kib
	// deleteObjects is how many objects the delete workload wants in place
	// before it starts (the run's earlier workloads usually left more).
	deleteObjects = 10000
)

// errVerify marks an answer that contradicts what the run wrote.
var errVerify = errors.New("verify")

// Run runs cfg's workloads one after the other and returns their report.
// Cancelling ctx stops the workload in progress and skips the rest; the
// report then has what ran, with Interrupted set. Unless cfg.Keep, the
// run's objects and bucket are removed at the end, even after ctx is
// cancelled (within cleanupTimeout); a failed cleanup returns the report
// with the error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Started: time.Now().UTC(), Endpoints: cfg.Endpoints, Bucket: r.bucket,
		Concurrency: cfg.Concurrency, DurationSeconds: cfg.Duration.Seconds()}
	if err := r.createBucket(ctx); err != nil {
		return nil, err
	}
	if cfg.MetricsPath != "" {
		sc := &scraper{hc: &http.Client{Timeout: 10 * time.Second}, token: cfg.MetricsToken,
			creds: aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey}, region: cfg.Region, signer: v4.NewSigner()}
		r.sampler, rep.MetricsNote = newSampler(ctx, sc, cfg.Endpoints, cfg.MetricsPath, cfg.SampleInterval)
	}
	for i, w := range cfg.Workloads {
		if ctx.Err() != nil {
			break
		}
		res := r.run(ctx, w, uint64(i))
		rep.Workloads = append(rep.Workloads, res)
		r.progressf("%s", progressLine(res))
	}
	rep.Interrupted = ctx.Err() != nil
	rep.summarize()
	if cfg.Keep {
		r.progressf("kept bucket %s (objects under %s/)", r.bucket, r.prefix)
		return rep, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := r.cleanup(cctx); err != nil {
		return rep, fmt.Errorf("bench: removing the run's objects from bucket %s: %w", r.bucket, err)
	}
	return rep, nil
}

// runner is one run's clients and the objects it wrote.
type runner struct {
	cfg     Config
	clients []*s3.Client // one per endpoint, over one HTTP transport
	data    *payload
	bucket  string
	created bool   // the run created the bucket (and removes it)
	prefix  string // of every key the run writes
	seed    uint64
	seq     atomic.Int64 // numbers keys

	mu    sync.Mutex
	pools map[int64]*pool // objects by size
	list  *pool           // the list workload's prefix
	bufs  sync.Pool       // *[]byte of copyBuffer bytes

	sampler *sampler // nil without node metrics
}

// newRunner builds the clients and the payload of cfg's run.
func newRunner(cfg Config) (*runner, error) {
	var rnd [12]byte
	if _, err := crand.Read(rnd[:]); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, bucket: cfg.Bucket, prefix: "run-" + hex.EncodeToString(rnd[:4]),
		seed: binary.LittleEndian.Uint64(rnd[4:]), pools: map[int64]*pool{}, list: &pool{}}
	if r.bucket == "" {
		r.bucket = "strata-bench-" + hex.EncodeToString(rnd[8:])
	}
	r.bufs.New = func() any { b := make([]byte, copyBuffer); return &b }
	maxSize := int64(0)
	for _, w := range cfg.Workloads {
		maxSize = max(maxSize, w.Size)
	}
	var err error
	if r.data, err = newPayload(maxSize); err != nil {
		return nil, err
	}
	conns := max(cfg.Concurrency, cfg.Concurrency64M)
	// One transport for every client: the SDK's defaults, with an idle
	// connection kept for every client on every endpoint, bodies not
	// compressed, and 64 KiB socket buffers.
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = max(100, conns*len(cfg.Endpoints))
		t.MaxIdleConnsPerHost = conns
		t.DisableCompression = true
		t.WriteBufferSize, t.ReadBufferSize = 64*kib, 64*kib
	}).Freeze()
	for _, ep := range cfg.Endpoints {
		r.clients = append(r.clients, s3.New(s3.Options{
			Region:       cfg.Region,
			Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
			BaseEndpoint: aws.String(ep),
			UsePathStyle: true,
			HTTPClient:   hc,
			Retryer:      aws.NopRetryer{}, // every failure counts
			// What config.LoadDefaultConfig gives every usual client: a
			// CRC32 with each PUT, checked GETs.
			RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
			ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		}))
	}
	return r, nil
}

// progressf writes a progress line.
func (r *runner) progressf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

// createBucket creates the run's bucket; one the caller already owns is
// used as it is.
func (r *runner) createBucket(ctx context.Context) error {
	in := &s3.CreateBucketInput{Bucket: &r.bucket}
	if r.cfg.Region != "" && r.cfg.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(r.cfg.Region)}
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := r.clients[0].CreateBucket(cctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	switch {
	case err == nil:
		r.created = true
	case errors.As(err, &owned):
	default:
		return fmt.Errorf("bench: create bucket %s: %w", r.bucket, err)
	}
	return nil
}

// pool is the pool of the objects of size.
func (r *runner) pool(size int64) *pool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pools[size]
	if p == nil {
		p = &pool{}
		r.pools[size] = p
	}
	return p
}

// key is a new key under the run's prefix, in the folder class.
func (r *runner) key(class string) string {
	return fmt.Sprintf("%s/%s/%09d", r.prefix, class, r.seq.Add(1))
}

// listPrefix is the prefix the list workload lists.
func (r *runner) listPrefix() string { return r.prefix + "/list/" }

// objectsFor is how many objects of size a workload that reads or deletes
// them wants in place before its clock starts, unless Config.Objects says:
// 256 MiB worth, at least two per client and at most 2,000.
func objectsFor(size int64, conc int) int {
	return max(2*conc, min(2000, int(256*mib/size)))
}

// run runs one workload; n numbers it in the run (it seeds the clients'
// random choices).
func (r *runner) run(ctx context.Context, w Workload, n uint64) Result {
	conc := r.cfg.concurrency(w)
	res := Result{Name: w.Name, Concurrency: conc, ObjectSize: w.Size}
	t0 := time.Now()
	prepared, err := r.prepare(ctx, w, conc)
	if prepared > 0 {
		res.PrepareSeconds = time.Since(t0).Seconds()
	}
	if err != nil {
		res.Note = "not run: " + err.Error()
		return res
	}
	var (
		errs   errorLog
		outOf  atomic.Bool
		recs   = make([]*recorder, conc)
		ends   = make([]time.Time, conc)
		p      = r.pool(w.Size)
		wantLs = r.list.len()
	)
	if w.Kind == KindList {
		p = r.list
	}
	if r.sampler != nil {
		r.sampler.begin(ctx)
	}
	cpu0 := clientCPU()
	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	var wg sync.WaitGroup
	for i := range conc {
		recs[i] = new(recorder)
		c := &client{r: r, s3: r.clients[i%len(r.clients)], rng: rand.New(rand.NewPCG(r.seed+n, uint64(i))),
			rec: recs[i], errs: &errs, pool: p, size: w.Size, wantListed: wantLs}
		wg.Go(func() {
			if !c.loop(ctx, w, deadline) {
				outOf.Store(true)
			}
			ends[i] = time.Now()
		})
	}
	wg.Wait()
	elapsed := slices.MaxFunc(ends, time.Time.Compare).Sub(start)
	res.ClientCPUSeconds = (clientCPU() - cpu0).Seconds()
	if r.sampler != nil {
		res.Nodes = r.sampler.end(context.WithoutCancel(ctx))
	}
	m := merge(recs)
	for _, s := range w.mix() {
		res.Ops = append(res.Ops, stats(s.op, m[s.op], elapsed))
	}
	res.ElapsedSeconds = elapsed.Seconds()
	res.ErrorSamples = errs.samples()
	if w.Kind == KindList {
		// Listed, its objects join the others of their size: the delete
		// workload's to remove.
		r.pool(w.Size).absorb(r.list)
	}
	switch {
	case ctx.Err() != nil:
		res.Note = "interrupted"
	case outOf.Load():
		res.Note = fmt.Sprintf("ran out of objects after %.1f s", elapsed.Seconds())
	}
	return res
}

// prepare writes the objects w reads, lists or deletes, if the pool has
// too few, and returns how many it wrote. It fails when too many PUTs fail
// or when ctx ends.
func (r *runner) prepare(ctx context.Context, w Workload, conc int) (int, error) {
	p, want, size := r.pool(w.Size), objectsFor(w.Size, conc), w.Size
	switch {
	case w.Kind == KindPut:
		return 0, nil
	case w.Kind == KindList:
		p, want = r.list, r.cfg.ListKeys
	case r.cfg.Objects > 0:
		want = r.cfg.Objects
	case w.Kind == KindDelete:
		want = max(want, deleteObjects)
	}
	need := int64(want - p.len())
	if need <= 0 {
		return 0, nil
	}
	r.progressf("%s: writing %d objects of %s first", w.Name, need, sizeClass(size))
	var (
		left, failed atomic.Int64
		firstErr     error
		once         sync.Once
		errs         errorLog
		wg           sync.WaitGroup
	)
	left.Store(need)
	limit := need/10 + 10
	class := sizeClass(size)
	if w.Kind == KindList {
		class = "list"
	}
	for i := range conc {
		c := &client{r: r, s3: r.clients[i%len(r.clients)], rng: rand.New(rand.NewPCG(r.seed, uint64(i)+1<<32)),
			rec: new(recorder), errs: &errs, pool: p, size: size}
		wg.Go(func() {
			for ctx.Err() == nil && failed.Load() < limit && left.Add(-1) >= 0 {
				if err := c.put(ctx, class); err != nil {
					failed.Add(1)
					left.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	written := int(need - max(left.Load(), 0))
	switch {
	case ctx.Err() != nil:
		return written, ctx.Err()
	case failed.Load() >= limit:
		return written, fmt.Errorf("%d PUTs failed while preparing, the first: %v", failed.Load(), describe(firstErr))
	}
	return written, nil
}

// client is one simulated S3 client of a workload.
type client struct {
	r    *runner
	s3   *s3.Client
	rng  *rand.Rand
	rec  *recorder
	errs *errorLog
	pool *pool // the objects it reads, deletes, or adds to
	size int64 // of the objects it writes

	gets       int     // GETs so far: every VerifyEvery-th compares bytes
	token      *string // list: the next page of the listing in progress
	listed     int     // list: keys of the listing in progress so far
	wantListed int     // list: keys in the prefix
}

// loop makes w's requests until deadline or ctx ends. It returns false
// when it stopped early because no object was left to read or delete.
func (c *client) loop(ctx context.Context, w Workload, deadline time.Time) bool {
	m := w.mix()
	class := sizeClass(w.Size)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		op := m[0].op
		if len(m) > 1 {
			op = pick(m, c.rng.IntN(100))
		}
		switch op {
		case OpPut:
			c.put(ctx, class)
		case OpList:
			c.listPage(ctx)
		case OpGet, OpHead:
			o := c.pool.acquire(c.rng)
			if o == nil {
				if len(m) == 1 {
					return false
				}
				c.put(ctx, class)
				continue
			}
			if op == OpGet {
				c.get(ctx, o)
			} else {
				c.head(ctx, o)
			}
			c.pool.release(o)
		case OpDelete:
			o := c.pool.take(c.rng)
			if o == nil {
				if len(m) == 1 {
					return false
				}
				c.put(ctx, class)
				continue
			}
			c.delete(ctx, o)
		}
	}
	return true
}

// done records the outcome of a request of op started at t0. A request
// cut short because ctx ended is neither a success nor an error.
func (c *client) done(ctx context.Context, op Op, t0 time.Time, err error, bytes, objects int64) {
	d := time.Since(t0)
	switch {
	case err == nil:
		c.rec.ok(op, d, bytes, objects)
	case ctx.Err() != nil:
	default:
		c.rec.fail(op)
		c.errs.add(op, err)
	}
}

// put writes a new object of c.size in folder class and adds it to the
// pool.
func (c *client) put(ctx context.Context, class string) error {
	o := &object{key: c.r.key(class), size: c.size, off: c.rng.IntN(c.r.data.span)}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	out, err := c.s3.PutObject(octx, &s3.PutObjectInput{Bucket: &c.r.bucket, Key: &o.key,
		Body: c.r.data.reader(o.off, o.size), ContentLength: aws.Int64(o.size)})
	c.done(ctx, OpPut, t0, err, o.size, 1)
	if err != nil {
		return err
	}
	o.etag = aws.ToString(out.ETag)
	c.pool.add(o)
	return nil
}

// get reads o and checks its size and ETag, and every VerifyEvery-th time
// its bytes.
func (c *client) get(ctx context.Context, o *object) {
	verify := c.gets%c.r.cfg.VerifyEvery == 0
	c.gets++
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	n, err := c.fetch(octx, o, verify)
	c.done(ctx, OpGet, t0, err, n, 1)
}

// fetch is get's request: the bytes read, and what is wrong.
func (c *client) fetch(ctx context.Context, o *object, verify bool) (int64, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.r.bucket, Key: &o.key})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	buf := c.r.bufs.Get().(*[]byte)
	defer c.r.bufs.Put(buf)
	var (
		d discard
		v = verifier{want: c.r.data.bytes(o.off, o.size), diff: -1}
		w io.Writer
		n *int64
	)
	if verify {
		w, n = &v, &v.n
	} else {
		w, n = &d, &d.n
	}
	if _, err := io.CopyBuffer(w, out.Body, *buf); err != nil {
		return *n, err
	}
	if etag := aws.ToString(out.ETag); o.etag != "" && etag != o.etag {
		return *n, fmt.Errorf("%w: %s: ETag %s, its PUT answered %s", errVerify, o.key, etag, o.etag)
	}
	if *n != o.size {
		return *n, fmt.Errorf("%w: %s: %d bytes, want %d", errVerify, o.key, *n, o.size)
	}
	if verify {
		if err := v.err(); err != nil {
			return *n, fmt.Errorf("%w: %s: %v", errVerify, o.key, err)
		}
	}
	return *n, nil
}

// head asks for o's metadata and checks its size and ETag.
func (c *client) head(ctx context.Context, o *object) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	out, err := c.s3.HeadObject(octx, &s3.HeadObjectInput{Bucket: &c.r.bucket, Key: &o.key})
	switch {
	case err != nil:
	case aws.ToInt64(out.ContentLength) != o.size:
		err = fmt.Errorf("%w: HEAD %s: Content-Length %d, want %d", errVerify, o.key, aws.ToInt64(out.ContentLength), o.size)
	case o.etag != "" && aws.ToString(out.ETag) != o.etag:
		err = fmt.Errorf("%w: HEAD %s: ETag %s, its PUT answered %s", errVerify, o.key, aws.ToString(out.ETag), o.etag)
	}
	c.done(ctx, OpHead, t0, err, 0, 1)
}

// delete removes o.
func (c *client) delete(ctx context.Context, o *object) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	t0 := time.Now()
	_, err := c.s3.DeleteObject(octx, &s3.DeleteObjectInput{Bucket: &c.r.bucket, Key: &o.key})
	c.done(ctx, OpDelete, t0, err, 0, 1)
}

// listPage reads the next page of the listing of the list prefix; at the
// end of a listing it checks that every key was listed once.
func (c *client) listPage(ctx context.Context) {
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	prefix := c.r.listPrefix()
	t0 := time.Now()
	out, err := c.s3.ListObjectsV2(octx, &s3.ListObjectsV2Input{Bucket: &c.r.bucket, Prefix: &prefix, ContinuationToken: c.token})
	if err != nil {
		c.token, c.listed = nil, 0
		c.done(ctx, OpList, t0, err, 0, 0)
		return
	}
	keys := len(out.Contents)
	c.listed += keys
	switch {
	case aws.ToBool(out.IsTruncated) && out.NextContinuationToken == nil:
		err = fmt.Errorf("%w: LIST: truncated page without a continuation token", errVerify)
		c.token, c.listed = nil, 0
	case aws.ToBool(out.IsTruncated):
		c.token = out.NextContinuationToken
	default:
		if c.listed != c.wantListed {
			err = fmt.Errorf("%w: LIST: a listing of %s had %d keys, want %d", errVerify, prefix, c.listed, c.wantListed)
		}
		c.token, c.listed = nil, 0
	}
	c.done(ctx, OpList, t0, err, 0, int64(keys))
}

// cleanup deletes every object under the run's prefix, in DeleteObjects
// batches of cleanupBatch keys, up to Concurrency (at most 16) at once,
// then the bucket if the run created it.
func (r *runner) cleanup(ctx context.Context) error {
	t0 := time.Now()
	r.progressf("removing the run's objects from bucket %s", r.bucket)
	batches := make(chan []types.ObjectIdentifier)
	var (
		removed atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for i := range min(r.cfg.Concurrency, 16) {
		c := r.clients[i%len(r.clients)]
		wg.Go(func() {
			for batch := range batches {
				out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &r.bucket,
					Delete: &types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
				switch {
				case err != nil:
					fail(err)
				case len(out.Errors) > 0:
					fail(fmt.Errorf("%d keys not deleted, e.g. %s: %s", len(out.Errors), aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message)))
				default:
					removed.Add(int64(len(batch)))
				}
			}
		})
	}
	prefix := r.prefix + "/"
	pages := s3.NewListObjectsV2Paginator(r.clients[0], &s3.ListObjectsV2Input{Bucket: &r.bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			fail(err)
			break
		}
		for keys := range slices.Chunk(page.Contents, cleanupBatch) {
			batch := make([]types.ObjectIdentifier, len(keys))
			for i, o := range keys {
				batch[i] = types.ObjectIdentifier{Key: o.Key}
			}
			batches <- batch
		}
	}
	close(batches)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%s (and %d more errors)", describe(errs[0]), len(errs)-1)
	}
	if r.created {
		if _, err := r.clients[0].DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &r.bucket}); err != nil {
			return err
		}
	}
	r.progressf("removed %d objects%s in %.1f s", removed.Load(), map[bool]string{true: " and the bucket"}[r.created], time.Since(t0).Seconds())
	return nil
}

// errorLog keeps a few distinct errors of a workload and how often each
// happened.
type errorLog struct {
	mu     sync.Mutex
	counts map[string]int
	order  []string
	others int
}

// maxErrorSamples is how many distinct errors a workload reports.
const maxErrorSamples = 5

// add records err of a request of op.
func (l *errorLog) add(op Op, err error) {
	msg := op.String() + ": " + describe(err)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	if _, ok := l.counts[msg]; !ok && len(l.order) == maxErrorSamples {
		l.others++
		return
	}
	if l.counts[msg] == 0 {
		l.order = append(l.order, msg)
	}
	l.counts[msg]++
}

// samples are the errors seen, with their counts.
func (l *errorLog) samples() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.order {
		n := fmt.Sprintf("%d times", l.counts[m])
		if l.counts[m] == 1 {
			n = "once"
		}
		out = append(out, fmt.Sprintf("%s (%s)", m, n))
	}
	if l.others > 0 {
		out = append(out, fmt.Sprintf("%d more errors of other kinds", l.others))
	}
	return out
}

// describe is err in a line: an S3 error's code and message (without the
// request ids that make every instance unique), else its text, shortened.
func describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// progressLine is a workload's result in a line.
func progressLine(r Result) string {
	var ok, failed int64
	var rates []string
	for _, o := range r.Ops {
		ok += o.Ops
		failed += o.Errors
		rates = append(rates, fmt.Sprintf("%s %.1f/s", o.Op, o.OpsPerSec))
	}
	line := fmt.Sprintf("%s: %.1f s, %d ok, %d failed", r.Name, r.ElapsedSeconds, ok, failed)
	if len(rates) > 0 {
		line += " (" + strings.Join(rates, ", ") + ")"
	}
	if r.Note != "" {
		line += "; " + r.Note
	}
	return line
}
