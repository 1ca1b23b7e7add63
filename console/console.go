package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// Prefix is the path every console page is under.
const Prefix = "/console/"

// Config configures the console. Zero fields take DefaultConfig's values.
type Config struct {
	// Endpoint is the S3 endpoint the console sends its signed requests
	// to: the node's own S3 port, normally on loopback
	// (http://127.0.0.1:9000). Required.
	Endpoint string
	// HTTP is the client for Endpoint (nil: a plain one).
	HTTP *http.Client
	// Region is the SigV4 region; default us-east-1.
	Region string
	// SharePort, when set, is the S3 port share links (presigned URLs)
	// point at, on the host name the browser used: for a console on its
	// own listener. Empty: the browser's own scheme, host and port, which
	// is the S3 port when the console is served there.
	SharePort string
	// SessionLifetime bounds a session from login (default 12h);
	// SessionIdle ends it after that long without a request (default 1h).
	SessionLifetime, SessionIdle time.Duration
	// MaxSessions bounds the session table (default 10,000); when full,
	// the least recently used session is dropped.
	MaxSessions int
	// PartSize is the part size of uploads through the browser (default 8
	// MiB, at least 5 MiB): files up to it go in one PutObject, larger
	// ones as a multipart upload, one request per part.
	PartSize int64
	// PageSize is how many keys a listing page shows (default 200).
	PageSize int
	// Now is the clock of sessions and signatures; default time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults of every field but Endpoint.
func DefaultConfig() Config {
	return Config{
		Region:          "us-east-1",
		SessionLifetime: 12 * time.Hour,
		SessionIdle:     time.Hour,
		MaxSessions:     10000,
		PartSize:        8 << 20,
		PageSize:        200,
		Now:             time.Now,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Region == "" {
		c.Region = d.Region
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = d.SessionLifetime
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = d.SessionIdle
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = d.MaxSessions
	}
	if c.PartSize == 0 {
		c.PartSize = d.PartSize
	}
	if c.PageSize == 0 {
		c.PageSize = d.PageSize
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{}
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("console: Endpoint %q: want http(s)://host:port of the node's S3 port", c.Endpoint)
	case c.SessionLifetime < 0 || c.SessionIdle < 0:
		return errors.New("console: session durations must not be negative")
	case c.PartSize != 0 && (c.PartSize < 5<<20 || c.PartSize > 5<<30):
		return fmt.Errorf("console: PartSize %d outside S3's 5 MiB..5 GiB", c.PartSize)
	case c.PageSize < 0 || c.PageSize > 1000:
		return fmt.Errorf("console: PageSize %d outside 1..1000", c.PageSize)
	case c.MaxSessions < 0:
		return errors.New("console: MaxSessions must not be negative")
	}
	if c.SharePort != "" {
		if _, err := net.LookupPort("tcp", c.SharePort); err != nil {
			return fmt.Errorf("console: SharePort %q: %v", c.SharePort, err)
		}
	}
	return nil
}

// Console is the web console of one node: an http.Handler for the paths
// under Prefix. Sessions live in its memory.
type Console struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessions
	pages    map[string]*template.Template
	static   http.Handler
	mux      *http.ServeMux
}

// New builds the console; it serves once mounted (it starts nothing).
func New(cfg Config, log *slog.Logger) (*Console, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	staticFS, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	c := &Console{
		cfg:      cfg,
		log:      log.With("component", "console"),
		sessions: newSessions(cfg.SessionLifetime, cfg.SessionIdle, cfg.MaxSessions, cfg.Now),
		pages:    pages,
		static:   http.StripPrefix(Prefix+"static/", http.FileServerFS(staticFS)),
	}
	c.routes()
	return c, nil
}

// ServeHTTP serves the console's pages and calls under Prefix; "/console"
// and "/" redirect to it.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No page may be framed, run inline scripts or load anything from
	// elsewhere; none is cached, none leaks its URL (keys, prefixes) to
	// another site.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		h.Set("Cache-Control", "no-store")
	}
	if r.URL.Path == "/" || r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// request is one console request of a logged-in session.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *session
	s3   *s3Client
	adm  *adminapi.Client
}

// ctx returns the request's context bounded for calls that move no object
// data.
func (q *request) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(q.r.Context(), 2*time.Minute)
}

// clients builds the S3 and admin API clients of a session's identity.
func (c *Console) clients(s *session) (*s3Client, *adminapi.Client) {
	s3c := &s3Client{endpoint: strings.TrimRight(c.cfg.Endpoint, "/"), region: c.cfg.Region, creds: s.credentials(), http: c.cfg.HTTP, now: c.cfg.Now}
	adm := &adminapi.Client{Endpoint: c.cfg.Endpoint, AccessKey: s.accessKey, SecretKey: string(s.secretKey),
		SessionToken: string(s.sessionToken), Region: c.cfg.Region, HTTP: c.cfg.HTTP}
	return s3c, adm
}

// access says who may reach a route.
type access int

const (
	anyUser   access = iota // any logged-in identity
	selfUsers               // users that manage their own service accounts
	admins                  // identities that may use the admin API (root)
)

// handle registers a route that needs a session; every method but GET and
// HEAD also needs the session's CSRF token.
func (c *Console) handle(pattern string, who access, h func(*request)) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if err != nil {
			c.needLogin(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !c.checkCSRF(r, s.csrf) {
				c.refuseCSRF(w, r, s)
				return
			}
		}
		s3c, adm := c.clients(s)
		q := &request{w: w, r: r, sess: s, s3: s3c, adm: adm}
		switch {
		case who == admins && !s.admin:
			c.errorPage(q, &Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "The admin pages are for identities that may use the admin API (the root user)."})
			return
		case who == selfUsers && !s.selfService:
			c.errorPage(q, &Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Service accounts are managed by the user that owns them, with the user's own keys (not root, a service account or temporary credentials)."})
			return
		}
		h(q)
	})
}

// session returns the request's live session.
func (c *Console) session(r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, errNoSession
	}
	return c.sessions.get(ck.Value)
}

// isAPI reports whether r is a call of the page's script (JSON answers).
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, Prefix+"api/") }

// needLogin answers a request without a live session: pages go to the
// login page (saying why), script calls and form posts get 401.
func (c *Console) needLogin(w http.ResponseWriter, r *http.Request, why error) {
	msg := "Please log in."
	if errors.Is(why, errSessionExpired) {
		msg = "Your session has expired. Please log in again."
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		next := r.URL.RequestURI()
		q := url.Values{"next": {next}}
		if errors.Is(why, errSessionExpired) {
			q.Set("expired", "1")
		}
		http.Redirect(w, r, Prefix+"login?"+q.Encode(), http.StatusSeeOther)
		return
	}
	e := &Error{Status: http.StatusUnauthorized, Code: "SessionRequired", Message: msg + " Nothing was changed."}
	if isAPI(r) {
		writeJSONError(w, e)
		return
	}
	c.render(w, r, nil, e.Status, "error", "Not logged in", errorView{Err: e, Login: true})
}

// checkCSRF reports whether r carries the session's CSRF token (form field
// csrf, or header X-CSRF-Token for the page's script) and, when the
// browser says where it comes from, comes from this site.
func (c *Console) checkCSRF(r *http.Request, want string) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && !isAPI(r) {
		got = formValue(r, "csrf")
	}
	return tokenEqual(got, want)
}

// maxForm bounds a form body (a lifecycle configuration may be 2 MiB).
const maxForm = 4 << 20

// formValue parses r's form (bounded) and returns one field.
func formValue(r *http.Request, name string) string {
	if r.PostForm == nil {
		r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
		_ = r.ParseForm()
	}
	return r.PostForm.Get(name)
}

// refuseCSRF answers a state-changing request without a valid CSRF
// token: 403, nothing done.
func (c *Console) refuseCSRF(w http.ResponseWriter, r *http.Request, s *session) {
	c.log.Warn("request refused: missing or wrong CSRF token", "path", r.URL.Path, "access_key", s.accessKey, "remote", r.RemoteAddr)
	e := &Error{Status: http.StatusForbidden, Code: "InvalidCSRFToken",
		Message: "This request did not carry the page's security token (CSRF), so it was refused and nothing was changed. Reload the page and try again."}
	if isAPI(r) {
		writeJSONError(w, e)
		return
	}
	c.render(w, r, s, e.Status, "error", "Request refused", errorView{Err: e})
}
