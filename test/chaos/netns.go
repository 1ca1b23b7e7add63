package chaos

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Net is a private network for a cluster's nodes, made with iproute2: one
// network namespace per node, each joined by a veth pair to a bridge in a
// hub namespace, and one more veth from the harness's own namespace to the
// bridge so that the clients reach every node whatever the harness cuts
// between nodes.
//
// A cut is a policy-routing rule in the receiving node's namespace that
// blackholes packets from the sender arriving on its veth (Block): the
// packets vanish without an answer, as on a real network, and only in that
// direction. This needs no iptables or nft, only "ip rule", so that the
// rule runs before the local table the kernel normally consults first, the
// local table's rule is moved from priority 0 to 100 in every node's
// namespace.
//
// Addresses: 198.18.0.0/15 (RFC 2544, for benchmarks: not routed, seldom
// in use), one /24 per Net: the harness is .1, node i is .(10+i).
type Net struct {
	id      string // 4 hex digits: names of namespaces and interfaces
	prefix  string // the /24 without its last octet, e.g. "198.18.7"
	hub     string // the hub namespace (bridge)
	hostIf  string // the harness's veth
	ns      []string
	nodeIfs []string

	mu     sync.Mutex
	blocks map[[2]int]bool // from, to: packets from node "from" dropped at node "to"
}

// netnsPrefix starts the name of every namespace the harness makes, then
// the owner's PID: cleanStaleNets removes those of processes that died.
const netnsPrefix = "schaos-"

// NewNet makes the namespaces of n nodes. It fails (and undoes what it
// made) where the kernel or the user's rights refuse: the caller then runs
// without network faults and says so.
func NewNet(n int) (_ *Net, err error) {
	if _, err := exec.LookPath("ip"); err != nil {
		if _, serr := os.Stat("/usr/sbin/ip"); serr != nil {
			return nil, fmt.Errorf("iproute2's ip not found: %w", err)
		}
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		return nil, fmt.Errorf("nsenter (util-linux) not found: %w", err)
	}
	cleanStaleNets()
	used := usedPrefixes()
	var nt *Net
	for range 64 {
		v := rand.IntN(512)
		id := fmt.Sprintf("%04x", rand.IntN(1<<16))
		prefix := fmt.Sprintf("198.%d.%d", 18+v/256, v%256)
		if used[prefix] {
			continue
		}
		nt = &Net{id: id, prefix: prefix, blocks: map[[2]int]bool{}}
		break
	}
	if nt == nil {
		return nil, errors.New("no free /24 in 198.18.0.0/15")
	}
	base := fmt.Sprintf("%s%d-%s-", netnsPrefix, os.Getpid(), nt.id)
	nt.hub = base + "hub"
	nt.hostIf = "sc" + nt.id + "h"
	defer func() {
		if err != nil {
			nt.Close()
		}
	}()
	steps := [][]string{
		{"netns", "add", nt.hub},
		{"-n", nt.hub, "link", "set", "lo", "up"},
		{"-n", nt.hub, "link", "add", "br0", "type", "bridge"},
		{"-n", nt.hub, "link", "set", "br0", "up"},
		{"link", "add", nt.hostIf, "type", "veth", "peer", "name", "sc" + nt.id + "hp"},
		{"link", "set", "sc" + nt.id + "hp", "netns", nt.hub},
		{"-n", nt.hub, "link", "set", "sc" + nt.id + "hp", "master", "br0", "up"},
		{"addr", "add", nt.prefix + ".1/24", "dev", nt.hostIf},
		{"link", "set", nt.hostIf, "up"},
	}
	for i := range n {
		ns := fmt.Sprintf("%sn%d", base, i+1)
		nif, port := fmt.Sprintf("sc%sn%d", nt.id, i+1), fmt.Sprintf("sc%sp%d", nt.id, i+1)
		nt.ns = append(nt.ns, ns)
		nt.nodeIfs = append(nt.nodeIfs, nif)
		steps = append(steps,
			[]string{"netns", "add", ns},
			[]string{"link", "add", nif, "type", "veth", "peer", "name", port},
			[]string{"link", "set", nif, "netns", ns},
			[]string{"link", "set", port, "netns", nt.hub},
			[]string{"-n", nt.hub, "link", "set", port, "master", "br0", "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"},
			[]string{"-n", ns, "addr", "add", nt.NodeIP(i) + "/24", "dev", nif},
			[]string{"-n", ns, "link", "set", nif, "up"},
			// The local table after our drop rules (see Net).
			[]string{"-n", ns, "rule", "add", "pref", "100", "lookup", "local"},
			[]string{"-n", ns, "rule", "del", "pref", "0"},
		)
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return nil, err
		}
	}
	return nt, nil
}

func ipBin() string {
	if p, err := exec.LookPath("ip"); err == nil {
		return p
	}
	return "/usr/sbin/ip"
}

func ipCmd(args ...string) error {
	out, err := exec.Command(ipBin(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// usedPrefixes lists the 198.18.0.0/15 /24s with an address in the
// harness's namespace (another run's Net, or the machine's own).
func usedPrefixes() map[string]bool {
	used := map[string]bool{}
	out, _ := exec.Command(ipBin(), "-4", "-o", "addr", "show").Output()
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "198.18.") || strings.HasPrefix(f, "198.19.") {
			ip := strings.SplitN(f, "/", 2)[0]
			if i := strings.LastIndexByte(ip, '.'); i > 0 {
				used[ip[:i]] = true
			}
		}
	}
	return used
}

// cleanStaleNets deletes the namespaces of harness runs whose process is
// gone (a run killed by a test timeout cannot clean up), and kills the node
// processes still running in them, by PID.
func cleanStaleNets() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, netnsPrefix) {
			continue
		}
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(name, netnsPrefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		out, _ := exec.Command(ipBin(), "netns", "pids", name).Output()
		for _, f := range strings.Fields(string(out)) {
			if p, err := strconv.Atoi(f); err == nil && p > 1 {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		_ = ipCmd("netns", "del", name)
	}
}

// NodeIP is node i's address (0-based).
func (nt *Net) NodeIP(i int) string { return fmt.Sprintf("%s.%d", nt.prefix, 10+i) }

// Command returns the command line that runs argv in node i's network
// namespace (and nothing else of it: the mount namespace stays the
// harness's, so its mounts are the node's). nsenter execs without forking:
// the PID is the program's.
func (nt *Net) Command(i int, argv ...string) []string {
	return append([]string{"nsenter", "--net=" + filepath.Join("/run/netns", nt.ns[i]), "-F", "--"}, argv...)
}

func (nt *Net) rule(op string, from, to int) error {
	return ipCmd("-n", nt.ns[to], "rule", op, "pref", "10", "from", nt.NodeIP(from), "iif", nt.nodeIfs[to], "blackhole")
}

// Block drops every packet node from sends to node to, silently, on
// arrival: one direction only.
func (nt *Net) Block(from, to int) error {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	if nt.blocks[[2]int{from, to}] {
		return nil
	}
	if err := nt.rule("add", from, to); err != nil {
		return err
	}
	nt.blocks[[2]int{from, to}] = true
	return nil
}

// Blocked lists the cuts in force, as "n1->n2".
func (nt *Net) Blocked() []string {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	var out []string
	for b := range nt.blocks {
		out = append(out, fmt.Sprintf("n%d->n%d", b[0]+1, b[1]+1))
	}
	return out
}

// Heal removes every cut.
func (nt *Net) Heal() error {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	var errs []error
	for b := range nt.blocks {
		if err := nt.rule("del", b[0], b[1]); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(nt.blocks, b)
	}
	return errors.Join(errs...)
}

// Close deletes the namespaces (the veths go with them) and the harness's
// veth. Call it after the nodes have stopped.
func (nt *Net) Close() {
	for _, ns := range nt.ns {
		_ = ipCmd("netns", "del", ns)
	}
	_ = ipCmd("netns", "del", nt.hub)
	_ = ipCmd("link", "del", nt.hostIf) // usually gone with the hub already
}
