package bench

import (
	"math"
	"slices"
	"time"
)

// opRec is what one client saw of one op during a workload.
type opRec struct {
	lat     []time.Duration // of the successful requests
	bytes   int64           // object bytes sent or received
	objects int64           // objects written, read, deleted; keys listed
	errors  int64
}

// recorder is one client's results; a client owns it alone.
type recorder [numOps]opRec

// ok records a successful request.
func (r *recorder) ok(op Op, d time.Duration, bytes, objects int64) {
	o := &r[op]
	o.lat = append(o.lat, d)
	o.bytes += bytes
	o.objects += objects
}

// fail records a failed request.
func (r *recorder) fail(op Op) { r[op].errors++ }

// merge adds the clients' records up, latencies sorted.
func merge(recs []*recorder) recorder {
	var m recorder
	for _, r := range recs {
		for op := range m {
			m[op].lat = append(m[op].lat, r[op].lat...)
			m[op].bytes += r[op].bytes
			m[op].objects += r[op].objects
			m[op].errors += r[op].errors
		}
	}
	for op := range m {
		slices.Sort(m[op].lat)
	}
	return m
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// latencies: the smallest value that at least p% of them do not exceed;
// 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// stats turns an op's merged record into its report line over elapsed.
func stats(op Op, r opRec, elapsed time.Duration) OpStats {
	s := OpStats{Op: op.String(), Ops: int64(len(r.lat)), Errors: r.errors, Bytes: r.bytes, Objects: r.objects}
	if sec := elapsed.Seconds(); sec > 0 {
		s.OpsPerSec = float64(s.Ops) / sec
		s.MiBPerSec = float64(r.bytes) / mib / sec
		s.ObjPerSec = float64(r.objects) / sec
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s.P50ms, s.P90ms, s.P99ms = ms(percentile(r.lat, 50)), ms(percentile(r.lat, 90)), ms(percentile(r.lat, 99))
	if n := len(r.lat); n > 0 {
		s.MaxMs = ms(r.lat[n-1])
	}
	return s
}
