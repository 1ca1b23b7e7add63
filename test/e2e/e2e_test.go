package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
)

var binDir string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "strata-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for name, pkg := range map[string]string{"strata-node": "../../cmd/node", "stratactl": "../../cmd/ctl"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, out)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

const (
	rootAK = "E2EROOTACCESSKEY"
	rootSK = "e2e-root-secret-key-0123456789"
)

func freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		// The kernel may hand a port out again once it is closed: never
		// give the same one twice (two nodes of one cluster got the same
		// gossip port once).
		if _, taken := handedOut.LoadOrStore(p, true); taken {
			continue
		}
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			u.Close()
			return p
		}
	}
}

// handedOut holds the ports freePort returned.
var handedOut sync.Map

type proc struct {
	id     string
	args   []string
	env    []string
	cmd    *exec.Cmd
	log    string
	s3     string
	gossip string
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(filepath.Join(binDir, "strata-node"), p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func (p *proc) kill9() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

func (p *proc) ready() bool {
	resp, err := http.Get("http://" + p.s3 + "/strata/health/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// startCluster runs n node processes forming one cluster and waits until all
// are ready.
func startCluster(t *testing.T, n int, ec string) []*proc {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	keyFile := filepath.Join(t.TempDir(), "cluster.key")
	out, err := exec.Command(filepath.Join(binDir, "stratactl"), "cluster", "keygen").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, out, 0o600)
	procs := make([]*proc, n)
	for i := range procs {
		dir := t.TempDir()
		procs[i] = &proc{
			id:     fmt.Sprintf("n%d", i+1),
			log:    filepath.Join(dir, "node.log"),
			s3:     fmt.Sprintf("127.0.0.1:%d", freePort(t)),
			gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		}
		procs[i].args = []string{"server", "--id", procs[i].id,
			"--data", filepath.Join(dir, "d1") + "," + filepath.Join(dir, "d2"),
			"--s3-addr", procs[i].s3,
			"--rpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
			"--gossip-addr", procs[i].gossip,
			"--bootstrap-expect", fmt.Sprint(n), "--ec", ec, "--pg-count", "64",
			"--cluster-key-file", keyFile}
		procs[i].env = []string{"STRATA_ROOT_ACCESS_KEY=" + rootAK, "STRATA_ROOT_SECRET_KEY=" + rootSK}
	}
	for i, p := range procs {
		var join []string
		for j, q := range procs {
			if j != i {
				join = append(join, q.gossip)
			}
		}
		p.args = append(p.args, "--join", strings.Join(join, ","))
		p.start(t)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill9()
		}
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(p.log)
				t.Logf("--- %s log (last 3000 bytes):\n%s", p.id, tail(b, 3000))
			}
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for _, p := range procs {
		for !p.ready() {
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready after 60 s", p.id)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return procs
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// awsCLI runs the aws CLI against endpoint and returns its output.
func awsCLI(t *testing.T, endpoint string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", "http://" + endpoint}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+rootAK, "AWS_SECRET_ACCESS_KEY="+rootSK,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustAWS(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	out, err := awsCLI(t, endpoint, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func writeRandom(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAWSCLIAgainstFourNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is required (make test installs it): ", err)
	}
	procs := startCluster(t, 4, "2+2")
	ep := procs[0].s3
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.txt"), filepath.Join(dir, "big.bin")
	os.WriteFile(small, []byte("hello strata\n"), 0o644)
	writeRandom(t, big, 7<<20+3)

	mustAWS(t, ep, "s3", "mb", "s3://e2e")
	mustAWS(t, ep, "s3", "cp", small, "s3://e2e/docs/small.txt")
	mustAWS(t, procs[1].s3, "s3", "cp", big, "s3://e2e/data/big.bin")
	out := mustAWS(t, procs[2].s3, "s3", "ls", "s3://e2e/", "--recursive")
	if !strings.Contains(out, "docs/small.txt") || !strings.Contains(out, "data/big.bin") || !strings.Contains(out, fmt.Sprint(7<<20+3)) {
		t.Fatalf("ls:\n%s", out)
	}
	out = mustAWS(t, ep, "s3", "ls")
	if !strings.Contains(out, "e2e") {
		t.Fatalf("ls buckets:\n%s", out)
	}

	// stratactl reads the cluster through the admin API.
	st := clusterStatus(t, ep, rootSK)
	if len(st.Nodes) != 4 || st.Leader == "" || st.EC != "2+2" || st.Buckets != 1 {
		t.Fatalf("cluster status: %+v", st)
	}
	for _, n := range st.Nodes {
		if !n.Alive || len(n.Drives) != 2 || n.Raft == "none" {
			t.Fatalf("node in cluster status: %+v", n)
		}
	}
	if out, err := stratactl(ep, "wrong-secret-key", "cluster", "status"); err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Fatalf("stratactl with a wrong secret: err=%v\n%s", err, out)
	}

	// kill -9 one node: everything still readable and writable.
	procs[3].kill9()
	got := filepath.Join(dir, "got.bin")
	mustAWS(t, procs[1].s3, "s3", "cp", "s3://e2e/data/big.bin", got)
	if fileSum(t, got) != fileSum(t, big) {
		t.Fatal("big.bin differs after kill -9 of n4")
	}
	mustAWS(t, ep, "s3", "cp", "s3://e2e/docs/small.txt", got)
	if b, _ := os.ReadFile(got); !bytes.Equal(b, []byte("hello strata\n")) {
		t.Fatalf("small.txt after kill -9: %q", b)
	}
	mustAWS(t, procs[2].s3, "s3", "cp", big, "s3://e2e/data/while-down.bin")
	mustAWS(t, ep, "s3", "cp", "s3://e2e/data/while-down.bin", got)
	if fileSum(t, got) != fileSum(t, big) {
		t.Fatal("while-down.bin differs")
	}

	// Gossip notices the dead node and the admin API says so.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := clusterStatus(t, ep, rootSK)
		if i := slices.IndexFunc(st.Nodes, func(n adminapi.NodeStatus) bool { return n.ID == procs[3].id }); i >= 0 && !st.Nodes[i].Alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed node still alive in cluster status: %+v", st.Nodes)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The killed node comes back with its identity and data.
	procs[3].start(t)
	deadline = time.Now().Add(60 * time.Second)
	for !procs[3].ready() {
		if time.Now().After(deadline) {
			t.Fatal("n4 not ready after restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustAWS(t, procs[3].s3, "s3", "cp", "s3://e2e/data/big.bin", got)
	if fileSum(t, got) != fileSum(t, big) {
		t.Fatal("big.bin through restarted n4 differs")
	}

	mustAWS(t, ep, "s3", "rm", "s3://e2e/docs/small.txt")
	if _, err := awsCLI(t, ep, "s3", "cp", "s3://e2e/docs/small.txt", got); err == nil {
		t.Fatal("removed object still readable")
	}
	if _, err := awsCLI(t, ep, "s3", "rb", "s3://e2e"); err == nil {
		t.Fatal("rb of a non-empty bucket succeeded")
	}
	mustAWS(t, ep, "s3", "rm", "s3://e2e", "--recursive")
	mustAWS(t, ep, "s3", "rb", "s3://e2e")
	if out := mustAWS(t, ep, "s3", "ls"); strings.Contains(out, "e2e") {
		t.Fatalf("bucket still listed:\n%s", out)
	}
}

// stratactl runs the stratactl binary as the root user against endpoint.
func stratactl(endpoint, secret string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "stratactl"), args...)
	cmd.Env = append(os.Environ(), "STRATA_ENDPOINT=http://"+endpoint,
		"STRATA_ACCESS_KEY="+rootAK, "STRATA_SECRET_KEY="+secret)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func clusterStatus(t *testing.T, endpoint, secret string) adminapi.ClusterStatus {
	t.Helper()
	out, err := stratactl(endpoint, secret, "cluster", "status", "--json")
	if err != nil {
		t.Fatalf("stratactl cluster status: %v\n%s", err, out)
	}
	var st adminapi.ClusterStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("stratactl cluster status --json: %v\n%s", err, out)
	}
	return st
}

// runNode runs strata-node to completion (it must fail) and returns its
// output.
func runNode(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "strata-node"), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("strata-node %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	if ctx.Err() != nil {
		t.Fatalf("strata-node %s did not exit:\n%s", strings.Join(args, " "), out)
	}
	return string(out)
}

func TestStartupErrorsExitWithOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	keyOut, _ := exec.Command(filepath.Join(binDir, "stratactl"), "cluster", "keygen").Output()
	key := "STRATA_CLUSTER_KEY=" + strings.TrimSpace(string(keyOut))
	root := []string{key, "STRATA_ROOT_ACCESS_KEY=" + rootAK, "STRATA_ROOT_SECRET_KEY=" + rootSK}
	addrs := func() []string {
		return []string{"--s3-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--rpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--gossip-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	}
	check := func(name, out, want string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "strata-node: ") || !strings.Contains(last, want) {
			t.Errorf("%s: last line %q, want it to mention %q", name, last, want)
		}
	}

	check("bad flag", runNode(t, root, "server", "--bogus"), "bogus")
	check("no key", runNode(t, nil, "server", "--data", t.TempDir()), "cluster key")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := addrs()
	a[1] = l.Addr().String()
	check("port in use", runNode(t, root, append([]string{"server", "--id", "x", "--data", t.TempDir(), "--bootstrap-expect", "1", "--ec", "1+0"}, a...)...), "address already in use")

	unreadable := filepath.Join(t.TempDir(), "file-not-dir")
	os.WriteFile(unreadable, []byte("x"), 0o644)
	check("unreadable drive", runNode(t, root, append([]string{"server", "--id", "x", "--data", unreadable, "--bootstrap-expect", "1", "--ec", "1+0"}, addrs()...)...), unreadable)

	// A one-node cluster binds its drive; a new node given that drive refuses it.
	dir := t.TempDir()
	oldDrive := filepath.Join(dir, "old")
	p := &proc{id: "solo", log: filepath.Join(dir, "solo.log"), env: root}
	sa := addrs()
	p.s3 = sa[1]
	p.args = append([]string{"server", "--id", "solo", "--data", oldDrive, "--bootstrap-expect", "1", "--ec", "1+0"}, sa...)
	p.start(t)
	deadline := time.Now().Add(30 * time.Second)
	for !p.ready() {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(p.log)
			p.kill9()
			t.Fatalf("solo node not ready:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let it bind the drive
	p.kill9()
	fresh := filepath.Join(dir, "fresh")
	check("foreign drive first", runNode(t, root, append([]string{"server", "--id", "other", "--data", oldDrive + "," + fresh, "--bootstrap-expect", "1", "--ec", "1+0"}, addrs()...)...), "belongs to")
	check("foreign drive second", runNode(t, root, append([]string{"server", "--id", "solo", "--data", fresh + "," + oldDrive, "--bootstrap-expect", "1", "--ec", "1+1"}, addrs()...)...), "belongs to")
}
