package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// rebalanceView is `rebalance status --json`.
type rebalanceView struct {
	Epoch       uint64         `json:"epoch"`
	MovingPGs   int            `json:"moving_pgs"`
	MovingTotal int            `json:"moving_total"`
	TotalPGs    int            `json:"total_pgs"`
	MovedBytes  int64          `json:"moved_bytes"` // by the live nodes since they started
	Done        bool           `json:"done"`
	Pending     string         `json:"pending,omitempty"` // why not done
	Nodes       []rebalanceRow `json:"nodes"`
}

type rebalanceRow struct {
	Node      string                  `json:"node"`
	State     string                  `json:"state"`
	PGs       int                     `json:"pgs"` // PGs with a shard on its drives (current epoch)
	Rebalance *adminapi.NodeRebalance `json:"rebalance,omitempty"`
}

// settled reports whether the placement matches the topology and nothing
// moves: no PG moving, no node joining or draining, every up node with
// drives holding PGs. pending says what is left otherwise.
func settled(st adminapi.ClusterStatus) (bool, string) {
	if st.Moving.MovingPGs > 0 {
		return false, fmt.Sprintf("%d of %d PGs moving", st.Moving.MovingPGs, st.Moving.MovingTotal)
	}
	for _, n := range st.Nodes {
		pgs := 0
		for _, d := range n.Drives {
			pgs += d.PGs
		}
		switch {
		case n.State == "joining":
			return false, "node " + n.ID + " joining"
		case n.State == "draining":
			return false, "node " + n.ID + " draining"
		case n.State == "up" && len(n.Drives) > 0 && pgs == 0:
			return false, "node " + n.ID + " not placed yet"
		}
	}
	return true, ""
}

// track feeds a reading of st to m.
func (m *meter) track(st adminapi.ClusterStatus, v rebalanceView) {
	m.started = st.Moving.Started
	m.update(v.MovedBytes, v.MovingTotal-v.MovingPGs)
}

func viewOf(st adminapi.ClusterStatus) rebalanceView {
	v := rebalanceView{Epoch: st.Moving.Epoch, MovingPGs: st.Moving.MovingPGs, MovingTotal: st.Moving.MovingTotal, TotalPGs: st.Moving.TotalPGs, MovedBytes: st.Rebalance.BytesDone}
	v.Done, v.Pending = settled(st)
	for _, n := range st.Nodes {
		row := rebalanceRow{Node: n.ID, State: n.State, Rebalance: n.Rebalance}
		for _, d := range n.Drives {
			row.PGs += d.PGs
		}
		v.Nodes = append(v.Nodes, row)
	}
	return v
}

// meter turns successive readings into a rate and an ETA: averages since
// the first reading (PGs settle in batches and bytes move in bursts, so
// rates between two readings jump), and for the ETA the PGs settled since
// the epoch began when its start is known.
type meter struct {
	first   time.Time
	bytes0  int64
	pgs0    int
	rate    float64 // bytes/s since the first reading
	pgsPS   float64 // PGs/s
	started time.Time
}

func (m *meter) update(bytes int64, pgsDone int) {
	now := time.Now()
	if m.first.IsZero() {
		m.first, m.bytes0, m.pgs0 = now, bytes, pgsDone
		return
	}
	el := now.Sub(m.first).Seconds()
	if el <= 0 {
		return
	}
	m.rate = float64(bytes-m.bytes0) / el
	m.pgsPS = float64(pgsDone-m.pgs0) / el
	if !m.started.IsZero() {
		if since := now.Sub(m.started).Seconds(); since > 0 {
			m.pgsPS = float64(pgsDone) / since
		}
	}
}

// line renders the rebalance on one line: a bar, moved bytes, MiB/s, ETA.
func (m *meter) line(v rebalanceView) string {
	var b strings.Builder
	if v.MovingPGs > 0 {
		done := v.MovingTotal - v.MovingPGs
		fmt.Fprintf(&b, "epoch %d %s %d/%d PGs", v.Epoch, bar(int64(done), int64(v.MovingTotal)), done, v.MovingTotal)
	} else {
		fmt.Fprintf(&b, "epoch %d: no PG moving", v.Epoch)
	}
	fmt.Fprintf(&b, ", %s moved", mib(v.MovedBytes))
	if m.rate > 0 {
		fmt.Fprintf(&b, ", %.1f MiB/s", m.rate/(1<<20))
	}
	if m.pgsPS > 0 && v.MovingPGs > 0 {
		fmt.Fprintf(&b, ", ETA %s", (time.Duration(float64(v.MovingPGs)/m.pgsPS) * time.Second).Round(time.Second))
	}
	if !v.Done && v.Pending != "" && v.MovingPGs == 0 {
		b.WriteString(" (" + v.Pending + ")")
	}
	return b.String()
}

func printRebalance(out io.Writer, v rebalanceView, m *meter) error {
	fmt.Fprintln(out, m.line(v))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATE\tPGS\tMIGRATING\tVERSIONS\tSHARDS MOVED\tBYTES MOVED\tPGS SETTLED\tERRORS")
	for _, n := range v.Nodes {
		r := n.Rebalance
		if r == nil {
			fmt.Fprintf(tw, "%s\t%s\t%d\t(down or not reporting)\t\t\t\t\t\n", n.Node, n.State, n.PGs)
			continue
		}
		mig := "-"
		if r.Active {
			mig = fmt.Sprintf("%d PGs", r.OwnedPGs)
		}
		errs := fmt.Sprint(r.Errors)
		if r.LastError != "" {
			errs += " (last: " + r.LastError + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%d\t%s\n", n.Node, n.State, n.PGs, mig, r.Versions, r.ShardsMoved, mib(r.BytesMoved), r.PGsSettled, errs)
	}
	return tw.Flush()
}

// errStoppedWatching: Ctrl-C ended a watch.
var errStoppedWatching = errors.New("stopped watching (the work goes on in the cluster)")

// watch polls the cluster status every interval and calls show until done
// says to stop; on a terminal show redraws the screen. Ctrl-C stops
// watching (the work goes on in the cluster).
func watch(c *adminapi.Client, out io.Writer, done func(adminapi.ClusterStatus) (bool, error), show func(adminapi.ClusterStatus, bool) error) error {
	f, isFile := out.(*os.File)
	term := isFile && isTerminal(f)
	interval := 5 * time.Second
	if term {
		interval = time.Second
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	defer signal.Stop(stop)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := c.ClusterStatus(ctx)
		cancel()
		if err != nil {
			return err
		}
		finished, err := done(st)
		if err != nil {
			return err
		}
		if err := show(st, term); err != nil {
			return err
		}
		if finished {
			return nil
		}
		select {
		case <-stop:
			return errStoppedWatching
		case <-time.After(interval):
		}
	}
}

// rebalanceStatus prints the rebalance: once, or with --wait until the
// placement has settled (a live bar on a terminal, a line every 5 s
// otherwise).
func rebalanceStatus(g globals, local map[string]string, out io.Writer) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	wait := local["wait"] == "true"
	m := &meter{}
	show := func(st adminapi.ClusterStatus, term bool) error {
		v := viewOf(st)
		m.track(st, v)
		switch {
		case g.json && !wait:
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		case g.json:
			return json.NewEncoder(out).Encode(v) // one line per reading
		case wait && !term:
			_, err := fmt.Fprintln(out, time.Now().Format("15:04:05")+" "+m.line(v))
			return err
		case term && wait:
			fmt.Fprint(out, "\x1b[H\x1b[2J")
		}
		return printRebalance(out, v, m)
	}
	if !wait {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := c.ClusterStatus(ctx)
		if err != nil {
			return err
		}
		return show(st, false)
	}
	return watch(c, out, func(st adminapi.ClusterStatus) (bool, error) {
		ok, _ := settled(st)
		return ok, nil
	}, show)
}

// nodeDecommission drains a node (or cancels a drain) and, unless
// --no-wait, follows the drain until the node is out of the cluster.
func nodeDecommission(g globals, words []string, local map[string]string, out io.Writer) error {
	if len(words) != 3 {
		return errors.New("usage: stratactl node decommission ID [--force] [--no-wait] [--cancel]")
	}
	id := words[2]
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res adminapi.DecommissionResult
	if local["cancel"] == "true" {
		res, err = c.CancelDecommission(ctx, id)
	} else {
		res, err = c.Decommission(ctx, id, local["force"] == "true")
	}
	if err != nil {
		return err
	}
	if g.json && (local["no-wait"] == "true" || local["cancel"] == "true") {
		return json.NewEncoder(out).Encode(res)
	}
	fmt.Fprintln(out, res.Message)
	if local["no-wait"] == "true" || local["cancel"] == "true" {
		return nil
	}
	m := &meter{}
	return watch(c, out, func(st adminapi.ClusterStatus) (bool, error) {
		for _, n := range st.Nodes {
			if n.ID == id {
				switch n.State {
				case "out":
					// The leader removes it from Raft right after.
					return n.Raft == "none", nil
				case "up":
					return false, fmt.Errorf("node %s is up again: the drain was cancelled", id)
				}
				return false, nil
			}
		}
		return true, nil // gone from the status: out
	}, func(st adminapi.ClusterStatus, term bool) error {
		v := viewOf(st)
		m.track(st, v)
		state := "out"
		for _, n := range v.Nodes {
			if n.Node == id {
				state = n.State
			}
		}
		line := fmt.Sprintf("%s: %s; %s", id, state, m.line(v))
		if state == "out" {
			line = id + ": drained, out of the cluster; leaving Raft"
			for _, n := range st.Nodes {
				if n.ID == id && n.Raft == "none" {
					line = id + ": drained, out of the cluster and of Raft"
				}
			}
		}
		if g.json {
			return json.NewEncoder(out).Encode(map[string]any{"node": id, "state": state, "rebalance": v})
		}
		if term {
			fmt.Fprint(out, "\r\x1b[2K"+line)
			if strings.HasSuffix(line, "of Raft") {
				fmt.Fprintln(out)
			}
			return nil
		}
		_, err := fmt.Fprintln(out, time.Now().Format("15:04:05")+" "+line)
		return err
	})
}
