package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Bulk writes for migrations (newsgraph-import): a round trip or two per
// batch, not one desk mutation per story.

// UpsertOutcome is what one UpsertArticles did, by position in its batch.
type UpsertOutcome struct {
	// Inserted and Updated count the articles written.
	Inserted, Updated int
	// SlugTaken holds the positions of articles not written because another
	// article already has their slug.
	SlugTaken []int
}

// UpsertArticles writes each article by its _id: inserted when new,
// otherwise replaced, keeping its createdAt, its version raised by one. It
// is one unordered InsertMany, so a slug clash costs only its own article;
// then, for the articles that were there already (found by _id, the one
// lookup FerretDB answers without reading every document), a replacement.
//
// FerretDB 1.24 on SQLite reads the whole collection for every update or
// delete, even by _id (40 ms each at 2,000 stories), and stalls on bulk
// updates. So only with inPlace (a real MongoDB) are replacements a bulk
// write of ReplaceOnes; otherwise the batch's old copies go in one
// DeleteMany and come back in one InsertMany: a moment without them that
// only a server running on the same embedded files could see, and the
// embedded default lets no server run while the importer holds them.
//
// Unlike the desk it writes no revisions and tells no listener: the caller
// passes what landed to the query index and the caches itself.
func (s *Store) UpsertArticles(ctx context.Context, articles []*news.Article, inPlace bool) (UpsertOutcome, error) {
	var out UpsertOutcome
	if len(articles) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 8*s.timeout)
	defer cancel()
	clashes, err := insertUnordered(ctx, s.articles, articles)
	if err != nil {
		return out, fmt.Errorf("articles bulk insert: %w", err)
	}
	var existing []int
	for _, i := range clashes {
		var was news.Article
		err := s.articles.FindOne(ctx, bson.D{{Key: "_id", Value: articles[i].ID}}).Decode(&was)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			out.SlugTaken = append(out.SlugTaken, i)
		case err != nil:
			return out, fmt.Errorf("articles find: %w", err)
		default:
			articles[i].CreatedAt, articles[i].Version = was.CreatedAt, was.Version+1
			existing = append(existing, i)
		}
	}
	out.Inserted = len(articles) - len(clashes)
	if len(existing) > 0 {
		replace := make([]*news.Article, len(existing))
		for j, i := range existing {
			replace[j] = articles[i]
		}
		failed, err := replaceAll(ctx, s.articles, replace, func(a *news.Article) string { return a.ID }, inPlace)
		if err != nil {
			return out, fmt.Errorf("articles bulk replace: %w", err)
		}
		for _, j := range failed {
			out.SlugTaken = append(out.SlugTaken, existing[j])
		}
		out.Updated = len(existing) - len(failed)
	}

	return out, nil
}

// insertUnordered inserts docs and returns the positions refused as
// duplicates (of _id or of another unique key).
func insertUnordered[T any](ctx context.Context, coll *mongo.Collection, docs []*T) ([]int, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	return duplicates(err)
}

// duplicates is the positions an unordered bulk write refused as duplicate
// keys; any other failure is the error.
func duplicates(err error) ([]int, error) {
	var bulkErr mongo.BulkWriteException
	if !errors.As(err, &bulkErr) || bulkErr.WriteConcernError != nil {
		return nil, err
	}
	dups := make([]int, 0, len(bulkErr.WriteErrors))
	for _, we := range bulkErr.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return nil, we
		}
		dups = append(dups, we.Index)
	}
	return dups, nil
}

// replaceAll writes docs over the stored documents with their _id (or
// inserts them) and returns the positions refused as duplicates of another
// document's unique key. See UpsertArticles for inPlace.
func replaceAll[T any](ctx context.Context, coll *mongo.Collection, docs []*T, id func(*T) string, inPlace bool) ([]int, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	if !inPlace {
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = id(d)
		}
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
			return nil, err
		}
		return insertUnordered(ctx, coll, docs)
	}
	models := make([]mongo.WriteModel, len(docs))
	for i, d := range docs {
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: id(d)}}).SetReplacement(d).SetUpsert(true)
	}
	_, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return duplicates(err)
}

// EnsureTerms adds the sections and tags that do not exist yet and leaves
// those that do as they are (an editor may have renamed them), in one
// unordered InsertMany whose duplicates are the terms already there.
func (s *Store) EnsureTerms(ctx context.Context, terms []*news.Term) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	if _, err := insertUnordered(ctx, s.taxonomy, terms); err != nil {
		return fmt.Errorf("taxonomy bulk insert: %w", err)
	}
	return nil
}
