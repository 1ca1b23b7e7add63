// Package ilm executes buckets' lifecycle rules (S3's information
// lifecycle management): a Scanner per node walks the buckets that have
// rules, asks package lifecycle what is due for every object version and
// multipart upload, and acts through the data plane's public API —
// DeleteObject without a version id to expire a current version (a delete
// marker in a versioned bucket), with one to delete a noncurrent version or
// an expired object delete marker, and AbortMultipartUpload. What it frees
// is recorded for the bucket's usage (package quota).
//
// # Spread across nodes
//
// Every node lists every bucket with rules (ListObjectVersions,
// ListMultipartUploads) and acts only on the keys it owns
// (dataplane.Store.OwnsKey: the node of the first live drive of the key's
// PG, the one whose heal scanner walks that PG), so each key is acted on
// by one node. Before acting, the version is read again by quorum
// (HeadObject by version id): the action happens only when the version
// still exists, still has the place in its key's history the listing
// showed (current, or noncurrent), and its tags and size still match the
// rule; an expired object delete marker is removed only when a fresh
// listing still shows it alone. A rule is thus never applied to a state
// older than that read; a write racing with the delete itself can still
// lose, as in S3.
//
// # Pace, schedule, restarts
//
// A pass examines at most Config.Rate object versions and uploads per
// second (those the node owns; acting on one is part of examining it). Passes start
// Config.Interval after the previous one ended (the first FirstDelay after
// the node starts). The position of the pass in progress (bucket, phase,
// last key done) and the status are written to Config.StateFile, at most
// every second and at every bucket boundary: a node that restarts resumes
// its pass from the last key it finished instead of starting over (a pass
// over large buckets can take hours, and restarts should not starve the
// buckets at the end). Keys redone after a crash are evaluated afresh, so
// nothing is done twice.
//
// Time: every decision uses Config.Now (tests move it to make days pass);
// pacing and scheduling use real time.
//
// Main types: Scanner (New, Run, Pass, Status), Config, Status. ilm
// imports meta, lifecycle and dataplane (API types); it reaches the data
// plane, the replicated state and the usage accounting through the Store,
// Control and Usage interfaces it declares.
package ilm
