package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Search weights: a word in the headline says more about what a story is
// about than one in the dek, and that more than one in the body.
const (
	boostHeadline = 3
	boostDek      = 2
)

// The front page problem: sorting every live story by date to take the
// newest 20 costs in proportion to the archive. A list ordered newest first
// asks first for the stories of a window of time just before where it
// starts, and widens the window (×windowGrowth) only when that holds too
// few; the last try is unbounded. Sorting costs in proportion to what a
// window holds, and a window that holds too few costs little, so the first
// is short: an hour of a busy newsroom's front page (1h, 8h, 64h, 21 days,
// 171 days, 3.7 years, then everything).
const (
	firstWindow  = time.Hour
	windowGrowth = 8
	windowTries  = 7
)

func term(field, value string) query.Query {
	q := bleve.NewTermQuery(value)
	q.SetField(field)
	return q
}

func millis(field string, min, max *int64, minIncl, maxIncl bool) query.Query {
	var lo, hi *float64
	if min != nil {
		f := float64(*min)
		lo = &f
	}
	if max != nil {
		f := float64(*max)
		hi = &f
	}
	q := bleve.NewNumericRangeInclusiveQuery(lo, hi, &minIncl, &maxIncl)
	q.SetField(field)
	return q
}

func ptr(v int64) *int64 { return &v }

// clauses are what a story must match and what it must not. live adds
// "neither dated after now nor undated" to what it must not, as
// exclusions: few stories are scheduled or undated, so this reads far
// fewer postings than a range over every publication time in the archive
// would.
type clauses struct {
	must, not []query.Query
	live      *int64 // now, Unix ms
}

// and is c with more clauses a story must match.
func (c clauses) and(q ...query.Query) clauses {
	c.must = append(c.must[:len(c.must):len(c.must)], q...)
	return c
}

// without is c with more clauses a story must not match.
func (c clauses) without(q ...query.Query) clauses {
	c.not = append(c.not[:len(c.not):len(c.not)], q...)
	return c
}

func (c clauses) query() query.Query {
	if c.live != nil {
		c = c.without(millis(fieldPublished, c.live, nil, false, false), millis(fieldPublished, nil, ptr(1), false, false))
	}
	if len(c.not) == 0 {
		return bleve.NewConjunctionQuery(c.must...)
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(c.must...)
	b.AddMustNot(c.not...)
	return b
}

// filters are the clauses of a validated list query, without its order and
// cursor.
func filters(q news.ArticleQuery) clauses {
	now := q.Now.UnixMilli()
	var c clauses
	switch q.Status {
	case news.StatusPublished:
		c = c.and(term(fieldStatus, string(news.StatusPublished)))
		c.live = &now
	case news.StatusScheduled:
		c = c.and(term(fieldStatus, string(news.StatusPublished)), millis(fieldPublished, &now, nil, false, false))
	default:
		c = c.and(term(fieldStatus, string(q.Status)))
	}
	if q.Section != "" {
		c = c.and(term(fieldSection, q.Section))
	}
	for _, t := range q.Tags {
		c = c.and(term(fieldTags, t))
	}
	if q.AuthorID != "" {
		c = c.and(term(fieldAuthors, q.AuthorID))
	}
	if q.PublishedAfter != nil {
		c = c.and(millis(fieldPublished, ptr(q.PublishedAfter.UnixMilli()), nil, false, false))
	}
	if q.PublishedBefore != nil {
		c = c.and(millis(fieldPublished, ptr(1), ptr(q.PublishedBefore.UnixMilli()), true, false))
	}
	return c
}

// List answers a validated list query: the IDs of up to q.Limit stories in
// q's order, strictly after q.After. Ties on the sort field are broken by
// ID, as MongoDB's sort on (field, _id) does, so keyset cursors neither
// skip nor repeat.
func (ix *Index) List(ctx context.Context, q news.ArticleQuery) ([]string, error) {
	field := fieldPublished
	if q.Order.Field == news.OrderUpdatedAt {
		field = fieldUpdated
	}
	var after []string
	var from *int64
	if c := q.After; c != nil {
		after = []string{strconv.FormatInt(c.Time, 10), c.ID}
		from = ptr(c.Time)
	}
	windowed := field == fieldPublished && q.Order.Desc && q.Status == news.StatusPublished
	if !windowed {
		c := filters(q)
		if from != nil {
			// The cursor's value bounds the range too: search_after alone
			// would still visit and sort everything before it.
			if q.Order.Desc {
				c = c.and(millis(field, nil, from, false, true))
			} else {
				c = c.and(millis(field, from, nil, true, false))
			}
		}
		return ix.ids(ctx, c.query(), sortBy(field, q.Order.Desc), after, q.Limit)
	}
	top := q.Now.UnixMilli()
	if from != nil {
		top = min(top, *from)
	}
	if q.PublishedBefore != nil {
		top = min(top, q.PublishedBefore.UnixMilli())
	}
	return ix.newest(ctx, filters(q), top, after, q.Limit)
}

// newest lists the newest stories matching c published at or before top
// (Unix ms) and after the cursor, in windows of time that widen until they
// hold limit stories.
func (ix *Index) newest(ctx context.Context, c clauses, top int64, after []string, limit int) ([]string, error) {
	window := firstWindow
	for try := 1; ; try++ {
		bottom := ptr(int64(1))
		last := try == windowTries
		if !last {
			bottom = ptr(top - window.Milliseconds())
		}
		in := c.and(millis(fieldPublished, bottom, &top, true, true))
		if c.live != nil && top <= *c.live {
			in.live = nil // the window is dated and not after now
		}
		ids, err := ix.ids(ctx, in.query(), sortBy(fieldPublished, true), after, limit)
		if err != nil || len(ids) >= limit || last {
			return ids, err
		}
		window *= windowGrowth
	}
}

func sortBy(field string, desc bool) search.SortOrder {
	return search.SortOrder{
		&search.SortField{Field: field, Type: search.SortFieldAsNumber, Desc: desc, Missing: search.SortFieldMissingFirst},
		&search.SortDocID{Desc: desc},
	}
}

// ids runs a search for the IDs of its hits.
func (ix *Index) ids(ctx context.Context, q query.Query, order search.SortOrder, after []string, limit int) ([]string, error) {
	res, err := ix.search(ctx, q, order, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out, nil
}

func (ix *Index) search(ctx context.Context, q query.Query, order search.SortOrder, after []string, limit int) (*bleve.SearchResult, error) {
	req := bleve.NewSearchRequestOptions(q, limit, 0, false)
	req.SortByCustom(order)
	req.SearchAfter = after
	res, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("query index search: %w", err)
	}
	return res, nil
}

// SlugID is the ID of the story with slug, "" when none.
func (ix *Index) SlugID(ctx context.Context, slug string) (string, error) {
	ids, err := ix.ids(ctx, term(fieldSlug, slug), search.SortOrder{&search.SortDocID{}}, nil, 1)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// NextScheduledAt is when the earliest scheduled story goes live; nil when
// none is scheduled.
func (ix *Index) NextScheduledAt(ctx context.Context, now time.Time) (*time.Time, error) {
	q := filters(news.ArticleQuery{Status: news.StatusScheduled, Now: now}).query()
	res, err := ix.search(ctx, q, sortBy(fieldPublished, false), nil, 1)
	if err != nil || len(res.Hits) == 0 {
		return nil, err
	}
	ms, err := ix.publishedOf(ctx, res.Hits[0].ID)
	if err != nil {
		return nil, err
	}
	at := time.UnixMilli(ms).UTC()
	return &at, nil
}

// publishedOf reads one story's publication time from the index's doc
// values (the sort key, so no stored field is needed).
func (ix *Index) publishedOf(ctx context.Context, id string) (int64, error) {
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery([]string{id}), 1, 0, false)
	req.SortByCustom(sortBy(fieldPublished, false))
	res, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return 0, err
	}
	if len(res.Hits) == 0 || len(res.Hits[0].Sort) == 0 {
		return 0, fmt.Errorf("query index: no publication time for %s", id)
	}
	f, err := strconv.ParseFloat(sortField(res.Hits[0].Sort[0]), 64)
	return int64(f), err
}

func sortField(encoded string) string {
	return (&search.SortField{Type: search.SortFieldAsNumber}).DecodeValue(encoded)
}

// allIDs lists every story the index holds (a rebuild drops those MongoDB
// no longer has).
func (ix *Index) allIDs() (map[string]bool, error) {
	n, err := ix.bleve.DocCount()
	if err != nil || n == 0 {
		return map[string]bool{}, err
	}
	ids, err := ix.ids(context.Background(), bleve.NewMatchAllQuery(), search.SortOrder{&search.SortDocID{}}, nil, int(n))
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// SharingQuery's stories, newest first: the candidates related stories are
// ranked from.

// SharingTags lists the newest live stories carrying any of q.Tags, as
// outlines: ID, section, tags, bylines and publication time only.
func (ix *Index) SharingTags(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	var anyOf []query.Query
	for _, t := range q.Tags {
		anyOf = append(anyOf, term(fieldTags, t))
	}
	return ix.sharing(ctx, q, anyOf)
}

// SharingDesk lists the newest live stories in q.Section or by any of
// q.AuthorIDs, as outlines.
func (ix *Index) SharingDesk(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	var anyOf []query.Query
	if q.Section != "" {
		anyOf = append(anyOf, term(fieldSection, q.Section))
	}
	for _, id := range q.AuthorIDs {
		anyOf = append(anyOf, term(fieldAuthors, id))
	}
	return ix.sharing(ctx, q, anyOf)
}

func (ix *Index) sharing(ctx context.Context, q news.SharingQuery, anyOf []query.Query) ([]*news.Article, error) {
	if len(anyOf) == 0 {
		return nil, nil
	}
	c := filters(news.ArticleQuery{Status: news.StatusPublished, Now: q.Now}).and(bleve.NewDisjunctionQuery(anyOf...))
	if q.Exclude != "" {
		c = c.without(bleve.NewDocIDQuery([]string{q.Exclude}))
	}
	ids, err := ix.newest(ctx, c, q.Now.UnixMilli(), nil, q.Limit)
	if err != nil {
		return nil, err
	}
	out, err := ix.Outlines(ctx, ids)
	for _, a := range out {
		a.StoredStatus = news.StatusPublished
	}
	return out, err
}

// Outlines are the stories of ids as the index has them, in the order of
// ids: ID, section, tags, bylines and publication time only. Stories the
// index does not hold are left out.
func (ix *Index) Outlines(ctx context.Context, ids []string) ([]*news.Article, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery(ids), len(ids), 0, false)
	req.Fields = []string{fieldSection, fieldTags, fieldAuthors, fieldPublished}
	res, err := ix.bleve.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("query index outlines: %w", err)
	}
	byID := make(map[string]*news.Article, len(res.Hits))
	for _, h := range res.Hits {
		a := &news.Article{ID: h.ID, Tags: keywords(h.Fields[fieldTags]), AuthorIDs: keywords(h.Fields[fieldAuthors])}
		a.Section, _ = h.Fields[fieldSection].(string)
		if ms, ok := h.Fields[fieldPublished].(float64); ok && ms > 0 {
			at := time.UnixMilli(int64(ms)).UTC()
			a.PublishedAt = &at
		}
		byID[h.ID] = a
	}
	out := make([]*news.Article, 0, len(byID))
	for _, id := range ids {
		if a := byID[id]; a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// keywords reads a stored keyword field: one value is a string, several a
// slice.
func keywords(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return []string{}
}

// TagFrequencies counts the stories in the index, and those carrying each
// of tags, from its term dictionary: a lookup per tag, whatever the size of
// the archive. Drafts and scheduled stories count too: rarity is a property
// of the archive's vocabulary, and they are few beside it.
func (ix *Index) TagFrequencies(ctx context.Context, _ time.Time, tags []string) (*news.TagFrequencies, error) {
	in, err := ix.bleve.Advanced()
	if err != nil {
		return nil, fmt.Errorf("query index: %w", err)
	}
	r, err := in.Reader()
	if err != nil {
		return nil, fmt.Errorf("query index reader: %w", err)
	}
	defer r.Close()
	n, err := r.DocCount()
	if err != nil {
		return nil, fmt.Errorf("query index count: %w", err)
	}
	out := &news.TagFrequencies{Stories: int(n), Tagged: make(map[string]int, len(tags))}
	for _, t := range tags {
		tr, err := r.TermFieldReader(ctx, []byte(t), fieldTags, false, false, false)
		if err != nil {
			return nil, fmt.Errorf("query index tag count: %w", err)
		}
		out.Tagged[t] = int(tr.Count())
		if err := tr.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Token is a word of a text as search sees it: where it stands (byte
// offsets) and the term it was reduced to.
type Token = news.Token

// Analyze splits text into the terms search matches (English: lower case,
// possessives and stop words out, Porter stems), with their offsets.
func (ix *Index) Analyze(text string) []news.Token {
	a := ix.bleve.Mapping().AnalyzerNamed(en.AnalyzerName)
	if a == nil {
		return nil
	}
	stream := a.Analyze([]byte(text))
	out := make([]news.Token, len(stream))
	for i, t := range stream {
		out[i] = news.Token{Start: t.Start, End: t.End, Term: string(t.Term)}
	}
	return out
}

// Search ranks the stories matching q with BM25 (headline ×3, dek ×2,
// body ×1), best first, ties by ID; after the cursor q.After when set.
func (ix *Index) Search(ctx context.Context, q news.SearchQuery) ([]news.SearchHit, error) {
	c := filters(q.List)
	for _, t := range q.Terms {
		h, d, b := term(fieldHeadline, t).(*query.TermQuery), term(fieldDek, t).(*query.TermQuery), term(fieldBody, t)
		h.SetBoost(boostHeadline)
		d.SetBoost(boostDek)
		c = c.and(bleve.NewDisjunctionQuery(h, d, b))
	}
	for _, p := range q.Phrases {
		var in []query.Query
		for _, f := range []string{fieldHeadline, fieldDek, fieldBody} {
			m := bleve.NewMatchPhraseQuery(p)
			m.SetField(f)
			m.Analyzer = en.AnalyzerName
			in = append(in, m)
		}
		c = c.and(bleve.NewDisjunctionQuery(in...))
	}
	match := c.query()
	if q.After == nil {
		if hits, ok, err := ix.firstHits(ctx, match, q.Limit); ok || err != nil {
			return hits, err
		}
	}
	var after []string
	if q.After != nil {
		after = []string{strconv.FormatFloat(q.After.Score, 'g', -1, 64), q.After.ID}
	}
	res, err := ix.search(ctx, match, byScoreThenID, after, q.Limit)
	if err != nil {
		return nil, err
	}
	return searchHits(res.Hits), nil
}

// byScoreThenID is search's order: best first, ties by ID, so that cursors
// neither skip nor repeat.
var byScoreThenID = search.SortOrder{&search.SortScore{Desc: true}, &search.SortDocID{}}

// firstHits answers a first page of search results by score alone, which
// bleve collects without reading every matching story's ID (with the ID
// in the order, it reads one per match: most of a common word's search),
// then orders ties by ID here. That is the same page unless a tie spans
// its end, when some of the tied stories would be missing from it: then
// ok is false and the caller asks again in the full order.
func (ix *Index) firstHits(ctx context.Context, q query.Query, limit int) (hits []news.SearchHit, ok bool, err error) {
	if limit < 1 {
		return nil, false, nil
	}
	res, err := ix.search(ctx, q, search.SortOrder{&search.SortScore{Desc: true}}, nil, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(res.Hits) > limit && res.Hits[limit-1].Score == res.Hits[limit].Score {
		return nil, false, nil
	}
	hits = searchHits(res.Hits[:min(limit, len(res.Hits))])
	slices.SortStableFunc(hits, func(a, b news.SearchHit) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return hits, true, nil
}

func searchHits(matches search.DocumentMatchCollection) []news.SearchHit {
	out := make([]news.SearchHit, len(matches))
	for i, h := range matches {
		out[i] = news.SearchHit{ID: h.ID, Score: h.Score}
	}
	return out
}
