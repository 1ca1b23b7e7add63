package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/strata-io/strata/adminapi"
)

// printStatus prints "cluster status", "cluster nodes" or "cluster drives"
// from one ClusterStatus: JSON with --json, else tables for people.
func printStatus(out io.Writer, cmd string, st adminapi.ClusterStatus, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		switch cmd {
		case "cluster nodes":
			return enc.Encode(st.Nodes)
		case "cluster drives":
			return enc.Encode(drivesOf(st))
		}
		return enc.Encode(st)
	}
	switch cmd {
	case "cluster status":
		printSummary(out, st)
		fmt.Fprintln(out)
		printNodes(out, st)
		fmt.Fprintln(out)
		printDrives(out, st)
		fmt.Fprintln(out)
		fmt.Fprintln(out, st.Survival.Summary)
	case "cluster nodes":
		printNodes(out, st)
	case "cluster drives":
		printDrives(out, st)
	}
	return nil
}

func printSummary(out io.Writer, st adminapi.ClusterStatus) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	alive := 0
	for _, n := range st.Nodes {
		if n.Alive {
			alive++
		}
	}
	r := st.Raft
	fmt.Fprintf(tw, "cluster\t%s\n", st.ClusterID)
	fmt.Fprintf(tw, "erasure coding\t%s (block %d KiB, inline <= %d KiB)\n", st.EC, st.BlockSize>>10, st.InlineMax>>10)
	fmt.Fprintf(tw, "nodes\t%d (%d up, %d down)\n", len(st.Nodes), alive, len(st.Nodes)-alive)
	fmt.Fprintf(tw, "raft\tleader %s, term %d, commit index %d, applied %d (on %s)\n", first(r.Leader, "(none)"), r.Term, r.CommitIndex, r.AppliedIndex, st.Node)
	fmt.Fprintf(tw, "raft voters\t%s; non-voters %s; %s\n", idList(r.Voters), idList(r.NonVoters), tolerates(r.Tolerates))
	p := st.PGs
	fmt.Fprintf(tw, "placement groups\t%d (epoch %d): %d healthy, %d degraded, %d unavailable\n", p.Total, st.PlacementEpoch, p.Healthy, p.Degraded, p.Unavailable)
	fmt.Fprintf(tw, "heal\t%s\n", progress(st.Heal))
	fmt.Fprintf(tw, "rebalance\t%s\n", rebalanceLine(st))
	fmt.Fprintf(tw, "buckets\t%d\n", st.Buckets)
}

func printNodes(out io.Writer, st adminapi.ClusterStatus) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "NODE\tSTATUS\tSTATE\tRAFT\tVERSION\tS3\tRPC\tDRIVES")
	for _, n := range st.Nodes {
		role := n.Raft
		if n.ID == st.Raft.Leader {
			role = "leader"
		}
		online := 0
		for _, d := range n.Drives {
			if d.Online {
				online++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d online\n", n.ID, upDown(n.Alive), n.State, role, first(n.Version, "-"), n.S3Addr, n.RPCAddr, online, len(n.Drives))
	}
}

func printDrives(out io.Writer, st adminapi.ClusterStatus) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "NODE\tDRIVE\tSTATUS\tSTATE\tSIZE\tUSED\tPGS\tINDEX RESETS\tPATH")
	for _, d := range drivesOf(st) {
		size, used := "-", "-"
		if d.Capacity > 0 {
			size = bytesIEC(d.Capacity)
			used = fmt.Sprintf("%s (%d%%)", bytesIEC(d.Used), d.Used*100/d.Capacity)
		}
		status := "online"
		switch {
		case !d.Online:
			status = "offline"
		case d.Refilling:
			status = "refilling"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", d.Node, d.ID, status, d.State, size, used, d.PGs, d.IndexResets, first(d.Path, "-"))
	}
}

type nodeDrive struct {
	Node string `json:"node"`
	adminapi.DriveStatus
	// Refilling: its node is rebuilding the drive's shards and records
	// from the other drives (a replaced drive, or a damaged index).
	Refilling bool `json:"refilling,omitempty"`
}

func drivesOf(st adminapi.ClusterStatus) []nodeDrive {
	var out []nodeDrive
	for _, n := range st.Nodes {
		var refilling []string
		if n.Heal != nil {
			refilling = n.Heal.Refilling
		}
		for _, d := range n.Drives {
			out = append(out, nodeDrive{n.ID, d, slices.Contains(refilling, d.ID)})
		}
	}
	return out
}

func upDown(alive bool) string {
	if alive {
		return "up"
	}
	return "down"
}

func idList(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ",")
}

func tolerates(n int) string {
	switch {
	case n < 0:
		return "NO QUORUM: metadata changes are blocked"
	case n == 1:
		return "tolerates 1 voter failure"
	}
	return fmt.Sprintf("tolerates %d voter failures", n)
}

// progress renders a background task's progress on one line.
func progress(p adminapi.TaskProgress) string {
	if !p.Active {
		if p.PGsTotal > 0 && p.PGsDone >= p.PGsTotal {
			return fmt.Sprintf("idle (last pass: %d PGs, %s)", p.PGsDone, bytesIEC(uint64(max(p.BytesDone, 0))))
		}
		return "idle"
	}
	s := fmt.Sprintf("%d/%d PGs", p.PGsDone, p.PGsTotal)
	if p.PGsTotal > 0 {
		s += fmt.Sprintf(" (%d%%)", p.PGsDone*100/p.PGsTotal)
	}
	s += ", " + bytesIEC(uint64(max(p.BytesDone, 0)))
	if p.BytesTotal > 0 {
		s += " of " + bytesIEC(uint64(p.BytesTotal))
	}
	if p.BytesPerSecond > 0 {
		s += fmt.Sprintf(", %.1f MiB/s", p.BytesPerSecond/(1<<20))
	}
	return s
}

// bytesIEC formats n bytes with binary units: 512 B, 1.5 KiB, 931.3 GiB.
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// rebalanceLine is the rebalance on the status page: the moving PGs of the
// current epoch, or what the epoch moved once it is done.
func rebalanceLine(st adminapi.ClusterStatus) string {
	m := st.Moving
	if m.MovingPGs > 0 {
		return fmt.Sprintf("epoch %d: %s", m.Epoch, progress(st.Rebalance))
	}
	if ok, pending := settled(st); !ok {
		return "pending: " + pending
	}
	if m.MovingTotal > 0 {
		return fmt.Sprintf("idle (epoch %d moved %d of %d PGs)", m.Epoch, m.MovingTotal, m.TotalPGs)
	}
	return "idle"
}
