package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/node"
)

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "strata.toml")
	os.WriteFile(cfgFile, []byte("s3_addr = \":7000\"\nrpc-addr = \":7100\"\ndata = [\"/a\", \"/b\"]\nbootstrap_expect = 3\n"), 0o600)
	env := map[string]string{"STRATA_RPC_ADDR": ":8100", "STRATA_CONFIG": cfgFile}
	var o options
	fs := newFlags(&o, io.Discard)
	if err := fs.Parse([]string{"--gossip-addr", ":9999"}); err != nil {
		t.Fatal(err)
	}
	if err := resolve(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if o.s3Addr != ":7000" || o.rpcAddr != ":8100" || o.gossipAddr != ":9999" || o.data != "/a,/b" || o.bootstrapExpect != 3 {
		t.Fatalf("resolved %+v", o)
	}
}

func TestResolveYAMLAndUnknownKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "c.yaml")
	os.WriteFile(good, []byte("ec: 2+2\njoin:\n  - 10.0.0.1:9101\n"), 0o600)
	var o options
	fs := newFlags(&o, io.Discard)
	fs.Parse([]string{"--config", good})
	if err := resolve(fs, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if o.ec != "2+2" || o.join != "10.0.0.1:9101" {
		t.Fatalf("resolved %+v", o)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("s3-adr: x\n"), 0o600)
	fs = newFlags(&o, io.Discard)
	fs.Parse([]string{"--config", bad})
	if err := resolve(fs, func(string) string { return "" }); err == nil {
		t.Fatal("unknown config key accepted")
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown command": {"serve"},
		"bad flag":        {"server", "--nope"},
		"no key":          {"server", "--data", t.TempDir()},
		"bad ec":          {"server", "--data", t.TempDir(), "--ec", "x"},
	} {
		env := map[string]string{}
		if name == "bad ec" {
			env["STRATA_CLUSTER_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		}
		if err := run(args, func(k string) string { return env[k] }, io.Discard); err == nil {
			t.Errorf("%s: run succeeded", name)
		}
	}
	_ = flag.ErrHelp
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "1MiB": 1 << 20, "128KiB": 128 << 10, "64k": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := parseSize("lots"); err == nil {
		t.Error("bad size accepted")
	}
}

func TestDomainAndDomains(t *testing.T) {
	env := map[string]string{"STRATA_DOMAIN": "s3.example.org", "STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	getenv := func(k string) string { return env[k] }
	var o options
	fs := newFlags(&o, io.Discard)
	if err := fs.Parse([]string{"--domains", "a.test,b.test", "--data", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := resolve(fs, getenv); err != nil {
		t.Fatal(err)
	}
	c, err := o.config(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.test", "b.test", "s3.example.org"}; !slices.Equal(c.Domains, want) {
		t.Fatalf("domains %v, want %v", c.Domains, want)
	}
}

func TestHealAndVoterFlags(t *testing.T) {
	env := map[string]string{"STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "STRATA_SCAN_INTERVAL": "0"}
	getenv := func(k string) string { return env[k] }
	var o options
	fs := newFlags(&o, io.Discard)
	if err := fs.Parse([]string{"--heal-rate", "10MiB", "--voter-grace", "1m", "--data", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := resolve(fs, getenv); err != nil {
		t.Fatal(err)
	}
	c, err := o.config(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.HealRate != 10<<20 || c.ScanRate != 32<<20 || c.ScanInterval >= 0 || c.VoterGrace != time.Minute {
		t.Fatalf("config %+v", c)
	}
	for _, bad := range [][]string{{"--heal-rate", "0"}, {"--scan-interval", "-1h"}, {"--voter-grace", "soon"}} {
		var o options
		fs := newFlags(&o, io.Discard)
		if err := fs.Parse(append(bad, "--data", t.TempDir())); err != nil {
			t.Fatal(err)
		}
		if _, err := o.config(getenv); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestObservabilityFlags(t *testing.T) {
	env := map[string]string{"STRATA_METRICS_TOKEN": "prom-token", "STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	var o options
	fs := newFlags(&o, io.Discard)
	if err := fs.Parse([]string{"--id", "n1", "--data", "/d1", "--audit-file", "/var/log/strata/audit.jsonl"}); err != nil {
		t.Fatal(err)
	}
	if err := resolve(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	c, err := o.config(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.AuditFile != "/var/log/strata/audit.jsonl" || c.MetricsToken != "prom-token" || c.MetricsPublic {
		t.Fatalf("config %+v", c)
	}
	o.metricsPublic = true
	if _, err := o.config(func(k string) string { return env[k] }); err == nil {
		t.Fatal("a metrics token with --metrics-public accepted")
	}
}

func TestQuotaFlags(t *testing.T) {
	env := map[string]string{"STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "STRATA_QUOTA_RECOUNT_INTERVAL": "1h"}
	getenv := func(k string) string { return env[k] }
	parse := func(args ...string) (node.Config, error) {
		var o options
		fs := newFlags(&o, io.Discard)
		if err := fs.Parse(append(args, "--data", t.TempDir())); err != nil {
			t.Fatal(err)
		}
		if err := resolve(fs, getenv); err != nil {
			t.Fatal(err)
		}
		return o.config(getenv)
	}
	c, err := parse("--quota-flush-interval", "500ms")
	if err != nil || c.QuotaFlushInterval != 500*time.Millisecond || c.QuotaRecountInterval != time.Hour {
		t.Fatalf("config %+v: %v", c, err)
	}
	if c, err := parse("--quota-recount-interval", "0"); err != nil || c.QuotaRecountInterval >= 0 {
		t.Fatalf("no recounts: %v %v", c.QuotaRecountInterval, err)
	}
	for _, bad := range [][]string{{"--quota-flush-interval", "0"}, {"--quota-flush-interval", "soon"}, {"--quota-recount-interval", "-1m"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestILMFlags(t *testing.T) {
	env := map[string]string{"STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "STRATA_ILM_RATE": "250"}
	getenv := func(k string) string { return env[k] }
	parse := func(args ...string) (node.Config, error) {
		var o options
		fs := newFlags(&o, io.Discard)
		if err := fs.Parse(append(args, "--data", t.TempDir())); err != nil {
			t.Fatal(err)
		}
		if err := resolve(fs, getenv); err != nil {
			t.Fatal(err)
		}
		return o.config(getenv)
	}
	c, err := parse()
	if err != nil || c.ILMInterval != time.Hour || c.ILMRate != 250 {
		t.Fatalf("defaults and env: %v %v %v", c.ILMInterval, c.ILMRate, err)
	}
	if c, err := parse("--ilm-interval", "0", "--ilm-rate", "0.5"); err != nil || c.ILMInterval >= 0 || c.ILMRate != 0.5 {
		t.Fatalf("no passes, half an object per second: %v %v %v", c.ILMInterval, c.ILMRate, err)
	}
	for _, bad := range [][]string{{"--ilm-interval", "-1h"}, {"--ilm-interval", "soon"}, {"--ilm-rate", "0"}, {"--ilm-rate", "-3"}, {"--ilm-rate", "fast"}, {"--ilm-rate", "NaN"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestConsoleFlags(t *testing.T) {
	env := map[string]string{"STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "STRATA_CONSOLE_SESSION_IDLE": "30m"}
	getenv := func(k string) string { return env[k] }
	parse := func(args ...string) (node.Config, error) {
		var o options
		fs := newFlags(&o, io.Discard)
		if err := fs.Parse(append(args, "--data", t.TempDir())); err != nil {
			t.Fatal(err)
		}
		if err := resolve(fs, getenv); err != nil {
			t.Fatal(err)
		}
		return o.config(getenv)
	}
	c, err := parse()
	if err != nil || c.ConsoleAddr != "" || c.ConsoleSessionLifetime != 12*time.Hour || c.ConsoleSessionIdle != 30*time.Minute {
		t.Fatalf("defaults and env: %q %v %v %v", c.ConsoleAddr, c.ConsoleSessionLifetime, c.ConsoleSessionIdle, err)
	}
	for _, ok := range []string{"off", "127.0.0.1:9090", ":9090"} {
		if c, err := parse("--console-addr", ok); err != nil || c.ConsoleAddr != ok {
			t.Errorf("--console-addr %s: %q %v", ok, c.ConsoleAddr, err)
		}
	}
	for _, bad := range [][]string{{"--console-addr", "9090"}, {"--console-session-lifetime", "0"}, {"--console-session-idle", "-1h"}, {"--console-session-idle", "soon"}} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
