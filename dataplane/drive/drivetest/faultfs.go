package drivetest

import (
	"errors"
	"io/fs"
	"os"
	"sync"

	"github.com/strata-io/strata/dataplane/drive"
)

// ErrInjected is the error every injected fault returns (wrapped in an
// *fs.PathError naming the file). Match with errors.Is.
var ErrInjected = errors.New("drivetest: injected fault")

// FaultFS wraps an FS and fails chosen operations. The zero value is not
// usable: build one with NewFaultFS. Faults are armed with the Fail* and
// Tear* methods and stay armed until Reset, except FailSync which fires once.
// Safe for concurrent use.
type FaultFS struct {
	inner drive.FS

	mu        sync.Mutex
	syncs     int // Sync calls seen so far
	failSync  int // fail the Sync call with this number (1-based); 0: none
	syncMatch func(name string) bool
	rename    func(oldpath, newpath string) bool
	chmod     func(name string) bool
	open      func(name string, flag int) bool
	tear      func(name string) bool
	noDirect  bool
}

var _ drive.FS = (*FaultFS)(nil)

// NewFaultFS wraps inner (nil: drive.OSFS) with no fault armed.
func NewFaultFS(inner drive.FS) *FaultFS {
	if inner == nil {
		inner = drive.OSFS{}
	}
	return &FaultFS{inner: inner}
}

// FailSync makes the n-th Sync call from now (n >= 1; 1 = the next one) on
// a file whose name satisfies match (nil: any file or folder) fail with
// ErrInjected. It fires once.
func (f *FaultFS) FailSync(n int, match func(name string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs, f.failSync, f.syncMatch = 0, n, match
}

// FailRename makes every Rename for which match returns true fail with
// ErrInjected, leaving both paths untouched.
func (f *FaultFS) FailRename(match func(oldpath, newpath string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rename = match
}

// FailChmod makes every Chmod of a name for which match returns true fail
// with ErrInjected, leaving the file untouched.
func (f *FaultFS) FailChmod(match func(name string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chmod = match
}

// FailOpen makes every OpenFile for which match returns true fail with
// ErrInjected.
func (f *FaultFS) FailOpen(match func(name string, flag int) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.open = match
}

// TearWrites makes every Write to a file opened (after this call) with a
// name for which match returns true write only the first half of its
// buffer and fail with ErrInjected: a torn write.
func (f *FaultFS) TearWrites(match func(name string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tear = match
}

// RefuseDirect makes SetDirect(true) fail with ErrInjected, as on a file
// system without direct I/O.
func (f *FaultFS) RefuseDirect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.noDirect = true
}

// Reset disarms every fault.
func (f *FaultFS) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs, f.failSync, f.syncMatch, f.rename, f.chmod, f.open, f.tear, f.noDirect = 0, 0, nil, nil, nil, nil, nil, false
}

// shouldFailSync counts a Sync of name and reports whether it must fail.
func (f *FaultFS) shouldFailSync(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSync == 0 || (f.syncMatch != nil && !f.syncMatch(name)) {
		return false
	}
	f.syncs++
	if f.syncs == f.failSync {
		f.failSync = 0
		return true
	}
	return false
}

// OpenFile opens name on the inner FS, unless an open fault matches.
func (f *FaultFS) OpenFile(name string, flag int, perm fs.FileMode) (drive.File, error) {
	f.mu.Lock()
	failOpen := f.open != nil && f.open(name, flag)
	tear := f.tear != nil && f.tear(name)
	f.mu.Unlock()
	if failOpen {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrInjected}
	}
	file, err := f.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, name: name, tear: tear}, nil
}

// Rename renames on the inner FS, unless a rename fault matches.
func (f *FaultFS) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	fail := f.rename != nil && f.rename(oldpath, newpath)
	f.mu.Unlock()
	if fail {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: ErrInjected}
	}
	return f.inner.Rename(oldpath, newpath)
}

// Chmod changes name's mode on the inner FS, unless a chmod fault matches.
func (f *FaultFS) Chmod(name string, mode fs.FileMode) error {
	f.mu.Lock()
	fail := f.chmod != nil && f.chmod(name)
	f.mu.Unlock()
	if fail {
		return &fs.PathError{Op: "chmod", Path: name, Err: ErrInjected}
	}
	return f.inner.Chmod(name, mode)
}

// Remove removes name on the inner FS.
func (f *FaultFS) Remove(name string) error { return f.inner.Remove(name) }

// RemoveAll removes name on the inner FS.
func (f *FaultFS) RemoveAll(name string) error { return f.inner.RemoveAll(name) }

// MkdirAll creates name on the inner FS.
func (f *FaultFS) MkdirAll(name string, perm fs.FileMode) error { return f.inner.MkdirAll(name, perm) }

// Stat stats name on the inner FS.
func (f *FaultFS) Stat(name string) (fs.FileInfo, error) { return f.inner.Stat(name) }

// ReadDir reads name on the inner FS.
func (f *FaultFS) ReadDir(name string) ([]fs.DirEntry, error) { return f.inner.ReadDir(name) }

// faultFile is a File of a FaultFS.
type faultFile struct {
	drive.File
	fs   *FaultFS
	name string
	tear bool
}

// Write writes p, or only its first half followed by ErrInjected when the
// file was opened with a tear fault armed.
func (w *faultFile) Write(p []byte) (int, error) {
	if !w.tear {
		return w.File.Write(p)
	}
	n, err := w.File.Write(p[:len(p)/2])
	if err != nil {
		return n, err
	}
	return n, &fs.PathError{Op: "write", Path: w.name, Err: ErrInjected}
}

// SetDirect switches direct I/O on the inner file, unless RefuseDirect
// is armed.
func (w *faultFile) SetDirect(on bool) error {
	w.fs.mu.Lock()
	refuse := on && w.fs.noDirect
	w.fs.mu.Unlock()
	if refuse {
		return &fs.PathError{Op: "fcntl", Path: w.name, Err: ErrInjected}
	}
	return w.File.SetDirect(on)
}

// Sync fsyncs the file, unless a sync fault fires.
func (w *faultFile) Sync() error {
	if w.fs.shouldFailSync(w.name) {
		return &fs.PathError{Op: "sync", Path: w.name, Err: ErrInjected}
	}
	return w.File.Sync()
}
