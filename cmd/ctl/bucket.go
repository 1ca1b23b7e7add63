package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// bucketCommands are the bucket commands (after "bucket"): usage and the
// number of positional arguments.
var bucketCommands = map[string]struct {
	usage string
	args  int
}{
	"create":      {"bucket create NAME [--owner USER] [--quota SIZE]", 1},
	"list":        {"bucket list", 0},
	"show":        {"bucket show NAME", 1},
	"remove":      {"bucket remove NAME", 1},
	"quota set":   {"bucket quota set NAME SIZE", 2},
	"quota clear": {"bucket quota clear NAME", 1},
}

// bucketCommand runs `bucket create|list|show|remove` and `bucket quota
// set|clear`.
func bucketCommand(g globals, words []string, local map[string]string, out io.Writer) error {
	name, args := subcommand(words[1:])
	spec, ok := bucketCommands[name]
	if !ok {
		return fmt.Errorf("unknown command %q (see stratactl --help)", strings.Join(words, " "))
	}
	if len(args) != spec.args {
		return errors.New("usage: stratactl " + spec.usage)
	}
	var req adminapi.CreateBucketRequest
	var size int64
	switch name {
	case "create":
		req = adminapi.CreateBucketRequest{Name: args[0], Owner: local["owner"]}
		if q, ok := local["quota"]; ok {
			var err error
			if req.QuotaBytes, err = adminapi.ParseSize(q); err != nil {
				return fmt.Errorf("--quota: %w", err)
			}
		}
	case "quota set":
		var err error
		if size, err = adminapi.ParseSize(args[1]); err != nil {
			return err
		}
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := printer{out: out, json: g.json}
	var b adminapi.Bucket
	switch name {
	case "list":
		buckets, err := c.ListBuckets(ctx)
		if err != nil {
			return err
		}
		return p.print(buckets, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "BUCKET\tOWNER\tCREATED\tOBJECTS\tUSAGE\tQUOTA")
			for _, b := range buckets {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", b.Name, b.Owner, when(b.Created), b.Objects, adminapi.FormatSize(b.UsageBytes), quotaText(b.UsageBytes, b.QuotaBytes))
			}
		})
	case "remove":
		if err := c.RemoveBucket(ctx, args[0]); err != nil {
			return err
		}
		return p.done("bucket", args[0], "removed")
	case "create":
		b, err = c.CreateBucket(ctx, req)
	case "show":
		b, err = c.GetBucket(ctx, args[0])
	case "quota set":
		b, err = c.SetBucketQuota(ctx, args[0], size)
	case "quota clear":
		b, err = c.ClearBucketQuota(ctx, args[0])
	}
	if err != nil {
		return err
	}
	return p.print(b, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Bucket:\t%s\n", b.Name)
		fmt.Fprintf(w, "Owner:\t%s\n", b.Owner)
		fmt.Fprintf(w, "Created:\t%s\n", when(b.Created))
		fmt.Fprintf(w, "Versioning:\t%s\n", yesNo(b.Versioning != "", b.Versioning, "never enabled"))
		fmt.Fprintf(w, "Objects:\t%d\n", b.Objects)
		fmt.Fprintf(w, "Usage:\t%s\n", usageText(b.UsageBytes))
		fmt.Fprintf(w, "Quota:\t%s\n", quotaText(b.UsageBytes, b.QuotaBytes))
		fmt.Fprintf(w, "Recounted:\t%s\n", when(b.Recounted))
	})
}

// userQuotaCommand runs `user quota set NAME SIZE | user quota clear NAME`.
func userQuotaCommand(g globals, words []string, out io.Writer) error {
	const use = "usage: stratactl user quota set NAME SIZE | user quota clear NAME"
	name, args := subcommand(words[1:])
	want := map[string]int{"quota set": 2, "quota clear": 1}
	if n, ok := want[name]; !ok || len(args) != n {
		return errors.New(use)
	}
	var size int64
	if name == "quota set" {
		var err error
		if size, err = adminapi.ParseSize(args[1]); err != nil {
			return err
		}
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var u adminapi.User
	if name == "quota set" {
		u, err = c.SetUserQuota(ctx, args[0], size)
	} else {
		u, err = c.ClearUserQuota(ctx, args[0])
	}
	if err != nil {
		return err
	}
	return printUser(printer{out: out, json: g.json}, u)
}

// subcommand splits the words after the command's first word into the
// subcommand ("list", or "quota set" for the two-word ones) and its
// arguments.
func subcommand(words []string) (string, []string) {
	switch {
	case len(words) == 0:
		return "", nil
	case words[0] == "quota" && len(words) >= 2:
		return "quota " + words[1], words[2:]
	}
	return words[0], words[1:]
}

// usageText is a usage in people's units and exact bytes.
func usageText(bytes int64) string {
	if bytes < 1024 {
		return adminapi.FormatSize(bytes)
	}
	return fmt.Sprintf("%s (%d bytes)", adminapi.FormatSize(bytes), bytes)
}

// quotaText is a quota and how much of it is used ("-" for none).
func quotaText(used, quota int64) string {
	if quota <= 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%.0f%% used)", adminapi.FormatSize(quota), 100*float64(used)/float64(quota))
}
