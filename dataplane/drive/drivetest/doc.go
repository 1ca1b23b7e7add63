// Package drivetest holds test helpers for dataplane/drive: FaultFS, an FS
// wrapper that injects fsync, rename, open and torn-write faults, and
// NewDrive, which opens a drive in a test's temporary folder.
//
// It is imported only by tests. It must not import any Strata package other
// than dataplane/drive.
package drivetest
