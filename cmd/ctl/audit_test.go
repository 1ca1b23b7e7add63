package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-io/strata/adminapi"
)

func TestAuditCommands(t *testing.T) {
	p := adminapi.PathPrefix
	const u = "https://siem.example.org/in?x=1"
	for _, tc := range []struct {
		args  []string
		reply string
		call  string
		out   []string
	}{
		{[]string{"audit", "webhook", "set", u, "--token", "s3cr3t"}, `{"url":"` + u + `","has_token":true,"created":"2026-01-02T03:04:05Z"}`,
			`POST ` + p + `audit/webhooks {"url":"` + u + `","token":"s3cr3t"}`, []string{u, "never shown", "2026-01-02T03:04:05Z"}},
		{[]string{"audit", "webhook", "set", u}, `{"url":"` + u + `","has_token":false}`,
			`POST ` + p + `audit/webhooks {"url":"` + u + `"}`, []string{"none"}},
		{[]string{"audit", "webhook", "list"}, `{"webhooks":[{"url":"` + u + `","has_token":true}]}`,
			`GET ` + p + `audit/webhooks`, []string{"URL", "TOKEN", u, "yes"}},
		{[]string{"audit", "webhook", "remove", u}, ``,
			`DELETE ` + p + `audit/webhooks/https%3A%2F%2Fsiem.example.org%2Fin%3Fx%3D1`, []string{"Audit webhook " + u + " removed."}},
	} {
		f, env := startFake(t)
		f.reply = tc.reply
		if tc.reply == "" {
			f.status = http.StatusNoContent
		}
		var out bytes.Buffer
		if err := run(tc.args, env, &out); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if len(f.calls) != 1 || f.calls[0] != tc.call {
			t.Fatalf("%v: calls %q\nwant %q", tc.args, f.calls, tc.call)
		}
		for _, want := range tc.out {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("%v: output lacks %q:\n%s", tc.args, want, out.String())
			}
		}
		if strings.Contains(out.String(), "s3cr3t") {
			t.Fatalf("the token was printed:\n%s", out.String())
		}
	}
	f, env := startFake(t)
	for _, bad := range [][]string{{"audit"}, {"audit", "webhook"}, {"audit", "webhook", "set"}, {"audit", "webhook", "list", "x"},
		{"audit", "webhook", "remove", u, "--token", "t"}, {"audit", "hook", "list"}} {
		if err := run(bad, env, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("bad usage reached the server: %q", f.calls)
	}
}
