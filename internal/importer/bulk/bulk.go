// Package bulk writes whole archives migrated from another CMS
// (newsgraph-import wordpress|jsonl): stories checked by the editors' rules,
// bylines, sections and tags created as needed, articles upserted by a key
// from the source system in unordered bulk writes of a few hundred, each
// batch then handed to the query index. One slow mutation per story would
// take hours for an archive; a batch costs a round trip or two.
package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
)

// BatchSize is how many stories one bulk write carries: a few hundred
// 300-to-800-word stories stay far below MongoDB's 48 MB message limit.
const BatchSize = 500

// Story is one story as a source maps it, before any checking.
type Story struct {
	// Key names the story in its system ("wordpress:<guid>"): importing
	// the same key again updates the story.
	Key string
	// Label names it in progress lines: `post 42 "Title"`, `line 7`.
	Label string
	// Input holds the article's fields; Slug nil means "from the headline",
	// Section and Tags are slugs whose names are in Terms.
	Input news.ArticleInput
	// Bylines in order; each is matched by name or created.
	Bylines []Byline
	// TermNames gives the display name of a section or tag slug that may
	// need creating; a slug missing here is named after itself.
	TermNames   map[string]string
	Status      news.Status
	PublishedAt *time.Time
}

// Byline is an author as the source names them.
type Byline struct {
	// Slug is the preferred author slug (a WordPress login), may be "".
	Slug string
	Name string
}

// Indexer is the query index, told of every batch written. The interface is
// defined here, where it is used, so the importer does not depend on the
// index's package.
type Indexer interface {
	IndexArticles(ctx context.Context, articles []*news.Article) error
}

// Options tune an Importer.
type Options struct {
	// Index, when set, receives each written batch with final IDs.
	Index Indexer
	// Progress receives a line per problem and one per batch.
	Progress io.Writer
	// InPlace updates stories already stored in place, as a real MongoDB
	// should; off, they are replaced by delete and insert, which FerretDB
	// on SQLite does in two round trips instead of a scan per story (see
	// store.UpsertArticles).
	InPlace bool
	// Now is the import's clock (time.Now when nil).
	Now func() time.Time
}

// Summary is what an import did.
type Summary struct {
	Inserted, Updated int
	// Renamed counts stories stored under a suffixed slug because another
	// story had theirs.
	Renamed int
	// Failed counts stories that could not be mapped or written.
	Failed int
	// Skipped counts items that are not stories, by kind ("page",
	// "attachment", "revision", "nav_menu_item", "comment", ...).
	Skipped map[string]int
	// AuthorsCreated and TermsEnsured count what bylines and taxonomy the
	// import added (terms: sections and tags asked for; existing ones are
	// left as they are).
	AuthorsCreated, TermsEnsured int
	Elapsed                      time.Duration
}

// Written is how many stories landed.
func (s Summary) Written() int { return s.Inserted + s.Updated }

// Importer collects stories into batches and writes them. Not safe for
// concurrent use.
type Importer struct {
	store *store.Store
	desk  *news.Desk
	opts  Options
	start time.Time

	batch   []pending
	sum     Summary
	authors map[string]string // lower-case name -> author ID
	terms   map[string]bool   // term keys ensured
	// slugs holds the slug each story key took in this run, so a second
	// story with a slug already taken gets the next free suffix.
	slugs map[string]string // slug -> story key
}

type pending struct {
	story   Story
	article *news.Article
	base    string // the slug asked for
	suffix  int    // 0: none yet
}

// New makes an importer writing through st; desk creates the authors (as
// editors would, with an audit entry each) and ctx must carry the viewer
// they are credited to.
func New(st *store.Store, desk *news.Desk, opts Options) *Importer {
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Importer{store: st, desk: desk, opts: opts, start: time.Now(),
		sum:     Summary{Skipped: map[string]int{}},
		authors: map[string]string{}, terms: map[string]bool{}, slugs: map[string]string{}}
}

// Skip counts an item that is not a story.
func (im *Importer) Skip(kind string) { im.sum.Skipped[kind]++ }

// Fail reports an item that could not be read or mapped; the import goes on.
func (im *Importer) Fail(label string, reason error) {
	im.sum.Failed++
	fmt.Fprintf(im.opts.Progress, "skipped %s: %v\n", label, reason)
}

// Add checks s and queues it; a full batch is written. The error is
// returned only when the database failed: a story that does not fit is
// reported and counted instead.
func (im *Importer) Add(ctx context.Context, s Story) error {
	authorIDs, err := im.bylines(ctx, s.Bylines)
	if err != nil {
		return err
	}
	if s.Input.Slug == nil || *s.Input.Slug == "" {
		var generated string
		if s.Input.Headline != nil {
			generated = news.Slugify(*s.Input.Headline)
		}
		if generated == "" {
			generated = "article-" + news.ImportedID(s.Key)[:8]
		}
		s.Input.Slug = &generated
	}
	a, err := news.ImportedArticle(news.Imported{Key: s.Key, Input: s.Input, AuthorIDs: authorIDs,
		Status: s.Status, PublishedAt: s.PublishedAt}, im.opts.Now())
	if err != nil {
		im.Fail(s.Label, err)
		return nil
	}
	p := pending{story: s, article: a, base: a.Slug}
	im.claimSlug(&p)
	im.batch = append(im.batch, p)
	if len(im.batch) >= BatchSize {
		return im.flush(ctx)
	}
	return nil
}

// claimSlug gives p the first of slug, slug-2, slug-3 ... that no other
// story of this run has, as WordPress does (wp_unique_post_slug).
func (im *Importer) claimSlug(p *pending) {
	for {
		slug := p.base
		if p.suffix > 0 {
			slug = news.SuffixedSlug(p.base, p.suffix)
		}
		if owner, ok := im.slugs[slug]; !ok || owner == p.story.Key {
			im.slugs[slug] = p.story.Key
			p.article.Slug = slug
			return
		}
		p.suffix = max(p.suffix+1, 2)
	}
}

// maxSlugTries bounds the suffixes tried against stories already stored.
const maxSlugTries = 50

// Close writes what is queued and returns the summary.
func (im *Importer) Close(ctx context.Context) (Summary, error) {
	err := im.flush(ctx)
	im.sum.Elapsed = time.Since(im.start)
	return im.sum, err
}

// flush writes the queued batch: its sections and tags, then the articles,
// then, for those whose slug another stored article has, the next suffix,
// until each landed or ran out of tries.
func (im *Importer) flush(ctx context.Context) error {
	batch := im.batch
	im.batch = nil
	if len(batch) == 0 {
		return nil
	}
	if err := im.ensureTerms(ctx, batch); err != nil {
		return err
	}
	written := make([]*news.Article, 0, len(batch))
	for try := 0; len(batch) > 0; try++ {
		arts := make([]*news.Article, len(batch))
		for i, p := range batch {
			arts[i] = p.article
		}
		out, err := im.store.UpsertArticles(ctx, arts, im.opts.InPlace)
		if err != nil {
			return err
		}
		im.sum.Inserted += out.Inserted
		im.sum.Updated += out.Updated
		clashed := map[int]bool{}
		for _, i := range out.SlugTaken {
			clashed[i] = true
		}
		var again []pending
		for i, p := range batch {
			if !clashed[i] {
				if p.suffix > 0 {
					im.sum.Renamed++
					fmt.Fprintf(im.opts.Progress, "renamed %s: slug %q is another story's; stored as %q\n",
						p.story.Label, p.base, p.article.Slug)
				}
				written = append(written, p.article)
				continue
			}
			if try >= maxSlugTries {
				im.Fail(p.story.Label, fmt.Errorf("slug %q and %d suffixes are all taken", p.base, maxSlugTries))
				continue
			}
			p.suffix = max(p.suffix+1, 2)
			im.claimSlug(&p)
			again = append(again, p)
		}
		batch = again
	}
	if im.opts.Index != nil && len(written) > 0 {
		if err := im.opts.Index.IndexArticles(ctx, written); err != nil {
			return fmt.Errorf("index the imported stories: %w", err)
		}
	}
	el := time.Since(im.start).Seconds()
	fmt.Fprintf(im.opts.Progress, "%d stories written (%d new, %d updated), %d skipped, %.0f stories/s\n",
		im.sum.Written(), im.sum.Inserted, im.sum.Updated, im.sum.Failed, float64(im.sum.Written())/max(el, 1e-3))
	return nil
}

// ensureTerms creates the batch's sections and tags that this run has not
// yet asked for, in one write.
func (im *Importer) ensureTerms(ctx context.Context, batch []pending) error {
	var terms []*news.Term
	add := func(kind news.TermKind, slug string, names map[string]string) {
		key := news.TermKey(kind, slug)
		if slug == "" || im.terms[key] {
			return
		}
		im.terms[key] = true
		name := names[slug]
		if name == "" {
			name = slug
		}
		// Imported sections list after the newsroom's own, in the order met.
		terms = append(terms, &news.Term{Key: key, Kind: kind, Slug: slug, Name: name, Position: 1000 + len(im.terms)})
	}
	for _, p := range batch {
		add(news.KindSection, p.article.Section, p.story.TermNames)
		for _, t := range p.article.Tags {
			add(news.KindTag, t, p.story.TermNames)
		}
	}
	im.sum.TermsEnsured += len(terms)
	return im.store.EnsureTerms(ctx, terms)
}

// bylines finds or creates each author, once per run: matched by name,
// ignoring case, as the text importer matches; created through the desk
// with the source's slug where free.
func (im *Importer) bylines(ctx context.Context, bylines []Byline) ([]string, error) {
	ids := make([]string, 0, len(bylines))
	for _, b := range bylines {
		name := strings.TrimSpace(b.Name)
		if name == "" {
			name = b.Slug
		}
		if name == "" {
			continue
		}
		key := strings.ToLower(name)
		if id, ok := im.authors[key]; ok {
			ids = append(ids, id)
			continue
		}
		found, err := im.store.AuthorByName(ctx, name)
		if err != nil {
			return nil, err
		}
		if found == nil {
			if found, err = im.createAuthor(ctx, b.Slug, name); err != nil {
				return nil, err
			}
		}
		im.authors[key] = found.ID
		ids = append(ids, found.ID)
	}
	return ids, nil
}

func (im *Importer) createAuthor(ctx context.Context, slug, name string) (*news.Author, error) {
	in := news.AuthorInput{Name: &name}
	if s := news.Slugify(slug); s != "" {
		in.Slug = &s
	}
	a, err := im.desk.CreateAuthor(ctx, in)
	var ie *news.InputError
	if errors.As(err, &ie) && in.Slug != nil {
		// The login's slug is someone else's: one from the name, made unique.
		in.Slug = nil
		a, err = im.desk.CreateAuthor(ctx, in)
	}
	if errors.As(err, &ie) {
		// A name the desk refuses (too long, markup) still makes a byline.
		short := news.Slugify(name)
		if short == "" {
			short = "author"
		}
		in = news.AuthorInput{Name: &short}
		a, err = im.desk.CreateAuthor(ctx, in)
	}
	if err != nil {
		return nil, fmt.Errorf("create author %q: %w", name, err)
	}
	im.sum.AuthorsCreated++
	return a, nil
}
