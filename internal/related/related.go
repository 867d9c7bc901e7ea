// Package related ranks the published stories that share the most with a
// story: its tags (the rarer the tag, the more it counts), its section and
// its authors, discounted as the candidate ages. Every
// result says why it is there.
package related

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Result sizes: what a client gets without asking, and the most it may ask.
const (
	DefaultCount = 5
	MaxCount     = 20
)

// Candidate limits: the newest stories sharing a tag, and the newest sharing
// the section or an author, that are scored. Two bounded index queries, so
// the cost does not grow with the archive.
const (
	tagCandidates  = 100
	deskCandidates = 30
)

// Weights. A shared tag counts its idf, ln(1 + stories/stories-with-tag):
// about 1.5 to 3 in a newsroom of some thousand stories, so one rare shared
// tag outweighs a shared section, which only says the same desk wrote it.
const (
	sectionBonus = 0.5
	authorBonus  = 0.75
	// halfLife: the part of a score that depends on recency halves for
	// every week of a candidate's age...
	halfLife = 7 * 24 * time.Hour
	// ...but only part of it: a closely related story from months ago (the
	// first report of a long-running story) keeps a quarter of its score.
	timelessShare = 0.25
)

// resultTTL bounds how stale a cached list can get when no write tells us
// (a scheduled story going live by the clock).
const resultTTL = time.Minute

// maxCached bounds the result cache; past it the cache starts over.
const maxCached = 10000

// parallelRankings bounds how many lists are worked out at once: a page
// asking for every story's related list would otherwise send the database
// two finds per story all at the same moment.
const parallelRankings = 4

// Store is what ranking needs from storage.
//
// The candidates may be outlines (ID, section, tags, bylines, publication
// time: what scoring reads); the stories kept are fetched whole with
// ArticlesByIDs, through the cache.
type Store interface {
	ArticlesSharingTags(ctx context.Context, q news.SharingQuery) ([]*news.Article, error)
	ArticlesSharingDesk(ctx context.Context, q news.SharingQuery) ([]*news.Article, error)
	// TagFrequencies counts the stories and those carrying each of tags
	// (the query index answers both from its term dictionary).
	TagFrequencies(ctx context.Context, now time.Time, tags []string) (*news.TagFrequencies, error)
	AuthorsByIDs(ctx context.Context, ids []string) (map[string]*news.Author, error)
	ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error)
	TermsByKeys(ctx context.Context, keys []string) (map[string]*news.Term, error)
}

// Article is a related story with its score and the reasons for it.
type Article struct {
	Article *news.Article
	Score   float64
	Reasons []string
}

// Finder ranks related stories. It caches finished lists in process, and
// is a news.Listener: any article or author change drops them (writes are
// rare next to reads, so starting over is cheaper than working out which
// lists a change touches).
type Finder struct {
	store Store
	now   func() time.Time
	slots chan struct{}

	mu      sync.Mutex
	results map[string]cachedList
	// Display names for reasons; they change only on writes, and are
	// forgotten with the lists.
	sectionNames map[string]string
	authorNames  map[string]string
}

type cachedList struct {
	list []*Article
	at   time.Time
}

// NewFinder ranks over store.
func NewFinder(store Store) *Finder {
	f := &Finder{store: store, now: time.Now, slots: make(chan struct{}, parallelRankings)}
	f.forget()
	return f
}

// For lists up to first stories related to a, best first. Only stories
// readers can see are ever returned, never a itself, whoever asks.
func (f *Finder) For(ctx context.Context, a *news.Article, first *int) ([]*Article, error) {
	// Served from this finder's own list cache or not, the answer is built
	// from lists of articles: any article write may change it.
	news.DependsOnLists(ctx)
	n := DefaultCount
	if first != nil {
		n = *first
	}
	if n < 0 || n > MaxCount {
		return nil, news.BadInput("first", "must be between 0 and %d", MaxCount)
	}
	now := f.now()
	list, err := f.ranked(ctx, a, now)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range list {
		if r.Article.LiveAt(now) {
			ids = append(ids, r.Article.ID)
		}
	}
	// The first n and a few spare, should some have changed since ranking.
	ids = ids[:min(len(ids), n+n/2+1)]
	if n == 0 || len(ids) == 0 {
		return []*Article{}, nil
	}
	if news.WantsOutlines(ctx) {
		// The ranking's candidates are outlines: the caller may queue the
		// first n's bylines and terms while the stories are read.
		outlines := make([]*news.Article, 0, n)
		for _, r := range list {
			if len(outlines) < n && r.Article.LiveAt(now) {
				outlines = append(outlines, r.Article)
			}
		}
		news.Outlined(ctx, outlines)
	}
	found, err := f.store.ArticlesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*Article, 0, n)
	for _, r := range list {
		if len(out) == n {
			break
		}
		// The stored story decides: one unpublished since is left out.
		if whole := found[r.Article.ID]; whole != nil && whole.LiveAt(now) {
			out = append(out, &Article{Article: whole, Score: r.Score, Reasons: r.Reasons})
		}
	}
	return out, nil
}

// ranked is the full ranked list for a (up to MaxCount), from the cache
// when it is fresh.
func (f *Finder) ranked(ctx context.Context, a *news.Article, now time.Time) ([]*Article, error) {
	f.mu.Lock()
	c, ok := f.results[a.ID]
	f.mu.Unlock()
	if ok && now.Sub(c.at) < resultTTL {
		return c.list, nil
	}
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	list, err := f.rank(ctx, a, now)
	<-f.slots
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if len(f.results) >= maxCached {
		f.results = map[string]cachedList{}
	}
	f.results[a.ID] = cachedList{list: list, at: now}
	f.mu.Unlock()
	return list, nil
}

func (f *Finder) rank(ctx context.Context, a *news.Article, now time.Time) ([]*Article, error) {
	q := news.SharingQuery{Exclude: a.ID, Tags: a.Tags, Section: a.Section, AuthorIDs: a.AuthorIDs, Now: now}
	candidates := map[string]*news.Article{}
	finds := []struct {
		wanted bool
		limit  int
		find   func(context.Context, news.SharingQuery) ([]*news.Article, error)
	}{
		{len(a.Tags) > 0, tagCandidates, f.store.ArticlesSharingTags},
		{a.Section != "" || len(a.AuthorIDs) > 0, deskCandidates, f.store.ArticlesSharingDesk},
	}
	for _, fd := range finds {
		if !fd.wanted {
			continue
		}
		q.Limit = fd.limit
		rows, err := fd.find(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			candidates[r.ID] = r
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	freq, err := f.store.TagFrequencies(ctx, now, a.Tags)
	if err != nil {
		return nil, err
	}
	names, err := f.names(ctx, a)
	if err != nil {
		return nil, err
	}

	list := make([]*Article, 0, len(candidates))
	for _, c := range candidates {
		if c.ID == a.ID || !c.LiveAt(now) {
			continue
		}
		list = append(list, score(a, c, freq, names, now))
	}
	sort.Slice(list, func(i, j int) bool {
		x, y := list[i], list[j]
		if x.Score != y.Score {
			return x.Score > y.Score
		}
		if !x.Article.PublishedAt.Equal(*y.Article.PublishedAt) {
			return x.Article.PublishedAt.After(*y.Article.PublishedAt)
		}
		return x.Article.ID > y.Article.ID
	})
	if len(list) > MaxCount {
		list = list[:MaxCount]
	}
	return list, nil
}

// labels are the display names reasons use.
type labels struct {
	section string
	authors map[string]string
}

// names are a's section name and authors' names, from the cache or in one
// batch each.
func (f *Finder) names(ctx context.Context, a *news.Article) (labels, error) {
	l := labels{section: a.Section, authors: map[string]string{}}
	f.mu.Lock()
	section, haveSection := f.sectionNames[a.Section]
	var missing []string
	for _, id := range a.AuthorIDs {
		if name, ok := f.authorNames[id]; ok {
			l.authors[id] = name
		} else {
			missing = append(missing, id)
		}
	}
	f.mu.Unlock()

	if a.Section != "" && !haveSection {
		key := news.TermKey(news.KindSection, a.Section)
		terms, err := f.store.TermsByKeys(ctx, []string{key})
		if err != nil {
			return l, err
		}
		section = a.Section
		if t := terms[key]; t != nil {
			section = t.Name
		}
	}
	l.section = section
	found := map[string]*news.Author{}
	if len(missing) > 0 {
		var err error
		if found, err = f.store.AuthorsByIDs(ctx, missing); err != nil {
			return l, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if a.Section != "" {
		f.sectionNames[a.Section] = section
	}
	for _, id := range missing {
		if au := found[id]; au != nil {
			l.authors[id], f.authorNames[id] = au.Name, au.Name
		}
	}
	return l, nil
}

// idf is how much sharing tag says: more the fewer stories carry it.
func idf(freq *news.TagFrequencies, tag string) float64 {
	df := max(freq.Tagged[tag], 1)
	return math.Log(1 + float64(max(freq.Stories, df))/float64(df))
}

// score weighs what c shares with a and says why.
func score(a, c *news.Article, freq *news.TagFrequencies, l labels, now time.Time) *Article {
	var sum float64
	var reasons []string

	type shared struct {
		tag    string
		weight float64
	}
	var tags []shared
	for _, t := range c.Tags {
		if slices.Contains(a.Tags, t) {
			tags = append(tags, shared{t, idf(freq, t)})
		}
	}
	if len(tags) > 0 {
		sort.SliceStable(tags, func(i, j int) bool { return tags[i].weight > tags[j].weight })
		slugs := make([]string, len(tags))
		for i, t := range tags {
			sum += t.weight
			slugs[i] = t.tag
		}
		reasons = append(reasons, "shares tags: "+strings.Join(slugs, ", "))
	}
	if a.Section != "" && c.Section == a.Section {
		sum += sectionBonus
		reasons = append(reasons, "same section: "+l.section)
	}
	var authors []string
	for _, id := range c.AuthorIDs {
		if slices.Contains(a.AuthorIDs, id) {
			sum += authorBonus
			if name := l.authors[id]; name != "" {
				authors = append(authors, name)
			}
		}
	}
	switch {
	case len(authors) == 1:
		reasons = append(reasons, "same author: "+authors[0])
	case len(authors) > 1:
		reasons = append(reasons, "same authors: "+strings.Join(authors, ", "))
	}

	// Recency: readers of any story, old or new, are best served by what is
	// current (an old story's follow-ups rather than its contemporaries).
	age := max(now.Sub(*c.PublishedAt), 0)
	decay := timelessShare + (1-timelessShare)*math.Exp2(-float64(age)/float64(halfLife))
	return &Article{Article: c, Score: math.Round(sum*decay*1000) / 1000, Reasons: reasons}
}

// ArticleChanged implements news.Listener: a story published, edited,
// unpublished or deleted can enter or leave any list, and changes tag
// frequencies.
func (f *Finder) ArticleChanged(ctx context.Context, before, after *news.Article) { f.forget() }

// AuthorChanged implements news.Listener: reasons name authors.
func (f *Finder) AuthorChanged(ctx context.Context, before, after *news.Author) { f.forget() }

func (f *Finder) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = map[string]cachedList{}
	f.sectionNames, f.authorNames = map[string]string{}, map[string]string{}
}
