package news

import "context"

// Listener hears about every write that landed, after it landed: caches drop
// what it made stale, subscribers are told. before is nil for a creation,
// after is nil for a deletion. Implementations must not fail the write: they
// log and carry on.
type Listener interface {
	ArticleChanged(ctx context.Context, before, after *Article)
	AuthorChanged(ctx context.Context, before, after *Author)
}

// Listeners fans a change out to several listeners in order.
type Listeners []Listener

func (ls Listeners) ArticleChanged(ctx context.Context, before, after *Article) {
	for _, l := range ls {
		l.ArticleChanged(ctx, before, after)
	}
}

func (ls Listeners) AuthorChanged(ctx context.Context, before, after *Author) {
	for _, l := range ls {
		l.AuthorChanged(ctx, before, after)
	}
}
