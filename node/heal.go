package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/strata-io/strata/dataplane"
)

// The drive map remembers which drive id each --data folder had, so that an
// empty folder replacing a failed drive (same path, wiped or a new disk
// mounted there) is formatted with the old id: the placement still names
// that drive, the cluster sees no topology change, and the data plane
// refills it from the other shards of its PGs (dataplane.Store.Refill).
// Every drive folder holds a copy, so any one of them may be replaced,
// the first (which holds the Raft state as well) included: a node whose
// Raft state is gone rejoins the cluster and catches up from the leader.
const driveMapFile = "strata-drives.json"

// driveMap is the content of the drive map file: folder path -> drive id.
type driveMap struct {
	Drives map[string]string `json:"drives"`
}

func driveMapPath(dir string) string { return filepath.Join(dir, driveMapFile) }

// readDriveMaps merges the copies of the drive map in the folders data;
// where copies disagree on a folder (a copy left from an older layout),
// the entry most copies hold wins. It returns the merged map and each
// folder's own copy (to rewrite only those that differ).
func readDriveMaps(data []string) (map[string]string, []map[string]string, error) {
	own := make([]map[string]string, len(data))
	votes := map[string]map[string]int{} // folder -> id -> copies naming it
	for i, dir := range data {
		m, err := readDriveMap(driveMapPath(dir))
		if err != nil {
			return nil, nil, err
		}
		own[i] = m
		for path, id := range m {
			if votes[path] == nil {
				votes[path] = map[string]int{}
			}
			votes[path][id]++
		}
	}
	merged := map[string]string{}
	for path, ids := range votes {
		best, n := "", 0
		for id, c := range ids {
			if c > n || c == n && id < best {
				best, n = id, c
			}
		}
		merged[path] = best
	}
	return merged, own, nil
}

// readDriveMap reads the drive map; a missing file is an empty map.
func readDriveMap(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("drive map %s: %w", path, err)
	}
	var m driveMap
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("drive map %s: %w", path, err)
	}
	if m.Drives == nil {
		m.Drives = map[string]string{}
	}
	return m.Drives, nil
}

// writeDriveMap replaces the drive map durably (temp file, fsync, rename,
// fsync of the folder) when it differs from old.
func writeDriveMap(path string, old, cur map[string]string) error {
	if maps.Equal(old, cur) {
		return nil
	}
	b, err := json.MarshalIndent(driveMap{Drives: cur}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("drive map %s: %w", path, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("drive map %s: %w", path, err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("drive map %s: %w", path, err)
	}
	err = dir.Sync()
	_ = dir.Close()
	if err != nil {
		return fmt.Errorf("drive map %s: %w", path, err)
	}
	return nil
}

// alive reports whether gossip sees node id (the data plane's scanner
// asks, to pick the node that scans each PG).
func (n *Node) alive(id string) bool {
	if n.gossip == nil {
		return false
	}
	for _, m := range n.gossip.Members() {
		if m.ID == id {
			return true
		}
	}
	return false
}

// down reports whether gossip declared node id dead (dataplane.Config.Down).
func (n *Node) down(id string) bool { return n.gossip != nil && n.gossip.Down(id) }

// HealStatus reports this node's healing progress: read repairs, scanner
// passes and drive refills (stratactl heal status).
func (n *Node) HealStatus() dataplane.HealStatus { return n.data.HealStatus() }
