package s3api

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
)

// The IAM routes of the admin API (adminapi/iam.go lists them). Writes are
// meta commands through Control.Propose, so every node sees them; reads
// follow a read barrier, so an admin reads on any node what was written on
// another a moment ago. Secret keys are sealed with Deps.Seal before they
// are proposed and are answered only by the calls that create them.

// adminRoute is one admin API route: a method and a path pattern of
// segments after adminapi.PathPrefix, where "*" matches any one segment.
type adminRoute struct {
	method  string
	pattern string
	name    string // the API name in audit events and metrics, after "admin:"
	fn      func(*Server, *adminCall) (any, error)
}

// adminRoutes is the routing table of the admin API; read-only.
var adminRoutes = []adminRoute{
	{fasthttp.MethodGet, "cluster/status", "ClusterStatus", (*Server).adminClusterStatus},
	{fasthttp.MethodPost, "nodes/*/decommission", "Decommission", (*Server).adminDecommission},
	{fasthttp.MethodDelete, "nodes/*/decommission", "CancelDecommission", (*Server).adminCancelDecommission},

	{fasthttp.MethodPost, "users", "CreateUser", (*Server).adminCreateUser},
	{fasthttp.MethodGet, "users", "ListUsers", (*Server).adminListUsers},
	{fasthttp.MethodGet, "users/*", "GetUser", (*Server).adminShowUser},
	{fasthttp.MethodDelete, "users/*", "RemoveUser", (*Server).adminRemoveUser},
	{fasthttp.MethodPost, "users/*/disable", "DisableUser", (*Server).adminDisableUser},
	{fasthttp.MethodPost, "users/*/enable", "EnableUser", (*Server).adminEnableUser},
	{fasthttp.MethodPut, "users/*/quota", "SetUserQuota", (*Server).adminSetUserQuota},
	{fasthttp.MethodDelete, "users/*/quota", "ClearUserQuota", (*Server).adminClearUserQuota},

	{fasthttp.MethodPost, "buckets", "CreateBucket", (*Server).adminCreateBucket},
	{fasthttp.MethodGet, "buckets", "ListBuckets", (*Server).adminListBuckets},
	{fasthttp.MethodGet, "buckets/*", "GetBucket", (*Server).adminShowBucket},
	{fasthttp.MethodDelete, "buckets/*", "RemoveBucket", (*Server).adminRemoveBucket},
	{fasthttp.MethodPut, "buckets/*/quota", "SetBucketQuota", (*Server).adminSetBucketQuota},
	{fasthttp.MethodDelete, "buckets/*/quota", "ClearBucketQuota", (*Server).adminClearBucketQuota},

	{fasthttp.MethodPost, "accounts", "CreateAccount", (*Server).adminCreateAccount},
	{fasthttp.MethodGet, "accounts", "ListAccounts", (*Server).adminListAccounts},
	{fasthttp.MethodGet, "accounts/*", "GetAccount", (*Server).adminShowAccount},
	{fasthttp.MethodDelete, "accounts/*", "RemoveAccount", (*Server).adminRemoveAccount},

	{fasthttp.MethodPost, "groups", "CreateGroup", (*Server).adminCreateGroup},
	{fasthttp.MethodGet, "groups", "ListGroups", (*Server).adminListGroups},
	{fasthttp.MethodGet, "groups/*", "GetGroup", (*Server).adminShowGroup},
	{fasthttp.MethodDelete, "groups/*", "RemoveGroup", (*Server).adminRemoveGroup},
	{fasthttp.MethodPost, "groups/*/members", "AddGroupMember", (*Server).adminAddGroupMember},
	{fasthttp.MethodDelete, "groups/*/members/*", "RemoveGroupMember", (*Server).adminRemoveGroupMember},

	{fasthttp.MethodGet, "policies", "ListPolicies", (*Server).adminListPolicies},
	{fasthttp.MethodGet, "policies/*", "GetPolicy", (*Server).adminShowPolicy},
	{fasthttp.MethodPut, "policies/*", "PutPolicy", (*Server).adminPutPolicy},
	{fasthttp.MethodDelete, "policies/*", "RemovePolicy", (*Server).adminRemovePolicy},
	{fasthttp.MethodPost, "policies/*/attach", "AttachPolicy", (*Server).adminAttachPolicy},
	{fasthttp.MethodPost, "policies/*/detach", "DetachPolicy", (*Server).adminDetachPolicy},

	{fasthttp.MethodPost, "service-accounts", "CreateServiceAccount", (*Server).adminCreateServiceAccount},
	{fasthttp.MethodGet, "service-accounts", "ListServiceAccounts", (*Server).adminListServiceAccounts},
	{fasthttp.MethodDelete, "service-accounts/*", "RemoveServiceAccount", (*Server).adminRemoveServiceAccount},

	{fasthttp.MethodPost, "audit/webhooks", "SetAuditWebhook", (*Server).adminSetAuditWebhook},
	{fasthttp.MethodGet, "audit/webhooks", "ListAuditWebhooks", (*Server).adminListAuditWebhooks},
	{fasthttp.MethodDelete, "audit/webhooks/*", "RemoveAuditWebhook", (*Server).adminRemoveAuditWebhook},
}

// isSelfServicePath reports whether segs is a route a user calls for
// itself (service accounts) rather than a root-only one.
func isSelfServicePath(segs []string) bool { return segs[0] == "service-accounts" }

// findAdminRoute returns the route for method and segs; nil and whether
// another method serves the path when there is none.
func findAdminRoute(method string, segs []string) (rt *adminRoute, pathKnown bool) {
	for i := range adminRoutes {
		if !matchSegments(adminRoutes[i].pattern, segs) {
			continue
		}
		if adminRoutes[i].method == method {
			return &adminRoutes[i], true
		}
		pathKnown = true
	}
	return nil, pathKnown
}

// dispatchAdmin runs the route of c: NoSuchAdminRoute for a path no route
// has, MethodNotAllowed for a path served with other methods.
func (s *Server) dispatchAdmin(c *adminCall) (any, error) {
	rt, pathKnown := findAdminRoute(c.r.method, c.segs)
	switch {
	case rt != nil:
		return rt.fn(s, c)
	case pathKnown:
		return nil, apiError(codeMethodNotAllowed)
	}
	return nil, noSuchAdminRoute(c.r)
}

func matchSegments(pattern string, segs []string) bool {
	ps := strings.Split(pattern, "/")
	if len(ps) != len(segs) {
		return false
	}
	for i, p := range ps {
		if p != "*" && p != segs[i] {
			return false
		}
	}
	return true
}

// maxAdminBody bounds an admin request body: a 20 KiB policy document
// JSON-escaped inside a request fits several times over.
const maxAdminBody = 128 << 10

// Limits of what the admin API accepts.
const (
	minSecretKeyLen          = 8
	maxSecretKeyLen          = 128
	serviceAccountKeyLen     = 20
	maxServiceAccountNameLen = 64
)

func adminErr(code string, status int, format string, args ...any) *APIError {
	return &APIError{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

func invalidArgument(format string, args ...any) *APIError {
	return adminErr(adminapi.CodeInvalidArgument, fasthttp.StatusBadRequest, format, args...)
}

// adminError translates an error of an admin call into the adminapi code
// and status: meta's rejections and iam's policy errors here, everything
// else as S3 does (toS3Error).
func (s *Server) adminError(err error) *APIError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var ae *adminapi.Error
	if errors.As(err, &ae) {
		return &APIError{Code: ae.Code, Status: ae.Status, Message: ae.Message}
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "meta: "), "invalid command: ")
	for _, m := range []struct {
		sentinel error
		code     string
		status   int
	}{
		{meta.ErrNoSuchUser, adminapi.CodeNoSuchUser, fasthttp.StatusNotFound},
		{meta.ErrUserExists, adminapi.CodeUserExists, fasthttp.StatusConflict},
		{meta.ErrNoSuchAccount, adminapi.CodeNoSuchAccount, fasthttp.StatusNotFound},
		{meta.ErrAccountInUse, adminapi.CodeAccountInUse, fasthttp.StatusConflict},
		{meta.ErrNoSuchGroup, adminapi.CodeNoSuchGroup, fasthttp.StatusNotFound},
		{meta.ErrNoSuchPolicy, adminapi.CodeNoSuchPolicy, fasthttp.StatusNotFound},
		{meta.ErrPolicyInUse, adminapi.CodePolicyInUse, fasthttp.StatusConflict},
		{meta.ErrTooManyServiceAccounts, adminapi.CodeTooManyServiceAccounts, fasthttp.StatusConflict},
		{meta.ErrNoSuchAuditWebhook, adminapi.CodeNoSuchAuditWebhook, fasthttp.StatusNotFound},
		{meta.ErrNoSuchBucket, adminapi.CodeNoSuchBucket, fasthttp.StatusNotFound},
		{meta.ErrBucketExists, adminapi.CodeBucketAlreadyExists, fasthttp.StatusConflict},
		{meta.ErrInvalidBucketName, adminapi.CodeInvalidBucketName, fasthttp.StatusBadRequest},
		{iam.ErrMalformedPolicy, adminapi.CodeInvalidPolicy, fasthttp.StatusBadRequest},
		{meta.ErrInvalid, adminapi.CodeInvalidArgument, fasthttp.StatusBadRequest},
	} {
		if errors.Is(err, m.sentinel) {
			return &APIError{Code: m.code, Status: m.status, Message: msg}
		}
	}
	return s.toS3Error(err)
}

// readAdminJSON decodes the request body into v, strictly: unknown fields
// and trailing data are InvalidArgument.
func (s *Server) readAdminJSON(c *adminCall, v any) error {
	body, err := s.readSmallBody(c.r, maxAdminBody, apiError(codeEntityTooLarge, fmt.Sprintf("The request body exceeds %d bytes.", maxAdminBody)))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidArgument("The request body is not the JSON this call takes: %v.", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidArgument("The request body has data after its JSON value.")
	}
	return nil
}

// adminView reads the state after a read barrier: what any node committed
// before the call is visible.
func (s *Server) adminView(c *adminCall, fn func(*meta.State)) error {
	if err := s.deps.Control.Barrier(c.r.ctx); err != nil {
		return err
	}
	s.deps.Control.View(fn)
	return nil
}

func (s *Server) now() int64 { return s.cfg.Now().UnixNano() }

func (s *Server) seal(secret string) ([]byte, error) {
	if s.deps.Seal == nil {
		return nil, apiError(codeNotImplemented, "This node cannot seal secret keys.")
	}
	return s.deps.Seal(secret)
}

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand.
func randomString(n int, alphabet string) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	// Bytes at or above limit are dropped so every character is equally
	// likely.
	limit := 256 - 256%len(alphabet)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

const (
	upperDigits  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretLetter = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func newSecretKey() (string, error) { return randomString(adminapi.SecretKeyLen, secretLetter) }

// checkSecretKey accepts a chosen secret key of 8 to 128 printable ASCII
// characters without spaces (what every S3 client can pass around).
func checkSecretKey(secret string) error {
	if len(secret) < minSecretKeyLen || len(secret) > maxSecretKeyLen {
		return invalidArgument("A secret key has %d to %d characters.", minSecretKeyLen, maxSecretKeyLen)
	}
	for i := 0; i < len(secret); i++ {
		if secret[i] <= ' ' || secret[i] > '~' {
			return invalidArgument("A secret key is printable ASCII without spaces.")
		}
	}
	return nil
}

// parseIdentityPolicy validates a policy document for a user, group or
// service account.
func parseIdentityPolicy(doc string) error {
	if strings.TrimSpace(doc) == "" {
		return adminErr(adminapi.CodeInvalidPolicy, fasthttp.StatusBadRequest, "The policy document is empty.")
	}
	if len(doc) > iam.MaxPolicySize {
		return adminErr(adminapi.CodeInvalidPolicy, fasthttp.StatusBadRequest, "The policy document has %d bytes; at most %d are allowed.", len(doc), iam.MaxPolicySize)
	}
	if _, err := iam.ParsePolicy([]byte(doc), iam.IdentityPolicy, ""); err != nil {
		return adminErr(adminapi.CodeInvalidPolicy, fasthttp.StatusBadRequest, "%v", err)
	}
	return nil
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// nonNil makes empty lists [] in JSON.
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return slices.Clone(v)
}

// copyUser copies u out of the state: nothing is shared with it.
func copyUser(u *meta.User) meta.User {
	c := *u
	c.SecretSealed = bytes.Clone(u.SecretSealed)
	c.Policies = slices.Clone(u.Policies)
	c.SessionPolicy = bytes.Clone(u.SessionPolicy)
	return c
}

// ---- users ----

// withTotal completes a user's description with what its buckets hold.
func withTotal(u *adminapi.User, tot ownerTotal) {
	u.Buckets, u.UsageBytes, u.Objects = tot.buckets, tot.bytes, tot.objects
}

// userInfo describes u, without its buckets' usage (withTotal).
func userInfo(st *meta.State, u *meta.User) adminapi.User {
	return adminapi.User{
		AccessKey:       u.AccessKey,
		Account:         u.AccountOf(),
		Disabled:        u.Disabled,
		Root:            u.Root,
		Policies:        nonNil(u.Policies),
		Groups:          nonNil(st.GroupsOf(u.AccessKey)),
		ServiceAccounts: len(st.ServiceAccountsOf(u.AccessKey)),
		Created:         unixTime(u.Created),
		QuotaBytes:      u.Quota,
	}
}

// lookupUser returns a user (not a service account) after a read barrier.
func (s *Server) lookupUser(c *adminCall, name string) (meta.User, error) {
	var u meta.User
	found := false
	err := s.adminView(c, func(st *meta.State) {
		if p := st.Users[name]; p != nil && p.Parent == "" {
			u, found = copyUser(p), true
		}
	})
	if err == nil && !found {
		err = adminErr(adminapi.CodeNoSuchUser, fasthttp.StatusNotFound, "No user %q.", name)
	}
	return u, err
}

// showUser answers the current record of user name on this node.
func (s *Server) showUser(name string) (adminapi.User, error) {
	var out adminapi.User
	var buckets []meta.Bucket
	found := false
	s.deps.Control.View(func(st *meta.State) {
		if u := st.Users[name]; u != nil && u.Parent == "" {
			out, found = userInfo(st, u), true
			buckets = bucketsOf(st, name)
		}
	})
	if !found {
		return out, adminErr(adminapi.CodeNoSuchUser, fasthttp.StatusNotFound, "No user %q.", name)
	}
	withTotal(&out, s.ownerTotals(buckets)[name])
	return out, nil
}

func (s *Server) adminCreateUser(c *adminCall) (any, error) {
	var req adminapi.CreateUserRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if err := meta.ValidateUserName(req.Name); err != nil {
		return nil, err
	}
	secret := req.SecretKey
	if secret == "" {
		var err error
		if secret, err = newSecretKey(); err != nil {
			return nil, err
		}
	} else if err := checkSecretKey(secret); err != nil {
		return nil, err
	}
	account := req.Account
	if account == "" {
		account = meta.DefaultAccount
	}
	var taken, accountOK bool
	if err := s.adminView(c, func(st *meta.State) {
		taken = st.Users[req.Name] != nil
		accountOK = st.AccountExists(account)
	}); err != nil {
		return nil, err
	}
	switch {
	case taken:
		return nil, adminErr(adminapi.CodeUserExists, fasthttp.StatusConflict, "The access key %q is taken.", req.Name)
	case !accountOK:
		return nil, adminErr(adminapi.CodeNoSuchAccount, fasthttp.StatusNotFound, "No account %q.", account)
	}
	sealed, err := s.seal(secret)
	if err != nil {
		return nil, err
	}
	u := meta.User{AccessKey: req.Name, Name: req.Name, SecretSealed: sealed, Account: account, Created: s.now()}
	if err := s.deps.Control.Propose(c.r.ctx, meta.PutUser{User: u, Create: true}); err != nil {
		return nil, err
	}
	info, err := s.showUser(req.Name)
	if err != nil {
		return nil, err
	}
	return adminapi.CreateUserResponse{User: info, SecretKey: secret}, nil
}

func (s *Server) adminListUsers(c *adminCall) (any, error) {
	out := adminapi.UserList{Users: []adminapi.User{}}
	var buckets []meta.Bucket
	err := s.adminView(c, func(st *meta.State) {
		buckets = bucketsOf(st, "")
		for _, u := range st.Users {
			if u.Parent == "" {
				out.Users = append(out.Users, userInfo(st, u))
			}
		}
	})
	totals := s.ownerTotals(buckets)
	for i := range out.Users {
		withTotal(&out.Users[i], totals[out.Users[i].AccessKey])
	}
	slices.SortFunc(out.Users, func(a, b adminapi.User) int { return strings.Compare(a.AccessKey, b.AccessKey) })
	return out, err
}

func (s *Server) adminShowUser(c *adminCall) (any, error) {
	if _, err := s.lookupUser(c, c.segs[1]); err != nil {
		return nil, err
	}
	return s.showUser(c.segs[1])
}

func (s *Server) adminRemoveUser(c *adminCall) (any, error) {
	u, err := s.lookupUser(c, c.segs[1])
	if err != nil {
		return nil, err
	}
	if u.Root {
		return nil, invalidArgument("The root user cannot be removed.")
	}
	return nil, s.deps.Control.Propose(c.r.ctx, meta.DeleteUser{AccessKey: u.AccessKey})
}

func (s *Server) adminDisableUser(c *adminCall) (any, error) { return s.setUserDisabled(c, true) }

func (s *Server) adminEnableUser(c *adminCall) (any, error) { return s.setUserDisabled(c, false) }

func (s *Server) setUserDisabled(c *adminCall, disabled bool) (any, error) {
	u, err := s.lookupUser(c, c.segs[1])
	if err != nil {
		return nil, err
	}
	if u.Root {
		return nil, invalidArgument("The root user cannot be disabled.")
	}
	if u.Disabled != disabled {
		u.Disabled = disabled
		if err := s.deps.Control.Propose(c.r.ctx, meta.PutUser{User: u}); err != nil {
			return nil, err
		}
	}
	return s.showUser(u.AccessKey)
}

// ---- accounts ----

func accountInfo(st *meta.State, name string) adminapi.Account {
	a := adminapi.Account{Name: name, Default: name == meta.DefaultAccount, Users: []string{}}
	if rec := st.Accounts[name]; rec != nil {
		a.Created = unixTime(rec.Created)
	}
	for ak, u := range st.Users {
		if u.Parent == "" && u.AccountOf() == name {
			a.Users = append(a.Users, ak)
		}
	}
	slices.Sort(a.Users)
	return a
}

func (s *Server) adminCreateAccount(c *adminCall) (any, error) {
	var req adminapi.CreateAccountRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if err := meta.ValidateAccountName(req.Name); err != nil {
		return nil, err
	}
	var exists bool
	if err := s.adminView(c, func(st *meta.State) { exists = st.AccountExists(req.Name) }); err != nil {
		return nil, err
	}
	if exists {
		return nil, adminErr(adminapi.CodeAccountExists, fasthttp.StatusConflict, "The account %q exists.", req.Name)
	}
	if err := s.deps.Control.Propose(c.r.ctx, meta.PutAccount{Account: meta.Account{Name: req.Name, Created: s.now()}}); err != nil {
		return nil, err
	}
	var out adminapi.Account
	s.deps.Control.View(func(st *meta.State) { out = accountInfo(st, req.Name) })
	return out, nil
}

func (s *Server) adminListAccounts(c *adminCall) (any, error) {
	out := adminapi.AccountList{Accounts: []adminapi.Account{}}
	err := s.adminView(c, func(st *meta.State) {
		out.Accounts = append(out.Accounts, accountInfo(st, meta.DefaultAccount))
		for _, name := range sortedNames(st.Accounts) {
			out.Accounts = append(out.Accounts, accountInfo(st, name))
		}
	})
	return out, err
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *Server) adminShowAccount(c *adminCall) (any, error) {
	name := c.segs[1]
	var out adminapi.Account
	found := false
	if err := s.adminView(c, func(st *meta.State) {
		if found = st.AccountExists(name) && name != ""; found {
			out = accountInfo(st, name)
		}
	}); err != nil {
		return nil, err
	}
	if !found {
		return nil, adminErr(adminapi.CodeNoSuchAccount, fasthttp.StatusNotFound, "No account %q.", name)
	}
	return out, nil
}

func (s *Server) adminRemoveAccount(c *adminCall) (any, error) {
	if c.segs[1] == meta.DefaultAccount {
		return nil, invalidArgument("The default account cannot be removed.")
	}
	return nil, s.deps.Control.Propose(c.r.ctx, meta.DeleteAccount{Name: c.segs[1]})
}

// ---- groups ----

func groupInfo(g *meta.Group) adminapi.Group {
	return adminapi.Group{Name: g.Name, Members: nonNil(g.Members), Policies: nonNil(g.Policies), Created: unixTime(g.Created)}
}

// lookupGroup returns a copy of group name after a read barrier.
func (s *Server) lookupGroup(c *adminCall, name string) (meta.Group, error) {
	var g meta.Group
	found := false
	err := s.adminView(c, func(st *meta.State) {
		if p := st.Groups[name]; p != nil {
			g, found = *p, true
			g.Members, g.Policies = slices.Clone(p.Members), slices.Clone(p.Policies)
		}
	})
	if err == nil && !found {
		err = adminErr(adminapi.CodeNoSuchGroup, fasthttp.StatusNotFound, "No group %q.", name)
	}
	return g, err
}

// showGroup answers the current record of group name on this node.
func (s *Server) showGroup(name string) (adminapi.Group, error) {
	var out adminapi.Group
	found := false
	s.deps.Control.View(func(st *meta.State) {
		if g := st.Groups[name]; g != nil {
			out, found = groupInfo(g), true
		}
	})
	if !found {
		return out, adminErr(adminapi.CodeNoSuchGroup, fasthttp.StatusNotFound, "No group %q.", name)
	}
	return out, nil
}

func (s *Server) adminCreateGroup(c *adminCall) (any, error) {
	var req adminapi.CreateGroupRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if err := meta.ValidateGroupName(req.Name); err != nil {
		return nil, err
	}
	var exists bool
	if err := s.adminView(c, func(st *meta.State) { exists = st.Groups[req.Name] != nil }); err != nil {
		return nil, err
	}
	if exists {
		return nil, adminErr(adminapi.CodeGroupExists, fasthttp.StatusConflict, "The group %q exists.", req.Name)
	}
	g := meta.Group{Name: req.Name, Members: req.Members, Created: s.now()}
	if err := s.deps.Control.Propose(c.r.ctx, meta.PutGroup{Group: g}); err != nil {
		return nil, err
	}
	return s.showGroup(req.Name)
}

func (s *Server) adminListGroups(c *adminCall) (any, error) {
	out := adminapi.GroupList{Groups: []adminapi.Group{}}
	err := s.adminView(c, func(st *meta.State) {
		for _, name := range sortedNames(st.Groups) {
			out.Groups = append(out.Groups, groupInfo(st.Groups[name]))
		}
	})
	return out, err
}

func (s *Server) adminShowGroup(c *adminCall) (any, error) {
	g, err := s.lookupGroup(c, c.segs[1])
	if err != nil {
		return nil, err
	}
	return groupInfo(&g), nil
}

func (s *Server) adminRemoveGroup(c *adminCall) (any, error) {
	return nil, s.deps.Control.Propose(c.r.ctx, meta.DeleteGroup{Name: c.segs[1]})
}

func (s *Server) adminAddGroupMember(c *adminCall) (any, error) {
	var req adminapi.GroupMemberRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if req.User == "" {
		return nil, invalidArgument("Name the user to add.")
	}
	g, err := s.lookupGroup(c, c.segs[1])
	if err != nil {
		return nil, err
	}
	if !slices.Contains(g.Members, req.User) {
		cmd := meta.PutGroup{Group: meta.Group{Name: g.Name, Members: append(g.Members, req.User), Created: g.Created}}
		if err := s.deps.Control.Propose(c.r.ctx, cmd); err != nil {
			return nil, err
		}
	}
	return s.showGroup(g.Name)
}

func (s *Server) adminRemoveGroupMember(c *adminCall) (any, error) {
	user := c.segs[3]
	g, err := s.lookupGroup(c, c.segs[1])
	if err != nil {
		return nil, err
	}
	if !slices.Contains(g.Members, user) {
		return nil, adminErr(adminapi.CodeNoSuchUser, fasthttp.StatusNotFound, "User %q is not a member of group %q.", user, g.Name)
	}
	members := slices.DeleteFunc(g.Members, func(m string) bool { return m == user })
	cmd := meta.PutGroup{Group: meta.Group{Name: g.Name, Members: members, Created: g.Created}}
	if err := s.deps.Control.Propose(c.r.ctx, cmd); err != nil {
		return nil, err
	}
	return s.showGroup(g.Name)
}

// ---- policies ----

func policyInfo(st *meta.State, name string, withDocument bool) (adminapi.Policy, bool) {
	p := adminapi.Policy{Name: name}
	if doc, ok := iam.PredefinedDocument(name); ok {
		p.Predefined = true
		if withDocument {
			p.Document = json.RawMessage(doc)
		}
	} else if rec := st.Policies[name]; rec != nil {
		if withDocument {
			p.Document = json.RawMessage(bytes.Clone(rec.Document))
		}
		p.Created, p.Updated = unixTime(rec.Created), unixTime(rec.Updated)
	} else {
		return p, false
	}
	users, groups := st.PolicyUsers(name)
	p.Users, p.Groups = nonNil(users), nonNil(groups)
	return p, true
}

func (s *Server) adminListPolicies(c *adminCall) (any, error) {
	out := adminapi.PolicyList{Policies: []adminapi.Policy{}}
	err := s.adminView(c, func(st *meta.State) {
		for _, name := range append(iam.PredefinedNames(), sortedNames(st.Policies)...) {
			if p, ok := policyInfo(st, name, false); ok {
				out.Policies = append(out.Policies, p)
			}
		}
	})
	return out, err
}

func (s *Server) adminShowPolicy(c *adminCall) (any, error) {
	name := c.segs[1]
	var out adminapi.Policy
	found := false
	if err := s.adminView(c, func(st *meta.State) { out, found = policyInfo(st, name, true) }); err != nil {
		return nil, err
	}
	if !found {
		return nil, adminErr(adminapi.CodeNoSuchPolicy, fasthttp.StatusNotFound, "No policy %q.", name)
	}
	return out, nil
}

func (s *Server) adminPutPolicy(c *adminCall) (any, error) {
	name := c.segs[1]
	var req adminapi.PutPolicyRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if err := meta.ValidatePolicyName(name); err != nil {
		return nil, err
	}
	if _, ok := iam.PredefinedDocument(name); ok || meta.IsPredefinedPolicy(name) {
		return nil, invalidArgument("The policy %q is predefined; choose another name.", name)
	}
	if err := parseIdentityPolicy(req.Document); err != nil {
		return nil, err
	}
	now := s.now()
	cmd := meta.PutPolicy{Policy: meta.Policy{Name: name, Document: []byte(req.Document), Created: now, Updated: now}}
	if err := s.deps.Control.Propose(c.r.ctx, cmd); err != nil {
		return nil, err
	}
	var out adminapi.Policy
	s.deps.Control.View(func(st *meta.State) { out, _ = policyInfo(st, name, true) })
	return out, nil
}

func (s *Server) adminRemovePolicy(c *adminCall) (any, error) {
	if _, ok := iam.PredefinedDocument(c.segs[1]); ok {
		return nil, invalidArgument("The policy %q is predefined and cannot be removed.", c.segs[1])
	}
	return nil, s.deps.Control.Propose(c.r.ctx, meta.DeletePolicy{Name: c.segs[1]})
}

func (s *Server) adminAttachPolicy(c *adminCall) (any, error) {
	var req adminapi.AttachRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if (req.User == "") == (req.Group == "") {
		return nil, invalidArgument("Name exactly one of a user or a group.")
	}
	return nil, s.deps.Control.Propose(c.r.ctx, meta.AttachPolicy{Policy: c.segs[1], User: req.User, Group: req.Group})
}

func (s *Server) adminDetachPolicy(c *adminCall) (any, error) {
	var req adminapi.AttachRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if (req.User == "") == (req.Group == "") {
		return nil, invalidArgument("Name exactly one of a user or a group.")
	}
	return nil, s.deps.Control.Propose(c.r.ctx, meta.DetachPolicy{Policy: c.segs[1], User: req.User, Group: req.Group})
}

// ---- service accounts (the caller's own) ----

func serviceAccountInfo(u *meta.User) adminapi.ServiceAccount {
	sa := adminapi.ServiceAccount{AccessKey: u.AccessKey, Name: u.Name, Parent: u.Parent, Account: u.AccountOf(), Created: unixTime(u.Created)}
	if len(u.SessionPolicy) > 0 {
		sa.Policy = json.RawMessage(bytes.Clone(u.SessionPolicy))
	}
	return sa
}

func (s *Server) adminCreateServiceAccount(c *adminCall) (any, error) {
	var req adminapi.CreateServiceAccountRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if len(req.Name) > maxServiceAccountNameLen {
		return nil, invalidArgument("A service account's name has at most %d characters.", maxServiceAccountNameLen)
	}
	for _, r := range req.Name {
		if r < ' ' || r == 0x7f {
			return nil, invalidArgument("A service account's name has no control characters.")
		}
	}
	if req.Policy != "" {
		if err := parseIdentityPolicy(req.Policy); err != nil {
			return nil, err
		}
	}
	secret, err := newSecretKey()
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal(secret)
	if err != nil {
		return nil, err
	}
	// A random access key that happens to be taken is drawn again.
	for attempt := 0; ; attempt++ {
		ak, err := randomString(serviceAccountKeyLen, upperDigits)
		if err != nil {
			return nil, err
		}
		u := meta.User{AccessKey: ak, Name: req.Name, SecretSealed: sealed, Parent: c.caller.AccessKey, Created: s.now()}
		if u.Name == "" {
			u.Name = ak
		}
		if req.Policy != "" {
			u.SessionPolicy = []byte(req.Policy)
		}
		var taken bool
		s.deps.Control.View(func(st *meta.State) { taken = st.Users[ak] != nil })
		if !taken {
			err = s.deps.Control.Propose(c.r.ctx, meta.PutUser{User: u})
		}
		if (taken || errors.Is(err, meta.ErrUserExists)) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, err
		}
		var out adminapi.CreateServiceAccountResponse
		found := false
		s.deps.Control.View(func(st *meta.State) {
			if p := st.Users[ak]; p != nil {
				out.ServiceAccount, found = serviceAccountInfo(p), true
			}
		})
		if !found {
			return nil, fmt.Errorf("service account %s not in the state after it was created", ak)
		}
		out.SecretKey = secret
		return out, nil
	}
}

func (s *Server) adminListServiceAccounts(c *adminCall) (any, error) {
	out := adminapi.ServiceAccountList{ServiceAccounts: []adminapi.ServiceAccount{}}
	err := s.adminView(c, func(st *meta.State) {
		for _, ak := range st.ServiceAccountsOf(c.caller.AccessKey) {
			out.ServiceAccounts = append(out.ServiceAccounts, serviceAccountInfo(st.Users[ak]))
		}
	})
	return out, err
}

func (s *Server) adminRemoveServiceAccount(c *adminCall) (any, error) {
	ak := c.segs[1]
	var mine bool
	if err := s.adminView(c, func(st *meta.State) {
		u := st.Users[ak]
		mine = u != nil && u.Parent == c.caller.AccessKey
	}); err != nil {
		return nil, err
	}
	noSuch := adminErr(adminapi.CodeNoSuchServiceAccount, fasthttp.StatusNotFound, "You have no service account %q.", ak)
	if !mine {
		// Another user's service account is answered as absent: its
		// existence is not the caller's business.
		return nil, noSuch
	}
	err := s.deps.Control.Propose(c.r.ctx, meta.DeleteUser{AccessKey: ak})
	if errors.Is(err, meta.ErrNoSuchUser) {
		return nil, noSuch
	}
	return nil, err
}
