package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/strata-io/strata/adminapi"
)

// assets are the templates and static files, embedded in the binary.
//
//go:embed assets
var assets embed.FS

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // the navigation entry of the page
	User    *userView
	CSRF    string
	Flashes []flash
	Data    any
}

// userView is the logged-in identity as the page shows it.
type userView struct {
	AccessKey   string
	Admin       bool
	SelfService bool
	Temporary   bool
}

// errorView is the data of the error page.
type errorView struct {
	Err   *Error
	Login bool // offer the login page
}

// navOf maps pages to their navigation entry.
var navOf = map[string]string{
	"buckets": "buckets", "browse": "buckets", "object": "buckets",
	"accounts":    "accounts",
	"admin_users": "users", "admin_user": "users",
	"admin_groups": "groups", "admin_group": "groups",
	"admin_policies": "policies", "admin_policy": "policies",
	"admin_buckets": "admin_buckets", "admin_bucket": "admin_buckets",
	"admin_cluster": "cluster", "admin_audit": "audit",
}

// funcs are the helpers templates use.
var funcs = template.FuncMap{
	"size": adminapi.FormatSize,
	"usize": func(v uint64) string {
		return adminapi.FormatSize(int64(min(v, 1<<62)))
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	// link builds a console URL: link "browse" "bucket" b "prefix" p.
	"link": func(page string, kv ...string) string {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		u := Prefix + page
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		return u
	},
	// base is the last element of a key or prefix, for display under its
	// parent.
	"base": func(prefix, key string) string { return strings.TrimPrefix(key, prefix) },
	"pct": func(done, total int64) int64 {
		if total <= 0 {
			return 0
		}
		return min(100, done*100/total)
	},
	"pcti": func(done, total int) int {
		if total <= 0 {
			return 0
		}
		return min(100, done*100/total)
	},
	"sub":  func(a, b int) int { return a - b },
	"join": strings.Join,
	"seconds": func(s float64) string {
		if s <= 0 {
			return "—"
		}
		return (time.Duration(s) * time.Second).Round(time.Second).String()
	},
}

// parsePages parses every page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := fs.ReadFile(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		body, err := fs.ReadFile(assets, n)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.New(name).Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page with the layout; s may be nil (not logged in).
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title string, data any) {
	v := view{Title: title, Nav: navOf[page], Data: data}
	if s != nil {
		v.User = &userView{AccessKey: s.accessKey, Admin: s.admin, SelfService: s.selfService, Temporary: s.sessionToken != ""}
		v.CSRF = s.csrf
		v.Flashes = s.takeFlashes()
	}
	t := c.pages[page]
	var buf bytes.Buffer
	if t == nil {
		c.log.Error("no such page template", "page", page)
		http.Error(w, "console: no page "+page, http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("page failed to render", "page", page, "err", err)
		http.Error(w, "The console could not render this page; the node's log has the details.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// page renders a page for a logged-in request.
func (c *Console) page(q *request, status int, page, title string, data any) {
	c.render(q.w, q.r, q.sess, status, page, title, data)
}

// errorPage shows an S3 or admin API error with its code, message and
// request id, with the error's HTTP status.
func (c *Console) errorPage(q *request, err error) {
	e := apiError(err)
	status := e.Status
	if status < 400 {
		status = http.StatusBadGateway
	}
	c.page(q, status, "error", "Error: "+e.Code, errorView{Err: e})
}

// redirect answers a form post: back to a page, with a message shown there.
func (c *Console) redirect(q *request, to string, err error, ok string) {
	switch {
	case err != nil:
		e := apiError(err)
		q.sess.addFlash(true, e.Code+": "+e.Message)
	case ok != "":
		q.sess.addFlash(false, ok)
	}
	http.Redirect(q.w, q.r, to, http.StatusSeeOther)
}

// writeJSON answers a script call.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonError is the JSON body of a failed script call.
type jsonError struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}

func writeJSONError(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status < 400 {
		status = http.StatusBadGateway
	}
	writeJSON(w, status, jsonError{Status: e.Status, Code: e.Code, Message: e.Message, RequestID: e.RequestID})
}
