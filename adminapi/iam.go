package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// IAM routes, relative to the endpoint. NAME, AK and GROUP segments are
// path-escaped (PathSegment). Every route is for the root user except
// PathServiceAccounts and below, which a user calls for itself.
//
//	POST   users                      CreateUserRequest -> CreateUserResponse
//	GET    users                      -> UserList
//	GET    users/NAME                 -> User
//	DELETE users/NAME                 (its service accounts go with it)
//	POST   users/NAME/disable         -> User
//	POST   users/NAME/enable          -> User
//	POST   accounts                   CreateAccountRequest -> Account
//	GET    accounts                   -> AccountList
//	GET    accounts/NAME              -> Account
//	DELETE accounts/NAME
//	POST   groups                     CreateGroupRequest -> Group
//	GET    groups                     -> GroupList
//	GET    groups/NAME                -> Group
//	DELETE groups/NAME
//	POST   groups/NAME/members        GroupMemberRequest -> Group
//	DELETE groups/NAME/members/USER   -> Group
//	GET    policies                   -> PolicyList (predefined ones too)
//	GET    policies/NAME              -> Policy
//	PUT    policies/NAME              PutPolicyRequest -> Policy (creates or replaces)
//	DELETE policies/NAME
//	POST   policies/NAME/attach       AttachRequest
//	POST   policies/NAME/detach       AttachRequest
//	POST   service-accounts           CreateServiceAccountRequest -> CreateServiceAccountResponse
//	GET    service-accounts           -> ServiceAccountList (the caller's own)
//	DELETE service-accounts/AK        (one of the caller's own)
const (
	PathUsers           = PathPrefix + "users"
	PathAccounts        = PathPrefix + "accounts"
	PathGroups          = PathPrefix + "groups"
	PathPolicies        = PathPrefix + "policies"
	PathServiceAccounts = PathPrefix + "service-accounts"
)

// Error codes of the IAM routes (Error.Code). Authentication failures and
// server errors keep their S3 codes (AccessDenied, SignatureDoesNotMatch,
// ServiceUnavailable, InternalError, ...).
const (
	CodeNoSuchUser             = "NoSuchUser"             // 404
	CodeUserExists             = "UserExists"             // 409
	CodeNoSuchAccount          = "NoSuchAccount"          // 404
	CodeAccountExists          = "AccountExists"          // 409
	CodeAccountInUse           = "AccountInUse"           // 409: users still belong to it
	CodeNoSuchGroup            = "NoSuchGroup"            // 404
	CodeGroupExists            = "GroupExists"            // 409
	CodeNoSuchPolicy           = "NoSuchPolicy"           // 404
	CodePolicyInUse            = "PolicyInUse"            // 409: still attached
	CodeInvalidPolicy          = "InvalidPolicy"          // 400: the parser's message says where
	CodeNoSuchServiceAccount   = "NoSuchServiceAccount"   // 404
	CodeTooManyServiceAccounts = "TooManyServiceAccounts" // 409: meta.MaxServiceAccounts reached
	CodeInvalidArgument        = "InvalidArgument"        // 400: a bad name, secret or request body
)

// SecretKeyLen is the length of the secret keys the server generates.
const SecretKeyLen = 40

// User is a user as the admin API shows it: never its secret key.
type User struct {
	AccessKey       string    `json:"access_key"` // also its name
	Account         string    `json:"account"`
	Disabled        bool      `json:"disabled"`
	Root            bool      `json:"root,omitempty"`
	Policies        []string  `json:"policies"`         // attached to the user itself
	Groups          []string  `json:"groups"`           // groups it is a member of
	ServiceAccounts int       `json:"service_accounts"` // how many it has
	Created         time.Time `json:"created"`
	// Buckets, UsageBytes and Objects are the buckets the user owns
	// (made with its keys, its service accounts' or its sessions') and
	// what they hold; QuotaBytes caps UsageBytes (0: no quota).
	Buckets    int   `json:"buckets"`
	UsageBytes int64 `json:"usage_bytes"`
	Objects    int64 `json:"objects"`
	QuotaBytes int64 `json:"quota_bytes,omitempty"`
}

// CreateUserRequest creates a user. SecretKey is generated (SecretKeyLen
// characters) when empty; Account is meta's default account when empty.
type CreateUserRequest struct {
	Name      string `json:"name"`
	SecretKey string `json:"secret_key,omitempty"`
	Account   string `json:"account,omitempty"`
}

// CreateUserResponse is the only answer that carries the user's secret key.
type CreateUserResponse struct {
	User      User   `json:"user"`
	SecretKey string `json:"secret_key"`
}

// UserList answers GET users, sorted by access key.
type UserList struct {
	Users []User `json:"users"`
}

// Account is a tenant and the users that belong to it.
type Account struct {
	Name    string    `json:"name"`
	Default bool      `json:"default,omitempty"` // the implicit default account
	Users   []string  `json:"users"`             // access keys of its users (not service accounts)
	Created time.Time `json:"created,omitzero"`
}

// CreateAccountRequest creates an account.
type CreateAccountRequest struct {
	Name string `json:"name"`
}

// AccountList answers GET accounts, sorted by name.
type AccountList struct {
	Accounts []Account `json:"accounts"`
}

// Group is a group of users and the policies attached to it.
type Group struct {
	Name     string    `json:"name"`
	Members  []string  `json:"members"`
	Policies []string  `json:"policies"`
	Created  time.Time `json:"created"`
}

// CreateGroupRequest creates a group, optionally with members.
type CreateGroupRequest struct {
	Name    string   `json:"name"`
	Members []string `json:"members,omitempty"`
}

// GroupMemberRequest adds a user to a group.
type GroupMemberRequest struct {
	User string `json:"user"`
}

// GroupList answers GET groups, sorted by name.
type GroupList struct {
	Groups []Group `json:"groups"`
}

// Policy is a managed or predefined policy.
type Policy struct {
	Name       string          `json:"name"`
	Predefined bool            `json:"predefined,omitempty"`
	Document   json.RawMessage `json:"document,omitempty"` // the IAM policy document
	Users      []string        `json:"users"`              // attached to these users
	Groups     []string        `json:"groups"`             // and these groups
	Created    time.Time       `json:"created,omitzero"`
	Updated    time.Time       `json:"updated,omitzero"`
}

// PutPolicyRequest creates or replaces a managed policy. Document is the
// IAM policy document as written (JSON text); the server validates it and
// answers InvalidPolicy with the parser's message when it is wrong.
type PutPolicyRequest struct {
	Document string `json:"document"`
}

// PolicyList answers GET policies: predefined then managed, each sorted by
// name. Documents are left out (GET policies/NAME has them).
type PolicyList struct {
	Policies []Policy `json:"policies"`
}

// AttachRequest names exactly one of a user or a group.
type AttachRequest struct {
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
}

// ServiceAccount is a child key of a user: the parent's permissions,
// narrowed by Policy when it has one. Its secret key is shown only by
// CreateServiceAccount.
type ServiceAccount struct {
	AccessKey string          `json:"access_key"`
	Name      string          `json:"name"`
	Parent    string          `json:"parent"`
	Account   string          `json:"account"`
	Policy    json.RawMessage `json:"policy,omitempty"`
	Created   time.Time       `json:"created"`
}

// CreateServiceAccountRequest creates a service account of the calling
// user. Name is a label (default: the access key); Policy, when set, is an
// IAM policy document that narrows the parent's permissions.
type CreateServiceAccountRequest struct {
	Name   string `json:"name,omitempty"`
	Policy string `json:"policy,omitempty"`
}

// CreateServiceAccountResponse is the only answer that carries the service
// account's secret key.
type CreateServiceAccountResponse struct {
	ServiceAccount ServiceAccount `json:"service_account"`
	SecretKey      string         `json:"secret_key"`
}

// ServiceAccountList answers GET service-accounts, sorted by access key.
type ServiceAccountList struct {
	ServiceAccounts []ServiceAccount `json:"service_accounts"`
}

// PathSegment escapes one path segment as SigV4 canonicalises it (every
// byte but A-Z a-z 0-9 - . _ ~ percent-encoded), so that the path sent is
// the path signed.
func PathSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func join(base string, segs ...string) string {
	for _, s := range segs {
		base += "/" + PathSegment(s)
	}
	return base
}

// CreateUser creates a user; the answer carries its secret key.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (CreateUserResponse, error) {
	var out CreateUserResponse
	err := c.Do(ctx, http.MethodPost, PathUsers, req, &out)
	return out, err
}

// ListUsers lists the users (not service accounts).
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var out UserList
	err := c.Do(ctx, http.MethodGet, PathUsers, nil, &out)
	return out.Users, err
}

// GetUser shows one user.
func (c *Client) GetUser(ctx context.Context, name string) (User, error) {
	var out User
	err := c.Do(ctx, http.MethodGet, join(PathUsers, name), nil, &out)
	return out, err
}

// RemoveUser removes a user and its service accounts.
func (c *Client) RemoveUser(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, join(PathUsers, name), nil, nil)
}

// DisableUser disables a user: its keys, service accounts and temporary
// credentials stop working until it is enabled again.
func (c *Client) DisableUser(ctx context.Context, name string) (User, error) {
	var out User
	err := c.Do(ctx, http.MethodPost, join(PathUsers, name, "disable"), nil, &out)
	return out, err
}

// EnableUser enables a disabled user.
func (c *Client) EnableUser(ctx context.Context, name string) (User, error) {
	var out User
	err := c.Do(ctx, http.MethodPost, join(PathUsers, name, "enable"), nil, &out)
	return out, err
}

// CreateAccount creates an account.
func (c *Client) CreateAccount(ctx context.Context, name string) (Account, error) {
	var out Account
	err := c.Do(ctx, http.MethodPost, PathAccounts, CreateAccountRequest{Name: name}, &out)
	return out, err
}

// ListAccounts lists the accounts, the default one included.
func (c *Client) ListAccounts(ctx context.Context) ([]Account, error) {
	var out AccountList
	err := c.Do(ctx, http.MethodGet, PathAccounts, nil, &out)
	return out.Accounts, err
}

// GetAccount shows one account.
func (c *Client) GetAccount(ctx context.Context, name string) (Account, error) {
	var out Account
	err := c.Do(ctx, http.MethodGet, join(PathAccounts, name), nil, &out)
	return out, err
}

// RemoveAccount removes an account no user belongs to.
func (c *Client) RemoveAccount(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, join(PathAccounts, name), nil, nil)
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, req CreateGroupRequest) (Group, error) {
	var out Group
	err := c.Do(ctx, http.MethodPost, PathGroups, req, &out)
	return out, err
}

// ListGroups lists the groups.
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	var out GroupList
	err := c.Do(ctx, http.MethodGet, PathGroups, nil, &out)
	return out.Groups, err
}

// GetGroup shows one group.
func (c *Client) GetGroup(ctx context.Context, name string) (Group, error) {
	var out Group
	err := c.Do(ctx, http.MethodGet, join(PathGroups, name), nil, &out)
	return out, err
}

// RemoveGroup removes a group (its members stay users).
func (c *Client) RemoveGroup(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, join(PathGroups, name), nil, nil)
}

// AddGroupMember adds user to group (a no-op when it is a member).
func (c *Client) AddGroupMember(ctx context.Context, group, user string) (Group, error) {
	var out Group
	err := c.Do(ctx, http.MethodPost, join(PathGroups, group, "members"), GroupMemberRequest{User: user}, &out)
	return out, err
}

// RemoveGroupMember removes user from group; NoSuchUser when it is not a
// member.
func (c *Client) RemoveGroupMember(ctx context.Context, group, user string) (Group, error) {
	var out Group
	err := c.Do(ctx, http.MethodDelete, join(PathGroups, group, "members", user), nil, &out)
	return out, err
}

// ListPolicies lists the predefined and managed policies, without their
// documents.
func (c *Client) ListPolicies(ctx context.Context) ([]Policy, error) {
	var out PolicyList
	err := c.Do(ctx, http.MethodGet, PathPolicies, nil, &out)
	return out.Policies, err
}

// GetPolicy shows one policy with its document.
func (c *Client) GetPolicy(ctx context.Context, name string) (Policy, error) {
	var out Policy
	err := c.Do(ctx, http.MethodGet, join(PathPolicies, name), nil, &out)
	return out, err
}

// PutPolicy creates or replaces the managed policy name with document.
func (c *Client) PutPolicy(ctx context.Context, name string, document []byte) (Policy, error) {
	var out Policy
	err := c.Do(ctx, http.MethodPut, join(PathPolicies, name), PutPolicyRequest{Document: string(document)}, &out)
	return out, err
}

// RemovePolicy removes a managed policy that nothing has attached.
func (c *Client) RemovePolicy(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, join(PathPolicies, name), nil, nil)
}

// AttachPolicy attaches policy to the user or group of req.
func (c *Client) AttachPolicy(ctx context.Context, policy string, req AttachRequest) error {
	return c.Do(ctx, http.MethodPost, join(PathPolicies, policy, "attach"), req, nil)
}

// DetachPolicy detaches policy from the user or group of req.
func (c *Client) DetachPolicy(ctx context.Context, policy string, req AttachRequest) error {
	return c.Do(ctx, http.MethodPost, join(PathPolicies, policy, "detach"), req, nil)
}

// CreateServiceAccount creates a service account of the calling user (the
// client's keys); the answer carries its secret key.
func (c *Client) CreateServiceAccount(ctx context.Context, req CreateServiceAccountRequest) (CreateServiceAccountResponse, error) {
	var out CreateServiceAccountResponse
	err := c.Do(ctx, http.MethodPost, PathServiceAccounts, req, &out)
	return out, err
}

// ListServiceAccounts lists the calling user's service accounts.
func (c *Client) ListServiceAccounts(ctx context.Context) ([]ServiceAccount, error) {
	var out ServiceAccountList
	err := c.Do(ctx, http.MethodGet, PathServiceAccounts, nil, &out)
	return out.ServiceAccounts, err
}

// RemoveServiceAccount removes one of the calling user's service accounts.
func (c *Client) RemoveServiceAccount(ctx context.Context, accessKey string) error {
	return c.Do(ctx, http.MethodDelete, join(PathServiceAccounts, accessKey), nil, nil)
}
