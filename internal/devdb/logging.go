package devdb

import (
	"context"
	"log/slog"
	"slices"
)

// lazyAttrs is the handler FerretDB logs through. Before every SQL
// statement FerretDB adds the statement's arguments (whole documents, on a
// write) to its logger with Logger.With, then logs them at debug level,
// which is off. slog's own handlers format attributes when they are added,
// not when a record is written, so each write paid for quoting its
// documents into a string nobody read: 8% of an insert's CPU through the
// server's JSON handler, about half through a text handler.
// lazyAttrs keeps what was added and applies it only to a record that is
// actually written.
type lazyAttrs struct {
	base slog.Handler
	with []func(slog.Handler) slog.Handler // WithAttrs and WithGroup, in order
}

func quietAttrs(l *slog.Logger) *slog.Logger {
	return slog.New(&lazyAttrs{base: l.Handler()})
}

func (h *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	out := h.base
	for _, with := range h.with {
		out = with(out)
	}
	return out.Handle(ctx, r)
}

func (h *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.then(func(b slog.Handler) slog.Handler { return b.WithAttrs(attrs) })
}

func (h *lazyAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.then(func(b slog.Handler) slog.Handler { return b.WithGroup(name) })
}

func (h *lazyAttrs) then(with func(slog.Handler) slog.Handler) *lazyAttrs {
	return &lazyAttrs{base: h.base, with: append(slices.Clip(h.with), with)}
}
