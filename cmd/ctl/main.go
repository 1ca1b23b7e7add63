package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-io/strata/adminapi"
)

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stratactl: "+err.Error())
		os.Exit(1)
	}
}

const usage = `usage: stratactl [--endpoint URL] [--access-key AK] [--secret-key SK] [--json] COMMAND

  cluster keygen     print a new random cluster key (base64, 32 bytes)
  cluster status     cluster id, EC layout, leader, node and bucket counts
  cluster nodes      every node: addresses, state, Raft role, liveness
  cluster drives     every drive: node, state, placement groups
  presign get|put|head|delete s3://BUCKET/KEY [--expires 1h]
                     print a presigned (SigV4 query-signed) URL, usable with
                     curl, valid for --expires (900s, 60m, 12h, 2d, 1w; at
                     most 7 days; default 1h)

Credentials: STRATA_ENDPOINT, STRATA_ACCESS_KEY, STRATA_SECRET_KEY, falling
back to AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
`

type globals struct {
	endpoint, accessKey, secretKey, region string
	expires                                string
	json                                   bool
}

func run(args []string, getenv func(string) string, out io.Writer) error {
	var g globals
	fs := flag.NewFlagSet("stratactl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.endpoint, "endpoint", first(getenv("STRATA_ENDPOINT"), getenv("AWS_ENDPOINT_URL")), "")
	fs.StringVar(&g.accessKey, "access-key", first(getenv("STRATA_ACCESS_KEY"), getenv("AWS_ACCESS_KEY_ID")), "")
	fs.StringVar(&g.secretKey, "secret-key", first(getenv("STRATA_SECRET_KEY"), getenv("AWS_SECRET_ACCESS_KEY")), "")
	fs.StringVar(&g.region, "region", first(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1"), "")
	fs.StringVar(&g.expires, "expires", "1h", "")
	fs.BoolVar(&g.json, "json", false, "")
	// Global flags may also follow the command words.
	var words []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(out, usage)
				return nil
			}
			return fmt.Errorf("%v (see stratactl --help)", err)
		}
		if fs.NArg() == 0 {
			break
		}
		words = append(words, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(words) == 0 || words[0] == "help" {
		fmt.Fprint(out, usage)
		if len(words) == 0 {
			return errors.New("missing command")
		}
		return nil
	}
	if words[0] == "presign" {
		return presign(g, words[1:], out)
	}
	cmd := strings.Join(words, " ")
	switch cmd {
	case "cluster keygen":
		key, err := keygen()
		if err != nil {
			return err
		}
		fmt.Fprintln(out, key)
		return nil
	case "cluster status", "cluster nodes", "cluster drives":
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
		return printStatus(out, cmd, st, g.json)
	}
	return fmt.Errorf("unknown command %q (see stratactl --help)", cmd)
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (g globals) client() (*adminapi.Client, error) {
	if g.endpoint == "" || g.accessKey == "" || g.secretKey == "" {
		return nil, errors.New("need an endpoint and keys: --endpoint/--access-key/--secret-key or STRATA_ENDPOINT/STRATA_ACCESS_KEY/STRATA_SECRET_KEY")
	}
	ep := g.endpoint
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	return &adminapi.Client{Endpoint: ep, AccessKey: g.accessKey, SecretKey: g.secretKey, Region: g.region}, nil
}

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
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch cmd {
	case "cluster status":
		alive := 0
		for _, n := range st.Nodes {
			if n.Alive {
				alive++
			}
		}
		fmt.Fprintf(tw, "cluster\t%s\n", st.ClusterID)
		fmt.Fprintf(tw, "erasure coding\t%s (block %d KiB, inline <= %d KiB)\n", st.EC, st.BlockSize>>10, st.InlineMax>>10)
		fmt.Fprintf(tw, "placement\tepoch %d, %d PGs\n", st.PlacementEpoch, st.PGCount)
		fmt.Fprintf(tw, "leader\t%s\n", first(st.Leader, "(none)"))
		fmt.Fprintf(tw, "nodes\t%d (%d alive)\n", len(st.Nodes), alive)
		fmt.Fprintf(tw, "buckets\t%d\n", st.Buckets)
	case "cluster nodes":
		fmt.Fprintln(tw, "ID\tS3\tRPC\tSTATE\tRAFT\tALIVE\tDRIVES")
		for _, n := range st.Nodes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%d\n", n.ID, n.S3Addr, n.RPCAddr, n.State, n.Raft, n.Alive, len(n.Drives))
		}
	case "cluster drives":
		fmt.Fprintln(tw, "NODE\tDRIVE\tSTATE\tPGS")
		for _, d := range drivesOf(st) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.Node, d.ID, d.State, d.PGs)
		}
	}
	return nil
}

type nodeDrive struct {
	Node string `json:"node"`
	adminapi.DriveStatus
}

func drivesOf(st adminapi.ClusterStatus) []nodeDrive {
	var out []nodeDrive
	for _, n := range st.Nodes {
		for _, d := range n.Drives {
			out = append(out, nodeDrive{n.ID, d})
		}
	}
	return out
}

// keygen returns 32 random bytes, base64: a cluster key.
func keygen() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
