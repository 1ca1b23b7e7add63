package s3api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
)

type fakeAdmin struct{ calls int }

func (f *fakeAdmin) ClusterStatus(ctx context.Context) (adminapi.ClusterStatus, error) {
	f.calls++
	return adminapi.ClusterStatus{ClusterID: "test-cluster", EC: "2+2", Leader: "n1",
		Nodes: []adminapi.NodeStatus{{ID: "n1", Alive: true}}}, nil
}

// Decommission refuses every node but "n2" as the node would (the
// refusal travels as an *adminapi.Error).
func (f *fakeAdmin) Decommission(_ context.Context, id string, force bool) (adminapi.DecommissionResult, error) {
	f.calls++
	if id != "n2" {
		return adminapi.DecommissionResult{}, &adminapi.Error{Code: adminapi.CodeNoSuchNode, Status: http.StatusNotFound, Message: "no node " + id}
	}
	return adminapi.DecommissionResult{Node: id, State: "draining", Message: fmt.Sprintf("force=%v", force)}, nil
}

func (f *fakeAdmin) CancelDecommission(_ context.Context, id string) (adminapi.DecommissionResult, error) {
	f.calls++
	return adminapi.DecommissionResult{Node: id, State: "up"}, nil
}

func TestAdminDecommissionRoutes(t *testing.T) {
	fa := &fakeAdmin{}
	ts := startTestServerDeps(t, func(d *Deps) { d.Admin = fa })
	ctx := context.Background()
	c := &adminapi.Client{Endpoint: ts.url, AccessKey: testAccessKey, SecretKey: testSecretKey}
	res, err := c.Decommission(ctx, "n2", true)
	if err != nil || res.State != "draining" || res.Message != "force=true" {
		t.Fatalf("decommission: %+v %v", res, err)
	}
	var ae *adminapi.Error
	if _, err := c.Decommission(ctx, "n9", false); !errors.As(err, &ae) || ae.Code != adminapi.CodeNoSuchNode || ae.Status != http.StatusNotFound {
		t.Fatalf("unknown node: %v", err)
	}
	if res, err := c.CancelDecommission(ctx, "n2"); err != nil || res.State != "up" {
		t.Fatalf("cancel: %+v %v", res, err)
	}
}

func TestAdminClusterStatus(t *testing.T) {
	fa := &fakeAdmin{}
	ts := startTestServerDeps(t, func(d *Deps) { d.Admin = fa })
	ctx := context.Background()

	c := &adminapi.Client{Endpoint: ts.url, AccessKey: testAccessKey, SecretKey: testSecretKey}
	st, err := c.ClusterStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ClusterID != "test-cluster" || st.Leader != "n1" || len(st.Nodes) != 1 || fa.calls != 1 {
		t.Fatalf("status %+v after %d calls", st, fa.calls)
	}

	// A user that is not root is refused, and the handler is not called.
	ts.ctl.mu.Lock()
	ts.ctl.st.Users["AKIAUSER"] = &meta.User{AccessKey: "AKIAUSER", SecretSealed: []byte(sealPrefix + "user-secret-0123456789"), Name: "alice"}
	ts.ctl.mu.Unlock()
	user := &adminapi.Client{Endpoint: ts.url, AccessKey: "AKIAUSER", SecretKey: "user-secret-0123456789"}
	var ae *adminapi.Error
	if _, err := user.ClusterStatus(ctx); !errors.As(err, &ae) || ae.Code != "AccessDenied" || ae.Status != http.StatusForbidden {
		t.Fatalf("non-root: %v", err)
	}

	// A bad signature is refused with the S3 code, as JSON.
	bad := &adminapi.Client{Endpoint: ts.url, AccessKey: testAccessKey, SecretKey: "not-the-secret"}
	if _, err := bad.ClusterStatus(ctx); !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" || ae.Status != http.StatusForbidden {
		t.Fatalf("bad secret: %v", err)
	}

	// Anonymous requests and unknown routes.
	resp, body := get(t, ts.url+adminapi.PathClusterStatus)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("anonymous: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if fa.calls != 1 {
		t.Fatalf("refused requests reached the handler: %d calls", fa.calls)
	}
}

func TestAdminUnknownRoute(t *testing.T) {
	ts := startTestServerDeps(t, func(d *Deps) { d.Admin = &fakeAdmin{} })
	c := &adminapi.Client{Endpoint: ts.url, AccessKey: testAccessKey, SecretKey: testSecretKey}
	var ae *adminapi.Error
	err := c.Do(context.Background(), http.MethodGet, adminapi.PathPrefix+"no/such/route", nil, nil)
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != "NoSuchAdminRoute" {
		t.Fatalf("unknown route: %v", err)
	}
	err = c.Do(context.Background(), http.MethodPost, adminapi.PathClusterStatus, nil, nil)
	if !errors.As(err, &ae) || ae.Status != http.StatusMethodNotAllowed {
		t.Fatalf("POST cluster/status: %v", err)
	}
}

// iamServer is a test server with the IAM admin routes' dependencies and
// a root client.
func iamServer(t *testing.T) (*testServer, *adminapi.Client) {
	t.Helper()
	ts := startTestServerDeps(t, func(d *Deps) {
		d.Admin = &fakeAdmin{}
		d.Seal = func(secret string) ([]byte, error) { return []byte(sealPrefix + secret), nil }
	})
	return ts, &adminapi.Client{Endpoint: ts.url, AccessKey: testAccessKey, SecretKey: testSecretKey}
}

// wantAdminError fails unless err is an adminapi.Error with code and status.
func wantAdminError(t *testing.T, what string, err error, code string, status int) *adminapi.Error {
	t.Helper()
	var ae *adminapi.Error
	if !errors.As(err, &ae) || ae.Code != code || ae.Status != status {
		t.Fatalf("%s: got %v, want %s (HTTP %d)", what, err, code, status)
	}
	return ae
}

func TestAdminUsers(t *testing.T) {
	ts, root := iamServer(t)
	ctx := context.Background()

	created, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.SecretKey) != adminapi.SecretKeyLen || created.User.AccessKey != "alice" || created.User.Account != meta.DefaultAccount || created.User.Disabled {
		t.Fatalf("created %+v", created)
	}
	// The secret is stored sealed, and works: alice signs her own calls.
	ts.ctl.View(func(st *meta.State) {
		if got := string(st.Users["alice"].SecretSealed); got != sealPrefix+created.SecretKey {
			t.Errorf("sealed secret %q", got)
		}
	})
	alice := &adminapi.Client{Endpoint: ts.url, AccessKey: "alice", SecretKey: created.SecretKey}
	if _, err := alice.ListServiceAccounts(ctx); err != nil {
		t.Fatalf("alice's own keys: %v", err)
	}
	// A chosen secret key is used as given; another generated one differs.
	bob, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "bob", SecretKey: "bob-secret-key-1"})
	if err != nil || bob.SecretKey != "bob-secret-key-1" {
		t.Fatalf("bob: %+v %v", bob, err)
	}
	carol, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "carol"})
	if err != nil || carol.SecretKey == created.SecretKey {
		t.Fatalf("carol: %v (secret repeated: %v)", err, carol.SecretKey == created.SecretKey)
	}

	wantAdminError(t, "duplicate", func() error { _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice"}); return err }(), "UserExists", http.StatusConflict)
	wantAdminError(t, "bad name", func() error { _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "a/b"}); return err }(), "InvalidArgument", http.StatusBadRequest)
	wantAdminError(t, "short secret", func() error {
		_, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "dave", SecretKey: "short"})
		return err
	}(), "InvalidArgument", http.StatusBadRequest)
	wantAdminError(t, "missing account", func() error {
		_, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "dave", Account: "nope"})
		return err
	}(), "NoSuchAccount", http.StatusNotFound)
	wantAdminError(t, "unknown field", root.Do(ctx, http.MethodPost, adminapi.PathUsers, map[string]string{"name": "dave", "secret": "x"}, nil), "InvalidArgument", http.StatusBadRequest)

	// list and show never carry a secret.
	users, err := root.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.AccessKey)
	}
	if !slices.Equal(names, []string{testAccessKey, "alice", "bob", "carol"}) || !users[0].Root {
		t.Fatalf("users %v", names)
	}
	var raw json.RawMessage
	if err := root.Do(ctx, http.MethodGet, adminapi.PathUsers, nil, &raw); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{created.SecretKey, "bob-secret-key-1", carol.SecretKey, testSecretKey} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("user list shows a secret: %s", raw)
		}
	}
	u, err := root.GetUser(ctx, "alice")
	if err != nil || u.AccessKey != "alice" || u.Created.IsZero() || len(u.Policies) != 0 {
		t.Fatalf("show alice: %+v %v", u, err)
	}
	wantAdminError(t, "show missing", func() error { _, err := root.GetUser(ctx, "nobody"); return err }(), "NoSuchUser", http.StatusNotFound)

	// Disable: alice's keys stop working; enable: they work again.
	if u, err := root.DisableUser(ctx, "alice"); err != nil || !u.Disabled {
		t.Fatalf("disable: %+v %v", u, err)
	}
	wantAdminError(t, "disabled user", func() error { _, err := alice.ListServiceAccounts(ctx); return err }(), "InvalidAccessKeyId", http.StatusForbidden)
	if u, err := root.EnableUser(ctx, "alice"); err != nil || u.Disabled {
		t.Fatalf("enable: %+v %v", u, err)
	}
	if _, err := alice.ListServiceAccounts(ctx); err != nil {
		t.Fatalf("enabled alice: %v", err)
	}
	wantAdminError(t, "disable root", func() error { _, err := root.DisableUser(ctx, testAccessKey); return err }(), "InvalidArgument", http.StatusBadRequest)

	// A user is not an admin.
	wantAdminError(t, "user lists users", func() error { _, err := alice.ListUsers(ctx); return err }(), "AccessDenied", http.StatusForbidden)
	wantAdminError(t, "user creates a user", func() error { _, err := alice.CreateUser(ctx, adminapi.CreateUserRequest{Name: "eve"}); return err }(), "AccessDenied", http.StatusForbidden)

	// Remove: the user and its service accounts are gone.
	sa, err := alice.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	ts.ctl.View(func(st *meta.State) {
		if st.Users["alice"] != nil || st.Users[sa.ServiceAccount.AccessKey] != nil {
			t.Error("alice or her service account survived")
		}
	})
	wantAdminError(t, "remove missing", root.RemoveUser(ctx, "alice"), "NoSuchUser", http.StatusNotFound)
	wantAdminError(t, "remove root", root.RemoveUser(ctx, testAccessKey), "InvalidArgument", http.StatusBadRequest)
	// A service account is not a user of the users routes.
	bobc := &adminapi.Client{Endpoint: ts.url, AccessKey: "bob", SecretKey: "bob-secret-key-1"}
	bsa, err := bobc.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{})
	if err != nil {
		t.Fatal(err)
	}
	wantAdminError(t, "admin removes a service account", root.RemoveUser(ctx, bsa.ServiceAccount.AccessKey), "NoSuchUser", http.StatusNotFound)
}

func TestAdminAccounts(t *testing.T) {
	_, root := iamServer(t)
	ctx := context.Background()
	a, err := root.CreateAccount(ctx, "genomics")
	if err != nil || a.Name != "genomics" || a.Created.IsZero() || len(a.Users) != 0 {
		t.Fatalf("create: %+v %v", a, err)
	}
	wantAdminError(t, "exists", func() error { _, err := root.CreateAccount(ctx, "genomics"); return err }(), "AccountExists", http.StatusConflict)
	wantAdminError(t, "default exists", func() error { _, err := root.CreateAccount(ctx, meta.DefaultAccount); return err }(), "AccountExists", http.StatusConflict)
	wantAdminError(t, "bad name", func() error { _, err := root.CreateAccount(ctx, "a:b"); return err }(), "InvalidArgument", http.StatusBadRequest)
	if _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "gina", Account: "genomics"}); err != nil {
		t.Fatal(err)
	}
	list, err := root.ListAccounts(ctx)
	if err != nil || len(list) != 2 || list[0].Name != meta.DefaultAccount || !list[0].Default || !slices.Equal(list[0].Users, []string{testAccessKey}) ||
		list[1].Name != "genomics" || !slices.Equal(list[1].Users, []string{"gina"}) {
		t.Fatalf("list: %+v %v", list, err)
	}
	if a, err := root.GetAccount(ctx, "genomics"); err != nil || !slices.Equal(a.Users, []string{"gina"}) {
		t.Fatalf("show: %+v %v", a, err)
	}
	wantAdminError(t, "show missing", func() error { _, err := root.GetAccount(ctx, "nope"); return err }(), "NoSuchAccount", http.StatusNotFound)
	wantAdminError(t, "in use", root.RemoveAccount(ctx, "genomics"), "AccountInUse", http.StatusConflict)
	wantAdminError(t, "default", root.RemoveAccount(ctx, meta.DefaultAccount), "InvalidArgument", http.StatusBadRequest)
	if err := root.RemoveUser(ctx, "gina"); err != nil {
		t.Fatal(err)
	}
	if err := root.RemoveAccount(ctx, "genomics"); err != nil {
		t.Fatal(err)
	}
	wantAdminError(t, "remove missing", root.RemoveAccount(ctx, "genomics"), "NoSuchAccount", http.StatusNotFound)
}

func TestAdminGroups(t *testing.T) {
	_, root := iamServer(t)
	ctx := context.Background()
	for _, n := range []string{"ann", "ben"} {
		if _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	g, err := root.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "staff", Members: []string{"ben"}})
	if err != nil || !slices.Equal(g.Members, []string{"ben"}) || len(g.Policies) != 0 {
		t.Fatalf("create: %+v %v", g, err)
	}
	wantAdminError(t, "exists", func() error { _, err := root.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "staff"}); return err }(), "GroupExists", http.StatusConflict)
	wantAdminError(t, "missing member", func() error {
		_, err := root.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "g2", Members: []string{"nobody"}})
		return err
	}(), "NoSuchUser", http.StatusNotFound)
	if g, err = root.AddGroupMember(ctx, "staff", "ann"); err != nil || !slices.Equal(g.Members, []string{"ann", "ben"}) {
		t.Fatalf("add-user: %+v %v", g, err)
	}
	wantAdminError(t, "add missing user", func() error { _, err := root.AddGroupMember(ctx, "staff", "nobody"); return err }(), "NoSuchUser", http.StatusNotFound)
	wantAdminError(t, "add to missing group", func() error { _, err := root.AddGroupMember(ctx, "nope", "ann"); return err }(), "NoSuchGroup", http.StatusNotFound)
	if u, err := root.GetUser(ctx, "ann"); err != nil || !slices.Equal(u.Groups, []string{"staff"}) {
		t.Fatalf("ann's groups: %+v %v", u, err)
	}
	if g, err = root.RemoveGroupMember(ctx, "staff", "ben"); err != nil || !slices.Equal(g.Members, []string{"ann"}) {
		t.Fatalf("remove-user: %+v %v", g, err)
	}
	wantAdminError(t, "remove non-member", func() error { _, err := root.RemoveGroupMember(ctx, "staff", "ben"); return err }(), "NoSuchUser", http.StatusNotFound)
	list, err := root.ListGroups(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "staff" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := root.RemoveGroup(ctx, "staff"); err != nil {
		t.Fatal(err)
	}
	wantAdminError(t, "show removed", func() error { _, err := root.GetGroup(ctx, "staff"); return err }(), "NoSuchGroup", http.StatusNotFound)
	wantAdminError(t, "remove missing", root.RemoveGroup(ctx, "staff"), "NoSuchGroup", http.StatusNotFound)
}

func TestAdminPolicies(t *testing.T) {
	_, root := iamServer(t)
	ctx := context.Background()
	if !slices.Equal(meta.PredefinedPolicyNames(), iam.PredefinedNames()) {
		t.Fatalf("meta's predefined policies %v differ from iam's %v", meta.PredefinedPolicyNames(), iam.PredefinedNames())
	}
	list, err := root.ListPolicies(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %+v %v", list, err)
	}
	for _, p := range list {
		if !p.Predefined || p.Document != nil {
			t.Fatalf("listed predefined policy %+v", p)
		}
	}
	ro, err := root.GetPolicy(ctx, "readonly")
	if err != nil || !ro.Predefined || !strings.Contains(string(ro.Document), "s3:GetObject") {
		t.Fatalf("show readonly: %+v %v", ro, err)
	}

	bad := `{"Version":"2012-10-17","Statement":[{"Sid":"ok","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"broken","Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}`
	ae := wantAdminError(t, "invalid document", func() error { _, err := root.PutPolicy(ctx, "p1", []byte(bad)); return err }(), "InvalidPolicy", http.StatusBadRequest)
	if !strings.Contains(ae.Message, "broken") && !strings.Contains(ae.Message, "statement 2") {
		t.Fatalf("the message does not point at the bad statement: %q", ae.Message)
	}
	wantAdminError(t, "not json", func() error { _, err := root.PutPolicy(ctx, "p1", []byte("{")); return err }(), "InvalidPolicy", http.StatusBadRequest)
	wantAdminError(t, "empty", func() error { _, err := root.PutPolicy(ctx, "p1", nil); return err }(), "InvalidPolicy", http.StatusBadRequest)
	big := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("a", 21<<10) + `"}]}`)
	wantAdminError(t, "too big", func() error { _, err := root.PutPolicy(ctx, "p1", big); return err }(), "InvalidPolicy", http.StatusBadRequest)
	wantAdminError(t, "predefined name", func() error { _, err := root.PutPolicy(ctx, "readwrite", []byte(testPolicyDoc)); return err }(), "InvalidArgument", http.StatusBadRequest)
	wantAdminError(t, "bad name", func() error { _, err := root.PutPolicy(ctx, "a b", []byte(testPolicyDoc)); return err }(), "InvalidArgument", http.StatusBadRequest)
	wantAdminError(t, "bucket policy as identity policy", func() error {
		_, err := root.PutPolicy(ctx, "p1", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`))
		return err
	}(), "InvalidPolicy", http.StatusBadRequest)

	p, err := root.PutPolicy(ctx, "p1", []byte(testPolicyDoc))
	if err != nil || p.Name != "p1" || p.Predefined || p.Created.IsZero() {
		t.Fatalf("create: %+v %v", p, err)
	}
	if p, err := root.GetPolicy(ctx, "p1"); err != nil || !jsonEqual(t, p.Document, testPolicyDoc) {
		t.Fatalf("show: %+v %v", p, err)
	}
	if _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "pat"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "readers"}); err != nil {
		t.Fatal(err)
	}
	for _, req := range []adminapi.AttachRequest{{User: "pat"}, {Group: "readers"}} {
		if err := root.AttachPolicy(ctx, "p1", req); err != nil {
			t.Fatalf("attach %+v: %v", req, err)
		}
	}
	if err := root.AttachPolicy(ctx, "readonly", adminapi.AttachRequest{User: "pat"}); err != nil {
		t.Fatal(err)
	}
	if u, err := root.GetUser(ctx, "pat"); err != nil || !slices.Equal(u.Policies, []string{"p1", "readonly"}) {
		t.Fatalf("pat: %+v %v", u, err)
	}
	if p, err := root.GetPolicy(ctx, "p1"); err != nil || !slices.Equal(p.Users, []string{"pat"}) || !slices.Equal(p.Groups, []string{"readers"}) {
		t.Fatalf("p1 users: %+v %v", p, err)
	}
	wantAdminError(t, "attach to both", root.AttachPolicy(ctx, "p1", adminapi.AttachRequest{User: "pat", Group: "readers"}), "InvalidArgument", http.StatusBadRequest)
	wantAdminError(t, "attach missing policy", root.AttachPolicy(ctx, "nope", adminapi.AttachRequest{User: "pat"}), "NoSuchPolicy", http.StatusNotFound)
	wantAdminError(t, "attach to missing user", root.AttachPolicy(ctx, "p1", adminapi.AttachRequest{User: "nobody"}), "NoSuchUser", http.StatusNotFound)
	wantAdminError(t, "attach to missing group", root.AttachPolicy(ctx, "p1", adminapi.AttachRequest{Group: "nope"}), "NoSuchGroup", http.StatusNotFound)
	wantAdminError(t, "remove attached", root.RemovePolicy(ctx, "p1"), "PolicyInUse", http.StatusConflict)
	wantAdminError(t, "remove predefined", root.RemovePolicy(ctx, "readonly"), "InvalidArgument", http.StatusBadRequest)
	for _, req := range []adminapi.AttachRequest{{User: "pat"}, {Group: "readers"}} {
		if err := root.DetachPolicy(ctx, "p1", req); err != nil {
			t.Fatalf("detach %+v: %v", req, err)
		}
	}
	wantAdminError(t, "detach again", root.DetachPolicy(ctx, "p1", adminapi.AttachRequest{User: "pat"}), "InvalidArgument", http.StatusBadRequest)
	if err := root.RemovePolicy(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	wantAdminError(t, "show removed", func() error { _, err := root.GetPolicy(ctx, "p1"); return err }(), "NoSuchPolicy", http.StatusNotFound)
	wantAdminError(t, "remove missing", root.RemovePolicy(ctx, "p1"), "NoSuchPolicy", http.StatusNotFound)
}

const testPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"read","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::photos/*"]}]}`

func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("document %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(a, b)
}

func TestAdminServiceAccounts(t *testing.T) {
	ts, root := iamServer(t)
	ctx := context.Background()
	clientOf := func(name string) *adminapi.Client {
		t.Helper()
		c, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return &adminapi.Client{Endpoint: ts.url, AccessKey: name, SecretKey: c.SecretKey}
	}
	if _, err := root.CreateAccount(ctx, "astro"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "sam", SecretKey: "sam-secret-123", Account: "astro"}); err != nil {
		t.Fatal(err)
	}
	sam := &adminapi.Client{Endpoint: ts.url, AccessKey: "sam", SecretKey: "sam-secret-123"}
	tom := clientOf("tom")

	sa, err := sam.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{Name: "rclone on laptop", Policy: testPolicyDoc})
	if err != nil {
		t.Fatal(err)
	}
	got := sa.ServiceAccount
	if len(got.AccessKey) != 20 || strings.ToUpper(got.AccessKey) != got.AccessKey || len(sa.SecretKey) != adminapi.SecretKeyLen ||
		got.Name != "rclone on laptop" || got.Parent != "sam" || got.Account != "astro" || !jsonEqual(t, got.Policy, testPolicyDoc) {
		t.Fatalf("created %+v", sa)
	}
	// The service account's keys sign requests (here: refused as a
	// service account, which proves the signature was good).
	svc := &adminapi.Client{Endpoint: ts.url, AccessKey: got.AccessKey, SecretKey: sa.SecretKey}
	wantAdminError(t, "service account creates one", func() error {
		_, err := svc.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{})
		return err
	}(), "AccessDenied", http.StatusForbidden)
	plain, err := sam.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{})
	if err != nil || plain.ServiceAccount.Name != plain.ServiceAccount.AccessKey || plain.ServiceAccount.Policy != nil {
		t.Fatalf("plain: %+v %v", plain, err)
	}
	wantAdminError(t, "bad policy", func() error {
		_, err := sam.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{Policy: `{"Statement":"nope"}`})
		return err
	}(), "InvalidPolicy", http.StatusBadRequest)
	wantAdminError(t, "root", func() error {
		_, err := root.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{})
		return err
	}(), "AccessDenied", http.StatusForbidden)
	wantAdminError(t, "root lists", func() error { _, err := root.ListServiceAccounts(ctx); return err }(), "AccessDenied", http.StatusForbidden)

	// Each user sees and removes only its own.
	tsa, err := tom.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{Name: "tom's"})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := sam.ListServiceAccounts(ctx)
	if err != nil || len(mine) != 2 {
		t.Fatalf("sam's: %+v %v", mine, err)
	}
	for _, m := range mine {
		if m.Parent != "sam" {
			t.Fatalf("sam sees %+v", m)
		}
	}
	if s, err := root.GetUser(ctx, "sam"); err != nil || s.ServiceAccounts != 2 {
		t.Fatalf("sam as the admin sees him: %+v %v", s, err)
	}
	wantAdminError(t, "remove another's", sam.RemoveServiceAccount(ctx, tsa.ServiceAccount.AccessKey), "NoSuchServiceAccount", http.StatusNotFound)
	wantAdminError(t, "remove missing", sam.RemoveServiceAccount(ctx, "NOSUCHKEY"), "NoSuchServiceAccount", http.StatusNotFound)
	if err := sam.RemoveServiceAccount(ctx, plain.ServiceAccount.AccessKey); err != nil {
		t.Fatal(err)
	}
	if mine, err := sam.ListServiceAccounts(ctx); err != nil || len(mine) != 1 || mine[0].AccessKey != got.AccessKey {
		t.Fatalf("after remove: %+v %v", mine, err)
	}
	if theirs, err := tom.ListServiceAccounts(ctx); err != nil || len(theirs) != 1 {
		t.Fatalf("tom's: %+v %v", theirs, err)
	}
	// The limit.
	for i := 1; i < meta.MaxServiceAccounts; i++ {
		if _, err := tom.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{}); err != nil {
			t.Fatalf("service account %d: %v", i+1, err)
		}
	}
	wantAdminError(t, "101st", func() error {
		_, err := tom.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{})
		return err
	}(), "TooManyServiceAccounts", http.StatusConflict)
}

func TestAdminIAMNoSeal(t *testing.T) {
	ts := startTestServerDeps(t, nil)
	root := &adminapi.Client{Endpoint: ts.url, AccessKey: testAccessKey, SecretKey: testSecretKey}
	_, err := root.CreateUser(context.Background(), adminapi.CreateUserRequest{Name: "x"})
	wantAdminError(t, "create without Seal", err, "NotImplemented", http.StatusNotImplemented)
	// Reads need no Seal.
	if _, err := root.ListUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAdminIAMRoutes(t *testing.T) {
	_, root := iamServer(t)
	ctx := context.Background()
	wantAdminError(t, "PATCH users", root.Do(ctx, http.MethodPatch, adminapi.PathUsers, nil, nil), "MethodNotAllowed", http.StatusMethodNotAllowed)
	wantAdminError(t, "users/a/b", root.Do(ctx, http.MethodGet, adminapi.PathUsers+"/a/b", nil, nil), "NoSuchAdminRoute", http.StatusNotFound)
	wantAdminError(t, "empty segment", root.Do(ctx, http.MethodGet, adminapi.PathUsers+"/", nil, nil), "NoSuchAdminRoute", http.StatusNotFound)
	// Names with characters that need escaping travel intact.
	if _, err := root.CreateUser(ctx, adminapi.CreateUserRequest{Name: "a+b=c,d@e"}); err != nil {
		t.Fatal(err)
	}
	if u, err := root.GetUser(ctx, "a+b=c,d@e"); err != nil || u.AccessKey != "a+b=c,d@e" {
		t.Fatalf("escaped name: %+v %v", u, err)
	}
}

// TestAdminIAMUnavailable: a cluster without a leader answers 503.
func TestAdminIAMUnavailable(t *testing.T) {
	ts, root := iamServer(t)
	ts.ctl.mu.Lock()
	ts.ctl.failNext = errTestNoLeader
	ts.ctl.mu.Unlock()
	_, err := root.ListUsers(context.Background())
	wantAdminError(t, "no leader", err, "ServiceUnavailable", http.StatusServiceUnavailable)
}
