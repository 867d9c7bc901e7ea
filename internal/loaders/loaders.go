// Package loaders batches the lookups one GraphQL request makes: every
// byline on a page of articles becomes one $in query, every section and tag
// another. Loaders live for one request (created in HTTP middleware), so
// their memo never outlives it and never crosses viewers.
package loaders

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/newsgraph/newsgraph/internal/news"
)

// wait is how long a loader collects keys before it queries. gqlgen starts
// the resolvers of a list's items together, so a short wait catches them all.
const wait = 2 * time.Millisecond

// Loaders are one request's batching loaders.
type Loaders struct {
	authors *dataloadgen.Loader[string, *news.Author]
	terms   *dataloadgen.Loader[string, *news.Term]
}

// New makes loaders over st.
func New(st news.Store) *Loaders {
	return &Loaders{
		authors: dataloadgen.NewMappedLoader(st.AuthorsByIDs, dataloadgen.WithWait(wait)),
		terms:   dataloadgen.NewMappedLoader(st.TermsByKeys, dataloadgen.WithWait(wait)),
	}
}

type ctxKey struct{}

// Middleware gives every request its own loaders.
func Middleware(st news.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(Fresh(r.Context(), st)))
	})
}

// Fresh gives ctx loaders of its own: each request, and each event of a
// subscription (whose connection may stay open for hours: loaders kept for
// its lifetime would serve bylines as they were when it opened).
func Fresh(ctx context.Context, st news.Store) context.Context {
	return context.WithValue(ctx, ctxKey{}, New(st))
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(ctxKey{}).(*Loaders); ok {
		return l
	}
	panic("loaders: request has no loaders; is loaders.Middleware installed?")
}

// loadAll loads keys in one batch, in order, leaving out keys that no longer
// exist: a deleted author must not take down the stories carrying the byline.
func loadAll[V any](ctx context.Context, l *dataloadgen.Loader[string, *V], keys []string) ([]*V, error) {
	thunks := make([]func() (*V, error), len(keys))
	for i, k := range keys {
		thunks[i] = l.LoadThunk(ctx, k)
	}
	out := make([]*V, 0, len(keys))
	for _, th := range thunks {
		v, err := th()
		if errors.Is(err, dataloadgen.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Authors loads a byline.
func (l *Loaders) Authors(ctx context.Context, ids []string) ([]*news.Author, error) {
	return loadAll(ctx, l.authors, ids)
}

// Section loads an article's section; nil when it has none or it is gone.
func (l *Loaders) Section(ctx context.Context, slug string) (*news.Section, error) {
	if slug == "" {
		return nil, nil
	}
	terms, err := loadAll(ctx, l.terms, []string{news.TermKey(news.KindSection, slug)})
	if err != nil || len(terms) == 0 {
		return nil, err
	}
	return (*news.Section)(terms[0]), nil
}

// Tags loads an article's tags, in the article's order.
func (l *Loaders) Tags(ctx context.Context, slugs []string) ([]*news.Tag, error) {
	keys := make([]string, len(slugs))
	for i, s := range slugs {
		keys[i] = news.TermKey(news.KindTag, s)
	}
	terms, err := loadAll(ctx, l.terms, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*news.Tag, len(terms))
	for i, t := range terms {
		out[i] = (*news.Tag)(t)
	}
	return out, nil
}

// PrefetchAuthors queues every byline of articles in the current batch.
func (l *Loaders) PrefetchAuthors(ctx context.Context, articles []*news.Article) {
	var ids []string
	for _, a := range articles {
		ids = append(ids, a.AuthorIDs...)
	}
	l.authors.LoadAllThunk(ctx, ids)
}

// PrefetchTerms queues the sections and/or tags of articles in the current
// batch.
func (l *Loaders) PrefetchTerms(ctx context.Context, articles []*news.Article, sections, tags bool) {
	var keys []string
	for _, a := range articles {
		if sections && a.Section != "" {
			keys = append(keys, news.TermKey(news.KindSection, a.Section))
		}
		if tags {
			for _, t := range a.Tags {
				keys = append(keys, news.TermKey(news.KindTag, t))
			}
		}
	}
	l.terms.LoadAllThunk(ctx, keys)
}
