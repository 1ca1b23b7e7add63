package metrics

import (
	"io"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Drive is one local drive at scrape time.
type Drive struct {
	ID, Path             string
	Online               bool
	Capacity, Used, Free uint64 // bytes of its file system
	IndexResets          int    // damaged indexes replaced since the node started
}

// PGHealth counts the placement groups by health.
type PGHealth struct {
	Total, Healthy, Degraded, Unavailable int
}

// Heal is this node's self-healing counters.
type Heal struct {
	Scanning                                              bool
	Passes, ObjectsScanned, BytesVerified, ShardsRepaired int64
	BytesRepaired, Errors, Dropped                        int64
	Queued, Refilling                                     int
	OrphansRemoved, OrphanBytesFreed                      int64
}

// Rebalance is the placement's rebalance and this node's part in it.
type Rebalance struct {
	MovingPGs, MovingTotal              int   // of the current epoch, cluster-wide
	Active                              bool  // this node is migrating PGs
	ShardsMoved, BytesMoved, PGsSettled int64 // by this node
	Errors                              int64
}

// Raft is this node's view of Raft.
type Raft struct {
	Leader                                     bool
	HasLeader                                  bool
	Term, CommitIndex, AppliedIndex, LastIndex uint64
}

// ILM is this node's lifecycle execution: totals of every pass.
type ILM struct {
	Running                                               bool
	Passes, Versions, Uploads, Expired, NoncurrentExpired int64
	MarkersRemoved, UploadsAborted, Errors                int64
}

// AuditTarget is one audit target's delivery counters.
type AuditTarget struct {
	Target                         string
	Queued                         int
	Sent, Dropped, Retries, Failed int64
}

// Sources are read at every scrape; a nil func leaves its metrics out.
// They must be cheap (no network calls) and safe for concurrent use.
type Sources struct {
	Drives        func() []Drive
	PGs           func() PGHealth
	Heal          func() Heal
	Rebalance     func() Rebalance
	Raft          func() Raft
	GossipMembers func() int
	Audit         func() []AuditTarget
	ILM           func() ILM
}

// Registry holds one node's metrics.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec

	raftApply    prometheus.Histogram
	driveOps     *prometheus.CounterVec
	driveLatency *prometheus.HistogramVec
}

// driveBuckets span a cached index read to a slow fsync.
var driveBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}

// latencyBuckets span a cached HEAD (sub-millisecond) to a large transfer.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// New builds the registry of node (its id) running version.
func New(node, version string, src Sources) *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_requests_total",
			Help: "Requests served, by API and HTTP status."}, []string{"api", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strata_request_duration_seconds",
			Help: "Time from a request's arrival until its response was handed over (a GET body: sent), by API.", Buckets: latencyBuckets}, []string{"api"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_request_received_bytes_total",
			Help: "Request body bytes read, by API."}, []string{"api"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_request_sent_bytes_total",
			Help: "Response body bytes sent, by API."}, []string{"api"}),
		raftApply: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "strata_raft_apply_duration_seconds",
			Help: "Time from proposing a command on this node until it was applied here (leader or forwarded).", Buckets: driveBuckets}),
		driveOps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_drive_operations_total",
			Help: "Operations on the local drives (write_shard, commit, read_versions, delete_version), by result (ok or error).",
		}, []string{"drive", "op", "result"}),
		driveLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strata_drive_operation_duration_seconds",
			Help: "Latency of operations on the local drives (write_shard includes the shard's fsync, commit the index fsync).", Buckets: driveBuckets}, []string{"drive", "op"}),
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "strata_node_info", Help: "Always 1; labels name the node and its build.",
		ConstLabels: prometheus.Labels{"node": node, "version": version}})
	info.Set(1)
	r.reg.MustRegister(r.requests, r.latency, r.bytesIn, r.bytesOut, r.raftApply, r.driveOps, r.driveLatency, info, &collector{src: src},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// ObserveRequest records one request served.
func (r *Registry) ObserveRequest(api string, status int, bytesIn, bytesOut int64, d time.Duration) {
	r.requests.WithLabelValues(api, strconv.Itoa(status)).Inc()
	r.latency.WithLabelValues(api).Observe(d.Seconds())
	if bytesIn > 0 {
		r.bytesIn.WithLabelValues(api).Add(float64(bytesIn))
	}
	if bytesOut > 0 {
		r.bytesOut.WithLabelValues(api).Add(float64(bytesOut))
	}
}

// ObserveRaftApply records how long a proposed command took to apply.
func (r *Registry) ObserveRaftApply(d time.Duration) { r.raftApply.Observe(d.Seconds()) }

// ObserveDriveOp records one operation on a local drive.
func (r *Registry) ObserveDriveOp(drive, op string, d time.Duration, failed bool) {
	result := "ok"
	if failed {
		result = "error"
	}
	r.driveOps.WithLabelValues(drive, op, result).Inc()
	r.driveLatency.WithLabelValues(drive, op).Observe(d.Seconds())
}

// ContentType is the media type WriteText writes.
var ContentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// WriteText gathers every metric and writes them to w in the Prometheus
// text exposition format (ContentType).
func (r *Registry) WriteText(w io.Writer) error {
	mfs, err := r.reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}
