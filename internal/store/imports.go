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

// Bulk writes for migrations (newsgraph-import): one round trip per batch,
// not one desk mutation per story.

// UpsertOutcome is what one UpsertArticles did, by position in its batch.
type UpsertOutcome struct {
	// Inserted and Updated count the articles written.
	Inserted, Updated int
	// SlugTaken holds the positions of articles not written because another
	// article already has their slug.
	SlugTaken []int
}

// UpsertArticles writes each article by its _id: inserted when new,
// otherwise its content replaced, its createdAt kept and its version raised
// by one. The batch is unordered, so a slug clash costs only its own
// article. The importer derives _id from the story's key in the system it
// came from; _id is the one field FerretDB finds without reading every
// document, which is what lets a re-import run as fast as the first.
//
// Unlike the desk it writes no revisions and tells no listener: the caller
// passes what landed to the query index and the caches itself.
func (s *Store) UpsertArticles(ctx context.Context, articles []*news.Article) (UpsertOutcome, error) {
	var out UpsertOutcome
	if len(articles) == 0 {
		return out, nil
	}
	models := make([]mongo.WriteModel, len(articles))
	for i, a := range articles {
		update, err := upsertOf(a, "createdAt")
		if err != nil {
			return out, err
		}
		models[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: a.ID}}).
			SetUpdate(update).SetUpsert(true)
	}
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	res, err := s.articles.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	var bulkErr mongo.BulkWriteException
	if errors.As(err, &bulkErr) && bulkErr.WriteConcernError == nil {
		for _, we := range bulkErr.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return out, fmt.Errorf("articles bulk upsert, article %s: %w", articles[we.Index].ID, we)
			}
			out.SlugTaken = append(out.SlugTaken, we.Index)
		}
		err = nil
	}
	if err != nil {
		return out, fmt.Errorf("articles bulk upsert: %w", err)
	}
	if res != nil {
		out.Inserted, out.Updated = int(res.UpsertedCount), int(res.MatchedCount)
	}

	// The search entries follow, in one more round trip. Their version
	// is raised the same way, so an entry in step with its article stays
	// in step; one that was missing is rebuilt at the next start
	// (reindexStale).
	failed := map[int]bool{}
	for _, i := range out.SlugTaken {
		failed[i] = true
	}
	entries := make([]mongo.WriteModel, 0, len(articles))
	for i, a := range articles {
		if failed[i] {
			continue
		}
		update, err := upsertOf(entryOf(a))
		if err != nil {
			return out, err
		}
		entries = append(entries, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: a.ID}}).
			SetUpdate(update).SetUpsert(true))
	}
	if len(entries) > 0 {
		if _, err := s.search.BulkWrite(ctx, entries, options.BulkWrite().SetOrdered(false)); err != nil {
			return out, fmt.Errorf("search entries bulk upsert: %w", err)
		}
	}
	return out, nil
}

// upsertOf is the update that writes doc's fields over a stored document:
// $set for each present field, $unset for the optional article fields it
// lacks, version raised by one ($inc starts a new document at 1), and the
// fields named in onInsert written only when the document is new.
func upsertOf(doc any, onInsert ...string) (bson.D, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var fields bson.D
	if err := bson.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	keepFirst := map[string]bool{"_id": true, "version": true}
	for _, k := range onInsert {
		keepFirst[k] = true
	}
	set, setOnInsert := bson.D{}, bson.D{}
	present := map[string]bool{}
	for _, f := range fields {
		present[f.Key] = true
		switch {
		case f.Key == "_id" || f.Key == "version":
		case keepFirst[f.Key]:
			setOnInsert = append(setOnInsert, f)
		default:
			set = append(set, f)
		}
	}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}
	if len(setOnInsert) > 0 {
		update = append(update, bson.E{Key: "$setOnInsert", Value: setOnInsert})
	}
	unset := bson.D{}
	for _, k := range []string{"dek", "featuredImage", "source", "publishedAt"} {
		if !present[k] {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	return update, nil
}

// UpsertTerms adds the sections and tags that do not exist yet and leaves
// those that do as they are (an editor may have renamed them), in one round
// trip.
func (s *Store) UpsertTerms(ctx context.Context, terms []*news.Term) error {
	if len(terms) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(terms))
	for i, t := range terms {
		models[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: t.Key}}).
			SetUpdate(bson.D{{Key: "$setOnInsert", Value: bson.D{
				{Key: "kind", Value: t.Kind}, {Key: "slug", Value: t.Slug}, {Key: "name", Value: t.Name},
				{Key: "position", Value: t.Position},
			}}}).SetUpsert(true)
	}
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	if _, err := s.taxonomy.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("taxonomy bulk upsert: %w", err)
	}
	return nil
}
