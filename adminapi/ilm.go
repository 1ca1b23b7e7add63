package adminapi

import "time"

// NodeILM is one node's lifecycle execution (package ilm): its passes over
// the buckets that have lifecycle rules, acting on the keys the node owns.
// Part of NodeStatus (cluster status); `stratactl ilm status` shows it.
type NodeILM struct {
	Running     bool      `json:"running"`       // a pass is in progress
	Passes      int64     `json:"passes"`        // complete passes
	PassStarted time.Time `json:"pass_started"`  // of the pass in progress or the last one; zero before the first
	LastPassEnd time.Time `json:"last_pass_end"` // zero before the first complete pass
	NextPass    time.Time `json:"next_pass"`     // zero while a pass runs or when passes are off
	Bucket      string    `json:"bucket,omitempty"`
	Resumed     bool      `json:"resumed,omitempty"` // the pass continues one a restart interrupted
	// Pass counts the pass in progress, or the last one when none runs;
	// Total every pass the node's state file remembers.
	Pass      ILMCounters `json:"pass"`
	Total     ILMCounters `json:"total"`
	LastError string      `json:"last_error,omitempty"`
}

// ILMCounters are what lifecycle passes did.
type ILMCounters struct {
	Buckets           int64 `json:"buckets"`            // buckets with rules walked
	Versions          int64 `json:"versions"`           // object versions examined (of the keys the node owns)
	Uploads           int64 `json:"uploads"`            // multipart uploads examined
	Expired           int64 `json:"expired"`            // current versions expired
	NoncurrentExpired int64 `json:"noncurrent_expired"` // noncurrent versions deleted
	MarkersRemoved    int64 `json:"markers_removed"`    // expired object delete markers removed
	UploadsAborted    int64 `json:"uploads_aborted"`
	Errors            int64 `json:"errors"`
}
