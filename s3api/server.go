package s3api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/strata-io/strata/audit"
	"github.com/strata-io/strata/dataplane"
	"github.com/strata-io/strata/meta"
)

// Control is what s3api needs from the replicated control plane (Raft).
type Control interface {
	// Propose commits cmd through Raft and returns once it is applied on
	// this node (a follower forwards it to the leader and waits). A command
	// the state machine rejects returns that rejection (e.g.
	// meta.ErrBucketExists).
	Propose(ctx context.Context, cmd meta.Command) error
	// View calls fn with the local state under a read lock; fn must not
	// keep references into the state after it returns.
	View(fn func(*meta.State))
	// Barrier waits until this node has applied everything the leader had
	// committed when it was called: after it, a View is not stale.
	Barrier(ctx context.Context) error
	// Ready reports whether the node is in a cluster that has a leader.
	Ready() bool
}

// Objects is what s3api needs from the data plane. *dataplane.Store
// implements it; dataplane/api.go documents the semantics.
type Objects interface {
	PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts dataplane.PutOptions) (dataplane.ObjectInfo, error)
	GetObject(ctx context.Context, bucket, key string, opts dataplane.GetOptions) (*dataplane.Object, error)
	HeadObject(ctx context.Context, bucket, key string, opts dataplane.GetOptions) (dataplane.ObjectInfo, error)
	DeleteObject(ctx context.Context, bucket, key string, opts dataplane.DeleteOptions) (dataplane.DeleteResult, error)
	SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (dataplane.ObjectInfo, error)
	SetObjectACL(ctx context.Context, bucket, key, versionID, acl string) (dataplane.ObjectInfo, error)
	ListObjects(ctx context.Context, bucket string, opts dataplane.ListOptions) (dataplane.ListResult, error)
	ListObjectVersions(ctx context.Context, bucket string, opts dataplane.ListVersionsOptions) (dataplane.ListVersionsResult, error)
	CreateMultipartUpload(ctx context.Context, bucket, key string, opts dataplane.UploadOptions) (dataplane.UploadInfo, error)
	UploadPart(ctx context.Context, bucket, key, uploadID string, number int, r io.Reader, size int64, opts dataplane.PartOptions) (dataplane.PartInfo, error)
	ListParts(ctx context.Context, bucket, key, uploadID string, opts dataplane.ListPartsOptions) (dataplane.ListPartsResult, error)
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []dataplane.CompletePart, opts dataplane.CompleteOptions) (dataplane.ObjectInfo, error)
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) (dataplane.Freed, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts dataplane.ListUploadsOptions) (dataplane.ListUploadsResult, error)
	DropBucket(ctx context.Context, bucket string) error
}

// Config configures the S3 frontend. Zero fields take the values of
// DefaultConfig.
type Config struct {
	Addr          string           // listen address, e.g. ":9000"
	Region        string           // the region this cluster answers for; default "us-east-1"
	Domains       []string         // virtual-host suffixes, e.g. "s3.example.com": bucket.s3.example.com/key
	MaxObjectSize int64            // largest single PUT; default 5 GiB
	Now           func() time.Time // clock for signatures and timestamps; default time.Now

	// ReadTimeout bounds reading a request head, and every pause while
	// reading a request body (the deadline moves forward as bytes arrive,
	// so a slow but live 5 GiB upload is not cut off).
	ReadTimeout time.Duration
	// WriteTimeout bounds every pause while writing a response (moving
	// forward as bytes leave, like ReadTimeout).
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection.
	IdleTimeout time.Duration
	// RequestTimeout is the deadline of operations that move no object data
	// (bucket operations, listings, HEAD, DELETE).
	RequestTimeout time.Duration
	// TransferTimeout is the deadline of a PUT or GET of object data,
	// including streaming the body.
	TransferTimeout time.Duration
	// ShutdownTimeout bounds Close: in-flight requests get this long to
	// finish before their contexts are cancelled.
	ShutdownTimeout time.Duration
	// MaxHeaderBytes limits the request line plus headers.
	MaxHeaderBytes int
	// TLSCertFile and TLSKeyFile, when set (both), make the listener serve
	// HTTPS only with this PEM pair (see tls.go; ReloadTLS re-reads them).
	TLSCertFile, TLSKeyFile string
	// MetricsToken, when set, is the bearer token GET /strata/metrics
	// needs (and then the only way in); MetricsPublic serves the metrics
	// without authentication. Neither: a SigV4-signed request of the root
	// user or of a user allowed "admin:Prometheus" (metrics.go).
	MetricsToken  string
	MetricsPublic bool
}

// DefaultConfig returns the defaults for every field but Domains.
func DefaultConfig() Config {
	return Config{
		Addr:            ":9000",
		Region:          "us-east-1",
		MaxObjectSize:   5 << 30,
		Now:             time.Now,
		ReadTimeout:     time.Minute,
		WriteTimeout:    time.Minute,
		IdleTimeout:     2 * time.Minute,
		RequestTimeout:  5 * time.Minute,
		TransferTimeout: 12 * time.Hour,
		ShutdownTimeout: 10 * time.Second,
		MaxHeaderBytes:  32 << 10,
	}
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.Region == "" {
		c.Region = d.Region
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = d.MaxObjectSize
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.TransferTimeout == 0 {
		c.TransferTimeout = d.TransferTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = d.MaxHeaderBytes
	}
	return c
}

// Validate reports a configuration that cannot work. New validates the
// configuration after filling defaults.
func (c Config) Validate() error {
	switch {
	case c.MaxObjectSize < 0:
		return fmt.Errorf("s3api: MaxObjectSize %d is negative", c.MaxObjectSize)
	case c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 || c.RequestTimeout < 0 || c.TransferTimeout < 0 || c.ShutdownTimeout < 0:
		return errors.New("s3api: timeouts must not be negative")
	case c.MaxHeaderBytes < 0:
		return errors.New("s3api: MaxHeaderBytes must not be negative")
	}
	for _, d := range c.Domains {
		if d == "" || strings.ContainsAny(d, "/: ") || strings.HasPrefix(d, ".") {
			return fmt.Errorf("s3api: invalid virtual-host domain %q", d)
		}
	}
	return nil
}

// Deps are the implementations the node hands to the frontend.
type Deps struct {
	Control Control
	Objects Objects
	// Unseal returns the secret key sealed in meta.User.SecretSealed.
	Unseal func(sealed []byte) (string, error)
	// Seal encrypts a new secret key for meta.User.SecretSealed (the
	// inverse of Unseal). The admin API needs it to create users and
	// service accounts; nil answers those calls NotImplemented.
	Seal func(secret string) ([]byte, error)
	// Unavailable reports errors that mean "try again later" (no leader,
	// no quorum): they are answered 503 ServiceUnavailable. May be nil.
	Unavailable func(err error) bool
	// Admin serves the admin API under adminapi.PathPrefix; nil answers
	// NotImplemented there.
	Admin Admin
	// Observe is called once per request with its audit record, when the
	// response is complete (audit.go). It must not block. May be nil.
	Observe func(*audit.Event)
	// Metrics writes the node's metrics for GET /strata/metrics and
	// returns their content type; nil answers NotImplemented there.
	Metrics func(w io.Writer) (contentType string, err error)
	// Quota admits writes against bucket and user quotas and counts the
	// usage requests add and free (quota.go). nil: no quota is enforced
	// and no usage counted.
	Quota Quota
	// STSKey authenticates and encrypts STS session tokens (iam.MintSession,
	// iam.VerifySession); the node derives it from the cluster key, so that
	// every node accepts the sessions any node minted. Empty: STS is off
	// (AssumeRole refused, session tokens InvalidToken).
	STSKey []byte
}

// Server is the S3 frontend of one node.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	ln      net.Listener
	certs   *certStore // nil: plain HTTP
	srv     *fasthttp.Server
	domains []string // lower-cased cfg.Domains

	// base is the parent of every request context; Close cancels it once
	// the graceful shutdown period is over.
	base   context.Context
	cancel context.CancelFunc

	idBase uint64        // random; request ids are idBase+seq
	seq    atomic.Uint64 // request counter
	hostID string        // x-amz-id-2: identifies this server instance

	secrets  secretCache
	policies *policyCache // parsed policy documents by content

	routesMu sync.RWMutex
	routes   map[string]fasthttp.RequestHandler // extra unauthenticated routes
	mounts   []mount                            // net/http handlers under a prefix (mount.go)

	// openReader opens a byte range of a resolved object. It is
	// (*dataplane.Object).NewReader; the package's tests replace it because
	// a *dataplane.Object can only be read through a real data plane.
	openReader func(ctx context.Context, o *dataplane.Object, offset, length int64) (io.ReadCloser, error)

	closeOnce sync.Once
	closed    atomic.Bool
	closeErr  error
}

// New builds the frontend and binds its listener now, so that a port in use
// is reported here. Serve starts answering.
func New(cfg Config, deps Deps, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Control == nil || deps.Objects == nil || deps.Unseal == nil {
		return nil, errors.New("s3api: Deps.Control, Deps.Objects and Deps.Unseal are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var rnd [40]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("s3api: random: %w", err)
	}
	ln, certs, err := listen(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		deps:     deps,
		log:      log.With("component", "s3api"),
		ln:       ln,
		certs:    certs,
		idBase:   binary.BigEndian.Uint64(rnd[:8]),
		hostID:   base64.StdEncoding.EncodeToString(rnd[8:]),
		routes:   map[string]fasthttp.RequestHandler{},
		secrets:  secretCache{m: map[string]string{}, max: 4096},
		policies: newPolicyCache(4096),
		openReader: func(ctx context.Context, o *dataplane.Object, offset, length int64) (io.ReadCloser, error) {
			return o.NewReader(ctx, offset, length)
		},
	}
	for _, d := range cfg.Domains {
		s.domains = append(s.domains, strings.ToLower(d))
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.srv = &fasthttp.Server{
		Handler:                      s.handle,
		ErrorHandler:                 s.handleFramingError,
		Name:                         "Strata",
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		NoDefaultContentType:         true,
		ReadBufferSize:               cfg.MaxHeaderBytes,
		WriteBufferSize:              64 << 10,
		// The limit only stops fasthttp from buffering: with streaming on,
		// larger bodies still reach the handler, which enforces
		// MaxObjectSize itself (EntityTooLarge).
		MaxRequestBodySize:    int(min(cfg.MaxObjectSize+(64<<20), int64(^uint(0)>>1))),
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		TCPKeepalive:          true,
		CloseOnShutdown:       true,
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{s.log},
	}
	return s, nil
}

// Addr returns the address the listener is bound to (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// HandleFunc registers h for requests whose path is exactly path, served
// without authentication and before S3 routing (and audited under the API
// name "Route"). path must be under /strata/ or be /metrics. Virtual-host
// requests (bucket.domain/...) never reach these routes. Register before
// Serve.
func (s *Server) HandleFunc(path string, h fasthttp.RequestHandler) {
	if path != "/metrics" && !strings.HasPrefix(path, "/strata/") {
		panic("s3api: HandleFunc path must be /metrics or under /strata/: " + path)
	}
	s.routesMu.Lock()
	s.routes[path] = h
	s.routesMu.Unlock()
}

// Serve answers requests until Close; it returns nil after Close.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if s.closed.Load() {
		return nil
	}
	return err
}

// Close stops accepting connections, lets in-flight requests finish for up
// to Config.ShutdownTimeout, then cancels what is still running.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		err := s.srv.ShutdownWithContext(ctx)
		s.cancel()
		// Serve may never have run; the listener is ours to close then.
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
		if errors.Is(err, context.DeadlineExceeded) {
			s.log.Warn("shutdown timed out; in-flight requests cancelled", "timeout", s.cfg.ShutdownTimeout)
			err = nil
		}
		s.closeErr = err
	})
	return s.closeErr
}

// newRequestID returns a request id unique within this server: 16
// upper-case hex digits, like Amazon S3's.
func (s *Server) newRequestID() string {
	return fmt.Sprintf("%016X", s.idBase+s.seq.Add(1))
}

// route returns the API name and handler of the health, metrics or extra
// route at path; a nil handler when there is none.
func (s *Server) route(path string) (string, func(*request)) {
	switch path {
	case "/strata/health/live":
		return "HealthLive", func(r *request) { s.handleLive(r.fctx) }
	case "/strata/health/ready":
		return "HealthReady", func(r *request) { s.handleReady(r.fctx) }
	case MetricsPath:
		return "Metrics", s.serveMetrics
	}
	s.routesMu.RLock()
	defer s.routesMu.RUnlock()
	if h := s.routes[path]; h != nil {
		return "Route", func(r *request) { h(r.fctx) }
	}
	return "", nil
}

// reservedBucket reports bucket names that path-style requests could not
// reach because the frontend's own routes shadow them.
func (s *Server) reservedBucket(name string) bool {
	if name == "strata" {
		return true
	}
	s.routesMu.RLock()
	defer s.routesMu.RUnlock()
	for p := range s.routes {
		if first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/"); first == name {
			return true
		}
	}
	for _, m := range s.mounts {
		if strings.Trim(m.prefix, "/") == name {
			return true
		}
	}
	return false
}

func (s *Server) handleLive(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBodyString("ok\n")
}

func (s *Server) handleReady(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	if s.deps.Control.Ready() {
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetBodyString("ready\n")
		return
	}
	ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	ctx.SetBodyString("not ready\n")
}

// handleFramingError answers a request fasthttp could not read (bad
// framing, headers too large, a body cut short) with an S3 error.
func (s *Server) handleFramingError(ctx *fasthttp.RequestCtx, err error) {
	start := time.Now()
	id := s.newRequestID()
	s.setCommonHeaders(ctx, id)
	var e *APIError
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		e = apiError(codeRequestHeaderSectionTooLarge)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e = apiError(codeEntityTooLarge)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e = apiError(codeIncompleteBody)
	case errors.Is(err, net.ErrClosed):
		return
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// No request arrived in time (bodies are read by the handlers,
			// so this is the request line or header): close without an
			// answer. A response on a connection where the client sent
			// nothing would be taken as the answer to its next request.
			s.log.Debug("connection idle, closed", "err", err)
			_ = ctx.Conn().Close()
			return
		}
		e = apiError(codeInvalidRequest, "The request could not be parsed as HTTP.")
	}
	s.log.Debug("unreadable request", "err", err, "request_id", id)
	ctx.SetConnectionClose()
	s.writeErrorBody(ctx, e, "", "", "", id)
	s.record(&request{fctx: ctx, id: id, method: string(ctx.Method()), start: start, errCode: e.Code})
}

// setCommonHeaders sets the headers every response carries.
func (s *Server) setCommonHeaders(ctx *fasthttp.RequestCtx, id string) {
	ctx.Response.Header.Set("x-amz-request-id", id)
	ctx.Response.Header.Set("x-amz-id-2", s.hostID)
}

// fasthttpLogger routes fasthttp's own messages to slog.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug("fasthttp", "msg", fmt.Sprintf(format, args...))
}
