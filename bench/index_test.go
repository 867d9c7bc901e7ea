package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/news"
)

// The query index on its own, at archive scale: what each kind of cold
// request asks it, over synthetic stories of 300–600 words, plus how long
// building it takes. End-to-end figures (HTTP, MongoDB) come from
// `go run ./bench -cold`.
//
//	INDEX_BENCH_STORIES=100000 go test ./bench -run '^$' -bench BenchmarkIndex -benchtime 200x
//
// (default 10,000 stories so that `go test ./bench` stays quick).

var (
	benchIndexOnce sync.Once
	benchIndex     *index.Index
	benchArticles  []*news.Article
)

func indexStories() int {
	if n, err := strconv.Atoi(os.Getenv("INDEX_BENCH_STORIES")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// syntheticArchive is n stories over ten years: 12 sections, 400 tags of
// very different popularity, 150 authors, bodies drawn from 3,000 words.
func syntheticArchive(n int) []*news.Article {
	r := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 3000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%sx%d", strings.Repeat("a", i%5), i)
	}
	vocab[7], vocab[8], vocab[9] = "council", "flood", "housing"
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*news.Article, n)
	for i := range out {
		at := end.Add(-time.Duration(r.Int64N(int64(10 * 365 * 24 * time.Hour)))).Truncate(time.Millisecond)
		words := make([]string, 300+r.IntN(300))
		for j := range words {
			words[j] = vocab[int(r.ExpFloat64()*300)%len(vocab)]
		}
		tags := []string{fmt.Sprintf("tag-%d", int(r.ExpFloat64()*40)%400), fmt.Sprintf("tag-%d", r.IntN(400))}
		out[i] = &news.Article{
			ID: fmt.Sprintf("%024x", i), Slug: fmt.Sprintf("story-%d", i),
			Headline:     strings.Join(words[:8], " "),
			Dek:          strings.Join(words[8:30], " "),
			Body:         strings.Join(words, " "),
			Section:      fmt.Sprintf("section-%d", r.IntN(12)),
			Tags:         tags,
			AuthorIDs:    []string{fmt.Sprintf("author-%d", r.IntN(150))},
			StoredStatus: news.StatusPublished, PublishedAt: &at, CreatedAt: at, UpdatedAt: at, Version: 1,
		}
	}
	return out
}

func builtIndex(b *testing.B) *index.Index {
	benchIndexOnce.Do(func() {
		n := indexStories()
		benchArticles = syntheticArchive(n)
		dir := filepath.Join(b.TempDir(), "index")
		ix, err := index.Open(context.Background(), dir, index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		started := time.Now()
		for i := 0; i < n; i += 500 {
			if err := ix.IndexArticles(context.Background(), benchArticles[i:min(i+500, n)]); err != nil {
				b.Fatal(err)
			}
		}
		took := time.Since(started)
		var size int64
		_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		fmt.Printf("index build: %d stories in %s (%.0f stories/s), %d MB on disk\n",
			n, took.Round(time.Millisecond), float64(n)/took.Seconds(), size>>20)
		benchIndex = ix
	})
	return benchIndex
}

func BenchmarkIndex(b *testing.B) {
	ix := builtIndex(b)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	live := func(q news.ArticleQuery) news.ArticleQuery {
		q.Status, q.Order, q.Now, q.Limit = news.StatusPublished, news.NewestFirst, now, 21
		return q
	}
	// Page 7 of a section: the cursor of its 120th story.
	deep := live(news.ArticleQuery{Section: "section-3", Limit: 121})
	deep.Limit = 121
	ids, err := ix.List(ctx, deep)
	if err != nil || len(ids) < 121 {
		b.Fatalf("deep page setup: %d %v", len(ids), err)
	}
	var cursorArticle *news.Article
	for _, a := range benchArticles {
		if a.ID == ids[119] {
			cursorArticle = a
		}
	}
	c := news.ArticleCursor(cursorArticle, news.NewestFirst)
	subject := benchArticles[len(benchArticles)/2]
	cases := []struct {
		name string
		run  func() error
	}{
		{"slug", func() error { _, err := ix.SlugID(ctx, "story-4242"); return err }},
		{"front", func() error { _, err := ix.List(ctx, live(news.ArticleQuery{})); return err }},
		{"section", func() error { _, err := ix.List(ctx, live(news.ArticleQuery{Section: "section-5"})); return err }},
		{"tag", func() error { _, err := ix.List(ctx, live(news.ArticleQuery{Tags: []string{"tag-3"}})); return err }},
		{"rare-tag", func() error { _, err := ix.List(ctx, live(news.ArticleQuery{Tags: []string{"tag-377"}})); return err }},
		{"author", func() error { _, err := ix.List(ctx, live(news.ArticleQuery{AuthorID: "author-17"})); return err }},
		{"deep-page", func() error {
			q := live(news.ArticleQuery{Section: "section-3"})
			q.After = &c
			_, err := ix.List(ctx, q)
			return err
		}},
		{"search-2-words", func() error {
			_, err := ix.Search(ctx, news.SearchQuery{List: live(news.ArticleQuery{}), Terms: []string{"council", "flood"}, Limit: 21})
			return err
		}},
		{"search-phrase", func() error {
			_, err := ix.Search(ctx, news.SearchQuery{List: live(news.ArticleQuery{}), Terms: []string{"council", "flood"},
				Phrases: []string{"council flood"}, Limit: 21})
			return err
		}},
		{"related-candidates", func() error {
			q := news.SharingQuery{Exclude: subject.ID, Tags: subject.Tags, Section: subject.Section, AuthorIDs: subject.AuthorIDs, Now: now, Limit: 100}
			if _, err := ix.SharingTags(ctx, q); err != nil {
				return err
			}
			q.Limit = 30
			if _, err := ix.SharingDesk(ctx, q); err != nil {
				return err
			}
			_, err := ix.TagFrequencies(ctx, now.Add(time.Duration(b.N)), subject.Tags)
			return err
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if err := tc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
