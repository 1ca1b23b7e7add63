package rpc

import "time"

// Dials returns how many connections t has dialled (calls and streams), so
// tests can check pooling.
func Dials(t *Transport) int64 { return t.dials.Load() }

// IdleConns returns the number of pooled idle connections to addr.
func IdleConns(t *Transport, addr string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.idle[addr])
}

// SetEndMarkerWait sets how long Close waits for a read body's end marker
// and returns a func restoring it.
func SetEndMarkerWait(d time.Duration) func() {
	old := endMarkerWait
	endMarkerWait = d
	return func() { endMarkerWait = old }
}

// NewRegionSource is a RegionSource of the given in-memory regions (see
// regionSrc in frame_test.go).
func NewRegionSource(regions ...[]byte) RegionSource { return &regionSrc{left: regions} }
