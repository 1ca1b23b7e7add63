package s3api

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/strata-io/strata/iam"
	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/s3api/sigv"
)

// authenticate verifies r's signature (header or presigned query) and sets
// r.auth and r.who: the root user, a user, a service account, an STS
// session (its X-Amz-Security-Token verified with Deps.STSKey), or an
// anonymous request (no signature), which authorize evaluates against the
// bucket policy and ACLs only.
func (s *Server) authenticate(r *request) error {
	cl := int64(r.fctx.Request.Header.ContentLength())
	if cl < 0 {
		cl = -1
	}
	sr := &sigv.Request{
		Method:        r.method,
		Path:          r.rawPath,
		Query:         r.rawQuery,
		Header:        r.header,
		HeaderNames:   r.headerNames,
		ContentLength: cl,
	}
	if r.vhost {
		// SigV2 signs the bucket of a virtual-host request as /bucket/...
		sr.VirtualHostBucket = r.bucket
	}
	kr := s.newKeyResolver(r.ctx, requestToken(r))
	auth, err := sigv.Verify(sr, kr.lookup, s.cfg.Now())
	if err := kr.failure(err); err != nil {
		return err
	}
	if auth.AccessKey == "" {
		r.auth, r.who = auth, &identity{kind: identAnonymous}
		return nil
	}
	if auth.Service != "s3" {
		// A signature for another service (the STS query API shares this
		// port) does not authorise S3 operations.
		if auth.Presigned {
			return apiError(codeAuthorizationQueryParametersError, "The credential scope names service '"+auth.Service+"'; expecting 's3'.")
		}
		return apiError(codeAuthorizationHeaderMalformed, "The credential scope names service '"+auth.Service+"'; expecting 's3'.")
	}
	if auth.SessionToken != kr.token {
		// The token the key was resolved with is not the one sigv read
		// (a header token on a presigned request, or the reverse).
		return apiError(codeInvalidToken)
	}
	// Any region in the credential scope is accepted: the signature covers
	// it, and clients configured with another default region keep working.
	r.auth, r.who = auth, kr.who
	return nil
}

// requestToken returns the X-Amz-Security-Token of r: the header, else the
// presigned query parameter; "" when none.
func requestToken(r *request) string {
	if t := r.header("x-amz-security-token"); t != "" {
		return t
	}
	if vs := r.query["X-Amz-Security-Token"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// keyResolver is the sigv.Credentials lookup of one request: it finds the
// secret of the access key that signed it and records who that is.
type keyResolver struct {
	s     *Server
	ctx   context.Context
	token string    // the request's X-Amz-Security-Token, "" if none
	who   *identity // set by a successful lookup
	err   error     // a lookup failure the client must hear as itself
}

func (s *Server) newKeyResolver(ctx context.Context, token string) *keyResolver {
	return &keyResolver{s: s, ctx: ctx, token: token}
}

// failure returns the error to answer after sigv verification returned
// err: a lookup failure other than "no such key" (no leader for the
// barrier, a secret that does not unseal, an expired token) wins over
// whatever sigv made of it.
func (k *keyResolver) failure(err error) error {
	if k.err != nil {
		return k.err
	}
	return err
}

// lookup implements sigv.Credentials. A request with a session token is an
// STS session: the token is verified (and yields the secret) without
// looking the key up in the replicated state, which does not hold it.
func (k *keyResolver) lookup(accessKey string) (string, error) {
	if k.token != "" {
		return k.session(accessKey)
	}
	u, err := k.s.user(k.ctx, accessKey)
	if err != nil {
		if !errors.Is(err, sigv.ErrInvalidAccessKeyID) {
			k.err = err
		}
		return "", err
	}
	if u.Disabled {
		return "", fmt.Errorf("%w: %w", sigv.ErrInvalidAccessKeyID, errAccessKeyDisabled)
	}
	who := &identity{kind: identUser, accessKey: accessKey, user: u}
	switch {
	case u.Root:
		who.kind = identRoot
	case u.Parent != "":
		// A service account: its parent must exist and be enabled; it has
		// the parent's permissions narrowed by its own policy.
		parent, err := k.parent(u.Parent)
		if err != nil {
			return "", err
		}
		who.kind, who.user, who.session = identServiceAccount, parent, u.SessionPolicy
	}
	secret, err := k.s.unsealSecret(u)
	if err != nil {
		k.err = err
		return "", err
	}
	k.who = who
	return secret, nil
}

// session verifies the request's session token against accessKey.
func (k *keyResolver) session(accessKey string) (string, error) {
	if len(k.s.deps.STSKey) == 0 {
		k.err = apiError(codeInvalidToken)
		return "", k.err
	}
	claims, secret, err := iam.VerifySession(k.s.deps.STSKey, accessKey, k.token, k.s.cfg.Now())
	switch {
	case errors.Is(err, iam.ErrExpiredToken):
		k.err = apiError(codeExpiredToken)
		return "", k.err
	case err != nil:
		k.err = apiError(codeInvalidToken)
		return "", k.err
	}
	parent, err := k.parent(claims.Parent)
	if err != nil {
		return "", err
	}
	k.who = &identity{kind: identSession, accessKey: accessKey, user: parent, session: claims.Policy, expires: claims.Expires}
	return secret, nil
}

// parent returns the user a service account or session belongs to. A
// parent that is gone, disabled or itself a service account makes the
// child key unknown (InvalidAccessKeyId), so that removing or disabling a
// user ends its service accounts and sessions at once.
func (k *keyResolver) parent(accessKey string) (meta.User, error) {
	p, err := k.s.user(k.ctx, accessKey)
	switch {
	case errors.Is(err, sigv.ErrInvalidAccessKeyID):
		return p, fmt.Errorf("%w: parent user %q is gone", sigv.ErrInvalidAccessKeyID, accessKey)
	case err != nil:
		k.err = err
		return p, err
	case p.Disabled:
		return p, fmt.Errorf("%w: %w", sigv.ErrInvalidAccessKeyID, errAccessKeyDisabled)
	case p.Parent != "":
		return p, fmt.Errorf("%w: parent %q is a service account", sigv.ErrInvalidAccessKeyID, accessKey)
	}
	return p, nil
}

// user returns a copy of the user with accessKey. A key missing from the
// local state is looked up again after a read barrier, so that a key
// created a moment ago on another node is not refused by a lagging one.
func (s *Server) user(ctx context.Context, accessKey string) (meta.User, error) {
	var u meta.User
	found := false
	lookup := func(st *meta.State) {
		if p := st.Users[accessKey]; p != nil {
			u, found = *p, true
		}
	}
	s.deps.Control.View(lookup)
	if !found {
		if err := s.deps.Control.Barrier(ctx); err != nil {
			return u, fmt.Errorf("read barrier for access key lookup: %w", err)
		}
		s.deps.Control.View(lookup)
	}
	if !found {
		return u, fmt.Errorf("%w: %q", sigv.ErrInvalidAccessKeyID, accessKey)
	}
	return u, nil
}

// unsealSecret returns the secret sealed in u, from the cache when it was
// unsealed before.
func (s *Server) unsealSecret(u meta.User) (string, error) {
	ck := u.AccessKey + "\x00" + string(u.SecretSealed)
	if secret, ok := s.secrets.get(ck); ok {
		return secret, nil
	}
	secret, err := s.deps.Unseal(u.SecretSealed)
	if err != nil {
		return "", fmt.Errorf("unseal secret of access key %q: %w", u.AccessKey, err)
	}
	s.secrets.put(ck, secret)
	return secret, nil
}

// secretCache keeps unsealed secrets so that unsealing is not paid on
// every request. It is keyed by access key and sealed bytes, so a changed
// secret is never served stale; it holds at most max entries, dropping an
// arbitrary one when full.
type secretCache struct {
	mu  sync.Mutex
	m   map[string]string
	max int
}

func (c *secretCache) get(k string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *secretCache) put(k, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}
