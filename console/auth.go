package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// loginView is the data of the login page.
type loginView struct {
	CSRF      string // the login form's token (also in the login cookie)
	Next      string
	AccessKey string
	Expired   bool
	LoggedOut bool
	Err       *Error
}

// routes registers every page and call.
func (c *Console) routes() {
	m := http.NewServeMux()
	c.mux = m
	m.Handle("GET "+Prefix+"static/", c.static)
	m.HandleFunc("GET "+Prefix+"login", c.loginPage)
	m.HandleFunc("POST "+Prefix+"login", c.login)
	c.handle("POST "+Prefix+"logout", anyUser, c.logout)
	c.handle("GET "+Prefix+"{$}", anyUser, func(q *request) { http.Redirect(q.w, q.r, Prefix+"buckets", http.StatusFound) })

	c.handle("GET "+Prefix+"buckets", anyUser, c.bucketsPage)
	c.handle("POST "+Prefix+"buckets", anyUser, c.bucketsPost)
	c.handle("GET "+Prefix+"browse", anyUser, c.browsePage)
	c.handle("POST "+Prefix+"browse", anyUser, c.browsePost)
	c.handle("GET "+Prefix+"object", anyUser, c.objectPage)
	c.handle("POST "+Prefix+"object", anyUser, c.objectPost)
	c.handle("GET "+Prefix+"download", anyUser, c.download)
	c.handle("POST "+Prefix+"api/upload/start", anyUser, c.uploadStart)
	c.handle("PUT "+Prefix+"api/upload/object", anyUser, c.uploadObject)
	c.handle("PUT "+Prefix+"api/upload/part", anyUser, c.uploadPart)
	c.handle("POST "+Prefix+"api/upload/complete", anyUser, c.uploadComplete)
	c.handle("POST "+Prefix+"api/upload/abort", anyUser, c.uploadAbort)

	c.handle("GET "+Prefix+"service-accounts", selfUsers, c.accountsPage)
	c.handle("POST "+Prefix+"service-accounts", selfUsers, c.accountsPost)

	c.handle("GET "+Prefix+"admin/users", admins, c.usersPage)
	c.handle("POST "+Prefix+"admin/users", admins, c.usersPost)
	c.handle("GET "+Prefix+"admin/user", admins, c.userPage)
	c.handle("GET "+Prefix+"admin/groups", admins, c.groupsPage)
	c.handle("POST "+Prefix+"admin/groups", admins, c.groupsPost)
	c.handle("GET "+Prefix+"admin/group", admins, c.groupPage)
	c.handle("GET "+Prefix+"admin/policies", admins, c.policiesPage)
	c.handle("POST "+Prefix+"admin/policies", admins, c.policiesPost)
	c.handle("GET "+Prefix+"admin/policy", admins, c.policyPage)
	c.handle("GET "+Prefix+"admin/buckets", admins, c.adminBucketsPage)
	c.handle("POST "+Prefix+"admin/buckets", admins, c.adminBucketsPost)
	c.handle("GET "+Prefix+"admin/bucket", admins, c.adminBucketPage)
	c.handle("POST "+Prefix+"admin/bucket", admins, c.adminBucketPost)
	c.handle("GET "+Prefix+"admin/cluster", admins, c.clusterPage)
	c.handle("GET "+Prefix+"admin/audit", admins, c.auditPage)
	c.handle("POST "+Prefix+"admin/audit", admins, c.auditPost)
	m.HandleFunc(Prefix, c.notFound)
}

// notFound answers paths the console does not have.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	s, _ := c.session(r)
	e := &Error{Status: http.StatusNotFound, Code: "NotFound", Message: "The console has no page " + r.URL.Path + " for " + r.Method + "."}
	if isAPI(r) {
		writeJSONError(w, e)
		return
	}
	c.render(w, r, s, e.Status, "error", "Not found", errorView{Err: e, Login: s == nil})
}

// safeNext keeps a post-login destination inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "buckets"
	}
	return next
}

// loginPage shows the login form with a fresh login CSRF token.
func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, err := c.session(r); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, http.StatusOK, loginView{Next: r.URL.Query().Get("next"), Expired: r.URL.Query().Get("expired") != "", LoggedOut: r.URL.Query().Get("out") != ""})
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	v.CSRF = randomToken()
	v.Next = safeNext(v.Next)
	setCookie(w, r, loginCookie, v.CSRF, 3600)
	c.render(w, r, nil, status, "login", "Log in", v)
}

// login checks the keys with a signed S3 request and opens a session:
// keys S3 authenticates are accepted even when the identity may not list
// buckets (AccessDenied is an answer about permissions, not keys). Whether
// the identity may use the admin API and manage service accounts is asked
// once, here.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	ak := strings.TrimSpace(formValue(r, "access_key"))
	sk := formValue(r, "secret_key")
	token := strings.TrimSpace(formValue(r, "session_token"))
	next := formValue(r, "next")
	ck, err := r.Cookie(loginCookie)
	if err != nil || !tokenEqual(formValue(r, "csrf"), ck.Value) || !c.checkCSRF(r, formValue(r, "csrf")) {
		c.log.Warn("login refused: missing or wrong CSRF token", "remote", r.RemoteAddr)
		c.showLogin(w, r, http.StatusForbidden, loginView{Next: next, AccessKey: ak, Err: &Error{Status: http.StatusForbidden, Code: "InvalidCSRFToken",
			Message: "The login form's security token was missing or stale (cookies must be enabled). Please try again."}})
		return
	}
	if ak == "" || sk == "" {
		c.showLogin(w, r, http.StatusBadRequest, loginView{Next: next, AccessKey: ak, Err: &Error{Status: http.StatusBadRequest, Code: "MissingKeys", Message: "Enter an access key and a secret key."}})
		return
	}
	s := &session{accessKey: ak, secretKey: secret(sk), sessionToken: secret(token)}
	s3c, adm := c.clients(s)
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if _, err := s3c.listBuckets(ctx); err != nil && !isCode(err, "AccessDenied") {
		e := apiError(err)
		status := http.StatusUnauthorized
		if e.Status >= 500 {
			status = e.Status
		}
		c.log.Info("login failed", "access_key", ak, "code", e.Code, "remote", r.RemoteAddr)
		c.showLogin(w, r, status, loginView{Next: next, AccessKey: ak, Err: e})
		return
	}
	if token == "" {
		if _, err := adm.ClusterStatus(ctx); err == nil {
			s.admin = true
		} else if _, err := adm.ListServiceAccounts(ctx); err == nil {
			s.selfService = true
		}
	}
	id := c.sessions.create(s)
	setCookie(w, r, sessionCookie, id, int(c.cfg.SessionLifetime/time.Second))
	setCookie(w, r, loginCookie, "", -1)
	c.log.Info("console login", "access_key", ak, "admin", s.admin, "temporary", token != "", "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// logout forgets the session and its keys.
func (c *Console) logout(q *request) {
	if ck, err := q.r.Cookie(sessionCookie); err == nil {
		c.sessions.remove(ck.Value)
	}
	setCookie(q.w, q.r, sessionCookie, "", -1)
	c.log.Info("console logout", "access_key", q.sess.accessKey)
	http.Redirect(q.w, q.r, Prefix+"login?out=1", http.StatusSeeOther)
}

// credentials returns the session's keys for the SigV4 signer.
func (s *session) credentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.accessKey, SecretAccessKey: string(s.secretKey), SessionToken: string(s.sessionToken)}
}
