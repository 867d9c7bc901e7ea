// Package feed publishes the newsroom's latest stories as RSS 2.0, Atom 1.0
// and JSON Feed 1.1, the whole site or one section, tag or author.
package feed

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Item counts: what a reader gets without asking, and the most it may ask for.
const (
	DefaultItems = 30
	MaxItems     = 100
)

// Request is what a subscriber narrows a feed by: slugs, all optional.
type Request struct {
	Section string
	Tag     string
	Author  string
	Limit   int
}

// ParseRequest reads a feed's query string. A bad limit is a
// *news.InputError on "limit".
func ParseRequest(q url.Values) (Request, error) {
	r := Request{Section: q.Get("section"), Tag: q.Get("tag"), Author: q.Get("author"), Limit: DefaultItems}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxItems {
			return Request{}, news.BadInput("limit", "must be a whole number from 1 to %d", MaxItems)
		}
		r.Limit = n
	}
	return r, nil
}

// query is the request's canonical query string, for self links.
func (r Request) query() string {
	v := url.Values{}
	for k, s := range map[string]string{"section": r.Section, "tag": r.Tag, "author": r.Author} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if r.Limit != DefaultItems {
		v.Set("limit", strconv.Itoa(r.Limit))
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Feed is what all three formats are written from.
type Feed struct {
	SiteName    string
	Title       string
	Description string
	// HomeURL is the site (or section) page; SelfURL the feed's own address.
	HomeURL string
	SelfURL string
	// Updated is the latest change among the items; zero for an empty feed.
	Updated time.Time
	Items   []Item
}

// Item is one story as a feed carries it.
type Item struct {
	// ID is stable for the life of the story, whatever its slug.
	ID          string
	URL         string
	Title       string
	Summary     string
	ContentHTML string
	Published   time.Time
	Updated     time.Time
	Authors     []Person
	// Categories are the section's name then the tags' names.
	Categories []string
	TagSlugs   []string
	Image      *news.Image
	Source     *news.Source
}

// Person is a byline in a feed.
type Person struct {
	Name string
	URL  string
}

// Source builds feeds from the newsroom's published stories.
type Source struct {
	News *news.Service
	// BaseURL is PUBLIC_BASE_URL: the site, and where feeds are linked from.
	BaseURL  string
	SiteName string
}

// Collect gathers the newest published stories matching r, with their
// bylines and taxonomy: one find for the stories, one batch for all their
// authors and one for all their sections and tags, whatever the item count.
// Unknown slugs are a *news.InputError naming the filter.
func (s *Source) Collect(ctx context.Context, path string, r Request) (*Feed, error) {
	// Feeds are public and cached by anyone: read them as an anonymous
	// reader whatever key the request carried, so no draft can slip in.
	ctx = news.WithViewer(ctx, news.Viewer{Role: news.RoleReader})
	f := &news.ArticleFilter{}
	if r.Section != "" {
		f.Section = &r.Section
	}
	if r.Tag != "" {
		f.Tags = []string{r.Tag}
	}
	if r.Author != "" {
		f.Author = &r.Author
	}
	conn, err := s.News.Articles(ctx, news.PageArgs{First: &r.Limit}, f, nil)
	if err != nil {
		return nil, err
	}
	articles := make([]*news.Article, len(conn.Edges))
	for i, e := range conn.Edges {
		articles[i] = e.Node
	}
	authors, terms, err := s.lookups(ctx, articles, r)
	if err != nil {
		return nil, err
	}

	out := &Feed{
		SiteName:    s.SiteName,
		Title:       s.SiteName,
		Description: "The latest stories from " + s.SiteName,
		HomeURL:     s.BaseURL + "/",
		SelfURL:     s.BaseURL + path + r.query(),
	}
	if name := scopeName(r, terms, authors, articles); name != "" {
		out.Title = name + " · " + s.SiteName
		out.Description = "The latest stories from " + s.SiteName + ": " + name
	}
	if r.Section != "" {
		out.HomeURL = s.BaseURL + "/" + r.Section
	}
	for _, a := range articles {
		it := s.item(a, authors, terms)
		if it.Updated.After(out.Updated) {
			out.Updated = it.Updated
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// lookups loads every byline and term the items name, plus the filter's
// section or tag (for the feed's title), in one batch each.
func (s *Source) lookups(ctx context.Context, articles []*news.Article, r Request) (map[string]*news.Author, map[string]*news.Term, error) {
	var ids, keys []string
	seenID, seenKey := map[string]bool{}, map[string]bool{}
	addKey := func(k string) {
		if !seenKey[k] {
			seenKey[k] = true
			keys = append(keys, k)
		}
	}
	if r.Section != "" {
		addKey(news.TermKey(news.KindSection, r.Section))
	}
	if r.Tag != "" {
		addKey(news.TermKey(news.KindTag, r.Tag))
	}
	for _, a := range articles {
		for _, id := range a.AuthorIDs {
			if !seenID[id] {
				seenID[id] = true
				ids = append(ids, id)
			}
		}
		if a.Section != "" {
			addKey(news.TermKey(news.KindSection, a.Section))
		}
		for _, t := range a.Tags {
			addKey(news.TermKey(news.KindTag, t))
		}
	}
	authors := map[string]*news.Author{}
	terms := map[string]*news.Term{}
	var err error
	if len(ids) > 0 {
		if authors, err = s.News.Store().AuthorsByIDs(ctx, ids); err != nil {
			return nil, nil, err
		}
	}
	if len(keys) > 0 {
		if terms, err = s.News.Store().TermsByKeys(ctx, keys); err != nil {
			return nil, nil, err
		}
	}
	return authors, terms, nil
}

// scopeName names what the feed is narrowed to, "" for the whole site.
func scopeName(r Request, terms map[string]*news.Term, authors map[string]*news.Author, articles []*news.Article) string {
	switch {
	case r.Section != "":
		if t := terms[news.TermKey(news.KindSection, r.Section)]; t != nil {
			return t.Name
		}
	case r.Tag != "":
		if t := terms[news.TermKey(news.KindTag, r.Tag)]; t != nil {
			return t.Name
		}
	case r.Author != "":
		// The filter matched these stories by this author, so one of
		// their bylines carries the slug; an empty feed falls back to it.
		for _, a := range articles {
			for _, id := range a.AuthorIDs {
				if au := authors[id]; au != nil && au.Slug == r.Author {
					return au.Name
				}
			}
		}
		return r.Author
	}
	return ""
}

func (s *Source) item(a *news.Article, authors map[string]*news.Author, terms map[string]*news.Term) Item {
	it := Item{
		ID:          "urn:newsgraph:article:" + a.ID,
		URL:         s.News.CanonicalURL(a),
		Title:       a.Headline,
		Summary:     a.Dek,
		ContentHTML: news.RenderHTML(a.Body),
		Updated:     a.UpdatedAt,
		TagSlugs:    a.Tags,
		Image:       a.FeaturedImage,
		Source:      a.Source,
	}
	if a.PublishedAt != nil {
		it.Published = *a.PublishedAt
		if it.Published.After(it.Updated) {
			it.Updated = it.Published
		}
	}
	for _, id := range a.AuthorIDs {
		if au := authors[id]; au != nil {
			it.Authors = append(it.Authors, Person{Name: au.Name, URL: au.URL})
		}
	}
	if t := terms[news.TermKey(news.KindSection, a.Section)]; t != nil {
		it.Categories = append(it.Categories, t.Name)
	}
	for _, slug := range a.Tags {
		if t := terms[news.TermKey(news.KindTag, slug)]; t != nil {
			it.Categories = append(it.Categories, t.Name)
		}
	}
	return it
}

// IsUnknownFilter reports whether err says a feed's section, tag or author
// does not exist (a 404 for the feed), as opposed to a bad limit.
func IsUnknownFilter(err error) (*news.InputError, bool) {
	var ie *news.InputError
	if errors.As(err, &ie) && ie.Field != "limit" {
		return ie, true
	}
	return nil, false
}
