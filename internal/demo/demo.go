// Package demo loads the newsroom's demo corpus (corpus.json, our own
// made-up Riverside Courier) into an empty database, so a fresh start has
// something to read.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/newsgraph/newsgraph/internal/news"
)

//go:embed corpus.json
var corpusJSON []byte

// Corpus is the shape of corpus.json.
type Corpus struct {
	Sections []struct {
		Slug        string `json:"slug"`
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"sections"`
	Tags []struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	} `json:"tags"`
	Authors []struct {
		Slug        string            `json:"slug"`
		Name        string            `json:"name"`
		Bio         string            `json:"bio"`
		Location    string            `json:"location"`
		URL         string            `json:"url"`
		Avatar      *news.Image       `json:"avatar"`
		SocialLinks []news.SocialLink `json:"socialLinks"`
	} `json:"authors"`
	Articles []struct {
		Slug          string       `json:"slug"`
		Headline      string       `json:"headline"`
		Dek           string       `json:"dek"`
		Body          string       `json:"body"`
		Authors       []string     `json:"authors"`
		Section       string       `json:"section"`
		Tags          []string     `json:"tags"`
		FeaturedImage *news.Image  `json:"featuredImage"`
		Source        *news.Source `json:"source"`
		Status        news.Status  `json:"status"`
		// PublishedHoursAgo places the story relative to load time so the
		// demo always looks current; negative is in the future (scheduled).
		PublishedHoursAgo *float64 `json:"publishedHoursAgo"`
	} `json:"articles"`
}

// Content is the corpus as domain objects, ready to insert.
type Content struct {
	Terms    []*news.Term
	Authors  []*news.Author
	Articles []*news.Article
}

// Build turns the embedded corpus into domain objects dated relative to now.
func Build(now time.Time) (*Content, error) {
	var c Corpus
	if err := json.Unmarshal(corpusJSON, &c); err != nil {
		return nil, fmt.Errorf("demo corpus: %w", err)
	}
	now = now.UTC().Truncate(time.Millisecond)
	out := &Content{}
	for i, s := range c.Sections {
		out.Terms = append(out.Terms, &news.Term{Key: news.TermKey(news.KindSection, s.Slug), Kind: news.KindSection,
			Slug: s.Slug, Name: s.Name, Description: s.Description, Position: i})
	}
	for i, t := range c.Tags {
		out.Terms = append(out.Terms, &news.Term{Key: news.TermKey(news.KindTag, t.Slug), Kind: news.KindTag,
			Slug: t.Slug, Name: t.Name, Position: i})
	}
	authorIDs := map[string]string{}
	for _, a := range c.Authors {
		id := bson.NewObjectID().Hex()
		authorIDs[a.Slug] = id
		out.Authors = append(out.Authors, &news.Author{ID: id, Slug: a.Slug, Name: a.Name, Bio: a.Bio,
			Location: a.Location, URL: a.URL, Avatar: a.Avatar, SocialLinks: a.SocialLinks,
			CreatedAt: now, UpdatedAt: now})
	}
	for _, a := range c.Articles {
		art := &news.Article{ID: bson.NewObjectID().Hex(), Slug: a.Slug, Headline: a.Headline, Dek: a.Dek,
			Body: a.Body, Section: a.Section, Tags: a.Tags, FeaturedImage: a.FeaturedImage, Source: a.Source,
			StoredStatus: a.Status, CreatedAt: now, UpdatedAt: now, Version: 1}
		if art.Tags == nil {
			art.Tags = []string{}
		}
		for _, slug := range a.Authors {
			id, ok := authorIDs[slug]
			if !ok {
				return nil, fmt.Errorf("demo corpus: article %s names unknown author %s", a.Slug, slug)
			}
			art.AuthorIDs = append(art.AuthorIDs, id)
		}
		if a.PublishedHoursAgo != nil {
			at := now.Add(-time.Duration(*a.PublishedHoursAgo * float64(time.Hour))).Truncate(time.Millisecond)
			art.PublishedAt = &at
			art.CreatedAt, art.UpdatedAt = at, at
			if at.After(now) {
				art.CreatedAt, art.UpdatedAt = now, now
			}
		}
		if art.StoredStatus == news.StatusScheduled {
			// Scheduled is stored as published with a future time.
			art.StoredStatus = news.StatusPublished
		}
		out.Articles = append(out.Articles, art)
	}
	return out, nil
}

// Writer is what loading needs from the store.
type Writer interface {
	CountArticles(ctx context.Context) (int64, error)
	InsertTerms(ctx context.Context, terms []*news.Term) error
	InsertAuthors(ctx context.Context, authors []*news.Author) error
	InsertArticles(ctx context.Context, articles []*news.Article) error
}

// LoadIfEmpty loads the corpus when the database has no articles, and
// reports whether it did. A restart keeps what is there.
func LoadIfEmpty(ctx context.Context, w Writer, now time.Time) (bool, error) {
	n, err := w.CountArticles(ctx)
	if err != nil {
		return false, fmt.Errorf("count articles: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	c, err := Build(now)
	if err != nil {
		return false, err
	}
	if err := w.InsertTerms(ctx, c.Terms); err != nil {
		return false, fmt.Errorf("load demo sections and tags: %w", err)
	}
	if err := w.InsertAuthors(ctx, c.Authors); err != nil {
		return false, fmt.Errorf("load demo authors: %w", err)
	}
	if err := w.InsertArticles(ctx, c.Articles); err != nil {
		return false, fmt.Errorf("load demo articles: %w", err)
	}
	return true, nil
}
