package meta_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

const testDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`

func iamUser(ak string) meta.User {
	return meta.User{AccessKey: ak, SecretSealed: []byte("s-" + ak), Name: ak}
}

func serviceAccount(ak, parent string) meta.User {
	u := iamUser(ak)
	u.Name = "label"
	u.Parent = parent
	return u
}

// iamState is a formed cluster with: account "proj"; users alice
// (account proj, policy readonly) and bob; service account SVC1 of alice;
// managed policy "p1" attached to group "staff" (members alice, bob); a
// bucket "bkt" owned by alice.
func iamState(t *testing.T) *meta.State {
	t.Helper()
	s := metatest.State(t, metatest.Options{})
	alice := iamUser("alice")
	alice.Account, alice.Policies = "proj", []string{"readonly"}
	for _, c := range []meta.Command{
		meta.PutAccount{Account: meta.Account{Name: "proj", Created: 1}},
		meta.PutUser{User: alice},
		meta.PutUser{User: iamUser("bob")},
		meta.PutUser{User: serviceAccount("SVC1", "alice")},
		meta.PutPolicy{Policy: meta.Policy{Name: "p1", Document: []byte(testDoc), Created: 2, Updated: 2}},
		meta.PutGroup{Group: meta.Group{Name: "staff", Members: []string{"bob", "alice"}, Created: 3}},
		meta.AttachPolicy{Policy: "p1", Group: "staff"},
		meta.CreateBucket{Bucket: meta.Bucket{Name: "bkt", Owner: "alice"}},
	} {
		mustApply(t, s, c)
	}
	return s
}

func TestIAMRejections(t *testing.T) {
	withPolicies := func(u meta.User, p ...string) meta.User { u.Policies = p; return u }
	withAccount := func(u meta.User, a string) meta.User { u.Account = a; return u }
	withSession := func(u meta.User, d string) meta.User { u.SessionPolicy = []byte(d); return u }
	big := `{"x":"` + strings.Repeat("a", meta.MaxPolicyDocumentSize) + `"}`
	for _, tc := range []struct {
		name string
		cmd  meta.Command
		want error
	}{
		// PutUser: accounts, policies, service accounts.
		{"user in missing account", meta.PutUser{User: withAccount(iamUser("carol"), "nope")}, meta.ErrNoSuchAccount},
		{"user with missing policy", meta.PutUser{User: withPolicies(iamUser("carol"), "readonly", "nope")}, meta.ErrNoSuchPolicy},
		{"user with session policy", meta.PutUser{User: withSession(iamUser("carol"), testDoc)}, meta.ErrInvalid},
		{"root with policy", meta.PutUser{User: withPolicies(metatest.Root(), "readonly")}, meta.ErrInvalid},
		{"sa of missing parent", meta.PutUser{User: serviceAccount("SVC2", "nobody")}, meta.ErrNoSuchUser},
		{"sa of sa", meta.PutUser{User: serviceAccount("SVC2", "SVC1")}, meta.ErrInvalid},
		{"sa of root", meta.PutUser{User: serviceAccount("SVC2", metatest.RootAccessKey)}, meta.ErrInvalid},
		{"sa with policies", meta.PutUser{User: withPolicies(serviceAccount("SVC2", "alice"), "readonly")}, meta.ErrInvalid},
		{"sa session policy too big", meta.PutUser{User: withSession(serviceAccount("SVC2", "alice"), big)}, meta.ErrInvalid},
		{"sa moves to another parent", meta.PutUser{User: serviceAccount("SVC1", "bob")}, meta.ErrInvalid},
		{"sa key of a user", meta.PutUser{User: serviceAccount("bob", "alice")}, meta.ErrUserExists},
		{"user key of a sa", meta.PutUser{User: meta.User{AccessKey: "SVC1", SecretSealed: []byte("s"), Name: "label"}}, meta.ErrUserExists},
		{"root as sa", meta.PutUser{User: func() meta.User { u := metatest.Root(); u.Parent = "alice"; return u }()}, meta.ErrInvalid},
		// DeleteUser.
		{"delete missing user", meta.DeleteUser{AccessKey: "nobody"}, meta.ErrNoSuchUser},
		{"delete root", meta.DeleteUser{AccessKey: metatest.RootAccessKey}, meta.ErrInvalid},
		// Accounts.
		{"account bad name", meta.PutAccount{Account: meta.Account{Name: "a:b"}}, meta.ErrInvalid},
		{"account empty name", meta.PutAccount{Account: meta.Account{}}, meta.ErrInvalid},
		{"account long name", meta.PutAccount{Account: meta.Account{Name: strings.Repeat("a", 65)}}, meta.ErrInvalid},
		{"delete default account", meta.DeleteAccount{Name: meta.DefaultAccount}, meta.ErrInvalid},
		{"delete missing account", meta.DeleteAccount{Name: "nope"}, meta.ErrNoSuchAccount},
		{"delete account in use", meta.DeleteAccount{Name: "proj"}, meta.ErrAccountInUse},
		// Groups.
		{"group bad name", meta.PutGroup{Group: meta.Group{Name: "a b"}}, meta.ErrInvalid},
		{"group with policies", meta.PutGroup{Group: meta.Group{Name: "g2", Policies: []string{"readonly"}}}, meta.ErrInvalid},
		{"group missing member", meta.PutGroup{Group: meta.Group{Name: "g2", Members: []string{"alice", "nobody"}}}, meta.ErrNoSuchUser},
		{"group sa member", meta.PutGroup{Group: meta.Group{Name: "g2", Members: []string{"SVC1"}}}, meta.ErrInvalid},
		{"delete missing group", meta.DeleteGroup{Name: "nope"}, meta.ErrNoSuchGroup},
		// Policies.
		{"policy bad name", meta.PutPolicy{Policy: meta.Policy{Name: "a/b", Document: []byte(testDoc)}}, meta.ErrInvalid},
		{"policy predefined name", meta.PutPolicy{Policy: meta.Policy{Name: "readonly", Document: []byte(testDoc)}}, meta.ErrInvalid},
		{"policy without document", meta.PutPolicy{Policy: meta.Policy{Name: "p2"}}, meta.ErrInvalid},
		{"policy not json", meta.PutPolicy{Policy: meta.Policy{Name: "p2", Document: []byte("{")}}, meta.ErrInvalid},
		{"policy too big", meta.PutPolicy{Policy: meta.Policy{Name: "p2", Document: []byte(big)}}, meta.ErrInvalid},
		{"delete predefined", meta.DeletePolicy{Name: "readwrite"}, meta.ErrInvalid},
		{"delete missing policy", meta.DeletePolicy{Name: "nope"}, meta.ErrNoSuchPolicy},
		{"delete attached policy", meta.DeletePolicy{Name: "p1"}, meta.ErrPolicyInUse},
		// Attach/Detach.
		{"attach to nobody", meta.AttachPolicy{Policy: "p1"}, meta.ErrInvalid},
		{"attach to both", meta.AttachPolicy{Policy: "p1", User: "bob", Group: "staff"}, meta.ErrInvalid},
		{"attach missing policy", meta.AttachPolicy{Policy: "nope", User: "bob"}, meta.ErrNoSuchPolicy},
		{"attach to missing user", meta.AttachPolicy{Policy: "p1", User: "nobody"}, meta.ErrNoSuchUser},
		{"attach to missing group", meta.AttachPolicy{Policy: "p1", Group: "nope"}, meta.ErrNoSuchGroup},
		{"attach to sa", meta.AttachPolicy{Policy: "p1", User: "SVC1"}, meta.ErrInvalid},
		{"attach to root", meta.AttachPolicy{Policy: "p1", User: metatest.RootAccessKey}, meta.ErrInvalid},
		{"detach not attached", meta.DetachPolicy{Policy: "p1", User: "bob"}, meta.ErrInvalid},
		{"detach from missing group", meta.DetachPolicy{Policy: "p1", Group: "nope"}, meta.ErrNoSuchGroup},
		// Bucket policy and ACL.
		{"bucket policy missing bucket", meta.SetBucketPolicy{Bucket: "nope", Document: []byte(testDoc)}, meta.ErrNoSuchBucket},
		{"bucket policy not json", meta.SetBucketPolicy{Bucket: "bkt", Document: []byte("nope")}, meta.ErrInvalid},
		{"bucket policy too big", meta.SetBucketPolicy{Bucket: "bkt", Document: []byte(big)}, meta.ErrInvalid},
		{"bucket acl missing bucket", meta.SetBucketACL{Bucket: "nope", ACL: "private"}, meta.ErrNoSuchBucket},
		{"bucket acl unknown", meta.SetBucketACL{Bucket: "bkt", ACL: "public"}, meta.ErrInvalid},
		{"bucket acl empty", meta.SetBucketACL{Bucket: "bkt"}, meta.ErrInvalid},
		{"create bucket bad acl", meta.CreateBucket{Bucket: meta.Bucket{Name: "new", ACL: "everyone"}}, meta.ErrInvalid},
		{"create bucket bad policy", meta.CreateBucket{Bucket: meta.Bucket{Name: "new", Policy: []byte("{")}}, meta.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := iamState(t)
			before := s.Clone()
			err := s.Apply(tc.cmd)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(s, before) {
				t.Fatal("a rejected command changed the state")
			}
		})
	}
}

func TestIAMNotBootstrapped(t *testing.T) {
	for _, c := range []meta.Command{
		meta.DeleteUser{AccessKey: "a"}, meta.PutAccount{Account: meta.Account{Name: "a"}}, meta.DeleteAccount{Name: "a"},
		meta.PutGroup{Group: meta.Group{Name: "g"}}, meta.DeleteGroup{Name: "g"},
		meta.PutPolicy{Policy: meta.Policy{Name: "p", Document: []byte(testDoc)}}, meta.DeletePolicy{Name: "p"},
		meta.AttachPolicy{Policy: "readonly", User: "a"}, meta.DetachPolicy{Policy: "readonly", User: "a"},
		meta.SetBucketPolicy{Bucket: "b"}, meta.SetBucketACL{Bucket: "b", ACL: "private"},
	} {
		if err := meta.NewState().Apply(c); !errors.Is(err, meta.ErrNotBootstrapped) {
			t.Errorf("%s: %v", c.Kind(), err)
		}
	}
}

func TestIAMUsersAndServiceAccounts(t *testing.T) {
	s := iamState(t)
	alice, svc := s.Users["alice"], s.Users["SVC1"]
	if alice.Account != "proj" || !slices.Equal(alice.Policies, []string{"readonly"}) {
		t.Fatalf("alice %+v", alice)
	}
	// A service account inherits its parent's account whatever the command said.
	if svc.Account != "proj" || !svc.IsServiceAccount() || alice.IsServiceAccount() {
		t.Fatalf("service account %+v", svc)
	}
	if got := s.Users["bob"].AccountOf(); got != meta.DefaultAccount {
		t.Fatalf("bob's account %q", got)
	}
	if got := s.Users[metatest.RootAccessKey].AccountOf(); got != meta.DefaultAccount {
		t.Fatalf("root's account %q", got)
	}
	// Policies are stored sorted without repeats; Created survives a replace.
	a := *alice
	a.Policies = []string{"writeonly", "p1", "writeonly"}
	a.Created = 999
	a.Account = meta.DefaultAccount
	mustApply(t, s, meta.PutUser{User: a})
	if got := s.Users["alice"]; !slices.Equal(got.Policies, []string{"p1", "writeonly"}) || got.Created != alice.Created {
		t.Fatalf("alice after replace %+v", got)
	}
	// The service account followed its parent to the default account.
	if got := s.Users["SVC1"].Account; got != meta.DefaultAccount {
		t.Fatalf("service account's account after the parent moved: %q", got)
	}
	// Two users' service accounts may share a label; users may not share a name.
	mustApply(t, s, meta.PutUser{User: serviceAccount("SVC2", "bob")})
	// A service account's label and session policy may change.
	sa := serviceAccount("SVC2", "bob")
	sa.Name, sa.SessionPolicy = "rclone", []byte(testDoc)
	mustApply(t, s, meta.PutUser{User: sa})
	if got := s.Users["SVC2"]; got.Name != "rclone" || string(got.SessionPolicy) != testDoc {
		t.Fatalf("SVC2 %+v", got)
	}
	if got := s.ServiceAccountsOf("bob"); !slices.Equal(got, []string{"SVC2"}) {
		t.Fatalf("bob's service accounts %v", got)
	}
}

func TestIAMServiceAccountLimit(t *testing.T) {
	s := iamState(t)
	for i := 2; i <= meta.MaxServiceAccounts; i++ {
		mustApply(t, s, meta.PutUser{User: serviceAccount(fmt.Sprintf("SVC%d", i), "alice")})
	}
	err := s.Apply(meta.PutUser{User: serviceAccount("SVCMORE", "alice")})
	if !errors.Is(err, meta.ErrTooManyServiceAccounts) {
		t.Fatalf("service account %d: %v", meta.MaxServiceAccounts+1, err)
	}
	// Replacing one of the 100 is not a new one; another user still has room.
	mustApply(t, s, meta.PutUser{User: serviceAccount("SVC7", "alice")})
	mustApply(t, s, meta.PutUser{User: serviceAccount("SVCBOB", "bob")})
	// Removing one makes room again.
	mustApply(t, s, meta.DeleteUser{AccessKey: "SVC7"})
	mustApply(t, s, meta.PutUser{User: serviceAccount("SVCMORE", "alice")})
}

func TestIAMDeleteUser(t *testing.T) {
	s := iamState(t)
	mustApply(t, s, meta.PutUser{User: serviceAccount("SVC2", "alice")})
	mustApply(t, s, meta.PutUser{User: serviceAccount("SVCB", "bob")})
	// Removing a service account removes only it.
	mustApply(t, s, meta.DeleteUser{AccessKey: "SVC2"})
	if s.Users["SVC2"] != nil || s.Users["alice"] == nil || s.Users["SVC1"] == nil {
		t.Fatal("removing a service account removed more or less")
	}
	// Removing a user removes its service accounts and memberships, not others'.
	mustApply(t, s, meta.DeleteUser{AccessKey: "alice"})
	if s.Users["alice"] != nil || s.Users["SVC1"] != nil {
		t.Fatal("alice or her service account survived")
	}
	if s.Users["SVCB"] == nil || s.Users["bob"] == nil {
		t.Fatal("bob or his service account was removed")
	}
	if g := s.Groups["staff"]; !slices.Equal(g.Members, []string{"bob"}) || !slices.Equal(g.Policies, []string{"p1"}) {
		t.Fatalf("group after removing alice: %+v", g)
	}
	if s.Buckets["bkt"].Owner != "alice" {
		t.Fatal("the bucket lost its owner record")
	}
	if got := s.GroupsOf("bob"); !slices.Equal(got, []string{"staff"}) {
		t.Fatalf("bob's groups %v", got)
	}
	// The account is free once its last user is gone.
	mustApply(t, s, meta.DeleteAccount{Name: "proj"})
	if s.AccountExists("proj") || !s.AccountExists(meta.DefaultAccount) {
		t.Fatal("accounts after delete")
	}
	// A removed user's name can be used again.
	mustApply(t, s, meta.PutUser{User: iamUser("alice")})
}

func TestIAMAccounts(t *testing.T) {
	s := iamState(t)
	// Creating an existing account (or the implicit default) changes nothing.
	before := s.Clone()
	mustApply(t, s, meta.PutAccount{Account: meta.Account{Name: "proj", Created: 42}})
	mustApply(t, s, meta.PutAccount{Account: meta.Account{Name: meta.DefaultAccount, Created: 42}})
	if !reflect.DeepEqual(s, before) {
		t.Fatal("PutAccount of an existing account changed the state")
	}
	if s.Accounts[meta.DefaultAccount] != nil {
		t.Fatal("the default account was stored")
	}
	mustApply(t, s, meta.PutAccount{Account: meta.Account{Name: "Astro_2.x-1", Created: 5}})
	if a := s.Accounts["Astro_2.x-1"]; a == nil || a.Created != 5 {
		t.Fatalf("account %+v", a)
	}
	u := iamUser("carol")
	u.Account = "Astro_2.x-1"
	mustApply(t, s, meta.PutUser{User: u})
	if err := s.Apply(meta.DeleteAccount{Name: "Astro_2.x-1"}); !errors.Is(err, meta.ErrAccountInUse) {
		t.Fatalf("delete account with a user: %v", err)
	}
}

func TestIAMGroups(t *testing.T) {
	s := iamState(t)
	g := s.Groups["staff"]
	if !slices.Equal(g.Members, []string{"alice", "bob"}) || !slices.Equal(g.Policies, []string{"p1"}) || g.Created != 3 {
		t.Fatalf("group %+v", g)
	}
	// Replacing members keeps policies and Created; repeats collapse.
	mustApply(t, s, meta.PutGroup{Group: meta.Group{Name: "staff", Members: []string{"bob", "bob"}, Created: 77}})
	if g := s.Groups["staff"]; !slices.Equal(g.Members, []string{"bob"}) || !slices.Equal(g.Policies, []string{"p1"}) || g.Created != 3 {
		t.Fatalf("group after replace %+v", g)
	}
	mustApply(t, s, meta.PutGroup{Group: meta.Group{Name: "staff"}})
	if g := s.Groups["staff"]; g.Members != nil {
		t.Fatalf("emptied group %+v", g)
	}
	// A group with a policy attached can be removed; the policy then is free.
	mustApply(t, s, meta.DeleteGroup{Name: "staff"})
	if s.Groups["staff"] != nil {
		t.Fatal("group not removed")
	}
	mustApply(t, s, meta.DeletePolicy{Name: "p1"})
}

func TestIAMPolicies(t *testing.T) {
	s := iamState(t)
	doc2 := strings.Replace(testDoc, "b/*", "c/*", 1)
	mustApply(t, s, meta.PutPolicy{Policy: meta.Policy{Name: "p1", Document: []byte(doc2), Created: 50, Updated: 51}})
	if p := s.Policies["p1"]; string(p.Document) != doc2 || p.Created != 2 || p.Updated != 51 {
		t.Fatalf("replaced policy %+v", p)
	}
	// Attach to a user: twice is a no-op, the list stays sorted.
	mustApply(t, s, meta.AttachPolicy{Policy: "writeonly", User: "bob"})
	mustApply(t, s, meta.AttachPolicy{Policy: "p1", User: "bob"})
	before := s.Clone()
	mustApply(t, s, meta.AttachPolicy{Policy: "p1", User: "bob"})
	if !reflect.DeepEqual(s, before) {
		t.Fatal("attaching twice changed the state")
	}
	if got := s.Users["bob"].Policies; !slices.Equal(got, []string{"p1", "writeonly"}) {
		t.Fatalf("bob's policies %v", got)
	}
	if users, groups := s.PolicyUsers("p1"); !slices.Equal(users, []string{"bob"}) || !slices.Equal(groups, []string{"staff"}) {
		t.Fatalf("users of p1: %v %v", users, groups)
	}
	// p1 is in use until it is detached from every user and group.
	mustApply(t, s, meta.DetachPolicy{Policy: "p1", User: "bob"})
	if err := s.Apply(meta.DeletePolicy{Name: "p1"}); !errors.Is(err, meta.ErrPolicyInUse) {
		t.Fatalf("delete policy attached to a group: %v", err)
	}
	mustApply(t, s, meta.DetachPolicy{Policy: "p1", Group: "staff"})
	if g := s.Groups["staff"]; g.Policies != nil {
		t.Fatalf("group policies after detach: %v", g.Policies)
	}
	mustApply(t, s, meta.DeletePolicy{Name: "p1"})
	if s.PolicyExists("p1") || !s.PolicyExists("readwrite") {
		t.Fatal("policy existence after delete")
	}
	// Predefined policies attach like managed ones.
	mustApply(t, s, meta.AttachPolicy{Policy: "readwrite", Group: "staff"})
	if got := meta.PredefinedPolicyNames(); !slices.Equal(got, []string{"readonly", "readwrite", "writeonly"}) {
		t.Fatalf("predefined %v", got)
	}
}

func TestIAMBucketPolicyAndACL(t *testing.T) {
	s := iamState(t)
	mustApply(t, s, meta.SetBucketPolicy{Bucket: "bkt", Document: []byte(testDoc)})
	if got := string(s.Buckets["bkt"].Policy); got != testDoc {
		t.Fatalf("bucket policy %q", got)
	}
	mustApply(t, s, meta.SetBucketPolicy{Bucket: "bkt"})
	if s.Buckets["bkt"].Policy != nil {
		t.Fatal("bucket policy not removed")
	}
	mustApply(t, s, meta.SetBucketACL{Bucket: "bkt", ACL: "public-read"})
	if got := s.Buckets["bkt"].ACL; got != "public-read" {
		t.Fatalf("acl %q", got)
	}
	mustApply(t, s, meta.SetBucketACL{Bucket: "bkt", ACL: "private"})
	if got := s.Buckets["bkt"].ACL; got != "" {
		t.Fatalf("private stored as %q", got)
	}
	mustApply(t, s, meta.CreateBucket{Bucket: meta.Bucket{Name: "pub", ACL: "public-read-write", Policy: []byte(testDoc)}})
	if b := s.Buckets["pub"]; b.ACL != "public-read-write" || string(b.Policy) != testDoc {
		t.Fatalf("created bucket %+v", b)
	}
}

// TestCloneIAM: a clone shares no IAM slice or map with the original.
func TestCloneIAM(t *testing.T) {
	s := iamState(t)
	mustApply(t, s, meta.SetBucketPolicy{Bucket: "bkt", Document: []byte(testDoc)})
	sa := serviceAccount("SVC9", "alice")
	sa.SessionPolicy = []byte(testDoc)
	mustApply(t, s, meta.PutUser{User: sa})
	c := s.Clone()
	if !reflect.DeepEqual(c, s) {
		t.Fatal("clone differs")
	}
	c.Users["alice"].Policies[0] = "x"
	c.Users["SVC9"].SessionPolicy[0] = 'x'
	c.Groups["staff"].Members[0] = "x"
	c.Groups["staff"].Policies[0] = "x"
	c.Policies["p1"].Document[0] = 'x'
	c.Buckets["bkt"].Policy[0] = 'x'
	c.Accounts["proj"].Created = 99
	if !reflect.DeepEqual(s, iamStateWith(t, sa)) {
		t.Fatal("changing the clone changed the original")
	}
}

func iamStateWith(t *testing.T, sa meta.User) *meta.State {
	s := iamState(t)
	mustApply(t, s, meta.SetBucketPolicy{Bucket: "bkt", Document: []byte(testDoc)})
	mustApply(t, s, meta.PutUser{User: sa})
	return s
}

// TestApplyCopiesIAM: the state keeps no reference into a command.
func TestApplyCopiesIAM(t *testing.T) {
	s := iamState(t)
	members := []string{"bob"}
	doc := []byte(testDoc)
	mustApply(t, s, meta.PutGroup{Group: meta.Group{Name: "g2", Members: members}})
	mustApply(t, s, meta.PutPolicy{Policy: meta.Policy{Name: "p2", Document: doc}})
	mustApply(t, s, meta.SetBucketPolicy{Bucket: "bkt", Document: doc})
	members[0], doc[0] = "zz", 'x'
	if s.Groups["g2"].Members[0] != "bob" || s.Policies["p2"].Document[0] != '{' || s.Buckets["bkt"].Policy[0] != '{' {
		t.Fatal("state aliases a command")
	}
}

func TestIAMNames(t *testing.T) {
	for _, ok := range []string{"alice", "a.b@c-d_e+f=g,h", strings.Repeat("u", 64)} {
		if err := meta.ValidateUserName(ok); err != nil {
			t.Errorf("user %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a/b", "a:b", "a*", strings.Repeat("u", 65), "ü"} {
		if err := meta.ValidateUserName(bad); !errors.Is(err, meta.ErrInvalid) {
			t.Errorf("user %q accepted", bad)
		}
	}
	if meta.ValidateGroupName(strings.Repeat("g", 128)) != nil || meta.ValidateGroupName(strings.Repeat("g", 129)) == nil {
		t.Error("group name length")
	}
	if meta.ValidatePolicyName("my-policy") != nil || meta.ValidatePolicyName("my policy") == nil {
		t.Error("policy name characters")
	}
	if meta.ValidateAccountName("proj-1.a_b") != nil || meta.ValidateAccountName("proj@x") == nil {
		t.Error("account name characters")
	}
}
