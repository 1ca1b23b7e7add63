package meta

import (
	"bytes"
	"net/url"
	"strings"
)

// Audit targets: the webhooks every node sends its audit events to. They
// are cluster state, so that one `stratactl audit webhook set` reaches
// every node. A webhook's bearer token is sealed by the proposer like a
// secret key (meta stores the ciphertext only).

// Audit webhook limits.
const (
	// MaxAuditWebhooks is the most webhooks a cluster keeps.
	MaxAuditWebhooks = 16
	// MaxAuditWebhookURLLen bounds a webhook URL.
	MaxAuditWebhookURLLen = 2048
)

// AuditWebhook is one audit target: events are POSTed to URL as JSON
// arrays, with Authorization: Bearer and the unsealed token when
// TokenSealed is set.
type AuditWebhook struct {
	URL         string `json:"url"`
	TokenSealed []byte `json:"token_sealed,omitempty"`
	Created     int64  `json:"created"` // unix nanoseconds, of the first set
}

// SetAuditWebhook adds a webhook or replaces the token of the webhook with
// the same URL (Created keeps its first value). The proposer fills Created
// and seals the token.
type SetAuditWebhook struct {
	Webhook AuditWebhook `json:"webhook"`
}

// DeleteAuditWebhook removes the webhook with URL; ErrNoSuchAuditWebhook
// when there is none.
type DeleteAuditWebhook struct {
	URL string `json:"url"`
}

// Kind implements Command.
func (SetAuditWebhook) Kind() Kind { return KindSetAuditWebhook }

// Kind implements Command.
func (DeleteAuditWebhook) Kind() Kind { return KindDeleteAuditWebhook }

// ValidateAuditWebhookURL checks that u is an absolute http or https URL
// with a host, no user information and no fragment, of at most
// MaxAuditWebhookURLLen bytes. The error wraps ErrInvalid.
func ValidateAuditWebhookURL(u string) error {
	if len(u) == 0 || len(u) > MaxAuditWebhookURLLen {
		return invalid("audit webhook URL of %d bytes (want 1..%d)", len(u), MaxAuditWebhookURLLen)
	}
	if strings.ContainsFunc(u, func(c rune) bool { return c <= 0x20 || c == 0x7f }) {
		return invalid("audit webhook URL %q has a space or control character", u)
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return invalid("audit webhook URL %q: %v", u, err)
	case p.Scheme != "http" && p.Scheme != "https":
		return invalid("audit webhook URL %q: scheme must be http or https", u)
	case p.Host == "":
		return invalid("audit webhook URL %q has no host", u)
	case p.User != nil:
		// Credentials in the URL would be shown by `audit webhook list`:
		// the token is the way to authenticate.
		return invalid("audit webhook URL %q holds user information; use a token", u)
	case p.Fragment != "" || strings.Contains(u, "#"):
		return invalid("audit webhook URL %q has a fragment", u)
	}
	return nil
}

func (s *State) applySetAuditWebhook(c SetAuditWebhook) error {
	if !s.Bootstrapped() {
		return ErrNotBootstrapped
	}
	w := c.Webhook
	if err := ValidateAuditWebhookURL(w.URL); err != nil {
		return err
	}
	old, exists := s.AuditWebhooks[w.URL]
	if !exists && len(s.AuditWebhooks) >= MaxAuditWebhooks {
		return invalid("a cluster has at most %d audit webhooks", MaxAuditWebhooks)
	}
	nw := w.clone()
	if exists {
		nw.Created = old.Created
	}
	s.AuditWebhooks[w.URL] = nw
	return nil
}

func (s *State) applyDeleteAuditWebhook(c DeleteAuditWebhook) error {
	if _, ok := s.AuditWebhooks[c.URL]; !ok {
		return reject(ErrNoSuchAuditWebhook, "%s", c.URL)
	}
	delete(s.AuditWebhooks, c.URL)
	return nil
}

// SortedAuditWebhooks returns copies of the webhooks ordered by URL.
func (s *State) SortedAuditWebhooks() []AuditWebhook {
	out := make([]AuditWebhook, 0, len(s.AuditWebhooks))
	for _, u := range sortedKeys(s.AuditWebhooks) {
		out = append(out, *s.AuditWebhooks[u].clone())
	}
	return out
}

func (w *AuditWebhook) clone() *AuditWebhook {
	if w == nil {
		return nil
	}
	c := *w
	c.TokenSealed = nilIfEmpty(bytes.Clone(w.TokenSealed))
	return &c
}
