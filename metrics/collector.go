package metrics

import "github.com/prometheus/client_golang/prometheus"

// collector reads Sources at scrape time.
type collector struct {
	src Sources
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The descriptions of the pulled metrics; read-only.
var (
	descDriveOnline   = desc("strata_drive_online", "1 when the local drive's folder answers statfs.", "drive", "path")
	descDriveCapacity = desc("strata_drive_capacity_bytes", "Size of the file system holding the drive.", "drive", "path")
	descDriveUsed     = desc("strata_drive_used_bytes", "Bytes in use on the drive's file system (by anyone).", "drive", "path")
	descDriveFree     = desc("strata_drive_free_bytes", "Bytes available to the node on the drive's file system.", "drive", "path")
	descDriveResets   = desc("strata_drive_index_resets_total", "Times the drive's index was found damaged and replaced by a fresh one (then refilled) since the node started.", "drive", "path")

	descPGs = desc("strata_pgs", "Placement groups by health, as this node sees the cluster: healthy (all shards online), degraded (at least K), unavailable.", "state")

	descHealScanning       = desc("strata_heal_scanning", "1 while the background scanner runs a pass.")
	descHealPasses         = desc("strata_heal_passes_total", "Complete scanner passes.")
	descHealObjects        = desc("strata_heal_objects_scanned_total", "Object versions inspected by the scanner, refill and read repair.")
	descHealVerified       = desc("strata_heal_verified_bytes_total", "Shard bytes whose checksums were verified.")
	descHealShardsRepaired = desc("strata_heal_repaired_shards_total", "Shards rebuilt.")
	descHealBytesRepaired  = desc("strata_heal_repaired_bytes_total", "Shard bytes written by repairs.")
	descHealErrors         = desc("strata_heal_errors_total", "Object versions whose repair failed (retried by later passes).")
	descHealQueued         = desc("strata_heal_queued", "Read repairs waiting.")
	descHealDropped        = desc("strata_heal_dropped_total", "Read repairs dropped because the queue was full.")
	descHealRefilling      = desc("strata_heal_refilling_drives", "Local drives being refilled.")
	descHealOrphans        = desc("strata_heal_orphans_removed_total", "Shard files no record referred to, removed by the orphan sweep.")
	descHealOrphanBytes    = desc("strata_heal_orphan_bytes_freed_total", "Bytes of the shard files the orphan sweep removed.")

	descRebalanceMoving  = desc("strata_rebalance_moving_pgs", "Placement groups of the current epoch still moving (cluster-wide).")
	descRebalanceTotal   = desc("strata_rebalance_epoch_moving_pgs", "Placement groups the current epoch moves (cluster-wide).")
	descRebalanceActive  = desc("strata_rebalance_active", "1 while this node migrates placement groups.")
	descRebalanceShards  = desc("strata_rebalance_moved_shards_total", "Shards this node wrote to new drives.")
	descRebalanceBytes   = desc("strata_rebalance_moved_bytes_total", "Shard bytes this node wrote to new drives.")
	descRebalanceSettled = desc("strata_rebalance_settled_pgs_total", "Placement groups this node finished moving.")
	descRebalanceErrors  = desc("strata_rebalance_errors_total", "Object versions whose move failed (retried).")

	descRaftLeader    = desc("strata_raft_leader", "1 when this node is the Raft leader.")
	descRaftHasLeader = desc("strata_raft_has_leader", "1 when this node knows a Raft leader.")
	descRaftTerm      = desc("strata_raft_term", "Current Raft term.")
	descRaftCommit    = desc("strata_raft_commit_index", "Highest Raft log index known committed.")
	descRaftApplied   = desc("strata_raft_applied_index", "Last Raft log index applied to the local state.")
	descRaftLast      = desc("strata_raft_last_index", "Last index in the local Raft log.")

	descILMRunning    = desc("strata_ilm_running", "1 while a lifecycle pass runs on this node.")
	descILMPasses     = desc("strata_ilm_passes_total", "Complete lifecycle passes.")
	descILMVersions   = desc("strata_ilm_versions_examined_total", "Object versions examined by lifecycle passes (keys this node owns).")
	descILMUploads    = desc("strata_ilm_uploads_examined_total", "Multipart uploads examined by lifecycle passes.")
	descILMExpired    = desc("strata_ilm_expired_total", "Current versions expired by lifecycle rules.")
	descILMNoncurrent = desc("strata_ilm_noncurrent_expired_total", "Noncurrent versions deleted by lifecycle rules.")
	descILMMarkers    = desc("strata_ilm_markers_removed_total", "Expired object delete markers removed.")
	descILMAborted    = desc("strata_ilm_uploads_aborted_total", "Incomplete multipart uploads aborted.")
	descILMErrors     = desc("strata_ilm_errors_total", "Lifecycle actions or listings that failed (retried by the next pass).")

	descGossipMembers = desc("strata_gossip_members", "Nodes alive by gossip, this one included.")

	descAuditQueued  = desc("strata_audit_queued_events", "Audit events waiting for delivery.", "target")
	descAuditSent    = desc("strata_audit_sent_events_total", "Audit events delivered.", "target")
	descAuditDropped = desc("strata_audit_dropped_events_total", "Audit events dropped (queue full, or target failing past its retries).", "target")
	descAuditRetries = desc("strata_audit_retries_total", "Failed audit deliveries that were retried.", "target")
)

// Describe implements prometheus.Collector. The collector is unchecked
// (it describes nothing): the drive and target labels vary between
// scrapes.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	s := c.src
	if s.Drives != nil {
		for _, d := range s.Drives() {
			gauge(descDriveOnline, b2f(d.Online), d.ID, d.Path)
			gauge(descDriveCapacity, float64(d.Capacity), d.ID, d.Path)
			gauge(descDriveUsed, float64(d.Used), d.ID, d.Path)
			gauge(descDriveFree, float64(d.Free), d.ID, d.Path)
			counter(descDriveResets, float64(d.IndexResets), d.ID, d.Path)
		}
	}
	if s.PGs != nil {
		h := s.PGs()
		gauge(descPGs, float64(h.Healthy), "healthy")
		gauge(descPGs, float64(h.Degraded), "degraded")
		gauge(descPGs, float64(h.Unavailable), "unavailable")
	}
	if s.Heal != nil {
		h := s.Heal()
		gauge(descHealScanning, b2f(h.Scanning))
		counter(descHealPasses, float64(h.Passes))
		counter(descHealObjects, float64(h.ObjectsScanned))
		counter(descHealVerified, float64(h.BytesVerified))
		counter(descHealShardsRepaired, float64(h.ShardsRepaired))
		counter(descHealBytesRepaired, float64(h.BytesRepaired))
		counter(descHealErrors, float64(h.Errors))
		gauge(descHealQueued, float64(h.Queued))
		counter(descHealDropped, float64(h.Dropped))
		gauge(descHealRefilling, float64(h.Refilling))
		counter(descHealOrphans, float64(h.OrphansRemoved))
		counter(descHealOrphanBytes, float64(h.OrphanBytesFreed))
	}
	if s.Rebalance != nil {
		r := s.Rebalance()
		gauge(descRebalanceMoving, float64(r.MovingPGs))
		gauge(descRebalanceTotal, float64(r.MovingTotal))
		gauge(descRebalanceActive, b2f(r.Active))
		counter(descRebalanceShards, float64(r.ShardsMoved))
		counter(descRebalanceBytes, float64(r.BytesMoved))
		counter(descRebalanceSettled, float64(r.PGsSettled))
		counter(descRebalanceErrors, float64(r.Errors))
	}
	if s.Raft != nil {
		r := s.Raft()
		gauge(descRaftLeader, b2f(r.Leader))
		gauge(descRaftHasLeader, b2f(r.HasLeader))
		gauge(descRaftTerm, float64(r.Term))
		gauge(descRaftCommit, float64(r.CommitIndex))
		gauge(descRaftApplied, float64(r.AppliedIndex))
		gauge(descRaftLast, float64(r.LastIndex))
	}
	if s.ILM != nil {
		m := s.ILM()
		gauge(descILMRunning, b2f(m.Running))
		counter(descILMPasses, float64(m.Passes))
		counter(descILMVersions, float64(m.Versions))
		counter(descILMUploads, float64(m.Uploads))
		counter(descILMExpired, float64(m.Expired))
		counter(descILMNoncurrent, float64(m.NoncurrentExpired))
		counter(descILMMarkers, float64(m.MarkersRemoved))
		counter(descILMAborted, float64(m.UploadsAborted))
		counter(descILMErrors, float64(m.Errors))
	}
	if s.GossipMembers != nil {
		gauge(descGossipMembers, float64(s.GossipMembers()))
	}
	if s.Audit != nil {
		for _, t := range s.Audit() {
			gauge(descAuditQueued, float64(t.Queued), t.Target)
			counter(descAuditSent, float64(t.Sent), t.Target)
			counter(descAuditDropped, float64(t.Dropped), t.Target)
			counter(descAuditRetries, float64(t.Retries), t.Target)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
