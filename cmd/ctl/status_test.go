package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-io/strata/adminapi"
)

func fixtureStatus() adminapi.ClusterStatus {
	return adminapi.ClusterStatus{
		ClusterID: "c-1", EC: "2+2", PGCount: 64, BlockSize: 1 << 20, InlineMax: 128 << 10, PlacementEpoch: 1,
		Leader: "n1", Buckets: 3, Node: "n2",
		Nodes: []adminapi.NodeStatus{
			{ID: "n1", S3Addr: "10.0.0.1:9000", RPCAddr: "10.0.0.1:9100", State: "up", Raft: "voter", Alive: true, Version: "v1.2.3",
				Drives: []adminapi.DriveStatus{{ID: "d1", Path: "/mnt/a", State: "up", Online: true, PGs: 32, Capacity: 4 << 40, Used: 1 << 40, Free: 3 << 40, IndexResets: 1}},
				Heal:   &adminapi.NodeHeal{Refilling: []string{"d1"}}},
			{ID: "n2", S3Addr: "10.0.0.2:9000", RPCAddr: "10.0.0.2:9100", State: "up", Raft: "nonvoter", Alive: false,
				Drives: []adminapi.DriveStatus{{ID: "d2", State: "up", PGs: 32}}},
		},
		Raft:      adminapi.RaftStatus{Leader: "n1", Term: 4, CommitIndex: 120, AppliedIndex: 119, Voters: []string{"n1"}, NonVoters: []string{"n2"}, Tolerates: 0},
		PGs:       adminapi.PGHealth{Total: 64, Healthy: 32, Degraded: 32},
		Survival:  adminapi.Survival{Drives: 1, Nodes: 0, Summary: "Data survives the loss of any 1 drive now, but not of a whole node."},
		Rebalance: adminapi.TaskProgress{Active: true, PGsDone: 16, PGsTotal: 64, BytesDone: 3 << 30, BytesPerSecond: 50 << 20},
		Moving:    adminapi.RebalanceInfo{Epoch: 2, MovingPGs: 48, MovingTotal: 64, TotalPGs: 64},
	}
}

func TestPrintStatusHuman(t *testing.T) {
	var out bytes.Buffer
	if err := printStatus(&out, "cluster status", fixtureStatus(), false); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"placement groups  64 (epoch 1): 32 healthy, 32 degraded, 0 unavailable",
		"raft              leader n1, term 4, commit index 120, applied 119 (on n2)",
		"raft voters       n1; non-voters n2; tolerates 0 voter failures",
		"nodes             2 (1 up, 1 down)",
		"heal              idle",
		"rebalance         epoch 2: 16/64 PGs (25%), 3.0 GiB, 50.0 MiB/s",
		"n1    up      up     leader    v1.2.3",
		"n2    down    up     nonvoter  -",
		"n1    d1     refilling  up     4.0 TiB  1.0 TiB (25%)  32   1             /mnt/a",
		"n2    d2     offline    up     -        -              32   0             -",
		"\nData survives the loss of any 1 drive now, but not of a whole node.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestPrintStatusJSON(t *testing.T) {
	st := fixtureStatus()
	var out bytes.Buffer
	if err := printStatus(&out, "cluster status", st, true); err != nil {
		t.Fatal(err)
	}
	var back adminapi.ClusterStatus
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("JSON round trip:\n%+v\nwant\n%+v", back, st)
	}
	out.Reset()
	if err := printStatus(&out, "cluster drives", st, true); err != nil {
		t.Fatal(err)
	}
	var drives []map[string]any
	if err := json.Unmarshal(out.Bytes(), &drives); err != nil || len(drives) != 2 || drives[0]["node"] != "n1" || drives[0]["capacity"] != float64(4<<40) ||
		drives[0]["refilling"] != true || drives[0]["index_resets"] != float64(1) {
		t.Fatalf("drives JSON %s: %v", out.String(), err)
	}
}

func TestBytesIEC(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 1 << 50: "1.0 PiB", 1<<64 - 1: "16.0 EiB"} {
		if got := bytesIEC(n); got != want {
			t.Errorf("bytesIEC(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPrintHeal(t *testing.T) {
	st := adminapi.ClusterStatus{Nodes: []adminapi.NodeStatus{
		{ID: "n1", Heal: &adminapi.NodeHeal{Scanning: true, Passes: 2, PassVersions: 50, LastPassSeen: 200, ObjectsScanned: 450, ShardsRepaired: 3, BytesRepaired: 3 << 20, Refilling: []string{"d9"},
			OrphansRemoved: 7, OrphanBytesFreed: 5 << 20}},
		{ID: "n2"},
	}}
	var out bytes.Buffer
	if err := printHeal(&out, st, false, map[string]float64{"n1": 2 << 20}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[#####...............]  25%", "2.0 MiB/s", "3 shards", "d9", "n2", "down or not reporting", "7, 5.0 MiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := printHeal(&out, st, true, nil); err != nil || !strings.Contains(out.String(), `"shards_repaired": 3`) {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
}
