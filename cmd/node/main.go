package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"

	"github.com/strata-io/strata/node"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "strata-node: "+strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
}

const usage = `usage: strata-node server [flags]

Every flag also reads STRATA_<FLAG> (e.g. STRATA_DATA, STRATA_S3_ADDR) and
--config FILE (TOML or YAML, keys named like the flags); flags win.
Root keys of a new cluster: STRATA_ROOT_ACCESS_KEY, STRATA_ROOT_SECRET_KEY.
Cluster key: --cluster-key-file or STRATA_CLUSTER_KEY (base64, 32+ bytes).

flags:
`

func run(args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		newFlags(new(options), stderr).PrintDefaults()
		if len(args) == 0 {
			return errors.New("missing command: server")
		}
		return nil
	}
	if args[0] != "server" {
		return fmt.Errorf("unknown command %q (want: server)", args[0])
	}
	var o options
	fs := newFlags(&o, stderr)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := resolve(fs, getenv); err != nil {
		return err
	}
	log, err := newLogger(o.logFormat, o.logLevel, stderr)
	if err != nil {
		return err
	}
	cfg, err := o.config(getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Caught from here on: a SIGHUP during start-up must not kill the node.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	n, err := node.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer n.Close()
	go reloadOnHangup(ctx, hup, n, log)
	if err := n.Run(ctx); err != nil {
		return err
	}
	log.Info("shutting down")
	return nil
}

// reloadOnHangup calls r.Reload for every signal on hup until ctx ends.
// Reload logs its own failures; the node keeps serving either way.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, r interface{ Reload() error }, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP: reloading TLS certificates")
			_ = r.Reload()
		}
	}
}

// options holds the raw flag values.
type options struct {
	id, data, s3Addr, rpcAddr, gossipAddr, advertise, join, ec, keyFile string
	configFile, logFormat, logLevel, region, domains, domain            string
	bootstrapExpect, pgCount, voters                                    int
	blockSize, inlineMax                                                string
	healRate, scanRate, scanInterval, voterGrace, rebalanceRate         string
	tlsCert, tlsKey, rpcTLSCert, rpcTLSKey, rpcTLSCA                    string
	auditFile, metricsToken                                             string
	quotaFlush, quotaRecount                                            string
	ilmInterval, ilmRate                                                string
	consoleAddr, consoleLifetime, consoleIdle                           string
	metricsPublic                                                       bool
	pprofAddr                                                           string
}

func newFlags(o *options, out io.Writer) *flag.FlagSet {
	d := node.DefaultConfig()
	fs := flag.NewFlagSet("strata-node server", flag.ContinueOnError)
	fs.SetOutput(out)
	host, _ := os.Hostname()
	fs.StringVar(&o.id, "id", host, "node name, unique in the cluster")
	fs.StringVar(&o.data, "data", "", "comma-separated drive folders")
	fs.StringVar(&o.s3Addr, "s3-addr", d.S3Addr, "S3, STS, admin API, /metrics and health")
	fs.StringVar(&o.rpcAddr, "rpc-addr", d.RPCAddr, "internode: Raft and shard traffic")
	fs.StringVar(&o.gossipAddr, "gossip-addr", d.GossipAddr, "memberlist gossip, TCP and UDP")
	fs.StringVar(&o.advertise, "advertise", "", "address peers use (default: bind host, else first non-loopback)")
	fs.StringVar(&o.join, "join", "", "comma-separated gossip addresses of existing members")
	fs.IntVar(&o.bootstrapExpect, "bootstrap-expect", 0, "form a new cluster once this many nodes see each other")
	fs.StringVar(&o.ec, "ec", d.EC, "data+parity shards (read at bootstrap only)")
	fs.StringVar(&o.keyFile, "cluster-key-file", "", "file holding the base64 cluster key")
	fs.StringVar(&o.configFile, "config", "", "config file (TOML or YAML)")
	fs.StringVar(&o.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&o.pgCount, "pg-count", d.PGCount, "placement groups (read at bootstrap only)")
	fs.IntVar(&o.voters, "voters", d.Voters, "Raft voters the leader keeps (3 or 5)")
	fs.StringVar(&o.blockSize, "block-size", "1MiB", "erasure block size (read at bootstrap only)")
	fs.StringVar(&o.inlineMax, "inline-max", "128KiB", "objects up to this size are stored inline (bootstrap only)")
	fs.StringVar(&o.healRate, "heal-rate", "64MiB", "bytes per second read to rebuild missing or corrupt shards")
	fs.StringVar(&o.scanRate, "scan-rate", "32MiB", "bytes per second the background scanner verifies")
	fs.StringVar(&o.scanInterval, "scan-interval", "24h", "pause between scanner passes over this node's PGs (0: no scanner)")
	fs.StringVar(&o.voterGrace, "voter-grace", "30s", "how long a Raft voter may be gone before a non-voter replaces it")
	fs.StringVar(&o.rebalanceRate, "rebalance-rate", "128MiB", "bytes per second a rebalance reads to move shards to new drives")
	fs.StringVar(&o.region, "region", d.Region, "region name reported to clients")
	fs.StringVar(&o.domains, "domains", "", "comma-separated domains for virtual-host style requests (bucket.DOMAIN/key)")
	fs.StringVar(&o.domain, "domain", "", "same as --domains (the name MinIO users know); both may be given")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain): the S3 port serves HTTPS only; reloaded on SIGHUP")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&o.rpcTLSCert, "rpc-tls-cert", "", "PEM certificate of this node for internode mutual TLS (with --rpc-tls-key, --rpc-tls-ca; on every node)")
	fs.StringVar(&o.rpcTLSKey, "rpc-tls-key", "", "PEM private key of --rpc-tls-cert")
	fs.StringVar(&o.rpcTLSCA, "rpc-tls-ca", "", "PEM bundle of the CA(s) that sign every node's --rpc-tls-cert")
	fs.StringVar(&o.auditFile, "audit-file", "", "also append every request's audit event to this file (JSON lines); webhooks: stratactl audit webhook")
	fs.StringVar(&o.metricsToken, "metrics-token", "", "bearer token of GET /strata/metrics (better: STRATA_METRICS_TOKEN); without one, a SigV4 request of root or of a user allowed admin:Prometheus")
	fs.BoolVar(&o.metricsPublic, "metrics-public", false, "serve /strata/metrics without authentication")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "", "serve Go runtime profiles (/debug/pprof/) on this host:port, without authentication: use a loopback address")
	fs.StringVar(&o.quotaFlush, "quota-flush-interval", "2s", "how often the node proposes the usage its requests added and freed; bounds how far quota checks on other nodes lag")
	fs.StringVar(&o.quotaRecount, "quota-recount-interval", "10m", "least time between two recounts of a bucket's usage from a listing (0: never)")
	fs.StringVar(&o.ilmInterval, "ilm-interval", "1h", "pause between two lifecycle passes of this node over the buckets with lifecycle rules (0: no passes)")
	fs.StringVar(&o.ilmRate, "ilm-rate", "1000", "object versions and uploads a lifecycle pass examines per second on this node (deletes included)")
	fs.StringVar(&o.consoleAddr, "console-addr", "", "web console: empty serves it on the S3 port under /console/; host:port on a listener of its own; off for none")
	fs.StringVar(&o.consoleLifetime, "console-session-lifetime", "12h", "longest a web console login lasts")
	fs.StringVar(&o.consoleIdle, "console-session-idle", "1h", "a web console session unused this long ends")
	return fs
}

// resolve fills every flag not given on the command line from STRATA_<FLAG>,
// then from the --config file.
func resolve(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	envName := func(name string) string {
		return "STRATA_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	}
	if !set["config"] {
		if v := getenv(envName("config")); v != "" {
			if err := fs.Set("config", v); err != nil {
				return err
			}
		}
	}
	file, err := readConfigFile(fs.Lookup("config").Value.String())
	if err != nil {
		return err
	}
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" {
			return
		}
		v := getenv(envName(f.Name))
		src := envName(f.Name)
		if v == "" {
			var ok bool
			if v, ok = file[f.Name]; !ok {
				return
			}
			src = "config key " + f.Name
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
		}
	})
	for k := range file {
		if fs.Lookup(k) == nil {
			errs = append(errs, fmt.Errorf("config file: unknown key %q", k))
		}
	}
	return errors.Join(errs...)
}

// readConfigFile returns the file's settings keyed by flag name; keys may use
// '-' or '_', lists become comma-separated values.
func readConfigFile(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	raw := map[string]any{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		err = toml.Unmarshal(b, &raw)
	case ".yaml", ".yml":
		err = yaml.Unmarshal(b, &raw)
	default:
		return nil, fmt.Errorf("--config %s: want a .toml, .yaml or .yml file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	for k, v := range raw {
		key := strings.ReplaceAll(k, "_", "-")
		switch x := v.(type) {
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			out[key] = strings.Join(parts, ",")
		default:
			out[key] = fmt.Sprint(x)
		}
	}
	return out, nil
}

func (o *options) config(getenv func(string) string) (node.Config, error) {
	c := node.DefaultConfig()
	c.ID = o.id
	c.Data = splitList(o.data)
	c.S3Addr, c.RPCAddr, c.GossipAddr = o.s3Addr, o.rpcAddr, o.gossipAddr
	c.Advertise = o.advertise
	c.Join = splitList(o.join)
	c.BootstrapExpect = o.bootstrapExpect
	c.EC = o.ec
	c.PGCount = o.pgCount
	c.Voters = o.voters
	c.Region = o.region
	c.Domains = append(splitList(o.domains), splitList(o.domain)...)
	c.TLSCert, c.TLSKey = o.tlsCert, o.tlsKey
	c.RPCTLSCert, c.RPCTLSKey, c.RPCTLSCA = o.rpcTLSCert, o.rpcTLSKey, o.rpcTLSCA
	c.AuditFile = o.auditFile
	c.MetricsToken, c.MetricsPublic = node.Secret(o.metricsToken), o.metricsPublic
	c.PprofAddr = o.pprofAddr
	c.RootAccessKey = getenv("STRATA_ROOT_ACCESS_KEY")
	c.RootSecretKey = node.Secret(getenv("STRATA_ROOT_SECRET_KEY"))
	var err error
	if c.BlockSize, err = parseSize(o.blockSize); err != nil {
		return c, fmt.Errorf("--block-size: %w", err)
	}
	if c.InlineMax, err = parseSize(o.inlineMax); err != nil {
		return c, fmt.Errorf("--inline-max: %w", err)
	}
	if c.HealRate, err = parseSize(o.healRate); err != nil || c.HealRate <= 0 {
		return c, fmt.Errorf("--heal-rate %q: want a positive size per second, e.g. 64MiB", o.healRate)
	}
	if c.RebalanceRate, err = parseSize(o.rebalanceRate); err != nil || c.RebalanceRate <= 0 {
		return c, fmt.Errorf("--rebalance-rate %q: want a positive size per second, e.g. 128MiB", o.rebalanceRate)
	}
	if c.ScanRate, err = parseSize(o.scanRate); err != nil || c.ScanRate <= 0 {
		return c, fmt.Errorf("--scan-rate %q: want a positive size per second, e.g. 32MiB", o.scanRate)
	}
	if c.ScanInterval, err = time.ParseDuration(o.scanInterval); err != nil || c.ScanInterval < 0 {
		return c, fmt.Errorf("--scan-interval %q: want a duration such as 24h, or 0 for no scanner", o.scanInterval)
	}
	if c.ScanInterval == 0 {
		c.ScanInterval = -1 // the data plane's "no scanner"
	}
	if c.VoterGrace, err = time.ParseDuration(o.voterGrace); err != nil || c.VoterGrace <= 0 {
		return c, fmt.Errorf("--voter-grace %q: want a positive duration such as 30s", o.voterGrace)
	}
	if c.QuotaFlushInterval, err = time.ParseDuration(o.quotaFlush); err != nil || c.QuotaFlushInterval <= 0 {
		return c, fmt.Errorf("--quota-flush-interval %q: want a positive duration such as 2s", o.quotaFlush)
	}
	if c.QuotaRecountInterval, err = time.ParseDuration(o.quotaRecount); err != nil || c.QuotaRecountInterval < 0 {
		return c, fmt.Errorf("--quota-recount-interval %q: want a duration such as 10m, or 0 for no recounts", o.quotaRecount)
	}
	if c.QuotaRecountInterval == 0 {
		c.QuotaRecountInterval = -1 // package quota's "no recounts"
	}
	if c.ILMInterval, err = time.ParseDuration(o.ilmInterval); err != nil || c.ILMInterval < 0 {
		return c, fmt.Errorf("--ilm-interval %q: want a duration such as 1h, or 0 for no lifecycle passes", o.ilmInterval)
	}
	if c.ILMInterval == 0 {
		c.ILMInterval = -1 // package ilm's "no background passes"
	}
	if c.ILMRate, err = strconv.ParseFloat(o.ilmRate, 64); err != nil || !(c.ILMRate > 0) || math.IsInf(c.ILMRate, 0) {
		return c, fmt.Errorf("--ilm-rate %q: want a positive number of objects per second, e.g. 1000", o.ilmRate)
	}
	c.ConsoleAddr = o.consoleAddr
	if c.ConsoleSessionLifetime, err = time.ParseDuration(o.consoleLifetime); err != nil || c.ConsoleSessionLifetime <= 0 {
		return c, fmt.Errorf("--console-session-lifetime %q: want a positive duration such as 12h", o.consoleLifetime)
	}
	if c.ConsoleSessionIdle, err = time.ParseDuration(o.consoleIdle); err != nil || c.ConsoleSessionIdle <= 0 {
		return c, fmt.Errorf("--console-session-idle %q: want a positive duration such as 1h", o.consoleIdle)
	}
	keyText := getenv("STRATA_CLUSTER_KEY")
	if o.keyFile != "" {
		b, err := os.ReadFile(o.keyFile)
		if err != nil {
			return c, fmt.Errorf("--cluster-key-file: %w", err)
		}
		keyText = string(b)
	}
	if keyText == "" {
		return c, errors.New("no cluster key: set --cluster-key-file or STRATA_CLUSTER_KEY (create one with `stratactl cluster keygen`)")
	}
	if c.ClusterKey, err = base64.StdEncoding.DecodeString(strings.TrimSpace(keyText)); err != nil {
		return c, fmt.Errorf("cluster key is not valid base64: %w", err)
	}
	return c, c.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseSize reads "1048576", "1MiB", "128KiB", "64k", "1M".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"k", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
