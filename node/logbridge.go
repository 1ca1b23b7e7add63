package node

import (
	"bytes"
	"context"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// levelWriter turns the text lines of the hashicorp libraries' loggers
// ("[WARN] raft: ...", "[ERR] memberlist: ...") into slog records at the
// matching level, so a node has one log stream.
type levelWriter struct{ log *slog.Logger }

var levelTags = []struct {
	tag   []byte
	level slog.Level
}{
	{[]byte("[ERR]"), slog.LevelError},
	{[]byte("[ERROR]"), slog.LevelError},
	{[]byte("[WARN]"), slog.LevelWarn},
	{[]byte("[INFO]"), slog.LevelInfo},
	{[]byte("[DEBUG]"), slog.LevelDebug},
	{[]byte("[TRACE]"), slog.LevelDebug},
}

func (w levelWriter) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	level := slog.LevelInfo
	for _, t := range levelTags {
		if i := bytes.Index(line, t.tag); i >= 0 {
			level = t.level
			line = bytes.TrimSpace(line[i+len(t.tag):])
			break
		}
	}
	w.log.Log(context.Background(), level, string(line))
	return len(p), nil
}

// stdLogger bridges a *log.Logger (memberlist) to slog.
func stdLogger(l *slog.Logger) *log.Logger {
	return log.New(levelWriter{l}, "", 0)
}

// hcLogger bridges an hclog.Logger (hashicorp/raft) to slog. Raft is chatty at
// info level, so only warnings and errors pass unless slog is at debug.
func hcLogger(l *slog.Logger) hclog.Logger {
	level := hclog.Warn
	if l.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:            "raft",
		Level:           level,
		Output:          levelWriter{l},
		DisableTime:     true,
		IncludeLocation: false,
	})
}
