// Package wordpress reads a WordPress export (WXR, the file Tools → Export
// writes) into the bulk importer: posts become stories with their slugs,
// GMT publication times, bylines, first category as section, tags,
// featured images and excerpts; pages, attachments, revisions, menu items
// and comments are counted and left out.
package wordpress

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsgraph/newsgraph/internal/importer/bulk"
	"github.com/newsgraph/newsgraph/internal/news"
)

// item is a WXR <item>. Fields are matched by local name, so exports of
// every WXR version (1.0 to 1.2, each with its own namespace) read alike.
type item struct {
	Title       string     `xml:"title"`
	Link        string     `xml:"link"`
	PubDate     string     `xml:"pubDate"`
	Creator     string     `xml:"creator"`
	GUID        string     `xml:"guid"`
	Encoded     []encoded  `xml:"encoded"`
	PostID      string     `xml:"post_id"`
	PostDate    string     `xml:"post_date"`
	PostDateGMT string     `xml:"post_date_gmt"`
	PostName    string     `xml:"post_name"`
	Status      string     `xml:"status"`
	PostType    string     `xml:"post_type"`
	Attachment  string     `xml:"attachment_url"`
	Categories  []category `xml:"category"`
	Meta        []postmeta `xml:"postmeta"`
	Comments    []struct{} `xml:"comment"`
}

// encoded is content:encoded or excerpt:encoded, told apart by namespace
// (or, in an item cut from its export, by prefix).
type encoded struct {
	XMLName xml.Name
	Text    string `xml:",chardata"`
}

type category struct {
	Domain   string `xml:"domain,attr"`
	Nicename string `xml:"nicename,attr"`
	Name     string `xml:",chardata"`
}

type postmeta struct {
	Key   string `xml:"meta_key"`
	Value string `xml:"meta_value"`
}

type author struct {
	Login       string `xml:"author_login"`
	DisplayName string `xml:"author_display_name"`
}

func (it *item) content() string { return it.encodedIn(false) }
func (it *item) excerpt() string { return it.encodedIn(true) }

func (it *item) encodedIn(excerpt bool) string {
	for _, e := range it.Encoded {
		if strings.Contains(e.XMLName.Space, "excerpt") == excerpt {
			return e.Text
		}
	}
	return ""
}

func (it *item) meta(key string) string {
	for _, m := range it.Meta {
		if m.Key == key {
			return strings.TrimSpace(m.Value)
		}
	}
	return ""
}

func (it *item) label() string {
	title := strings.TrimSpace(it.Title)
	if title == "" {
		return "post " + it.PostID
	}
	return fmt.Sprintf("post %s %q", it.PostID, title)
}

// attachment is what a featured image needs from an attachment item.
type attachment struct {
	url, alt, caption string
}

// Reader feeds one export to an importer.
type Reader struct {
	im  *bulk.Importer
	out io.Writer
	// authors maps logins to display names (from the export's head).
	authors     map[string]string
	attachments map[string]attachment
	// waiting holds posts whose featured image is an attachment not yet
	// met (WordPress exports in post ID order, and an image can be uploaded
	// after its post was started), until it is.
	waiting []*item
}

// Import reads the export from r into im; out receives a line for every
// item it cannot read or map. It returns an error only when the database
// fails; the caller closes im.
func Import(ctx context.Context, r io.Reader, im *bulk.Importer, out io.Writer) error {
	rd := &Reader{im: im, out: out, authors: map[string]string{}, attachments: map[string]attachment{}}
	ch := newChunker(r)
	n := 0
	for {
		raw, err := ch.Next()
		if n == 0 {
			rd.readHead(ch.Head())
		}
		if err == io.EOF {
			break
		}
		n++
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := rd.item(ctx, n, raw); err != nil {
			return err
		}
	}
	for _, it := range rd.waiting {
		if err := rd.post(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// readHead collects the authors' display names. The head is an unclosed
// document (the items follow), so its end is expected to be an error.
func (rd *Reader) readHead(head []byte) {
	d := newDecoder(head)
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "author" && se.Name.Space != "" {
			var a author
			if err := d.DecodeElement(&a, &se); err != nil {
				fmt.Fprintf(rd.out, "skipped an author in the export's head: %v\n", err)
				return
			}
			if login := strings.TrimSpace(a.Login); login != "" {
				rd.authors[login] = strings.TrimSpace(html.UnescapeString(a.DisplayName))
			}
		}
	}
}

func newDecoder(b []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Entity = xml.HTMLEntity
	return d
}

// item decodes and routes the n-th item.
func (rd *Reader) item(ctx context.Context, n int, raw []byte) error {
	var it item
	if err := newDecoder(raw).Decode(&it); err != nil {
		rd.im.Fail(brokenLabel(n, raw), fmt.Errorf("malformed XML: %w", err))
		return nil
	}
	if len(it.Comments) > 0 {
		for range it.Comments {
			rd.im.Skip("comment")
		}
	}
	switch it.PostType {
	case "post":
	case "attachment":
		id := strings.TrimSpace(it.PostID)
		rd.attachments[id] = attachment{url: strings.TrimSpace(it.Attachment),
			alt: it.meta("_wp_attachment_image_alt"), caption: plainText(it.excerpt())}
		rd.im.Skip("attachment")
		return rd.release(ctx, id)
	case "":
		rd.im.Fail(it.label(), errors.New("no wp:post_type"))
		return nil
	default:
		rd.im.Skip(it.PostType)
		return nil
	}
	if thumb := it.meta("_thumbnail_id"); thumb != "" {
		if _, ok := rd.attachments[thumb]; !ok {
			rd.waiting = append(rd.waiting, &it)
			return nil
		}
	}
	return rd.post(ctx, &it)
}

// release maps the posts that were waiting for attachment id.
func (rd *Reader) release(ctx context.Context, id string) error {
	kept := rd.waiting[:0]
	var ready []*item
	for _, it := range rd.waiting {
		if it.meta("_thumbnail_id") == id {
			ready = append(ready, it)
		} else {
			kept = append(kept, it)
		}
	}
	rd.waiting = kept
	for _, it := range ready {
		if err := rd.post(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// brokenLabel names an item that would not parse by its post ID or title
// if they can be found in its text, else by its place in the file.
func brokenLabel(n int, raw []byte) string {
	id := between(raw, "post_id>", "</")
	title := between(raw, "<title>", "</title>")
	title = strings.TrimSuffix(strings.TrimPrefix(title, "<![CDATA["), "]]>")
	switch {
	case id != "" && title != "":
		return fmt.Sprintf("post %s %q (item %d)", id, title, n)
	case id != "":
		return fmt.Sprintf("post %s (item %d)", id, n)
	}
	return fmt.Sprintf("item %d", n)
}

func between(b []byte, start, end string) string {
	i := bytes.Index(b, []byte(start))
	if i < 0 {
		return ""
	}
	rest := b[i+len(start):]
	j := bytes.Index(rest, []byte(end))
	if j < 0 || j > 300 {
		return ""
	}
	return strings.TrimSpace(string(rest[:j]))
}

// post maps a post to a story.
func (rd *Reader) post(ctx context.Context, it *item) error {
	s := bulk.Story{Label: it.label(), TermNames: map[string]string{}}
	switch it.Status {
	case "publish":
		s.Status = news.StatusPublished
	case "future":
		s.Status = news.StatusScheduled
	case "draft", "pending", "private":
		// A private post is one readers may not see: a draft is the
		// nearest thing newsgraph has.
		s.Status = news.StatusDraft
	default:
		rd.im.Skip("post (" + it.Status + ")") // trash, auto-draft, inherit
		return nil
	}
	s.Key = "wordpress:" + strings.TrimSpace(it.GUID)
	if strings.TrimSpace(it.GUID) == "" {
		s.Key = "wordpress:post:" + strings.TrimSpace(it.PostID)
	}
	if s.Status != news.StatusDraft {
		at, err := publishedAt(it)
		if err != nil {
			rd.im.Fail(s.Label, err)
			return nil
		}
		s.PublishedAt = &at
	}

	headline := plainText(it.Title)
	if headline == "" {
		rd.im.Fail(s.Label, errors.New("it has no title, and a story needs a headline"))
		return nil
	}
	if cut := cutRunes(headline, news.MaxHeadlineRunes); cut != headline {
		fmt.Fprintf(rd.out, "shortened %s: title longer than %d characters\n", s.Label, news.MaxHeadlineRunes)
		headline = cut
	}
	s.Input.Headline = &headline
	if dek := cutRunes(plainText(it.excerpt()), news.MaxDekRunes); dek != "" {
		s.Input.Dek = &dek
	}
	body := autop(it.content())
	s.Input.Body, s.Input.BodyFormat = &body, news.BodyHTML
	if slug := rd.slug(it, s.Label); slug != "" {
		s.Input.Slug = &slug
	}

	if login := strings.TrimSpace(it.Creator); login != "" {
		s.Bylines = []bulk.Byline{{Slug: login, Name: rd.authors[login]}}
	}
	for _, c := range it.Categories {
		slug := termSlug(c)
		if slug == "" {
			continue
		}
		switch c.Domain {
		case "category":
			if s.Input.Section == nil {
				s.Input.Section = &slug
				s.TermNames[slug] = plainText(c.Name)
			}
		case "post_tag":
			if len(s.Input.Tags) == news.MaxArticleTags {
				fmt.Fprintf(rd.out, "tags dropped from %s: at most %d are kept\n", s.Label, news.MaxArticleTags)
				continue
			}
			s.Input.Tags = append(s.Input.Tags, slug)
			s.TermNames[slug] = plainText(c.Name)
		}
	}
	if thumb := it.meta("_thumbnail_id"); thumb != "" {
		if att, ok := rd.attachments[thumb]; ok && att.url != "" {
			caption := cutRunes(att.caption, 500)
			s.Input.FeaturedImage = &news.ImageInput{URL: att.url, Alt: cutRunes(att.alt, 300), Caption: &caption}
		} else {
			fmt.Fprintf(rd.out, "no featured image for %s: attachment %s is not in the export\n", s.Label, thumb)
		}
	}
	return rd.im.Add(ctx, s)
}

// publishedAt is the post's GMT date; an export from a site that never
// stored GMT dates has only the local one, taken as UTC.
func publishedAt(it *item) (time.Time, error) {
	const layout = "2006-01-02 15:04:05"
	for _, v := range []string{it.PostDateGMT, it.PostDate} {
		v = strings.TrimSpace(v)
		if v == "" || strings.HasPrefix(v, "0000") {
			continue
		}
		at, err := time.Parse(layout, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("publication date %q: not a WordPress date", v)
		}
		return at.UTC(), nil
	}
	if at, err := time.Parse(time.RFC1123Z, strings.TrimSpace(it.PubDate)); err == nil {
		return at.UTC(), nil
	}
	return time.Time{}, errors.New("it has no publication date")
}

// slug is the post's slug as WordPress wrote it. WordPress percent-encodes
// letters outside ASCII; those are decoded and transliterated (a slug
// here is ASCII), and the change is reported since the address changes.
// "" leaves the slug to be made from the headline (drafts have none).
func (rd *Reader) slug(it *item, label string) string {
	raw := strings.TrimSpace(it.PostName)
	if raw == "" || news.ValidSlug(raw) {
		return raw
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		decoded = raw
	}
	slug := news.Slugify(decoded)
	if slug == "" {
		slug = news.Slugify(it.Title)
	}
	fmt.Fprintf(rd.out, "slug of %s changed: %q is stored as %q\n", label, raw, slug)
	return slug
}

// termSlug is a category's or tag's slug, made valid the same way.
func termSlug(c category) string {
	if s := strings.TrimSpace(c.Nicename); news.ValidSlug(s) {
		return s
	}
	decoded, err := url.PathUnescape(c.Nicename)
	if err != nil {
		decoded = c.Nicename
	}
	if s := news.Slugify(decoded); s != "" {
		return s
	}
	return news.Slugify(c.Name)
}

var tag = regexp.MustCompile(`<[^>]*>`)

// plainText turns WordPress's title, excerpt or term name (which may hold
// entities and the odd tag) into one line of plain text.
func plainText(s string) string {
	s = tag.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	return strings.Join(strings.Fields(s), " ")
}

// cutRunes shortens s to at most n characters, at a word where it can,
// ending with an ellipsis.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}

var (
	blankLine   = regexp.MustCompile(`\n\s*\n`)
	blockStart  = regexp.MustCompile(`(?i)^<(p|h[1-6]|ul|ol|li|blockquote|pre|figure|table|div|hr|!--|iframe|script)\b`)
	hasParaTags = regexp.MustCompile(`(?i)<p[\s>]`)
	shortcodes  = regexp.MustCompile(`\[/?(caption|gallery|embed|audio|video)[^\]]*\]`)
)

// autop makes paragraphs of a classic-editor body the way WordPress does
// when it shows one (wpautop): its blank lines separate paragraphs and no
// <p> is stored. Block-editor bodies already have their <p> tags.
// Shortcodes newsgraph cannot run are taken out, their content kept.
func autop(body string) string {
	body = shortcodes.ReplaceAllString(strings.ReplaceAll(body, "\r\n", "\n"), "")
	if hasParaTags.MatchString(body) {
		return body
	}
	var b strings.Builder
	for _, para := range blankLine.Split(body, -1) {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		if blockStart.MatchString(para) {
			b.WriteString(para + "\n")
			continue
		}
		b.WriteString("<p>" + strings.ReplaceAll(para, "\n", "<br>\n") + "</p>\n")
	}
	return b.String()
}
