package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-io/strata/internal/tlstest"
)

// tlsNode is a node process with HTTPS on its S3 port and mutual TLS on rpc;
// its S3 certificate lives in files the test may replace.
type tlsNode struct {
	*proc
	s3Cert, s3Key string
}

// startTLSNodes runs n node processes that form one cluster with TLS
// everywhere, certificates of ca; extra are further flags.
func startTLSNodes(t *testing.T, ca *tlstest.CA, keyFile string, n int, extra ...string) []*tlsNode {
	t.Helper()
	nodes := make([]*tlsNode, n)
	for i := range nodes {
		dir := t.TempDir()
		id := fmt.Sprintf("n%d", i+1)
		p := &proc{
			id:     id,
			log:    filepath.Join(dir, "node.log"),
			s3:     fmt.Sprintf("127.0.0.1:%d", freePort(t)),
			gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		}
		s3Pair, rpcPair := ca.Issue(id+"-s3"), ca.Issue(id+"-rpc")
		tn := &tlsNode{proc: p, s3Cert: filepath.Join(dir, "s3.pem"), s3Key: filepath.Join(dir, "s3-key.pem")}
		s3Pair.CopyTo(t, tn.s3Cert, tn.s3Key)
		p.args = append([]string{"server", "--id", id,
			"--data", filepath.Join(dir, "d1") + "," + filepath.Join(dir, "d2"),
			"--s3-addr", p.s3,
			"--rpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
			"--gossip-addr", p.gossip,
			"--pg-count", "64", "--cluster-key-file", keyFile,
			"--tls-cert", tn.s3Cert, "--tls-key", tn.s3Key,
			"--rpc-tls-cert", rpcPair.CertFile, "--rpc-tls-key", rpcPair.KeyFile, "--rpc-tls-ca", ca.File,
		}, extra...)
		p.env = []string{"STRATA_ROOT_ACCESS_KEY=" + rootAK, "STRATA_ROOT_SECRET_KEY=" + rootSK}
		nodes[i] = tn
	}
	for i, tn := range nodes {
		var peers []string
		for j, q := range nodes {
			if j != i {
				peers = append(peers, q.gossip)
			}
		}
		tn.args = append(tn.args, "--join", strings.Join(peers, ","))
		tn.start(t)
	}
	t.Cleanup(func() {
		for _, tn := range nodes {
			tn.kill9()
		}
		if t.Failed() {
			for _, tn := range nodes {
				b, _ := os.ReadFile(tn.log)
				t.Logf("--- %s log (last 3000 bytes):\n%s", tn.id, tail(b, 3000))
			}
		}
	})
	return nodes
}

// readyTLS reports whether the node answers ready over HTTPS.
func readyTLS(ca *tlstest.CA, addr string) bool {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}, Timeout: 2 * time.Second}
	resp, err := hc.Get("https://" + addr + "/strata/health/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// servedSerial returns the serial number of the certificate addr serves.
func servedSerial(t *testing.T, ca *tlstest.CA, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, ca.ClientConfig())
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// awsTLS runs the aws CLI against https://addr trusting caFile.
func awsTLS(t *testing.T, caFile, addr string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", "https://" + addr, "--ca-bundle", caFile}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+rootAK, "AWS_SECRET_ACCESS_KEY="+rootSK,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitLog waits until the log of one of procs contains want.
func waitLog(t *testing.T, want string, timeout time.Duration, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, p := range procs {
			if b, _ := os.ReadFile(p.log); strings.Contains(string(b), want) {
				return
			}
		}
		if time.Now().After(deadline) {
			for _, p := range procs {
				b, _ := os.ReadFile(p.log)
				t.Logf("--- %s log:\n%s", p.id, tail(b, 3000))
			}
			t.Fatalf("no %q in the logs after %v", want, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTLSCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is required (make test installs it): ", err)
	}
	ca := tlstest.NewCA(t, "strata e2e CA")
	keyOut, err := exec.Command(filepath.Join(binDir, "stratactl"), "cluster", "keygen").Output()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "cluster.key")
	os.WriteFile(keyFile, keyOut, 0o600)

	nodes := startTLSNodes(t, ca, keyFile, 3, "--bootstrap-expect", "3", "--ec", "2+1")
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range nodes {
		for !readyTLS(ca, n.s3) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready over HTTPS after 60 s", n.id)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The aws CLI over HTTPS, trusting the cluster's CA; the big file is
	// striped over all three nodes through TLS rpc.
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.txt"), filepath.Join(dir, "big.bin")
	os.WriteFile(small, []byte("hello over tls\n"), 0o644)
	writeRandom(t, big, 9<<20+5)
	awsTLS(t, ca.File, nodes[0].s3, "s3", "mb", "s3://tls")
	awsTLS(t, ca.File, nodes[0].s3, "s3", "cp", small, "s3://tls/small.txt")
	awsTLS(t, ca.File, nodes[1].s3, "s3", "cp", big, "s3://tls/big.bin")
	out := awsTLS(t, ca.File, nodes[2].s3, "s3", "ls", "s3://tls/")
	if !strings.Contains(out, "small.txt") || !strings.Contains(out, fmt.Sprint(9<<20+5)) {
		t.Fatalf("ls over TLS:\n%s", out)
	}
	back := filepath.Join(dir, "back.bin")
	awsTLS(t, ca.File, nodes[2].s3, "s3", "cp", "s3://tls/big.bin", back)
	if fileSum(t, back) != fileSum(t, big) {
		t.Fatal("big.bin read back over TLS differs")
	}
	// stratactl trusts the CA through SSL_CERT_FILE (Go's root store).
	ctl := exec.Command(filepath.Join(binDir, "stratactl"), "cluster", "status", "--json")
	ctl.Env = append(os.Environ(), "STRATA_ENDPOINT=https://"+nodes[1].s3, "STRATA_ACCESS_KEY="+rootAK,
		"STRATA_SECRET_KEY="+rootSK, "SSL_CERT_FILE="+ca.File)
	if b, err := ctl.CombinedOutput(); err != nil || !strings.Contains(string(b), `"leader"`) {
		t.Fatalf("stratactl cluster status over HTTPS: %v\n%s", err, b)
	}

	// Without the CA the CLI refuses the server.
	cmd := exec.Command("aws", "--endpoint-url", "https://"+nodes[0].s3, "s3", "ls")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") { // even empty, it turns verification off
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+rootAK, "AWS_SECRET_ACCESS_KEY="+rootSK,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "CERTIFICATE_VERIFY_FAILED") {
		t.Fatalf("aws CLI without the CA: err=%v\n%s", err, b)
	}

	// SIGHUP reloads a renewed certificate; a bad pair is logged and the
	// good one keeps serving.
	n := nodes[0]
	before := servedSerial(t, ca, n.s3)
	renewed := ca.Issue("n1-s3-renewed")
	renewed.CopyTo(t, n.s3Cert, n.s3Key)
	if got := servedSerial(t, ca, n.s3); got != before {
		t.Fatalf("certificate changed before SIGHUP: %s -> %s", before, got)
	}
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	want := renewed.Cert.SerialNumber.String()
	for deadline := time.Now().Add(10 * time.Second); servedSerial(t, ca, n.s3) != want; {
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP %s still serves serial %s, want %s", n.id, servedSerial(t, ca, n.s3), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.WriteFile(n.s3Key, []byte("not a key"), 0o600)
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, "keeping the previous S3 TLS certificate", 10*time.Second, n.proc)
	if got := servedSerial(t, ca, n.s3); got != want {
		t.Fatalf("after a bad reload serial %s, want %s", got, want)
	}
	awsTLS(t, ca.File, n.s3, "s3", "ls", "s3://tls/")

	// A node without rpc TLS cannot join: both sides log why, nobody hangs.
	plainDir := t.TempDir()
	plain := &proc{id: "plain", log: filepath.Join(plainDir, "node.log"),
		s3: fmt.Sprintf("127.0.0.1:%d", freePort(t)), gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	plain.args = []string{"server", "--id", "plain", "--data", filepath.Join(plainDir, "d1"),
		"--s3-addr", plain.s3, "--rpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--gossip-addr", plain.gossip,
		"--cluster-key-file", keyFile, "--join", nodes[0].gossip + "," + nodes[1].gossip}
	plain.start(t)
	t.Cleanup(plain.kill9)
	// The plain node's rpc server sees the leader dial it with TLS.
	waitLog(t, "the peer dialled with TLS but this node has none", 30*time.Second, plain)
	waitLog(t, "TLS on one side only", 30*time.Second, nodes[0].proc, nodes[1].proc, nodes[2].proc)
	if plain.ready() {
		t.Fatal("a node without rpc TLS became ready in a TLS cluster")
	}

	// A missing key file stops a node at start with one line.
	root := []string{"STRATA_ROOT_ACCESS_KEY=" + rootAK, "STRATA_ROOT_SECRET_KEY=" + rootSK}
	cert := ca.Issue("lonely")
	missing := filepath.Join(t.TempDir(), "missing-key.pem")
	base := []string{"server", "--id", "x", "--data", t.TempDir(), "--bootstrap-expect", "1", "--ec", "1+0",
		"--cluster-key-file", keyFile,
		"--s3-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--rpc-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--gossip-addr", fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	for name, c := range map[string]struct {
		args []string
		want []string
	}{
		"s3 key missing":  {[]string{"--tls-cert", cert.CertFile, "--tls-key", missing}, []string{"--tls-cert/--tls-key", missing, "no such file"}},
		"rpc key missing": {[]string{"--rpc-tls-cert", cert.CertFile, "--rpc-tls-key", missing, "--rpc-tls-ca", ca.File}, []string{"--rpc-tls-", missing, "no such file"}},
		"s3 key mismatch": {[]string{"--tls-cert", cert.CertFile, "--tls-key", renewed.KeyFile}, []string{"--tls-cert/--tls-key", "does not match"}},
		"no key at all":   {[]string{"--tls-cert", cert.CertFile}, []string{"--tls-cert and --tls-key go together"}},
	} {
		out := runNode(t, root, append(append([]string(nil), base...), c.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "strata-node: ") {
			t.Errorf("%s: want a last line starting strata-node:, got:\n%s", name, out)
		}
		for _, w := range c.want {
			if !strings.Contains(last, w) {
				t.Errorf("%s: %q does not mention %q", name, last, w)
			}
		}
	}
}
