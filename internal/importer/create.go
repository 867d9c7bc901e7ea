package importer

import (
	"context"
	"errors"
	"strings"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Create turns a plain-text story into a DRAFT through the editors' desk,
// the path createArticle takes (revision, audit, cache invalidation): the
// author is the existing one with the byline's name (ignoring case) or a new
// one with the byline's bio; suggested tags are kept only where the tag
// exists. Everything is validated before the first write, so text the desk
// would refuse leaves nothing behind; errors about the text are on "text".
func Create(ctx context.Context, desk *news.Desk, text string) (*news.Article, error) {
	d, err := Parse(text)
	if err != nil {
		return nil, err
	}
	in, err := articleInput(ctx, desk, d)
	if err != nil {
		return nil, err
	}
	var byline *news.AuthorInput
	if d.Author != nil {
		byline = &news.AuthorInput{Name: &d.Author.Name}
		if d.Author.Bio != "" {
			byline.Bio = &d.Author.Bio
		}
		if err := desk.CheckAuthor(*byline); err != nil {
			return nil, onText("author", err)
		}
	}
	if err := desk.CheckArticle(ctx, in); err != nil {
		return nil, onText("", err)
	}
	if byline != nil {
		author, err := desk.AuthorNamed(ctx, d.Author.Name)
		if err != nil {
			return nil, err
		}
		if author == nil {
			if author, err = desk.CreateAuthor(ctx, *byline); err != nil {
				return nil, onText("author", err)
			}
		}
		in.AuthorIDs = []string{news.GlobalID(news.NodeAuthor, author.ID)}
	}
	a, err := desk.CreateArticle(ctx, in)
	if err != nil {
		return nil, onText("", err)
	}
	return a, nil
}

func articleInput(ctx context.Context, desk *news.Desk, d *Draft) (news.ArticleInput, error) {
	tags, err := desk.KnownTags(ctx, d.Tags)
	if err != nil {
		return news.ArticleInput{}, err
	}
	body := d.Body
	if d.ImageCredit != "" {
		// The desk stores a featured image only with its address, which
		// plain text does not carry; the credit stays in the draft, as the
		// sender wrote it, for the editor who attaches the picture.
		body += "\n\n" + markdownText("Featured image: "+d.ImageCredit)
	}
	in := news.ArticleInput{Headline: &d.Headline, Body: &body, BodyFormat: news.BodyMarkdown, Tags: tags}
	if d.Source != nil {
		in.Source = &news.SourceInput{Name: d.Source.Name}
		if d.Source.URL != "" {
			in.Source.URL = &d.Source.URL
		}
	}
	return in, nil
}

// onText restates the desk's complaint about a field it derived from the
// text as a complaint about "text", the one argument the client sent.
func onText(part string, err error) error {
	var ie *news.InputError
	if !errors.As(err, &ie) {
		return err
	}
	field := strings.TrimPrefix(ie.Field, "input.")
	if part != "" {
		field = part + " " + field
	}
	return news.BadInput("text", "%s: %s", field, ie.Reason)
}
