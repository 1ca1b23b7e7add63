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

// auditCommand runs `audit webhook set URL [--token T] | list | remove URL`.
func auditCommand(g globals, words []string, local map[string]string, out io.Writer) error {
	const use = "usage: stratactl audit webhook set URL [--token T] | audit webhook list | audit webhook remove URL"
	if len(words) < 3 || words[1] != "webhook" {
		return errors.New(use)
	}
	sub, args := words[2], words[3:]
	want := map[string]int{"set": 1, "list": 0, "remove": 1}
	if n, ok := want[sub]; !ok || len(args) != n {
		return errors.New(use)
	}
	if _, ok := local["token"]; ok && sub != "set" {
		return errors.New("--token goes with audit webhook set")
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := printer{out: out, json: g.json}
	switch sub {
	case "set":
		w, err := c.SetAuditWebhook(ctx, adminapi.SetAuditWebhookRequest{URL: args[0], Token: local["token"]})
		if err != nil {
			return err
		}
		return p.print(w, func(tw *tabwriter.Writer) {
			fmt.Fprintf(tw, "Audit webhook:\t%s\n", w.URL)
			fmt.Fprintf(tw, "Token:\t%s\n", yesNo(w.HasToken, "set (stored sealed, never shown)", "none"))
			fmt.Fprintf(tw, "Created:\t%s\n", when(w.Created))
		})
	case "list":
		hooks, err := c.ListAuditWebhooks(ctx)
		if err != nil {
			return err
		}
		return p.print(hooks, func(tw *tabwriter.Writer) {
			fmt.Fprintln(tw, "URL\tTOKEN\tCREATED")
			for _, w := range hooks {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", w.URL, yesNo(w.HasToken, "yes", "no"), when(w.Created))
			}
		})
	}
	if err := c.RemoveAuditWebhook(ctx, args[0]); err != nil {
		return err
	}
	return p.done("audit webhook", strings.TrimSpace(args[0]), "removed")
}
