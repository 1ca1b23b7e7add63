package testcluster

import (
	"context"
	"crypto/rand"
	"fmt"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-io/strata/internal/tlstest"
	"github.com/strata-io/strata/node"
)

// Options shapes a test cluster.
type Options struct {
	Nodes         int    // nodes started by Start (default 4)
	EC            string // default "2+2"
	DrivesPerNode int    // default 2
	PGCount       int    // default 64
	// Verbose sends node logs to t.Log (noisy); default: warnings and errors only.
	Verbose bool
	// Now is every node's S3 clock (signatures, STS expiry, policy
	// conditions); nil is time.Now. Tests move it instead of sleeping.
	Now func() time.Time
	// TLS serves S3 over HTTPS and runs rpc over mutual TLS, with
	// certificates of a CA made for the cluster (Cluster.CA); the clients
	// of Cluster trust it.
	TLS bool
	// Configure, when set, adjusts every node's configuration before it
	// first starts (e.g. a metrics token).
	Configure func(*node.Config)
}

// Root credentials of every test cluster.
const (
	RootAccessKey = "STRATATESTROOT"
	RootSecretKey = "strata-test-root-secret-key"
)

// Cluster is a set of in-process nodes.
type Cluster struct {
	t    testing.TB
	opts Options
	key  []byte
	dir  string      // the nodes' drives: <dir>/<node id>/d<n>
	ca   *tlstest.CA // with Options.TLS

	mu    sync.Mutex
	nodes []*Instance
}

// Instance is one node slot: its configuration survives Stop/Restart.
type Instance struct {
	Index  int
	Config node.Config
	node   *node.Node
	cancel context.CancelFunc
	done   chan error
	// started: the node has run once, so its addresses are known to the
	// cluster and must not change.
	started bool
}

// Node returns the running node, nil when stopped.
func (in *Instance) Node() *node.Node { return in.node }

// Start starts opts.Nodes nodes that bootstrap one cluster, and waits until
// every node is ready.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Nodes == 0 {
		opts.Nodes = 4
	}
	if opts.EC == "" {
		opts.EC = "2+2"
	}
	if opts.DrivesPerNode == 0 {
		opts.DrivesPerNode = 2
	}
	if opts.PGCount == 0 {
		opts.PGCount = 64
	}
	// The drives live under one folder made before stopAll is registered:
	// cleanups run last-in first-out, so the nodes are stopped before their
	// folders are removed.
	c := &Cluster{t: t, opts: opts, key: make([]byte, 32), dir: t.TempDir()}
	rand.Read(c.key)
	if opts.TLS {
		c.ca = tlstest.NewCA(t, "strata test cluster CA")
	}
	t.Cleanup(c.stopAll)
	for i := 0; i < opts.Nodes; i++ {
		c.addInstance(opts.Nodes)
	}
	for i := range c.nodes {
		c.startInstance(c.nodes[i])
	}
	c.WaitReady(30 * time.Second)
	return c
}

// freeAddr reserves a loopback port. The port is released before the node
// binds it, which is racy in theory and fine on a test machine; it keeps
// addresses stable across Restart.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func freeUDPTCPAddr(t testing.TB) string {
	for i := 0; i < 50; i++ {
		a := freeAddr(t)
		u, err := net.ListenPacket("udp", a)
		if err == nil {
			u.Close()
			return a
		}
	}
	t.Fatal("no free port for gossip")
	return ""
}

func (c *Cluster) addInstance(expect int) *Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := len(c.nodes)
	cfg := node.DefaultConfig()
	cfg.ID = fmt.Sprintf("n%d", i+1)
	dir := filepath.Join(c.dir, cfg.ID)
	for d := 0; d < c.opts.DrivesPerNode; d++ {
		cfg.Data = append(cfg.Data, filepath.Join(dir, fmt.Sprintf("d%d", d+1)))
	}
	cfg.S3Addr = freeAddr(c.t)
	cfg.RPCAddr = freeAddr(c.t)
	cfg.GossipAddr = freeUDPTCPAddr(c.t)
	cfg.EC = c.opts.EC
	cfg.PGCount = c.opts.PGCount
	cfg.ClusterKey = c.key
	cfg.RootAccessKey = RootAccessKey
	cfg.RootSecretKey = RootSecretKey
	cfg.FastGossip = true
	cfg.BootstrapExpect = expect
	cfg.Now = c.opts.Now
	if c.ca != nil {
		s3, rpc := c.ca.Issue(cfg.ID+"-s3"), c.ca.Issue(cfg.ID+"-rpc")
		cfg.TLSCert, cfg.TLSKey = s3.CertFile, s3.KeyFile
		cfg.RPCTLSCert, cfg.RPCTLSKey, cfg.RPCTLSCA = rpc.CertFile, rpc.KeyFile, c.ca.File
	}
	for _, other := range c.nodes {
		cfg.Join = append(cfg.Join, other.Config.GossipAddr)
	}
	if c.opts.Configure != nil {
		c.opts.Configure(&cfg)
	}
	// Earlier nodes learn of later ones by gossip; the first node also gets
	// the later addresses so a restarted n1 can find the cluster again.
	in := &Instance{Index: i, Config: cfg}
	c.nodes = append(c.nodes, in)
	for _, other := range c.nodes[:i] {
		if other.Config.BootstrapExpect > 0 && expect > 0 {
			other.Config.Join = append(other.Config.Join, cfg.GossipAddr)
		}
	}
	return in
}

func (c *Cluster) logger(i int) *slog.Logger {
	level := slog.LevelWarn
	if c.opts.Verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tlogWriter{c.t, fmt.Sprintf("n%d ", i+1)}, &slog.HandlerOptions{Level: level}))
}

type tlogWriter struct {
	t      testing.TB
	prefix string
}

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (c *Cluster) startInstance(in *Instance) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, in.Config, c.logger(in.Index))
	// freeAddr's ports are released before the node binds them, and the
	// nodes' own outgoing connections take ephemeral ports from the same
	// range: a port may be gone by then. A node's first start takes new
	// ones; a restart keeps its addresses and tries again shortly.
	for try := 0; err != nil && strings.Contains(err.Error(), "address already in use") && try < 5; try++ {
		if !in.started {
			// The failed start may have written Raft state in its fresh
			// folders (a node with Raft state does not bootstrap): start
			// from empty ones, and tell the others the new gossip address.
			for _, d := range in.Config.Data {
				if err := os.RemoveAll(d); err != nil {
					c.t.Fatal(err)
				}
			}
			c.mu.Lock()
			old := in.Config.GossipAddr
			in.Config.S3Addr, in.Config.RPCAddr, in.Config.GossipAddr = freeAddr(c.t), freeAddr(c.t), freeUDPTCPAddr(c.t)
			for _, other := range c.nodes {
				for j, a := range other.Config.Join {
					if a == old {
						other.Config.Join[j] = in.Config.GossipAddr
					}
				}
			}
			c.mu.Unlock()
		} else {
			time.Sleep(200 * time.Millisecond)
		}
		n, err = node.New(ctx, in.Config, c.logger(in.Index))
	}
	if err != nil {
		cancel()
		c.t.Fatalf("start node %s: %v", in.Config.ID, err)
	}
	in.started = true
	in.node, in.cancel, in.done = n, cancel, make(chan error, 1)
	go func() { in.done <- n.Run(ctx) }()
}

// N returns the number of node slots (running or stopped).
func (c *Cluster) N() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// Instance returns slot i.
func (c *Cluster) Instance(i int) *Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Stop stops node i (as a crash would: no graceful leave of Raft).
func (c *Cluster) Stop(i int) {
	in := c.Instance(i)
	if in.node == nil {
		return
	}
	in.cancel()
	in.node.Close()
	<-in.done
	in.node = nil
}

// Restart starts node i again on the same drives and addresses.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	in := c.Instance(i)
	c.Stop(i)
	cfg := in.Config
	var joins []string
	for j, other := range c.nodes {
		if j != i {
			joins = append(joins, other.Config.GossipAddr)
		}
	}
	cfg.Join = joins
	in.Config = cfg
	c.startInstance(in)
}

// AddNode starts a new node that joins the running cluster (no bootstrap)
// and returns its index once it is a ready member.
func (c *Cluster) AddNode() int {
	c.t.Helper()
	in := c.addInstance(0)
	c.startInstance(in)
	c.waitNode(in, 30*time.Second)
	return in.Index
}

// WaitReady waits until every running node answers ready.
func (c *Cluster) WaitReady(timeout time.Duration) {
	c.t.Helper()
	for i := 0; i < c.N(); i++ {
		if in := c.Instance(i); in.node != nil {
			c.waitNode(in, timeout)
		}
	}
}

func (c *Cluster) waitNode(in *Instance, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !in.node.Ready() {
		select {
		case err := <-in.done:
			c.t.Fatalf("node %s exited: %v", in.Config.ID, err)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("node %s not ready after %v", in.Config.ID, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *Cluster) stopAll() {
	for i := c.N() - 1; i >= 0; i-- {
		c.Stop(i)
	}
}

// Endpoint returns the S3 base URL of node i (https:// with Options.TLS).
func (c *Cluster) Endpoint(i int) string {
	if c.ca != nil {
		return "https://" + c.Instance(i).Config.S3Addr
	}
	return "http://" + c.Instance(i).Config.S3Addr
}

// CA returns the certificate authority of a cluster started with
// Options.TLS (nil otherwise): CA.File is its PEM, CA.Pool for Go clients.
func (c *Cluster) CA() *tlstest.CA { return c.ca }

// HTTPClient returns an HTTP client for the cluster's S3 ports: it trusts
// the cluster's CA with Options.TLS.
func (c *Cluster) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.ca != nil {
		tr.TLSClientConfig = c.ca.ClientConfig()
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// S3Client returns an aws-sdk-go-v2 client for node i with the SDK's default
// configuration (its default checksum behaviour included), path style.
func (c *Cluster) S3Client(i int) *s3.Client {
	c.t.Helper()
	return c.S3ClientAs(i, RootAccessKey, RootSecretKey)
}

// S3ClientAs is S3Client with another user's keys.
func (c *Cluster) S3ClientAs(i int, accessKey, secretKey string) *s3.Client {
	c.t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(5*time.Minute).WithTransportOptions(func(tr *http.Transport) {
			if c.ca != nil {
				tr.TLSClientConfig = c.ca.ClientConfig()
			}
		})),
	)
	if err != nil {
		c.t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(c.Endpoint(i))
		o.UsePathStyle = true
	})
}

// MinioClient returns a minio-go client for node i.
func (c *Cluster) MinioClient(i int) *minio.Client {
	c.t.Helper()
	opts := &minio.Options{
		Creds:  miniocreds.NewStaticV4(RootAccessKey, RootSecretKey, ""),
		Secure: c.ca != nil,
		Region: "us-east-1",
	}
	if c.ca != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.ca.ClientConfig()
		opts.Transport = tr
	}
	mc, err := minio.New(c.Instance(i).Config.S3Addr, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	return mc
}
