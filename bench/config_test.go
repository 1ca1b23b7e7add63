package bench

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseEndpoints(t *testing.T) {
	got, err := ParseEndpoints(" 127.0.0.1:9000, http://127.0.0.1:9001/ ,https://s3.example.org,")
	want := []string{"http://127.0.0.1:9000", "http://127.0.0.1:9001", "https://s3.example.org"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("%v %v, want %v", got, err, want)
	}
	for _, bad := range []string{"", ",", "ftp://host", "http://", "http://host/bucket"} {
		if eps, err := ParseEndpoints(bad); err == nil {
			t.Errorf("%q accepted: %v", bad, eps)
		}
	}
}

func TestValidate(t *testing.T) {
	good := DefaultConfig()
	good.Endpoints, good.AccessKey, good.SecretKey = []string{"http://127.0.0.1:9000"}, "ak", "sk"
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.Concurrency != 16 || good.Duration != 30*time.Second || len(good.Workloads) != 10 || good.ListKeys != 10000 ||
		good.MetricsPath != "/strata/metrics" || good.SampleInterval != 500*time.Millisecond {
		t.Errorf("defaults: %+v", good)
	}
	for name, change := range map[string]func(*Config){
		"endpoint":        func(c *Config) { c.Endpoints = nil },
		"not http":        func(c *Config) { c.Endpoints = []string{"127.0.0.1:9000"} },
		"key":             func(c *Config) { c.SecretKey = "" },
		"concurrency":     func(c *Config) { c.Concurrency = 0 },
		"64m":             func(c *Config) { c.Concurrency64M = -1 },
		"duration":        func(c *Config) { c.Duration = 0 },
		"workloads":       func(c *Config) { c.Workloads = nil },
		"list keys":       func(c *Config) { c.ListKeys = 0 },
		"metrics path":    func(c *Config) { c.MetricsPath = "metrics" },
		"verify every":    func(c *Config) { c.VerifyEvery = 0 },
		"sample interval": func(c *Config) { c.SampleInterval = 0 },
	} {
		c := good
		change(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "bench: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
