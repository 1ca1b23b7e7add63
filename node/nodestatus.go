package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/ilm"
	"github.com/strata-io/strata/rpc"
)

// healReport converts the data plane's heal status for the admin API.
func healReport(h dataplane.HealStatus) *adminapi.NodeHeal {
	return &adminapi.NodeHeal{
		Scanning: h.Scanning, Passes: h.Passes, PassStarted: h.PassStarted, LastPassEnd: h.LastPassEnd,
		NextPass: h.NextPass, PGs: h.PGs, PassVersions: h.PassVersions, LastPassSeen: h.LastPassSeen,
		ETASeconds:     h.ETA.Seconds(),
		ObjectsScanned: h.ObjectsScanned, BytesVerified: h.BytesVerified, ShardsRepaired: h.ShardsRepaired,
		RecordsRepaired: h.RecordsRepaired, BytesRepaired: h.BytesRepaired, Errors: h.Errors,
		Queued: h.Queued, Dropped: h.Dropped, Refilling: h.Refilling,
		OrphanSweeps: h.OrphanSweeps, OrphansRemoved: h.OrphansRemoved, OrphanBytesFreed: h.OrphanBytesFreed,
	}
}

// methodNodeStatus is the rpc method every node serves with its own build
// version and drive statistics, for cluster status.
const methodNodeStatus = "node.status"

// nodeReport is the response header of "node.status" (JSON). Fields are only
// added, never renamed: nodes of different versions ask each other.
type nodeReport struct {
	Version string             `json:"version"`
	Drives  []driveReport      `json:"drives"`
	Heal    *adminapi.NodeHeal `json:"heal,omitempty"`
	// Rebalance: added after Heal; absent from older nodes.
	Rebalance *adminapi.NodeRebalance `json:"rebalance,omitempty"`
	// ILM: added after Rebalance; absent from older nodes.
	ILM *adminapi.NodeILM `json:"ilm,omitempty"`
}

// ilmReport converts the lifecycle scanner's status.
func ilmReport(s ilm.Status) *adminapi.NodeILM {
	counters := func(c ilm.Counters) adminapi.ILMCounters {
		return adminapi.ILMCounters{Buckets: c.Buckets, Versions: c.Versions, Uploads: c.Uploads, Expired: c.Expired,
			NoncurrentExpired: c.NoncurrentExpired, MarkersRemoved: c.MarkersRemoved, UploadsAborted: c.UploadsAborted, Errors: c.Errors}
	}
	return &adminapi.NodeILM{Running: s.Running, Passes: s.Passes, PassStarted: s.PassStarted, LastPassEnd: s.LastPassEnd,
		NextPass: s.NextPass, Bucket: s.Bucket, Resumed: s.Resumed, Pass: counters(s.Pass), Total: counters(s.Total), LastError: s.LastError}
}

// rebalanceReport converts the data plane's rebalance counters.
func rebalanceReport(r dataplane.RebalanceStatus) *adminapi.NodeRebalance {
	return &adminapi.NodeRebalance{Active: r.Active, OwnedPGs: r.OwnedPGs, Rounds: r.Rounds, Versions: r.Versions,
		ShardsMoved: r.ShardsMoved, BytesMoved: r.BytesMoved, Verified: r.Verified, PGsSettled: r.PGsSettled,
		Errors: r.Errors, LastError: r.LastError}
}

// driveReport is one local drive as its node sees it now.
type driveReport struct {
	ID       string `json:"id"`
	Path     string `json:"path"`
	Online   bool   `json:"online"`
	Capacity uint64 `json:"capacity"` // bytes of the file system
	Used     uint64 `json:"used"`     // bytes in use on it (by anyone)
	Free     uint64 `json:"free"`     // bytes available to this process
	Error    string `json:"error,omitempty"`
	// IndexResets counts the times a damaged index of the drive was
	// replaced by a fresh one since the node started (then refilled).
	IndexResets int `json:"index_resets,omitempty"`
}

// localReport describes this node: its version, drives, heal, rebalance
// and lifecycle execution.
func (n *Node) localReport() nodeReport {
	return nodeReport{Version: BuildVersion(), Drives: n.driveReports(),
		Heal: healReport(n.data.HealStatus()), Rebalance: rebalanceReport(n.data.RebalanceStatus()), ILM: ilmReport(n.ilm.Status())}
}

// driveReports describes this node's drives: a drive is online when its
// folder is a directory and its file system answers statfs.
func (n *Node) driveReports() []driveReport {
	var out []driveReport
	for _, d := range n.drives {
		dr := driveReport{ID: d.ID(), Path: d.Path(), IndexResets: d.IndexResets()}
		if fi, err := os.Stat(d.Path()); err != nil {
			dr.Error = err.Error()
		} else if !fi.IsDir() {
			dr.Error = d.Path() + " is not a directory"
		} else if fs, err := statFS(d.Path()); err != nil {
			dr.Error = err.Error()
		} else {
			dr.Online, dr.Capacity, dr.Used, dr.Free = true, fs.capacity, fs.used, fs.free
		}
		out = append(out, dr)
	}
	return out
}

// handleNodeStatus serves "node.status".
func (n *Node) handleNodeStatus(context.Context, *rpc.Request) ([]byte, io.ReadCloser, error) {
	hdr, err := json.Marshal(n.localReport())
	return hdr, nil, err
}

// callNodeStatus asks the node at addr for its report.
func (n *Node) callNodeStatus(ctx context.Context, addr string) (nodeReport, error) {
	var r nodeReport
	resp, err := n.tr.Call(ctx, addr, methodNodeStatus, nil, nil)
	if err != nil {
		return r, err
	}
	resp.Body.Close()
	if err := json.Unmarshal(resp.Header, &r); err != nil {
		return r, fmt.Errorf("node status from %s: %w", addr, err)
	}
	return r, nil
}

// fsStats is what statFS reports of a file system, in bytes.
type fsStats struct {
	capacity, used, free uint64
}
