package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/newsgraph/newsgraph/internal/news"
)

// How a batch of _ids is read. MongoDB answers `_id: {$in: ids}` from its
// _id index in one round trip. FerretDB 1.24 answers it by reading every
// document of the collection (only `_id` equality reaches its index), so a
// page's bylines would cost in proportion to the authors on file and its
// tags to the whole taxonomy: a newsroom with 20,000 tags would read 20,000
// documents for every cold page. On FerretDB, a batch that is a small part
// of its collection is read as one `_id` find per document, a few at a
// time; a batch that is a large part of it still costs one $in.
const (
	// eachParallel bounds the _id finds of one batch in flight at once.
	eachParallel = 8
	// eachBelow: finds by _id when the collection holds at least this many
	// times the batch's documents (a find costs about what reading a few
	// documents does).
	eachBelow = 4
	// sizeTTL is how long a collection's size is trusted before it is read
	// again (in the background; the old size serves meanwhile).
	sizeTTL = time.Minute
)

// batches remembers what the server is and how large the collections read
// in batches are.
type batches struct {
	mu      sync.Mutex
	ferret  bool // the server is FerretDB; learnt by EnsureIndexes
	sizes   map[string]collSize
	reading map[string]bool
}

type collSize struct {
	n  int64
	at time.Time
}

// learnServer asks the server what it is and how large the batch-read
// collections are (EnsureIndexes, at start-up).
func (s *Store) learnServer(ctx context.Context) error {
	var info bson.M
	if err := s.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return fmt.Errorf("buildInfo: %w", err)
	}
	_, ferret := info["ferretdbVersion"]
	s.batches.mu.Lock()
	s.batches.ferret = ferret
	s.batches.mu.Unlock()
	if !ferret {
		return nil
	}
	// The hints' collection exists from the start, so that the embedded
	// default's start-up gives it the _id index FerretDB's filter can use.
	if err := s.db.CreateCollection(ctx, authorSlugsColl); err != nil && !isNamespaceExists(err) {
		return fmt.Errorf("create %s: %w", authorSlugsColl, err)
	}
	if err := s.hintAuthorSlugs(ctx); err != nil {
		return err
	}
	for _, coll := range []*mongo.Collection{s.authors, s.taxonomy} {
		s.readSize(ctx, coll.Name())
	}
	return nil
}

// isNamespaceExists reports a createCollection of a collection that exists.
func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 48
}

// readSize asks the server for a collection's document count (collStats:
// a count of the table on FerretDB, not a read of its documents).
func (s *Store) readSize(ctx context.Context, name string) {
	var stats struct {
		Count int64 `bson:"count"`
	}
	err := s.db.RunCommand(ctx, bson.D{{Key: "collStats", Value: name}}).Decode(&stats)
	s.batches.mu.Lock()
	defer s.batches.mu.Unlock()
	delete(s.batches.reading, name)
	if err != nil {
		return // unknown size: batches use $in until it is known
	}
	if s.batches.sizes == nil {
		s.batches.sizes = map[string]collSize{}
	}
	s.batches.sizes[name] = collSize{n: stats.Count, at: time.Now()}
}

// eachByID reports whether a batch of n documents of coll is better read as
// n finds by _id than as one $in.
func (s *Store) eachByID(coll *mongo.Collection, n int) bool {
	b := &s.batches
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ferret {
		return false
	}
	size, known := b.sizes[coll.Name()]
	if (!known || time.Since(size.at) > sizeTTL) && !b.reading[coll.Name()] {
		if b.reading == nil {
			b.reading = map[string]bool{}
		}
		b.reading[coll.Name()] = true
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			defer cancel()
			s.readSize(ctx, coll.Name())
		}()
	}
	return known && size.n >= int64(eachBelow*n)
}

// byIDs fetches documents whose _id is in ids, keyed by keyOf: one $in, or
// on FerretDB, for a batch that is a small part of its collection, one find
// by _id each.
func byIDs[T any](ctx context.Context, s *Store, coll *mongo.Collection, ids []string, keyOf func(*T) string) (map[string]*T, error) {
	if len(ids) == 0 {
		return map[string]*T{}, nil
	}
	if s.eachByID(coll, len(ids)) {
		return findEach(ctx, s, coll, ids, keyOf)
	}
	rows, err := findAll[T](ctx, s, coll, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetLimit(singleBatch(len(ids))))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(rows))
	for _, r := range rows {
		out[keyOf(r)] = r
	}
	return out, nil
}

// findEach reads ids with one find by _id each, eachParallel at a time;
// documents that do not exist are left out.
func findEach[T any](ctx context.Context, s *Store, coll *mongo.Collection, ids []string, keyOf func(*T) string) (map[string]*T, error) {
	out := make(map[string]*T, len(ids))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(eachParallel)
	for _, id := range ids {
		g.Go(func() error {
			v, err := findOne[T](gctx, s, coll, bson.D{{Key: "_id", Value: id}})
			if errors.Is(err, news.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			out[keyOf(v)] = v
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// slugHint is a document of authorSlugs: on FerretDB, where only `_id`
// equality reaches an index, a slug lookup first reads the hint by _id and
// then the author by _id, instead of reading every author on file. A hint
// is only a hint: the author it names must still have that slug, else the
// lookup reads the authors as before. Every start writes the hints of the
// authors on file; a lookup that had to read the authors (a new or renamed
// author) writes its own, so the desk's write path needs none.
type slugHint struct {
	Slug string `bson:"_id"`
	ID   string `bson:"authorId"`
}

// onFerret reports whether the server is FerretDB (learnt by EnsureIndexes).
func (s *Store) onFerret() bool {
	s.batches.mu.Lock()
	defer s.batches.mu.Unlock()
	return s.batches.ferret
}

// hintAuthorSlugs writes the hints that are missing or wrong for the
// authors on file (at start: one read of the authors and of the hints, and
// one bulk write of what differs).
func (s *Store) hintAuthorSlugs(ctx context.Context) error {
	authors, err := findAll[news.Author](ctx, s, s.authors, bson.D{}, options.Find().SetProjection(bson.D{{Key: "slug", Value: 1}}))
	if err != nil {
		return err
	}
	hints, err := findAll[slugHint](ctx, s, s.authorSlugs, bson.D{}, options.Find())
	if err != nil {
		return err
	}
	have := make(map[string]string, len(hints))
	for _, h := range hints {
		have[h.Slug] = h.ID
	}
	var writes []mongo.WriteModel
	for _, a := range authors {
		if have[a.Slug] != a.ID {
			writes = append(writes, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: a.Slug}}).
				SetReplacement(slugHint{Slug: a.Slug, ID: a.ID}).SetUpsert(true))
		}
	}
	if len(writes) == 0 {
		return nil
	}
	if _, err := s.authorSlugs.BulkWrite(ctx, writes, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("write author slug hints: %w", err)
	}
	return nil
}

// forgetSlug drops the hint for slug.
func (s *Store) forgetSlug(ctx context.Context, slug string) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, _ = s.authorSlugs.DeleteOne(ctx, bson.D{{Key: "_id", Value: slug}})
}

// noteSlug records that slug names id.
func (s *Store) noteSlug(ctx context.Context, slug, id string) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	_, _ = s.authorSlugs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: slug}}, slugHint{Slug: slug, ID: id}, options.Replace().SetUpsert(true))
}
