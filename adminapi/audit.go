package adminapi

import (
	"context"
	"net/http"
	"time"
)

// Audit target routes, for the root user. URL is path-escaped
// (PathSegment).
//
//	POST   audit/webhooks       SetAuditWebhookRequest -> AuditWebhook (adds, or replaces the token)
//	GET    audit/webhooks       -> AuditWebhookList
//	DELETE audit/webhooks/URL
const PathAuditWebhooks = PathPrefix + "audit/webhooks"

// Error codes of the audit routes.
const (
	CodeNoSuchAuditWebhook = "NoSuchAuditWebhook" // 404
)

// MaxAuditTokenLen bounds a webhook's bearer token.
const MaxAuditTokenLen = 4096

// SetAuditWebhookRequest is the body of POST audit/webhooks. Token, when
// set, is sent as Authorization: Bearer with every batch; it is stored
// sealed and never answered.
type SetAuditWebhookRequest struct {
	URL   string `json:"url"`
	Token string `json:"token,omitempty"`
}

// AuditWebhook is one audit target as the admin API shows it.
type AuditWebhook struct {
	URL      string    `json:"url"`
	HasToken bool      `json:"has_token"`
	Created  time.Time `json:"created"`
}

// AuditWebhookList answers GET audit/webhooks, sorted by URL.
type AuditWebhookList struct {
	Webhooks []AuditWebhook `json:"webhooks"`
}

// SetAuditWebhook adds a webhook every node sends its audit events to, or
// replaces the token of the webhook with that URL.
func (c *Client) SetAuditWebhook(ctx context.Context, req SetAuditWebhookRequest) (AuditWebhook, error) {
	var out AuditWebhook
	err := c.Do(ctx, http.MethodPost, PathAuditWebhooks, req, &out)
	return out, err
}

// ListAuditWebhooks lists the audit webhooks.
func (c *Client) ListAuditWebhooks(ctx context.Context) ([]AuditWebhook, error) {
	var out AuditWebhookList
	err := c.Do(ctx, http.MethodGet, PathAuditWebhooks, nil, &out)
	return out.Webhooks, err
}

// RemoveAuditWebhook removes the webhook with url.
func (c *Client) RemoveAuditWebhook(ctx context.Context, url string) error {
	return c.Do(ctx, http.MethodDelete, join(PathAuditWebhooks, url), nil, nil)
}
