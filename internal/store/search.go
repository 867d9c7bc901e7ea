package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/search"
)

// Search matches articles through the article_search collection: one small
// entry per article with its unique stems (terms, multikey-indexed), its
// body's length in words, and copies of the fields the article filters use,
// under the same names, so articleFilter applies to it unchanged. Kept out
// of the articles themselves because FerretDB reads a document whole: the
// stems would double what every article read costs.
//
// An entry is written after its article lands. Should that second write
// fail, the article is saved all the same (its entry is then stale or
// missing); EnsureIndexes rebuilds, at every start, the entries whose
// version differs from their article's.

// searchEntry is an article as search matches it.
type searchEntry struct {
	ID          string     `bson:"_id"`
	Version     int        `bson:"version"`
	Terms       []string   `bson:"terms"`
	BodyLength  int        `bson:"bodyLength"`
	Status      string     `bson:"status"`
	PublishedAt *time.Time `bson:"publishedAt,omitempty"`
	Section     string     `bson:"section"`
	Tags        []string   `bson:"tags"`
	AuthorIDs   []string   `bson:"authorIds"`
}

func entryOf(a *news.Article) *searchEntry {
	ix := search.IndexOf(a)
	return &searchEntry{ID: a.ID, Version: a.Version, Terms: ix.Terms, BodyLength: ix.BodyLength,
		Status: string(a.StoredStatus), PublishedAt: a.PublishedAt, Section: a.Section, Tags: a.Tags, AuthorIDs: a.AuthorIDs}
}

// index writes a's entry; see the note above on why a failure is not the
// article write's failure.
func (s *Store) index(ctx context.Context, a *news.Article) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, _ = s.search.ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, entryOf(a), options.Replace().SetUpsert(true))
}

func (s *Store) unindex(ctx context.Context, id string) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, _ = s.search.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
}

// liveAt matches what readers see at now.
func liveAt(now time.Time) bson.D {
	return bson.D{
		{Key: "status", Value: string(news.StatusPublished)},
		{Key: "publishedAt", Value: bson.D{{Key: "$lte", Value: now}}},
	}
}

// SearchCandidates is one find: the IDs of the newest live entries holding
// every term and passing the list's filters, newest first (on MongoDB the
// {terms, publishedAt} multikey index serves it).
func (s *Store) SearchCandidates(ctx context.Context, q news.SearchQuery, limit int) ([]string, error) {
	l := q.List
	l.After = nil
	filter := bson.D{{Key: "$and", Value: bson.A{
		bson.D{{Key: "terms", Value: bson.D{{Key: "$all", Value: q.Terms}}}},
		articleFilter(l, "publishedAt"),
	}}}
	rows, err := findAll[struct {
		ID string `bson:"_id"`
	}](ctx, s, s.search, filter, options.Find().
		SetSort(bson.D{{Key: "publishedAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}}).
		SetLimit(singleBatch(limit)))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// SearchCorpus is one aggregation over the live entries: how many, and
// their bodies' summed length. Callers cache it.
func (s *Store) SearchCorpus(ctx context.Context, now time.Time) (news.SearchCorpus, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	cur, err := s.search.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: liveAt(now)}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
			{Key: "len", Value: bson.D{{Key: "$sum", Value: "$bodyLength"}}}}}},
	})
	if err != nil {
		return news.SearchCorpus{}, fmt.Errorf("search corpus: %w", err)
	}
	var rows []struct {
		N   int   `bson:"n"`
		Len int64 `bson:"len"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return news.SearchCorpus{}, fmt.Errorf("search corpus: %w", err)
	}
	if len(rows) == 0 {
		return news.SearchCorpus{}, nil
	}
	return news.SearchCorpus{Stories: rows[0].N, Length: rows[0].Len}, nil
}

// TermDocuments is one aggregation: the live entries holding any of terms
// (the multikey index narrows it to them), unwound and counted per term.
func (s *Store) TermDocuments(ctx context.Context, now time.Time, terms []string) (map[string]int, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	in := bson.E{Key: "terms", Value: bson.D{{Key: "$in", Value: terms}}}
	cur, err := s.search.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: append(bson.D{in}, liveAt(now)...)}},
		{{Key: "$project", Value: bson.D{{Key: "terms", Value: 1}}}},
		{{Key: "$unwind", Value: "$terms"}},
		{{Key: "$match", Value: bson.D{in}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$terms"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("term documents: %w", err)
	}
	var rows []struct {
		Term string `bson:"_id"`
		N    int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("term documents: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Term] = r.N
	}
	return out, nil
}

// reindexStale writes the entry of every article that has none or whose
// entry is of another version: articles stored before search existed, and
// any whose entry write failed. It reads every article's and entry's _id
// and version (two projected finds), then only the articles to index.
// Idempotent.
func (s *Store) reindexStale(ctx context.Context) error {
	type version struct {
		ID      string `bson:"_id"`
		Version int    `bson:"version"`
	}
	versions := func(coll *mongo.Collection) (map[string]int, error) {
		ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
		defer cancel()
		cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "version", Value: 1}}))
		if err != nil {
			return nil, err
		}
		var rows []version
		if err := cur.All(ctx, &rows); err != nil {
			return nil, err
		}
		out := make(map[string]int, len(rows))
		for _, r := range rows {
			out[r.ID] = r.Version
		}
		return out, nil
	}
	articles, err := versions(s.articles)
	if err != nil {
		return fmt.Errorf("search reindex: %w", err)
	}
	entries, err := versions(s.search)
	if err != nil {
		return fmt.Errorf("search reindex: %w", err)
	}
	var stale []string
	for id, v := range articles {
		if ev, ok := entries[id]; !ok || ev != v {
			stale = append(stale, id)
		}
	}
	for len(stale) > 0 {
		batch := stale[:min(len(stale), 200)]
		stale = stale[len(batch):]
		found, err := s.ArticlesByIDs(ctx, batch)
		if err != nil {
			return fmt.Errorf("search reindex: %w", err)
		}
		for _, a := range found {
			ctx, cancel := s.deadline(ctx)
			_, err := s.search.ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, entryOf(a), options.Replace().SetUpsert(true))
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("search reindex: %w", err)
			}
		}
	}
	return nil
}
