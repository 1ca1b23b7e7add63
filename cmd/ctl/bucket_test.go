package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-io/strata/adminapi"
)

func TestBucketCommands(t *testing.T) {
	p := adminapi.PathPrefix
	const photos = `{"name":"photos","owner":"alice","created":"2026-01-02T03:04:05Z","objects":3,"usage_bytes":1610612736,"quota_bytes":2000000000000}`
	const alice = `{"access_key":"alice","account":"default","disabled":false,"policies":[],"groups":[],"service_accounts":0,"created":"2026-01-02T03:04:05Z","buckets":2,"usage_bytes":5368709120,"objects":7,"quota_bytes":549755813888}`
	for _, tc := range []struct {
		args  []string
		reply string
		call  string
		out   []string
	}{
		{[]string{"bucket", "create", "photos", "--owner", "alice", "--quota", "2TB"}, photos,
			`POST ` + p + `buckets {"name":"photos","owner":"alice","quota_bytes":2000000000000}`, []string{"photos", "alice", "1.5 GiB (1610612736 bytes)", "1.8 TiB (0% used)"}},
		{[]string{"bucket", "create", "plain"}, `{"name":"plain","owner":"ROOTAK"}`,
			`POST ` + p + `buckets {"name":"plain"}`, []string{"plain", "ROOTAK", "Quota:", "-"}},
		{[]string{"bucket", "list"}, `{"buckets":[` + photos + `,{"name":"tmp","owner":"bob","objects":0,"usage_bytes":0}]}`,
			`GET ` + p + `buckets`, []string{"BUCKET", "OWNER", "CREATED", "OBJECTS", "USAGE", "QUOTA", "photos", "alice", "2026-01-02T03:04:05Z", "1.5 GiB", "1.8 TiB (0% used)", "tmp", "0 B"}},
		{[]string{"bucket", "show", "photos"}, photos, `GET ` + p + `buckets/photos`, []string{"Objects:", "3"}},
		{[]string{"bucket", "remove", "photos"}, ``, `DELETE ` + p + `buckets/photos`, []string{"Bucket photos removed."}},
		{[]string{"bucket", "quota", "set", "photos", "500GiB"}, photos,
			`PUT ` + p + `buckets/photos/quota {"bytes":536870912000}`, []string{"photos"}},
		{[]string{"bucket", "quota", "clear", "photos"}, photos, `DELETE ` + p + `buckets/photos/quota`, []string{"photos"}},
		{[]string{"user", "quota", "set", "alice", "512GiB"}, alice,
			`PUT ` + p + `users/alice/quota {"bytes":549755813888}`, []string{"alice", "Buckets:", "5 GiB (5368709120 bytes)", "512 GiB (1% used)"}},
		{[]string{"user", "quota", "clear", "alice"}, alice, `DELETE ` + p + `users/alice/quota`, []string{"Usage:"}},
		{[]string{"user", "show", "alice"}, alice, `GET ` + p + `users/alice`, []string{"Usage:", "5 GiB", "Quota:", "512 GiB"}},
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
	}
	// --json prints the answer.
	f, env := startFake(t)
	f.reply = photos
	var out bytes.Buffer
	if err := run([]string{"--json", "bucket", "show", "photos"}, env, &out); err != nil || !strings.Contains(out.String(), `"usage_bytes": 1610612736`) {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
	f, env = startFake(t)
	for _, bad := range [][]string{{"bucket"}, {"bucket", "create"}, {"bucket", "list", "x"}, {"bucket", "quota", "set", "b"},
		{"bucket", "quota", "set", "b", "lots"}, {"bucket", "quota", "set", "b", "0"}, {"bucket", "quota"}, {"bucket", "quota", "clear"},
		{"bucket", "create", "b", "--quota", "-1GB"}, {"user", "quota", "set", "alice"}, {"user", "quota", "set", "alice", "2 XB"},
		{"user", "quota", "drop", "alice"}, {"bucket", "rename", "a", "b"}} {
		if err := run(bad, env, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("bad usage reached the server: %q", f.calls)
	}
}
