package console

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/strata-io/strata/adminapi"
)

// The admin pages call the admin API (package adminapi's client) with the
// session's keys; the server decides, as for stratactl. Policy, CORS and
// lifecycle documents are edited as text and sent as written: a document
// the server refuses comes back in its editor with the server's message
// next to it.

// accountsView is the data of the service accounts page.
type accountsView struct {
	Accounts []adminapi.ServiceAccount
	Err      *Error
	Created  *adminapi.CreateServiceAccountResponse // shown once
	Name     string                                 // the create form, kept on error
	Policy   string
	FormErr  *Error
}

func (c *Console) accountsPage(q *request) {
	c.showAccounts(q, accountsView{})
}

func (c *Console) showAccounts(q *request, v accountsView) {
	ctx, cancel := q.ctx()
	defer cancel()
	as, err := q.adm.ListServiceAccounts(ctx)
	v.Accounts = as
	if err != nil {
		v.Err = apiError(err)
	}
	status := http.StatusOK
	if v.FormErr != nil {
		status = v.FormErr.Status
	}
	c.page(q, status, "accounts", "Service accounts", v)
}

// accountsPost creates (the secret is shown on this answer only) or
// removes one of the user's own service accounts.
func (c *Console) accountsPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	switch formValue(q.r, "action") {
	case "create":
		name, policy := strings.TrimSpace(formValue(q.r, "name")), strings.TrimSpace(formValue(q.r, "policy"))
		out, err := q.adm.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{Name: name, Policy: policy})
		if err != nil {
			c.showAccounts(q, accountsView{Name: name, Policy: policy, FormErr: apiError(err)})
			return
		}
		c.log.Info("service account created", "access_key", q.sess.accessKey, "service_account", out.ServiceAccount.AccessKey)
		c.showAccounts(q, accountsView{Created: &out})
	case "remove":
		ak := formValue(q.r, "access_key")
		err := q.adm.RemoveServiceAccount(ctx, ak)
		c.redirect(q, Prefix+"service-accounts", err, "Service account "+ak+" removed.")
	default:
		c.redirect(q, Prefix+"service-accounts", errUnknownAction, "")
	}
}

var errUnknownAction = &Error{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: "Unknown action."}

// usersView is the data of the users page.
type usersView struct {
	Users    []adminapi.User
	Policies []adminapi.Policy
	Err      *Error
	Created  *adminapi.CreateUserResponse // shown once
	Name     string
	FormErr  *Error
}

func (c *Console) usersPage(q *request) { c.showUsers(q, usersView{}) }

func (c *Console) showUsers(q *request, v usersView) {
	ctx, cancel := q.ctx()
	defer cancel()
	var err error
	if v.Users, err = q.adm.ListUsers(ctx); err != nil {
		v.Err = apiError(err)
	}
	v.Policies, _ = q.adm.ListPolicies(ctx)
	status := http.StatusOK
	if v.FormErr != nil {
		status = v.FormErr.Status
	}
	c.page(q, status, "admin_users", "Users", v)
}

// userPageView is the data of one user's page.
type userPageView struct {
	User     adminapi.User
	Policies []adminapi.Policy // every policy, to attach
	Groups   []adminapi.Group
}

func (c *Console) userPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	u, err := q.adm.GetUser(ctx, q.r.URL.Query().Get("name"))
	if err != nil {
		c.errorPage(q, err)
		return
	}
	v := userPageView{User: u}
	v.Policies, _ = q.adm.ListPolicies(ctx)
	v.Groups, _ = q.adm.ListGroups(ctx)
	c.page(q, http.StatusOK, "admin_user", "User "+u.AccessKey, v)
}

// usersPost creates, disables, enables or removes a user, attaches or
// detaches a policy, or sets or clears a quota.
func (c *Console) usersPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	name := strings.TrimSpace(formValue(q.r, "name"))
	back := Prefix + "admin/user?" + url.Values{"name": {name}}.Encode()
	var err error
	var ok string
	switch formValue(q.r, "action") {
	case "create":
		out, err := q.adm.CreateUser(ctx, adminapi.CreateUserRequest{Name: name, SecretKey: formValue(q.r, "secret_key"), Account: strings.TrimSpace(formValue(q.r, "account"))})
		if err != nil {
			c.showUsers(q, usersView{Name: name, FormErr: apiError(err)})
			return
		}
		if p := formValue(q.r, "policy"); p != "" {
			if err := q.adm.AttachPolicy(ctx, p, adminapi.AttachRequest{User: name}); err != nil {
				e := apiError(err)
				q.sess.addFlash(true, "User created, but attaching "+p+" failed: "+e.Code+": "+e.Message)
			} else {
				out.User.Policies = append(out.User.Policies, p)
			}
		}
		c.log.Info("user created", "by", q.sess.accessKey, "user", name)
		c.showUsers(q, usersView{Created: &out})
		return
	case "disable":
		_, err = q.adm.DisableUser(ctx, name)
		ok = "User " + name + " disabled: its keys, service accounts and sessions stop working."
	case "enable":
		_, err = q.adm.EnableUser(ctx, name)
		ok = "User " + name + " enabled."
	case "remove":
		err = q.adm.RemoveUser(ctx, name)
		c.redirect(q, Prefix+"admin/users", err, "User "+name+" removed.")
		return
	case "attach", "detach":
		p := formValue(q.r, "policy")
		if formValue(q.r, "action") == "attach" {
			err, ok = q.adm.AttachPolicy(ctx, p, adminapi.AttachRequest{User: name}), "Policy "+p+" attached to "+name+"."
		} else {
			err, ok = q.adm.DetachPolicy(ctx, p, adminapi.AttachRequest{User: name}), "Policy "+p+" detached from "+name+"."
		}
	case "quota":
		if s := strings.TrimSpace(formValue(q.r, "quota")); s == "" {
			_, err = q.adm.ClearUserQuota(ctx, name)
			ok = "Quota of " + name + " cleared."
		} else if n, perr := adminapi.ParseSize(s); perr != nil {
			err = &Error{Status: 400, Code: adminapi.CodeInvalidQuota, Message: perr.Error()}
		} else {
			_, err = q.adm.SetUserQuota(ctx, name, n)
			ok = "Quota of " + name + " set to " + adminapi.FormatSize(n) + "."
		}
	case "add-group":
		g := formValue(q.r, "group")
		_, err = q.adm.AddGroupMember(ctx, g, name)
		ok = name + " added to group " + g + "."
	default:
		err = errUnknownAction
	}
	c.redirect(q, back, err, ok)
}

// groupsView is the data of the groups page.
type groupsView struct {
	Groups  []adminapi.Group
	Err     *Error
	Name    string
	FormErr *Error
}

func (c *Console) groupsPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	var v groupsView
	var err error
	if v.Groups, err = q.adm.ListGroups(ctx); err != nil {
		v.Err = apiError(err)
	}
	c.page(q, http.StatusOK, "admin_groups", "Groups", v)
}

// groupPageView is the data of one group's page.
type groupPageView struct {
	Group    adminapi.Group
	Users    []adminapi.User
	Policies []adminapi.Policy
}

func (c *Console) groupPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	g, err := q.adm.GetGroup(ctx, q.r.URL.Query().Get("name"))
	if err != nil {
		c.errorPage(q, err)
		return
	}
	v := groupPageView{Group: g}
	v.Users, _ = q.adm.ListUsers(ctx)
	v.Policies, _ = q.adm.ListPolicies(ctx)
	c.page(q, http.StatusOK, "admin_group", "Group "+g.Name, v)
}

// groupsPost creates or removes a group, changes its members, attaches or
// detaches a policy.
func (c *Console) groupsPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	name := strings.TrimSpace(formValue(q.r, "name"))
	back := Prefix + "admin/group?" + url.Values{"name": {name}}.Encode()
	var err error
	var ok string
	switch formValue(q.r, "action") {
	case "create":
		_, err = q.adm.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: name})
		if err != nil {
			back = Prefix + "admin/groups"
		}
		ok = "Group " + name + " created."
	case "remove":
		err = q.adm.RemoveGroup(ctx, name)
		c.redirect(q, Prefix+"admin/groups", err, "Group "+name+" removed.")
		return
	case "add-member":
		u := formValue(q.r, "user")
		_, err = q.adm.AddGroupMember(ctx, name, u)
		ok = u + " added to " + name + "."
	case "remove-member":
		u := formValue(q.r, "user")
		_, err = q.adm.RemoveGroupMember(ctx, name, u)
		ok = u + " removed from " + name + "."
	case "attach":
		p := formValue(q.r, "policy")
		err, ok = q.adm.AttachPolicy(ctx, p, adminapi.AttachRequest{Group: name}), "Policy "+p+" attached to group "+name+"."
	case "detach":
		p := formValue(q.r, "policy")
		err, ok = q.adm.DetachPolicy(ctx, p, adminapi.AttachRequest{Group: name}), "Policy "+p+" detached from group "+name+"."
	default:
		err = errUnknownAction
	}
	c.redirect(q, back, err, ok)
}

// policiesView is the data of the policies page.
type policiesView struct {
	Policies []adminapi.Policy
	Err      *Error
}

func (c *Console) policiesPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	var v policiesView
	var err error
	if v.Policies, err = q.adm.ListPolicies(ctx); err != nil {
		v.Err = apiError(err)
	}
	c.page(q, http.StatusOK, "admin_policies", "Policies", v)
}

// policyView is the data of the policy editor.
type policyView struct {
	Name     string
	New      bool
	Policy   adminapi.Policy
	Document string
	DocErr   *Error // the server's refusal of the document, shown next to it
}

// newPolicyTemplate is what the editor of a new policy starts from.
const newPolicyTemplate = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"]
    }
  ]
}`

func (c *Console) policyPage(q *request) {
	name := q.r.URL.Query().Get("name")
	if name == "" {
		c.page(q, http.StatusOK, "admin_policy", "New policy", policyView{New: true, Document: newPolicyTemplate})
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	p, err := q.adm.GetPolicy(ctx, name)
	if err != nil {
		c.errorPage(q, err)
		return
	}
	c.page(q, http.StatusOK, "admin_policy", "Policy "+name, policyView{Name: name, Policy: p, Document: indentJSON(p.Document)})
}

// indentJSON pretty-prints a stored document for its editor.
func indentJSON(doc json.RawMessage) string {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return string(doc)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(doc)
	}
	return string(b)
}

// policiesPost saves (creates or replaces) or removes a managed policy. A
// document the server refuses is shown again in the editor with the
// server's message.
func (c *Console) policiesPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	name := strings.TrimSpace(formValue(q.r, "name"))
	switch formValue(q.r, "action") {
	case "save":
		doc := formValue(q.r, "document")
		isNew := formValue(q.r, "new") != ""
		if name == "" {
			c.page(q, http.StatusBadRequest, "admin_policy", "New policy", policyView{New: isNew, Document: doc,
				DocErr: &Error{Status: 400, Code: adminapi.CodeInvalidArgument, Message: "Give the policy a name."}})
			return
		}
		if _, err := q.adm.PutPolicy(ctx, name, []byte(doc)); err != nil {
			e := apiError(err)
			c.page(q, e.Status, "admin_policy", "Policy "+name, policyView{Name: name, New: isNew, Document: doc, DocErr: e})
			return
		}
		c.redirect(q, Prefix+"admin/policy?"+url.Values{"name": {name}}.Encode(), nil, "Policy "+name+" saved.")
	case "remove":
		err := q.adm.RemovePolicy(ctx, name)
		c.redirect(q, Prefix+"admin/policies", err, "Policy "+name+" removed.")
	default:
		c.redirect(q, Prefix+"admin/policies", errUnknownAction, "")
	}
}

// adminBucketsView is the data of the admin buckets page.
type adminBucketsView struct {
	Buckets []adminapi.Bucket
	Users   []adminapi.User
	Err     *Error
}

func (c *Console) adminBucketsPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	var v adminBucketsView
	var err error
	if v.Buckets, err = q.adm.ListBuckets(ctx); err != nil {
		v.Err = apiError(err)
	}
	v.Users, _ = q.adm.ListUsers(ctx)
	c.page(q, http.StatusOK, "admin_buckets", "Buckets (admin)", v)
}

// adminBucketsPost creates a bucket for an owner with an optional quota,
// or removes an empty bucket.
func (c *Console) adminBucketsPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	name := strings.TrimSpace(formValue(q.r, "name"))
	switch formValue(q.r, "action") {
	case "create":
		req := adminapi.CreateBucketRequest{Name: name, Owner: formValue(q.r, "owner")}
		if s := strings.TrimSpace(formValue(q.r, "quota")); s != "" {
			n, err := adminapi.ParseSize(s)
			if err != nil {
				c.redirect(q, Prefix+"admin/buckets", &Error{Status: 400, Code: adminapi.CodeInvalidQuota, Message: err.Error()}, "")
				return
			}
			req.QuotaBytes = n
		}
		if _, err := q.adm.CreateBucket(ctx, req); err != nil {
			c.redirect(q, Prefix+"admin/buckets", err, "")
			return
		}
		c.redirect(q, bucketSettingsURL(name), nil, "Bucket "+name+" created.")
	case "remove":
		err := q.adm.RemoveBucket(ctx, name)
		c.redirect(q, Prefix+"admin/buckets", err, "Bucket "+name+" removed.")
	default:
		c.redirect(q, Prefix+"admin/buckets", errUnknownAction, "")
	}
}

func bucketSettingsURL(name string) string {
	return Prefix + "admin/bucket?" + url.Values{"name": {name}}.Encode()
}

// bucketDoc is one document editor of the bucket page.
type bucketDoc struct {
	Sub   string // policy, cors, lifecycle
	Label string
	Text  string
	Err   *Error // loading it failed, or the server refused it
}

// adminBucketView is the data of one bucket's settings page.
type adminBucketView struct {
	Bucket     adminapi.Bucket
	Versioning string
	VerErr     *Error
	Docs       []bucketDoc
}

var docLabels = map[string]string{"policy": "Bucket policy (JSON)", "cors": "CORS configuration (XML)", "lifecycle": "Lifecycle configuration (XML)"}

func (c *Console) adminBucketPage(q *request) {
	c.showBucket(q, q.r.URL.Query().Get("name"), "", "", nil)
}

// showBucket renders a bucket's settings; edited (with refusal) replaces
// the stored document of sub in its editor.
func (c *Console) showBucket(q *request, name, sub, edited string, refusal *Error) {
	ctx, cancel := q.ctx()
	defer cancel()
	b, err := q.adm.GetBucket(ctx, name)
	if err != nil {
		c.errorPage(q, err)
		return
	}
	v := adminBucketView{Bucket: b}
	if v.Versioning, err = q.s3.versioning(ctx, name); err != nil {
		v.VerErr = apiError(err)
	}
	for _, s := range []string{"policy", "cors", "lifecycle"} {
		d := bucketDoc{Sub: s, Label: docLabels[s]}
		if s == sub {
			d.Text, d.Err = edited, refusal
		} else if d.Text, err = q.s3.getBucketDoc(ctx, name, s); err != nil {
			d.Err = apiError(err)
		} else if s == "policy" {
			d.Text = indentJSON(json.RawMessage(d.Text))
		} else {
			d.Text = indentXML(d.Text)
		}
		v.Docs = append(v.Docs, d)
	}
	status := http.StatusOK
	if refusal != nil {
		status = refusal.Status
	}
	c.page(q, status, "admin_bucket", "Bucket "+name, v)
}

// adminBucketPost changes versioning or the quota, or saves or deletes
// the policy, CORS or lifecycle document.
func (c *Console) adminBucketPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	name := formValue(q.r, "name")
	back := bucketSettingsURL(name)
	var err error
	var ok string
	switch action := formValue(q.r, "action"); action {
	case "versioning":
		st := formValue(q.r, "status")
		if st != "Enabled" && st != "Suspended" {
			err = &Error{Status: 400, Code: "InvalidArgument", Message: "Versioning is Enabled or Suspended."}
			break
		}
		err, ok = q.s3.setVersioning(ctx, name, st), "Versioning "+strings.ToLower(st)+"."
	case "quota":
		if s := strings.TrimSpace(formValue(q.r, "quota")); s == "" {
			_, err = q.adm.ClearBucketQuota(ctx, name)
			ok = "Quota cleared."
		} else if n, perr := adminapi.ParseSize(s); perr != nil {
			err = &Error{Status: 400, Code: adminapi.CodeInvalidQuota, Message: perr.Error()}
		} else {
			_, err = q.adm.SetBucketQuota(ctx, name, n)
			ok = "Quota set to " + adminapi.FormatSize(n) + "."
		}
	case "save-doc", "delete-doc":
		sub := formValue(q.r, "sub")
		if _, known := bucketDocs[sub]; !known {
			err = errUnknownAction
			break
		}
		if action == "delete-doc" {
			err, ok = q.s3.deleteBucketDoc(ctx, name, sub), docLabels[sub]+" deleted."
			break
		}
		doc := strings.TrimSpace(formValue(q.r, "document"))
		if err := q.s3.putBucketDoc(ctx, name, sub, doc); err != nil {
			// Shown in its editor, as written, with the server's message.
			c.showBucket(q, name, sub, doc, apiError(err))
			return
		}
		ok = docLabels[sub] + " saved."
	default:
		err = errUnknownAction
	}
	c.redirect(q, back, err, ok)
}

// clusterView is the data of the cluster health page.
type clusterView struct {
	Status   adminapi.ClusterStatus
	Capacity struct{ Total, Used, Free uint64 }
	Online   int // drives online
	Drives   int
	Alive    int // nodes seen by gossip
}

func (c *Console) clusterPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	st, err := q.adm.ClusterStatus(ctx)
	if err != nil {
		c.errorPage(q, err)
		return
	}
	v := clusterView{Status: st}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].ID < st.Nodes[j].ID })
	for _, n := range st.Nodes {
		if n.Alive {
			v.Alive++
		}
		for _, d := range n.Drives {
			v.Drives++
			if d.Online {
				v.Online++
			}
			v.Capacity.Total += d.Capacity
			v.Capacity.Used += d.Used
			v.Capacity.Free += d.Free
		}
	}
	c.page(q, http.StatusOK, "admin_cluster", "Cluster health", v)
}

// auditView is the data of the audit targets page.
type auditView struct {
	Webhooks []adminapi.AuditWebhook
	Err      *Error
}

func (c *Console) auditPage(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	var v auditView
	var err error
	if v.Webhooks, err = q.adm.ListAuditWebhooks(ctx); err != nil {
		v.Err = apiError(err)
	}
	c.page(q, http.StatusOK, "admin_audit", "Audit targets", v)
}

// auditPost adds a webhook (or replaces its token) or removes one.
func (c *Console) auditPost(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	u := strings.TrimSpace(formValue(q.r, "url"))
	var err error
	var ok string
	switch formValue(q.r, "action") {
	case "add":
		_, err = q.adm.SetAuditWebhook(ctx, adminapi.SetAuditWebhookRequest{URL: u, Token: formValue(q.r, "token")})
		ok = "Every node now sends its audit events to " + u + "."
	case "remove":
		err, ok = q.adm.RemoveAuditWebhook(ctx, u), "Webhook "+u+" removed."
	default:
		err = errUnknownAction
	}
	c.redirect(q, Prefix+"admin/audit", err, ok)
}

// indentXML lays out an XML document one element per line for its editor
// (S3 answers configurations on one line). A document it cannot read is
// returned as it is.
func indentXML(doc string) string {
	dec := xml.NewDecoder(strings.NewReader(doc))
	var b strings.Builder
	depth := 0
	var open *xml.StartElement // a start tag whose content is not known yet
	var text strings.Builder
	indent := func(d int) { b.WriteString(strings.Repeat("  ", d)) }
	name := func(n xml.Name) string {
		if n.Space != "" {
			return n.Space + ":" + n.Local
		}
		return n.Local
	}
	writeStart := func(se *xml.StartElement) {
		b.WriteString("<" + name(se.Name))
		for _, a := range se.Attr {
			b.WriteString(" " + name(a.Name) + `="`)
			_ = xml.EscapeText(&b, []byte(a.Value))
			b.WriteString(`"`)
		}
		b.WriteString(">")
	}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return doc
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			b.WriteString("<?" + t.Target + " " + string(t.Inst) + "?>\n")
		case xml.StartElement:
			if open != nil {
				indent(depth)
				writeStart(open)
				b.WriteString("\n")
				depth++
			}
			se := t.Copy()
			open = &se
			text.Reset()
		case xml.CharData:
			if open != nil {
				text.Write(t)
			} else if strings.TrimSpace(string(t)) != "" {
				return doc // mixed content: leave it alone
			}
		case xml.EndElement:
			if open != nil {
				indent(depth)
				writeStart(open)
				_ = xml.EscapeText(&b, []byte(strings.TrimSpace(text.String())))
				b.WriteString("</" + name(t.Name) + ">\n")
				open = nil
				continue
			}
			depth--
			indent(depth)
			b.WriteString("</" + name(t.Name) + ">\n")
		case xml.Comment:
			indent(depth)
			b.WriteString("<!--" + string(t) + "-->\n")
		}
	}
	if depth != 0 || open != nil {
		return doc
	}
	return strings.TrimRight(b.String(), "\n")
}
