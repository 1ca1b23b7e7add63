package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
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
  cluster status     nodes (up/down, Raft role, version, addresses), drives
                     (online, size, used), Raft (leader, voters, commit
                     index), placement groups (healthy, degraded,
                     unavailable), heal and rebalance progress, and how
                     many drive and node losses the data survives now
  cluster nodes      every node: addresses, state, Raft role, liveness, version
  cluster drives     every drive: node, online/offline/refilling, size, used,
                     placement groups, index resets
  heal status        self-healing on every node: scanner pass, repairs, read-repair
                     queue, drives being refilled (live on a terminal)
  rebalance status [--wait]
                     PGs moving to new drives after nodes joined or are
                     drained, bytes moved per node; --wait follows it (a
                     live bar on a terminal, a line every 5 s otherwise)
                     until the placement has settled
  ilm status         lifecycle rules at work on every node: the pass in
                     progress or the last one (start, end, buckets and
                     versions walked, versions expired, noncurrent versions
                     and expired delete markers removed, uploads aborted,
                     errors) and when the next pass starts
  node decommission ID [--force] [--no-wait] [--cancel]
                     drain node ID: its PGs move to the other nodes and it
                     leaves the cluster and Raft when empty; refused when
                     the rest cannot hold its data or the EC layout
                     (--force accepts fewer nodes than shards per PG);
                     follows the drain unless --no-wait; --cancel stops it

  user create NAME [--secret-key S] [--account A]
                     create a user (access key = NAME); the secret key is
                     generated when not given and printed only here
  user list | show NAME | remove NAME | disable NAME | enable NAME
                     removing a user removes its service accounts; a
                     disabled user's keys and service accounts stop working;
                     show and list give the user's buckets, usage and quota
  user quota set NAME SIZE | user quota clear NAME
                     a hard quota over the buckets the user owns (made with
                     its keys, its service accounts' or its sessions');
                     SIZE: 2TB (10^12 bytes), 500GiB (2^30), 10MB, 1048576
  account create|list|show|remove A
                     accounts (tenants, e.g. one per project)
  group create|list|show|remove NAME
  group add-user|remove-user GROUP USER
  policy list | show NAME | create NAME FILE | remove NAME
                     IAM policies; create replaces a policy of that name;
                     FILE is a JSON policy document ("-" reads stdin)
  policy attach|detach POLICY (--user U | --group G)
  service-account create [--policy-file F] [--name N] | list | remove AK
                     a user's own child keys, with the user's own keys; the
                     secret key is printed only by create

  sts assume-role [--policy-file F] [--duration 1h] [--role-arn ARN] [--role-session-name N]
                     temporary credentials of the --access-key user (the
                     secret key is asked for when not given), printed as
                     export lines; --duration 15m..1w, Policy narrows them

  bucket create NAME [--owner USER] [--quota SIZE]
                     a bucket owned by USER (default: you)
  bucket list | show NAME | remove NAME
                     buckets with owner, objects, usage and quota (usage as
                     the cluster counted it, at most seconds behind);
                     remove only removes an empty bucket
  bucket quota set NAME SIZE | bucket quota clear NAME
                     a hard quota: a PUT, part upload, copy or POST that
                     would pass it fails with QuotaExceeded (403)

  audit webhook set URL [--token T] | list | remove URL
                     webhooks every node POSTs its audit events to (JSON
                     arrays; Authorization: Bearer T when a token is set;
                     the token is stored sealed and never shown again)

  presign get|put|head|delete s3://BUCKET/KEY [--expires 1h]
                     print a presigned (SigV4 query-signed) URL, usable with
                     curl, valid for --expires (900s, 60m, 12h, 2d, 1w; at
                     most 7 days; default 1h)

  bench [--workloads LIST] [--duration 30s] [--concurrency 16] [--keep] ...
                     S3 benchmark (aws-sdk-go-v2, SigV4) against --endpoint,
                     a comma-separated list the clients spread over; LIST:
                     all (default) or put-4k,get-4k,put-1m,get-1m,put-64m,
                     get-64m,getput,mixed,list,delete, or the groups put,
                     get, 4k, 1m, 64m; also --concurrency-64m N, --bucket B,
                     --list-keys 10000, --objects N (to read or delete; 0:
                     256 MiB worth), --metrics-path /strata/metrics,
                     --metrics-token T (or STRATA_METRICS_TOKEN; else the
                     metrics are read with the signed keys). Prints ops,
                     MiB/s, obj/s, p50/p90/p99, errors, each node's peak RSS
                     and CPU seconds; exits 1 when a request failed.
                     See docs/benchmarks.md.

Flags before the command are global; a flag after the command words belongs
to the command when the command has it (user create --secret-key is the new
user's secret), else it is global. --json prints JSON instead of tables.

Credentials: STRATA_ENDPOINT, STRATA_ACCESS_KEY, STRATA_SECRET_KEY, falling
back to AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
`

type globals struct {
	endpoint, accessKey, secretKey, region string
	expires                                string
	json                                   bool
}

// commandFlags are the flags of each command (its first two words); after
// the command words they win over global flags of the same name.
var commandFlags = map[string][]string{
	"user create":            {"secret-key", "account"},
	"policy attach":          {"user", "group"},
	"policy detach":          {"user", "group"},
	"service-account create": {"policy-file", "name"},
	"sts assume-role":        {"policy-file", "duration", "role-arn", "role-session-name"},
	"node decommission":      {"force", "no-wait", "cancel"},
	"rebalance status":       {"wait"},
	"audit webhook":          {"token"},
	"bucket create":          {"owner", "quota"},
	"bench":                  {"workloads", "duration", "concurrency", "concurrency-64m", "bucket", "keep", "list-keys", "objects", "metrics-path", "metrics-token"},
}

// boolFlags take no value (--force), or an explicit one (--force=false).
var boolFlags = map[string]bool{"json": true, "force": true, "no-wait": true, "cancel": true, "wait": true, "keep": true}

// parsedFlag is one --name[=value] of the command line.
type parsedFlag struct {
	name, value string
	afterWords  bool // it followed the first command word
}

// parseArgs splits args into command words and flags. Every flag but
// the boolFlags takes a value (--name value or --name=value).
func parseArgs(args []string) (words []string, flags []parsedFlag, help bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case name == "h" || name == "help":
			return nil, nil, true, nil
		case boolFlags[name] && !hasValue:
			value = "true"
		case !hasValue:
			if i+1 >= len(args) {
				return nil, nil, false, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		flags = append(flags, parsedFlag{name: name, value: value, afterWords: len(words) > 0})
	}
	return words, flags, false, nil
}

func run(args []string, getenv func(string) string, out io.Writer) error {
	g, words, local, help, err := parseCommandLine(args, getenv)
	if err != nil {
		return fmt.Errorf("%v (see stratactl --help)", err)
	}
	if help {
		fmt.Fprint(out, usage)
		return nil
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
	if words[0] == "bench" {
		return benchCommand(g, words, local, getenv, out)
	}
	if words[0] == "sts" {
		return stsCommand(g, words, local, os.Stdin, out)
	}
	if len(words) >= 2 && words[0] == "user" && words[1] == "quota" {
		return userQuotaCommand(g, words, out)
	}
	switch words[0] {
	case "user", "account", "group", "policy", "service-account":
		return iamCommand(g, words, local, out)
	case "bucket":
		return bucketCommand(g, words, local, out)
	}
	if words[0] == "audit" {
		return auditCommand(g, words, local, out)
	}
	if len(words) >= 2 && words[0] == "node" && words[1] == "decommission" {
		return nodeDecommission(g, words, local, out)
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
	case "heal status":
		return healStatus(g, out)
	case "ilm status":
		return ilmStatus(g, out)
	case "rebalance status":
		return rebalanceStatus(g, local, out)
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

// parseCommandLine resolves the credentials (environment, then flags),
// the command words and the command's own flags.
func parseCommandLine(args []string, getenv func(string) string) (g globals, words []string, local map[string]string, help bool, err error) {
	g = globals{
		endpoint:  first(getenv("STRATA_ENDPOINT"), getenv("AWS_ENDPOINT_URL")),
		accessKey: first(getenv("STRATA_ACCESS_KEY"), getenv("AWS_ACCESS_KEY_ID")),
		secretKey: first(getenv("STRATA_SECRET_KEY"), getenv("AWS_SECRET_ACCESS_KEY")),
		region:    first(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), "us-east-1"),
		expires:   "1h",
	}
	words, flags, help, err := parseArgs(args)
	if err != nil || help {
		return g, nil, nil, help, err
	}
	cmdName := strings.Join(words[:min(2, len(words))], " ")
	local = map[string]string{}
	for _, f := range flags {
		if f.afterWords && slices.Contains(commandFlags[cmdName], f.name) {
			local[f.name] = f.value
			continue
		}
		if err := g.set(f.name, f.value); err != nil {
			return g, nil, nil, false, err
		}
	}
	return g, words, local, false, nil
}

// set sets the global flag name.
func (g *globals) set(name, value string) error {
	switch name {
	case "endpoint":
		g.endpoint = value
	case "access-key":
		g.accessKey = value
	case "secret-key":
		g.secretKey = value
	case "region":
		g.region = value
	case "expires":
		g.expires = value
	case "json":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("--json=%s: want true or false", value)
		}
		g.json = b
	default:
		return fmt.Errorf("unknown flag --%s", name)
	}
	return nil
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

// keygen returns 32 random bytes, base64: a cluster key.
func keygen() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
