package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClusterConfig says how to start a local cluster of strata-node processes.
type ClusterConfig struct {
	Bin       string // folder holding strata-node and stratactl (make build: bin/)
	Dir       string // run folder: one sub-folder per node (drives, log, fsync control file)
	Nodes     int    // node count
	EC        string // data+parity, e.g. "2+2"
	AccessKey string // root keys of the new cluster
	SecretKey string
	// ScanInterval is the nodes' --scan-interval (how soon the scanner
	// repairs a flipped bit); empty: the node's default.
	ScanInterval string
	Logf         func(format string, args ...any)
}

// Node is one strata-node process of a Cluster and its folder.
type Node struct {
	ID     string
	S3     string   // host:port of S3 and the admin API
	Drives []string // drive folders, in --data order
	Dir    string   // the node's folder: drives, node.log, fsync-delay
	Log    string   // node.log: stdout and stderr of every run of the node

	args []string
	env  []string
	bin  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when cmd has exited and been reaped
	paused bool
	exited []string // unexpected exits seen (a crash is a finding)
	killed bool     // the harness killed the current process
}

// FsyncControl is the file the node's drives read before every fsync
// (drive.FsyncDelayEnv): a Go duration in it slows them.
func (n *Node) FsyncControl() string { return filepath.Join(n.Dir, "fsync-delay") }

// Cluster is a set of local strata-node processes on 127.0.0.1.
type Cluster struct {
	Nodes []*Node
	cfg   ClusterConfig
}

// freePort returns a port free for both TCP and UDP on 127.0.0.1 (gossip
// uses both).
func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			u.Close()
			return p, nil
		}
	}
	return 0, errors.New("chaos: no free port")
}

// StartCluster starts cfg.Nodes processes forming one new cluster (every
// node --bootstrap-expect N, joined to all others) and waits until each is
// ready. On error the processes started are stopped.
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	node := filepath.Join(cfg.Bin, "strata-node")
	if _, err := os.Stat(node); err != nil {
		return nil, fmt.Errorf("chaos: %w (run make build, or pass -chaos.bin)", err)
	}
	keygen, err := exec.Command(filepath.Join(cfg.Bin, "stratactl"), "cluster", "keygen").Output()
	if err != nil {
		return nil, fmt.Errorf("chaos: stratactl cluster keygen: %w", err)
	}
	keyFile := filepath.Join(cfg.Dir, "cluster.key")
	if err := os.WriteFile(keyFile, keygen, 0o600); err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg}
	var gossip []string
	for i := range cfg.Nodes {
		ports := make([]int, 3)
		for j := range ports {
			if ports[j], err = freePort(); err != nil {
				return nil, err
			}
		}
		n := &Node{ID: fmt.Sprintf("n%d", i+1), bin: node}
		n.Dir = filepath.Join(cfg.Dir, n.ID)
		n.Log = filepath.Join(n.Dir, "node.log")
		n.Drives = []string{filepath.Join(n.Dir, "d1"), filepath.Join(n.Dir, "d2")}
		n.S3 = fmt.Sprintf("127.0.0.1:%d", ports[0])
		g := fmt.Sprintf("127.0.0.1:%d", ports[2])
		gossip = append(gossip, g)
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return nil, err
		}
		n.args = []string{"server", "--id", n.ID,
			"--data", strings.Join(n.Drives, ","),
			"--s3-addr", n.S3,
			"--rpc-addr", fmt.Sprintf("127.0.0.1:%d", ports[1]),
			"--gossip-addr", g,
			"--bootstrap-expect", fmt.Sprint(cfg.Nodes), "--ec", cfg.EC, "--pg-count", "64",
			"--cluster-key-file", keyFile}
		if cfg.ScanInterval != "" {
			n.args = append(n.args, "--scan-interval", cfg.ScanInterval, "--scan-rate", "512MiB")
		}
		n.env = []string{"STRATA_ROOT_ACCESS_KEY=" + cfg.AccessKey, "STRATA_ROOT_SECRET_KEY=" + cfg.SecretKey,
			"STRATA_TEST_FSYNC_DELAY_FILE=" + n.FsyncControl()}
		c.Nodes = append(c.Nodes, n)
	}
	for i, n := range c.Nodes {
		var join []string
		for j, g := range gossip {
			if j != i {
				join = append(join, g)
			}
		}
		n.args = append(n.args, "--join", strings.Join(join, ","))
		if err := n.Start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	for _, n := range c.Nodes {
		if err := n.WaitReady(ctx, 90*time.Second); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Endpoints returns every node's S3 URL.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, n := range c.Nodes {
		eps = append(eps, "http://"+n.S3)
	}
	return eps
}

// Close kills every node (SIGCONT first for a paused one).
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// Crashes lists the exits of node processes the harness did not cause.
func (c *Cluster) Crashes() []string {
	var out []string
	for _, n := range c.Nodes {
		n.mu.Lock()
		out = append(out, n.exited...)
		n.mu.Unlock()
	}
	return out
}

// Start starts the node's process (again) with its folder, so it rejoins
// with its identity and data. Output is appended to n.Log.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("chaos: %s already running (pid %d)", n.ID, n.cmd.Process.Pid)
	}
	f, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "=== chaos: start %s at %s\n", n.ID, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, n.args...)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	done := make(chan struct{})
	n.cmd, n.done, n.killed, n.paused = cmd, done, false, false
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		if !n.killed {
			n.exited = append(n.exited, fmt.Sprintf("%s (pid %d) exited by itself at %s: %v", n.ID, cmd.Process.Pid, time.Now().Format(time.RFC3339Nano), err))
		}
		if n.cmd == cmd {
			n.cmd = nil
		}
		n.mu.Unlock()
		close(done)
	}()
	return nil
}

// PID returns the running process's id, 0 when none.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Running reports whether the node's process runs (paused counts).
func (n *Node) Running() bool { return n.PID() != 0 }

// Kill sends SIGKILL to the node's process (by its PID) and waits until it
// is reaped. A node not running is left alone.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	if cmd == nil {
		n.mu.Unlock()
		return
	}
	n.killed = true
	n.paused = false
	n.mu.Unlock()
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// Pause stops the process with SIGSTOP.
func (n *Node) Pause() error { return n.signal(syscall.SIGSTOP, true) }

// Resume continues a paused process with SIGCONT.
func (n *Node) Resume() error { return n.signal(syscall.SIGCONT, false) }

func (n *Node) signal(sig syscall.Signal, paused bool) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return fmt.Errorf("chaos: %s not running", n.ID)
	}
	n.paused = paused
	return syscall.Kill(n.cmd.Process.Pid, sig)
}

// Paused reports whether the harness has SIGSTOPped the node.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// Ready reports whether /strata/health/ready answers 200.
func (n *Node) Ready() bool { return endpointReady("http://" + n.S3) }

func endpointReady(endpoint string) bool {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get(endpoint + "/strata/health/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitReady waits up to d until the node is ready.
func (n *Node) WaitReady(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for !n.Ready() {
		if !n.Running() {
			return fmt.Errorf("chaos: %s exited while starting (see %s)", n.ID, n.Log)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("chaos: %s not ready after %s (see %s)", n.ID, d, n.Log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}
