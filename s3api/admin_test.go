package s3api

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

type fakeAdmin struct{ calls int }

func (f *fakeAdmin) ClusterStatus(ctx context.Context) (adminapi.ClusterStatus, error) {
	f.calls++
	return adminapi.ClusterStatus{ClusterID: "test-cluster", EC: "2+2", Leader: "n1",
		Nodes: []adminapi.NodeStatus{{ID: "n1", Alive: true}}}, nil
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
