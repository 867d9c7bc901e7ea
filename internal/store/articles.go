package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
)

// ArticleByID implements news.Store.
func (s *Store) ArticleByID(ctx context.Context, id string) (*news.Article, error) {
	return findOne[news.Article](ctx, s, s.articles, bson.D{{Key: "_id", Value: id}})
}

// ArticleBySlug implements news.Store.
func (s *Store) ArticleBySlug(ctx context.Context, slug string) (*news.Article, error) {
	return findOne[news.Article](ctx, s, s.articles, bson.D{{Key: "slug", Value: slug}})
}

// Articles implements news.Store: one find, sorted by the order's field then
// _id, keyset-paged after the cursor.
func (s *Store) Articles(ctx context.Context, q news.ArticleQuery) ([]*news.Article, error) {
	field := "publishedAt"
	if q.Order.Field == news.OrderUpdatedAt {
		field = "updatedAt"
	}
	dir := 1
	if q.Order.Desc {
		dir = -1
	}
	opts := options.Find().
		SetSort(bson.D{{Key: field, Value: dir}, {Key: "_id", Value: dir}}).
		SetLimit(singleBatch(q.Limit))
	return findAll[news.Article](ctx, s, s.articles, articleFilter(q, field), opts)
}

// articleFilter translates a validated query. Every value comes from a typed
// field of q; none is a client-supplied document.
func articleFilter(q news.ArticleQuery, field string) bson.D {
	and := bson.A{}
	switch q.Status {
	case news.StatusPublished:
		and = append(and, bson.D{{Key: "status", Value: string(news.StatusPublished)}},
			bson.D{{Key: "publishedAt", Value: bson.D{{Key: "$lte", Value: q.Now}}}})
	case news.StatusScheduled:
		and = append(and, bson.D{{Key: "status", Value: string(news.StatusPublished)}},
			bson.D{{Key: "publishedAt", Value: bson.D{{Key: "$gt", Value: q.Now}}}})
	default:
		and = append(and, bson.D{{Key: "status", Value: string(q.Status)}})
	}
	if q.Section != "" {
		and = append(and, bson.D{{Key: "section", Value: q.Section}})
	}
	for _, t := range q.Tags {
		and = append(and, bson.D{{Key: "tags", Value: t}})
	}
	if q.AuthorID != "" {
		and = append(and, bson.D{{Key: "authorIds", Value: q.AuthorID}})
	}
	if q.PublishedAfter != nil {
		and = append(and, bson.D{{Key: "publishedAt", Value: bson.D{{Key: "$gt", Value: *q.PublishedAfter}}}})
	}
	if q.PublishedBefore != nil {
		and = append(and, bson.D{{Key: "publishedAt", Value: bson.D{{Key: "$lt", Value: *q.PublishedBefore}}}})
	}
	if c := q.After; c != nil {
		// Strictly after (t, id) in the sort order: a later time, or the same
		// time and a later id. This is what keeps ties from being skipped or
		// repeated.
		op := "$gt"
		if q.Order.Desc {
			op = "$lt"
		}
		t := time.UnixMilli(c.Time).UTC()
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: field, Value: bson.D{{Key: op, Value: t}}}},
			bson.D{{Key: field, Value: t}, {Key: "_id", Value: bson.D{{Key: op, Value: c.ID}}}},
		}}})
	}
	return bson.D{{Key: "$and", Value: and}}
}

// InsertArticles adds new articles in one round trip (the demo loader and the
// benchmark seed use it).
func (s *Store) InsertArticles(ctx context.Context, articles []*news.Article) error {
	return insertMany(ctx, s, s.articles, articles)
}

// CountArticles counts every stored article, whatever its status.
func (s *Store) CountArticles(ctx context.Context) (int64, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	return s.articles.CountDocuments(ctx, bson.D{})
}

// ArticlesByIDs implements news.Store: one $in for a batch.
func (s *Store) ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error) {
	return byIDs(ctx, s, s.articles, ids, func(a *news.Article) string { return a.ID })
}

// NextScheduledAt is when the earliest scheduled story goes live, nil when
// none is scheduled (the cache keeps no list past that moment).
func (s *Store) NextScheduledAt(ctx context.Context, now time.Time) (*time.Time, error) {
	rows, err := findAll[news.Article](ctx, s, s.articles, bson.D{
		{Key: "status", Value: string(news.StatusPublished)},
		{Key: "publishedAt", Value: bson.D{{Key: "$gt", Value: now}}},
	}, options.Find().SetSort(bson.D{{Key: "publishedAt", Value: 1}}).SetLimit(singleBatch(1)).
		SetProjection(bson.D{{Key: "publishedAt", Value: 1}}))
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0].PublishedAt, nil
}

// ReplaceArticle overwrites a stored article whole (fixtures and bulk tools;
// editors go through the versioned write paths).
func (s *Store) ReplaceArticle(ctx context.Context, a *news.Article) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	res, err := s.articles.ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, a)
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return news.ErrNotFound
	}
	return nil
}
