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
	"slices"
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
	// Netns runs every node in its own network namespace (NewNet), which
	// the partition fault needs. Where the kernel refuses, the nodes run
	// on 127.0.0.1 and Cluster.NetErr says why.
	Netns bool
	// SmallDrive, when not zero, puts each node's last drive on its own
	// ext4 file system of that many bytes (a loop-mounted image), which
	// the full fault fills. Where that cannot be done, the drive is a
	// plain folder and Cluster.SmallDriveErr says why.
	SmallDrive int64
	Logf       func(format string, args ...any)
}

// Node is one strata-node process of a Cluster and its folder.
type Node struct {
	ID     string
	Index  int      // 0-based position in Cluster.Nodes
	S3     string   // host:port of S3 and the admin API
	Drives []string // drive folders, in --data order
	Dir    string   // the node's folder: drives, node.log, fsync-delay
	Log    string   // node.log: stdout and stderr of every run of the node
	// Mount is the mount point of the small file system holding the last
	// drive (ClusterConfig.SmallDrive), empty when there is none.
	Mount string

	argv []string // the command line, wrappers (nsenter, setpriv) first
	env  []string

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

// Cluster is a set of local strata-node processes, on 127.0.0.1 or each in
// its own network namespace.
type Cluster struct {
	Nodes []*Node
	// Net is the nodes' network when they run in namespaces, else nil and
	// NetErr says why (empty when ClusterConfig.Netns was not asked).
	Net    *Net
	NetErr string
	// SmallDriveErr says why ClusterConfig.SmallDrive could not be done.
	SmallDriveErr string
	// NoDACErr says why the nodes run with root's power to read and write
	// any file (CAP_DAC_OVERRIDE): then a folder made unreadable stays
	// readable to them. Empty when they run without it (setpriv).
	NoDACErr string
	cfg      ClusterConfig
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
// ready. On error the processes started are stopped and what was made for
// them undone.
func StartCluster(ctx context.Context, cfg ClusterConfig) (_ *Cluster, err error) {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
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
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if cfg.Netns {
		nt, nerr := NewNet(cfg.Nodes)
		if nerr != nil {
			c.NetErr = nerr.Error()
			logf("chaos: no network namespaces, nodes run on 127.0.0.1 and the partition fault is off: %v", nerr)
		}
		c.Net = nt
	}
	// Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH a root process obeys
	// file modes, so the unreadable fault (chmod 000) reaches the node.
	var wrap []string
	if p, err := exec.LookPath("setpriv"); err != nil {
		c.NoDACErr = "setpriv (util-linux) not found"
	} else if out, err := exec.Command(p, "--bounding-set=-dac_override,-dac_read_search", "--", "true").CombinedOutput(); err != nil {
		c.NoDACErr = fmt.Sprintf("setpriv --bounding-set: %v: %s", err, strings.TrimSpace(string(out)))
	} else {
		wrap = []string{p, "--bounding-set=-dac_override,-dac_read_search", "--"}
	}
	if c.NoDACErr != "" {
		logf("chaos: nodes keep CAP_DAC_OVERRIDE (%s): the unreadable fault is off", c.NoDACErr)
	}
	var gossip []string
	for i := range cfg.Nodes {
		n := &Node{ID: fmt.Sprintf("n%d", i+1), Index: i}
		n.Dir = filepath.Join(cfg.Dir, n.ID)
		n.Log = filepath.Join(n.Dir, "node.log")
		if err := os.MkdirAll(n.Dir, 0o755); err != nil {
			return nil, err
		}
		last := filepath.Join(n.Dir, "d2")
		if cfg.SmallDrive > 0 && c.SmallDriveErr == "" {
			mnt := filepath.Join(n.Dir, "m2")
			if err := mountSmall(mnt, cfg.SmallDrive); err != nil {
				c.SmallDriveErr = err.Error()
				logf("chaos: no small drive file systems, the full fault is off: %v", err)
			} else {
				n.Mount = mnt
				last = filepath.Join(mnt, "d2")
			}
		}
		n.Drives = []string{filepath.Join(n.Dir, "d1"), last}
		var s3, rpc, g string
		if c.Net != nil {
			ip := c.Net.NodeIP(i)
			s3, rpc, g = ip+":9000", ip+":9100", ip+":9101"
		} else {
			ports := make([]int, 3)
			for j := range ports {
				if ports[j], err = freePort(); err != nil {
					return nil, err
				}
			}
			s3 = fmt.Sprintf("127.0.0.1:%d", ports[0])
			rpc = fmt.Sprintf("127.0.0.1:%d", ports[1])
			g = fmt.Sprintf("127.0.0.1:%d", ports[2])
		}
		n.S3 = s3
		gossip = append(gossip, g)
		args := []string{node, "server", "--id", n.ID,
			"--data", strings.Join(n.Drives, ","),
			"--s3-addr", s3, "--rpc-addr", rpc, "--gossip-addr", g,
			"--bootstrap-expect", fmt.Sprint(cfg.Nodes), "--ec", cfg.EC, "--pg-count", "64",
			"--cluster-key-file", keyFile}
		if c.Net != nil {
			args = append(args, "--advertise", c.Net.NodeIP(i))
		}
		if cfg.ScanInterval != "" {
			args = append(args, "--scan-interval", cfg.ScanInterval, "--scan-rate", "512MiB")
		}
		n.argv = append(slices.Clone(wrap), args...)
		if c.Net != nil {
			n.argv = c.Net.Command(i, n.argv...)
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
		n.argv = append(n.argv, "--join", strings.Join(join, ","))
		if err := n.Start(); err != nil {
			return nil, err
		}
	}
	for _, n := range c.Nodes {
		if err := n.WaitReady(ctx, 90*time.Second); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// mountSmall makes an ext4 file system of size bytes in an image file next
// to mnt (no reserved blocks: root fills it too) and loop-mounts it on mnt.
func mountSmall(mnt string, size int64) error {
	img := mnt + ".img"
	f, err := os.Create(img)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	f.Close()
	if err != nil {
		return err
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-m", "0", img).CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4 %s: %v: %s", img, err, strings.TrimSpace(string(out)))
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		return fmt.Errorf("mount -o loop %s (needs root and loop devices): %v: %s", img, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Endpoints returns every node's S3 URL.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, n := range c.Nodes {
		eps = append(eps, "http://"+n.S3)
	}
	return eps
}

// Close kills every node, then removes the network namespaces and
// unmounts the small drives.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Kill()
	}
	if c.Net != nil {
		c.Net.Close()
	}
	for _, n := range c.Nodes {
		if n.Mount != "" {
			// The loop device goes with the mount (mount -o loop sets
			// autoclear); -l: a file still open somewhere does not block it.
			_ = exec.Command("umount", "-l", n.Mount).Run()
		}
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
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
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
