package drive

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// newDriveID returns a random 128-bit drive id in hex.
func newDriveID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes instead)
	return hex.EncodeToString(b[:])
}

// readFormat reads dir's format file. found is false (and err nil) when
// there is none. An unparseable file gives ErrCorrupt, a version other than
// FormatVersion ErrUnknownFormat; both name the path.
func readFormat(fsys FS, dir string) (f Format, found bool, err error) {
	path := filepath.Join(dir, formatFile)
	file, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return Format{}, false, nil
	}
	if err != nil {
		return Format{}, false, fmt.Errorf("drive %s: read format: %w", dir, err)
	}
	data, err := io.ReadAll(file)
	_ = file.Close() // read-only: nothing to lose
	if err != nil {
		return Format{}, false, fmt.Errorf("drive %s: read format %s: %w", dir, path, err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Format{}, false, fmt.Errorf("drive %s: format file %s cannot be parsed (%v): %w", dir, path, err, ErrCorrupt)
	}
	if f.Version != FormatVersion {
		return Format{}, false, fmt.Errorf("drive %s: format file %s has version %d, this build reads %d: %w", dir, path, f.Version, FormatVersion, ErrUnknownFormat)
	}
	if f.DriveID == "" {
		return Format{}, false, fmt.Errorf("drive %s: format file %s has no drive id: %w", dir, path, ErrCorrupt)
	}
	return f, true, nil
}

// writeFormat replaces dir's format file atomically and durably: temp file,
// fsync, rename, fsync of dir. On error the old file is untouched.
func writeFormat(fsys FS, dir string, f Format) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("drive %s: encode format: %w", dir, err)
	}
	data = append(data, '\n')
	tmp := filepath.Join(dir, formatTmpFile)
	path := filepath.Join(dir, formatFile)
	if err := writeFileSync(fsys, tmp, data); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("drive %s: write format: %w", dir, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("drive %s: write format: %w", dir, err)
	}
	if err := syncDir(fsys, dir); err != nil {
		return fmt.Errorf("drive %s: write format: %w", dir, err)
	}
	return nil
}

// writeFileSync writes data to a new or truncated file name and fsyncs it.
func writeFileSync(fsys FS, name string, data []byte) error {
	file, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return err
	}
	n, err := file.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it survive a crash.
func syncDir(fsys FS, dir string) error {
	f, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// Bind records clusterID and nodeID in the format file (fsync'd) when it has
// none, and returns ErrForeignCluster when it holds a different cluster id.
//
// A drive of this cluster bound to another node gives ErrForeignNode: moving
// a drive between nodes must be an explicit operator action. Binding again
// with the same ids is a no-op. A failed write leaves Format unchanged.
func (d *Drive) Bind(clusterID, nodeID string) error {
	if clusterID == "" || nodeID == "" {
		return fmt.Errorf("drive %s: bind needs a cluster id and a node id: %w", d.dir, ErrBadName)
	}
	if d.closed.Load() {
		return ErrClosed
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := *d.format.Load()
	if cur.ClusterID != "" && cur.ClusterID != clusterID {
		return fmt.Errorf("drive %s: bound to cluster %s, not %s: %w", d.dir, cur.ClusterID, clusterID, ErrForeignCluster)
	}
	if cur.NodeID != "" && cur.NodeID != nodeID {
		return fmt.Errorf("drive %s: bound to node %q of cluster %s, not %q: %w", d.dir, cur.NodeID, clusterID, nodeID, ErrForeignNode)
	}
	if cur.ClusterID == clusterID && cur.NodeID == nodeID {
		return nil
	}
	next := cur
	next.ClusterID, next.NodeID = clusterID, nodeID
	if err := writeFormat(d.fs, d.dir, next); err != nil {
		return err
	}
	d.format.Store(&next)
	d.log.Info("drive bound", "cluster", clusterID, "node", nodeID)
	return nil
}
