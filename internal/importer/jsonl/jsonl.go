// Package jsonl reads stories from any CMS as JSON Lines into the bulk
// importer: one story per line in the shape of the GraphQL ArticleInput,
// plus its status, publication time and authors by name.
package jsonl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/newsgraph/newsgraph/internal/importer/bulk"
	"github.com/newsgraph/newsgraph/internal/news"
)

// story is one line.
type story struct {
	// ExternalID is the story's ID in its system; without it the slug
	// identifies the story across imports.
	ExternalID    string     `json:"externalId"`
	Headline      *string    `json:"headline"`
	Dek           *string    `json:"dek"`
	Body          *string    `json:"body"`
	BodyFormat    string     `json:"bodyFormat"`
	Slug          *string    `json:"slug"`
	Section       *string    `json:"section"`
	Tags          []string   `json:"tags"`
	FeaturedImage *image     `json:"featuredImage"`
	Source        *source    `json:"source"`
	Status        string     `json:"status"`
	PublishedAt   *time.Time `json:"publishedAt"`
	Authors       []string   `json:"authors"`
	SectionName   string     `json:"sectionName"`
}

type image struct {
	URL     string  `json:"url"`
	Alt     string  `json:"alt"`
	Caption *string `json:"caption"`
	Credit  *string `json:"credit"`
	Width   *int    `json:"width"`
	Height  *int    `json:"height"`
}

type source struct {
	Name string  `json:"name"`
	URL  *string `json:"url"`
}

// maxLine bounds one line: a 200 KB body, escaped, with room to spare.
const maxLine = 4 << 20

// Import reads stories from r into im, one per line; blank lines are
// ignored and a line that is not a story is reported and skipped. It
// returns an error only when reading or the database fails.
func Import(ctx context.Context, r io.Reader, im *bulk.Importer) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if s, perr := parse(line, n); perr != nil {
				im.Fail(s.Label, perr)
			} else if aerr := im.Add(ctx, s); aerr != nil {
				return aerr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parse maps line n; the story's Label is set even when it fails.
func parse(line []byte, n int) (bulk.Story, error) {
	s := bulk.Story{Label: fmt.Sprintf("line %d", n)}
	if len(line) > maxLine {
		return s, fmt.Errorf("longer than %d MB", maxLine>>20)
	}
	var in story
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	err := d.Decode(&in)
	if in.Headline != nil {
		s.Label = fmt.Sprintf("line %d %q", n, *in.Headline)
	}
	if err != nil {
		return s, fmt.Errorf("not a story: %w", err)
	}
	s.Status, s.PublishedAt = news.Status(strings.ToUpper(in.Status)), in.PublishedAt
	s.TermNames = map[string]string{}
	switch {
	case in.ExternalID != "":
		s.Key = "jsonl:" + in.ExternalID
	case in.Slug != nil && *in.Slug != "":
		s.Key = "jsonl:slug:" + *in.Slug
	default:
		return s, errors.New("needs an externalId or a slug, so that importing it again updates it")
	}
	if s.Status == "" {
		s.Status = news.StatusDraft
	}
	format := news.BodyInputFormat(strings.ToUpper(in.BodyFormat))
	if format == "" {
		format = news.BodyMarkdown
	}
	s.Input = news.ArticleInput{Headline: in.Headline, Dek: in.Dek, Body: in.Body, BodyFormat: format,
		Slug: in.Slug, Section: in.Section, Tags: in.Tags}
	if in.FeaturedImage != nil {
		im := in.FeaturedImage
		s.Input.FeaturedImage = &news.ImageInput{URL: im.URL, Alt: im.Alt, Caption: im.Caption, Credit: im.Credit,
			Width: im.Width, Height: im.Height}
	}
	if in.Source != nil {
		s.Input.Source = &news.SourceInput{Name: in.Source.Name, URL: in.Source.URL}
	}
	if in.Section != nil && in.SectionName != "" {
		s.TermNames[*in.Section] = in.SectionName
	}
	for _, name := range in.Authors {
		s.Bylines = append(s.Bylines, bulk.Byline{Name: name})
	}
	return s, nil
}
