package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// ilmStatus prints every live node's lifecycle execution.
func ilmStatus(g globals, out io.Writer) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.ClusterStatus(ctx)
	if err != nil {
		return err
	}
	return printILM(out, st, g.json, time.Now())
}

// printILM writes the lifecycle table: per node, the pass in progress or
// the last one (start, end, what it walked and did), and when the next
// one starts (relative to now).
func printILM(out io.Writer, st adminapi.ClusterStatus, asJSON bool, now time.Time) error {
	if asJSON {
		type nodeILM struct {
			Node string            `json:"node"`
			ILM  *adminapi.NodeILM `json:"ilm"`
		}
		list := []nodeILM{}
		for _, n := range st.Nodes {
			list = append(list, nodeILM{n.ID, n.ILM})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"nodes": list})
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tPASSES\tPASS STARTED\tPASS ENDED\tBUCKETS\tVERSIONS\tEXPIRED\tNONCURRENT\tMARKERS\tUPLOADS ABORTED\tERRORS\tNEXT PASS")
	var errs []string
	for _, n := range st.Nodes {
		s := n.ILM
		if n.State == "out" {
			continue // left the cluster: runs no lifecycle pass
		}
		if s == nil {
			fmt.Fprintf(tw, "%s\t(down or not reporting)\t\t\t\t\t\t\t\t\t\t\t\n", n.ID)
			continue
		}
		state, ended, next := "idle", stamp(s.LastPassEnd), "off"
		switch {
		case s.Running:
			state, ended, next = "running "+s.Bucket, "-", "-"
			if s.Resumed {
				state += " (resumed)"
			}
		case !s.NextPass.IsZero():
			next = "in " + max(s.NextPass.Sub(now), 0).Round(time.Second).String()
		}
		p := s.Pass
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", n.ID, state, s.Passes, stamp(s.PassStarted), ended,
			p.Buckets, p.Versions, p.Expired, p.NoncurrentExpired, p.MarkersRemoved, p.UploadsAborted, p.Errors, next)
		if s.LastError != "" {
			errs = append(errs, n.ID+": "+s.LastError)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(errs) > 0 {
		fmt.Fprintln(out, "\nlast errors (the next pass retries):")
		for _, e := range errs {
			fmt.Fprintln(out, "  "+e)
		}
	}
	return nil
}
