// Package seo is what search engines and social networks read about the
// newsroom: each story's metadata and schema.org NewsArticle JSON-LD, the
// sitemaps (monthly, and Google News for the last 48 hours), robots.txt and
// the favicon.
package seo

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Site is the newsroom as search engines see it.
type Site struct {
	News *news.Service
	// BaseURL is PUBLIC_BASE_URL, the website; Name is SITE_NAME.
	BaseURL, Name string
	// Language is the stories' language for Google News (default "en").
	Language string
}

// LogoPath is where the website serves the publisher's logo (Google asks
// for one in NewsArticle markup).
const LogoPath = "/logo.png"

// maxDescription is what search result snippets show.
const maxDescription = 160

// Page is a story's search and social metadata.
type Page struct {
	Title         string
	Description   string
	CanonicalURL  string
	ImageURL      *string
	PublishedTime *time.Time
	ModifiedTime  time.Time
	// JSONLD is schema.org NewsArticle markup, safe inside a <script> tag.
	JSONLD string
}

// For builds a story's page metadata; bylines are its authors in order.
func (s *Site) For(a *news.Article, bylines []*news.Author) (*Page, error) {
	p := &Page{
		Title:         a.Headline,
		Description:   description(a),
		CanonicalURL:  s.News.CanonicalURL(a),
		PublishedTime: a.PublishedAt,
		ModifiedTime:  a.UpdatedAt,
	}
	if a.FeaturedImage != nil && a.FeaturedImage.URL != "" {
		p.ImageURL = &a.FeaturedImage.URL
	}
	raw, err := json.Marshal(s.newsArticle(a, p, bylines))
	if err != nil {
		return nil, err
	}
	// encoding/json escapes <, > and & as \u003c, \u003e, \u0026, so no
	// headline can close the <script> element the markup sits in.
	p.JSONLD = string(raw)
	return p, nil
}

// description is the dek, or the opening of the story's text.
func description(a *news.Article) string {
	if a.Dek != "" {
		return a.Dek
	}
	text := strings.Join(strings.Fields(news.RenderText(a.Body)), " ")
	if utf8.RuneCountInString(text) <= maxDescription {
		return text
	}
	cut := []rune(text)[:maxDescription-1]
	if i := strings.LastIndexByte(string(cut), ' '); i > maxDescription/2 {
		return string(cut)[:i] + "…"
	}
	return string(cut) + "…"
}

// The schema.org vocabulary Google reads for news articles.
type (
	newsArticle struct {
		Context          string        `json:"@context"`
		Type             string        `json:"@type"`
		Headline         string        `json:"headline"`
		Description      string        `json:"description,omitempty"`
		Image            []string      `json:"image,omitempty"`
		DatePublished    string        `json:"datePublished,omitempty"`
		DateModified     string        `json:"dateModified"`
		Author           []person      `json:"author,omitempty"`
		Publisher        organization  `json:"publisher"`
		MainEntityOfPage webPage       `json:"mainEntityOfPage"`
		URL              string        `json:"url"`
		IsBasedOn        *creativeWork `json:"isBasedOn,omitempty"`
	}
	person struct {
		Type string `json:"@type"`
		Name string `json:"name"`
		URL  string `json:"url,omitempty"`
	}
	organization struct {
		Type string     `json:"@type"`
		Name string     `json:"name"`
		URL  string     `json:"url,omitempty"`
		Logo *imageLink `json:"logo,omitempty"`
	}
	imageLink struct {
		Type string `json:"@type"`
		URL  string `json:"url"`
	}
	webPage struct {
		Type string `json:"@type"`
		ID   string `json:"@id"`
	}
	// creativeWork is the outlet's report a story is based on.
	creativeWork struct {
		Type      string        `json:"@type"`
		URL       string        `json:"url,omitempty"`
		Publisher *organization `json:"publisher,omitempty"`
	}
)

func (s *Site) newsArticle(a *news.Article, p *Page, bylines []*news.Author) newsArticle {
	na := newsArticle{
		Context:      "https://schema.org",
		Type:         "NewsArticle",
		Headline:     a.Headline,
		Description:  p.Description,
		DateModified: p.ModifiedTime.UTC().Format(time.RFC3339),
		Publisher: organization{Type: "Organization", Name: s.Name, URL: s.BaseURL + "/",
			Logo: &imageLink{Type: "ImageObject", URL: s.BaseURL + LogoPath}},
		MainEntityOfPage: webPage{Type: "WebPage", ID: p.CanonicalURL},
		URL:              p.CanonicalURL,
	}
	if p.ImageURL != nil {
		na.Image = []string{*p.ImageURL}
	}
	if p.PublishedTime != nil {
		na.DatePublished = p.PublishedTime.UTC().Format(time.RFC3339)
	}
	for _, au := range bylines {
		if au != nil {
			na.Author = append(na.Author, person{Type: "Person", Name: au.Name, URL: au.URL})
		}
	}
	if src := a.Source; src != nil {
		na.IsBasedOn = &creativeWork{Type: "NewsArticle", URL: src.URL,
			Publisher: &organization{Type: "Organization", Name: src.Name}}
	}
	return na
}
