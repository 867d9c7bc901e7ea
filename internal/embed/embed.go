// Package embed lets partners carry our stories on their pages: an oEmbed
// 1.0 provider answering for our canonical URLs, and the self-contained card
// its sandboxed iframe shows.
package embed

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/url"
	"strings"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Frame sizes. oEmbed's maxwidth/maxheight are ceilings, so a consumer's
// smaller numbers always win; without them a card is DefaultWidth by
// DefaultHeight, which fits a headline, a picture and a byline.
const (
	DefaultWidth  = 600
	DefaultHeight = 400
)

// CacheAge is how long (seconds) consumers may keep an oEmbed answer or a
// card: long enough to spare us a request per page view of a partner's page,
// short enough that a correction reaches embeds within minutes.
const CacheAge = 300

// Provider builds embeds of the newsroom's published stories.
type Provider struct {
	News *news.Service
	// BaseURL is PUBLIC_BASE_URL without a trailing slash: canonical URLs
	// are on its host, and cards are served under it.
	BaseURL  string
	SiteName string
}

// Embed is what a page needs to show a story: an iframe of its card.
type Embed struct {
	HTML   string
	Width  int
	Height int
	// URL is the card's address, the iframe's src.
	URL string
}

// Size picks the frame size honouring optional ceilings. The field names
// are what errors name: "maxWidth" for GraphQL, "maxwidth" for oEmbed.
func Size(maxWidth, maxHeight *int, widthField, heightField string) (int, int, error) {
	w, err := clamp(DefaultWidth, maxWidth, widthField)
	if err != nil {
		return 0, 0, err
	}
	h, err := clamp(DefaultHeight, maxHeight, heightField)
	return w, h, err
}

func clamp(def int, ceiling *int, field string) (int, error) {
	if ceiling == nil {
		return def, nil
	}
	if *ceiling < 1 {
		return 0, news.BadInput(field, "must be a positive number of pixels")
	}
	return min(def, *ceiling), nil
}

// CardURL is where the card of the story with this slug is served.
func (p *Provider) CardURL(slug string) string {
	return p.BaseURL + "/embed/" + url.PathEscape(slug)
}

// OEmbedURL is the oEmbed endpoint's answer for a canonical story URL, as
// the card's discovery link names it.
func (p *Provider) OEmbedURL(canonical string) string {
	return p.BaseURL + "/oembed?" + url.Values{"url": {canonical}, "format": {"json"}}.Encode()
}

var iframe = template.Must(template.New("iframe").Parse(
	`<iframe src="{{.Src}}" width="{{.Width}}" height="{{.Height}}" title="{{.Title}}" ` +
		`sandbox="allow-popups allow-popups-to-escape-sandbox" loading="lazy" ` +
		`referrerpolicy="strict-origin-when-cross-origin" style="border:0;max-width:100%"></iframe>`))

// Embed is the iframe of a's card at the size the ceilings allow. The card
// has no script, so the sandbox grants nothing but opening the story in a
// new tab.
func (p *Provider) Embed(a *news.Article, maxWidth, maxHeight *int) (*Embed, error) {
	w, h, err := Size(maxWidth, maxHeight, "maxWidth", "maxHeight")
	if err != nil {
		return nil, err
	}
	return p.embed(a, w, h)
}

func (p *Provider) embed(a *news.Article, w, h int) (*Embed, error) {
	src := p.CardURL(a.Slug)
	var buf bytes.Buffer
	err := iframe.Execute(&buf, struct {
		Src           string
		Width, Height int
		Title         string
	}{src, w, h, a.Headline})
	if err != nil {
		return nil, err
	}
	return &Embed{HTML: buf.String(), Width: w, Height: h, URL: src}, nil
}

// errNotOurs: the URL is not a story of ours a reader may see. The oEmbed
// spec's answer to all such URLs is the same 404.
var errNotOurs = errors.New("not a published story of ours")

// published finds the story a reader sees under slug; errNotOurs when none.
// Embeds are public and cached by anyone, so they are read as an anonymous
// reader whatever key the request carried.
func (p *Provider) published(ctx context.Context, slug string) (*news.Article, error) {
	ctx = news.WithViewer(ctx, news.Viewer{Role: news.RoleReader})
	a, err := p.News.Article(ctx, nil, &slug)
	if err != nil {
		var ie *news.InputError
		if errors.As(err, &ie) {
			return nil, errNotOurs
		}
		return nil, err
	}
	if a == nil {
		return nil, errNotOurs
	}
	return a, nil
}

// storyFromURL finds the story a canonical URL of ours names: the host must
// be PUBLIC_BASE_URL's and the path /{section}/{slug} (or /{slug} for a
// story without a section).
func (p *Provider) storyFromURL(ctx context.Context, raw string) (*news.Article, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	base, berr := url.Parse(p.BaseURL)
	if err != nil || berr != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, base.Host) {
		return nil, errNotOurs
	}
	basePath := strings.TrimSuffix(base.Path, "/")
	path := strings.TrimSuffix(u.Path, "/")
	if !strings.HasPrefix(path, basePath+"/") {
		return nil, errNotOurs
	}
	parts := strings.Split(path[len(basePath)+1:], "/")
	if len(parts) > 2 || !news.ValidSlug(parts[len(parts)-1]) {
		return nil, errNotOurs
	}
	a, err := p.published(ctx, parts[len(parts)-1])
	if err != nil {
		return nil, err
	}
	// Only the canonical address: /{section}/{slug}, or /{slug} for a story
	// without a section.
	section := ""
	if len(parts) == 2 {
		section = parts[0]
	}
	if section != a.Section {
		return nil, errNotOurs
	}
	return a, nil
}

// byline loads a's authors in one batch, in byline order.
func (p *Provider) byline(ctx context.Context, a *news.Article) ([]*news.Author, error) {
	if len(a.AuthorIDs) == 0 {
		return nil, nil
	}
	found, err := p.News.Store().AuthorsByIDs(ctx, a.AuthorIDs)
	if err != nil {
		return nil, err
	}
	var out []*news.Author
	for _, id := range a.AuthorIDs {
		if au := found[id]; au != nil {
			out = append(out, au)
		}
	}
	return out, nil
}

// names joins bylines the way a newsroom prints them: "A", "A and B",
// "A, B and C".
func names(authors []*news.Author) string {
	n := make([]string, len(authors))
	for i, a := range authors {
		n[i] = a.Name
	}
	if len(n) <= 1 {
		return strings.Join(n, "")
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}
