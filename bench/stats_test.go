package bench

import (
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestPercentileNearestRank(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(float64(i)))
	}
	for _, c := range []struct {
		lat  []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{ms(7)}, 50, ms(7)},
		{[]time.Duration{ms(7)}, 99, ms(7)},
		{[]time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{[]time.Duration{ms(1), ms(2)}, 51, ms(2)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 90, ms(4)},
		{hundred, 50, ms(50)},
		{hundred, 90, ms(90)},
		{hundred, 99, ms(99)},
		{hundred, 99.5, ms(100)},
		{hundred, 100, ms(100)},
		{hundred, 0.1, ms(1)},
	} {
		if got := percentile(c.lat, c.p); got != c.want {
			t.Errorf("p%v of %d values: %v, want %v", c.p, len(c.lat), got, c.want)
		}
	}
}

func TestMergeAndStats(t *testing.T) {
	a, b := new(recorder), new(recorder)
	for i := 10; i >= 1; i-- { // out of order on purpose
		a.ok(OpGet, ms(float64(i)), mib, 1)
	}
	for i := 11; i <= 20; i++ {
		b.ok(OpGet, ms(float64(i)), mib, 1)
	}
	b.fail(OpGet)
	b.fail(OpPut)
	a.ok(OpList, ms(3), 0, 1000)
	m := merge([]*recorder{a, b})
	if n := len(m[OpGet].lat); n != 20 || m[OpGet].lat[0] != ms(1) || m[OpGet].lat[19] != ms(20) {
		t.Fatalf("merged GET latencies not sorted or incomplete: %v", m[OpGet].lat)
	}
	s := stats(OpGet, m[OpGet], 2*time.Second)
	want := OpStats{Op: "GET", Ops: 20, Errors: 1, Bytes: 20 * mib, Objects: 20, OpsPerSec: 10, MiBPerSec: 10, ObjPerSec: 10,
		P50ms: 10, P90ms: 18, P99ms: 20, MaxMs: 20}
	if s != want {
		t.Errorf("GET stats\n got %+v\nwant %+v", s, want)
	}
	if p := stats(OpPut, m[OpPut], time.Second); p.Ops != 0 || p.Errors != 1 || p.P50ms != 0 || p.MiBPerSec != 0 {
		t.Errorf("PUT with only a failure: %+v", p)
	}
	if l := stats(OpList, m[OpList], time.Second); l.OpsPerSec != 1 || l.ObjPerSec != 1000 || l.MiBPerSec != 0 {
		t.Errorf("LIST: %+v", l)
	}
	if z := stats(OpGet, m[OpGet], 0); z.OpsPerSec != 0 || z.Ops != 20 {
		t.Errorf("zero elapsed: %+v", z)
	}
}
