package index

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// hydrateParallel bounds the _id finds one list sends at once: a page of
// 21 cold stories costs about three finds' time, not 21.
const hydrateParallel = 8

// Reads is news.Store with its questions of "which stories, in which order"
// answered by the index: lists, slugs, related candidates, search. Objects
// come by _id: from Hydrate (the cache, so hot stories cost no round trip)
// or, for batches, one find per ID from the origin (a $in is a full scan
// on FerretDB). Everything else passes through to the origin.
type Reads struct {
	news.Store
	ix      *Index
	hydrate news.Store
}

// Reads puts the index in front of origin. Call HydrateThrough with the
// cache that wraps the result.
func (ix *Index) Reads(origin news.Store) *Reads {
	return &Reads{Store: origin, ix: ix, hydrate: origin}
}

// HydrateThrough makes lists fetch their stories through st (the cache).
func (r *Reads) HydrateThrough(st news.Store) { r.hydrate = st }

// Articles implements news.Store. A story whose stored copy no longer
// passes the query (a write between the index's answer and the read) is
// left out: MongoDB decides what is shown, the index only what is looked at.
func (r *Reads) Articles(ctx context.Context, q news.ArticleQuery) ([]*news.Article, error) {
	ids, err := r.ix.List(ctx, q)
	if err != nil {
		return nil, err
	}
	r.passOutlines(ctx, ids)
	rows, err := r.hydrated(ctx, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(rows, func(a *news.Article) bool { return !Matches(q, a) }), nil
}

// ArticleBySlug implements news.Store: the index knows the slug's _id.
func (r *Reads) ArticleBySlug(ctx context.Context, slug string) (*news.Article, error) {
	id, err := r.ix.SlugID(ctx, slug)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, news.ErrNotFound
	}
	a, err := r.hydrate.ArticleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Slug != slug {
		// Renamed since the index heard of it: a write is on its way.
		return nil, news.ErrNotFound
	}
	return a, nil
}

// ArticlesByIDs implements news.Store with one _id find per story, a few
// at a time (what the cache asks for when its tiers miss).
func (r *Reads) ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error) {
	rows, err := r.byID(ctx, ids, r.Store.ArticleByID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*news.Article, len(rows))
	for _, a := range rows {
		out[a.ID] = a
	}
	return out, nil
}

// NextScheduledAt is the cache's question, answered by the index.
func (r *Reads) NextScheduledAt(ctx context.Context, now time.Time) (*time.Time, error) {
	return r.ix.NextScheduledAt(ctx, now)
}

// ArticlesSharingTags, ArticlesSharingDesk and TagFrequencies are what
// internal/related ranks from. The candidates are outlines from the index
// (ID, section, tags, bylines, publication time): related fetches only the
// ones it keeps.
func (r *Reads) ArticlesSharingTags(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	return r.ix.SharingTags(ctx, q)
}

func (r *Reads) ArticlesSharingDesk(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	return r.ix.SharingDesk(ctx, q)
}

func (r *Reads) TagFrequencies(ctx context.Context, now time.Time, tags []string) (*news.TagFrequencies, error) {
	return r.ix.TagFrequencies(ctx, now, tags)
}

// Search and Analyze are what internal/search asks. Search passes on its
// hits' outlines when asked, as Articles does, before the stories are read.
func (r *Reads) Search(ctx context.Context, q news.SearchQuery) ([]news.SearchHit, error) {
	hits, err := r.ix.Search(ctx, q)
	if err == nil && len(hits) > 0 && news.WantsOutlines(ctx) {
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.ID
		}
		r.passOutlines(ctx, ids)
	}
	return hits, err
}

// passOutlines hands the outlines of ids to a caller under ctx that asked
// for them (news.WithOutlines): its bylines and terms are then read beside
// the stories. If the index cannot say, they are read after them.
func (r *Reads) passOutlines(ctx context.Context, ids []string) {
	if !news.WantsOutlines(ctx) {
		return
	}
	if outlines, err := r.ix.Outlines(ctx, ids); err == nil {
		news.Outlined(ctx, outlines)
	}
}

func (r *Reads) Analyze(text string) []news.Token { return r.ix.Analyze(text) }

// hydrated fetches ids in order through the cache: its tiers answer the
// hot ones, and the misses come back here (ArticlesByIDs) as _id finds.
func (r *Reads) hydrated(ctx context.Context, ids []string) ([]*news.Article, error) {
	found, err := r.hydrate.ArticlesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*news.Article, 0, len(ids))
	for _, id := range ids {
		if a := found[id]; a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// byID fetches ids with get, a few at a time, in order; stories gone
// meanwhile are left out.
func (r *Reads) byID(ctx context.Context, ids []string, get func(context.Context, string) (*news.Article, error)) ([]*news.Article, error) {
	rows := make([]*news.Article, len(ids))
	errs := make([]error, len(ids))
	slots := make(chan struct{}, hydrateParallel)
	var wg sync.WaitGroup
	for i, id := range ids {
		if len(ids) == 1 {
			rows[i], errs[i] = get(ctx, id)
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			rows[i], errs[i] = get(ctx, id)
		}()
	}
	wg.Wait()
	out := make([]*news.Article, 0, len(ids))
	for i, a := range rows {
		if errors.Is(errs[i], news.ErrNotFound) {
			continue
		}
		if errs[i] != nil {
			return nil, errs[i]
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// Matches reports whether a passes q's filters (not its cursor): what the
// same query straight from MongoDB would say of it.
func Matches(q news.ArticleQuery, a *news.Article) bool {
	switch q.Status {
	case news.StatusPublished, news.StatusScheduled:
		if a.StoredStatus != news.StatusPublished || a.PublishedAt == nil || a.PublishedAt.After(q.Now) != (q.Status == news.StatusScheduled) {
			return false
		}
	default:
		if a.StoredStatus != q.Status {
			return false
		}
	}
	if q.Section != "" && a.Section != q.Section {
		return false
	}
	for _, t := range q.Tags {
		if !slices.Contains(a.Tags, t) {
			return false
		}
	}
	if q.AuthorID != "" && !slices.Contains(a.AuthorIDs, q.AuthorID) {
		return false
	}
	if q.PublishedAfter != nil && (a.PublishedAt == nil || !a.PublishedAt.After(*q.PublishedAfter)) {
		return false
	}
	if q.PublishedBefore != nil && (a.PublishedAt == nil || !a.PublishedAt.Before(*q.PublishedBefore)) {
		return false
	}
	return true
}
