package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/news"
)

// InsertKey implements auth.Store.
func (s *Store) InsertKey(ctx context.Context, k *auth.Key) error {
	if err := insertOne(ctx, s, s.apiKeys, k); err != nil {
		return fmt.Errorf("apikeys insert: %w", err)
	}
	return nil
}

// KeyByHash implements auth.Store.
func (s *Store) KeyByHash(ctx context.Context, hash string) (*auth.Key, error) {
	return findOne[auth.Key](ctx, s, s.apiKeys, bson.D{{Key: "hash", Value: hash}})
}

// Keys implements auth.Store: every key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]*auth.Key, error) {
	return findAll[auth.Key](ctx, s, s.apiKeys, bson.D{},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
}

// RevokeKey implements auth.Store. Revoking a revoked key keeps the first
// revocation time.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) (*auth.Key, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	var k auth.Key
	err := s.apiKeys.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "revokedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revokedAt", Value: at}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&k)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return findOne[auth.Key](ctx, s, s.apiKeys, bson.D{{Key: "_id", Value: id}})
	}
	if err != nil {
		return nil, fmt.Errorf("apikeys revoke: %w", err)
	}
	return &k, nil
}

var _ auth.Store = (*Store)(nil)
var _ news.Store = (*Store)(nil)
