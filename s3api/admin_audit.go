package s3api

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/meta"
)

// The audit routes of the admin API (adminapi/audit.go): the webhooks
// every node sends its audit events to. A token is sealed with Deps.Seal
// before it is proposed, like a secret key, and is never answered.

func webhookInfo(w *meta.AuditWebhook) adminapi.AuditWebhook {
	return adminapi.AuditWebhook{URL: w.URL, HasToken: len(w.TokenSealed) > 0, Created: unixTime(w.Created)}
}

// checkAuditToken refuses tokens that could not travel in an
// Authorization header: empty after trimming, too long, or holding
// anything but visible ASCII.
func checkAuditToken(tok string) error {
	if len(tok) > adminapi.MaxAuditTokenLen {
		return invalidArgument("The token has %d bytes; at most %d are allowed.", len(tok), adminapi.MaxAuditTokenLen)
	}
	if strings.ContainsFunc(tok, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return invalidArgument("The token may hold visible ASCII characters only.")
	}
	return nil
}

func (s *Server) adminSetAuditWebhook(c *adminCall) (any, error) {
	var req adminapi.SetAuditWebhookRequest
	if err := s.readAdminJSON(c, &req); err != nil {
		return nil, err
	}
	if err := meta.ValidateAuditWebhookURL(req.URL); err != nil {
		return nil, err
	}
	if err := checkAuditToken(req.Token); err != nil {
		return nil, err
	}
	// Checked here too: a rejection forwarded by the leader may reach this
	// node without its type.
	var full bool
	if err := s.adminView(c, func(st *meta.State) {
		full = st.AuditWebhooks[req.URL] == nil && len(st.AuditWebhooks) >= meta.MaxAuditWebhooks
	}); err != nil {
		return nil, err
	}
	if full {
		return nil, invalidArgument("A cluster has at most %d audit webhooks.", meta.MaxAuditWebhooks)
	}
	w := meta.AuditWebhook{URL: req.URL, Created: s.now()}
	if req.Token != "" {
		sealed, err := s.seal(req.Token)
		if err != nil {
			return nil, err
		}
		w.TokenSealed = sealed
	}
	if err := s.deps.Control.Propose(c.r.ctx, meta.SetAuditWebhook{Webhook: w}); err != nil {
		return nil, err
	}
	out := webhookInfo(&w)
	s.deps.Control.View(func(st *meta.State) {
		if cur := st.AuditWebhooks[req.URL]; cur != nil {
			out = webhookInfo(cur)
		}
	})
	return out, nil
}

func (s *Server) adminListAuditWebhooks(c *adminCall) (any, error) {
	out := adminapi.AuditWebhookList{Webhooks: []adminapi.AuditWebhook{}}
	err := s.adminView(c, func(st *meta.State) {
		for _, w := range st.SortedAuditWebhooks() {
			out.Webhooks = append(out.Webhooks, webhookInfo(&w))
		}
	})
	return out, err
}

func (s *Server) adminRemoveAuditWebhook(c *adminCall) (any, error) {
	url := c.segs[2]
	var found bool
	if err := s.adminView(c, func(st *meta.State) { found = st.AuditWebhooks[url] != nil }); err != nil {
		return nil, err
	}
	if !found {
		return nil, adminErr(adminapi.CodeNoSuchAuditWebhook, fasthttp.StatusNotFound, "No audit webhook %q.", url)
	}
	return nil, s.deps.Control.Propose(c.r.ctx, meta.DeleteAuditWebhook{URL: url})
}
