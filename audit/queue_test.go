package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSender records the batches it is handed; it fails while failFirst
// attempts remain, and blocks while gate is non-nil and open.
type fakeSender struct {
	mu        sync.Mutex
	failFirst int
	gate      chan struct{}
	attempts  []time.Time
	batches   [][]string
}

func (f *fakeSender) Send(ctx context.Context, batch [][]byte) error {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, time.Now())
	if f.failFirst > 0 {
		f.failFirst--
		return errors.New("receiver down")
	}
	var b []string
	for _, ev := range batch {
		b = append(b, string(ev))
	}
	f.batches = append(f.batches, b)
	return nil
}

// seen returns copies of the attempts' times and the batches delivered.
func (f *fakeSender) seen() ([]time.Time, [][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.attempts...), append([][]string(nil), f.batches...)
}

func (f *fakeSender) delivered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

func closeNow(q *Queue) { q.Close(context.Background()) }

// TestQueueBounded: with the sender stuck, the queue holds Size events
// and drops (and counts) the rest without blocking; once the sender moves
// again everything queued is delivered in order.
func TestQueueBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{gate: make(chan struct{})}
		q := NewQueue("test", QueueConfig{Size: 3, BatchSize: 1}, s, nil)
		defer closeNow(q)
		if !q.Add([]byte("e0")) {
			t.Fatal("first event refused")
		}
		synctest.Wait() // e0 is taken by the sender, which blocks
		for i := 1; i <= 3; i++ {
			if !q.Add(fmt.Appendf(nil, "e%d", i)) {
				t.Fatalf("event %d refused with room left", i)
			}
		}
		for i := 4; i < 10; i++ {
			if q.Add(fmt.Appendf(nil, "e%d", i)) {
				t.Fatalf("event %d accepted by a full queue", i)
			}
		}
		if st := q.Stats(); st.Dropped != 6 || st.Queued != 3 || st.Sent != 0 {
			t.Fatalf("stats while stuck: %+v", st)
		}
		close(s.gate)
		synctest.Wait()
		if got := s.delivered(); fmt.Sprint(got) != "[e0 e1 e2 e3]" {
			t.Fatalf("delivered %v", got)
		}
		if st := q.Stats(); st.Dropped != 6 || st.Queued != 0 || st.Sent != 4 {
			t.Fatalf("stats after: %+v", st)
		}
	})
}

// TestQueueBackoff: a batch that fails is sent again after 100 ms, 200 ms,
// 400 ms (doubling from MinBackoff), then arrives once.
func TestQueueBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{failFirst: 3}
		q := NewQueue("test", QueueConfig{BatchSize: 2, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}, s, nil)
		defer closeNow(q)
		q.Add([]byte("a"))
		q.Add([]byte("b"))
		time.Sleep(10 * time.Second)
		synctest.Wait()
		attempts, _ := s.seen()
		if len(attempts) != 4 {
			t.Fatalf("%d attempts, want 4", len(attempts))
		}
		for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond} {
			if got := attempts[i+1].Sub(attempts[i]); got != want {
				t.Errorf("pause before attempt %d: %v, want %v", i+2, got, want)
			}
		}
		if got := s.delivered(); fmt.Sprint(got) != "[a b]" {
			t.Fatalf("delivered %v", got)
		}
		if st := q.Stats(); st.Sent != 2 || st.Retries != 3 || st.Dropped != 0 || st.Failed != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestQueueGivesUp: a batch that fails MaxAttempts times is dropped and
// counted; the pauses stop growing at MaxBackoff; the next batch is tried
// afresh.
func TestQueueGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{failFirst: 5}
		q := NewQueue("test", QueueConfig{BatchSize: 1, MinBackoff: time.Second, MaxBackoff: 2 * time.Second, MaxAttempts: 4}, s, nil)
		defer closeNow(q)
		q.Add([]byte("lost"))
		time.Sleep(time.Minute)
		synctest.Wait()
		if attempts, _ := s.seen(); len(attempts) != 4 || attempts[3].Sub(attempts[2]) != 2*time.Second {
			t.Fatalf("attempts at %v", attempts)
		}
		if st := q.Stats(); st.Failed != 1 || st.Dropped != 1 || st.Sent != 0 || st.Retries != 3 {
			t.Fatalf("stats %+v", st)
		}
		q.Add([]byte("kept")) // fails once more, then arrives
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := s.delivered(); fmt.Sprint(got) != "[kept]" {
			t.Fatalf("delivered %v", got)
		}
	})
}

// TestQueueBatches: full batches leave at once, a partial one after
// FlushInterval; Close delivers what is still queued.
func TestQueueBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeSender{}
		q := NewQueue("test", QueueConfig{BatchSize: 10, FlushInterval: time.Second}, s, nil)
		for i := range 25 {
			q.Add(fmt.Appendf(nil, "%d", i))
		}
		synctest.Wait()
		if _, batches := s.seen(); len(batches) != 2 {
			t.Fatalf("%d batches before the flush interval, want 2", len(batches))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if _, batches := s.seen(); len(batches) != 3 || len(batches[2]) != 5 {
			t.Fatalf("batches after the flush interval: %v", batches)
		}
		q.Add([]byte("last"))
		closeNow(q)
		if got := s.delivered(); len(got) != 26 || got[25] != "last" {
			t.Fatalf("delivered %v", got)
		}
	})
}
