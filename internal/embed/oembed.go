package embed

import (
	"context"
	"strconv"

	"github.com/newsgraph/newsgraph/internal/news"
)

// OEmbed is an oEmbed 1.0 "rich" response.
type OEmbed struct {
	Type            string `json:"type"`
	Version         string `json:"version"`
	Title           string `json:"title"`
	AuthorName      string `json:"author_name,omitempty"`
	AuthorURL       string `json:"author_url,omitempty"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	CacheAge        int    `json:"cache_age"`
	ThumbnailURL    string `json:"thumbnail_url,omitempty"`
	ThumbnailWidth  int    `json:"thumbnail_width,omitempty"`
	ThumbnailHeight int    `json:"thumbnail_height,omitempty"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
}

// OEmbedRequest is the oEmbed query string, parsed.
type OEmbedRequest struct {
	URL                 string
	MaxWidth, MaxHeight *int
}

// ParseDimension reads an optional maxwidth/maxheight parameter.
func ParseDimension(field, s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, news.BadInput(field, "must be a whole number of pixels")
	}
	return &n, nil
}

// OEmbed answers for a canonical URL of ours. errNotOurs (IsNotFound) for
// anything that is not a story a reader may see.
func (p *Provider) OEmbed(ctx context.Context, r OEmbedRequest) (*OEmbed, error) {
	w, h, err := Size(r.MaxWidth, r.MaxHeight, "maxwidth", "maxheight")
	if err != nil {
		return nil, err
	}
	a, err := p.storyFromURL(ctx, r.URL)
	if err != nil {
		return nil, err
	}
	authors, err := p.byline(ctx, a)
	if err != nil {
		return nil, err
	}
	e, err := p.embed(a, w, h)
	if err != nil {
		return nil, err
	}
	out := &OEmbed{
		Type: "rich", Version: "1.0",
		Title:        a.Headline,
		AuthorName:   names(authors),
		ProviderName: p.SiteName,
		ProviderURL:  p.BaseURL + "/",
		CacheAge:     CacheAge,
		HTML:         e.HTML, Width: e.Width, Height: e.Height,
	}
	if len(authors) > 0 {
		out.AuthorURL = authors[0].URL
	}
	if im := a.FeaturedImage; im != nil && im.Width > 0 && im.Height > 0 {
		tw, th := fit(im.Width, im.Height, r.MaxWidth, r.MaxHeight)
		if out.ThumbnailURL, err = im.RenditionURL(tw); err != nil {
			return nil, err
		}
		out.ThumbnailWidth, out.ThumbnailHeight = tw, th
	}
	return out, nil
}

// fit scales w×h down, keeping its shape, until it is within the ceilings
// (oEmbed asks the same of thumbnails as of the frame).
func fit(w, h int, maxWidth, maxHeight *int) (int, int) {
	if maxWidth != nil && w > *maxWidth {
		w, h = *maxWidth, max(1, h**maxWidth/w)
	}
	if maxHeight != nil && h > *maxHeight {
		w, h = max(1, w**maxHeight/h), *maxHeight
	}
	return w, h
}
