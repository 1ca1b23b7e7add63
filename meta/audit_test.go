package meta_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

func TestAuditWebhooks(t *testing.T) {
	s := metatest.State(t, metatest.Options{})
	const u = "https://siem.example.org/in"
	mustApply(t, s, meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: u, TokenSealed: []byte("t1"), Created: 5}})
	// Setting again replaces the token and keeps the first Created.
	mustApply(t, s, meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: u, Created: 9}})
	mustApply(t, s, meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "http://10.0.0.1:9/a", Created: 10}})
	got := s.SortedAuditWebhooks()
	want := []meta.AuditWebhook{{URL: "http://10.0.0.1:9/a", Created: 10}, {URL: u, Created: 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("webhooks %+v, want %+v", got, want)
	}
	mustApply(t, s, meta.DeleteAuditWebhook{URL: u})
	if len(s.AuditWebhooks) != 1 {
		t.Fatalf("after delete: %+v", s.AuditWebhooks)
	}

	for i := len(s.AuditWebhooks); i < meta.MaxAuditWebhooks; i++ {
		mustApply(t, s, meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: fmt.Sprintf("http://h%d/", i)}})
	}
	for name, tc := range map[string]struct {
		cmd  meta.Command
		want error
	}{
		"one too many":  {meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "http://more/"}}, meta.ErrInvalid},
		"delete absent": {meta.DeleteAuditWebhook{URL: u}, meta.ErrNoSuchAuditWebhook},
		"empty URL":     {meta.SetAuditWebhook{}, meta.ErrInvalid},
		"relative":      {meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "/audit"}}, meta.ErrInvalid},
		"ftp":           {meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "ftp://h/x"}}, meta.ErrInvalid},
		"user info":     {meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "https://a:b@h/x"}}, meta.ErrInvalid},
		"fragment":      {meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "https://h/x#y"}}, meta.ErrInvalid},
		"space":         {meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "https://h/x y"}}, meta.ErrInvalid},
	} {
		before := s.Clone()
		if err := s.Apply(tc.cmd); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if !reflect.DeepEqual(s, before) {
			t.Errorf("%s: a rejected command changed the state", name)
		}
	}
	// Replacing an existing one is not adding one.
	mustApply(t, s, meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "http://h3/", TokenSealed: []byte("x")}})

	if err := meta.NewState().Apply(meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: u}}); !errors.Is(err, meta.ErrNotBootstrapped) {
		t.Fatalf("before bootstrap: %v", err)
	}
}
