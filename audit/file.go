package audit

import (
	"context"
	"fmt"
	"os"
)

// File appends batches to a local file, one JSON event per line. The file
// is opened in append mode, so that log rotation by copy-and-truncate
// works.
type File struct {
	f *os.File
}

// OpenFile opens (creating it, mode 0600) the file at path for appending.
func OpenFile(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit file: %w", err)
	}
	return &File{f: f}, nil
}

// Send implements Sender: one write of the batch's lines.
func (f *File) Send(_ context.Context, batch [][]byte) error {
	var buf []byte
	for _, ev := range batch {
		buf = append(append(buf, ev...), '\n')
	}
	_, err := f.f.Write(buf)
	return err
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }
