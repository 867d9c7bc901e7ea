package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/newsgraph/newsgraph/internal/news"
)

// What the query index (internal/index) reads to build itself and to catch
// up with writes it did not hear: every article in one pass, the articles
// changed since a moment, and the deletions since a moment.

// deletion records that an article was deleted, so an index that was not
// listening (a stopped instance, another process) can drop it: a deleted
// document leaves nothing behind to find by updatedAt.
type deletion struct {
	ID        string    `bson:"_id"`
	DeletedAt time.Time `bson:"deletedAt"`
}

// noteDeletion records a deletion. A failure is logged nowhere and fails
// nothing: the article is gone all the same, and the index's full rebuild
// (or the id comparison of a catch-up) still notices.
func (s *Store) noteDeletion(ctx context.Context, id string) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, _ = s.deletions.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}},
		deletion{ID: id, DeletedAt: time.Now().UTC()}, options.Replace().SetUpsert(true))
}

// scanBatch is how many articles one batch of a scan holds.
const scanBatch = 500

// ScanArticles reads the articles updated at or after since (every article
// when since is nil) in one cursor, handing them to fn in batches. One pass
// over the collection: FerretDB sorts in memory, so paging by _id would
// read the whole collection once per page. The next batch is read while fn
// takes the last (the index's rebuild: the database's decoding on one core,
// the index's analysis on the other).
func (s *Store) ScanArticles(ctx context.Context, since *time.Time, fn func([]*news.Article) error) error {
	filter := bson.D{}
	if since != nil {
		filter = bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: *since}}}}
	}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []*news.Article, 1)
	g.Go(func() error {
		defer close(batches)
		cur, err := s.articles.Find(gctx, filter, options.Find().SetBatchSize(scanBatch))
		if err != nil {
			return fmt.Errorf("articles scan: %w", err)
		}
		defer cur.Close(context.WithoutCancel(gctx))
		send := func(batch []*news.Article) error {
			select {
			case batches <- batch:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		batch := make([]*news.Article, 0, scanBatch)
		for cur.Next(gctx) {
			a := new(news.Article)
			if err := cur.Decode(a); err != nil {
				return fmt.Errorf("articles scan decode: %w", err)
			}
			if batch = append(batch, a); len(batch) == scanBatch {
				if err := send(batch); err != nil {
					return err
				}
				batch = make([]*news.Article, 0, scanBatch)
			}
		}
		if err := cur.Err(); err != nil {
			return fmt.Errorf("articles scan: %w", err)
		}
		if len(batch) > 0 {
			return send(batch)
		}
		return nil
	})
	g.Go(func() error {
		for batch := range batches {
			if err := fn(batch); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

// DeletedArticlesSince lists the IDs of articles deleted at or after since.
func (s *Store) DeletedArticlesSince(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := findAll[deletion](ctx, s, s.deletions,
		bson.D{{Key: "deletedAt", Value: bson.D{{Key: "$gte", Value: since}}}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("article deletions: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}
