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

// The editorial desk's writes (news.DeskStore).

var _ news.DeskStore = (*Store)(nil)

// slugClash maps a duplicate-key error (the unique slug index) to
// news.ErrSlugTaken.
func slugClash(op string, err error) error {
	if mongo.IsDuplicateKeyError(err) {
		return news.ErrSlugTaken
	}
	return fmt.Errorf("%s: %w", op, err)
}

// InsertArticle implements news.DeskStore.
func (s *Store) InsertArticle(ctx context.Context, a *news.Article) error {
	if err := insertOne(ctx, s, s.articles, a); err != nil {
		return slugClash("articles insert", err)
	}
	return nil
}

// UpdateArticle implements news.DeskStore: one findOneAndUpdate whose filter
// carries the version the edit was based on, so of two racing saves exactly
// one lands.
func (s *Store) UpdateArticle(ctx context.Context, a *news.Article, expectedVersion int) error {
	doc, err := bson.Marshal(a)
	if err != nil {
		return err
	}
	var fields bson.D
	if err := bson.Unmarshal(doc, &fields); err != nil {
		return err
	}
	set := bson.D{}
	unset := bson.D{}
	present := map[string]bool{}
	for _, f := range fields {
		present[f.Key] = true
		if f.Key != "_id" {
			set = append(set, f)
		}
	}
	// omitempty fields that are now empty must go from the stored document.
	for _, k := range []string{"dek", "featuredImage", "source", "publishedAt"} {
		if !present[k] {
			unset = append(unset, bson.E{Key: k, Value: ""})
		}
	}
	update := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	// No projection: FerretDB's findAndModify does not take one.
	err = s.articles.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: a.ID}, {Key: "version", Value: expectedVersion}}, update).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return news.ErrStale
	}
	if err != nil {
		return slugClash("articles update", err)
	}
	return nil
}

// DeleteArticle implements news.DeskStore.
func (s *Store) DeleteArticle(ctx context.Context, id string) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	res, err := s.articles.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("articles delete: %w", err)
	}
	if res.DeletedCount == 0 {
		return news.ErrNotFound
	}
	s.noteDeletion(ctx, id)
	return nil
}

// InsertAuthor implements news.DeskStore.
func (s *Store) InsertAuthor(ctx context.Context, a *news.Author) error {
	if err := insertOne(ctx, s, s.authors, a); err != nil {
		return slugClash("authors insert", err)
	}
	return nil
}

// UpdateAuthor implements news.DeskStore.
func (s *Store) UpdateAuthor(ctx context.Context, a *news.Author) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	res, err := s.authors.ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.ID}}, a)
	if err != nil {
		return slugClash("authors update", err)
	}
	if res.MatchedCount == 0 {
		return news.ErrNotFound
	}
	return nil
}

// InsertRevision implements news.DeskStore.
func (s *Store) InsertRevision(ctx context.Context, r *news.Revision) error {
	if err := insertOne(ctx, s, s.revisions, r); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return news.ErrStale
		}
		return fmt.Errorf("article_revisions insert: %w", err)
	}
	return nil
}

// DeleteRevision implements news.DeskStore.
func (s *Store) DeleteRevision(ctx context.Context, id string) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	if _, err := s.revisions.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("article_revisions delete: %w", err)
	}
	return nil
}

// Revisions implements news.DeskStore: newest first.
func (s *Store) Revisions(ctx context.Context, articleID string, limit int) ([]*news.Revision, error) {
	return findAll[news.Revision](ctx, s, s.revisions, bson.D{{Key: "articleId", Value: articleID}},
		options.Find().SetSort(bson.D{{Key: "version", Value: -1}}).SetLimit(singleBatch(limit)))
}

// Revision implements news.DeskStore.
func (s *Store) Revision(ctx context.Context, articleID string, version int) (*news.Revision, error) {
	return findOne[news.Revision](ctx, s, s.revisions,
		bson.D{{Key: "articleId", Value: articleID}, {Key: "version", Value: version}})
}

// InsertAudit implements news.DeskStore.
func (s *Store) InsertAudit(ctx context.Context, e *news.AuditEntry) error {
	if err := insertOne(ctx, s, s.audit, e); err != nil {
		return fmt.Errorf("audit_log insert: %w", err)
	}
	return nil
}

// AuditEntries implements news.DeskStore: newest first.
func (s *Store) AuditEntries(ctx context.Context, limit int) ([]*news.AuditEntry, error) {
	return findAll[news.AuditEntry](ctx, s, s.audit, bson.D{},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(singleBatch(limit)))
}

func insertOne(ctx context.Context, s *Store, coll *mongo.Collection, doc any) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, err := coll.InsertOne(ctx, doc)
	return err
}
