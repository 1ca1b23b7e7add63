package e2e

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// TestQuotaEndToEnd: quotas set with the stratactl binary refuse an aws
// CLI upload with QuotaExceeded; `bucket list` and `user show` show the
// usage, as a table and as JSON.
func TestQuotaEndToEnd(t *testing.T) {
	procs := startCluster(t, 3, "2+1")
	ep := procs[0].s3
	const sk = "alice-secret-key-123"
	ctlAs(t, ep, rootAK, rootSK, "user", "create", "alice", "--secret-key", sk)
	ctlAs(t, ep, rootAK, rootSK, "policy", "attach", "readwrite", "--user", "alice")
	ctlAs(t, ep, rootAK, rootSK, "bucket", "create", "quota-e2e", "--owner", "alice")
	if out := ctlAs(t, ep, rootAK, rootSK, "bucket", "quota", "set", "quota-e2e", "1MB"); !strings.Contains(out, "976.6 KiB") {
		t.Fatalf("bucket quota set:\n%s", out)
	}
	tmp := t.TempDir()
	small, big := filepath.Join(tmp, "small"), filepath.Join(tmp, "big")
	writeRandom(t, small, 600_000)
	writeRandom(t, big, 500_000)

	out, err := awsAs(t, ep, "alice", sk, "", "s3", "cp", small, "s3://quota-e2e/small")
	wantOK(t, "upload under the quota", out, err)
	// Through the same node: another node sees the first upload only once
	// its node flushed its usage (--quota-flush-interval, 2 s).
	out, err = awsAs(t, ep, "alice", sk, "", "s3", "cp", big, "s3://quota-e2e/big")
	if err == nil || !strings.Contains(out, "QuotaExceeded") || !strings.Contains(out, "Bucket quota exceeded") {
		t.Fatalf("upload over the quota: err=%v\n%s", err, out)
	}
	if out, err := awsAs(t, ep, "alice", sk, "", "s3api", "head-object", "--bucket", "quota-e2e", "--key", "big"); err == nil {
		t.Fatalf("the refused upload was stored:\n%s", out)
	}

	// Usage as stratactl shows it, once node 1 has the others' flush.
	var b adminapi.Bucket
	deadline := time.Now().Add(15 * time.Second)
	for {
		var list []adminapi.Bucket
		if err := json.Unmarshal([]byte(ctlAs(t, procs[2].s3, rootAK, rootSK, "--json", "bucket", "list")), &list); err != nil || len(list) != 1 {
			t.Fatalf("bucket list --json: %v %+v", err, list)
		}
		if b = list[0]; b.UsageBytes == 600_000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if b.Name != "quota-e2e" || b.Owner != "alice" || b.UsageBytes != 600_000 || b.Objects != 1 || b.QuotaBytes != 1_000_000 {
		t.Fatalf("bucket list: %+v", b)
	}
	table := ctlAs(t, procs[2].s3, rootAK, rootSK, "bucket", "list")
	for _, want := range []string{"BUCKET", "USAGE", "QUOTA", "quota-e2e", "alice", "585.9 KiB", "976.6 KiB (60% used)"} {
		if !strings.Contains(table, want) {
			t.Fatalf("bucket list lacks %q:\n%s", want, table)
		}
	}

	// A user quota over alice's buckets, then cleared.
	ctlAs(t, ep, rootAK, rootSK, "bucket", "quota", "clear", "quota-e2e")
	show := ctlAs(t, ep, rootAK, rootSK, "user", "quota", "set", "alice", "1000KB")
	for _, want := range []string{"Usage:", "585.9 KiB (600000 bytes)", "Quota:", "976.6 KiB (60% used)"} {
		if !strings.Contains(show, want) {
			t.Fatalf("user quota set lacks %q:\n%s", want, show)
		}
	}
	out, err = awsAs(t, ep, "alice", sk, "", "s3", "cp", big, "s3://quota-e2e/big")
	if err == nil || !strings.Contains(out, "User quota exceeded") {
		t.Fatalf("upload over the user quota: err=%v\n%s", err, out)
	}
	ctlAs(t, ep, rootAK, rootSK, "user", "quota", "clear", "alice")
	out, err = awsAs(t, ep, "alice", sk, "", "s3", "cp", big, "s3://quota-e2e/big")
	wantOK(t, "upload once the quota is cleared", out, err)
	if show := ctlAs(t, ep, rootAK, rootSK, "user", "show", "alice"); !strings.Contains(show, "(1100000 bytes)") || !regexp.MustCompile(`Quota:\s+-\n`).MatchString(show) {
		t.Fatalf("user show after the upload:\n%s", show)
	}
}
