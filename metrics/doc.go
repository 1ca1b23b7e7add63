// Package metrics is a node's Prometheus registry (client_golang) and its
// text exposition, served by s3api at GET /strata/metrics.
//
// Request metrics are pushed: the node calls Registry.ObserveRequest once
// per request served, with the API name and HTTP status of its audit
// event (strata_requests_total, strata_request_duration_seconds,
// strata_request_received_bytes_total, strata_request_sent_bytes_total).
// Everything else is pulled at scrape time through the funcs of Sources:
// the node's drives (capacity, use, online), placement group health,
// heal and rebalance progress, Raft (leader, term, commit and applied
// index), gossip members and audit delivery; plus the Go runtime and
// process collectors.
//
// Main types: Registry, Sources and the plain structs its funcs return.
// metrics imports no other package of Strata: the node converts its
// components' state into these structs.
package metrics
