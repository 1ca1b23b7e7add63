package rpc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime/metrics"
	"testing"
)

// encodeRequest builds request bytes the way Call writes them.
func encodeRequest(method string, hdr []byte, frames ...[]byte) []byte {
	b := appendU16(nil, len(method))
	b = append(b, method...)
	b = appendU32(b, len(hdr))
	b = append(b, hdr...)
	for _, f := range frames {
		b = appendU32(b, len(f))
		b = append(b, f...)
	}
	return appendU32(b, 0)
}

func abortFrame(code, msg string) []byte {
	b := appendU32(nil, frameAbort)
	b = appendU16(b, len(code))
	b = append(b, code...)
	b = appendU16(b, len(msg))
	return append(b, msg...)
}

// decodeAll runs every decoder over data as a request and as a response and
// returns the body bytes it accepted. It must never panic.
func decodeAll(data []byte, pool *bufPool) (reqBody, respBody int64) {
	br := bufio.NewReaderSize(bytes.NewReader(data), bufSize)
	if _, _, _, err := readRequestHead(br, func([]byte) *route { return nil }); err == nil {
		fr := frameReader{br: br}
		p := make([]byte, 1000)
		for {
			n, err := fr.Read(p)
			reqBody += int64(n)
			if err != nil {
				break
			}
		}
	}
	br = bufio.NewReaderSize(bytes.NewReader(data), bufSize)
	if h, err := readResponseHead(br); err == nil && h.status == statusOK {
		fr := frameReader{br: br, pool: pool}
		respBody, _ = fr.WriteTo(io.Discard)
		fr.drain(drainLimit)
	}
	return reqBody, respBody
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeRequest("shard.put", []byte("hdr"), []byte("hello"), bytes.Repeat([]byte{1}, 70000)))
	f.Add(encodeRequest("", nil))
	f.Add(append(encodeRequest("m", nil, []byte("x"))[:10], abortFrame("aborted", "disk")...))
	f.Add(append([]byte{statusOK, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 1, 'z'}, appendU32(nil, frameEndClose)...))
	f.Add([]byte{statusError | statusClose, 0, 4, 'c', 'o', 'd', 'e', 0, 1, 'm'})
	f.Add([]byte{statusOK, 0xff, 0xff, 0xff, 0xff})                   // header length over the limit
	f.Add([]byte{statusOK, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x01, 1, 2}) // frame over the limit
	f.Add([]byte{0xff, 0xff, 'a'})                                    // method longer than the data
	pool := &bufPool{}
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before := allocated()
		decodeAll(data, pool)
		// Two bufio readers, one WriteTo buffer (pooled, but a GC may
		// empty the pool), a header, a method, a code and a message, each
		// bounded by its limit, and small change.
		const limit = 2*bufSize + maxFrame + maxHeader + 3*maxString + 64<<10
		if got := allocated() - before; got > limit {
			t.Fatalf("decoding %d bytes allocated %d bytes (limit %d)", len(data), got, limit)
		}
	})
}

func TestDecodeLimits(t *testing.T) {
	// An oversized header or frame is a protocol error, detected before
	// anything is allocated for it.
	br := bufio.NewReaderSize(bytes.NewReader([]byte{statusOK, 0, 0x10, 0, 1}), bufSize)
	if _, err := readResponseHead(br); !errors.Is(err, ErrProtocol) {
		t.Fatalf("oversized header: %v", err)
	}
	fr := frameReader{br: bufio.NewReaderSize(bytes.NewReader(binary.BigEndian.AppendUint32(nil, maxFrame+1)), bufSize)}
	if _, err := fr.Read(make([]byte, 10)); !errors.Is(err, ErrProtocol) || !fr.broken {
		t.Fatalf("oversized frame: %v", err)
	}
	// A truncated body is an unexpected EOF, not a clean end.
	fr = frameReader{br: bufio.NewReaderSize(bytes.NewReader([]byte{0, 0, 0, 5, 'a'}), bufSize)}
	if _, err := io.ReadAll(&fr); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated frame: %v", err)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB: several frames, writev path
	for _, tc := range []struct {
		name   string
		src    io.Reader
		marker uint32
	}{
		{"in memory", bytes.NewReader(payload), 0},
		{"streaming", io.MultiReader(bytes.NewReader(payload[:100]), bytes.NewReader(payload[100:])), frameEndClose},
		{"regions", &regionSrc{left: [][]byte{payload[:100], payload[100 : 100+maxFrame+7], payload[100+maxFrame+7:]}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wire bytes.Buffer
			bw := bufio.NewWriterSize(&wire, bufSize)
			fw := frameWriter{bw: bw, conn: &wire}
			if rerr, werr := fw.copyFrom(tc.src); rerr != nil || werr != nil {
				t.Fatal(rerr, werr)
			}
			_ = fw.end(tc.marker)
			bw.Flush()
			fr := frameReader{br: bufio.NewReaderSize(&wire, bufSize)}
			got, err := io.ReadAll(&fr)
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("round trip: %d bytes, err %v", len(got), err)
			}
			if fr.closing != (tc.marker == frameEndClose) || !fr.ended() {
				t.Fatalf("end state: closing=%v ended=%v", fr.closing, fr.ended())
			}
		})
	}
	t.Run("region source fails", func(t *testing.T) {
		var wire bytes.Buffer
		bw := bufio.NewWriterSize(&wire, bufSize)
		fw := frameWriter{bw: bw, conn: &wire}
		boom := errors.New("feed aborted")
		if rerr, werr := fw.copyFrom(&regionSrc{left: [][]byte{payload[:10]}, err: boom}); rerr != boom || werr != nil {
			t.Fatalf("copyFrom = %v, %v; want the source's error, no write error", rerr, werr)
		}
	})
	t.Run("abort", func(t *testing.T) {
		var wire bytes.Buffer
		bw := bufio.NewWriterSize(&wire, bufSize)
		fw := frameWriter{bw: bw}
		fw.Write([]byte("partial"))
		fw.abort("bitrot", "shard 4")
		bw.Flush()
		fr := frameReader{br: bufio.NewReaderSize(&wire, bufSize)}
		got, err := io.ReadAll(&fr)
		var ae *abortError
		if string(got) != "partial" || !errors.As(err, &ae) || ae.code != "bitrot" || ae.msg != "shard 4" || !fr.ended() {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

// regionSrc is a RegionSource of in-memory regions whose WriteTo ends with
// err (nil: the end of the body). Read panics: copyFrom must not copy it.
type regionSrc struct {
	left [][]byte
	err  error
}

func (r *regionSrc) Regions() {}

func (r *regionSrc) Read([]byte) (int, error) { panic("a RegionSource was read through a copy buffer") }

func (r *regionSrc) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for ; len(r.left) > 0; r.left = r.left[1:] {
		n, err := w.Write(r.left[0])
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, r.err
}
