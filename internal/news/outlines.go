package news

import "context"

// A list answered from the query index knows its stories' bylines, section
// and tags (their outlines) before it reads the stories themselves. A
// caller that will need those (the GraphQL layer, queueing them on its
// loaders) says so with WithOutlines; the bylines and terms are then read
// while the stories are, not after them.

type outlinesKey struct{}

// WithOutlines returns ctx asking lists read under it to pass their
// stories' outlines to seen (ID, section, tags and bylines filled in), in
// the list's order, before the stories are read. seen must not block.
func WithOutlines(ctx context.Context, seen func([]*Article)) context.Context {
	return context.WithValue(ctx, outlinesKey{}, seen)
}

// WantsOutlines reports whether a list read under ctx should pass on its
// outlines.
func WantsOutlines(ctx context.Context) bool {
	_, ok := ctx.Value(outlinesKey{}).(func([]*Article))
	return ok
}

// Outlined passes outlines to the caller that asked for them, if any.
func Outlined(ctx context.Context, outlines []*Article) {
	if seen, ok := ctx.Value(outlinesKey{}).(func([]*Article)); ok && len(outlines) > 0 {
		seen(outlines)
	}
}

// PageOutlines narrows what a list (or search) read under ctx passes on to
// its first n stories: a page reads one story more than it shows, to know
// whether another page follows, and that story's bylines are not needed.
func PageOutlines(ctx context.Context, n int) context.Context {
	seen, ok := ctx.Value(outlinesKey{}).(func([]*Article))
	if !ok {
		return ctx
	}
	return WithOutlines(ctx, func(outlines []*Article) { seen(outlines[:min(n, len(outlines))]) })
}
