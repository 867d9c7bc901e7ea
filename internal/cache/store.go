package cache

import (
	"context"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Store wraps a news.Store: articles, authors, sections and tags come from
// the cache tiers; lists go to the origin (their responses are cached whole).
// Every read tags the request's response with what it touched.
type Store struct {
	news.Store
	c *Cache

	dueMu      sync.Mutex
	dueChecked time.Time
}

// Scheduler is what the cache asks the origin to learn when the next
// scheduled story goes live.
type Scheduler interface {
	NextScheduledAt(ctx context.Context, now time.Time) (*time.Time, error)
}

// Wrap puts the cache in front of st.
func (c *Cache) Wrap(st news.Store) *Store {
	s := &Store{Store: st, c: c}
	c.store = s
	return s
}

func (s *Store) ArticleByID(ctx context.Context, id string) (*news.Article, error) {
	a, err := s.c.articles.get(ctx, keyArticleID(id), func(ctx context.Context) (*news.Article, error) {
		return s.Store.ArticleByID(ctx, id)
	})
	tag(ctx, tagArticle(id))
	capAtPublication(ctx, a)
	return a, err
}

func (s *Store) ArticleBySlug(ctx context.Context, slug string) (*news.Article, error) {
	a, err := s.c.articles.get(ctx, keyArticleSlug(slug), func(ctx context.Context) (*news.Article, error) {
		return s.Store.ArticleBySlug(ctx, slug)
	})
	tag(ctx, tagSlug(slug))
	if a != nil {
		tag(ctx, tagArticle(a.ID))
	}
	capAtPublication(ctx, a)
	return a, err
}

func (s *Store) ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error) {
	out, err := s.c.articles.getMany(ctx, ids, keyArticleID, s.Store.ArticlesByIDs)
	for _, id := range ids {
		tag(ctx, tagArticle(id))
	}
	for _, a := range out {
		capAtPublication(ctx, a)
	}
	return out, err
}

// capAtPublication keeps a response that saw a scheduled story (as absent,
// to a reader) from being kept past the moment the story goes live.
func capAtPublication(ctx context.Context, a *news.Article) {
	if a != nil && a.PublishedAt != nil {
		if until := time.Until(*a.PublishedAt); until > 0 {
			capTTL(ctx, until)
		}
	}
}

func (s *Store) Articles(ctx context.Context, q news.ArticleQuery) ([]*news.Article, error) {
	tag(ctx, tagArticles)
	s.capAtNextDue(ctx)
	return s.Store.Articles(ctx, q)
}

func (s *Store) AuthorByID(ctx context.Context, id string) (*news.Author, error) {
	a, err := s.c.authors.get(ctx, keyAuthorID(id), func(ctx context.Context) (*news.Author, error) {
		return s.Store.AuthorByID(ctx, id)
	})
	tag(ctx, tagAuthor(id))
	return a, err
}

func (s *Store) AuthorBySlug(ctx context.Context, slug string) (*news.Author, error) {
	a, err := s.c.authors.get(ctx, keyAuthorSlug(slug), func(ctx context.Context) (*news.Author, error) {
		return s.Store.AuthorBySlug(ctx, slug)
	})
	tag(ctx, tagAuthorSlug(slug))
	if a != nil {
		tag(ctx, tagAuthor(a.ID))
	}
	return a, err
}

func (s *Store) Authors(ctx context.Context, q news.AuthorQuery) ([]*news.Author, error) {
	tag(ctx, tagAuthors)
	return s.Store.Authors(ctx, q)
}

func (s *Store) AuthorsByIDs(ctx context.Context, ids []string) (map[string]*news.Author, error) {
	out, err := s.c.authors.getMany(ctx, ids, keyAuthorID, s.Store.AuthorsByIDs)
	for _, id := range ids {
		tag(ctx, tagAuthor(id))
	}
	return out, err
}

func (s *Store) TermsByKeys(ctx context.Context, keys []string) (map[string]*news.Term, error) {
	tag(ctx, tagTerms)
	return s.c.terms.getMany(ctx, keys, keyTerm, s.Store.TermsByKeys)
}

func (s *Store) Sections(ctx context.Context) ([]*news.Term, error) {
	tag(ctx, tagTerms)
	return s.c.sections.get(ctx, keySections, s.Store.Sections)
}

// capAtNextDue keeps a list response from being cached past the moment the
// next scheduled story goes live, so it appears on time everywhere. The
// origin is asked at most every few seconds, and only once that moment has
// passed or was never learnt.
func (s *Store) capAtNextDue(ctx context.Context) {
	now := time.Now()
	due := s.c.nextDue.Load()
	if due == 0 || due <= now.UnixNano() {
		due = s.refreshDue(ctx, now)
	}
	if due > now.UnixNano() {
		capTTL(ctx, time.Duration(due-now.UnixNano()))
	}
}

func (s *Store) refreshDue(ctx context.Context, now time.Time) int64 {
	sch, ok := s.Store.(Scheduler)
	if !ok {
		return 0
	}
	s.dueMu.Lock()
	defer s.dueMu.Unlock()
	if due := s.c.nextDue.Load(); due > now.UnixNano() {
		return due // another request just learnt it
	}
	if now.Sub(s.dueChecked) < 5*time.Second {
		// Checked moments ago; until the next check, keep lists short-lived.
		capTTL(ctx, 5*time.Second)
		return 0
	}
	s.dueChecked = now
	at, err := sch.NextScheduledAt(ctx, now)
	if err != nil {
		capTTL(ctx, 5*time.Second)
		return 0
	}
	if at == nil {
		s.c.nextDue.Store(noneDue)
		return noneDue
	}
	s.c.nextDue.Store(at.UnixNano())
	return at.UnixNano()
}

// noneDue marks "no story is scheduled" (far enough away to never cap).
const noneDue = int64(1) << 62

const tagAuthors = "authors" // the list of authors

// The related-stories finder reads candidate lists and tag frequencies
// beyond news.Store. They pass through to the origin; a response built from
// them depends on every list of articles, so it is tagged as one.

type sharingStore interface {
	ArticlesSharingTags(ctx context.Context, q news.SharingQuery) ([]*news.Article, error)
	ArticlesSharingDesk(ctx context.Context, q news.SharingQuery) ([]*news.Article, error)
	TagFrequencies(ctx context.Context, now time.Time, tags []string) (*news.TagFrequencies, error)
}

func (s *Store) sharing() sharingStore { return s.Store.(sharingStore) }

func (s *Store) ArticlesSharingTags(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	tag(ctx, tagArticles)
	return s.sharing().ArticlesSharingTags(ctx, q)
}

func (s *Store) ArticlesSharingDesk(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	tag(ctx, tagArticles)
	return s.sharing().ArticlesSharingDesk(ctx, q)
}

func (s *Store) TagFrequencies(ctx context.Context, now time.Time, tags []string) (*news.TagFrequencies, error) {
	tag(ctx, tagArticles)
	return s.sharing().TagFrequencies(ctx, now, tags)
}

// Search asks the query index, passed through like the related-stories
// reads and tagged as depending on every list.

type searchStore interface {
	Search(ctx context.Context, q news.SearchQuery) ([]news.SearchHit, error)
	Analyze(text string) []news.Token
}

func (s *Store) searching() searchStore { return s.Store.(searchStore) }

func (s *Store) Search(ctx context.Context, q news.SearchQuery) ([]news.SearchHit, error) {
	tag(ctx, tagArticles)
	return s.searching().Search(ctx, q)
}

func (s *Store) Analyze(text string) []news.Token { return s.searching().Analyze(text) }
