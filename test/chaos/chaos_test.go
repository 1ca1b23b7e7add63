package chaos

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	flagFull      = flag.Bool("chaos.full", false, "run every scenario at full length (make chaos)")
	flagEndpoints = flag.String("chaos.endpoints", "", "comma-separated S3 URLs of an existing deployment (keys: STRATA_ACCESS_KEY, STRATA_SECRET_KEY); process and drive faults are then off")
	flagFaults    = flag.String("chaos.faults", "", "comma-separated faults to inject (default: all): "+strings.Join(AllFaults, ","))
	flagDuration  = flag.Duration("chaos.duration", 0, "workload length of each scenario (default: smoke 80s, full 150s)")
	flagClients   = flag.Int("chaos.clients", 0, "concurrent clients (default 4)")
	flagBin       = flag.String("chaos.bin", "", "folder with strata-node and stratactl (default: built from this tree)")
	flagOut       = flag.String("chaos.out", "", "folder that keeps run folders (default: a temporary folder; kept when a run fails)")
)

const (
	rootAK = "CHAOSROOTACCESSKEY"
	rootSK = "chaos-root-secret-key-0123456789"
)

var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() || *flagEndpoints != "" || *flagBin != "" {
		binDir = *flagBin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "strata-chaos-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for name, pkg := range map[string]string{"strata-node": "../../cmd/node", "stratactl": "../../cmd/ctl"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", name, err, out)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

// seed reads CHAOS_SEED, else draws one; it is printed so a run replays.
func seed(t *testing.T) uint64 {
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
		return v
	}
	return rand.Uint64() >> 1
}

func faults(t *testing.T, def []string) []string {
	if *flagFaults == "" {
		return def
	}
	var out []string
	for _, f := range strings.Split(*flagFaults, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		known := false
		for _, k := range AllFaults {
			known = known || k == f
		}
		if !known {
			t.Fatalf("-chaos.faults: unknown fault %q (known: %s)", f, strings.Join(AllFaults, ","))
		}
		out = append(out, f)
	}
	return out
}

// runFolder makes the run's folder: under -chaos.out, else a temporary one
// that is removed when the run passed and kept (and printed) when it failed.
func runFolder(t *testing.T, name string, seed uint64) string {
	base := *flagOut
	if base == "" {
		base = os.TempDir()
	}
	base, err := filepath.Abs(base) // drive paths are compared with the nodes' own
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, fmt.Sprintf("strata-chaos-%s-%d-%s", name, seed, time.Now().Format("150405")))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *flagOut != "" {
			t.Logf("run folder kept: %s (node logs, history.jsonl, faults.log, report.json)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// scenario is one chaos run on a new local cluster.
type scenario struct {
	name    string
	nodes   int
	ec      string
	parity  int
	faults  []string
	dur     time.Duration
	maxSize int64
	// netns runs the nodes in network namespaces (the partition fault);
	// small puts each node's last drive on a small file system (the full
	// fault).
	netns, small bool
}

// run runs the scenario and fails the test on a broken guarantee.
func (sc scenario) run(t *testing.T) {
	s := seed(t)
	t.Logf("chaos %s: CHAOS_SEED=%d", sc.name, s)
	dir := runFolder(t, sc.name, s)
	ctx := context.Background()
	cfg := ClusterConfig{Bin: binDir, Dir: dir, Nodes: sc.nodes, EC: sc.ec,
		AccessKey: rootAK, SecretKey: rootSK, ScanInterval: "10s", Netns: sc.netns, Logf: t.Logf}
	if sc.small {
		cfg.SmallDrive = 256 << 20
	}
	c, err := StartCluster(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	dur := sc.dur
	if *flagDuration > 0 {
		dur = *flagDuration
	}
	clients := 4
	if *flagClients > 0 {
		clients = *flagClients
	}
	rep, err := Run(ctx, Config{Name: sc.name, Seed: s, Dir: dir, Cluster: c, Parity: sc.parity,
		Duration: dur, Faults: faults(t, sc.faults), Converge: 2 * time.Minute, Logf: t.Logf,
		Workload: Workload{Seed: s, Endpoints: c.Endpoints(), AccessKey: rootAK, SecretKey: rootSK,
			Clients: clients, Buckets: []string{"chaos-a", "chaos-b"}, Keys: 16, MaxSize: sc.maxSize,
			OpTimeout: 30 * time.Second, Metadata: true, Prefix: "chaos-", Cold: 12}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	for f, why := range rep.Skipped {
		t.Logf("SKIPPED fault %s in %s: %s", f, sc.name, why)
	}
	if rep.Failed() {
		t.Errorf("chaos %s broke a guarantee: replay with CHAOS_SEED=%d (run folder %s)", sc.name, s, dir)
	}
	if rep.Acknowledged == 0 {
		t.Error("no operation was acknowledged: the workload did not run")
	}
}

// TestChaosSmoke is the make test smoke: 4 nodes EC 2+2 in network
// namespaces, faults of every kind in a seeded order while 4 clients run
// for 80 s, then the checks.
func TestChaosSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs node processes")
	}
	if *flagFull || *flagEndpoints != "" {
		t.Skip("-chaos.full / -chaos.endpoints run the other entry points")
	}
	faults := AllFaults
	scenario{name: "smoke", nodes: 4, ec: "2+2", parity: 2, faults: faults, dur: 80 * time.Second,
		maxSize: 12 << 20, netns: true, small: true}.run(t)
}

// TestChaosFull runs every scenario at length (make chaos): a 4-node EC 2+2
// cluster in network namespaces under every fault with objects up to 32 MiB,
// then a 5-node 3+2 one under node and network faults, then a 6-node 4+2
// one on loopback under drive faults.
func TestChaosFull(t *testing.T) {
	if !*flagFull || *flagEndpoints != "" {
		t.Skip("make chaos (-chaos.full) runs it")
	}
	dur := 150 * time.Second
	for _, sc := range []scenario{
		{name: "all-4n", nodes: 4, ec: "2+2", parity: 2, faults: AllFaults, dur: dur, maxSize: 32 << 20, netns: true, small: true},
		{name: "nodes-5n", nodes: 5, ec: "3+2", parity: 2, faults: NodeFaults, dur: dur, maxSize: 32 << 20, netns: true},
		{name: "drives-6n", nodes: 6, ec: "4+2", parity: 2, faults: DriveFaults, dur: dur, maxSize: 32 << 20, small: true},
	} {
		t.Run(fmt.Sprintf("%s-%s", sc.name, sc.ec), sc.run)
	}
}

// TestChaosEndpoints runs the workload and the checks against an existing
// deployment (-chaos.endpoints). It injects no process or drive fault: the
// harness has no PIDs there; run the faults of your own choosing meanwhile.
func TestChaosEndpoints(t *testing.T) {
	if *flagEndpoints == "" {
		t.Skip("-chaos.endpoints names a deployment to test")
	}
	ak, sk := os.Getenv("STRATA_ACCESS_KEY"), os.Getenv("STRATA_SECRET_KEY")
	if ak == "" || sk == "" {
		t.Fatal("-chaos.endpoints needs STRATA_ACCESS_KEY and STRATA_SECRET_KEY")
	}
	s := seed(t)
	t.Logf("chaos endpoints: CHAOS_SEED=%d", s)
	dir := runFolder(t, "endpoints", s)
	dur := 2 * time.Minute
	if *flagDuration > 0 {
		dur = *flagDuration
	}
	clients := 4
	if *flagClients > 0 {
		clients = *flagClients
	}
	prefix := fmt.Sprintf("chaos-%d-", s%100000)
	rep, err := Run(context.Background(), Config{Name: "endpoints", Seed: s, Dir: dir, Duration: dur, Converge: 2 * time.Minute, Logf: t.Logf,
		Workload: Workload{Seed: s, Endpoints: strings.Split(*flagEndpoints, ","), AccessKey: ak, SecretKey: sk,
			Clients: clients, Buckets: []string{prefix + "a", prefix + "b"}, Keys: 16, MaxSize: 32 << 20,
			OpTimeout: 30 * time.Second, Metadata: true, Prefix: prefix}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Failed() {
		t.Errorf("chaos against %s broke a guarantee: replay with CHAOS_SEED=%d (run folder %s)", *flagEndpoints, s, dir)
	}
}
