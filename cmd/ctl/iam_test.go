package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/strata-io/strata/adminapi"
)

// fakeAdmin records the admin API calls stratactl makes and answers each
// with a canned reply.
type fakeAdmin struct {
	mu     sync.Mutex
	calls  []string // "METHOD path body"
	reply  string   // JSON body of the next answer
	status int      // status of the next answer (200 when 0)
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=ROOTAK/") {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"code":"AccessDenied","message":"unsigned"}`)
		return
	}
	f.calls = append(f.calls, strings.TrimSpace(r.Method+" "+r.URL.EscapedPath()+" "+string(body)))
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	io.WriteString(w, f.reply)
}

func startFake(t *testing.T) (*fakeAdmin, func(string) string) {
	f := &fakeAdmin{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	env := map[string]string{"STRATA_ENDPOINT": srv.URL, "STRATA_ACCESS_KEY": "ROOTAK", "STRATA_SECRET_KEY": "root-secret"}
	return f, func(k string) string { return env[k] }
}

func TestParseCommandLine(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"STRATA_ACCESS_KEY": "ENVAK", "STRATA_SECRET_KEY": "env-secret"}[k]
	}
	g, words, local, _, err := parseCommandLine([]string{"--secret-key", "ROOTSK", "user", "create", "bob", "--secret-key=bob-secret", "--account", "proj", "--json"}, env)
	if err != nil {
		t.Fatal(err)
	}
	// Before the command: the caller's secret; after it: the new user's.
	if g.secretKey != "ROOTSK" || g.accessKey != "ENVAK" || !g.json || local["secret-key"] != "bob-secret" || local["account"] != "proj" ||
		strings.Join(words, " ") != "user create bob" {
		t.Fatalf("globals %+v, words %v, local %v", g, words, local)
	}
	// A command without its own --secret-key leaves it global.
	g, _, local, _, err = parseCommandLine([]string{"user", "list", "--secret-key", "X"}, env)
	if err != nil || g.secretKey != "X" || len(local) != 0 {
		t.Fatalf("user list: %+v %v %v", g, local, err)
	}
	// A command flag before the command words is not the command's.
	if _, _, _, _, err := parseCommandLine([]string{"--account", "proj", "user", "create", "bob"}, env); err == nil {
		t.Fatal("--account before the command was accepted")
	}
	for _, bad := range [][]string{{"user", "list", "--bogus", "1"}, {"user", "create", "bob", "--account"}, {"--json=maybe", "user", "list"}} {
		if _, _, _, _, err := parseCommandLine(bad, env); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestIAMCommands(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "p.json")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	if err := os.WriteFile(policyFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	docJSON, _ := json.Marshal(doc)
	p := adminapi.PathPrefix
	for _, tc := range []struct {
		args  []string
		reply string
		call  string   // the request stratactl must make
		out   []string // what its human output must contain
	}{
		{[]string{"user", "create", "bob", "--secret-key", "bob-secret-1", "--account", "proj"},
			`{"user":{"access_key":"bob","account":"proj"},"secret_key":"bob-secret-1"}`,
			`POST ` + p + `users {"name":"bob","secret_key":"bob-secret-1","account":"proj"}`,
			[]string{"Access key:", "bob", "Secret key:", "bob-secret-1", "proj", "shown only now"}},
		{[]string{"user", "create", "carol"},
			`{"user":{"access_key":"carol","account":"default"},"secret_key":"GENERATEDSECRET"}`,
			`POST ` + p + `users {"name":"carol"}`,
			[]string{"GENERATEDSECRET"}},
		{[]string{"user", "list"},
			`{"users":[{"access_key":"bob","account":"proj","disabled":true,"policies":["readonly"],"groups":["g1","g2"],"service_accounts":3}]}`,
			`GET ` + p + `users`,
			[]string{"ACCESS KEY", "bob", "proj", "disabled", "readonly", "g1,g2", "3"}},
		{[]string{"user", "show", "a+b"}, `{"access_key":"a+b","account":"default","created":"2026-01-02T03:04:05Z"}`,
			`GET ` + p + `users/a%2Bb`, []string{"a+b", "enabled", "2026-01-02T03:04:05Z"}},
		{[]string{"user", "remove", "bob"}, ``, `DELETE ` + p + `users/bob`, []string{"User bob removed."}},
		{[]string{"user", "disable", "bob"}, `{"access_key":"bob","disabled":true}`, `POST ` + p + `users/bob/disable`, []string{"disabled"}},
		{[]string{"user", "enable", "bob"}, `{"access_key":"bob"}`, `POST ` + p + `users/bob/enable`, []string{"enabled"}},
		{[]string{"account", "create", "proj"}, `{"name":"proj","users":[]}`, `POST ` + p + `accounts {"name":"proj"}`, []string{"proj"}},
		{[]string{"account", "list"}, `{"accounts":[{"name":"default","default":true,"users":["a","b"]}]}`, `GET ` + p + `accounts`, []string{"ACCOUNT", "default", "2"}},
		{[]string{"account", "show", "proj"}, `{"name":"proj","users":["bob"]}`, `GET ` + p + `accounts/proj`, []string{"proj", "bob"}},
		{[]string{"account", "remove", "proj"}, ``, `DELETE ` + p + `accounts/proj`, []string{"Account proj removed."}},
		{[]string{"group", "create", "staff"}, `{"name":"staff","members":[],"policies":[]}`, `POST ` + p + `groups {"name":"staff"}`, []string{"staff"}},
		{[]string{"group", "list"}, `{"groups":[{"name":"staff","members":["bob"],"policies":["p1"]}]}`, `GET ` + p + `groups`, []string{"GROUP", "staff", "bob", "p1"}},
		{[]string{"group", "show", "staff"}, `{"name":"staff","members":["bob"],"policies":[]}`, `GET ` + p + `groups/staff`, []string{"bob"}},
		{[]string{"group", "remove", "staff"}, ``, `DELETE ` + p + `groups/staff`, []string{"Group staff removed."}},
		{[]string{"group", "add-user", "staff", "bob"}, `{"name":"staff","members":["bob"]}`, `POST ` + p + `groups/staff/members {"user":"bob"}`, []string{"bob"}},
		{[]string{"group", "remove-user", "staff", "bob"}, `{"name":"staff","members":[]}`, `DELETE ` + p + `groups/staff/members/bob`, []string{"staff"}},
		{[]string{"policy", "list"}, `{"policies":[{"name":"readonly","predefined":true,"users":[],"groups":[]},{"name":"p1","users":["bob"],"groups":[]}]}`,
			`GET ` + p + `policies`, []string{"readonly", "predefined", "p1", "managed", "bob"}},
		{[]string{"policy", "show", "p1"}, `{"name":"p1","document":` + doc + `}`, `GET ` + p + `policies/p1`, []string{"\"Version\": \"2012-10-17\"", "\"Statement\": ["}},
		{[]string{"policy", "create", "p1", policyFile}, `{"name":"p1"}`, `PUT ` + p + `policies/p1 {"document":` + string(docJSON) + `}`, []string{"Policy p1 saved."}},
		{[]string{"policy", "remove", "p1"}, ``, `DELETE ` + p + `policies/p1`, []string{"Policy p1 removed."}},
		{[]string{"policy", "attach", "readonly", "--user", "bob"}, ``, `POST ` + p + `policies/readonly/attach {"user":"bob"}`, []string{"Policy readonly attached to user bob."}},
		{[]string{"policy", "detach", "readonly", "--group", "staff"}, ``, `POST ` + p + `policies/readonly/detach {"group":"staff"}`, []string{"Policy readonly detached from group staff."}},
		{[]string{"service-account", "create", "--name", "rclone", "--policy-file", policyFile},
			`{"service_account":{"access_key":"SVCKEY","name":"rclone","parent":"ROOTAK","policy":` + doc + `},"secret_key":"SVCSECRET"}`,
			`POST ` + p + `service-accounts {"name":"rclone","policy":` + string(docJSON) + `}`,
			[]string{"SVCKEY", "SVCSECRET", "rclone", "own policy", "shown only now"}},
		{[]string{"service-account", "list"}, `{"service_accounts":[{"access_key":"SVCKEY","name":"rclone","parent":"u"}]}`,
			`GET ` + p + `service-accounts`, []string{"SVCKEY", "rclone", "parent's"}},
		{[]string{"service-account", "remove", "SVCKEY"}, ``, `DELETE ` + p + `service-accounts/SVCKEY`, []string{"Service account SVCKEY removed."}},
	} {
		name := strings.Join(tc.args, " ")
		t.Run(name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				f, env := startFake(t)
				f.reply = tc.reply
				if tc.reply == "" {
					f.status = http.StatusNoContent
				}
				args := tc.args
				if asJSON {
					args = append([]string{"--json"}, args...)
				}
				var out bytes.Buffer
				if err := run(args, env, &out); err != nil {
					t.Fatalf("json=%v: %v", asJSON, err)
				}
				if len(f.calls) != 1 || f.calls[0] != tc.call {
					t.Fatalf("calls %q\nwant %q", f.calls, tc.call)
				}
				if asJSON {
					var v any
					if err := json.Unmarshal(out.Bytes(), &v); err != nil {
						t.Fatalf("--json output is not JSON: %v\n%s", err, out.String())
					}
					continue
				}
				for _, want := range tc.out {
					if !strings.Contains(out.String(), want) {
						t.Fatalf("output lacks %q:\n%s", want, out.String())
					}
				}
			}
		})
	}
}

func TestIAMCommandErrors(t *testing.T) {
	f, env := startFake(t)
	for _, args := range [][]string{
		{"user"},
		{"user", "frobnicate"},
		{"user", "create"},
		{"user", "show", "a", "b"},
		{"group", "add-user", "staff"},
		{"policy", "create", "p1"},
		{"policy", "create", "p1", "/no/such/file.json"},
		{"policy", "attach", "readonly"},
		{"policy", "attach", "readonly", "--user", "u", "--group", "g"},
		{"service-account", "create", "--policy-file", "/no/such/file.json"},
		{"service-account", "remove"},
	} {
		if err := run(args, env, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("bad usage reached the server: %q", f.calls)
	}
	// The server's error comes back with its code.
	f.status, f.reply = http.StatusConflict, `{"code":"UserExists","message":"The access key \"bob\" is taken."}`
	err := run([]string{"user", "create", "bob"}, env, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "UserExists") {
		t.Fatalf("server error: %v", err)
	}
	// Without credentials nothing is sent.
	if err := run([]string{"user", "list"}, noenv, io.Discard); err == nil {
		t.Fatal("no credentials accepted")
	}
}
