package bench

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Config is one benchmark run.
type Config struct {
	// Endpoints are the S3 base URLs (http://host:port); client i talks to
	// Endpoints[i % len(Endpoints)]. Node metrics are read from each.
	Endpoints []string
	// AccessKey, SecretKey and Region sign every request (SigV4).
	AccessKey, SecretKey, Region string
	// Concurrency is the number of clients of every workload but the
	// 64 MiB ones, which use Concurrency64M when it is above zero.
	Concurrency, Concurrency64M int
	// Duration is how long each workload issues requests; requests in
	// flight at its end complete and count.
	Duration time.Duration
	// Workloads run in this order (see Select).
	Workloads []Workload
	// Bucket is created for the run and removed at its end; "" picks
	// strata-bench-<random>. A bucket the caller already owns is used and
	// kept (only the run's objects are removed).
	Bucket string
	// Keep leaves the bucket and every object the run wrote.
	Keep bool
	// ListKeys is the size of the prefix the list workload lists.
	ListKeys int
	// Objects is how many objects the GET, mix and delete workloads want
	// in place before they start (written first when the run has fewer);
	// 0: 256 MiB worth of each size, 2 per client to 2,000, and 10,000
	// for delete.
	Objects int
	// MetricsPath is the path of each endpoint's Prometheus text
	// exposition; "" reads no node metrics.
	MetricsPath string
	// MetricsToken is sent as a bearer token to MetricsPath; without one
	// the request is SigV4-signed with the keys above.
	MetricsToken string
	// SampleInterval is how often node metrics are read during a workload.
	SampleInterval time.Duration
	// VerifyEvery: every VerifyEvery-th GET of a client compares the bytes
	// read with the bytes written (every GET checks size and ETag).
	VerifyEvery int
	// Progress receives a line per phase (prepare, workload, cleanup);
	// nil is silent.
	Progress io.Writer
}

// DefaultConfig is a run of every workload for 30 s with 16 clients,
// reading node metrics from /strata/metrics every 500 ms. Endpoints and
// keys are the caller's.
func DefaultConfig() Config {
	return Config{
		Region:         "us-east-1",
		Concurrency:    16,
		Duration:       30 * time.Second,
		Workloads:      Catalogue(),
		ListKeys:       10000,
		MetricsPath:    "/strata/metrics",
		SampleInterval: 500 * time.Millisecond,
		VerifyEvery:    16,
	}
}

// Validate says what is wrong with c, if anything.
func (c Config) Validate() error {
	switch {
	case len(c.Endpoints) == 0:
		return errors.New("bench: no endpoint")
	case c.AccessKey == "" || c.SecretKey == "":
		return errors.New("bench: need an access key and a secret key")
	case c.Concurrency < 1 || c.Concurrency > 4096:
		return fmt.Errorf("bench: concurrency %d: want 1..4096", c.Concurrency)
	case c.Concurrency64M < 0 || c.Concurrency64M > 4096:
		return fmt.Errorf("bench: 64 MiB concurrency %d: want 0..4096", c.Concurrency64M)
	case c.Duration <= 0:
		return errors.New("bench: duration must be positive")
	case len(c.Workloads) == 0:
		return errors.New("bench: no workload")
	case c.ListKeys < 1 || c.ListKeys > 1_000_000:
		return fmt.Errorf("bench: list keys %d: want 1..1000000", c.ListKeys)
	case c.Objects < 0 || c.Objects > 1_000_000:
		return fmt.Errorf("bench: objects %d: want 0..1000000", c.Objects)
	case c.SampleInterval <= 0:
		return errors.New("bench: sample interval must be positive")
	case c.VerifyEvery < 1:
		return errors.New("bench: verify-every must be at least 1")
	case c.MetricsPath != "" && !strings.HasPrefix(c.MetricsPath, "/"):
		return fmt.Errorf("bench: metrics path %q must start with /", c.MetricsPath)
	}
	for _, e := range c.Endpoints {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench: endpoint %q is not http(s)://host[:port]", e)
		}
	}
	return nil
}

// ParseEndpoints reads a comma-separated list of endpoints; an endpoint
// without a scheme is http://.
func ParseEndpoints(s string) ([]string, error) {
	var eps []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.Contains(e, "://") {
			e = "http://" + e
		}
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("endpoint %q: want http(s)://host:port", e)
		}
		eps = append(eps, u.Scheme+"://"+u.Host)
	}
	if len(eps) == 0 {
		return nil, errors.New("no endpoint")
	}
	return eps, nil
}

// concurrency is the number of clients of w.
func (c Config) concurrency(w Workload) int {
	if w.Size >= 64<<20 && c.Concurrency64M > 0 {
		return c.Concurrency64M
	}
	return c.Concurrency
}
