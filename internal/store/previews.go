package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/preview"
)

// Preview generations (one small document per story ever revoked) and
// service settings (the generated preview secret), both read by _id only.
const (
	previewGenerationsColl = "preview_generations"
	settingsColl           = "settings"
)

var _ preview.Store = (*Store)(nil)

type previewGeneration struct {
	ID         string `bson:"_id"`
	Generation int    `bson:"generation"`
}

// PreviewGeneration implements preview.Store.
func (s *Store) PreviewGeneration(ctx context.Context, articleID string) (int, error) {
	g, err := findOne[previewGeneration](ctx, s, s.coll(previewGenerationsColl), byID(articleID))
	if errors.Is(err, news.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return g.Generation, nil
}

// BumpPreviewGeneration implements preview.Store.
func (s *Store) BumpPreviewGeneration(ctx context.Context, articleID string) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, err := s.coll(previewGenerationsColl).UpdateOne(ctx, byID(articleID),
		bson.D{{Key: "$inc", Value: bson.D{{Key: "generation", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("preview_generations update: %w", err)
	}
	return nil
}

type setting struct {
	ID    string `bson:"_id"`
	Value string `bson:"value"`
}

// KeepSetting implements preview.Store: the first instance to store a
// value wins (the _id is unique), and every instance reads that one.
func (s *Store) KeepSetting(ctx context.Context, name, value string) (string, error) {
	err := insertOne(ctx, s, s.coll(settingsColl), setting{ID: name, Value: value})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return "", fmt.Errorf("settings insert: %w", err)
	}
	kept, err := findOne[setting](ctx, s, s.coll(settingsColl), byID(name))
	if err != nil {
		return "", err
	}
	return kept.Value, nil
}
