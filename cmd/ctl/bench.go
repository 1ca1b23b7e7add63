package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/strata-io/strata/bench"
)

// benchUsage is the help of `stratactl bench`.
const benchUsage = `usage: stratactl [--endpoint URL[,URL...]] bench [--workloads LIST] [--duration 30s]
         [--concurrency 16] [--concurrency-64m N] [--bucket NAME] [--keep]
         [--list-keys 10000] [--objects N] [--metrics-path /strata/metrics] [--metrics-token T] [--json]`

// benchCommand runs `stratactl bench`: the load generator of package
// bench against --endpoint (a comma-separated list), printing its table
// or, with --json, its report. It fails when a request failed.
func benchCommand(g globals, words []string, local map[string]string, getenv func(string) string, out io.Writer) error {
	if len(words) != 1 {
		return errors.New(benchUsage)
	}
	cfg, err := benchConfig(g, local, getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the run stops and cleans up; a second
		// one kills the process as usual.
		<-ctx.Done()
		stop()
	}()
	cfg.Progress = os.Stderr
	rep, runErr := bench.Run(ctx, cfg)
	if rep == nil {
		return runErr
	}
	if g.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteTable(out); err != nil {
		return err
	}
	switch {
	case runErr != nil:
		return runErr
	case rep.Interrupted:
		return errors.New("bench: interrupted")
	case rep.Summary.Errors > 0:
		return fmt.Errorf("bench: %d of %d requests failed", rep.Summary.Errors, rep.Summary.Errors+rep.Summary.Ops)
	}
	return nil
}

// benchConfig reads bench's flags over bench.DefaultConfig: endpoints and
// keys from the global flags or the environment, the metrics token from
// --metrics-token or STRATA_METRICS_TOKEN.
func benchConfig(g globals, local map[string]string, getenv func(string) string) (bench.Config, error) {
	cfg := bench.DefaultConfig()
	if g.endpoint == "" || g.accessKey == "" || g.secretKey == "" {
		return cfg, errors.New("need an endpoint and keys: --endpoint/--access-key/--secret-key or STRATA_ENDPOINT/STRATA_ACCESS_KEY/STRATA_SECRET_KEY")
	}
	eps, err := bench.ParseEndpoints(g.endpoint)
	if err != nil {
		return cfg, fmt.Errorf("--endpoint: %w", err)
	}
	cfg.Endpoints, cfg.AccessKey, cfg.SecretKey, cfg.Region = eps, g.accessKey, g.secretKey, g.region
	cfg.MetricsToken = getenv("STRATA_METRICS_TOKEN")
	ints := map[string]*int{"concurrency": &cfg.Concurrency, "concurrency-64m": &cfg.Concurrency64M, "list-keys": &cfg.ListKeys, "objects": &cfg.Objects}
	for name, value := range local {
		switch name {
		case "concurrency", "concurrency-64m", "list-keys", "objects":
			n, err := strconv.Atoi(value)
			if err != nil {
				return cfg, fmt.Errorf("--%s %q: want a whole number", name, value)
			}
			*ints[name] = n
		case "duration":
			if cfg.Duration, err = parseDuration(value); err != nil {
				return cfg, fmt.Errorf("--duration: %w", err)
			}
		case "workloads":
			if cfg.Workloads, err = bench.Select(value); err != nil {
				return cfg, fmt.Errorf("--workloads: %w", err)
			}
		case "bucket":
			cfg.Bucket = value
		case "keep":
			if cfg.Keep, err = strconv.ParseBool(value); err != nil {
				return cfg, fmt.Errorf("--keep=%s: want true or false", value)
			}
		case "metrics-path":
			cfg.MetricsPath = value
		case "metrics-token":
			cfg.MetricsToken = value
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}
