// Package search finds published stories by what they say: English words,
// stemmed and without stop words, ranked with BM25 by the query index
// (internal/index; headline weighted above dek above body), with quoted
// phrases, the article filters, stable paging and a marked snippet cut
// from the story itself.
package search

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Engine is the query index as search uses it (through the cache, which
// tags the response as depending on every list).
type Engine interface {
	Search(ctx context.Context, q news.SearchQuery) ([]news.SearchHit, error)
	Analyze(text string) []news.Token
	// ArticlesByIDs is news.Store's: through the cache, hot stories cost
	// no round trip, and the rest one _id find each, a few at a time.
	ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error)
}

// Lists validates a filter into a list query (news.Service).
type Lists interface {
	ListQuery(ctx context.Context, f *news.ArticleFilter) (news.ArticleQuery, error)
}

// Result is one story found, with why.
type Result struct {
	Article *news.Article
	// Snippet is HTML: an escaped excerpt with the matched words in <mark>.
	Snippet string
	Score   float64
}

// Edge is a result and its cursor.
type Edge struct {
	Cursor string
	Node   *Result
}

// Connection is a page of results.
type Connection struct {
	Edges    []*Edge
	PageInfo news.PageInfo
}

// Searcher answers queries; results are cached with whole responses.
type Searcher struct {
	engine Engine
	lists  Lists
}

// New builds a searcher over the index, validating filters with lists.
func New(engine Engine, lists Lists) *Searcher {
	return &Searcher{engine: engine, lists: lists}
}

// cursor is a position in a ranking: results are ordered by score, then ID.
type cursor struct {
	Score float64 `json:"s"`
	ID    string  `json:"i"`
}

func (c cursor) encode() string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// Search finds the live stories holding every word of query (stemmed), with
// every quoted phrase standing together in one field, that pass filter;
// best first.
func (s *Searcher) Search(ctx context.Context, query string, p news.PageArgs, filter *news.ArticleFilter) (*Connection, error) {
	news.DependsOnLists(ctx)
	pq, err := parse(query, s.engine.Analyze)
	if err != nil {
		return nil, err
	}
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	q := news.SearchQuery{Terms: pq.terms, Phrases: pq.phrases, Limit: limit + 1}
	if p.After != nil {
		var c cursor
		raw, derr := base64.RawURLEncoding.DecodeString(*p.After)
		if derr != nil || json.Unmarshal(raw, &c) != nil || c.ID == "" {
			return nil, news.BadInput("after", "not a cursor this API issued")
		}
		q.After = &news.SearchHit{ID: c.ID, Score: c.Score}
	}
	if q.List, err = s.lists.ListQuery(ctx, filter); err != nil {
		return nil, err
	}
	hits, err := s.engine.Search(news.PageOutlines(ctx, limit), q)
	if err != nil {
		return nil, err
	}
	conn := &Connection{}
	conn.PageInfo.HasPreviousPage = p.After != nil
	if len(hits) > limit {
		hits, conn.PageInfo.HasNextPage = hits[:limit], true
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	found, err := s.engine.ArticlesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		// The story decides, not the index: one changed since the index
		// answered must not show what readers may not see.
		a := found[h.ID]
		if a == nil || !a.LiveAt(q.List.Now) {
			continue
		}
		r := &Result{Article: a, Score: h.Score, Snippet: snippet(a, pq.terms, s.engine.Analyze)}
		conn.Edges = append(conn.Edges, &Edge{Cursor: cursor{Score: h.Score, ID: h.ID}.encode(), Node: r})
	}
	if n := len(conn.Edges); n > 0 {
		first, last := conn.Edges[0].Cursor, conn.Edges[n-1].Cursor
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &first, &last
	}
	return conn, nil
}
