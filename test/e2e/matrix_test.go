package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The client matrix: every client in matrixClients runs every workflow in
// matrixWorkflows against one 4-node cluster (EC 2+2). Each cell is a
// subtest named client/workflow; a workflow a client cannot do at all is
// skipped and reported "n/a" with the reason. The matrix (status and time
// of every cell, the throughput of every 300 MiB multipart upload, the
// first lines of every failure) is written to $STRATA_MATRIX_FILE, which
// `make test` prints after `go test`.

const (
	cellTimeout  = 3 * time.Minute
	matrixBudget = 10 * time.Minute
)

// workflow is one column of the matrix.
type workflow struct {
	key   string // subtest name and bucket suffix
	title string // column header
}

var matrixWorkflows = []workflow{
	{"sync", "sync 1000"},
	{"multipart", "multipart 300MiB"},
	{"versioning", "versioning"},
	{"presign", "presigned GET/PUT"},
	{"post", "POST upload"},
	{"copy", "copy+metadata"},
	{"list", "list delimiter"},
}

// matrixClient is one row of the matrix.
type matrixClient struct {
	name  string // row label and subtest prefix, e.g. "aws s3"
	short string // bucket-name component: lower-case letters and digits
	// setup runs once before the client's cells (check the tool is there,
	// write its configuration); an error fails every cell of the row.
	setup func(x *clientEnv) error
	cells map[string]func(x *cell)
	na    map[string]string // workflow key -> why the client cannot do it
}

// clientEnv is what a client's cells share: two S3 endpoints on different
// nodes (upload through one, read back through the other) and a scratch
// folder for configuration files.
type clientEnv struct {
	ep, ep2 string // host:port
	dir     string
	fx      *fixtures
	chk     *s3.Client // independent checker (aws-sdk-go-v2, path style)
	conf    map[string]string
}

// cell is one running client x workflow subtest.
type cell struct {
	*clientEnv
	t      *testing.T
	ctx    context.Context
	bucket string // created for this cell by the checker
	dir    string // scratch folder of this cell
	msg    string // why the cell failed (first failure)
	scope  string // the part of the workflow the client can do, e.g. "GET" ("" for all of it)
	notes  []string
	mibps  *throughput
}

// throughput is the measured speed of a 300 MiB multipart upload and of
// reading it back.
type throughput struct {
	up, down float64 // MiB/s
	how      string  // part size, concurrency, checksum
}

// cellResult is one recorded cell.
type cellResult struct {
	status  string // PASS, FAIL, n/a
	elapsed time.Duration
	msg     string
	scope   string
	notes   []string
	tp      *throughput
}

// matrix collects the results of the cells as they finish.
type matrix struct {
	mu      sync.Mutex
	results map[string]map[string]cellResult // client -> workflow -> result
	started time.Time
	against string // what the clients talk to
}

func (m *matrix) record(client, wf string, r cellResult) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.results[client] == nil {
		m.results[client] = map[string]cellResult{}
	}
	m.results[client][wf] = r
}

// fail records why the cell failed and stops it.
func (x *cell) fail(format string, args ...any) {
	x.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if x.msg == "" {
		x.msg = msg
	}
	x.t.Fatal(msg)
}

// check fails the cell when err is not nil.
func (x *cell) check(err error, what string) {
	x.t.Helper()
	if err != nil {
		x.fail("%s: %v", what, err)
	}
}

// note adds a line to the matrix notes of this cell.
func (x *cell) note(format string, args ...any) {
	x.notes = append(x.notes, fmt.Sprintf(format, args...))
}

// matrixFile is where the matrix is written: $STRATA_MATRIX_FILE, else a
// file in the OS temporary folder.
func matrixFile() string {
	if p := os.Getenv("STRATA_MATRIX_FILE"); p != "" {
		return p
	}
	return filepath.Join(os.TempDir(), "strata-client-matrix.txt")
}

func TestClientMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes and external clients")
	}
	out := matrixFile()
	// go test does not reuse a cached result when a file inside the module
	// that the test looked at has changed since: the matrix file of `make
	// test` (bin/client-matrix.txt) is rewritten by every run, so this Stat
	// makes the matrix run, and be printed, on every `make test`.
	os.Stat(out)

	var endpoints []string
	against := "4 strata-node processes (EC 2+2)"
	if ep := os.Getenv("STRATA_MATRIX_ENDPOINT"); ep != "" {
		// Run the workflows against an S3 server that is already running
		// (e.g. a reference implementation, to check the workflows
		// themselves); it must accept the root keys.
		endpoints, against = []string{ep}, ep
	} else {
		for _, p := range startCluster(t, 4, "2+2") {
			endpoints = append(endpoints, p.s3)
		}
	}
	fx := makeFixtures(t)
	m := &matrix{results: map[string]map[string]cellResult{}, started: time.Now(), against: against}
	defer func() {
		if err := os.WriteFile(out, []byte(m.render(time.Since(m.started))), 0o644); err != nil {
			t.Errorf("writing the client matrix: %v", err)
		} else {
			t.Logf("client matrix written to %s", out)
		}
	}()

	for i, c := range matrixClients() {
		env := &clientEnv{
			ep:   endpoints[i%len(endpoints)],
			ep2:  endpoints[(i+2)%len(endpoints)],
			dir:  t.TempDir(),
			fx:   fx,
			conf: map[string]string{},
		}
		env.chk = sdkClient("http://"+env.ep2, 3)
		setupErr := c.setup(env)
		for _, w := range matrixWorkflows {
			name := c.name + "/" + w.key
			if reason, ok := c.na[w.key]; ok {
				m.record(c.name, w.key, cellResult{status: "n/a", msg: reason})
				t.Run(name, func(t *testing.T) { t.Skip("n/a: " + reason) })
				continue
			}
			fn := c.cells[w.key]
			if fn == nil {
				t.Fatalf("client %s has neither a cell nor an n/a reason for %s", c.name, w.key)
			}
			t.Run(name, func(t *testing.T) {
				x := &cell{clientEnv: env, t: t, dir: t.TempDir(),
					bucket: "mx-" + c.short + "-" + w.key}
				start := time.Now()
				defer func() {
					r := cellResult{status: "PASS", elapsed: time.Since(start), scope: x.scope, notes: x.notes, tp: x.mibps}
					if t.Failed() {
						r.status, r.msg = "FAIL", x.msg
						if r.msg == "" {
							r.msg = "see the go test -v output"
						}
					}
					m.record(c.name, w.key, r)
				}()
				if setupErr != nil {
					x.fail("setup of %s: %v", c.name, setupErr)
				}
				// Each cell gets cellTimeout, within what is left of
				// matrixBudget: the matrix must end (and be written) well
				// before go test's -timeout kills the package.
				left := time.Until(m.started.Add(matrixBudget))
				if left < 10*time.Second {
					x.fail("not run: the matrix used its %v budget", matrixBudget)
				}
				ctx, cancel := context.WithTimeout(context.Background(), min(cellTimeout, left))
				defer cancel()
				x.ctx = ctx
				_, err := env.chk.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(x.bucket)})
				if apiErrorCode(err) != "BucketAlreadyOwnedByYou" {
					x.check(err, "checker: create bucket "+x.bucket)
				}
				fn(x)
			})
		}
	}
}

// render formats the matrix as text.
func (m *matrix) render(total time.Duration) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b bytes.Buffer
	clients := matrixClients()
	counts := map[string]int{}
	partial := false
	fmt.Fprintf(&b, "Client matrix: %d clients x %d workflows against %s, %s\n\n",
		len(clients), len(matrixWorkflows), m.against, total.Round(time.Second))
	const first = 15
	widths := make([]int, len(matrixWorkflows))
	for i, w := range matrixWorkflows {
		widths[i] = max(len(w.title), len("FAIL 999.9s"))
	}
	var row strings.Builder
	endRow := func() {
		b.WriteString(strings.TrimRight(row.String(), " ") + "\n")
		row.Reset()
	}
	fmt.Fprintf(&row, "%-*s", first, "client")
	for i, w := range matrixWorkflows {
		fmt.Fprintf(&row, "  %-*s", widths[i], w.title)
	}
	endRow()
	for _, c := range clients {
		fmt.Fprintf(&row, "%-*s", first, c.name)
		for i, w := range matrixWorkflows {
			s := "not run"
			if r, ok := m.results[c.name][w.key]; ok {
				s = r.status
				if r.status != "n/a" {
					s += fmt.Sprintf(" %.1fs", r.elapsed.Seconds())
				}
				if r.scope != "" {
					s += " (" + r.scope + ")"
					partial = true
				}
				counts[r.status]++
			} else {
				counts["not run"]++
			}
			fmt.Fprintf(&row, "  %-*s", widths[i], s)
		}
		endRow()
	}
	b.WriteString("\n")
	if partial {
		b.WriteString("(GET): the client presigns GET URLs only; the PUT half of the workflow is n/a for it.\n")
	}
	fmt.Fprintf(&b, "PASS %d, FAIL %d, n/a %d", counts["PASS"], counts["FAIL"], counts["n/a"])
	if counts["not run"] > 0 {
		fmt.Fprintf(&b, ", not run %d", counts["not run"])
	}
	b.WriteString("\n")

	section := func(title string, line func(c matrixClient, w workflow, r cellResult) []string) {
		var lines []string
		for _, c := range clients {
			for _, w := range matrixWorkflows {
				if r, ok := m.results[c.name][w.key]; ok {
					lines = append(lines, line(c, w, r)...)
				}
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n%s\n", title)
			for _, l := range lines {
				b.WriteString("  " + l + "\n")
			}
		}
	}
	section("300 MiB multipart upload through the client, and read back through another node:", func(c matrixClient, w workflow, r cellResult) []string {
		if r.tp == nil {
			return nil
		}
		s := fmt.Sprintf("%-*s upload %6.1f MiB/s", first, c.name, r.tp.up)
		if r.tp.down > 0 {
			s += fmt.Sprintf(", download %6.1f MiB/s", r.tp.down)
		}
		return []string{s + "  (" + r.tp.how + ")"}
	})
	section("Notes:", func(c matrixClient, w workflow, r cellResult) []string {
		var out []string
		for _, n := range r.notes {
			out = append(out, c.name+"/"+w.key+": "+n)
		}
		return out
	})
	section("Failures:", func(c matrixClient, w workflow, r cellResult) []string {
		if r.status != "FAIL" {
			return nil
		}
		return []string{c.name + "/" + w.key + ": " + indent(clip(r.msg, 1200), "    ")}
	})
	section("n/a (the client cannot do the workflow):", func(c matrixClient, w workflow, r cellResult) []string {
		if r.status != "n/a" {
			return nil
		}
		return []string{c.name + "/" + w.key + ": " + r.msg}
	})
	return b.String()
}

// clip shortens s to about n bytes, keeping its start and its end (where
// tools print the error).
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n/3] + "\n...\n" + s[len(s)-2*n/3:]
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines, "\n"+prefix)
}

// matrixClients returns the rows of the matrix, in order.
func matrixClients() []matrixClient {
	cs := []matrixClient{awsS3Client(), awsS3APIClient(), boto3Client(), sdkGoClient(), minioGoClient(), rcloneClient(), s3cmdClient()}
	for _, c := range cs {
		for k := range c.na {
			if c.cells[k] != nil {
				panic(c.name + " has both a cell and an n/a reason for " + k)
			}
		}
		for k := range c.cells {
			if !slices.ContainsFunc(matrixWorkflows, func(w workflow) bool { return w.key == k }) {
				panic(c.name + " has a cell for unknown workflow " + k)
			}
		}
	}
	return cs
}
