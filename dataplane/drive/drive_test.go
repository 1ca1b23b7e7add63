package drive_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/dataplane/drive"
	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

func readFormatFile(t *testing.T, dir string) drive.Format {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "strata.format"))
	if err != nil {
		t.Fatal(err)
	}
	var f drive.Format
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenCreatesAndReopenKeepsID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "drive") // parents do not exist yet
	d, err := drive.Open(dir, drive.Options{Logger: drivetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	f := d.Format()
	if f.Version != drive.FormatVersion || len(f.DriveID) != 32 || f.ClusterID != "" || f.NodeID != "" {
		t.Fatalf("new format = %+v", f)
	}
	if d.ID() != f.DriveID || d.Path() != dir {
		t.Fatalf("ID %q Path %q", d.ID(), d.Path())
	}
	if onDisk := readFormatFile(t, dir); onDisk != f {
		t.Fatalf("format file %+v, Format() %+v", onDisk, f)
	}
	for _, sub := range []string{"tmp", "shards", "index.db"} {
		if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
			t.Errorf("%s: %v", sub, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); !errors.Is(err, drive.ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}

	d2 := drivetest.Open(t, dir, nil)
	if d2.ID() != f.DriveID {
		t.Fatalf("reopened id %s, want %s", d2.ID(), f.DriveID)
	}
	other := drivetest.NewDrive(t, nil)
	if other.ID() == d2.ID() {
		t.Fatal("two drives got the same id")
	}
}

func TestOpenRefusesBadFormat(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    error
	}{
		{"future version", `{"version":2,"drive_id":"abc"}`, drive.ErrUnknownFormat},
		{"version zero", `{"drive_id":"abc"}`, drive.ErrUnknownFormat},
		{"garbage", `{"version":1,`, drive.ErrCorrupt},
		{"no drive id", `{"version":1}`, drive.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "strata.format")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := drive.Open(dir, drive.Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.content {
				t.Errorf("format file was rewritten: %q", got)
			}
			if _, err := os.Stat(filepath.Join(dir, "index.db")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("index created in a refused folder: %v", err)
			}
		})
	}
}

func TestOpenNotADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := drive.Open(path, drive.Options{}); err == nil {
		t.Fatal("Open of a regular file succeeded")
	}
}

func TestOpenReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if _, err := drive.Open(dir, drive.Options{}); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("Open = %v, want a permission error", err)
	}
}

func TestOpenFailsOnUnsyncableFolder(t *testing.T) {
	ffs := drivetest.NewFaultFS(nil)
	ffs.FailSync(1, nil)
	if _, err := drive.Open(t.TempDir(), drive.Options{FS: ffs}); !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("Open = %v, want the injected fsync error", err)
	}
}

func TestSecondOpenFailsWhileOpen(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	start := time.Now()
	_, err := drive.Open(d.Path(), drive.Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, drive.ErrInUse) {
		t.Fatalf("second Open = %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), d.Path()) {
		t.Errorf("error %q does not name the drive", err)
	}
	t.Logf("second Open failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	drivetest.Open(t, d.Path(), nil) // free again once closed
}

func TestBind(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	if err := d.Bind("c1", "n1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Bind("c1", "n1"); err != nil {
		t.Fatalf("rebind with the same ids: %v", err)
	}
	want := d.Format()
	if want.ClusterID != "c1" || want.NodeID != "n1" {
		t.Fatalf("format after Bind = %+v", want)
	}
	cases := []struct {
		cluster, node string
		want          error
	}{
		{"c2", "n1", drive.ErrForeignCluster},
		{"c2", "n2", drive.ErrForeignCluster},
		{"c1", "n2", drive.ErrForeignNode},
		{"", "n1", drive.ErrBadName},
		{"c1", "", drive.ErrBadName},
	}
	for _, tc := range cases {
		err := d.Bind(tc.cluster, tc.node)
		if !errors.Is(err, tc.want) {
			t.Errorf("Bind(%q, %q) = %v, want %v", tc.cluster, tc.node, err, tc.want)
		}
		if tc.want == drive.ErrForeignCluster && (!strings.Contains(err.Error(), "c1") || !strings.Contains(err.Error(), d.Path())) {
			t.Errorf("error %q should name the stored cluster and the drive", err)
		}
	}
	if got := d.Format(); got != want {
		t.Fatalf("format changed by refused binds: %+v", got)
	}
	if got := readFormatFile(t, d.Path()); got != want {
		t.Fatalf("format file changed by refused binds: %+v", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := drivetest.Open(t, d.Path(), nil)
	if got := d2.Format(); got != want {
		t.Fatalf("reopened format %+v, want %+v", got, want)
	}
	if err := d2.Bind("c2", "n1"); !errors.Is(err, drive.ErrForeignCluster) {
		t.Fatalf("Bind after reopen = %v", err)
	}
}

func TestBindWriteFailureKeepsFormat(t *testing.T) {
	ffs := drivetest.NewFaultFS(nil)
	d := drivetest.NewDrive(t, ffs)
	before := d.Format()
	ffs.FailRename(func(_, newpath string) bool { return strings.HasSuffix(newpath, "strata.format") })
	if err := d.Bind("c1", "n1"); !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("Bind = %v, want injected error", err)
	}
	if d.Format() != before || readFormatFile(t, d.Path()) != before {
		t.Fatal("a failed Bind changed the format")
	}
	ffs.Reset()
	if err := d.Bind("c1", "n1"); err != nil {
		t.Fatal(err)
	}
}

func TestClosedDrive(t *testing.T) {
	d := drivetest.NewDrive(t, nil)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err1 := d.WriteShard(ctx, "x1", strings.NewReader("x"))
	_, err2 := d.ReadVersion(ctx, "b", "k", drive.Ref{})
	_, _, err3 := d.List(ctx, "b", drive.ListOptions{Prefix: "", Delimiter: "", After: "", Limit: 10})
	err4 := d.CommitVersion(ctx, drive.FileInfo{Bucket: "b", Key: "k", VersionID: "v"})
	_, err5 := d.OpenShard(ctx, "x1", 0, -1)
	err6 := d.DropBucket(ctx, "b")
	err7 := d.AbortShard(ctx, "x1")
	err8 := d.Bind("c", "n")
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
		if !errors.Is(err, drive.ErrClosed) {
			t.Errorf("call %d after Close = %v, want ErrClosed", i+1, err)
		}
	}
}
