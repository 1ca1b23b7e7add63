package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// healStatus prints every live node's self-healing: once, or — on a
// terminal — refreshed every second with a progress bar per scanning node
// until Ctrl-C.
func healStatus(g globals, out io.Writer) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	fetch := func() (adminapi.ClusterStatus, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return c.ClusterStatus(ctx)
	}
	st, err := fetch()
	if err != nil {
		return err
	}
	f, isFile := out.(*os.File)
	if g.json || !isFile || !isTerminal(f) {
		return printHeal(out, st, g.json, nil)
	}
	prev := map[string]int64{}
	last := time.Now()
	err = watch(c, out, func(adminapi.ClusterStatus) (bool, error) { return false, nil }, func(st adminapi.ClusterStatus, _ bool) error {
		fmt.Fprint(out, "\x1b[H\x1b[2J") // home, clear
		rate := map[string]float64{}
		el := time.Since(last).Seconds()
		for _, n := range st.Nodes {
			if n.Heal != nil {
				if p, ok := prev[n.ID]; ok && el > 0 {
					rate[n.ID] = float64(n.Heal.BytesVerified+n.Heal.BytesRepaired-p) / el
				}
				prev[n.ID] = n.Heal.BytesVerified + n.Heal.BytesRepaired
			}
		}
		last = time.Now()
		if err := printHeal(out, st, false, rate); err != nil {
			return err
		}
		_, err := fmt.Fprintln(out, "\n(refreshing every second; Ctrl-C to quit)")
		return err
	})
	if errors.Is(err, errStoppedWatching) {
		return nil
	}
	return err
}

// printHeal writes the heal table. rate (bytes/s per node, verified plus
// repaired) is shown when known, with a bar of the current pass.
func printHeal(out io.Writer, st adminapi.ClusterStatus, asJSON bool, rate map[string]float64) error {
	if asJSON {
		type nodeHeal struct {
			Node string             `json:"node"`
			Heal *adminapi.NodeHeal `json:"heal"`
		}
		var list []nodeHeal
		for _, n := range st.Nodes {
			list = append(list, nodeHeal{n.ID, n.Heal})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"active": st.Heal.Active, "bytes_repaired": st.Heal.BytesDone, "nodes": list})
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSCANNER\tPASS\tSCANNED\tVERIFIED\tREPAIRED\tERRORS\tQUEUED\tREFILLING\tORPHANS REMOVED")
	for _, n := range st.Nodes {
		h := n.Heal
		if h == nil {
			fmt.Fprintf(tw, "%s\t(down or not reporting)\t\t\t\t\t\t\t\t\n", n.ID)
			continue
		}
		scanner := "idle"
		switch {
		case h.Scanning:
			scanner = "scanning " + bar(h.PassVersions, h.LastPassSeen)
			if h.ETASeconds > 0 {
				scanner += " ETA " + (time.Duration(h.ETASeconds) * time.Second).String()
			}
		case !h.NextPass.IsZero():
			scanner = "next pass in " + time.Until(h.NextPass).Round(time.Minute).String()
		}
		if r, ok := rate[n.ID]; ok {
			scanner += fmt.Sprintf(" %.1f MiB/s", r/(1<<20))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d shards, %s\t%d\t%d\t%s\t%d, %s\n", n.ID, scanner, h.Passes, h.ObjectsScanned,
			mib(h.BytesVerified), h.ShardsRepaired+h.RecordsRepaired, mib(h.BytesRepaired), h.Errors, h.Queued, first(strings.Join(h.Refilling, ","), "-"),
			h.OrphansRemoved, mib(h.OrphanBytesFreed))
	}
	return tw.Flush()
}

// bar draws done/total as a 20-cell progress bar with a percentage; total
// 0 (the first pass: its size is not known yet) draws no bar.
func bar(done, total int64) string {
	if total <= 0 {
		return fmt.Sprintf("(%d versions, first pass)", done)
	}
	frac := min(float64(done)/float64(total), 1)
	n := int(frac * 20)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + fmt.Sprintf("] %3.0f%%", frac*100)
}

func mib(b int64) string { return bytesIEC(uint64(max(b, 0))) }
