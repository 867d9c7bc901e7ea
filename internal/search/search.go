package search

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/newsgraph/newsgraph/internal/news"
)

// MaxCandidates bounds the stories one query ranks: the newest this many
// holding every term. A query that matches more is too broad to be read
// past its first pages anyway.
const MaxCandidates = 500

// statsTTL is how long corpus statistics and term document frequencies are
// reused: they move slowly, and ranking need not follow each publication.
const statsTTL = time.Minute

// BM25 parameters, the usual ones.
const (
	k1 = 1.2
	b  = 0.75
)

// Store is what search needs from storage.
type Store interface {
	// SearchCandidates returns the IDs of up to limit live stories matching
	// q, newest first.
	SearchCandidates(ctx context.Context, q news.SearchQuery, limit int) ([]string, error)
	// ArticlesByIDs is news.Store's: through the cache, warm articles cost
	// nothing.
	ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error)
	// SearchCorpus sums up the stories live at now.
	SearchCorpus(ctx context.Context, now time.Time) (news.SearchCorpus, error)
	// TermDocuments counts, per term, the stories live at now that hold it.
	TermDocuments(ctx context.Context, now time.Time, terms []string) (map[string]int, error)
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

// Searcher answers queries. It caches corpus statistics and document
// frequencies for statsTTL; results themselves are cached with whole
// responses.
type Searcher struct {
	store    Store
	lists    Lists
	now      func() time.Time
	counting singleflight.Group

	mu       sync.Mutex
	corpus   news.SearchCorpus
	corpusAt time.Time
	docs     map[string]counted
}

type counted struct {
	n  int
	at time.Time
}

// New builds a searcher over store, validating filters with lists.
func New(store Store, lists Lists) *Searcher {
	return &Searcher{store: store, lists: lists, now: time.Now, docs: map[string]counted{}}
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
	pq, err := parse(query)
	if err != nil {
		return nil, err
	}
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	var after *cursor
	if p.After != nil {
		after = &cursor{}
		raw, derr := base64.RawURLEncoding.DecodeString(*p.After)
		if derr != nil || json.Unmarshal(raw, after) != nil || after.ID == "" {
			return nil, news.BadInput("after", "not a cursor this API issued")
		}
	}
	list, err := s.lists.ListQuery(ctx, filter)
	if err != nil {
		return nil, err
	}
	candidates, err := s.candidates(ctx, news.SearchQuery{List: list, Terms: pq.terms})
	if err != nil {
		return nil, err
	}
	corpus, df, err := s.stats(ctx, list.Now, pq.terms)
	if err != nil {
		return nil, err
	}
	ranked := rank(candidates, pq, corpus, df)
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(ranked, *after, func(r *Result, c cursor) int {
			if r.Score != c.Score {
				return cmp.Compare(c.Score, r.Score) // higher scores first
			}
			return cmp.Compare(r.Article.ID, c.ID)
		})
		if start < len(ranked) && ranked[start].Article.ID == after.ID && ranked[start].Score == after.Score {
			start++
		}
	}
	page := ranked[start:min(len(ranked), start+limit)]
	conn := &Connection{Edges: make([]*Edge, len(page))}
	memo := map[string]string{}
	for i, r := range page {
		r.Snippet = snippet(r.Article, pq, memo)
		conn.Edges[i] = &Edge{Cursor: cursor{Score: r.Score, ID: r.Article.ID}.encode(), Node: r}
	}
	conn.PageInfo.HasNextPage = start+limit < len(ranked)
	conn.PageInfo.HasPreviousPage = after != nil
	if len(page) > 0 {
		first, last := conn.Edges[0].Cursor, conn.Edges[len(page)-1].Cursor
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &first, &last
	}
	return conn, nil
}

// candidates are the live stories q matches, at most MaxCandidates. The
// article decides, not its search entry: an entry a failed write left stale
// must not show what readers may not see.
func (s *Searcher) candidates(ctx context.Context, q news.SearchQuery) ([]*news.Article, error) {
	ids, err := s.store.SearchCandidates(ctx, q, MaxCandidates)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	found, err := s.store.ArticlesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*news.Article, 0, len(found))
	for _, id := range ids {
		if a := found[id]; a != nil && a.LiveAt(q.List.Now) {
			out = append(out, a)
		}
	}
	return out, nil
}

// stats are the corpus statistics and the terms' document frequencies,
// from the cache when fresh.
func (s *Searcher) stats(ctx context.Context, now time.Time, terms []string) (news.SearchCorpus, map[string]int, error) {
	s.mu.Lock()
	corpus, fresh := s.corpus, now.Sub(s.corpusAt) < statsTTL
	df := map[string]int{}
	var missing []string
	for _, t := range terms {
		if c, ok := s.docs[t]; ok && now.Sub(c.at) < statsTTL {
			df[t] = c.n
		} else {
			missing = append(missing, t)
		}
	}
	s.mu.Unlock()
	if !fresh {
		v, err, _ := s.counting.Do("", func() (any, error) { return s.store.SearchCorpus(ctx, now) })
		if err != nil {
			return corpus, nil, err
		}
		corpus = v.(news.SearchCorpus)
		s.mu.Lock()
		s.corpus, s.corpusAt = corpus, now
		s.mu.Unlock()
	}
	if len(missing) > 0 {
		counts, err := s.store.TermDocuments(ctx, now, missing)
		if err != nil {
			return corpus, nil, err
		}
		s.mu.Lock()
		if len(s.docs) > 10000 { // a bound on memory, not a policy
			s.docs = map[string]counted{}
		}
		for _, t := range missing {
			df[t] = counts[t]
			s.docs[t] = counted{n: counts[t], at: now}
		}
		s.mu.Unlock()
	}
	return corpus, df, nil
}

// rank scores the candidates that hold every phrase, best first, ties by
// ID. Each field is scored with BM25 on its own and weighted
// (weightHeadline, weightDek, weightBody), so a word in the headline counts
// more than any number of mentions in the body; only the body's term
// frequency is normalised by length (headlines and deks are all short).
func rank(candidates []*news.Article, pq *parsedQuery, corpus news.SearchCorpus, df map[string]int) []*Result {
	n := float64(max(corpus.Stories, len(candidates), 1))
	avgBody := 1.0
	if corpus.Stories > 0 && corpus.Length > 0 {
		avgBody = float64(corpus.Length) / float64(corpus.Stories)
	}
	memo := map[string]string{}
	out := make([]*Result, 0, len(candidates))
	for _, a := range candidates {
		var tf [3]map[string]int
		var norm [3]float64
		phrases := make([]bool, len(pq.phrases))
		for i, f := range fieldsOf(a) {
			stems := Stems(f.text, memo)
			tf[i] = map[string]int{}
			for _, st := range stems {
				tf[i][st]++
			}
			norm[i] = 1
			if i == bodyField {
				norm[i] = 1 - b + b*float64(len(stems))/avgBody
			}
			for j, ph := range pq.phrases {
				phrases[j] = phrases[j] || hasPhrase(stems, ph)
			}
		}
		if slices.Contains(phrases, false) {
			continue
		}
		var score float64
		for _, t := range pq.terms {
			d := float64(max(df[t], 1))
			idf := math.Log(1 + (n-d+0.5)/(d+0.5))
			for i, f := range fieldsOf(a) {
				x := float64(tf[i][t])
				score += idf * float64(f.weight) * x * (k1 + 1) / (x + k1*norm[i])
			}
		}
		// Rounded so that a score survives the trip through a cursor and
		// equal scores are equal.
		score = math.Round(score*1e6) / 1e6
		out = append(out, &Result{Article: a, Score: score})
	}
	slices.SortFunc(out, func(x, y *Result) int {
		if x.Score != y.Score {
			return cmp.Compare(y.Score, x.Score)
		}
		return cmp.Compare(x.Article.ID, y.Article.ID)
	})
	return out
}
