package s3api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-io/strata/audit"
)

// mountHandler answers what it was asked, streams a large answer, and
// panics on request.
func mountHandler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/console/echo", "/console":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
			http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, "%s %s q=%s host=%s cookie=%s len=%d/%d sum=%x", r.Method, r.URL.Path, r.URL.Query().Get("q"),
				r.Host, r.Header.Get("Cookie"), n, r.ContentLength, h.Sum(nil))
		case "/console/stream":
			size, _ := strconv.Atoi(r.URL.Query().Get("size"))
			w.Header().Set("Content-Length", strconv.Itoa(size))
			w.(http.Flusher).Flush()
			block := bytes.Repeat([]byte("0123456789abcdef"), 4096)
			for sent := 0; sent < size; sent += len(block) {
				if _, err := w.Write(block[:min(len(block), size-sent)]); err != nil {
					t.Errorf("stream write: %v", err)
					return
				}
			}
		case "/console/panic":
			panic("boom")
		default:
			http.NotFound(w, r)
		}
	})
}

func TestMount(t *testing.T) {
	var mu sync.Mutex
	var events []*audit.Event
	ts := startTestServerDeps(t, func(d *Deps) {
		d.Observe = func(e *audit.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	})
	if ts.reservedBucket("console") {
		t.Fatal("console reserved before anything is mounted")
	}
	ts.Mount("Console", "/console/", mountHandler(t))
	if !ts.reservedBucket("console") {
		t.Fatal("mounted prefix is not a reserved bucket name")
	}

	// A body of 3 MiB streams to the handler; headers, query, cookies and
	// status make it through both ways.
	data := make([]byte, 3<<20)
	rand.Read(data)
	sum := sha256.Sum256(data)
	req, _ := http.NewRequest(http.MethodPut, ts.url+"/console/echo?q=a%20b", bytes.NewReader(data))
	req.Header.Set("Cookie", "s=xyz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := fmt.Sprintf("PUT /console/echo q=a b host=%s cookie=s=xyz len=%d/%d sum=%s", ts.Addr(), len(data), len(data), hex.EncodeToString(sum[:]))
	if resp.StatusCode != http.StatusCreated || string(body) != want || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("echo: %d %q %v\nwant %q", resp.StatusCode, body, resp.Header, want)
	}
	if len(resp.Cookies()) != 2 || resp.Header.Get("x-amz-request-id") == "" {
		t.Errorf("echo: cookies %v, headers %v", resp.Cookies(), resp.Header)
	}

	// The prefix without its slash; GET without a body.
	resp, page := get(t, ts.url+"/console")
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(page, "GET /console q= ") || !strings.Contains(page, "len=0/0") {
		t.Errorf("/console: %d %q", resp.StatusCode, page)
	}

	// A large answer streams with its Content-Length.
	const size = 5<<20 + 123
	resp, page = get(t, ts.url+"/console/stream?size="+strconv.Itoa(size))
	if resp.StatusCode != 200 || len(page) != size || resp.ContentLength != size || page[size-1] != "0123456789abcdef"[(size-1)%16] {
		t.Errorf("stream: %d, %d bytes, length %d", resp.StatusCode, len(page), resp.ContentLength)
	}

	// A panic is an S3 InternalError; the server keeps serving.
	resp, page = get(t, ts.url+"/console/panic")
	if resp.StatusCode != 500 || !strings.Contains(page, "<Code>InternalError</Code>") {
		t.Errorf("panic: %d %q", resp.StatusCode, page)
	}

	// Other paths, and virtual-host requests for the name, are S3's.
	c := sdkClient(t, ts, testAccessKey, testSecretKey)
	_, err = c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("console")})
	wantCode(t, "create bucket console", err, "InvalidBucketName")
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("consoles")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("consoles"), Key: aws.String("page.html"),
		Body: strings.NewReader("<script>alert(1)</script>"), ContentType: aws.String("text/html")}); err != nil {
		t.Fatal(err)
	}
	// An object shares the mounted handler's origin: it is sandboxed.
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("consoles"), Key: aws.String("page.html")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	hreq, _ := http.NewRequest(http.MethodGet, ts.url+"/consoles/page.html", nil)
	presigned, err := s3.NewPresignClient(c).PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("consoles"), Key: aws.String("page.html")})
	if err != nil {
		t.Fatal(err)
	}
	hreq.URL, _ = hreq.URL.Parse(presigned.URL)
	hresp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	hresp.Body.Close()
	if hresp.StatusCode != 200 || hresp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("object GET next to a mount: %d, CSP %q", hresp.StatusCode, hresp.Header.Get("Content-Security-Policy"))
	}
	_, err = vhostClient(t, ts).HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: aws.String("console")})
	if httpStatus(err) != 404 {
		t.Errorf("virtual-host request for bucket console: %v (want 404 from S3)", err)
	}

	// A streamed answer is audited when fasthttp closes its stream.
	var apis map[string]int
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		apis = map[string]int{}
		for _, e := range events {
			apis[e.API]++
			if e.API == "Console" && (e.Bucket != "" || e.Key != "") {
				t.Errorf("console request audited with bucket %q key %q", e.Bucket, e.Key)
			}
		}
		mu.Unlock()
		if apis["Console"] >= 4 || time.Now().After(deadline) {
			break
		}
	}
	if apis["Console"] != 4 {
		t.Errorf("audited console requests: %v", apis)
	}
}

// TestMountPrefix refuses prefixes that are not one bucket-name segment.
func TestMountPrefix(t *testing.T) {
	ts := startTestServer(t)
	for _, p := range []string{"console/", "/console", "/a/b/", "/Console/", "/x/"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Mount(%q) accepted", p)
				}
			}()
			ts.Mount("X", p, http.NotFoundHandler())
		}()
	}
}
