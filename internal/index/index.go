// Package index is the query index: an embedded bleve index that answers
// "which stories, in which order" for lists, search, related stories, feeds
// and slug lookups, so that no read scans MongoDB (FerretDB pushes nothing
// but _id equality down to SQLite). MongoDB stays the system of record:
// the index holds IDs, the fields lists filter on and sort keys, and the
// analysed text search matches; stories are hydrated by _id, through the
// cache.
//
// Every instance keeps its own index, on disk under DATA_DIR or in memory.
// It hears this instance's writes as a news.Listener before the cache does,
// other instances' writes through the cache's confirmed invalidations
// (Refresh), and everything else (another process, a restart) by catching
// up from MongoDB by updatedAt and a record of deletions.
package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Field names in the index.
const (
	fieldSlug      = "slug"
	fieldStatus    = "status"
	fieldSection   = "section"
	fieldTags      = "tags"
	fieldAuthors   = "authors"
	fieldPublished = "published" // Unix milliseconds; 0 when never published
	fieldUpdated   = "updated"   // Unix milliseconds
	fieldHeadline  = "headline"
	fieldDek       = "dek"
	fieldBody      = "body"
)

// Keys of the index's own records (bleve's internal storage).
var (
	keyWatermark = []byte("newsgraph:watermark")
	keyBuilt     = []byte("newsgraph:built")
	keyMapping   = []byte("newsgraph:mapping")
)

// mappingVersion names newMapping's shape. An index on disk built with
// another is started over (and rebuilt from MongoDB), as an unreadable one
// is: bleve keeps the mapping an index was created with.
//
//	(none) first release: TF-IDF scoring
//	2      BM25 scoring
const mappingVersion = "2"

// Source is what the index reads from MongoDB to build itself and catch up:
// *store.Store.
type Source interface {
	ArticleByID(ctx context.Context, id string) (*news.Article, error)
	ScanArticles(ctx context.Context, since *time.Time, fn func([]*news.Article) error) error
	DeletedArticlesSince(ctx context.Context, since time.Time) ([]string, error)
}

// Options tune an Index.
type Options struct {
	// Source is where Start rebuilds and catches up from; nil leaves the
	// index fed only by IndexArticles and the listener.
	Source Source
	Logger *slog.Logger
	// CatchUpEvery is how often Start catches up from the Source (writes by
	// other processes, such as the import command); 0 means 30 s, negative
	// never.
	CatchUpEvery time.Duration
}

// Index is one instance's query index.
type Index struct {
	bleve bleve.Index
	dir   string
	opts  Options
	log   *slog.Logger
	// ready is false while a rebuild fills an empty index: /readyz then
	// says "indexing".
	ready atomic.Bool
	// watermark: every article updated before it (less the skew) is in the
	// index. Unix milliseconds.
	watermark atomic.Int64

	// During a rebuild or catch-up, the IDs written meanwhile by the
	// listener or Refresh: the scan's older copies of them must not
	// overwrite the newer.
	mu       sync.Mutex
	touched  map[string]bool
	catching sync.Mutex
	done     chan struct{}
	// settled closes when Start's first rebuild or catch-up is over.
	settled chan struct{}
}

// ErrIndexing is what Ping answers while the index is being built.
var ErrIndexing = indexing{}

type indexing struct{}

func (indexing) Error() string { return "indexing" }

// Starting tells /readyz to say "indexing" rather than "down".
func (indexing) Starting() string { return "indexing" }

// Open opens the index in dir, creating it when absent and starting over
// when it cannot be read (a corrupt index is rebuilt, never trusted). dir ""
// keeps the index in memory.
func Open(ctx context.Context, dir string, opts Options) (*Index, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CatchUpEvery == 0 {
		opts.CatchUpEvery = 30 * time.Second
	}
	ix := &Index{dir: dir, opts: opts, log: opts.Logger, done: make(chan struct{}), settled: make(chan struct{})}
	var err error
	switch {
	case dir == "":
		ix.bleve, err = bleve.NewMemOnly(newMapping())
	default:
		ix.bleve, err = bleve.Open(dir)
		if entries, rerr := os.ReadDir(dir); errors.Is(err, bleve.ErrorIndexPathDoesNotExist) || (err != nil && rerr == nil && len(entries) == 0) {
			ix.bleve, err = newOnDisk(dir)
		} else if err != nil {
			ix.log.Warn("query index unreadable; starting over", "dir", dir, "err", err)
			ix.bleve, err = startOver(dir)
		} else if v, _ := ix.bleve.GetInternal(keyMapping); string(v) != mappingVersion {
			ix.log.Warn("query index built with another mapping; starting over", "dir", dir, "built", string(v), "now", mappingVersion)
			if err = ix.bleve.Close(); err == nil {
				ix.bleve, err = startOver(dir)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open query index: %w", err)
	}
	if raw, err := ix.bleve.GetInternal(keyWatermark); err == nil && len(raw) == 8 {
		ix.watermark.Store(int64(binary.BigEndian.Uint64(raw)))
	}
	ix.ready.Store(ix.Built())
	return ix, nil
}

func newOnDisk(dir string) (bleve.Index, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	b, err := bleve.New(dir, newMapping())
	if err != nil {
		return nil, err
	}
	if err := b.SetInternal(keyMapping, []byte(mappingVersion)); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// startOver removes the index in dir and creates an empty one.
func startOver(dir string) (bleve.Index, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove the index: %w", err)
	}
	return newOnDisk(dir)
}

// newMapping: keywords for what lists filter on, numbers with doc values
// for what they sort on, English (stemmed, stop words out) for what search
// matches. Stories come from MongoDB; only what related stories are ranked
// on is stored.
func newMapping() mapping.IndexMapping {
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, false
		return f
	}
	num := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.Store, f.IncludeInAll, f.DocValues = false, false, true
		return f
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		// Term vectors hold positions: phrase queries need them.
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, true, false
		return f
	}
	// Related stories are ranked on what candidates share (section, tags,
	// bylines) and their age: stored, so only the winners are fetched.
	stored := func(f *mapping.FieldMapping) *mapping.FieldMapping { f.Store = true; return f }
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fieldSlug, fieldStatus} {
		doc.AddFieldMappingsAt(name, kw())
	}
	for _, name := range []string{fieldSection, fieldTags, fieldAuthors} {
		doc.AddFieldMappingsAt(name, stored(kw()))
	}
	doc.AddFieldMappingsAt(fieldPublished, stored(num()))
	doc.AddFieldMappingsAt(fieldUpdated, num())
	for _, name := range []string{fieldHeadline, fieldDek, fieldBody} {
		doc.AddFieldMappingsAt(name, text())
	}
	m := bleve.NewIndexMapping()
	m.ScoringModel = bleveindex.BM25Scoring
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	return m
}

// document is a story as the index sees it.
func document(a *news.Article) map[string]any {
	var published int64
	if a.PublishedAt != nil {
		published = a.PublishedAt.UnixMilli()
	}
	return map[string]any{
		fieldSlug:      a.Slug,
		fieldStatus:    string(a.StoredStatus),
		fieldSection:   a.Section,
		fieldTags:      a.Tags,
		fieldAuthors:   a.AuthorIDs,
		fieldPublished: float64(published),
		fieldUpdated:   float64(a.UpdatedAt.UnixMilli()),
		fieldHeadline:  a.Headline,
		fieldDek:       a.Dek,
		fieldBody:      a.Body,
	}
}

// IndexArticles puts arts into the index in one batch (new or replacing
// what it held under the same IDs, whatever their status) and advances the
// watermark to the newest updatedAt among them.
func (ix *Index) IndexArticles(ctx context.Context, arts []*news.Article) error {
	return ix.apply(ctx, arts, nil, false)
}

// apply writes one batch: upserts, deletions, and the watermark. A
// rebuild's or catch-up's batch (fromScan) skips the stories written
// meanwhile.
func (ix *Index) apply(ctx context.Context, upserts []*news.Article, deletions []string, fromScan bool) error {
	if len(upserts) == 0 && len(deletions) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := ix.bleve.NewBatch()
	mark := ix.watermark.Load()
	ix.mu.Lock()
	for _, a := range upserts {
		if fromScan && ix.touched[a.ID] {
			continue
		}
		if !fromScan && ix.touched != nil {
			ix.touched[a.ID] = true
		}
		if err := b.Index(a.ID, document(a)); err != nil {
			ix.mu.Unlock()
			return fmt.Errorf("index %s: %w", a.ID, err)
		}
		mark = max(mark, a.UpdatedAt.UnixMilli())
	}
	for _, id := range deletions {
		if !fromScan && ix.touched != nil {
			ix.touched[id] = true
		}
		b.Delete(id)
	}
	ix.mu.Unlock()
	if mark > ix.watermark.Load() {
		raw := make([]byte, 8)
		binary.BigEndian.PutUint64(raw, uint64(mark))
		b.SetInternal(keyWatermark, raw)
	}
	if err := ix.bleve.Batch(b); err != nil {
		return fmt.Errorf("query index batch: %w", err)
	}
	for {
		cur := ix.watermark.Load()
		if mark <= cur || ix.watermark.CompareAndSwap(cur, mark) {
			break
		}
	}
	return nil
}

// Remove drops stories from the index.
func (ix *Index) Remove(ctx context.Context, ids ...string) error {
	return ix.apply(ctx, nil, ids, false)
}

// Built reports whether the index has been filled from MongoDB at least
// once (a rebuild finished): an index without the mark is rebuilt at Start.
func (ix *Index) Built() bool {
	v, err := ix.bleve.GetInternal(keyBuilt)
	return err == nil && len(v) > 0
}

// RequireRebuild makes Start rebuild the index from MongoDB (after a bulk
// load that bypassed the write paths); Ping says "indexing" until then.
func (ix *Index) RequireRebuild() error {
	ix.ready.Store(false)
	return ix.bleve.DeleteInternal(keyBuilt)
}

// Watermark is the newest updatedAt the index has seen.
func (ix *Index) Watermark() time.Time { return time.UnixMilli(ix.watermark.Load()).UTC() }

// Count is how many stories the index holds.
func (ix *Index) Count() (uint64, error) { return ix.bleve.DocCount() }

// Ping implements httpapi.Pinger: ErrIndexing until the index is usable.
func (ix *Index) Ping(ctx context.Context) error {
	if !ix.ready.Load() {
		return ErrIndexing
	}
	return nil
}

// Close closes the index (after Start's work has stopped, when it ran).
func (ix *Index) Close() error { return ix.bleve.Close() }
