package devdb

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

// A record FerretDB does write (a warning) reads exactly as it would
// through the operator's own handler: attributes and groups, in order.
func TestLazyAttrsWriteWhatTheHandlerWould(t *testing.T) {
	var lazy, plain bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	log := func(l *slog.Logger) {
		l = l.With("name", "sqlite").WithGroup("query").With(slog.String("sql", "SELECT 1"), slog.Any("args", []any{"a\"b"}))
		l.Debug("dropped")
		l.Warn("slow statement", "ms", 120)
	}
	log(quietAttrs(slog.New(slog.NewTextHandler(&lazy, opts))))
	log(slog.New(slog.NewTextHandler(&plain, opts)))
	if lazy.String() != plain.String() {
		t.Errorf("through lazyAttrs:\n%s\nstraight:\n%s", lazy.String(), plain.String())
	}
	if lazy.Len() == 0 || bytes.Contains(lazy.Bytes(), []byte("dropped")) {
		t.Errorf("wrote %q, want the warning alone", lazy.String())
	}
}

// Attributes added before a statement that is never logged are never
// handed to the operator's handler.
func TestLazyAttrsFormatNothingUntilARecordIsWritten(t *testing.T) {
	h := &countingHandler{Handler: slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn})}
	l := quietAttrs(slog.New(h))
	for range 100 {
		l.With("args", "a whole document").Debug(">>> INSERT")
	}
	if h.with != 0 {
		t.Errorf("the handler formatted attributes %d times for records it never wrote", h.with)
	}
	l.With("args", "x").Warn("kept")
	if h.with != 1 {
		t.Errorf("WithAttrs called %d times for one written record, want 1", h.with)
	}
}

type countingHandler struct {
	slog.Handler
	with int
}

func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.with++
	return &countingHandler{Handler: h.Handler.WithAttrs(as), with: 0}
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.Handler.Handle(ctx, r)
}
