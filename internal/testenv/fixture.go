package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Fixtures write content straight to the test's database, the way the demo
// loader does, so tests control every field (ties, drafts, future times).

func (s *Service) ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// AddSection stores a section.
func (s *Service) AddSection(t testing.TB, slug, name string) {
	t.Helper()
	if err := s.Store.InsertTerms(s.ctx(t), []*news.Term{{Key: news.TermKey(news.KindSection, slug),
		Kind: news.KindSection, Slug: slug, Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// AddTag stores a tag.
func (s *Service) AddTag(t testing.TB, slug, name string) {
	t.Helper()
	if err := s.Store.InsertTerms(s.ctx(t), []*news.Term{{Key: news.TermKey(news.KindTag, slug),
		Kind: news.KindTag, Slug: slug, Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// AddAuthor stores an author and returns it.
func (s *Service) AddAuthor(t testing.TB, slug, name string) *news.Author {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := &news.Author{ID: bson.NewObjectID().Hex(), Slug: slug, Name: name, Bio: name + " reports.",
		SocialLinks: []news.SocialLink{}, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.InsertAuthors(s.ctx(t), []*news.Author{a}); err != nil {
		t.Fatal(err)
	}
	return a
}

// NewArticle is a published article at publishedAt with sensible defaults;
// change fields before AddArticles.
func NewArticle(slug string, publishedAt time.Time) *news.Article {
	at := publishedAt.UTC().Truncate(time.Millisecond)
	return &news.Article{
		ID: bson.NewObjectID().Hex(), Slug: slug, Headline: "Headline " + slug,
		Body: fmt.Sprintf("Body of %s.\n\nSecond paragraph.", slug), AuthorIDs: []string{}, Tags: []string{},
		StoredStatus: news.StatusPublished, PublishedAt: &at, CreatedAt: at, UpdatedAt: at, Version: 1,
	}
}

// AddArticles stores articles in one insert and tells the query index and
// the cache, as every write path does.
func (s *Service) AddArticles(t testing.TB, articles ...*news.Article) {
	t.Helper()
	if err := s.Store.InsertArticles(s.ctx(t), articles); err != nil {
		t.Fatal(err)
	}
	if err := s.Index.IndexArticles(s.ctx(t), articles); err != nil {
		t.Fatal(err)
	}
	for _, a := range articles {
		s.Cache.ArticleChanged(s.ctx(t), nil, a)
	}
}

// ReplaceArticle overwrites a stored article and tells the index and the
// cache.
func (s *Service) ReplaceArticle(t testing.TB, before, after *news.Article) {
	t.Helper()
	if err := s.Store.ReplaceArticle(s.ctx(t), after); err != nil {
		t.Fatal(err)
	}
	s.Index.ArticleChanged(s.ctx(t), before, after)
	s.Cache.ArticleChanged(s.ctx(t), before, after)
}
