// Package store keeps the newsroom's content in MongoDB (mongo-driver v2).
// It implements news.Store. Queries are built from typed fields only, never
// from client-supplied maps, so no client string becomes an operator or a
// field path. Everything here also runs on FerretDB: no $lookup, no $text,
// no transactions.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Collection names.
const (
	articlesColl  = "articles"
	authorsColl   = "authors"
	taxonomyColl  = "taxonomy"
	apiKeysColl   = "apikeys"
	revisionsColl = "article_revisions"
	auditColl     = "audit_log"
	deletionsColl = "article_deletions"
	// authorSlugsColl holds FerretDB's slug → author hints (batches.go).
	authorSlugsColl = "author_slugs"
	// retiredSearchColl held the hand-written search index that the query
	// index (internal/index) replaced; EnsureIndexes drops it.
	retiredSearchColl = "article_search"
)

// DefaultTimeout bounds every database call that has no shorter deadline.
const DefaultTimeout = 5 * time.Second

// Store is the MongoDB implementation of news.Store.
type Store struct {
	client    *mongo.Client
	db        *mongo.Database
	articles  *mongo.Collection
	authors   *mongo.Collection
	taxonomy  *mongo.Collection
	apiKeys   *mongo.Collection
	revisions *mongo.Collection
	audit     *mongo.Collection
	deletions *mongo.Collection
	// authorSlugs: hints from an author's slug to its _id, on FerretDB.
	authorSlugs *mongo.Collection
	timeout     time.Duration

	// roundTrips counts commands sent to the server: the cold-path cost that
	// tests bound and the benchmark reports.
	roundTrips atomic.Int64

	batches batches
}

// Options tune a Store.
type Options struct {
	// Timeout per database call; DefaultTimeout when zero.
	Timeout time.Duration
	// Monitor, when set, also sees every command (tests count by name).
	Monitor *event.CommandMonitor
}

// Open connects to uri and uses database name. It does not wait for the
// server: call Ping (readiness) or EnsureIndexes (start-up) for that.
func Open(uri, name string, opts Options) (*Store, error) {
	s := &Store{timeout: opts.Timeout}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	mon := &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			s.roundTrips.Add(1)
			if opts.Monitor != nil && opts.Monitor.Started != nil {
				opts.Monitor.Started(ctx, e)
			}
		},
	}
	if opts.Monitor != nil {
		mon.Succeeded, mon.Failed = opts.Monitor.Succeeded, opts.Monitor.Failed
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetMonitor(mon).
		SetAppName("newsgraph").SetServerSelectionTimeout(s.timeout))
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", err)
	}
	s.client = client
	s.db = client.Database(name)
	s.articles = s.db.Collection(articlesColl)
	s.authors = s.db.Collection(authorsColl)
	s.taxonomy = s.db.Collection(taxonomyColl)
	s.apiKeys = s.db.Collection(apiKeysColl)
	s.revisions = s.db.Collection(revisionsColl)
	s.audit = s.db.Collection(auditColl)
	s.deletions = s.db.Collection(deletionsColl)
	s.authorSlugs = s.db.Collection(authorSlugsColl)
	return s, nil
}

// OpenWithIndexes opens the store as a process does at start: connected,
// with its indexes in place.
func OpenWithIndexes(ctx context.Context, uri, name string, opts Options) (*Store, error) {
	s, err := Open(uri, name, opts)
	if err != nil {
		return nil, err
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		s.Shutdown()
		return nil, err
	}
	return s, nil
}

// Shutdown disconnects, giving in-flight calls five seconds.
func (s *Store) Shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Close(ctx)
}

// Close disconnects.
func (s *Store) Close(ctx context.Context) error { return s.client.Disconnect(ctx) }

// RoundTrips is the number of commands sent to the database so far.
func (s *Store) RoundTrips() int64 { return s.roundTrips.Load() }

// Ping checks the primary answers within a second (readiness).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.client.Ping(ctx, readpref.Primary())
}

// Drop removes the whole database (tests clean up with it).
func (s *Store) Drop(ctx context.Context) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	return s.db.Drop(ctx)
}

func (s *Store) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// EnsureIndexes creates the indexes every query relies on. Creating an index
// that exists is a no-op, so this runs at every start; so does dropping the
// retired article_search collection. It also learns whether the server is
// FerretDB and how large the collections read in batches are (batches.go).
func (s *Store) EnsureIndexes(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.timeout)
	defer cancel()
	// A fresh builder per index: the driver writes the index's name into the
	// builder it is given, so a shared one would name every unique index
	// after the first.
	unique := func() *options.IndexOptionsBuilder { return options.Index().SetUnique(true) }
	sets := []struct {
		coll   *mongo.Collection
		models []mongo.IndexModel
	}{
		{s.articles, []mongo.IndexModel{
			{Keys: bson.D{{Key: "slug", Value: 1}}, Options: unique()},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "publishedAt", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: bson.D{{Key: "section", Value: 1}, {Key: "publishedAt", Value: -1}}},
			{Keys: bson.D{{Key: "tags", Value: 1}, {Key: "publishedAt", Value: -1}}},
			{Keys: bson.D{{Key: "authorIds", Value: 1}, {Key: "publishedAt", Value: -1}}},
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "updatedAt", Value: -1}, {Key: "_id", Value: -1}}},
		}},
		{s.articles, []mongo.IndexModel{
			{Keys: bson.D{{Key: "updatedAt", Value: 1}}},
		}},
		{s.deletions, []mongo.IndexModel{
			{Keys: bson.D{{Key: "deletedAt", Value: 1}}},
		}},
		{s.authors, []mongo.IndexModel{
			{Keys: bson.D{{Key: "slug", Value: 1}}, Options: unique()},
			{Keys: bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}},
		}},
		{s.taxonomy, []mongo.IndexModel{
			{Keys: bson.D{{Key: "kind", Value: 1}, {Key: "position", Value: 1}}},
		}},
		{s.apiKeys, []mongo.IndexModel{
			{Keys: bson.D{{Key: "hash", Value: 1}}, Options: unique()},
		}},
		{s.revisions, []mongo.IndexModel{
			{Keys: bson.D{{Key: "articleId", Value: 1}, {Key: "version", Value: -1}}, Options: unique()},
		}},
		{s.audit, []mongo.IndexModel{
			{Keys: bson.D{{Key: "at", Value: -1}}},
		}},
		{s.db.Collection(webhookDeliveriesColl), []mongo.IndexModel{
			{Keys: bson.D{{Key: "webhookId", Value: 1}, {Key: "createdAt", Value: -1}}},
		}},
	}
	for _, set := range sets {
		missing, err := missingIndexes(ctx, set.coll, set.models)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			continue
		}
		if _, err := set.coll.Indexes().CreateMany(ctx, missing); err != nil {
			return fmt.Errorf("create indexes on %s: %w", set.coll.Name(), err)
		}
	}
	// Dropping a collection that is gone is a no-op on MongoDB and FerretDB.
	if err := s.db.Collection(retiredSearchColl).Drop(ctx); err != nil {
		return fmt.Errorf("drop %s: %w", retiredSearchColl, err)
	}
	return s.learnServer(ctx)
}

// missingIndexes leaves out the models whose index already exists (by the
// driver's default name, e.g. "slug_1"). Besides saving a write at every
// start, this sidesteps FerretDB 1.24's SQLite backend, whose connection
// panics when createIndexes names several indexes that already exist.
func missingIndexes(ctx context.Context, coll *mongo.Collection, models []mongo.IndexModel) ([]mongo.IndexModel, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", coll.Name(), err)
	}
	have := map[string]bool{}
	for _, s := range specs {
		have[s.Name] = true
	}
	var missing []mongo.IndexModel
	for _, m := range models {
		if !have[indexName(m.Keys.(bson.D))] {
			missing = append(missing, m)
		}
	}
	return missing, nil
}

// indexName is the name MongoDB and the driver give an index by default.
func indexName(keys bson.D) string {
	name := ""
	for i, k := range keys {
		if i > 0 {
			name += "_"
		}
		name += fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return name
}

// findOne decodes the single document matching filter, or news.ErrNotFound.
func findOne[T any](ctx context.Context, s *Store, coll *mongo.Collection, filter bson.D) (*T, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	var v T
	err := coll.FindOne(ctx, filter).Decode(&v)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, news.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s findOne: %w", coll.Name(), err)
	}
	return &v, nil
}

// singleBatch is the find limit that returns at most n documents in the
// first reply and closes the cursor there (a negative limit, in the protocol's
// terms). Without it a server may leave the cursor open and the driver then
// spends a second round trip on a getMore that returns nothing (FerretDB does
// this even when the batch holds every result).
func singleBatch(n int) int64 {
	if n < 1 {
		n = 1
	}
	return -int64(n)
}

// findAll runs one find and decodes every result.
func findAll[T any](ctx context.Context, s *Store, coll *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder) ([]*T, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("%s find: %w", coll.Name(), err)
	}
	var out []*T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("%s decode: %w", coll.Name(), err)
	}
	return out, nil
}
