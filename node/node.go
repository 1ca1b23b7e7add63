package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/strata-io/strata/audit"
	"github.com/strata-io/strata/cluster"
	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/ilm"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/metrics"
	"github.com/strata-io/strata/quota"
	"github.com/strata-io/strata/raftfsm"
	"github.com/strata-io/strata/rpc"
	"github.com/strata-io/strata/s3api"
)

// Node is one running Strata node.
type Node struct {
	cfg Config
	log *slog.Logger

	drives []*drive.Drive
	tr     *rpc.Transport
	raft   *raftfsm.Store
	data   *dataplane.Store
	s3     *s3api.Server
	gossip *cluster.Cluster

	quota   *quota.Accountant // usage accounting and quota checks
	ilm     *ilm.Scanner      // lifecycle rules executed on the keys this node owns
	audit   *audit.Logger     // audit events to webhooks and --audit-file (observe.go)
	metrics *metrics.Registry // served at /strata/metrics

	rpcAddr string // advertised
	s3Addr  string // advertised

	// The web console's own listener (Config.ConsoleAddr); nil when it is
	// served on the S3 port or off.
	consoleSrv *http.Server
	consoleLn  net.Listener

	replaced []string // ids of drives formatted anew in place of failed ones: refilled by Run

	closeOnce sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	fatal     chan error
}

// derivedKey derives a purpose-bound key from the cluster key, so that the
// gossip, rpc and sealing keys are independent.
func derivedKey(clusterKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, clusterKey)
	m.Write([]byte("strata/" + purpose + "/v1"))
	return m.Sum(nil)
}

// New builds a node in dependency order: drives, rpc, Raft, data plane, S3,
// gossip. Nothing serves until Run. On error everything opened is closed.
func New(ctx context.Context, cfg Config, log *slog.Logger) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("node", cfg.ID)
	k, m, _ := ParseEC(cfg.EC)
	n := &Node{cfg: cfg, log: log, fatal: make(chan error, 1)}
	defer func() {
		if err != nil {
			n.closeAll()
		}
	}()

	if err := n.openDrives(); err != nil {
		return nil, err
	}
	raftDir := filepath.Join(cfg.Data[0], "raft")
	hasRaftState := fileExists(filepath.Join(raftDir, "raft.db"))
	if bound := n.drives[0].Format().ClusterID; bound != "" && !hasRaftState {
		return nil, fmt.Errorf("drive %s belongs to cluster %s but this node has no Raft state in %s: refusing to use it", n.drives[0].Path(), bound, raftDir)
	}
	var root *meta.User
	if !hasRaftState && cfg.BootstrapExpect > 0 {
		if cfg.RootAccessKey == "" || cfg.RootSecretKey == "" {
			return nil, errors.New("STRATA_ROOT_ACCESS_KEY and STRATA_ROOT_SECRET_KEY must be set to bootstrap a new cluster")
		}
		if len(cfg.RootSecretKey) < 8 {
			return nil, errors.New("STRATA_ROOT_SECRET_KEY must be at least 8 characters")
		}
		sealed, err := iam.Seal(derivedKey(cfg.ClusterKey, "seal"), string(cfg.RootSecretKey))
		if err != nil {
			return nil, err
		}
		root = &meta.User{AccessKey: cfg.RootAccessKey, SecretSealed: sealed, Name: "root", Root: true}
	}

	advertise, err := advertiseHost(cfg.Advertise, cfg.RPCAddr)
	if err != nil {
		return nil, err
	}
	rcfg := rpc.DefaultConfig()
	rcfg.Addr = cfg.RPCAddr
	rcfg.ClusterKey = derivedKey(cfg.ClusterKey, "rpc")
	rcfg.TLS = cfg.rpcTLS()
	if n.tr, err = rpc.New(rcfg, log); err != nil {
		if errors.Is(err, rpc.ErrTLSConfig) {
			return nil, fmt.Errorf("--rpc-tls-cert/--rpc-tls-key/--rpc-tls-ca: %w", err)
		}
		return nil, fmt.Errorf("--rpc-addr %s: %w", cfg.RPCAddr, err)
	}
	n.rpcAddr = joinPort(advertise, n.tr.Addr())
	n.tr.Handle(methodNodeStatus, n.handleNodeStatus)

	fcfg := raftfsm.DefaultConfig()
	fcfg.NodeID = cfg.ID
	fcfg.Dir = raftDir
	fcfg.Advertise = n.rpcAddr
	fcfg.BootstrapExpect = cfg.BootstrapExpect
	fcfg.Voters = cfg.Voters
	if cfg.VoterGrace > 0 {
		fcfg.VoterGrace = cfg.VoterGrace
	}
	fcfg.Cluster = meta.Cluster{K: k, M: m, PGCount: cfg.PGCount, BlockSize: cfg.BlockSize, InlineMax: cfg.InlineMax}
	fcfg.Root = root
	fcfg.NewID = uuid.NewString
	fcfg.Now = time.Now
	fcfg.HCLogger = hcLogger(log.With("component", "raft"))
	// The registry's sources read the components at scrape time; it exists
	// before them so that they can report into it from the start.
	n.metrics = n.newMetrics()
	fcfg.OnApply = n.metrics.ObserveRaftApply
	if n.raft, err = raftfsm.New(fcfg, n.tr, log); err != nil {
		return nil, err
	}

	if n.data, err = dataplane.New(dataplane.Config{NodeID: cfg.ID, Alive: n.alive, Down: n.down,
		HealRate: mibPerSec(cfg.HealRate), ScanRate: mibPerSec(cfg.ScanRate), ScanInterval: cfg.ScanInterval,
		Propose: n.raft.Propose, RebalanceRate: mibPerSec(cfg.RebalanceRate), OnDriveOp: n.metrics.ObserveDriveOp}, n.drives, n.raft, n.tr, log); err != nil {
		return nil, err
	}
	for _, id := range n.replaced {
		_ = n.data.Refill(id) // a local drive: cannot fail; runs in Run
	}

	if n.quota, err = quota.New(quota.Config{NodeID: cfg.ID, FlushInterval: cfg.QuotaFlushInterval,
		RecountInterval: cfg.QuotaRecountInterval, Alive: n.alive}, n.raft, n.data, log); err != nil {
		return nil, err
	}

	if n.ilm, err = ilm.New(ilm.Config{NodeID: cfg.ID, Interval: cfg.ILMInterval, Rate: cfg.ILMRate, Now: cfg.ILMNow,
		StateFile: filepath.Join(cfg.Data[0], "ilm.json")}, n.data, n.raft, n.quota, log); err != nil {
		return nil, err
	}

	sealKey := derivedKey(cfg.ClusterKey, "seal")
	if n.audit, err = n.newAudit(sealKey); err != nil {
		return nil, fmt.Errorf("--audit-file: %w", err)
	}
	scfg := s3api.Config{Addr: cfg.S3Addr, Region: cfg.Region, Domains: cfg.Domains, TLSCertFile: cfg.TLSCert, TLSKeyFile: cfg.TLSKey, Now: cfg.Now,
		MetricsToken: string(cfg.MetricsToken), MetricsPublic: cfg.MetricsPublic}
	n.s3, err = s3api.New(scfg, s3api.Deps{
		Control:     n.raft,
		Objects:     n.data,
		Unseal:      func(sealed []byte) (string, error) { return iam.Unseal(sealKey, sealed) },
		Seal:        func(secret string) ([]byte, error) { return iam.Seal(sealKey, secret) },
		Unavailable: unavailable,
		Admin:       n,
		Quota:       n.quota,
		STSKey:      derivedKey(cfg.ClusterKey, "sts"),
		Observe:     n.observe,
		Metrics:     n.writeMetrics,
	}, log)
	if err != nil {
		if errors.Is(err, s3api.ErrTLSConfig) {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return nil, fmt.Errorf("--s3-addr %s: %w", cfg.S3Addr, err)
	}
	n.s3Addr = joinPort(advertise, n.s3.Addr())
	if err := n.newConsole(); err != nil {
		return nil, err
	}

	ids := make([]string, len(n.drives))
	for i, d := range n.drives {
		ids[i] = d.ID()
	}
	n.gossip, err = cluster.New(cluster.Config{
		NodeID:    cfg.ID,
		BindAddr:  cfg.GossipAddr,
		Advertise: advertise,
		Key:       derivedKey(cfg.ClusterKey, "gossip"),
		Meta:      cluster.Meta{RPCAddr: n.rpcAddr, S3Addr: n.s3Addr, Drives: ids, Version: BuildVersion()},
		Fast:      cfg.FastGossip,
		Logger:    stdLogger(log.With("component", "memberlist")),
	}, log)
	if err != nil {
		return nil, fmt.Errorf("--gossip-addr %s: %w", cfg.GossipAddr, err)
	}
	return n, nil
}

// openDrives opens every --data folder and checks they belong together: one
// cluster (or none yet) and this node.
func (n *Node) openDrives() error {
	known, copies, err := readDriveMaps(n.cfg.Data)
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for _, dir := range n.cfg.Data {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("drive %s: %w", dir, err)
		}
		// An empty folder where a drive was keeps that drive's id.
		d, err := drive.Open(dir, drive.Options{Logger: n.log.With("component", "drive", "drive", dir), FormatID: known[abs]})
		if err != nil {
			return fmt.Errorf("drive %s: %w", dir, err)
		}
		n.drives = append(n.drives, d)
		seen[abs] = d.ID()
		if d.Formatted() && known[abs] != "" {
			n.log.Warn("empty drive in place of a known one: keeping its id, it will be refilled", "drive", dir, "drive_id", d.ID())
			n.replaced = append(n.replaced, d.ID())
		}
	}
	for i, dir := range n.cfg.Data {
		if err := writeDriveMap(driveMapPath(dir), copies[i], seen); err != nil {
			return err
		}
	}
	var cluster, first string
	for _, d := range n.drives {
		f := d.Format()
		if f.NodeID != "" && f.NodeID != n.cfg.ID {
			return fmt.Errorf("drive %s belongs to node %q, not %q (use --id %s, or a fresh folder)", d.Path(), f.NodeID, n.cfg.ID, f.NodeID)
		}
		if f.ClusterID == "" {
			continue
		}
		if cluster != "" && f.ClusterID != cluster {
			return fmt.Errorf("drive %s belongs to cluster %s but drive %s to cluster %s", d.Path(), f.ClusterID, first, cluster)
		}
		cluster, first = f.ClusterID, d.Path()
	}
	return nil
}

// Run starts serving and blocks until ctx is done or a fatal error occurs
// (for example a drive that belongs to another cluster).
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	n.cancel = cancel
	defer cancel()
	if n.cfg.PprofAddr != "" {
		if err := n.servePprof(ctx, n.cfg.PprofAddr); err != nil {
			return err
		}
	}
	n.tr.Start()
	n.wg.Add(4)
	go func() {
		defer n.wg.Done()
		if err := n.s3.Serve(); err != nil && ctx.Err() == nil {
			n.fail(fmt.Errorf("s3 server: %w", err))
		}
	}()
	go func() { defer n.wg.Done(); n.joinLoop(ctx) }()
	events := make(chan raftfsm.MemberEvent, 64)
	go func() { defer n.wg.Done(); n.forwardEvents(ctx, events) }()
	go func() { defer n.wg.Done(); n.bindDrives(ctx) }()
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.raft.Run(ctx, n.members, events) }()
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.data.Run(ctx) }()
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.quota.Run(ctx) }()
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.ilm.Run(ctx) }()
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.serveConsole(ctx) }()
	n.log.Info("node started", "s3", n.s3Addr, "s3_tls", n.s3.TLS(), "console", n.consoleWhere(), "rpc", n.rpcAddr, "rpc_tls", n.cfg.rpcTLS().Enabled(), "gossip", n.gossip.LocalAddr(), "drives", len(n.drives))
	select {
	case <-ctx.Done():
		return nil
	case err := <-n.fatal:
		return err
	}
}

func (n *Node) fail(err error) {
	select {
	case n.fatal <- err:
	default:
	}
}

// joinLoop contacts the --join addresses until one answers.
func (n *Node) joinLoop(ctx context.Context) {
	if len(n.cfg.Join) == 0 {
		return
	}
	backoff := 200 * time.Millisecond
	for {
		_, err := n.gossip.Join(n.cfg.Join)
		if err == nil {
			return
		}
		n.log.Debug("join failed, retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// members adapts the gossip view for raftfsm.
func (n *Node) members() []raftfsm.Member {
	ms := n.gossip.Members()
	out := make([]raftfsm.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, toRaftMember(m))
	}
	return out
}

func toRaftMember(m cluster.Member) raftfsm.Member {
	drives := make([]meta.Drive, len(m.Meta.Drives))
	for i, id := range m.Meta.Drives {
		drives[i] = meta.Drive{ID: id, NodeID: m.ID, State: meta.StateUp}
	}
	return raftfsm.Member{ID: m.ID, RPCAddr: m.Meta.RPCAddr, S3Addr: m.Meta.S3Addr, Drives: drives}
}

func (n *Node) forwardEvents(ctx context.Context, out chan<- raftfsm.MemberEvent) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-n.gossip.Events():
			var t raftfsm.EventType
			switch ev.Type {
			case cluster.EventJoin:
				t = raftfsm.EventJoin
			case cluster.EventUpdate:
				t = raftfsm.EventUpdate
			case cluster.EventLeave:
				t = raftfsm.EventLeave
			default:
				continue
			}
			select {
			case out <- raftfsm.MemberEvent{Type: t, Member: toRaftMember(ev.Member)}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// bindDrives records the cluster id in every drive's format once the cluster
// has one; a drive of another cluster stops the node.
func (n *Node) bindDrives(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		var id string
		n.raft.View(func(s *meta.State) { id = s.Cluster.ID })
		if id != "" {
			for _, d := range n.drives {
				if err := d.Bind(id, n.cfg.ID); err != nil {
					n.fail(fmt.Errorf("drive %s: %w", d.Path(), err))
					return
				}
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops every component in reverse order of New. It is safe to call
// more than once and after a failed Run.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.cancel != nil {
			n.cancel()
		}
		n.closeAll()
		n.wg.Wait()
	})
	return nil
}

func (n *Node) closeAll() {
	if n.gossip != nil {
		n.gossip.Close()
	}
	n.closeConsole()
	if n.s3 != nil {
		n.s3.Close()
	}
	if n.audit != nil {
		n.audit.Close() // after s3: the last requests' events are delivered
	}
	if n.quota != nil && n.raft != nil && n.raft.Ready() {
		// After s3, before Raft: the last requests' usage is proposed.
		// Briefly: in a healthy cluster this takes milliseconds, and when
		// the whole cluster stops there may be no leader left (the
		// recount corrects what is lost).
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := n.quota.Close(ctx); err != nil {
			n.log.Warn("last usage flush failed; a recount will correct the usage", "err", err)
		}
		cancel()
	}
	if n.raft != nil {
		n.raft.Close()
	}
	if n.tr != nil {
		n.tr.Close()
	}
	for _, d := range n.drives {
		d.Close()
	}
}

// ID returns the node name.
func (n *Node) ID() string { return n.cfg.ID }

// S3Addr returns the advertised host:port of the S3 frontend.
func (n *Node) S3Addr() string { return n.s3Addr }

// RPCAddr returns the advertised host:port of rpc.
func (n *Node) RPCAddr() string { return n.rpcAddr }

// GossipAddr returns the advertised host:port of gossip.
func (n *Node) GossipAddr() string { return n.gossip.LocalAddr() }

// Ready reports whether the node is a member of a bootstrapped cluster with a
// leader and a placement: what /strata/health/ready answers.
func (n *Node) Ready() bool { return n.raft.Ready() }

// Raft exposes the control-plane store (cluster status, tests).
func (n *Node) Raft() *raftfsm.Store { return n.raft }

// Quota exposes the usage accountant (tests: Flush, Recount).
func (n *Node) Quota() *quota.Accountant { return n.quota }

// ILM exposes the lifecycle scanner (tests: Pass).
func (n *Node) ILM() *ilm.Scanner { return n.ilm }

// unavailable tells s3api which errors mean "try again later" (503).
func unavailable(err error) bool {
	var nl *raftfsm.NotLeaderError
	var q *dataplane.QuorumError
	return errors.Is(err, raftfsm.ErrNoLeader) || errors.As(err, &nl) ||
		errors.As(err, &q) || errors.Is(err, dataplane.ErrNoPlacement) || rpc.IsUnavailable(err)
}

// advertiseHost picks the host peers use to reach this node.
func advertiseHost(advertise, bind string) (string, error) {
	if advertise != "" {
		return advertise, nil
	}
	host, _, err := net.SplitHostPort(bind)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return host, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", fmt.Errorf("--advertise: cannot list interfaces: %w", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
	}
	return "", errors.New("--advertise: no non-loopback address found; set --advertise")
}

func joinPort(host, listenAddr string) string {
	_, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return listenAddr
	}
	return net.JoinHostPort(host, port)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// mibPerSec converts a rate in bytes per second into the data plane's MiB
// per second (zero stays zero: the default).
func mibPerSec(bytes int64) float64 { return float64(bytes) / (1 << 20) }
