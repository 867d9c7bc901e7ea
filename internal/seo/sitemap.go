package seo

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Limits from sitemaps.org and Google News.
const (
	MaxSitemapURLs = 50_000
	MaxNewsURLs    = 1_000
	NewsWindow     = 48 * time.Hour
	pageSize       = 100 // news.MaxPageSize: the Service's largest page
)

const (
	sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"
	newsNS    = "http://www.google.com/schemas/sitemap-news/0.9"
)

type sitemapIndex struct {
	XMLName  xml.Name       `xml:"sitemapindex"`
	NS       string         `xml:"xmlns,attr"`
	Sitemaps []sitemapEntry `xml:"sitemap"`
}

type sitemapEntry struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

type urlSet struct {
	XMLName xml.Name   `xml:"urlset"`
	NS      string     `xml:"xmlns,attr"`
	NewsNS  string     `xml:"xmlns:news,attr,omitempty"`
	URLs    []urlEntry `xml:"url"`
}

type urlEntry struct {
	Loc     string     `xml:"loc"`
	LastMod string     `xml:"lastmod,omitempty"`
	News    *newsEntry `xml:"news:news,omitempty"`
}

type newsEntry struct {
	Publication     publication `xml:"news:publication"`
	PublicationDate string      `xml:"news:publication_date"`
	Title           string      `xml:"news:title"`
}

type publication struct {
	Name     string `xml:"news:name"`
	Language string `xml:"news:language"`
}

// reader is how sitemaps read: as an anonymous reader whatever key the
// request carried, so no draft or scheduled story can appear.
func reader(ctx context.Context) context.Context {
	return news.WithViewer(ctx, news.Viewer{Role: news.RoleReader})
}

// published lists the published stories in (after, before), newest first,
// at most limit, through the Service's pages.
func (s *Site) published(ctx context.Context, after, before *time.Time, limit int) ([]*news.Article, error) {
	ctx = reader(ctx)
	f := &news.ArticleFilter{PublishedAfter: after, PublishedBefore: before}
	var out []*news.Article
	var cursor *string
	for len(out) < limit {
		n := min(pageSize, limit-len(out))
		conn, err := s.News.Articles(ctx, news.PageArgs{First: &n, After: cursor}, f, &news.NewestFirst)
		if err != nil {
			return nil, err
		}
		for _, e := range conn.Edges {
			out = append(out, e.Node)
		}
		if !conn.PageInfo.HasNextPage || conn.PageInfo.EndCursor == nil {
			break
		}
		cursor = conn.PageInfo.EndCursor
	}
	return out, nil
}

// lastMod is when a story last changed as a crawler should see it.
func lastMod(a *news.Article) time.Time {
	if a.PublishedAt != nil && a.PublishedAt.After(a.UpdatedAt) {
		return *a.PublishedAt
	}
	return a.UpdatedAt
}

// Index is the sitemap index: one sitemap per month from the first
// published story to now, newest first, plus the news sitemap. base is
// where this service is reached (sitemaps are served here).
func (s *Site) Index(ctx context.Context, base string) ([]byte, time.Time, error) {
	oldest, err := s.News.Articles(reader(ctx), news.PageArgs{First: ptr(1)}, &news.ArticleFilter{},
		&news.Order{Field: news.OrderPublishedAt})
	if err != nil {
		return nil, time.Time{}, err
	}
	idx := sitemapIndex{NS: sitemapNS, Sitemaps: []sitemapEntry{{Loc: base + "/sitemaps/news.xml"}}}
	now := s.News.Now().UTC()
	if len(oldest.Edges) > 0 && oldest.Edges[0].Node.PublishedAt != nil {
		first := monthOf(*oldest.Edges[0].Node.PublishedAt)
		for m := monthOf(now); !m.Before(first); m = m.AddDate(0, -1, 0) {
			idx.Sitemaps = append(idx.Sitemaps, sitemapEntry{Loc: base + "/sitemaps/" + m.Format("2006-01") + ".xml"})
		}
	}
	body, err := marshal(idx)
	return body, time.Time{}, err
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Month is the sitemap of every story published in the month (UTC) that
// starts at start, at most MaxSitemapURLs, and when the newest changed.
func (s *Site) Month(ctx context.Context, start time.Time) ([]byte, time.Time, error) {
	after := start.Add(-time.Nanosecond) // the Service's bounds are exclusive
	end := start.AddDate(0, 1, 0)
	articles, err := s.published(ctx, &after, &end, MaxSitemapURLs)
	if err != nil {
		return nil, time.Time{}, err
	}
	set := urlSet{NS: sitemapNS}
	var newest time.Time
	for _, a := range articles {
		lm := lastMod(a)
		if lm.After(newest) {
			newest = lm
		}
		set.URLs = append(set.URLs, urlEntry{Loc: s.News.CanonicalURL(a), LastMod: lm.UTC().Format(time.RFC3339)})
	}
	body, err := marshal(set)
	return body, newest, err
}

// NewsSitemap is the Google News sitemap: stories published in the last 48 hours,
// at most 1,000.
func (s *Site) NewsSitemap(ctx context.Context) ([]byte, time.Time, error) {
	since := s.News.Now().Add(-NewsWindow)
	articles, err := s.published(ctx, &since, nil, MaxNewsURLs)
	if err != nil {
		return nil, time.Time{}, err
	}
	lang := s.Language
	if lang == "" {
		lang = "en"
	}
	set := urlSet{NS: sitemapNS, NewsNS: newsNS}
	var newest time.Time
	for _, a := range articles {
		lm := lastMod(a)
		if lm.After(newest) {
			newest = lm
		}
		set.URLs = append(set.URLs, urlEntry{Loc: s.News.CanonicalURL(a), LastMod: lm.UTC().Format(time.RFC3339),
			News: &newsEntry{
				Publication:     publication{Name: s.Name, Language: lang},
				PublicationDate: a.PublishedAt.UTC().Format(time.RFC3339),
				Title:           a.Headline,
			}})
	}
	body, err := marshal(set)
	return body, newest, err
}

func marshal(v any) ([]byte, error) {
	body, err := xml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sitemap: %w", err)
	}
	return append([]byte(xml.Header), body...), nil
}

func ptr[T any](v T) *T { return &v }

// Robots is robots.txt: everything may be crawled; the sitemap index is
// named at base.
func Robots(base string) []byte {
	return []byte("User-agent: *\nAllow: /\n\nSitemap: " + base + "/sitemap.xml\n")
}

// baseOf is where the request reached this service, for absolute sitemap
// addresses (a proxy in front says the scheme in X-Forwarded-Proto).
func baseOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}
