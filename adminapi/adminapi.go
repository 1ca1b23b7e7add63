package adminapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// PathPrefix is the URL prefix of every admin API route.
const PathPrefix = "/strata/admin/v1/"

// Routes, relative to the endpoint.
const (
	PathClusterStatus = PathPrefix + "cluster/status"
)

// ClusterStatus answers GET cluster/status: the answering node's view of
// the cluster (replicated state, Raft, gossip liveness, and the drives'
// statistics as each live node reports them).
type ClusterStatus struct {
	ClusterID      string       `json:"cluster_id"`
	EC             string       `json:"ec"` // "K+M"
	PGCount        int          `json:"pg_count"`
	BlockSize      int64        `json:"block_size"`
	InlineMax      int64        `json:"inline_max"`
	PlacementEpoch uint64       `json:"placement_epoch"`
	Leader         string       `json:"leader"` // node id, empty when none
	Buckets        int          `json:"buckets"`
	Nodes          []NodeStatus `json:"nodes"`
	// Node is the id of the node that answered: Raft indexes are its view.
	Node      string       `json:"node"`
	Raft      RaftStatus   `json:"raft"`
	PGs       PGHealth     `json:"pgs"`
	Survival  Survival     `json:"survival"`
	Heal      TaskProgress `json:"heal"`      // zero while no heal runs
	Rebalance TaskProgress `json:"rebalance"` // zero while no rebalance runs
	// Moving is the placement's rebalance: PGs of the current epoch still
	// moving.
	Moving RebalanceInfo `json:"moving"`
}

// NodeStatus is one node as the cluster records it, or a live node that is
// not recorded yet (State "joining").
type NodeStatus struct {
	ID         string         `json:"id"`
	RPCAddr    string         `json:"rpc_addr"`
	S3Addr     string         `json:"s3_addr"`
	GossipAddr string         `json:"gossip_addr,omitempty"` // live nodes only
	Version    string         `json:"version,omitempty"`     // build version; live nodes only
	State      string         `json:"state"`                 // up, draining, out, joining
	Raft       string         `json:"raft"`                  // voter, nonvoter, or none
	Alive      bool           `json:"alive"`                 // seen by gossip now
	Drives     []DriveStatus  `json:"drives"`                // in --data order
	Heal       *NodeHeal      `json:"heal,omitempty"`        // live nodes only
	Rebalance  *NodeRebalance `json:"rebalance,omitempty"`   // live nodes only
	ILM        *NodeILM       `json:"ilm,omitempty"`         // live nodes only (ilm.go)
}

// NodeHeal is one node's self-healing: its scanner (which walks the PGs
// the node is responsible for, verifying every shard), its read-repair
// queue and the drives it is refilling.
type NodeHeal struct {
	Scanning     bool      `json:"scanning"`
	Passes       int64     `json:"passes"`        // complete scanner passes
	PassStarted  time.Time `json:"pass_started"`  // zero before the first pass
	LastPassEnd  time.Time `json:"last_pass_end"` // zero before the first complete pass
	NextPass     time.Time `json:"next_pass"`     // zero while scanning or when disabled
	PGs          int       `json:"pgs"`           // PGs this node scans
	PassVersions int64     `json:"pass_versions"` // versions inspected by this pass
	LastPassSeen int64     `json:"last_pass_seen"`
	ETASeconds   float64   `json:"eta_seconds"` // remaining time of this pass; 0 when unknown

	ObjectsScanned  int64    `json:"objects_scanned"`
	BytesVerified   int64    `json:"bytes_verified"`
	ShardsRepaired  int64    `json:"shards_repaired"`
	RecordsRepaired int64    `json:"records_repaired"`
	BytesRepaired   int64    `json:"bytes_repaired"`
	Errors          int64    `json:"errors"`
	Queued          int      `json:"queued"` // read repairs waiting
	Dropped         int64    `json:"dropped"`
	Refilling       []string `json:"refilling,omitempty"` // drive ids
	// Orphan sweeps of the node's drives: shard files no record refers
	// to, removed once old enough.
	OrphanSweeps     int64 `json:"orphan_sweeps,omitempty"`
	OrphansRemoved   int64 `json:"orphans_removed,omitempty"`
	OrphanBytesFreed int64 `json:"orphan_bytes_freed,omitempty"`
}

// DriveStatus is one drive of a node. Capacity, Used and Free are the
// statistics of the file system holding the drive folder (bytes), as its
// node reported them; zero when the node did not answer.
type DriveStatus struct {
	ID       string `json:"id"`
	Path     string `json:"path,omitempty"`
	State    string `json:"state"`  // up, draining, out (as recorded)
	Online   bool   `json:"online"` // its node is alive and it answered now
	PGs      int    `json:"pgs"`    // placement groups with a shard on this drive
	Capacity uint64 `json:"capacity"`
	Used     uint64 `json:"used"`
	Free     uint64 `json:"free"`            // available to the node
	Error    string `json:"error,omitempty"` // why it is offline, when known
	// IndexResets counts the times its node found the drive's index
	// damaged and replaced it by a fresh one (refilled from the other
	// drives) since the node started.
	IndexResets int `json:"index_resets,omitempty"`
}

// RaftStatus is the control plane's consensus state.
type RaftStatus struct {
	Leader       string   `json:"leader"` // node id, empty when none
	Term         uint64   `json:"term"`
	CommitIndex  uint64   `json:"commit_index"`
	AppliedIndex uint64   `json:"applied_index"`
	Voters       []string `json:"voters"`
	NonVoters    []string `json:"nonvoters"`
	// Tolerates is how many more voters may fail with Raft still able to
	// commit: live voters minus the quorum (negative: no quorum now).
	Tolerates int `json:"tolerates"`
}

// PGHealth counts placement groups by how many of their K+M drives are
// online: Healthy all, Degraded fewer but at least K (every object stays
// readable), Unavailable fewer than K.
type PGHealth struct {
	Total       int `json:"total"`
	Healthy     int `json:"healthy"`
	Degraded    int `json:"degraded"`
	Unavailable int `json:"unavailable"`
}

// Survival says how many further losses every object survives now, from
// the placement and which drives are online. Drives: any that many drives
// may fail; Nodes: any that many nodes. Both are -1 while some placement
// group is unavailable, and 0 without a placement.
type Survival struct {
	Drives  int    `json:"drives"`
	Nodes   int    `json:"nodes"`
	Summary string `json:"summary"` // one sentence for people
}

// TaskProgress is the progress of a background task over placement groups
// (healing, rebalancing).
type TaskProgress struct {
	Active         bool    `json:"active"`
	PGsDone        int     `json:"pgs_done"`
	PGsTotal       int     `json:"pgs_total"`
	BytesDone      int64   `json:"bytes_done"`
	BytesTotal     int64   `json:"bytes_total"` // 0 when not known in advance
	BytesPerSecond float64 `json:"bytes_per_second"`
}

// Error is the JSON body of a failed admin call.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"-"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status) }

// Client calls the admin API with SigV4-signed requests.
type Client struct {
	Endpoint  string // e.g. http://127.0.0.1:9000
	AccessKey string
	SecretKey string
	// SessionToken is set with temporary (STS) credentials: requests and
	// presigned URLs carry it as X-Amz-Security-Token. The admin API
	// itself refuses temporary credentials; presigned URLs take them.
	SessionToken string
	Region       string // default us-east-1
	HTTP         *http.Client
}

// ClusterStatus fetches the cluster's status.
func (c *Client) ClusterStatus(ctx context.Context) (ClusterStatus, error) {
	var out ClusterStatus
	err := c.Do(ctx, http.MethodGet, PathClusterStatus, nil, &out)
	return out, err
}

// Do sends a signed JSON request (in may be nil) and decodes the JSON answer
// into out (may be nil). A non-2xx answer is returned as *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("x-amz-content-sha256", hash)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey, SessionToken: c.SessionToken}
	// The path is sent as PathSegment escaped it, which is already the
	// canonical form: the signer must not escape it again.
	noEscape := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "s3", region, time.Now(), noEscape); err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(b, e) != nil || e.Code == "" {
			e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(b))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("adminapi: bad response from %s: %w", path, err)
	}
	return nil
}
