package main

import (
	"bytes"
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

// iamCommands are the IAM commands, keyed by their first two words: the
// usage line and how many positional arguments follow the two words.
var iamCommands = map[string]struct {
	usage string
	args  int
}{
	"user create":            {"user create NAME [--secret-key S] [--account A]", 1},
	"user list":              {"user list", 0},
	"user show":              {"user show NAME", 1},
	"user remove":            {"user remove NAME", 1},
	"user disable":           {"user disable NAME", 1},
	"user enable":            {"user enable NAME", 1},
	"account create":         {"account create A", 1},
	"account list":           {"account list", 0},
	"account show":           {"account show A", 1},
	"account remove":         {"account remove A", 1},
	"group create":           {"group create NAME", 1},
	"group list":             {"group list", 0},
	"group show":             {"group show NAME", 1},
	"group remove":           {"group remove NAME", 1},
	"group add-user":         {"group add-user GROUP USER", 2},
	"group remove-user":      {"group remove-user GROUP USER", 2},
	"policy list":            {"policy list", 0},
	"policy show":            {"policy show NAME", 1},
	"policy create":          {"policy create NAME FILE", 2},
	"policy remove":          {"policy remove NAME", 1},
	"policy attach":          {"policy attach POLICY (--user U | --group G)", 1},
	"policy detach":          {"policy detach POLICY (--user U | --group G)", 1},
	"service-account create": {"service-account create [--policy-file F] [--name N]", 0},
	"service-account list":   {"service-account list", 0},
	"service-account remove": {"service-account remove AK", 1},
}

// iamCommand runs a user, account, group, policy or service-account
// command: words are the command words, local its own flags.
func iamCommand(g globals, words []string, local map[string]string, out io.Writer) error {
	if len(words) < 2 {
		return fmt.Errorf("usage: stratactl %s SUBCOMMAND (see stratactl --help)", words[0])
	}
	name := words[0] + " " + words[1]
	spec, ok := iamCommands[name]
	if !ok {
		return fmt.Errorf("unknown command %q (see stratactl --help)", strings.Join(words, " "))
	}
	use, args := spec.usage, words[2:]
	if len(args) != spec.args {
		return errors.New("usage: stratactl " + use)
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := printer{out: out, json: g.json}
	switch name {
	case "user create":
		res, err := c.CreateUser(ctx, adminapi.CreateUserRequest{Name: args[0], SecretKey: local["secret-key"], Account: local["account"]})
		if err != nil {
			return err
		}
		return p.print(res, func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "Access key:\t%s\n", res.User.AccessKey)
			fmt.Fprintf(w, "Secret key:\t%s\n", res.SecretKey)
			fmt.Fprintf(w, "Account:\t%s\n", res.User.Account)
			fmt.Fprintf(w, "\nThe secret key is shown only now.\n")
		})
	case "user list":
		users, err := c.ListUsers(ctx)
		if err != nil {
			return err
		}
		return p.print(users, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "ACCESS KEY\tACCOUNT\tSTATUS\tPOLICIES\tGROUPS\tSERVICE ACCOUNTS\tBUCKETS\tUSAGE\tQUOTA")
			for _, u := range users {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", u.AccessKey, u.Account, userStatus(u), list(u.Policies), list(u.Groups), u.ServiceAccounts,
					u.Buckets, adminapi.FormatSize(u.UsageBytes), quotaText(u.UsageBytes, u.QuotaBytes))
			}
		})
	case "user show", "user disable", "user enable":
		var u adminapi.User
		switch words[1] {
		case "show":
			u, err = c.GetUser(ctx, args[0])
		case "disable":
			u, err = c.DisableUser(ctx, args[0])
		default:
			u, err = c.EnableUser(ctx, args[0])
		}
		if err != nil {
			return err
		}
		return printUser(p, u)
	case "user remove":
		if err := c.RemoveUser(ctx, args[0]); err != nil {
			return err
		}
		return p.done("user", args[0], "removed")

	case "account create", "account show":
		var a adminapi.Account
		if words[1] == "create" {
			a, err = c.CreateAccount(ctx, args[0])
		} else {
			a, err = c.GetAccount(ctx, args[0])
		}
		if err != nil {
			return err
		}
		return p.print(a, func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "Account:\t%s\n", a.Name)
			fmt.Fprintf(w, "Users:\t%s\n", list(a.Users))
			fmt.Fprintf(w, "Created:\t%s\n", when(a.Created))
		})
	case "account list":
		accounts, err := c.ListAccounts(ctx)
		if err != nil {
			return err
		}
		return p.print(accounts, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "ACCOUNT\tUSERS\tCREATED")
			for _, a := range accounts {
				fmt.Fprintf(w, "%s\t%d\t%s\n", a.Name, len(a.Users), when(a.Created))
			}
		})
	case "account remove":
		if err := c.RemoveAccount(ctx, args[0]); err != nil {
			return err
		}
		return p.done("account", args[0], "removed")

	case "group create", "group show", "group add-user", "group remove-user":
		var gr adminapi.Group
		switch words[1] {
		case "create":
			gr, err = c.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: args[0]})
		case "show":
			gr, err = c.GetGroup(ctx, args[0])
		case "add-user":
			gr, err = c.AddGroupMember(ctx, args[0], args[1])
		default:
			gr, err = c.RemoveGroupMember(ctx, args[0], args[1])
		}
		if err != nil {
			return err
		}
		return p.print(gr, func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "Group:\t%s\n", gr.Name)
			fmt.Fprintf(w, "Members:\t%s\n", list(gr.Members))
			fmt.Fprintf(w, "Policies:\t%s\n", list(gr.Policies))
			fmt.Fprintf(w, "Created:\t%s\n", when(gr.Created))
		})
	case "group list":
		groups, err := c.ListGroups(ctx)
		if err != nil {
			return err
		}
		return p.print(groups, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "GROUP\tMEMBERS\tPOLICIES")
			for _, gr := range groups {
				fmt.Fprintf(w, "%s\t%s\t%s\n", gr.Name, list(gr.Members), list(gr.Policies))
			}
		})
	case "group remove":
		if err := c.RemoveGroup(ctx, args[0]); err != nil {
			return err
		}
		return p.done("group", args[0], "removed")

	case "policy list":
		policies, err := c.ListPolicies(ctx)
		if err != nil {
			return err
		}
		return p.print(policies, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "POLICY\tTYPE\tUSERS\tGROUPS")
			for _, pol := range policies {
				kind := "managed"
				if pol.Predefined {
					kind = "predefined"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", pol.Name, kind, list(pol.Users), list(pol.Groups))
			}
		})
	case "policy show":
		pol, err := c.GetPolicy(ctx, args[0])
		if err != nil {
			return err
		}
		if g.json {
			return p.print(pol, nil)
		}
		// The document as JSON, so it can be edited and created again.
		var buf bytes.Buffer
		if err := json.Indent(&buf, pol.Document, "", "  "); err != nil {
			return fmt.Errorf("policy %s: bad document from the server: %w", pol.Name, err)
		}
		fmt.Fprintln(out, buf.String())
		return nil
	case "policy create":
		doc, err := readFile(args[1])
		if err != nil {
			return err
		}
		pol, err := c.PutPolicy(ctx, args[0], doc)
		if err != nil {
			return err
		}
		if g.json {
			return p.print(pol, nil)
		}
		return p.done("policy", pol.Name, "saved")
	case "policy remove":
		if err := c.RemovePolicy(ctx, args[0]); err != nil {
			return err
		}
		return p.done("policy", args[0], "removed")
	case "policy attach", "policy detach":
		req := adminapi.AttachRequest{User: local["user"], Group: local["group"]}
		if (req.User == "") == (req.Group == "") {
			return errors.New("usage: stratactl " + use)
		}
		target, kind := req.User, "user"
		if req.Group != "" {
			target, kind = req.Group, "group"
		}
		if words[1] == "attach" {
			err = c.AttachPolicy(ctx, args[0], req)
		} else {
			err = c.DetachPolicy(ctx, args[0], req)
		}
		if err != nil {
			return err
		}
		if g.json {
			return p.print(map[string]string{"policy": args[0], kind: target, "result": words[1] + "ed"}, nil)
		}
		fmt.Fprintf(out, "Policy %s %sed %s %s %s.\n", args[0], words[1], map[string]string{"attach": "to", "detach": "from"}[words[1]], kind, target)
		return nil

	case "service-account create":
		req := adminapi.CreateServiceAccountRequest{Name: local["name"]}
		if f := local["policy-file"]; f != "" {
			doc, err := readFile(f)
			if err != nil {
				return err
			}
			req.Policy = string(doc)
		}
		res, err := c.CreateServiceAccount(ctx, req)
		if err != nil {
			return err
		}
		return p.print(res, func(w *tabwriter.Writer) {
			fmt.Fprintf(w, "Access key:\t%s\n", res.ServiceAccount.AccessKey)
			fmt.Fprintf(w, "Secret key:\t%s\n", res.SecretKey)
			fmt.Fprintf(w, "Name:\t%s\n", res.ServiceAccount.Name)
			fmt.Fprintf(w, "Parent:\t%s\n", res.ServiceAccount.Parent)
			fmt.Fprintf(w, "Policy:\t%s\n", yesNo(res.ServiceAccount.Policy != nil, "own policy", "the parent's permissions"))
			fmt.Fprintf(w, "\nThe secret key is shown only now.\n")
		})
	case "service-account list":
		sas, err := c.ListServiceAccounts(ctx)
		if err != nil {
			return err
		}
		return p.print(sas, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "ACCESS KEY\tNAME\tPOLICY\tCREATED")
			for _, sa := range sas {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", sa.AccessKey, sa.Name, yesNo(sa.Policy != nil, "own", "parent's"), when(sa.Created))
			}
		})
	case "service-account remove":
		if err := c.RemoveServiceAccount(ctx, args[0]); err != nil {
			return err
		}
		return p.done("service account", args[0], "removed")
	}
	return fmt.Errorf("unknown command %q (see stratactl --help)", name)
}

// printUser shows one user: identity, permissions, and what the buckets
// it owns hold against its quota.
func printUser(p printer, u adminapi.User) error {
	return p.print(u, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Access key:\t%s\n", u.AccessKey)
		fmt.Fprintf(w, "Account:\t%s\n", u.Account)
		fmt.Fprintf(w, "Status:\t%s\n", userStatus(u))
		fmt.Fprintf(w, "Policies:\t%s\n", list(u.Policies))
		fmt.Fprintf(w, "Groups:\t%s\n", list(u.Groups))
		fmt.Fprintf(w, "Service accounts:\t%d\n", u.ServiceAccounts)
		fmt.Fprintf(w, "Created:\t%s\n", when(u.Created))
		fmt.Fprintf(w, "Buckets:\t%d\n", u.Buckets)
		fmt.Fprintf(w, "Objects:\t%d\n", u.Objects)
		fmt.Fprintf(w, "Usage:\t%s\n", usageText(u.UsageBytes))
		fmt.Fprintf(w, "Quota:\t%s\n", quotaText(u.UsageBytes, u.QuotaBytes))
	})
}

// printer writes a result as indented JSON (--json) or as aligned text.
type printer struct {
	out  io.Writer
	json bool
}

func (p printer) print(v any, human func(w *tabwriter.Writer)) error {
	if p.json || human == nil {
		enc := json.NewEncoder(p.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	human(tw)
	return tw.Flush()
}

// done reports an action that answers nothing but success.
func (p printer) done(kind, name, result string) error {
	if p.json {
		return p.print(map[string]string{strings.ReplaceAll(kind, " ", "_"): name, "result": result}, nil)
	}
	fmt.Fprintf(p.out, "%s %s %s.\n", strings.ToUpper(kind[:1])+kind[1:], name, result)
	return nil
}

// readFile reads a policy document from path ("-" is stdin).
func readFile(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	}
	return os.ReadFile(path)
}

func userStatus(u adminapi.User) string {
	switch {
	case u.Root:
		return "root"
	case u.Disabled:
		return "disabled"
	}
	return "enabled"
}

func list(v []string) string {
	if len(v) == 0 {
		return "-"
	}
	return strings.Join(v, ",")
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
