package drivetest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-io/strata/dataplane/drive/drivetest"
)

func TestFaultFS(t *testing.T) {
	dir := t.TempDir()
	ffs := drivetest.NewFaultFS(nil)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")

	f, err := ffs.OpenFile(a, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ffs.FailSync(2, nil)
	if err := f.Sync(); err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("second Sync = %v, want injected", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("a sync fault fires once: %v", err)
	}
	_ = f.Close()

	ffs.TearWrites(func(name string) bool { return name == a })
	f, err = ffs.OpenFile(a, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Write([]byte("abcdef")); n != 3 || !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("torn Write = %d, %v", n, err)
	}
	_ = f.Close()
	if got, _ := os.ReadFile(a); string(got) != "abc" {
		t.Fatalf("file after torn write = %q", got)
	}

	ffs.FailRename(func(o, _ string) bool { return strings.HasSuffix(o, "/a") })
	if err := ffs.Rename(a, b); !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("Rename = %v", err)
	}
	ffs.FailOpen(func(name string, _ int) bool { return name == b })
	if _, err := ffs.OpenFile(b, os.O_CREATE|os.O_WRONLY, 0o600); !errors.Is(err, drivetest.ErrInjected) {
		t.Fatalf("OpenFile = %v", err)
	}
	ffs.Reset()
	if err := ffs.Rename(a, b); err != nil {
		t.Fatalf("Rename after Reset: %v", err)
	}
}
