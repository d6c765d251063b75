// Package logging writes the log file in the seed's format,
// "YYYY-MM-DD HH:MM:SS - NAME - LEVEL - MESSAGE", so existing monitoring
// (grep "Export abgeschlossen", grep ERROR) keeps working.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Handler is a slog.Handler for the seed's line format. Attributes are
// appended as key=value after the message.
type Handler struct {
	mu    *sync.Mutex
	w     io.Writer
	name  string
	level slog.Leveler
	attrs string
	now   func() time.Time
}

// NewHandler writes records at level and above to w under logger name.
func NewHandler(w io.Writer, name string, level slog.Leveler) *Handler {
	return &Handler{mu: &sync.Mutex{}, w: w, name: name, level: level, now: time.Now}
}

// Enabled reports whether l is at or above the handler's level.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes one line. Newlines in the message are replaced so one
// record is always one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	t := r.Time
	if t.IsZero() {
		t = h.now()
	}
	var b strings.Builder
	b.WriteString(t.Format("2006-01-02 15:04:05"))
	b.WriteString(" - ")
	b.WriteString(h.name)
	b.WriteString(" - ")
	b.WriteString(LevelName(r.Level))
	b.WriteString(" - ")
	b.WriteString(oneLine(r.Message))
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + oneLine(a.Value.String()))
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs returns a handler that appends attrs to every line.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	for _, a := range attrs {
		h2.attrs += " " + a.Key + "=" + oneLine(a.Value.String())
	}
	return &h2
}

// WithGroup is not used by this program; groups are flattened.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// LevelName returns Python's logging level names: DEBUG, INFO, WARNING, ERROR.
func LevelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ⏎ ").Replace(s)
}

// OpenFile opens (appending, creating 0644) the log file at path.
func OpenFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
}
