package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
)

// maxSections bounds the section list (a newsroom has dozens at most).
const maxSections = 500

// TermsByKeys implements news.Store: sections and tags share one collection
// keyed "section:slug" / "tag:slug", so an article's section and tags are one
// round trip.
func (s *Store) TermsByKeys(ctx context.Context, keys []string) (map[string]*news.Term, error) {
	return byIDs(ctx, s, s.taxonomy, keys, func(t *news.Term) string { return t.Key })
}

// Sections implements news.Store.
func (s *Store) Sections(ctx context.Context) ([]*news.Term, error) {
	return findAll[news.Term](ctx, s, s.taxonomy, bson.D{{Key: "kind", Value: string(news.KindSection)}},
		options.Find().SetSort(bson.D{{Key: "position", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(singleBatch(maxSections)))
}

// InsertTerms adds sections and tags in one round trip.
func (s *Store) InsertTerms(ctx context.Context, terms []*news.Term) error {
	return insertMany(ctx, s, s.taxonomy, terms)
}
