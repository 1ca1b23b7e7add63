package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestTLSFlagsResolve(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "strata.yaml")
	os.WriteFile(cfgFile, []byte("rpc_tls_cert: /etc/strata/node.pem\nrpc-tls-key: /etc/strata/node-key.pem\nrpc_tls_ca: /etc/strata/ca.pem\ntls_key: /etc/strata/s3-key.pem\n"), 0o600)
	env := map[string]string{"STRATA_TLS_CERT": "/etc/strata/s3.pem", "STRATA_CONFIG": cfgFile,
		"STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	var o options
	fs := newFlags(&o, io.Discard)
	if err := fs.Parse([]string{"--id", "n1", "--data", dir, "--rpc-tls-ca", "/flag/ca.pem"}); err != nil {
		t.Fatal(err)
	}
	if err := resolve(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	c, err := o.config(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.TLSCert != "/etc/strata/s3.pem" || c.TLSKey != "/etc/strata/s3-key.pem" ||
		c.RPCTLSCert != "/etc/strata/node.pem" || c.RPCTLSKey != "/etc/strata/node-key.pem" || c.RPCTLSCA != "/flag/ca.pem" {
		t.Fatalf("resolved %+v", c)
	}
}

func TestTLSFlagsTogether(t *testing.T) {
	env := map[string]string{"STRATA_CLUSTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	for name, args := range map[string][]string{
		"cert without key": {"--tls-cert", "/a.pem"},
		"key without cert": {"--tls-key", "/a-key.pem"},
		"rpc without ca":   {"--rpc-tls-cert", "/a.pem", "--rpc-tls-key", "/a-key.pem"},
		"rpc ca only":      {"--rpc-tls-ca", "/ca.pem"},
	} {
		err := run(append([]string{"server", "--id", "n1", "--data", t.TempDir()}, args...), func(k string) string { return env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "go together") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

type countingReloader struct{ n atomic.Int64 }

func (r *countingReloader) Reload() error { r.n.Add(1); return errors.New("bad pair") }

func TestReloadOnHangup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	var r countingReloader
	done := make(chan struct{})
	go func() {
		reloadOnHangup(ctx, hup, &r, slog.New(slog.DiscardHandler))
		close(done)
	}()
	for i := 1; i <= 3; i++ {
		hup <- syscall.SIGHUP
		deadline := time.Now().Add(5 * time.Second)
		for r.n.Load() != int64(i) {
			if time.Now().After(deadline) {
				t.Fatalf("after %d signals: %d reloads", i, r.n.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reloadOnHangup did not return after ctx ended")
	}
}
