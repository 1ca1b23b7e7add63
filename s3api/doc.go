// Package s3api is Strata's S3 HTTP frontend, built on fasthttp.
//
// It owns the listener and the request path of every S3 call: routing
// (path-style and virtual-host style, route.go: one op per S3 operation),
// SigV4 verification through s3api/sigv, the S3 operations on buckets and
// objects, S3 XML bodies (xml.go), and the single translation of internal
// errors into S3 error responses (errors.go, toS3Error). It also serves the
// unauthenticated health endpoints under /strata/health/, the node's
// Prometheus metrics at /strata/metrics (metrics.go: a bearer token, public,
// or a SigV4 request of root or of a user allowed "admin:Prometheus", per
// Config), and lets the node register further unauthenticated routes with
// HandleFunc and mount a net/http handler under a path prefix with Mount
// (mount.go: the web console under /console/, its name reserved as a
// bucket, its request bodies and downloads streamed; objects read
// path-style then carry Content-Security-Policy: sandbox, since they share
// its origin). Every request served, whatever its route, ends in one
// audit.Event handed to Deps.Observe (audit.go), which the node turns into
// audit records and request metrics.
//
// The operations, one file per concept: buckets and ListBuckets
// (bucket.go), listings (list.go), objects with versions, ranges, parts,
// conditional reads and writes (object.go), checksums (checksum.go),
// CopyObject and UploadPartCopy (copy.go), multipart uploads
// (multipart.go), versioning and ListObjectVersions (versioning.go),
// tagging (tagging.go), DeleteObjects (delete.go), GetObjectAttributes
// (attributes.go), browser POST uploads (post.go, which authenticate
// from the form rather than the headers) and bucket CORS (cors.go:
// Put/Get/DeleteBucketCors, the unauthenticated preflight OPTIONS, and the
// Access-Control-* headers it adds to every answer, errors included, of a
// cross-origin request), and bucket lifecycle configurations (lifecycle.go:
// Put/Get/DeleteBucketLifecycleConfiguration; package ilm executes them).
//
// Who may do what: authenticate (auth.go) finds who signed a request — the
// root user, a user, a service account, an STS session whose token it
// verifies with Deps.STSKey, or nobody (anonymous) — and authorize
// (authz.go) decides every request in one place: root may do everything;
// anyone else as AWS evaluates (iam.Authorize over the user's and its
// groups' policies, the service account's or session's policy, the bucket
// policy), with canned ACLs as an additional allow and the bucket owner's
// right to manage its bucket's configuration. Bucket policies
// (bucketpolicy.go), canned ACLs on buckets and objects (acl.go) and the
// STS query API, AssumeRole, served on the same port (sts.go). The admin
// API (admin.go, admin_iam.go, admin_audit.go for the audit webhooks,
// admin_bucket.go for buckets with their usage and quotas) is JSON under
// /strata/admin/v1/.
//
// Quotas (quota.go): every write that adds data is admitted by Deps.Quota
// (package quota) before its body is read, and refused with QuotaExceeded
// when it would pass the bucket's or its owner's quota; a body of unknown
// length is counted as it streams. What writes and deletes add and free
// is recorded for the cluster's usage.
//
// The listener serves HTTPS only when Config.TLSCertFile/TLSKeyFile are
// set (tls.go); Server.ReloadTLS swaps the pair for new connections.
//
// Main types: Server (New, Serve, ReloadTLS, Close), Config, Deps, and the
// narrow interfaces it consumes: Control (Raft: Propose, View, Barrier,
// Ready), Objects (the data plane's object operations, whose semantics
// dataplane/api.go documents) and Quota (the usage accountant). The node hands it the implementations;
// s3api never touches drives or Raft directly.
//
// Request bodies are streamed (a 5 GiB PUT never sits in memory) and GET
// bodies are streamed back to the client; copies stream the source into
// the destination. Only XML request bodies are read into memory, each
// bounded. *fasthttp.RequestCtx never leaves this package: it is pooled,
// so every request gets its own context.Context with a deadline, cancelled
// when the request is done.
//
// It must not import node, raftfsm, cluster, rpc, console or
// dataplane/drive: it sees Raft and the data plane only through Control and
// Objects.
package s3api
