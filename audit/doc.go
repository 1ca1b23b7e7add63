// Package audit records one Event per request served (S3, STS, admin API,
// health and metrics routes) and delivers it to the cluster's audit
// targets: webhooks, which are cluster state (meta.AuditWebhook) so that
// every node sends to every target, and optionally a local file of JSON
// lines (--audit-file).
//
// Delivery never blocks a request: Logger.Log marshals the event once and
// offers it to one bounded Queue per target; a full queue drops the event,
// counts it and logs (at most every DropLogInterval). Each queue's single
// sender goroutine batches events (QueueConfig.BatchSize, or whatever
// arrived within FlushInterval), and retries a failed batch with
// exponential backoff (MinBackoff doubling up to MaxBackoff) for up to
// MaxAttempts before dropping it. A webhook batch is a JSON array POSTed
// with Content-Type application/json and, when the target has a token,
// Authorization: Bearer. A batch the receiver took but did not acknowledge
// with a 2xx (a timeout, a reset) is sent again, so a receiver that must
// not count twice deduplicates by request_id.
//
// Main types: Event, Logger (targets refreshed when Config.Generation
// changes), Queue with its Sender (Webhook, File). audit imports no other
// package of Strata: the node hands it plain targets with their tokens
// unsealed.
package audit
