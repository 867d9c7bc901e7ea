package store

import (
	"context"
	"errors"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
)

// AuthorByID implements news.Store.
func (s *Store) AuthorByID(ctx context.Context, id string) (*news.Author, error) {
	return findOne[news.Author](ctx, s, s.authors, bson.D{{Key: "_id", Value: id}})
}

// AuthorBySlug implements news.Store. On FerretDB, which reads the whole
// collection for any filter but _id equality, it asks authorSlugs first.
func (s *Store) AuthorBySlug(ctx context.Context, slug string) (*news.Author, error) {
	if !s.onFerret() {
		return findOne[news.Author](ctx, s, s.authors, bson.D{{Key: "slug", Value: slug}})
	}
	hint, hintErr := findOne[slugHint](ctx, s, s.authorSlugs, bson.D{{Key: "_id", Value: slug}})
	if hintErr == nil {
		if a, err := s.AuthorByID(ctx, hint.ID); err == nil && a.Slug == slug {
			return a, nil
		}
	}
	a, err := findOne[news.Author](ctx, s, s.authors, bson.D{{Key: "slug", Value: slug}})
	switch {
	case err == nil:
		s.noteSlug(ctx, slug, a.ID)
	case errors.Is(err, news.ErrNotFound) && hintErr == nil:
		s.forgetSlug(ctx, slug) // its author was renamed or is gone
	}
	return a, err
}

// AuthorsByIDs implements news.Store: one $in for a whole batch of bylines.
func (s *Store) AuthorsByIDs(ctx context.Context, ids []string) (map[string]*news.Author, error) {
	return byIDs(ctx, s, s.authors, ids, func(a *news.Author) string { return a.ID })
}

// Authors implements news.Store: by name, then _id, keyset-paged.
func (s *Store) Authors(ctx context.Context, q news.AuthorQuery) ([]*news.Author, error) {
	filter := bson.D{}
	if c := q.After; c != nil {
		filter = bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "name", Value: bson.D{{Key: "$gt", Value: c.Text}}}},
			bson.D{{Key: "name", Value: c.Text}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: c.ID}}}},
		}}}
	}
	opts := options.Find().SetSort(bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(singleBatch(q.Limit))
	return findAll[news.Author](ctx, s, s.authors, filter, opts)
}

// InsertAuthors adds new authors in one round trip.
func (s *Store) InsertAuthors(ctx context.Context, authors []*news.Author) error {
	return insertMany(ctx, s, s.authors, authors)
}

func insertMany[T any](ctx context.Context, s *Store, coll *mongo.Collection, docs []*T) error {
	if len(docs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	_, err := coll.InsertMany(ctx, docs)
	return err
}

// AuthorByName implements news.DeskStore. The anchored, case-insensitive
// regex cannot use the name index, so it scans the authors collection: a
// newsroom has hundreds of bylines, and only imports ask.
func (s *Store) AuthorByName(ctx context.Context, name string) (*news.Author, error) {
	rows, err := findAll[news.Author](ctx, s, s.authors,
		bson.D{{Key: "name", Value: bson.Regex{Pattern: "^" + regexp.QuoteMeta(name) + "$", Options: "i"}}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(singleBatch(1)))
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}
