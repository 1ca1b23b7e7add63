package testcluster_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/internal/testcluster"
	"github.com/strata-io/strata/meta"
)

// TestIAMAdminAcrossNodes: accounts, users, groups and policies created
// through the admin API on one node are served by the others; a user's
// service accounts (created by the user itself) disappear from every
// node's state when the user is removed, and their keys stop working.
func TestIAMAdminAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 3, EC: "2+1"})
	ctx := context.Background()
	client := func(i int, ak, sk string) *adminapi.Client {
		return &adminapi.Client{Endpoint: cl.Endpoint(i), AccessKey: ak, SecretKey: sk, HTTP: cl.HTTPClient()}
	}
	root0 := client(0, testcluster.RootAccessKey, testcluster.RootSecretKey)

	if _, err := root0.CreateAccount(ctx, "genomics"); err != nil {
		t.Fatal(err)
	}
	alice, err := root0.CreateUser(ctx, adminapi.CreateUserRequest{Name: "alice", Account: "genomics"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root0.CreateGroup(ctx, adminapi.CreateGroupRequest{Name: "staff", Members: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"ReadGenomes","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::genomes","arn:aws:s3:::genomes/*"]}]}`)
	if _, err := root0.PutPolicy(ctx, "genomes-read", doc); err != nil {
		t.Fatal(err)
	}
	if err := root0.AttachPolicy(ctx, "genomes-read", adminapi.AttachRequest{Group: "staff"}); err != nil {
		t.Fatal(err)
	}
	if err := root0.AttachPolicy(ctx, "readonly", adminapi.AttachRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}

	// Every other node answers with what node 0 wrote.
	for i := 1; i < cl.N(); i++ {
		root := client(i, testcluster.RootAccessKey, testcluster.RootSecretKey)
		if a, err := root.GetAccount(ctx, "genomics"); err != nil || !slices.Equal(a.Users, []string{"alice"}) {
			t.Fatalf("node %d: account %+v %v", i, a, err)
		}
		u, err := root.GetUser(ctx, "alice")
		if err != nil || u.Account != "genomics" || !slices.Equal(u.Policies, []string{"readonly"}) || !slices.Equal(u.Groups, []string{"staff"}) {
			t.Fatalf("node %d: user %+v %v", i, u, err)
		}
		if g, err := root.GetGroup(ctx, "staff"); err != nil || !slices.Equal(g.Policies, []string{"genomes-read"}) {
			t.Fatalf("node %d: group %+v %v", i, g, err)
		}
		if p, err := root.GetPolicy(ctx, "genomes-read"); err != nil || !slices.Equal(p.Groups, []string{"staff"}) {
			t.Fatalf("node %d: policy %+v %v", i, p, err)
		}
	}

	// alice creates her own service accounts on node 1 with her keys.
	alice1 := client(1, "alice", alice.SecretKey)
	var svcKeys []string
	var svcClients []*adminapi.Client
	for _, name := range []string{"rclone", "backup"} {
		sa, err := alice1.CreateServiceAccount(ctx, adminapi.CreateServiceAccountRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if sa.ServiceAccount.Account != "genomics" || sa.ServiceAccount.Parent != "alice" {
			t.Fatalf("service account %+v", sa.ServiceAccount)
		}
		svcKeys = append(svcKeys, sa.ServiceAccount.AccessKey)
		svcClients = append(svcClients, client(2, sa.ServiceAccount.AccessKey, sa.SecretKey))
	}
	if list, err := client(2, "alice", alice.SecretKey).ListServiceAccounts(ctx); err != nil || len(list) != 2 {
		t.Fatalf("alice's service accounts on node 2: %+v %v", list, err)
	}
	// The service account's keys authenticate on node 2 (the admin API then
	// refuses a service account, which is the proof that they did).
	var ae *adminapi.Error
	if _, err := svcClients[0].ListServiceAccounts(ctx); !errors.As(err, &ae) || ae.Code != "AccessDenied" {
		t.Fatalf("service account keys on node 2: %v", err)
	}

	// The admin removes alice on node 2: on every node, within a second,
	// she and her service accounts are gone from the replicated state.
	if err := client(2, testcluster.RootAccessKey, testcluster.RootSecretKey).RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	for i := 0; i < cl.N(); i++ {
		for {
			var left []string
			cl.Instance(i).Node().Raft().View(func(st *meta.State) {
				for _, ak := range append([]string{"alice"}, svcKeys...) {
					if st.Users[ak] != nil {
						left = append(left, ak)
					}
				}
			})
			if len(left) == 0 {
				break
			}
			if time.Since(removed) > time.Second {
				t.Fatalf("node %d still has %v a second after the removal", i, left)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := client(i, testcluster.RootAccessKey, testcluster.RootSecretKey).GetUser(ctx, "alice"); !errors.As(err, &ae) || ae.Code != "NoSuchUser" || ae.Status != http.StatusNotFound {
			t.Fatalf("node %d: removed user: %v", i, err)
		}
	}
	for _, c := range svcClients {
		if _, err := c.ListServiceAccounts(ctx); !errors.As(err, &ae) || ae.Code != "InvalidAccessKeyId" {
			t.Fatalf("a removed user's service account still authenticates: %v", err)
		}
	}
	// The group lost its member; the account is free to be removed.
	root1 := client(1, testcluster.RootAccessKey, testcluster.RootSecretKey)
	if g, err := root1.GetGroup(ctx, "staff"); err != nil || len(g.Members) != 0 {
		t.Fatalf("group after removal: %+v %v", g, err)
	}
	if err := root1.RemoveAccount(ctx, "genomics"); err != nil {
		t.Fatal(err)
	}
}
