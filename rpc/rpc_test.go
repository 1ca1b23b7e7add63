package rpc_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strata-io/strata/rpc"
)

var (
	testKey  = bytes.Repeat([]byte("k"), 32)
	otherKey = bytes.Repeat([]byte("x"), 32)
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTransport starts a transport on a free loopback port with handlers
// registered by setup, closed at cleanup.
func newTransport(t testing.TB, key []byte, setup func(*rpc.Transport)) *rpc.Transport {
	t.Helper()
	cfg := rpc.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.ClusterKey = key
	cfg.DialTimeout = 5 * time.Second
	tr, err := rpc.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(tr)
	}
	tr.Start()
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return tr
}

// gen returns n deterministic pseudo-random bytes for seed, as a plain
// streaming reader (not an io.WriterTo).
func gen(seed uint64, n int64) io.Reader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return io.LimitReader(mrand.NewChaCha8(s), n)
}

func sum(t testing.TB, r io.Reader) (sha [32]byte, n int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	copy(sha[:], h.Sum(nil))
	return sha, n
}

// dataHandlers registers:
//   - "upload": hashes the request body, answers sha256|len in the header
//   - "download": header = seed(8)|len(8); streams gen(seed, len)
//   - "echo": streams the request body back (full duplex)
//   - "hdr": returns the request header as the response header
func dataHandlers(tr *rpc.Transport) {
	tr.Handle("upload", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
		h := sha256.New()
		n, err := io.Copy(h, req.Body)
		if err != nil {
			return nil, nil, err
		}
		return binary.BigEndian.AppendUint64(h.Sum(nil), uint64(n)), nil, nil
	})
	tr.Handle("download", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
		if len(req.Header) != 16 {
			return nil, nil, &rpc.Error{Code: "bad_header", Message: "want 16 bytes"}
		}
		seed := binary.BigEndian.Uint64(req.Header)
		n := int64(binary.BigEndian.Uint64(req.Header[8:]))
		return nil, io.NopCloser(gen(seed, n)), nil
	})
	tr.Handle("echo", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
		return nil, io.NopCloser(req.Body), nil
	})
	tr.Handle("hdr", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
		return req.Header, nil, nil
	})
}

func upload(t testing.TB, cl *rpc.Transport, addr string, body io.Reader, wantSum [32]byte, wantN int64) {
	t.Helper()
	resp, err := cl.Call(context.Background(), addr, "upload", nil, body)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	if _, n := sum(t, resp.Body); n != 0 {
		t.Fatalf("upload: unexpected %d-byte response body", n)
	}
	if len(resp.Header) != 40 || !bytes.Equal(resp.Header[:32], wantSum[:]) || binary.BigEndian.Uint64(resp.Header[32:]) != uint64(wantN) {
		t.Fatalf("upload: server saw a different body (%x)", resp.Header)
	}
}

func download(t testing.TB, cl *rpc.Transport, addr string, seed uint64, n int64) {
	t.Helper()
	hdr := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, seed), uint64(n))
	resp, err := cl.Call(context.Background(), addr, "download", hdr, nil)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	got, gotN := sum(t, resp.Body)
	want, _ := sum(t, gen(seed, n))
	if gotN != n || got != want {
		t.Fatalf("download: got %d bytes %x, want %d bytes %x", gotN, got, n, want)
	}
}

func TestRoundTrip(t *testing.T) {
	srv := newTransport(t, testKey, dataHandlers)
	cl := newTransport(t, testKey, nil)
	for _, size := range []int64{0, 1, 1000, 1<<20 + 7, 64 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			want, _ := sum(t, gen(uint64(size), size))
			upload(t, cl, srv.Addr(), gen(uint64(size), size), want, size) // streaming reader
			if size <= 1<<20+7 {
				data, _ := io.ReadAll(gen(uint64(size), size))
				upload(t, cl, srv.Addr(), bytes.NewReader(data), want, size) // in-memory reader
			}
			download(t, cl, srv.Addr(), uint64(size), size)
		})
	}
	t.Run("nil body", func(t *testing.T) {
		want, _ := sum(t, strings.NewReader(""))
		upload(t, cl, srv.Addr(), nil, want, 0)
	})
	t.Run("header", func(t *testing.T) {
		hdr := bytes.Repeat([]byte("h"), 1<<20)
		resp, err := cl.Call(context.Background(), srv.Addr(), "hdr", hdr, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !bytes.Equal(resp.Header, hdr) {
			t.Fatal("header mismatch")
		}
		_, err = cl.Call(context.Background(), srv.Addr(), "hdr", append(hdr, 'x'), nil)
		if !errors.Is(err, rpc.ErrTooLarge) {
			t.Fatalf("oversized header: got %v, want ErrTooLarge", err)
		}
	})
}

func TestEchoFullDuplex(t *testing.T) {
	srv := newTransport(t, testKey, dataHandlers)
	cl := newTransport(t, testKey, nil)
	const n = 8 << 20
	resp, err := cl.Call(context.Background(), srv.Addr(), "echo", nil, gen(7, n))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, gotN := sum(t, resp.Body)
	want, _ := sum(t, gen(7, n))
	if got != want || gotN != n {
		t.Fatalf("echo: %d bytes, hash mismatch=%v", gotN, got != want)
	}
}

func TestConcurrentCalls(t *testing.T) {
	srv := newTransport(t, testKey, dataHandlers)
	cl := newTransport(t, testKey, nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			size := int64(i * 10007)
			want, _ := sum(t, gen(uint64(i), size))
			upload(t, cl, srv.Addr(), gen(uint64(i), size), want, size)
			download(t, cl, srv.Addr(), uint64(i), size)
		})
	}
	wg.Wait()
	if d := rpc.Dials(cl); d > 50 {
		t.Errorf("%d dials for 50 concurrent callers", d)
	}
}

func TestHandlerErrors(t *testing.T) {
	srv := newTransport(t, testKey, func(tr *rpc.Transport) {
		tr.Handle("typed", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return nil, nil, fmt.Errorf("wrapped: %w", &rpc.Error{Code: "no_such_shard", Message: "shard 3 missing"})
		})
		tr.Handle("plain", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return nil, nil, errors.New("disk on fire")
		})
		tr.Handle("panic", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			panic("boom")
		})
	})
	cl := newTransport(t, testKey, nil)
	cases := []struct {
		method, code, msg string
	}{
		{"typed", "no_such_shard", "shard 3 missing"},
		{"plain", rpc.CodeInternal, "disk on fire"},
		{"panic", rpc.CodeInternal, "handler panicked"},
		{"nope", rpc.CodeUnknownMethod, `no handler for method "nope"`},
	}
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			// A body is sent too: it must be drained and the connection kept.
			resp, err := cl.Call(context.Background(), srv.Addr(), c.method, []byte("h"), gen(1, 100<<10))
			if err == nil {
				resp.Body.Close()
				t.Fatal("want an error")
			}
			var re *rpc.RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("got %T %v, want *RemoteError", err, err)
			}
			if re.Code != c.code || re.Message != c.msg || re.Method != c.method || re.Addr != srv.Addr() {
				t.Fatalf("got %+v", re)
			}
			if rpc.IsUnavailable(err) {
				t.Fatal("a remote error is not unavailability")
			}
		})
	}
	if d := rpc.Dials(cl); d != 1 {
		t.Errorf("error replies should keep the connection: %d dials", d)
	}
}

func TestBodyErrors(t *testing.T) {
	srcErr := errors.New("source failed")
	var handlerSaw atomic.Value
	srv := newTransport(t, testKey, func(tr *rpc.Transport) {
		dataHandlers(tr)
		tr.Handle("read", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			_, err := io.Copy(io.Discard, req.Body)
			handlerSaw.Store(err)
			return nil, nil, err
		})
		tr.Handle("badbody", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			r := io.MultiReader(gen(1, 3<<20), iotestErrReader{&rpc.Error{Code: "bitrot", Message: "shard 2"}})
			return []byte("ok"), io.NopCloser(r), nil
		})
	})
	cl := newTransport(t, testKey, nil)

	t.Run("request source fails", func(t *testing.T) {
		body := io.MultiReader(gen(1, 2<<20), iotestErrReader{srcErr})
		_, err := cl.Call(context.Background(), srv.Addr(), "read", nil, body)
		if !errors.Is(err, srcErr) {
			t.Fatalf("got %v, want the source's error", err)
		}
		var re *rpc.RemoteError
		if e, _ := handlerSaw.Load().(error); !errors.As(e, &re) || re.Code != rpc.CodeAborted {
			t.Fatalf("handler saw %v, want a RemoteError with code aborted", e)
		}
	})
	t.Run("response source fails", func(t *testing.T) {
		resp, err := cl.Call(context.Background(), srv.Addr(), "badbody", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		var re *rpc.RemoteError
		if !errors.As(err, &re) || re.Code != "bitrot" || re.Message != "shard 2" || n != 3<<20 {
			t.Fatalf("got %d bytes, %v; want 3 MiB then RemoteError bitrot", n, err)
		}
	})
	// The connection survives all of that.
	download(t, cl, srv.Addr(), 3, 1000)
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestWrongKey(t *testing.T) {
	var runs atomic.Int64
	handlers := func(tr *rpc.Transport) {
		tr.Handle("m", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			runs.Add(1)
			return nil, nil, nil
		})
		tr.Listen(5)
	}
	a := newTransport(t, testKey, handlers)
	b := newTransport(t, otherKey, handlers)
	for _, dir := range []struct {
		name     string
		from, to *rpc.Transport
	}{{"a to b", a, b}, {"b to a", b, a}} {
		t.Run(dir.name, func(t *testing.T) {
			_, err := dir.from.Call(context.Background(), dir.to.Addr(), "m", nil, nil)
			var ce *rpc.ConnError
			if !errors.Is(err, rpc.ErrAuth) || !rpc.IsUnavailable(err) || !errors.As(err, &ce) || ce.Op != "handshake" || ce.Addr != dir.to.Addr() {
				t.Fatalf("call: got %v, want ErrAuth in a handshake ConnError naming the address", err)
			}
			_, err = dir.from.DialStream(context.Background(), dir.to.Addr(), 5)
			if !errors.Is(err, rpc.ErrAuth) {
				t.Fatalf("stream: got %v, want ErrAuth", err)
			}
		})
	}
	// A client that skips verification and sends a bad proof is dropped by
	// the server without running anything.
	t.Run("forged client proof", func(t *testing.T) {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		hello := append([]byte("STRATA-RPC/1"), make([]byte, 32)...)
		reply := make([]byte, 64)
		if _, err := c.Write(hello); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			t.Fatal(err)
		}
		forged := hmac.New(sha256.New, otherKey)
		forged.Write([]byte("client"))
		forged.Write(hello[12:])
		forged.Write(reply[:32])
		c.Write(append(forged.Sum(nil), 0))
		// A would-be request: method "m", empty header, empty body.
		c.Write([]byte{0, 1, 'm', 0, 0, 0, 0, 0, 0, 0, 0})
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("server answered %d bytes to a forged proof", n)
		} else if errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.EAGAIN) || isTimeout(err) {
			t.Fatal("server did not close the connection")
		}
	})
	if n := runs.Load(); n != 0 {
		t.Fatalf("handler ran %d times for unauthenticated peers", n)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestStreams(t *testing.T) {
	var ln net.Listener
	srv := newTransport(t, testKey, func(tr *rpc.Transport) { ln = tr.Listen(7) })
	cl := newTransport(t, testKey, nil)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	c, err := cl.DialStream(context.Background(), srv.Addr(), 7)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 4 << 20
	go func() {
		io.Copy(c, gen(9, n))
	}()
	got, gotN := sum(t, io.LimitReader(c, n))
	want, _ := sum(t, gen(9, n))
	if got != want || gotN != n {
		t.Fatal("stream echo mismatch")
	}

	t.Run("unregistered id", func(t *testing.T) {
		c, err := cl.DialStream(context.Background(), srv.Addr(), 8)
		if err != nil {
			t.Fatal(err) // the handshake succeeds; then the server hangs up
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Fatalf("want the server to close, got %v", err)
		}
	})
	t.Run("reserved id", func(t *testing.T) {
		if _, err := cl.DialStream(context.Background(), srv.Addr(), 0); !errors.Is(err, rpc.ErrInvalidStream) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("listener close", func(t *testing.T) {
		l := srv.Listen(9)
		done := make(chan error)
		go func() {
			_, err := l.Accept()
			done <- err
		}()
		l.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
		srv.Listen(9).Close() // the id may be registered again
	})
}

func TestEarlyBodyClose(t *testing.T) {
	closed := make(chan struct{})
	srv := newTransport(t, testKey, func(tr *rpc.Transport) {
		dataHandlers(tr)
		tr.Handle("big", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return nil, closeNotifier{gen(1, 1<<30), closed}, nil
		})
	})
	cl := newTransport(t, testKey, nil)
	resp, err := cl.Call(context.Background(), srv.Addr(), "big", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := resp.Body.Read(make([]byte, 1)); !errors.Is(err, rpc.ErrBodyClosed) {
		t.Fatalf("read after close: %v", err)
	}
	select {
	case <-closed: // the server noticed and closed the handler's body
	case <-time.After(30 * time.Second):
		t.Fatal("server kept streaming a body nobody reads")
	}
	if n := rpc.IdleConns(cl, srv.Addr()); n != 0 {
		t.Fatalf("a half-read connection was pooled (%d idle)", n)
	}
	download(t, cl, srv.Addr(), 2, 1000)
	if d := rpc.Dials(cl); d != 2 {
		t.Fatalf("%d dials, want 2 (the first connection is dropped)", d)
	}
}

// TestReadToLengthClose: a body read to its last byte and closed without
// reading the end marker (a reader that stops at the length it asked for)
// keeps its connection: Close waits briefly for the marker.
func TestReadToLengthClose(t *testing.T) {
	defer rpc.SetEndMarkerWait(10 * time.Second)()
	srv := newTransport(t, testKey, dataHandlers)
	cl := newTransport(t, testKey, nil)
	for range 3 {
		hdr := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 7), 3000)
		resp, err := cl.Call(context.Background(), srv.Addr(), "download", hdr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 3000)); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if d := rpc.Dials(cl); d != 1 {
		t.Fatalf("%d dials for 3 calls read to their length, want 1", d)
	}
}

type closeNotifier struct {
	io.Reader
	closed chan struct{}
}

func (c closeNotifier) Close() error { close(c.closed); return nil }

func TestContextCancel(t *testing.T) {
	handlerCtx := make(chan error, 1)
	srv := newTransport(t, testKey, func(tr *rpc.Transport) {
		dataHandlers(tr)
		tr.Handle("wait", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			// Streams slowly until the caller goes away.
			return nil, io.NopCloser(&ctxReader{ctx: ctx, done: handlerCtx}), nil
		})
	})
	cl := newTransport(t, testKey, nil)

	t.Run("mid request body", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		body := &cancelAfter{r: gen(1, 1<<30), n: 8 << 20, cancel: cancel}
		_, err := cl.Call(ctx, srv.Addr(), "upload", nil, body)
		if !errors.Is(err, context.Canceled) || rpc.IsUnavailable(err) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("mid response body", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		resp, err := cl.Call(ctx, srv.Addr(), "download", binary.BigEndian.AppendUint64(make([]byte, 8), 1<<30), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := io.Copy(io.Discard, resp.Body); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("caller leaves while handler streams", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		// The handler's body blocks until its ctx ends, so the only way for
		// the server to notice is the connection closing.
		resp, err := cl.Call(ctx, srv.Addr(), "wait", nil, nil)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
		select {
		case err := <-handlerCtx:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("handler ctx: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("handler ctx not cancelled after the caller went away")
		}
	})
	// The transport still works.
	download(t, cl, srv.Addr(), 5, 100)
}

// cancelAfter cancels after n bytes were read, then keeps yielding data.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// ctxReader blocks until ctx ends, then reports ctx's error on done.
type ctxReader struct {
	ctx  context.Context
	done chan error
}

func (r *ctxReader) Read(p []byte) (int, error) {
	<-r.ctx.Done()
	r.done <- r.ctx.Err()
	return 0, r.ctx.Err()
}

func TestPoolReuse(t *testing.T) {
	srv := newTransport(t, testKey, func(tr *rpc.Transport) {
		dataHandlers(tr)
		tr.Handle("skip", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return nil, nil, nil // reads nothing of the request body
		})
	})
	cl := newTransport(t, testKey, nil)
	for i := range 20 {
		download(t, cl, srv.Addr(), uint64(i), int64(i*1000))
		want, _ := sum(t, gen(uint64(i), 5000))
		upload(t, cl, srv.Addr(), gen(uint64(i), 5000), want, 5000)
	}
	if d := rpc.Dials(cl); d != 1 {
		t.Fatalf("sequential calls dialled %d times, want 1", d)
	}
	call := func(body io.Reader) {
		resp, err := cl.Call(context.Background(), srv.Addr(), "skip", nil, body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	call(gen(1, 512<<10)) // small unread body: drained, kept
	if d := rpc.Dials(cl); d != 1 {
		t.Fatalf("small unread body: %d dials, want 1", d)
	}
	call(gen(1, 64<<20)) // large unread body: the server hangs up
	if n := rpc.IdleConns(cl, srv.Addr()); n != 0 {
		t.Fatalf("a connection the server closes was pooled")
	}
	download(t, cl, srv.Addr(), 1, 10)
	if d := rpc.Dials(cl); d != 2 {
		t.Fatalf("after a large unread body: %d dials, want 2", d)
	}
}

// TestPooledConnToRestartedPeer checks that an idle connection the peer
// closed is noticed and replaced instead of failing a call.
func TestPooledConnToRestartedPeer(t *testing.T) {
	cfg := rpc.Config{Addr: "127.0.0.1:0", ClusterKey: testKey}
	srv, err := rpc.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	dataHandlers(srv)
	srv.Start()
	cl := newTransport(t, testKey, nil)
	download(t, cl, srv.Addr(), 1, 10)
	addr := srv.Addr()
	srv.Close()

	cfg.Addr = addr
	srv2, err := rpc.New(cfg, testLogger(t))
	if err != nil {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	t.Cleanup(func() { srv2.Close() })
	dataHandlers(srv2)
	srv2.Start()
	// The pooled connection saw the old server's FIN; give it a moment.
	time.Sleep(50 * time.Millisecond)
	download(t, cl, addr, 2, 10)
}

func TestCloseWithCallsInFlight(t *testing.T) {
	started := make(chan struct{}, 10)
	srv, err := rpc.New(rpc.Config{Addr: "127.0.0.1:0", ClusterKey: testKey}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("block", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	srv.Handle("upload", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
		started <- struct{}{}
		_, err := io.Copy(io.Discard, req.Body)
		return nil, nil, err
	})
	srv.Start()
	cl := newTransport(t, testKey, nil)

	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			var err error
			if i%2 == 0 {
				_, err = cl.Call(context.Background(), srv.Addr(), "block", nil, nil)
			} else {
				_, err = cl.Call(context.Background(), srv.Addr(), "upload", nil, gen(1, 1<<40))
			}
			errs <- err
		}()
	}
	for range 10 {
		<-started
	}
	closed := make(chan error)
	go func() { closed <- srv.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close hung")
	}
	for range 10 {
		err := <-errs
		if err == nil {
			t.Fatal("a call survived the server's Close")
		}
	}
	// The client side too: Close while a call waits.
	srv2 := newTransport(t, testKey, func(tr *rpc.Transport) {
		tr.Handle("block", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			started <- struct{}{}
			<-ctx.Done()
			return nil, nil, ctx.Err()
		})
	})
	go func() {
		_, err := cl.Call(context.Background(), srv2.Addr(), "block", nil, nil)
		errs <- err
	}()
	<-started
	cl.Close()
	if err := <-errs; !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("call on a closed client: %v", err)
	}
	if _, err := cl.Call(context.Background(), srv2.Addr(), "block", nil, nil); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := rpc.New(rpc.Config{Addr: "127.0.0.1:0", ClusterKey: make([]byte, 31)}, nil); !errors.Is(err, rpc.ErrConfig) {
		t.Fatalf("short key: %v", err)
	}
	a, err := rpc.New(rpc.Config{Addr: "127.0.0.1:0", ClusterKey: testKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := rpc.New(rpc.Config{Addr: a.Addr(), ClusterKey: testKey}, nil); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("port in use: %v", err)
	}
}

func TestIsUnavailable(t *testing.T) {
	cl := newTransport(t, testKey, nil)
	// A port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	_, err = cl.Call(context.Background(), dead, "m", nil, nil)
	var ce *rpc.ConnError
	if !rpc.IsUnavailable(err) || !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &ce) || ce.Op != "dial" || ce.Addr != dead {
		t.Fatalf("dial to a dead port: %v", err)
	}
	for _, e := range []error{nil, &rpc.RemoteError{Code: "x"}, context.Canceled, rpc.ErrClosed, errors.New("other")} {
		if rpc.IsUnavailable(e) {
			t.Errorf("IsUnavailable(%v) = true", e)
		}
	}
	if !rpc.IsUnavailable(fmt.Errorf("x: %w", rpc.ErrAuth)) {
		t.Error("ErrAuth should be unavailable")
	}
}

func TestRandomKeyLengths(t *testing.T) {
	key := make([]byte, 64)
	rand.Read(key)
	srv := newTransport(t, key, dataHandlers)
	cl := newTransport(t, key, nil)
	download(t, cl, srv.Addr(), 1, 100)
}

func BenchmarkCall64MiB(b *testing.B) {
	const size = 64 << 20
	srv := newTransport(b, testKey, func(tr *rpc.Transport) {
		tr.Handle("sink", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			_, err := io.Copy(io.Discard, req.Body)
			return nil, nil, err
		})
		tr.Handle("source", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return nil, io.NopCloser(&zeroReader{n: size}), nil
		})
	})
	cl := newTransport(b, testKey, nil)
	ctx := context.Background()
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			resp, err := cl.Call(ctx, srv.Addr(), "sink", nil, &zeroReader{n: size})
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("download", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			resp, err := cl.Call(ctx, srv.Addr(), "source", nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkShardUpload sends one EC 6+2 shard of a 1 MiB object (174,767
// bytes) per call, from a plain reader (copied through the writer's
// buffer) and from an rpc.RegionSource (written from where it lies).
func BenchmarkShardUpload(b *testing.B) {
	srv := newTransport(b, testKey, func(tr *rpc.Transport) {
		tr.Handle("sink", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			_, err := io.Copy(io.Discard, req.Body)
			return nil, nil, err
		})
	})
	cl := newTransport(b, testKey, nil)
	ctx := context.Background()
	shard := make([]byte, 174767)
	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"reader", func() io.Reader { return &onlyReader{bytes.NewReader(shard)} }},
		{"regions", func() io.Reader { return rpc.NewRegionSource(shard) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(shard)))
			for b.Loop() {
				resp, err := cl.Call(ctx, srv.Addr(), "sink", nil, tc.body())
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}

// onlyReader hides everything but Read.
type onlyReader struct{ r io.Reader }

func (o *onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func BenchmarkSmallCall(b *testing.B) {
	srv := newTransport(b, testKey, func(tr *rpc.Transport) {
		tr.Handle("ping", func(ctx context.Context, req *rpc.Request) ([]byte, io.ReadCloser, error) {
			return req.Header, nil, nil
		})
	})
	cl := newTransport(b, testKey, nil)
	ctx := context.Background()
	hdr := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := cl.Call(ctx, srv.Addr(), "ping", hdr, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// zeroReader yields n zero bytes with no per-read cost beyond clearing.
type zeroReader struct{ n int }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), z.n)]
	clear(p)
	z.n -= len(p)
	return len(p), nil
}

func TestConfigLogRedactsKey(t *testing.T) {
	var buf bytes.Buffer
	cfg := rpc.Config{Addr: ":9100", ClusterKey: []byte("super-secret-cluster-key-0123456789")}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "rpc", cfg)
	if strings.Contains(buf.String(), "super-secret") || !strings.Contains(buf.String(), "REDACTED") {
		t.Fatalf("logged %q", buf.String())
	}
}
