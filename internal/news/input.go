package news

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What editors send. A nil field leaves the stored value as it is (on
// create: empty).

// BodyInputFormat is how a submitted body is written.
type BodyInputFormat string

const (
	BodyMarkdown BodyInputFormat = "MARKDOWN"
	BodyHTML     BodyInputFormat = "HTML"
	BodyText     BodyInputFormat = "TEXT"
)

// ArticleInput is a new article or changes to one.
type ArticleInput struct {
	Headline   *string
	Dek        *string
	Body       *string
	BodyFormat BodyInputFormat
	Slug       *string
	// AuthorIDs are global IDs, in byline order.
	AuthorIDs     []string
	Section       *string
	Tags          []string
	FeaturedImage *ImageInput
	Source        *SourceInput
}

// ImageInput is a picture as an editor gives it.
type ImageInput struct {
	URL, Alt        string
	Caption, Credit *string
	Width, Height   *int
}

// SourceInput credits another outlet.
type SourceInput struct {
	Name string
	URL  *string
}

// AuthorInput is a new author or changes to one.
type AuthorInput struct {
	Name, Slug, Bio, Location, URL *string
	Avatar                         *ImageInput
	SocialLinks                    []SocialLink
}

// Limits on what editors send.
const (
	MaxHeadlineRunes = 140
	MaxDekRunes      = 280
	MaxBodyBytes     = 200 << 10
	MaxBylines       = 10
	MaxArticleTags   = 20
)

// apply validates in and writes it into a. Nothing is stored here, so a
// rejected input leaves no trace.
func (d *Desk) apply(ctx context.Context, a *Article, in ArticleInput) error {
	if err := applyText(a, in); err != nil {
		return err
	}
	var err error
	if in.AuthorIDs != nil {
		if a.AuthorIDs, err = d.bylines(ctx, in.AuthorIDs); err != nil {
			return err
		}
	}
	if err := d.terms(ctx, a, in); err != nil {
		return err
	}
	return applyMedia(a, in)
}

// applyText checks and writes the headline, dek, body and slug: the rules
// every way in (the desk, the importers) shares.
func applyText(a *Article, in ArticleInput) error {
	var err error
	if in.Headline != nil {
		if a.Headline, err = plainText("input.headline", *in.Headline, 1, MaxHeadlineRunes); err != nil {
			return err
		}
	}
	if in.Dek != nil {
		if a.Dek, err = plainText("input.dek", *in.Dek, 0, MaxDekRunes); err != nil {
			return err
		}
	}
	if in.Body != nil {
		if len(*in.Body) > MaxBodyBytes {
			return BadInput("input.body", "is %d KB; at most %d KB", len(*in.Body)>>10, MaxBodyBytes>>10)
		}
		if a.Body, err = CanonicalBody(*in.Body, in.BodyFormat); err != nil {
			return err
		}
	}
	return setSlug(&a.Slug, in.Slug)
}

// applyMedia checks and writes the featured image and the source.
func applyMedia(a *Article, in ArticleInput) error {
	var err error
	if in.FeaturedImage != nil {
		if a.FeaturedImage, err = image("input.featuredImage", *in.FeaturedImage); err != nil {
			return err
		}
	}
	if in.Source != nil {
		src := &Source{}
		if src.Name, err = plainText("input.source.name", in.Source.Name, 1, 200); err != nil {
			return err
		}
		if in.Source.URL != nil {
			if src.URL, err = webURL("input.source.url", *in.Source.URL); err != nil {
				return err
			}
		}
		a.Source = src
	}
	return nil
}

func (d *Desk) bylines(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) > MaxBylines {
		return nil, BadInput("input.authorIds", "at most %d authors", MaxBylines)
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		key, err := ParseGlobalIDOf("input.authorIds", NodeAuthor, id)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	found, err := d.store.AuthorsByIDs(ctx, keys)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if found[k] == nil {
			return nil, BadInput("input.authorIds", "no author %q", ids[i])
		}
	}
	return keys, nil
}

// terms checks the section and tags exist (one round trip for both).
func (d *Desk) terms(ctx context.Context, a *Article, in ArticleInput) error {
	if len(in.Tags) > MaxArticleTags {
		return BadInput("input.tags", "at most %d tags", MaxArticleTags)
	}
	var keys []string
	if in.Section != nil && *in.Section != "" {
		if !ValidSlug(*in.Section) {
			return BadInput("input.section", "no section %q", *in.Section)
		}
		keys = append(keys, TermKey(KindSection, *in.Section))
	}
	for _, t := range in.Tags {
		if !ValidSlug(t) {
			return BadInput("input.tags", "no tag %q", t)
		}
		keys = append(keys, TermKey(KindTag, t))
	}
	if len(keys) > 0 {
		found, err := d.store.TermsByKeys(ctx, keys)
		if err != nil {
			return err
		}
		if in.Section != nil && *in.Section != "" && found[keys[0]] == nil {
			return BadInput("input.section", "no section %q", *in.Section)
		}
		for _, t := range in.Tags {
			if found[TermKey(KindTag, t)] == nil {
				return BadInput("input.tags", "no tag %q", t)
			}
		}
	}
	if in.Section != nil {
		a.Section = *in.Section
	}
	if in.Tags != nil {
		a.Tags = dedupe(in.Tags)
	}
	return nil
}

// setSlug checks a slug an editor gave and puts it in dst; nil leaves dst.
func setSlug(dst, given *string) error {
	if given == nil {
		return nil
	}
	if !ValidSlug(*given) {
		return BadInput("input.slug", "must be 1 to %d lower-case letters, digits and single hyphens", MaxSlugLen)
	}
	*dst = *given
	return nil
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func applyAuthor(a *Author, in AuthorInput) error {
	var err error
	if in.Name != nil {
		if a.Name, err = plainText("input.name", *in.Name, 1, 100); err != nil {
			return err
		}
	}
	if err := setSlug(&a.Slug, in.Slug); err != nil {
		return err
	}
	if in.Bio != nil {
		if a.Bio, err = plainText("input.bio", *in.Bio, 0, 2000); err != nil {
			return err
		}
	}
	if in.Location != nil {
		if a.Location, err = plainText("input.location", *in.Location, 0, 100); err != nil {
			return err
		}
	}
	if in.URL != nil {
		if a.URL, err = webURL("input.url", *in.URL); err != nil {
			return err
		}
	}
	if in.Avatar != nil {
		if a.Avatar, err = image("input.avatar", *in.Avatar); err != nil {
			return err
		}
	}
	if in.SocialLinks != nil {
		links := make([]SocialLink, 0, len(in.SocialLinks))
		for i, l := range in.SocialLinks {
			field := fmt.Sprintf("input.socialLinks[%d]", i)
			network, err := plainText(field+".network", l.Network, 1, 30)
			if err != nil {
				return err
			}
			u, err := webURL(field+".url", l.URL)
			if err != nil {
				return err
			}
			links = append(links, SocialLink{Network: strings.ToLower(network), URL: u})
		}
		a.SocialLinks = links
	}
	return nil
}

func image(field string, in ImageInput) (*Image, error) {
	im := &Image{}
	var err error
	if im.URL, err = webURL(field+".url", in.URL); err != nil {
		return nil, err
	}
	if im.URL == "" {
		return nil, BadInput(field+".url", "is required")
	}
	if im.Alt, err = plainText(field+".alt", in.Alt, 0, 300); err != nil {
		return nil, err
	}
	if in.Caption != nil {
		if im.Caption, err = plainText(field+".caption", *in.Caption, 0, 500); err != nil {
			return nil, err
		}
	}
	if in.Credit != nil {
		if im.Credit, err = plainText(field+".credit", *in.Credit, 0, 200); err != nil {
			return nil, err
		}
	}
	for _, dim := range []struct {
		name string
		v    *int
		out  *int
	}{{"width", in.Width, &im.Width}, {"height", in.Height, &im.Height}} {
		if dim.v != nil {
			if *dim.v < 1 || *dim.v > 20000 {
				return nil, BadInput(field+"."+dim.name, "must be between 1 and 20000")
			}
			*dim.out = *dim.v
		}
	}
	return im, nil
}

// plainText checks a one-line text field: trimmed, minRunes to maxRunes
// characters, no control characters, and nothing an HTML parser would take
// for markup. Headlines, deks, captions and names reach readers and
// partners as text that frontends, feeds and embeds put into pages; refusing
// markup here means no client has to be trusted to escape it.
func plainText(field, s string, minRunes, maxRunes int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", BadInput(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n < minRunes || n > maxRunes {
		if minRunes > 0 {
			return "", BadInput(field, "must be %d to %d characters, got %d", minRunes, maxRunes, n)
		}
		return "", BadInput(field, "must be at most %d characters, got %d", maxRunes, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", BadInput(field, "must not contain control characters or line breaks")
		}
	}
	if looksLikeMarkup(s) {
		return "", BadInput(field, "must be plain text, without HTML tags or comments")
	}
	return s, nil
}

// looksLikeMarkup reports whether s holds "<" followed by what starts a tag,
// an end tag, a comment or a declaration. "Profits < costs" is fine.
func looksLikeMarkup(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		c := s[i+1]
		if c == '/' || c == '!' || c == '?' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			return true
		}
	}
	return false
}

// webURL accepts an absolute http(s) URL with a host, or "" (none).
func webURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 2000 {
		return "", BadInput(field, "must be an absolute http or https URL")
	}
	return u.String(), nil
}
