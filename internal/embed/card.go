package embed

import (
	"bytes"
	"context"
	"html/template"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// card is everything the card template shows; html/template escapes every
// string for where it lands (text, attribute, URL), and drops URLs with
// schemes other than http(s) and mailto.
type card struct {
	Headline, Dek, Section, Byline, SiteName string
	URL, OEmbedURL                           string
	Image                                    *cardImage
	Source                                   *news.Source
}

type cardImage struct {
	Src, Alt, Credit string
	Width, Height    int
}

// The card is one small self-contained document: inline CSS, no script, no
// web fonts, nothing fetched but the picture. Its Content-Security-Policy
// (see CardCSP) would block anything else anyway.
var cardPage = template.Must(template.New("card").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Headline}}</title>
<link rel="canonical" href="{{.URL}}">
<link rel="alternate" type="application/json+oembed" href="{{.OEmbedURL}}" title="{{.Headline}}">
<style>
*{box-sizing:border-box}
body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
.card{display:flex;flex-direction:column;height:100vh;border:1px solid #ddd;border-radius:8px;overflow:hidden}
figure{margin:0;position:relative;flex:0 1 auto;min-height:0;overflow:hidden;background:#eee}
img{display:block;width:100%;height:auto;max-height:55vh;object-fit:cover}
figcaption{position:absolute;right:0;bottom:0;padding:2px 6px;font-size:11px;color:#fff;background:rgba(0,0,0,.6)}
.text{padding:12px 16px;overflow:hidden}
.section{margin:0 0 4px;font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#b3261e}
h1{margin:0 0 6px;font-size:20px;line-height:1.25}
h1 a{color:inherit;text-decoration:none}
h1 a:hover{text-decoration:underline}
.dek{margin:0 0 8px;color:#444}
.meta{margin:0;font-size:13px;color:#666}
.meta a{color:inherit}
.more{margin:8px 0 0;font-size:13px}
.more a{color:#0b57d0}
</style>
</head>
<body>
<article class="card">
{{- with .Image}}
<figure><img src="{{.Src}}" alt="{{.Alt}}"{{if .Width}} width="{{.Width}}" height="{{.Height}}"{{end}}>{{if .Credit}}<figcaption>{{.Credit}}</figcaption>{{end}}</figure>
{{- end}}
<div class="text">
{{- if .Section}}
<p class="section">{{.Section}}</p>
{{- end}}
<h1><a href="{{.URL}}" target="_blank" rel="noopener">{{.Headline}}</a></h1>
{{- if .Dek}}
<p class="dek">{{.Dek}}</p>
{{- end}}
{{- if .Byline}}
<p class="meta byline">By {{.Byline}}</p>
{{- end}}
{{- with .Source}}
<p class="meta source">According to a report from {{if .URL}}<a href="{{.URL}}" target="_blank" rel="noopener">{{.Name}}</a>{{else}}{{.Name}}{{end}}</p>
{{- end}}
<p class="more"><a href="{{.URL}}" target="_blank" rel="noopener">Read the full story at {{.SiteName}}</a></p>
</div>
</article>
</body>
</html>
`))

// CardCSP allows the card nothing but its inline styles and its picture.
const CardCSP = "default-src 'none'; img-src https: http:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

// Card is the rendered card of the published story with slug, and when it
// last changed.
func (p *Provider) Card(ctx context.Context, slug string) ([]byte, time.Time, error) {
	if !news.ValidSlug(slug) {
		return nil, time.Time{}, errNotOurs
	}
	a, err := p.published(ctx, slug)
	if err != nil {
		return nil, time.Time{}, err
	}
	authors, err := p.byline(ctx, a)
	if err != nil {
		return nil, time.Time{}, err
	}
	c := card{
		Headline: a.Headline,
		Dek:      a.Dek,
		Byline:   names(authors),
		SiteName: p.SiteName,
		URL:      p.News.CanonicalURL(a),
		Source:   a.Source,
	}
	c.OEmbedURL = p.OEmbedURL(c.URL)
	if a.Section != "" {
		key := news.TermKey(news.KindSection, a.Section)
		terms, err := p.News.Store().TermsByKeys(ctx, []string{key})
		if err != nil {
			return nil, time.Time{}, err
		}
		if t := terms[key]; t != nil {
			c.Section = t.Name
		}
	}
	if im := a.FeaturedImage; im != nil {
		// A rendition at the card's width (twice, for dense screens) rather
		// than the newsroom's full-size original.
		src, err := im.RenditionURL(min(2*DefaultWidth, news.MaxRenditionWidth))
		if err != nil {
			return nil, time.Time{}, err
		}
		c.Image = &cardImage{Src: src, Alt: im.Alt, Credit: im.Credit}
		if im.Width > 0 && im.Height > 0 {
			c.Image.Width, c.Image.Height = fit(im.Width, im.Height, ptr(2*DefaultWidth), nil)
		}
	}
	var buf bytes.Buffer
	if err := cardPage.Execute(&buf, c); err != nil {
		return nil, time.Time{}, err
	}
	modified := a.UpdatedAt
	if a.PublishedAt != nil && a.PublishedAt.After(modified) {
		modified = *a.PublishedAt
	}
	return buf.Bytes(), modified, nil
}

func ptr(n int) *int { return &n }
