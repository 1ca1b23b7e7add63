package testcluster_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/adminapi"
	"github.com/strata-io/strata/internal/testcluster"
)

// TestPresignedURLs: URLs made by adminapi.Presign (what `stratactl
// presign` prints) work with a plain HTTP client, for the signed method
// only, and not once expired or tampered with.
func TestPresignedURLs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	cl := testcluster.Start(t, testcluster.Options{Nodes: 3, EC: "2+1"})
	mustCreateBucket(t, cl.S3Client(0), "presigned")
	ctx := context.Background()
	c := &adminapi.Client{Endpoint: cl.Endpoint(1), AccessKey: testcluster.RootAccessKey, SecretKey: testcluster.RootSecretKey}
	key := "dir/with space+plus/ü.txt"
	data := payload(300<<10, 7)

	do := func(method, url string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == nil {
			req.Body = nil
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	put, err := c.Presign(ctx, http.MethodPut, "presigned", key, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, b := do(http.MethodPut, put, data); st != 200 {
		t.Fatalf("presigned PUT: %d %s", st, b)
	}
	getURL, err := c.Presign(ctx, http.MethodGet, "presigned", key, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, b := do(http.MethodGet, getURL, nil); st != 200 || !bytes.Equal(b, data) {
		t.Fatalf("presigned GET: %d, %d bytes", st, len(b))
	}
	// The GET URL does not allow a PUT or DELETE.
	if st, b := do(http.MethodPut, getURL, []byte("overwrite")); st != 403 || !strings.Contains(string(b), "SignatureDoesNotMatch") {
		t.Fatalf("PUT with a GET URL: %d %s", st, b)
	}
	if st, b := do(http.MethodDelete, getURL, nil); st != 403 {
		t.Fatalf("DELETE with a GET URL: %d %s", st, b)
	}
	// Tampered: another key with the same signature.
	if st, b := do(http.MethodGet, strings.Replace(getURL, "/presigned/dir/", "/presigned/dix/", 1), nil); st != 403 || !strings.Contains(string(b), "SignatureDoesNotMatch") {
		t.Fatalf("tampered URL: %d %s", st, b)
	}
	// Expired: signed two hours ago, valid for one.
	old, err := c.Presign(ctx, http.MethodGet, "presigned", key, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st, b := do(http.MethodGet, old, nil); st != 403 || !strings.Contains(string(b), "AccessDenied") || !strings.Contains(string(b), "expired") {
		t.Fatalf("expired URL: %d %s", st, b)
	}
	// Still there, unchanged.
	if got := get(t, cl.S3Client(2), "presigned", key, ""); !bytes.Equal(got, data) {
		t.Fatal("object changed by refused requests")
	}
	del, err := c.Presign(ctx, http.MethodDelete, "presigned", key, time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st, b := do(http.MethodDelete, del, nil); st != 204 {
		t.Fatalf("presigned DELETE: %d %s", st, b)
	}
	if st, _ := do(http.MethodGet, getURL, nil); st != 404 {
		t.Fatalf("GET after presigned DELETE: %d", st)
	}
}
