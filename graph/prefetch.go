package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/newsgraph/newsgraph/internal/loaders"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/search"
)

// When a list of articles resolves, the bylines, sections and tags its
// items will ask for are queued on the loaders at once, in one batch each.
// The items' own resolvers then find them loaded. Without this, a page's
// cost would depend on how the items' goroutines happen to be scheduled
// (a slow machine can split one batch in two).

// selectedUnder names the fields the operation selects under the current
// field, following path; types are the object types at each level (the
// current field's first), so fragments on them count.
func selectedUnder(ctx context.Context, types []string, path ...string) map[string]bool {
	op := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, types[:1])
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, graphql.CollectFields(op, f.Selections, types[i+1:i+2])...)
			}
		}
		fields = next
	}
	out := make(map[string]bool, len(fields))
	for _, f := range fields {
		out[f.Name] = true
	}
	return out
}

func prefetchArticles(ctx context.Context, articles []*news.Article, selected map[string]bool) {
	if len(articles) == 0 {
		return
	}
	l := loaders.For(ctx)
	if selected["authors"] {
		l.PrefetchAuthors(ctx, articles)
	}
	if selected["section"] || selected["tags"] {
		l.PrefetchTerms(ctx, articles, selected["section"], selected["tags"])
	}
}

// connection reads a page of articles with list, having prefetched what
// its items will ask for: first from the stories' outlines, as soon as the
// query index has named them (so bylines and terms are read while the
// stories are), then from the stories read (which a cached list, or a
// story changed in between, may make different).
func connection(ctx context.Context, list func(context.Context) (*news.ArticleConnection, error)) (*news.ArticleConnection, error) {
	return prefetched(ctx, list, func(c *news.ArticleConnection) []*news.Article {
		if c == nil {
			return nil
		}
		return storiesOf(c.Edges, func(e *news.ArticleEdge) *news.Article { return e.Node })
	}, []string{"ArticleConnection", "ArticleEdge", "Article"}, "edges", "node")
}

// searchResults is connection for a page of search results.
func searchResults(ctx context.Context, find func(context.Context) (*search.Connection, error)) (*search.Connection, error) {
	return prefetched(ctx, find, func(c *search.Connection) []*news.Article {
		if c == nil {
			return nil
		}
		return storiesOf(c.Edges, func(e *search.Edge) *news.Article { return e.Node.Article })
	}, []string{"SearchConnection", "SearchEdge", "SearchResult", "Article"}, "edges", "node", "article")
}

// relatedStories is connection for a story's related stories.
func relatedStories(ctx context.Context, find func(context.Context) ([]*related.Article, error)) ([]*related.Article, error) {
	return prefetched(ctx, find, func(list []*related.Article) []*news.Article {
		return storiesOf(list, func(r *related.Article) *news.Article { return r.Article })
	}, []string{"RelatedArticle", "Article"}, "article")
}

// storiesOf is the story of each item.
func storiesOf[E any](items []E, story func(E) *news.Article) []*news.Article {
	out := make([]*news.Article, len(items))
	for i, it := range items {
		out[i] = story(it)
	}
	return out
}

// prefetched runs find, which reads stories, under a ctx on which the
// outlines it passes on queue the bylines and terms that the operation
// selects on the stories at path (types as for selectedUnder); then queues
// them from the stories found.
func prefetched[T any](ctx context.Context, find func(context.Context) (T, error), stories func(T) []*news.Article, types []string, path ...string) (T, error) {
	selected := selectedUnder(ctx, types, path...)
	if !selected["authors"] && !selected["section"] && !selected["tags"] {
		return find(ctx)
	}
	found, err := find(news.WithOutlines(ctx, func(outlines []*news.Article) { prefetchArticles(ctx, outlines, selected) }))
	if err == nil {
		prefetchArticles(ctx, stories(found), selected)
	}
	return found, err
}

// prefetchList prefetches for a plain list of articles what connection
// prefetches from the stories of a page.
func prefetchList(ctx context.Context) func([]*news.Article, error) ([]*news.Article, error) {
	return func(articles []*news.Article, err error) ([]*news.Article, error) {
		if err == nil {
			prefetchArticles(ctx, articles, selectedUnder(ctx, []string{"Article"}))
		}
		return articles, err
	}
}

// prefetchEntities is prefetchList for a federation gateway's batch of
// Article entities (nil where one is absent or not visible).
func prefetchEntities(ctx context.Context) func([]*news.Article, error) ([]*news.Article, error) {
	return func(articles []*news.Article, err error) ([]*news.Article, error) {
		if err != nil {
			return nil, err
		}
		found := make([]*news.Article, 0, len(articles))
		for _, a := range articles {
			if a != nil {
				found = append(found, a)
			}
		}
		prefetchArticles(ctx, found, selectedUnder(ctx, []string{"Article"}))
		return articles, nil
	}
}
