package node

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is everything a node needs, resolved from flags, environment and
// config file by cmd/node (or set directly by tests).
type Config struct {
	ID              string   // node name, unique in the cluster
	Data            []string // drive folders
	S3Addr          string   // S3, STS, admin API, /metrics, health
	RPCAddr         string   // internode: Raft + shard traffic
	GossipAddr      string   // memberlist, TCP and UDP
	Advertise       string   // host peers use; empty: the bind host, else first non-loopback
	Join            []string // gossip addresses of existing members
	BootstrapExpect int      // form a new cluster once this many nodes see each other
	EC              string   // "K+M", read at bootstrap only
	ClusterKey      []byte   // 32+ bytes shared by all nodes
	RootAccessKey   string   // root credentials for a new cluster
	RootSecretKey   Secret
	PGCount         int   // placement groups, chosen at bootstrap
	BlockSize       int64 // erasure block size, bytes
	InlineMax       int64 // objects up to this size are stored inline
	Voters          int   // Raft voters the leader keeps
	Region          string
	Domains         []string // virtual-host style suffixes
	// FastGossip tunes failure detection and Raft timeouts for loopback tests.
	FastGossip bool

	// VoterGrace is how long a Raft voter may be gone before the leader
	// replaces it by a healthy non-voter; zero takes raftfsm's default.
	VoterGrace time.Duration
	// Self-healing pace (zero takes the data plane's defaults): HealRate
	// and ScanRate in bytes per second, ScanInterval between scanner
	// passes (negative: no scanner).
	HealRate, ScanRate int64
	// RebalanceRate bounds the shard bytes per second a migration reads
	// (zero: the data plane's default).
	RebalanceRate int64
	ScanInterval  time.Duration
	// QuotaFlushInterval is how often the node proposes the usage changes
	// its requests made (zero: package quota's default, 2 s); it bounds
	// how far other nodes' quota checks lag behind this node's writes.
	// QuotaRecountInterval is the least time between two recounts of a
	// bucket's usage from a listing (zero: the default, 10 minutes;
	// negative: never).
	QuotaFlushInterval, QuotaRecountInterval time.Duration
	// ILMInterval is the pause between two lifecycle passes of this node
	// (zero: package ilm's default, 1h; negative: no background passes).
	// ILMRate bounds the object versions and uploads a pass examines per
	// second (zero: the default, 1000). ILMNow is the clock of lifecycle
	// decisions (nil: time.Now); tests move it to make days pass.
	ILMInterval time.Duration
	ILMRate     float64
	ILMNow      func() time.Time
	// Now is the S3 frontend's clock (signature times, STS session expiry,
	// policy conditions); nil is time.Now. Tests move it to expire sessions
	// without sleeping.
	Now func() time.Time

	// TLSCert and TLSKey (PEM files, both or neither) make the S3 port
	// serve HTTPS only; Reload re-reads them.
	TLSCert, TLSKey string
	// RPCTLSCert, RPCTLSKey and RPCTLSCA (all or none) run internode rpc
	// over mutual TLS: this node's certificate and key, and the CA bundle
	// that signs every node's certificate. All nodes must agree.
	RPCTLSCert, RPCTLSKey, RPCTLSCA string

	// AuditFile, when set, also appends every request's audit event to
	// this file as JSON lines (the webhooks are cluster state).
	AuditFile string
	// MetricsToken is the bearer token of GET /strata/metrics; without one,
	// MetricsPublic serves them to anyone, else a SigV4-signed request of
	// root or of a user allowed "admin:Prometheus" is needed.
	MetricsToken  Secret
	MetricsPublic bool
	// PprofAddr, when set, serves Go's runtime profiles there (pprof.go).
	PprofAddr string

	// ConsoleAddr places the web console: empty serves it on the S3 port
	// under /console/; host:port on a listener of its own (with the S3
	// port's TLS certificate, if any); ConsoleOff ("off") nowhere.
	ConsoleAddr string
	// ConsoleSessionLifetime bounds a console session from login and
	// ConsoleSessionIdle ends one unused that long (zero: package
	// console's defaults, 12h and 1h).
	ConsoleSessionLifetime, ConsoleSessionIdle time.Duration
}

// Secret is a string that never appears in logs.
type Secret string

// LogValue redacts the secret.
func (Secret) LogValue() string { return "REDACTED" }

// String redacts the secret.
func (Secret) String() string { return "REDACTED" }

// DefaultConfig returns the defaults of INTERFACE.md.
func DefaultConfig() Config {
	return Config{
		S3Addr:     ":9000",
		RPCAddr:    ":9100",
		GossipAddr: ":9101",
		EC:         "4+2",
		PGCount:    256,
		BlockSize:  1 << 20,
		InlineMax:  128 << 10,
		Voters:     5,
		Region:     "us-east-1",
	}
}

// ParseEC parses "K+M".
func ParseEC(s string) (k, m int, err error) {
	ks, ms, ok := strings.Cut(s, "+")
	if ok {
		k, err = strconv.Atoi(strings.TrimSpace(ks))
		if err == nil {
			m, err = strconv.Atoi(strings.TrimSpace(ms))
		}
	}
	if !ok || err != nil || k < 1 || m < 0 || k+m > 256 {
		return 0, 0, fmt.Errorf("--ec %q: want DATA+PARITY, e.g. 4+2 (1 <= data, 0 <= parity, total <= 256)", s)
	}
	return k, m, nil
}

// Validate reports the first invalid setting in words an operator can act on.
func (c Config) Validate() error {
	if c.ID == "" {
		return errors.New("--id: node name is required")
	}
	if len(c.Data) == 0 {
		return errors.New("--data: at least one drive folder is required")
	}
	seen := map[string]bool{}
	for _, d := range c.Data {
		if d == "" {
			return errors.New("--data: empty drive folder name")
		}
		if seen[d] {
			return fmt.Errorf("--data: drive folder %s given twice", d)
		}
		seen[d] = true
	}
	for flag, a := range map[string]string{"--s3-addr": c.S3Addr, "--rpc-addr": c.RPCAddr, "--gossip-addr": c.GossipAddr} {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("%s %q: %v", flag, a, err)
		}
	}
	if _, _, err := ParseEC(c.EC); err != nil {
		return err
	}
	if len(c.ClusterKey) < 32 {
		return errors.New("cluster key: need 32+ random bytes (--cluster-key-file or STRATA_CLUSTER_KEY, base64); `stratactl cluster keygen` prints one")
	}
	if c.BootstrapExpect < 0 {
		return errors.New("--bootstrap-expect must be >= 0")
	}
	if c.PGCount < 1 || c.PGCount > 1<<16 {
		return fmt.Errorf("pg count %d out of range 1..65536", c.PGCount)
	}
	if c.BlockSize < 64<<10 || c.BlockSize > 64<<20 {
		return fmt.Errorf("block size %d out of range 64 KiB..64 MiB", c.BlockSize)
	}
	if c.InlineMax < 0 || c.InlineMax > 1<<20 {
		return fmt.Errorf("inline max %d out of range 0..1 MiB", c.InlineMax)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: set both or neither")
	}
	if n := countSet(c.RPCTLSCert, c.RPCTLSKey, c.RPCTLSCA); n != 0 && n != 3 {
		return errors.New("--rpc-tls-cert, --rpc-tls-key and --rpc-tls-ca go together: set all three or none")
	}
	if c.ConsoleAddr != "" && c.ConsoleAddr != ConsoleOff {
		if _, _, err := net.SplitHostPort(c.ConsoleAddr); err != nil {
			return fmt.Errorf("--console-addr %q: %v (want host:port, or off)", c.ConsoleAddr, err)
		}
	}
	if c.ConsoleSessionLifetime < 0 || c.ConsoleSessionIdle < 0 {
		return errors.New("--console-session-lifetime and --console-session-idle must not be negative")
	}
	if c.MetricsToken != "" && c.MetricsPublic {
		return errors.New("--metrics-token and --metrics-public exclude each other: a token is pointless when the metrics are public")
	}
	return nil
}

func countSet(vals ...string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}
