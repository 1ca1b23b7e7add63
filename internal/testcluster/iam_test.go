package testcluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/strata-io/strata/adminapi"
)

// movableClock is real time plus an offset, shared by every node.
type movableClock struct{ offset atomic.Int64 }

func (c *movableClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// signedRequest signs a request with creds for service at time at.
func signedRequest(t testing.TB, method, url string, body []byte, creds aws.Credentials, service string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if service == "s3" {
		req.Header.Set("x-amz-content-sha256", hexSum(body))
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hexSum(body), service, "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

func roundTrip(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type stsCreds struct {
	AccessKeyID     string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
	SecretAccessKey string `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
	SessionToken    string `xml:"AssumeRoleResult>Credentials>SessionToken"`
	Expiration      string `xml:"AssumeRoleResult>Credentials>Expiration"`
}

// assumeRole calls AssumeRole on endpoint at the clock's time.
func assumeRole(t testing.TB, endpoint string, creds aws.Credentials, form url.Values, at time.Time) stsCreds {
	t.Helper()
	body := []byte(form.Encode())
	code, out := roundTrip(t, signedRequest(t, "POST", endpoint+"/", body, creds, "sts", at))
	if code != 200 {
		t.Fatalf("AssumeRole: %d %s", code, out)
	}
	var c stsCreds
	if err := xml.Unmarshal([]byte(out), &c); err != nil || c.SessionToken == "" {
		t.Fatalf("AssumeRole response: %v %s", err, out)
	}
	return c
}

// TestSessionExpiryAcrossNodes: credentials minted on one node work on
// every node (nothing was written to Raft) until exactly their expiry, on
// the nodes' clock, and not a second later; no sleeping.
func TestSessionExpiryAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	clock := &movableClock{}
	c := Start(t, Options{Nodes: 3, EC: "2+1", Now: clock.Now})
	ctx := t.Context()
	admin := &adminapi.Client{Endpoint: c.Endpoint(0), AccessKey: RootAccessKey, SecretKey: RootSecretKey}
	if _, err := admin.CreateUser(ctx, adminapi.CreateUserRequest{Name: "sess", SecretKey: "sess-secret-key-123"}); err != nil {
		t.Fatal(err)
	}
	if err := admin.AttachPolicy(ctx, "readwrite", adminapi.AttachRequest{User: "sess"}); err != nil {
		t.Fatal(err)
	}
	root := aws.Credentials{AccessKeyID: RootAccessKey, SecretAccessKey: RootSecretKey}
	if code, out := roundTrip(t, signedRequest(t, "PUT", c.Endpoint(1)+"/exp", nil, root, "s3", clock.Now())); code != 200 {
		t.Fatalf("create bucket: %d %s", code, out)
	}

	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::x:role/r"},
		"RoleSessionName": {"expiry"}, "DurationSeconds": {"900"}}
	sc := assumeRole(t, c.Endpoint(0), aws.Credentials{AccessKeyID: "sess", SecretAccessKey: "sess-secret-key-123"}, form, clock.Now())
	exp, err := time.Parse(time.RFC3339, sc.Expiration)
	if err != nil {
		t.Fatal(err)
	}
	session := aws.Credentials{AccessKeyID: sc.AccessKeyID, SecretAccessKey: sc.SecretAccessKey, SessionToken: sc.SessionToken}
	put := func(node int, key string) (int, string) {
		return roundTrip(t, signedRequest(t, "PUT", c.Endpoint(node)+"/exp/"+key, []byte("v"), session, "s3", clock.Now()))
	}
	for i := range c.N() {
		if code, out := put(i, "k"); code != 200 {
			t.Fatalf("node %d: session put: %d %s", i, code, out)
		}
	}
	clock.offset.Add(int64(exp.Sub(clock.Now()) - time.Second))
	for i := range c.N() {
		if code, out := put(i, "k"); code != 200 {
			t.Errorf("node %d: a second before expiry: %d %s", i, code, out)
		}
	}
	clock.offset.Add(int64(time.Second))
	for i := range c.N() {
		if code, out := put(i, "k"); code != 400 || !strings.Contains(out, "<Code>ExpiredToken</Code>") {
			t.Errorf("node %d: at expiry: %d %s", i, code, out)
		}
	}
}

// BenchmarkAssumeRoleNode measures AssumeRole calls per second on one
// in-process node (HTTP, SigV4 verification, minting; no Raft write).
func BenchmarkAssumeRoleNode(b *testing.B) {
	c := Start(b, Options{Nodes: 1, EC: "1+0", DrivesPerNode: 1})
	admin := &adminapi.Client{Endpoint: c.Endpoint(0), AccessKey: RootAccessKey, SecretKey: RootSecretKey}
	if _, err := admin.CreateUser(b.Context(), adminapi.CreateUserRequest{Name: "bench", SecretKey: "bench-secret-key-123"}); err != nil {
		b.Fatal(err)
	}
	if err := admin.AttachPolicy(b.Context(), "readwrite", adminapi.AttachRequest{User: "bench"}); err != nil {
		b.Fatal(err)
	}
	form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::x:role/r"},
		"RoleSessionName": {"bench"}, "DurationSeconds": {"900"}}
	body := []byte(form.Encode())
	creds := aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "bench-secret-key-123"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(signedRequest(b, "POST", c.Endpoint(0)+"/", body, creds, "sts", time.Now()))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
