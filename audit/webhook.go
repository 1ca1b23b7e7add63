package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// webhookTimeout bounds one POST of a batch.
const webhookTimeout = 10 * time.Second

// Webhook sends batches to an HTTP endpoint: POST URL with the JSON array
// of the batch's events. Any 2xx answer acknowledges the batch.
type Webhook struct {
	URL string
	// Token, when set, is sent as Authorization: Bearer. It is never
	// logged nor part of an error.
	Token  string
	Client *http.Client // nil: a client with a 10 s timeout
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, batch [][]byte) error {
	size := 2 + len(batch)
	for _, ev := range batch {
		size += len(ev)
	}
	body := make([]byte, 0, size)
	body = append(body, '[')
	for i, ev := range batch {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, ev...)
	}
	body = append(body, ']', '\n')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("audit webhook %s: %w", w.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if w.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.Token)
	}
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: webhookTimeout}
	}
	resp, err := c.Do(req)
	if err != nil {
		// The error of an http.Client names the URL, never a header.
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection reusable
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("audit webhook %s: HTTP %s", w.URL, resp.Status)
	}
	return nil
}
