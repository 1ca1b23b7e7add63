package dataplane

import (
	"fmt"
	"slices"
	"sort"

	"github.com/cespare/xxhash/v2"

	"github.com/strata-io/strata/meta"
)

// PGOf returns the placement group of bucket/key in a cluster of pgCount PGs:
// xxhash64 of clusterID, a zero byte, bucket, "/" and key, modulo pgCount.
// Keying by the cluster id makes the spread of keys over PGs differ between
// clusters. Every stored object is found through this function, so it must
// never change for an existing cluster.
func PGOf(clusterID, bucket, key string, pgCount int) int {
	if pgCount <= 0 {
		return 0
	}
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(clusterID)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(bucket)
	_, _ = d.WriteString("/")
	_, _ = d.WriteString(key)
	return int(d.Sum64() % uint64(pgCount))
}

// Defaults for cluster settings left at zero in meta.Cluster.
const (
	DefaultBlockSize = 1 << 20   // bytes of object per erasure block
	DefaultInlineMax = 128 << 10 // objects up to this size are stored inline
)

// topoKey identifies the state a topoCache was built from: the placement
// epoch, and node and drive counts so that a joining node or a new drive
// rebuilds it even while the epoch stays the same.
type topoKey struct {
	epoch  uint64
	nodes  int
	drives int
	moving int // PGs still moving (PGMoved keeps the epoch)
}

// topoCache is what the dataplane derives from one placement epoch, built
// once and shared read-only by all requests of that epoch.
type topoCache struct {
	key       topoKey
	pgs       [][]string        // deep copy of Placement.PGs
	moving    map[int][]string  // deep copy of Placement.Moving: old lists of moving PGs
	driveNode map[string]string // drive id -> node id
	placed    []string          // every drive id named by the placement (moving PGs' old lists too), sorted
	holds     map[string]pgSet  // drive id -> the PGs it may hold records of (current or moving)
	epoch     uint64            // Placement.Epoch
}

// settings are the cluster settings a request needs, with defaults applied.
type settings struct {
	clusterID string
	k, m      int
	pgCount   int
	blockSize int64
	inlineMax int64
}

func settingsOf(c meta.Cluster) settings {
	s := settings{clusterID: c.ID, k: c.K, m: c.M, pgCount: c.PGCount, blockSize: c.BlockSize, inlineMax: c.InlineMax}
	if s.blockSize <= 0 {
		s.blockSize = DefaultBlockSize
	}
	if s.inlineMax <= 0 {
		s.inlineMax = DefaultInlineMax
	}
	return s
}

// driveRef is one PG drive as a request sees it.
type driveRef struct {
	id    string
	store shardStore // never nil: an unreachable drive is an offlineDrive
}

// route is the snapshot of the topology one object request needs.
//
// While the PG moves (a rebalance), alts are the previous epoch's drives
// at the positions that changed: shard pos of a version may still be there
// only. Reads consult drives and alts (answer i >= len(drives) is alt
// i-len(drives)) and count a shard position once; writes go to drives; a
// removal (a version deleted, a null version replaced) also removes it
// from the alt of each position, and counts the position only if both
// did, so a removed version cannot come back from an old drive.
type route struct {
	settings
	bucket string
	key    string
	pg     int
	drives []driveRef // len K+M, in shard order
	alts   []altRef
}

// altRef is a moving PG's old drive at shard position pos.
type altRef struct {
	driveRef
	pos int
}

// at returns answer index i's drive: a PG drive or an alt.
func (rt *route) at(i int) driveRef {
	if i < len(rt.drives) {
		return rt.drives[i]
	}
	return rt.alts[i-len(rt.drives)].driveRef
}

// posOf returns the shard position of answer index i.
func (rt *route) posOf(i int) int {
	if i < len(rt.drives) {
		return i
	}
	return rt.alts[i-len(rt.drives)].pos
}

// all returns the number of answer indexes: drives and alts.
func (rt *route) all() int { return len(rt.drives) + len(rt.alts) }

// altsAt returns the alts of position pos.
func (rt *route) altsAt(pos int) []driveRef {
	var out []driveRef
	for _, a := range rt.alts {
		if a.pos == pos {
			out = append(out, a.driveRef)
		}
	}
	return out
}

// topoCacheLocked returns the cache for st, rebuilding it when st changed.
// It runs inside Topology.View.
func (s *Store) topoCacheLocked(st *meta.State) *topoCache {
	key := topoKey{epoch: st.Placement.Epoch, nodes: len(st.Nodes), moving: len(st.Placement.Moving)}
	for _, n := range st.Nodes {
		key.drives += len(n.Drives)
	}
	if tc := s.topo.Load(); tc != nil && tc.key == key {
		return tc
	}
	tc := &topoCache{key: key, driveNode: map[string]string{}, holds: map[string]pgSet{}, epoch: st.Placement.Epoch}
	for id, n := range st.Nodes {
		for _, d := range n.Drives {
			tc.driveNode[d.ID] = id
		}
	}
	hold := func(pg int, ids []string) {
		for _, id := range ids {
			set := tc.holds[id]
			if set == nil {
				set = newPGSet(len(st.Placement.PGs))
				tc.holds[id] = set
				tc.placed = append(tc.placed, id)
			}
			set.add(pg)
		}
	}
	tc.pgs = make([][]string, len(st.Placement.PGs))
	for i, ids := range st.Placement.PGs {
		tc.pgs[i] = append([]string(nil), ids...)
		hold(i, ids)
	}
	if len(st.Placement.Moving) > 0 {
		tc.moving = make(map[int][]string, len(st.Placement.Moving))
		for pg, ids := range st.Placement.Moving {
			if pg >= 0 && pg < len(tc.pgs) {
				tc.moving[pg] = append([]string(nil), ids...)
				hold(pg, ids)
			}
		}
	}
	sort.Strings(tc.placed)
	s.topo.Store(tc)
	return tc
}

// hasPlacement reports whether st has a usable placement.
func hasPlacement(st *meta.State) bool {
	return st.Placement.Epoch != 0 && len(st.Placement.PGs) > 0 && st.Cluster.PGCount > 0 && st.Cluster.K > 0
}

// route resolves bucket/key to its PG and drives. The topology lock is held
// only while the snapshot is taken, never during I/O.
func (s *Store) route(bucket, key string) (route, error) {
	rt := route{bucket: bucket, key: key}
	var err error
	s.topology.View(func(st *meta.State) {
		if !hasPlacement(st) {
			err = ErrNoPlacement
			return
		}
		rt.settings = settingsOf(st.Cluster)
		tc := s.topoCacheLocked(st)
		rt.pg = PGOf(rt.clusterID, bucket, key, rt.pgCount)
		if rt.pg >= len(tc.pgs) {
			err = fmt.Errorf("%w: pg %d of %d missing from placement epoch %d", ErrNoPlacement, rt.pg, len(tc.pgs), tc.key.epoch)
			return
		}
		ids := tc.pgs[rt.pg]
		if len(ids) != rt.k+rt.m {
			err = fmt.Errorf("%w: pg %d has %d drives, want %d", ErrNoPlacement, rt.pg, len(ids), rt.k+rt.m)
			return
		}
		rt.drives = make([]driveRef, len(ids))
		for i, id := range ids {
			rt.drives[i] = driveRef{id: id, store: s.storeForLocked(st, tc, id)}
		}
		if old := tc.moving[rt.pg]; len(old) == len(ids) {
			for i, id := range old {
				if id != ids[i] && !slices.Contains(ids, id) {
					rt.alts = append(rt.alts, altRef{driveRef: driveRef{id: id, store: s.storeForLocked(st, tc, id)}, pos: i})
				}
			}
		}
	})
	return rt, err
}

// storeForLocked returns how to reach drive id: directly when it is one of
// this node's drives, over rpc when it belongs to a known node with an
// address, else an offlineDrive that fails every call as unreachable.
func (s *Store) storeForLocked(st *meta.State, tc *topoCache, id string) shardStore {
	if d, ok := s.local[id]; ok {
		return localStore{localDrive: d, s: s, id: id}
	}
	nodeID := tc.driveNode[id]
	if nodeID == "" || nodeID == s.cfg.NodeID || s.tr == nil {
		return offlineDrive{id: id}
	}
	n := st.Nodes[nodeID]
	if n == nil || n.RPCAddr == "" {
		return offlineDrive{id: id}
	}
	return &remoteDrive{tr: s.tr, addr: n.RPCAddr, driveID: id, nodeID: nodeID, down: s.cfg.Down}
}

// peer is one node as a fan-out (list, drop bucket) sees it.
type peer struct {
	id   string
	addr string // empty for this node
	self bool
}

// clusterView is the snapshot of the topology a cluster-wide fan-out needs.
type clusterView struct {
	settings
	hasPlacement bool
	peers        []peer
	tc           *topoCache
}

// viewCluster snapshots the nodes (this node always first) and the placement.
func (s *Store) viewCluster() clusterView {
	var cv clusterView
	s.topology.View(func(st *meta.State) {
		cv.settings = settingsOf(st.Cluster)
		cv.hasPlacement = hasPlacement(st)
		cv.tc = s.topoCacheLocked(st)
		cv.peers = append(cv.peers, peer{id: s.cfg.NodeID, self: true})
		ids := make([]string, 0, len(st.Nodes))
		for id, n := range st.Nodes {
			// A node out of the cluster holds nothing and applies no
			// more of the state (it left Raft).
			if id != s.cfg.NodeID && n.State != meta.StateOut {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			cv.peers = append(cv.peers, peer{id: id, addr: st.Nodes[id].RPCAddr})
		}
	})
	return cv
}
