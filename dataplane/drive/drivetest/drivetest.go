package drivetest

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/strata-io/strata/dataplane/drive"
)

// NewDrive opens a fresh drive in a new t.TempDir() through fsys (nil: the
// OS file system), logging to t, and closes it when the test ends. The
// folder is d.Path(); reopen it with Open.
func NewDrive(t testing.TB, fsys drive.FS) *drive.Drive {
	t.Helper()
	return Open(t, t.TempDir(), fsys)
}

// Open opens the drive folder dir through fsys (nil: the OS file system),
// logging to t, fails the test on error, and closes the drive when the test
// ends (a drive the test closed itself is fine).
func Open(t testing.TB, dir string, fsys drive.FS) *drive.Drive {
	t.Helper()
	d, err := drive.Open(dir, drive.Options{FS: fsys, Logger: Logger(t)})
	if err != nil {
		t.Fatalf("drive.Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil && !errors.Is(err, drive.ErrClosed) {
			t.Errorf("close drive %s: %v", dir, err)
		}
	})
	return d
}

// Logger returns a logger that writes to t.Log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tlogWriter forwards each log line to t.Log.
type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
