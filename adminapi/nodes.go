package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The node lifecycle routes: decommission (drain) and its cancellation.
// Rebalance and drain progress are part of ClusterStatus (Rebalance, and
// each node's Rebalance).
const (
	PathNodes = PathPrefix + "nodes"
)

// Error codes of the node routes.
const (
	CodeNoSuchNode          = "NoSuchNode"          // 404
	CodeDecommissionRefused = "DecommissionRefused" // 409: the rest cannot hold the data or the EC layout, or the node is not up
)

// DecommissionRequest is the body of POST nodes/ID/decommission.
type DecommissionRequest struct {
	// Force accepts a drain that leaves fewer nodes than a PG has shards
	// (a PG then has several shards on one node: losing that node loses
	// more than one shard). Never overrides the capacity check.
	Force bool `json:"force,omitempty"`
}

// DecommissionResult answers the decommission routes.
type DecommissionResult struct {
	Node  string `json:"node"`
	State string `json:"state"` // draining, up (cancelled), out
	// DataBytes is the data on the node's drives (their file systems'
	// used bytes) and FreeBytes the free space of the drives that take it.
	DataBytes uint64 `json:"data_bytes"`
	FreeBytes uint64 `json:"free_bytes"`
	Message   string `json:"message"`
}

// NodeRebalance is one node's part of a rebalance: the moving PGs it
// migrates (those whose first new drive it holds) and its counters since
// it started.
type NodeRebalance struct {
	Active      bool   `json:"active"`
	OwnedPGs    int    `json:"owned_pgs"`
	Rounds      int64  `json:"rounds"`
	Versions    int64  `json:"versions"`
	ShardsMoved int64  `json:"shards_moved"`
	BytesMoved  int64  `json:"bytes_moved"`
	Verified    int64  `json:"verified"`
	PGsSettled  int64  `json:"pgs_settled"`
	Errors      int64  `json:"errors"`
	LastError   string `json:"last_error,omitempty"`
}

// RebalanceInfo is the cluster's rebalance as the placement records it.
type RebalanceInfo struct {
	Epoch       uint64    `json:"epoch"`
	MovingPGs   int       `json:"moving_pgs"`   // PGs still moving
	MovingTotal int       `json:"moving_total"` // PGs the epoch moves
	TotalPGs    int       `json:"total_pgs"`
	Started     time.Time `json:"started"` // when the epoch was installed
}

// Decommission drains node id: its PGs move to the other nodes, and it
// leaves the cluster (and Raft) once it holds nothing.
func (c *Client) Decommission(ctx context.Context, id string, force bool) (DecommissionResult, error) {
	var out DecommissionResult
	err := c.Do(ctx, http.MethodPost, PathNodes+"/"+url.PathEscape(id)+"/decommission", DecommissionRequest{Force: force}, &out)
	return out, err
}

// CancelDecommission stops draining node id; its PGs move back.
func (c *Client) CancelDecommission(ctx context.Context, id string) (DecommissionResult, error) {
	var out DecommissionResult
	err := c.Do(ctx, http.MethodDelete, PathNodes+"/"+url.PathEscape(id)+"/decommission", nil, &out)
	return out, err
}
