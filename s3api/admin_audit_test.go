package s3api

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

func TestAdminAuditWebhooks(t *testing.T) {
	ts, root := iamServer(t)
	ctx := context.Background()
	const u = "https://siem.example.org/in?src=strata"
	w, err := root.SetAuditWebhook(ctx, adminapi.SetAuditWebhookRequest{URL: u, Token: "tok-123"})
	if err != nil || w.URL != u || !w.HasToken || w.Created.IsZero() {
		t.Fatalf("set: %+v %v", w, err)
	}
	// The token is stored sealed.
	ts.ctl.View(func(st *meta.State) {
		if got := string(st.AuditWebhooks[u].TokenSealed); got != sealPrefix+"tok-123" {
			t.Errorf("stored token %q", got)
		}
	})
	again, err := root.SetAuditWebhook(ctx, adminapi.SetAuditWebhookRequest{URL: u})
	if err != nil || again.HasToken || !again.Created.Equal(w.Created) {
		t.Fatalf("replace: %+v %v", again, err)
	}
	if _, err := root.SetAuditWebhook(ctx, adminapi.SetAuditWebhookRequest{URL: "http://10.1.2.3:8080/a", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	list, err := root.ListAuditWebhooks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []adminapi.AuditWebhook{{URL: "http://10.1.2.3:8080/a", HasToken: true}, {URL: u}}
	for i := range list {
		list[i].Created = want[i].Created // compared above
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("list %+v", list)
	}

	for what, req := range map[string]adminapi.SetAuditWebhookRequest{
		"relative URL":  {URL: "/in"},
		"file URL":      {URL: "file:///etc/passwd"},
		"token with LF": {URL: u, Token: "a\nb"},
		"token space":   {URL: u, Token: "a b"},
	} {
		_, err := root.SetAuditWebhook(ctx, req)
		wantAdminError(t, what, err, adminapi.CodeInvalidArgument, http.StatusBadRequest)
	}
	addUser(t, ts, "alice", "alice-secret-key", "readwrite")
	alice := &adminapi.Client{Endpoint: ts.url, AccessKey: "alice", SecretKey: "alice-secret-key"}
	_, err = alice.ListAuditWebhooks(ctx)
	wantAdminError(t, "list by a user", err, "AccessDenied", http.StatusForbidden)

	if err := root.RemoveAuditWebhook(ctx, u); err != nil {
		t.Fatal(err)
	}
	wantAdminError(t, "remove twice", root.RemoveAuditWebhook(ctx, u), adminapi.CodeNoSuchAuditWebhook, http.StatusNotFound)
	if list, err := root.ListAuditWebhooks(ctx); err != nil || len(list) != 1 {
		t.Fatalf("after remove: %+v %v", list, err)
	}
}
