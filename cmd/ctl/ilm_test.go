package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
)

func TestPrintILM(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	st := adminapi.ClusterStatus{Nodes: []adminapi.NodeStatus{
		{ID: "n1", ILM: &adminapi.NodeILM{Passes: 3, PassStarted: now.Add(-time.Hour), LastPassEnd: now.Add(-50 * time.Minute), NextPass: now.Add(10 * time.Minute),
			Pass: adminapi.ILMCounters{Buckets: 2, Versions: 1500, Expired: 7, NoncurrentExpired: 4, MarkersRemoved: 2, UploadsAborted: 1}}},
		{ID: "n2", ILM: &adminapi.NodeILM{Running: true, Resumed: true, Bucket: "logs", Passes: 2, PassStarted: now.Add(-time.Minute),
			Pass: adminapi.ILMCounters{Buckets: 1, Versions: 10, Errors: 1}, LastError: "list versions of logs: quorum"}},
		{ID: "n3"},
	}}
	var out bytes.Buffer
	if err := printILM(&out, st, false, now); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"NODE  STATE                    PASSES  PASS STARTED         PASS ENDED           BUCKETS  VERSIONS  EXPIRED  NONCURRENT  MARKERS  UPLOADS ABORTED  ERRORS  NEXT PASS",
		"n1    idle                     3       2024-06-01 11:00:00  2024-06-01 11:10:00  2        1500      7        4           2        1                0       in 10m0s",
		"n2    running logs (resumed)   2       2024-06-01 11:59:00  -                    1        10        0        0           0        0                1       -",
		"n3    (down or not reporting)",
		"last errors (the next pass retries):\n  n2: list versions of logs: quorum\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	out.Reset()
	if err := printILM(&out, st, true, now); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Nodes []struct {
			Node string            `json:"node"`
			ILM  *adminapi.NodeILM `json:"ilm"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || len(back.Nodes) != 3 || back.Nodes[0].ILM.Pass.Expired != 7 || back.Nodes[2].ILM != nil {
		t.Fatalf("JSON %s: %v", out.String(), err)
	}
}
