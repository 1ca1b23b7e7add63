// Package console is Strata's web console: a bucket browser for people who
// do not live in a terminal, and the admin pages operators use every day.
// It is built on the same admin API (package adminapi, its Go client) and
// S3 calls that any client uses, and never reaches into raftfsm, dataplane
// or meta: every action is a SigV4-signed S3 or admin request, made with
// the logged-in identity's keys against the node's own S3 port, so S3
// authenticates and authorizes it exactly as the same request from the
// aws CLI.
//
// Serving: Console is an http.Handler for the paths under Prefix
// (/console/). The node mounts it on the S3 port (s3api.Server.Mount,
// which streams request bodies and responses and reserves the bucket name
// "console"), or serves it on a listener of its own (--console-addr).
// Pages are rendered on the server with html/template from assets embedded
// with go:embed (assets/templates, assets/static); the one script,
// assets/static/console.js, does uploads with a progress bar, confirmations
// and the JSON hint of the policy editors. There is no front-end build.
//
// Sessions (session.go): logging in with an access key and secret key
// (with a session token for STS credentials) checks them with a signed
// ListBuckets — AccessDenied still proves the keys — and asks once whether
// the identity may use the admin API (root: the admin pages) and manage
// its own service accounts (a user). The session lives in this process's
// memory only, keyed by the SHA-256 of a random id that the browser holds
// in an HttpOnly, SameSite=Strict cookie under /console/ (Secure over
// TLS); it ends after Config.SessionLifetime (12h), after
// Config.SessionIdle without a request (1h), or at logout, and its keys go
// with it. Secret keys never reach a page or a log (type secret redacts
// itself). Sessions are per node: behind a load balancer, the console
// needs sticky sessions (docs/console.md).
//
// CSRF: every request that is not GET or HEAD must carry the session's
// random token (form field csrf, or header X-CSRF-Token for the script),
// compared in constant time, and must not come from another origin or
// site (Origin, Sec-Fetch-Site); otherwise it is refused with 403 and
// nothing is done. The login form uses a double-submit cookie. Pages carry
// a strict Content-Security-Policy (no inline script, no framing),
// no-store and no-referrer; downloads are attachments, sandboxed.
//
// Data: uploads are cut by the page's script into parts of
// Config.PartSize, each sent as one request that the console streams to
// S3 (PutObject for one part, else UploadPart of a multipart upload it
// created and completes); downloads stream from GetObject. The console
// never holds more than a copy buffer of either. Share links are presigned
// GETs (adminapi.Client.Presign) signed with the session's keys for the
// S3 endpoint as the browser reaches it.
//
// Main types: Console (New, ServeHTTP), Config (DefaultConfig, Validate),
// Error (an S3 or admin API error as pages show it). Files: console.go
// (configuration, routing, access and CSRF checks), auth.go (login,
// logout, routes), browse.go (buckets, object browser, object details,
// share links), upload.go (uploads and downloads), admin.go (users,
// groups, policies, service accounts, bucket settings, cluster health,
// audit targets), render.go (templates, error pages), s3.go (the signed S3
// calls).
//
// It imports adminapi only (arch_test.go).
package console
