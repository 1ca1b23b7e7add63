package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Cookie names. The session cookie holds only a random id; the keys stay
// in this process. The login cookie carries the login form's CSRF token
// (double submit), before there is a session.
const (
	sessionCookie = "strata_console"
	loginCookie   = "strata_console_login"
	cookiePath    = "/console/"
)

// Why a request has no session.
var (
	errNoSession      = errors.New("console: not logged in")
	errSessionExpired = errors.New("console: session expired")
)

// secret is a credential kept in memory: it never appears in logs or
// formatted output.
type secret string

// LogValue redacts the secret.
func (secret) LogValue() string { return "REDACTED" }

// String redacts the secret.
func (secret) String() string { return "REDACTED" }

// flash is a message shown once, on the next page the session sees.
type flash struct {
	Error bool
	Text  string
}

// session is one logged-in browser. Its identity fields are fixed at
// login; mu guards the rest.
type session struct {
	accessKey    string
	secretKey    secret
	sessionToken secret // STS credentials only
	csrf         string // the token every state-changing request must carry
	created      time.Time
	// admin: the identity may use the admin API (the root user);
	// selfService: it may manage its own service accounts (a user).
	admin, selfService bool

	mu       sync.Mutex
	lastSeen time.Time
	flashes  []flash
}

// addFlash queues a message for the next page.
func (s *session) addFlash(isErr bool, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.flashes) < 8 {
		s.flashes = append(s.flashes, flash{Error: isErr, Text: text})
	}
}

// takeFlashes returns the queued messages and forgets them.
func (s *session) takeFlashes() []flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flashes
	s.flashes = nil
	return f
}

// sessions is the node's in-memory session table, keyed by the SHA-256
// of the cookie value (so that neither a lookup's timing nor a dump of
// the map gives a usable id).
type sessions struct {
	lifetime, idle time.Duration
	max            int
	now            func() time.Time

	mu sync.Mutex
	m  map[[32]byte]*session
}

func newSessions(lifetime, idle time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{lifetime: lifetime, idle: idle, max: max, now: now, m: map[[32]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("console: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func idKey(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// expired reports whether s has passed its lifetime or idle limit at now.
func (t *sessions) expired(s *session, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.created) >= t.lifetime || now.Sub(s.lastSeen) >= t.idle
}

// create stores s and returns the id for its cookie. Expired sessions are
// dropped first; when the table is still full, the least recently used
// one goes.
func (t *sessions) create(s *session) string {
	id := randomToken()
	now := t.now()
	s.created, s.lastSeen = now, now
	s.csrf = randomToken()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked(now)
	if len(t.m) >= t.max {
		var oldest [32]byte
		var at time.Time
		for k, o := range t.m {
			o.mu.Lock()
			if at.IsZero() || o.lastSeen.Before(at) {
				oldest, at = k, o.lastSeen
			}
			o.mu.Unlock()
		}
		delete(t.m, oldest)
	}
	t.m[idKey(id)] = s
	return id
}

func (t *sessions) sweepLocked(now time.Time) {
	for k, s := range t.m {
		if t.expired(s, now) {
			delete(t.m, k)
		}
	}
}

// get returns the live session of id and marks it used;
// errSessionExpired (and forgets it) when it has expired, errNoSession
// when there is none.
func (t *sessions) get(id string) (*session, error) {
	if id == "" {
		return nil, errNoSession
	}
	k := idKey(id)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[k]
	if s == nil {
		return nil, errNoSession
	}
	if t.expired(s, now) {
		delete(t.m, k)
		return nil, errSessionExpired
	}
	s.mu.Lock()
	s.lastSeen = now
	s.mu.Unlock()
	return s, nil
}

// remove forgets the session of id (logout).
func (t *sessions) remove(id string) {
	t.mu.Lock()
	delete(t.m, idKey(id))
	t.mu.Unlock()
}

// len returns how many sessions the table holds.
func (t *sessions) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// tokenEqual compares a submitted CSRF token with the expected one in
// constant time; an empty expected token matches nothing.
func tokenEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// setCookie sets an HttpOnly, SameSite=Strict cookie under /console/,
// Secure when the request came over TLS. maxAge < 0 deletes it.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}
