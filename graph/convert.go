package graph

import (
	"github.com/newsgraph/newsgraph/graph/model"
	"github.com/newsgraph/newsgraph/internal/news"
)

// This file translates generated input and enum types to the domain's.

func articleFilter(f *model.ArticleFilter) *news.ArticleFilter {
	if f == nil {
		return nil
	}
	out := &news.ArticleFilter{
		Section:         f.Section,
		Tags:            f.Tags,
		Author:          f.Author,
		PublishedAfter:  f.PublishedAfter,
		PublishedBefore: f.PublishedBefore,
	}
	if f.Status != nil {
		st := news.Status(*f.Status)
		out.Status = &st
	}
	return out
}

func articleOrder(o *model.ArticleOrder) *news.Order {
	if o == nil {
		return nil
	}
	field := news.OrderPublishedAt
	if o.Field == model.ArticleOrderFieldUpdatedAt {
		field = news.OrderUpdatedAt
	}
	return &news.Order{Field: field, Desc: o.Direction == model.OrderDirectionDesc}
}

func renderBody(a *news.Article, format *model.BodyFormat) string {
	if format == nil {
		return news.RenderHTML(a.Body)
	}
	switch *format {
	case model.BodyFormatText:
		return news.RenderText(a.Body)
	case model.BodyFormatMarkdown:
		return a.Body
	default:
		return news.RenderHTML(a.Body)
	}
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func trendWindow(w *model.TrendWindow) news.TrendWindow {
	if w == nil {
		return news.WindowDay
	}
	return news.TrendWindow(*w)
}

func articleInput(in model.ArticleInput) news.ArticleInput {
	out := news.ArticleInput{
		Headline: in.Headline, Dek: in.Dek, Body: in.Body, Slug: in.Slug, AuthorIDs: in.AuthorIds,
		Section: in.Section, Tags: in.Tags, FeaturedImage: in.FeaturedImage, Source: in.Source,
		BodyFormat: news.BodyMarkdown,
	}
	if in.BodyFormat != nil {
		out.BodyFormat = news.BodyInputFormat(*in.BodyFormat)
	}
	return out
}

func optionalGlobalID(kind, key string) *string {
	if key == "" {
		return nil
	}
	id := news.GlobalID(kind, key)
	return &id
}

// termsAs gives a batch of terms the GraphQL type they are (Section, Tag).
func termsAs[T any](terms []*news.Term, err error, as func(*news.Term) *T) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(terms))
	for i, t := range terms {
		if t != nil {
			out[i] = as(t)
		}
	}
	return out, nil
}

func asSection(t *news.Term) *news.Section { return (*news.Section)(t) }
func asTag(t *news.Term) *news.Tag         { return (*news.Tag)(t) }
