package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestBenchFlags(t *testing.T) {
	env := map[string]string{"STRATA_ENDPOINT": "127.0.0.1:9500,127.0.0.1:9501", "STRATA_ACCESS_KEY": "AK", "STRATA_SECRET_KEY": "SK",
		"STRATA_METRICS_TOKEN": "from-env"}
	getenv := func(k string) string { return env[k] }
	parse := func(args ...string) (string, error) {
		g, words, local, _, err := parseCommandLine(args, getenv)
		if err != nil {
			return "", err
		}
		if len(words) != 1 || words[0] != "bench" {
			t.Fatalf("words %v", words)
		}
		cfg, err := benchConfig(g, local, getenv)
		if err != nil {
			return "", err
		}
		var names []string
		for _, w := range cfg.Workloads {
			names = append(names, w.Name)
		}
		return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|keep=%v|%d %d %d %d", strings.Join(cfg.Endpoints, " "), cfg.AccessKey, cfg.SecretKey,
			cfg.Duration, strings.Join(names, " "), cfg.MetricsToken, cfg.MetricsPath, cfg.Bucket, cfg.Keep,
			cfg.Concurrency, cfg.Concurrency64M, cfg.ListKeys, cfg.Objects), nil
	}
	got, err := parse("bench")
	if want := "http://127.0.0.1:9500 http://127.0.0.1:9501|AK|SK|30s|put-4k get-4k put-1m get-1m put-64m get-64m getput mixed list delete|from-env|/strata/metrics||keep=false|16 0 10000 0"; err != nil || got != want {
		t.Errorf("defaults:\n got %s %v\nwant %s", got, err, want)
	}
	got, err = parse("--endpoint", "https://s3.example.org", "bench", "--workloads", "1m,list", "--duration", "5s", "--concurrency", "4",
		"--concurrency-64m", "2", "--list-keys", "300", "--objects", "50", "--keep", "--bucket", "mine", "--metrics-token", "tok", "--metrics-path", "/minio/v2/metrics/node", "--json")
	if want := "https://s3.example.org|AK|SK|5s|put-1m get-1m list|tok|/minio/v2/metrics/node|mine|keep=true|4 2 300 50"; err != nil || got != want {
		t.Errorf("flags:\n got %s %v\nwant %s", got, err, want)
	}
	for _, bad := range [][]string{
		{"bench", "--workloads", "put-2m"},
		{"bench", "--duration", "soon"},
		{"bench", "--concurrency", "many"},
		{"bench", "--concurrency", "0"},
		{"bench", "--list-keys", "0"},
		{"bench", "--objects", "-1"},
		{"bench", "--keep=maybe"},
		{"bench", "--metrics-path", "metrics"},
		{"--endpoint", "ftp://x", "bench"},
		{"--concurrency", "4", "bench"}, // a bench flag before the command is a global one: unknown
	} {
		if got, err := parse(bad...); err == nil {
			t.Errorf("%v accepted: %s", bad, got)
		}
	}
}

func TestBenchNeedsEndpointAndKeys(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"bench", "--duration", "1s"}, noenv, &out)
	if err == nil || !strings.Contains(err.Error(), "need an endpoint and keys") {
		t.Fatalf("%v", err)
	}
	if err := run([]string{"--endpoint", "127.0.0.1:1", "--access-key", "a", "--secret-key", "b", "bench", "extra"}, noenv, &out); err == nil || !strings.Contains(err.Error(), "usage: stratactl") {
		t.Fatalf("extra words: %v", err)
	}
}
