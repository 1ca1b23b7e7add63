package bench

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"sync"
)

// payload is the source of every object body: one random, incompressible
// buffer; an object is the window of its size at a random offset, so bodies
// differ from one another and a PUT allocates no body.
type payload struct {
	buf  []byte
	span int // offsets are in [0, span)
}

// newPayload makes a payload for objects up to maxSize bytes.
func newPayload(maxSize int64) (*payload, error) {
	const span = mib
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	p := &payload{buf: make([]byte, int(maxSize)+span), span: span}
	if _, err := rand.NewChaCha8(seed).Read(p.buf); err != nil {
		return nil, err
	}
	return p, nil
}

// bytes is the body of the object of size at off.
func (p *payload) bytes(off int, size int64) []byte { return p.buf[off : off+int(size)] }

// reader is a seekable reader of the body at off (the SDK hashes a PUT
// body, then rewinds it to send it).
func (p *payload) reader(off int, size int64) *bytes.Reader {
	return bytes.NewReader(p.bytes(off, size))
}

// object is one object the run wrote.
type object struct {
	key  string
	size int64
	off  int    // of its body in the payload
	etag string // as its PUT answered
	busy int    // GETs and HEADs in flight; a DELETE takes only idle objects
}

// pool is the objects of one size the run wrote and has not deleted.
type pool struct {
	mu   sync.Mutex
	objs []*object
}

// add puts o in the pool.
func (p *pool) add(o *object) {
	p.mu.Lock()
	p.objs = append(p.objs, o)
	p.mu.Unlock()
}

// absorb moves every object of q into p.
func (p *pool) absorb(q *pool) {
	q.mu.Lock()
	objs := q.objs
	q.objs = nil
	q.mu.Unlock()
	p.mu.Lock()
	p.objs = append(p.objs, objs...)
	p.mu.Unlock()
}

// len is how many objects the pool holds.
func (p *pool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.objs)
}

// acquire returns a random object to read, marked busy until release; nil
// when the pool is empty.
func (p *pool) acquire(rng *rand.Rand) *object {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.objs) == 0 {
		return nil
	}
	o := p.objs[rng.IntN(len(p.objs))]
	o.busy++
	return o
}

// release ends a read of o.
func (p *pool) release(o *object) {
	p.mu.Lock()
	o.busy--
	p.mu.Unlock()
}

// take removes and returns a random object no request is reading, to
// delete it; nil when there is none.
func (p *pool) take(rng *rand.Rand) *object {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.objs)
	if n == 0 {
		return nil
	}
	start := rng.IntN(n)
	for j := range n {
		i := (start + j) % n
		if o := p.objs[i]; o.busy == 0 {
			p.objs[i] = p.objs[n-1]
			p.objs = p.objs[:n-1]
			return o
		}
	}
	return nil
}

// discard counts and drops what is written to it. It has no ReadFrom, so
// io.CopyBuffer reads with the caller's (pooled) buffer.
type discard struct{ n int64 }

func (d *discard) Write(b []byte) (int, error) {
	d.n += int64(len(b))
	return len(b), nil
}

// verifier counts what is written to it and checks it is a prefix of want.
type verifier struct {
	want []byte
	n    int64
	diff int64 // offset of the first wrong byte; -1 while all match
}

func (v *verifier) Write(b []byte) (int, error) {
	if v.diff < 0 {
		rest := v.want[min(v.n, int64(len(v.want))):]
		m := min(len(rest), len(b))
		if !bytes.Equal(rest[:m], b[:m]) {
			for i := range m {
				if rest[i] != b[i] {
					v.diff = v.n + int64(i)
					break
				}
			}
		} else if m < len(b) {
			v.diff = v.n + int64(m) // longer than want
		}
	}
	v.n += int64(len(b))
	return len(b), nil
}

// err says how the bytes written differ from want; nil when equal.
func (v *verifier) err() error {
	switch {
	case v.diff >= 0:
		return fmt.Errorf("body differs from what was written at byte %d", v.diff)
	case v.n != int64(len(v.want)):
		return fmt.Errorf("body is %d bytes, want %d", v.n, len(v.want))
	}
	return nil
}
