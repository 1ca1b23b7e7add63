package s3api

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/s3api/sigv"
)

// authenticate verifies r's signature (header or presigned query) and sets
// r.auth. Anonymous requests are refused with AccessDenied until bucket
// policies can allow them.
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
	// A lookup that failed for a reason other than "no such key" (no
	// leader for the barrier, a secret that does not unseal) is what the
	// client must hear about, whatever sigv makes of it.
	var lookupErr error
	creds := func(accessKey string) (string, error) {
		secret, err := s.secretFor(r.ctx, accessKey)
		if err != nil && !errors.Is(err, sigv.ErrInvalidAccessKeyID) {
			lookupErr = err
		}
		return secret, err
	}
	auth, err := sigv.Verify(sr, creds, s.cfg.Now())
	if lookupErr != nil {
		return lookupErr
	}
	if err != nil {
		return err
	}
	if auth.AccessKey == "" {
		// Policy hook: anonymous access is decided by bucket policies and
		// ACLs once they exist; until then nothing is public.
		return sigv.ErrMissingAuth
	}
	if auth.Service != "s3" {
		// A signature for another service (the STS query API shares this
		// port) does not authorise S3 operations.
		if auth.Presigned {
			return apiError(codeAuthorizationQueryParametersError, "The credential scope names service '"+auth.Service+"'; expecting 's3'.")
		}
		return apiError(codeAuthorizationHeaderMalformed, "The credential scope names service '"+auth.Service+"'; expecting 's3'.")
	}
	if auth.SessionToken != "" {
		// Temporary credentials (STS) are not issued yet, so no session
		// token can be valid. When STS lands, the token is verified here
		// against auth.AccessKey.
		return apiError(codeInvalidToken)
	}
	// Any region in the credential scope is accepted: the signature covers
	// it, and clients configured with another default region keep working.
	r.auth = auth
	return nil
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

// secretFor is the sigv.Credentials lookup: the unsealed secret of an
// enabled user.
func (s *Server) secretFor(ctx context.Context, accessKey string) (string, error) {
	u, err := s.user(ctx, accessKey)
	if err != nil {
		return "", err
	}
	if u.Disabled {
		return "", fmt.Errorf("%w: %w", sigv.ErrInvalidAccessKeyID, errAccessKeyDisabled)
	}
	ck := accessKey + "\x00" + string(u.SecretSealed)
	if secret, ok := s.secrets.get(ck); ok {
		return secret, nil
	}
	secret, err := s.deps.Unseal(u.SecretSealed)
	if err != nil {
		return "", fmt.Errorf("unseal secret of access key %q: %w", accessKey, err)
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
