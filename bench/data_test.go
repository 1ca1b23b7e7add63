package bench

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPayloadIsRandomAndWindowed(t *testing.T) {
	p, err := newPayload(mib)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.buf) != mib+p.span {
		t.Fatalf("buffer of %d bytes for 1 MiB objects", len(p.buf))
	}
	// Incompressible: deflate cannot shrink it.
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(p.bytes(0, mib))
	w.Close()
	if z.Len() < mib {
		t.Errorf("1 MiB of payload deflates to %d bytes", z.Len())
	}
	if bytes.Equal(p.bytes(0, 4*kib), p.bytes(1, 4*kib)) {
		t.Error("two offsets give the same body")
	}
	r := p.reader(p.span-1, mib) // the last window still fits
	if n, _ := io.Copy(io.Discard, r); n != mib {
		t.Errorf("reader gave %d bytes", n)
	}
}

func TestVerifier(t *testing.T) {
	want := []byte("0123456789abcdef")
	feed := func(chunks ...string) error {
		v := verifier{want: want, diff: -1}
		for _, c := range chunks {
			if n, err := v.Write([]byte(c)); n != len(c) || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		return v.err()
	}
	if err := feed("0123", "456789abc", "def"); err != nil {
		t.Errorf("equal body: %v", err)
	}
	for chunks, msg := range map[string]string{
		"0123|4X6789abcdef":  "at byte 5",
		"0123456789abcdeX":   "at byte 15",
		"0123456789abc":      "13 bytes, want 16",
		"0123456789abcdef|g": "at byte 16",
		"":                   "0 bytes, want 16",
	} {
		err := feed(strings.Split(chunks, "|")...)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", chunks, err, msg)
		}
	}
	var d discard
	io.CopyBuffer(&d, strings.NewReader("hello"), make([]byte, 2))
	if d.n != 5 {
		t.Errorf("discard counted %d", d.n)
	}
}

func TestPoolReadersBlockDeletes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var p pool
	if p.acquire(rng) != nil || p.take(rng) != nil {
		t.Fatal("empty pool gave an object")
	}
	a, b := &object{key: "a"}, &object{key: "b"}
	p.add(a)
	p.add(b)
	got := p.acquire(rng)
	other := map[*object]*object{a: b, b: a}[got]
	// The object being read is never taken; the other one is.
	if o := p.take(rng); o != other {
		t.Fatalf("take gave %v while %s is read", o, got.key)
	}
	if o := p.take(rng); o != nil {
		t.Fatalf("take gave %s, which is being read", o.key)
	}
	p.release(got)
	if o := p.take(rng); o != got || p.len() != 0 {
		t.Fatalf("after release: take gave %v, %d left", o, p.len())
	}
	var q pool
	q.add(a)
	p.add(b)
	p.absorb(&q)
	if p.len() != 2 || q.len() != 0 {
		t.Fatalf("absorb: %d and %d", p.len(), q.len())
	}
}
