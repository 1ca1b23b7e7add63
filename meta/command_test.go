package meta_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-io/strata/meta"
	"github.com/strata-io/strata/meta/metatest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleCommands has one command of every kind, with every field set. The
// values are literal so that the golden bytes change only with the wire format.
func sampleCommands() map[string]meta.Command {
	return map[string]meta.Command{
		"bootstrap": meta.Bootstrap{
			Cluster: meta.Cluster{ID: "c0ffee00-0000-4000-8000-000000000001", K: 2, M: 1, PGCount: 4, BlockSize: 1 << 20, InlineMax: 128 << 10, Created: 1700000000000000000, Expect: 3},
			Root:    meta.User{AccessKey: "ROOTACCESSKEY", SecretSealed: []byte("sealed"), Name: "root", Root: true, Created: 1700000000000000000},
		},
		"node_up": meta.NodeUp{Node: meta.Node{
			ID: "n1", RPCAddr: "10.0.0.1:9100", S3Addr: "10.0.0.1:9000", State: meta.StateUp, Joined: 1700000000000000001,
			Drives: []*meta.Drive{
				{ID: "d-1", NodeID: "n1", Path: "/mnt/nvme0", State: meta.StateUp},
				{ID: "d-2", NodeID: "n1", Path: "/mnt/nvme1", State: meta.StateDraining},
			},
		}},
		"set_placement":         meta.SetPlacement{Placement: meta.Placement{Epoch: 1, PGs: [][]string{{"d-1", "d-3", "d-5"}, {"d-4", "d-2", "d-6"}}}},
		"create_bucket":         meta.CreateBucket{Bucket: meta.Bucket{Name: "photos", Owner: "ROOTACCESSKEY", Created: 1700000000000000002, Region: "us-east-1"}},
		"delete_bucket":         meta.DeleteBucket{Name: "photos"},
		"put_user":              meta.PutUser{User: meta.User{AccessKey: "AKIAEXAMPLE", SecretSealed: []byte{1, 2, 3, 4}, Name: "alice", Disabled: true, Created: 1700000000000000003}},
		"set_bucket_versioning": meta.SetBucketVersioning{Name: "photos", Versioning: meta.VersioningSuspended},
		"delete_user":           meta.DeleteUser{AccessKey: "alice"},
		"put_account":           meta.PutAccount{Account: meta.Account{Name: "genomics", Created: 1700000000000000004}},
		"delete_account":        meta.DeleteAccount{Name: "genomics"},
		"put_group":             meta.PutGroup{Group: meta.Group{Name: "staff", Members: []string{"alice", "bob"}, Policies: []string{"readonly"}, Created: 1700000000000000005}},
		"delete_group":          meta.DeleteGroup{Name: "staff"},
		"put_policy": meta.PutPolicy{Policy: meta.Policy{Name: "photos-read", Created: 1700000000000000006, Updated: 1700000000000000007,
			Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}]}`)}},
		"delete_policy":     meta.DeletePolicy{Name: "photos-read"},
		"attach_policy":     meta.AttachPolicy{Policy: "readonly", User: "alice", Group: "staff"},
		"detach_policy":     meta.DetachPolicy{Policy: "readonly", User: "alice", Group: "staff"},
		"set_bucket_policy": meta.SetBucketPolicy{Bucket: "photos", Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}]}`)},
		"set_bucket_acl":    meta.SetBucketACL{Bucket: "photos", ACL: "public-read"},
		"set_bucket_cors": meta.SetBucketCORS{Bucket: "photos", Rules: []meta.CORSRule{
			{ID: "uploads", AllowedOrigins: []string{"https://app.example.org", "https://*.example.net"}, AllowedMethods: []string{"PUT", "POST"},
				AllowedHeaders: []string{"x-amz-*", "content-type"}, ExposeHeaders: []string{"ETag", "x-amz-version-id"}, MaxAgeSeconds: new(int64(3000))},
			{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
		}},
		"pg_moved":       meta.PGMoved{Epoch: 7, PGs: []int{3, 1024}},
		"set_node_state": meta.SetNodeState{ID: "n4", State: meta.StateDraining},
		"set_audit_webhook": meta.SetAuditWebhook{Webhook: meta.AuditWebhook{URL: "https://siem.example.org/strata?src=a",
			TokenSealed: []byte{7, 7, 7}, Created: 1700000000000000010}},
		"delete_audit_webhook": meta.DeleteAuditWebhook{URL: "https://siem.example.org/strata?src=a"},
		"set_bucket_quota":     meta.SetBucketQuota{Bucket: "photos", Bytes: 2_000_000_000_000},
		"set_user_quota":       meta.SetUserQuota{AccessKey: "alice", Bytes: 500 << 30},
		"add_usage": meta.AddUsage{Node: "n2", Seq: 1700000000000000011, Changes: []meta.UsageChange{
			{Bucket: "photos", Created: 1700000000000000002, Epoch: 3, Bytes: 1 << 20, Objects: 2},
			{Bucket: "public", Created: 1700000000000000009, Bytes: -4096, Objects: -1},
		}},
		"begin_recount": meta.BeginRecount{Bucket: "photos", Created: 1700000000000000002, Epoch: 4, At: 1700000000000000012},
		"end_recount":   meta.EndRecount{Bucket: "photos", Created: 1700000000000000002, Epoch: 4, Bytes: 123456789, Objects: 42, At: 1700000000000000013},
		"set_bucket_lifecycle": meta.SetBucketLifecycle{Bucket: "photos", Rules: []meta.LifecycleRule{
			{ID: "tmp", Filter: meta.LifecycleFilter{Prefix: "tmp/", Tags: []meta.LifecycleTag{{Key: "class", Value: "scratch"}},
				SizeGreaterThan: new(int64(0)), SizeLessThan: new(int64(1 << 30))},
				Expiration: &meta.LifecycleExpiration{Days: new(30)}, NoncurrentExpiration: &meta.NoncurrentExpiration{Days: 7, NewerVersions: 3}},
			{ID: "legacy", Disabled: true, LegacyPrefix: true, Filter: meta.LifecycleFilter{Prefix: "old/"},
				Expiration: &meta.LifecycleExpiration{Date: "2030-01-01T00:00:00.000Z"}, AbortAfterDays: new(2)},
			{Expiration: &meta.LifecycleExpiration{ExpiredObjectDeleteMarker: true}},
		}},
		"create_bucket_iam": meta.CreateBucket{Bucket: meta.Bucket{Name: "public", Owner: "alice", Created: 1700000000000000009, Versioning: meta.VersioningEnabled,
			ACL: "public-read", Policy: []byte(`{"Version":"2012-10-17","Statement":[]}`)}},
		"put_user_iam": meta.PutUser{User: meta.User{AccessKey: "AKSERVICE", SecretSealed: []byte{5, 6}, Name: "rclone", Created: 1700000000000000008,
			Account: "genomics", Policies: []string{"readonly", "photos-read"}, Parent: "alice", SessionPolicy: []byte(`{"Version":"2012-10-17","Statement":[]}`)}},
	}
}

func TestCommandGolden(t *testing.T) {
	cmds := sampleCommands()
	for name, cmd := range cmds {
		t.Run(name, func(t *testing.T) {
			if kind, _, _ := strings.Cut(name, "_iam"); cmd.Kind().String() != kind {
				t.Fatalf("kind %v named %q", cmd.Kind(), name)
			}
			b, err := meta.Encode(cmd)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "commands", name+".golden")
			if *update {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("wire form changed:\n got %q\nwant %q", b, want)
			}
			// The golden bytes decode to the same command: old entries in
			// Raft logs keep their meaning.
			got, err := meta.Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, cmd) {
				t.Fatalf("decode(golden) = %#v, want %#v", got, cmd)
			}
		})
	}
	if len(cmds) != 31 { // 29 kinds; put_user and create_bucket also with their IAM fields
		t.Fatalf("a kind was added without a golden sample")
	}
}

func TestDecodeUnknownKind(t *testing.T) {
	_, err := meta.Decode([]byte{0x7f, 1, '{', '}'})
	if !errors.Is(err, meta.ErrUnknownKind) {
		t.Fatalf("unknown kind: %v", err)
	}
	raw := []byte{byte(0x7f | meta.KindIgnoreIfUnknown), 3, '{', '"', 'x', '"', ':', '1', '}'}
	cmd, err := meta.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	sk, ok := cmd.(meta.Skipped)
	if !ok || sk.RawKind != 0xff || sk.Version != 3 {
		t.Fatalf("got %#v", cmd)
	}
	again, err := meta.Encode(sk)
	if err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("re-encode: %q %v", again, err)
	}
	s := metatest.State(t, metatest.Options{})
	before := s.Clone()
	if err := s.Apply(sk); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, before) {
		t.Fatal("a skipped command changed the state")
	}
	if _, err := meta.Encode(meta.Skipped{RawKind: 0x7f}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("encode skipped without flag: %v", err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good, err := meta.Encode(meta.DeleteBucket{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"one byte":      {byte(meta.KindDeleteBucket)},
		"bad version":   append([]byte{good[0], 9}, good[2:]...),
		"unknown field": append([]byte{good[0], good[1]}, `{"name":"x","force":true}`...),
		"trailing":      append(append([]byte{}, good...), ` {}`...),
		"not json":      {byte(meta.KindPutUser), 1, 'x'},
		"truncated":     good[:len(good)-2],
	} {
		if _, err := meta.Decode(b); !errors.Is(err, meta.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

type alienCommand struct{}

func (alienCommand) Kind() meta.Kind { return 42 }

func TestEncodeUnknownType(t *testing.T) {
	if _, err := meta.Encode(alienCommand{}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	if err := meta.NewState().Apply(alienCommand{}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("apply: %v", err)
	}
}
