package audit

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a real HTTP audit target: it answers 503 to its first
// failFirst requests, then records the events of every batch.
type receiver struct {
	t         *testing.T
	failFirst atomic.Int32
	token     string

	mu     sync.Mutex
	events []Event
	posts  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rc.failFirst.Add(-1) >= 0 {
		http.Error(w, "not yet", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("Authorization") != "Bearer "+rc.token {
		rc.t.Errorf("request %s, content type %q, authorization %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
	}
	body, _ := io.ReadAll(r.Body)
	var batch []Event
	if err := json.Unmarshal(body, &batch); err != nil {
		rc.t.Errorf("body is not a JSON array of events: %v: %s", err, body)
	}
	rc.mu.Lock()
	rc.events = append(rc.events, batch...)
	rc.posts++
	rc.mu.Unlock()
}

func (rc *receiver) received() []Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Event(nil), rc.events...)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestLoggerWebhookAndFile runs a Logger against a real HTTP receiver that
// fails twice before it accepts, with a local file too: every event
// arrives once at each, in order, with its fields; a removed webhook gets
// no more events.
func TestLoggerWebhookAndFile(t *testing.T) {
	rc := &receiver{t: t, token: "s3cr3t-token"}
	rc.failFirst.Store(2)
	srv := httptest.NewServer(rc)
	defer srv.Close()

	var gen atomic.Uint64
	var targets atomic.Pointer[[]Target]
	setTargets := func(ts ...Target) { targets.Store(&ts); gen.Add(1) }
	setTargets(Target{URL: srv.URL + "/audit", Token: rc.token})
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := New(Config{Node: "n7", File: path,
		Queue:      QueueConfig{BatchSize: 4, FlushInterval: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond},
		Targets:    func() []Target { return *targets.Load() },
		Generation: gen.Load,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 10 {
		l.Log(&Event{Time: start, RequestID: string(rune('A' + i)), API: "PutObject", Method: "PUT", Bucket: "b", Key: "k",
			AccessKey: "AK", SourceIP: "127.0.0.1", Status: 200, BytesIn: int64(i), Duration: time.Millisecond})
	}
	waitFor(t, "10 events at the webhook", func() bool { return len(rc.received()) >= 10 })
	got := rc.received()
	for i, ev := range got {
		want := Event{Version: EventVersion, Time: start, Node: "n7", RequestID: string(rune('A' + i)), API: "PutObject", Method: "PUT",
			Bucket: "b", Key: "k", AccessKey: "AK", SourceIP: "127.0.0.1", Status: 200, BytesIn: int64(i), Duration: time.Millisecond}
		if ev != want {
			t.Fatalf("event %d: %+v, want %+v", i, ev, want)
		}
	}
	var st TargetStats
	for _, s := range l.Stats() {
		if s.Target == srv.URL+"/audit" {
			st = s
		}
	}
	if st.Sent != 10 || st.Retries != 2 || st.Dropped != 0 {
		t.Fatalf("webhook stats %+v", st)
	}

	// Removed: later events go to the file only.
	setTargets()
	l.Log(&Event{RequestID: "after"})
	l.Close()
	if n := len(rc.received()); n != 10 {
		t.Fatalf("%d events at a removed webhook", n)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, ev)
	}
	if len(lines) != 11 || lines[0].RequestID != "A" || lines[10].RequestID != "after" || lines[10].Node != "n7" {
		t.Fatalf("file has %d events: %+v", len(lines), lines)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit file mode %v", fi.Mode())
	}
}
