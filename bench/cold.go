package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/newsgraph/newsgraph/internal/app"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/importer/bulk"
	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
)

// The cold benchmark (-cold): for each archive size, a fresh embedded
// database seeded in bulk, the service assembled as in production without
// Redis, and the first, uncached request of each kind, over HTTP with
// GraphQL documents, once the process has settled after the seeding and
// the index build. Every measured request follows a purge of all caches,
// so each is a miss in the L1, the object cache and the response cache,
// and targets differ from one sample to the next.

const card = `id slug headline dek publishedAt featuredImage { url alt } authors { name slug } section { slug name } tags { slug name }`

// coldKind is one kind of request: next makes the i-th sample's document
// and variables; prepare, when set, runs unmeasured before it (and may
// return extra variables, e.g. a deep page's cursor).
type coldKind struct {
	name    string
	next    func(i int) (string, map[string]any)
	prepare func(ctx context.Context, post poster, i int) (map[string]any, error)
}

type poster func(ctx context.Context, query string, vars map[string]any) (json.RawMessage, error)

func coldKinds(nr *newsroom) []coldKind {
	pick := func(i, n int) int { return (i * 7919) % n }
	listQuery := func(filter string) string {
		return `query($first: Int, $after: String, $v: String) { articles(first: $first, after: $after, filter: {` + filter + `}) { edges { node { ` + card + ` } } pageInfo { endCursor hasNextPage } } }`
	}
	section := func(i int) string { return strings.ToLower(sectionNames[i%len(sectionNames)]) }
	return []coldKind{
		{name: "article by slug", next: func(i int) (string, map[string]any) {
			return `query($slug: String!) { article(slug: $slug) { ` + card + ` body(format: HTML) wordCount readingTimeMinutes } }`,
				map[string]any{"slug": nr.articles[pick(i, len(nr.articles))].Slug}
		}},
		{name: "front page (20)", next: func(int) (string, map[string]any) {
			return `{ articles(first: 20) { edges { node { ` + card + ` } } pageInfo { endCursor hasNextPage } } }`, nil
		}},
		{name: "section page", next: func(i int) (string, map[string]any) {
			return listQuery("section: $v"), map[string]any{"first": 20, "v": section(i)}
		}},
		{name: "tag page", next: func(i int) (string, map[string]any) {
			return `query($first: Int, $v: String!) { articles(first: $first, filter: {tags: [$v]}) { edges { node { ` + card + ` } } } }`,
				map[string]any{"first": 20, "v": tagWords[i%len(tagWords)]}
		}},
		{name: "author page", next: func(i int) (string, map[string]any) {
			return listQuery("author: $v"), map[string]any{"first": 20, "v": nr.authors[pick(i, len(nr.authors))].Slug}
		}},
		{name: "page 7 of a section", next: func(i int) (string, map[string]any) {
			return listQuery("section: $v"), map[string]any{"first": 20, "v": section(i)}
		}, prepare: func(ctx context.Context, post poster, i int) (map[string]any, error) {
			// Pages 1-6 are 120 stories: one page of 100 and one of 20.
			after := any(nil)
			for _, first := range []int{100, 20} {
				data, err := post(ctx, `query($first: Int, $after: String, $v: String) { articles(first: $first, after: $after, filter: {section: $v}) { pageInfo { endCursor } } }`,
					map[string]any{"first": first, "after": after, "v": section(i)})
				if err != nil {
					return nil, err
				}
				var page struct {
					Articles struct{ PageInfo struct{ EndCursor string } }
				}
				if err := json.Unmarshal(data, &page); err != nil {
					return nil, err
				}
				if c := page.Articles.PageInfo.EndCursor; c != "" {
					after = c // a small archive has no page 7: the last page then
				}
			}
			return map[string]any{"after": after}, nil
		}},
		{name: "search, 2 words", next: func(i int) (string, map[string]any) {
			return searchQuery, map[string]any{"q": topicWords[searchRank(i)] + " " + topicWords[searchRank(i+7)]}
		}},
		{name: "search, 2 words in every story", next: func(i int) (string, map[string]any) {
			w1, w2 := everyStoryWords[i%len(everyStoryWords)], everyStoryWords[(i+5)%len(everyStoryWords)]
			return searchQuery, map[string]any{"q": w1 + " " + w2}
		}},
		{name: "related (5)", next: func(i int) (string, map[string]any) {
			return `query($slug: String!) { article(slug: $slug) { id related(first: 5) { score reasons article { ` + card + ` } } } }`,
				map[string]any{"slug": nr.articles[pick(i+1, len(nr.articles))].Slug}
		}},
	}
}

const searchQuery = `query($q: String!) { search(query: $q, first: 10) { edges { node { snippet article { ` + card + ` } } } } }`

// searchRank is the rank in topicWords of the i-th sample's search word:
// from 30 (in about 40% of stories) to 600 (about 2%), as a reader's words
// are neither the commonest nor the rarest.
func searchRank(i int) int { return 30 + (i*97)%571 }

// everyStoryWords are words of the filler prose, which every story holds:
// the worst case, a search that ranks the whole archive.
var everyStoryWords = []string{"council", "river", "plan", "residents", "rents", "commutes", "officials", "budget",
	"schools", "clinics", "routes", "districts", "families", "decision", "mayor", "timetable", "contracts", "committee"}

// settle waits, up to a minute and a half, until this process (which holds
// the embedded FerretDB, the index and the service) has been nearly idle
// for a second, after a garbage collection: the cold requests of a server
// that has been up a while, not of one still digesting a fresh import
// (SQLite's checkpoints, bleve's merges, the heap of the build). It returns
// how long that took.
func settle() time.Duration {
	start := time.Now()
	runtime.GC()
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for time.Since(start) < 90*time.Second {
		before := cpu()
		time.Sleep(time.Second)
		if cpu()-before < 100*time.Millisecond { // under a tenth of one core
			break
		}
	}
	return time.Since(start)
}

// coldResult is one kind's samples at one size.
type coldResult struct {
	kind     string
	p50, p99 time.Duration
	trips    uint64 // database round trips of the median request
}

// runCold measures each size in its own temporary database. With a
// profile path, the CPU of the measured requests' phase (not the seeding
// or the index build) is written there, or for several sizes to one file
// each (cold-<size>.prof for cold.prof). The service's samples are
// labelled kind=<request kind> and size=<stories>; FerretDB runs in this
// process, unlabelled, so its work is in the profile too.
func runCold(ctx context.Context, sizes []int, samples int, profile string, stdout io.Writer) error {
	fmt.Fprintf(stdout, "newsgraph cold bench: %s, embedded FerretDB on SQLite, no Redis, %d samples per kind, each after a purge of every cache\n",
		time.Now().UTC().Format(time.RFC3339), samples)
	for _, n := range sizes {
		path := profile
		if path != "" && len(sizes) > 1 {
			ext := filepath.Ext(path)
			path = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
		}
		if err := coldSize(ctx, n, samples, path, stdout); err != nil {
			return fmt.Errorf("%d stories: %w", n, err)
		}
	}
	return nil
}

func coldSize(ctx context.Context, n, samples int, profile string, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "newsgraph-cold-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	db, err := devdb.Start(dir, quiet)
	if err != nil {
		return err
	}
	defer db.Close()
	devdb.TuneGC() // as the server does on its embedded default
	st, err := store.OpenWithIndexes(ctx, db.URI(), "newsgraph", store.Options{Timeout: 2 * time.Minute})
	if err != nil {
		return err
	}
	defer st.Shutdown()
	if err := db.IndexIDs(ctx, "newsgraph"); err != nil {
		return err
	}

	nr := buildNewsroom(n, time.Now(), 1)
	t0 := time.Now()
	if err := st.InsertTerms(ctx, nr.terms); err != nil {
		return err
	}
	if err := st.InsertAuthors(ctx, nr.authors); err != nil {
		return err
	}
	// The importer's bulk writer, batch by batch.
	for i := 0; i < len(nr.articles); i += bulk.BatchSize {
		if _, err := st.UpsertArticles(ctx, nr.articles[i:min(i+bulk.BatchSize, len(nr.articles))], false); err != nil {
			return err
		}
	}
	seeded := time.Since(t0)
	// The workloads need only the slugs: the seed's bodies (about 450 MB at
	// 100,000 stories) would otherwise stay live in this process, which
	// also serves, and every garbage collection would mark them.
	for i, a := range nr.articles {
		nr.articles[i] = &news.Article{ID: a.ID, Slug: a.Slug}
	}
	// What a start after the import does: the store learns the sizes of
	// the collections it reads in batches.
	if err := st.EnsureIndexes(ctx); err != nil {
		return err
	}

	// The query index on disk, as the embedded default keeps it: built
	// from scratch, then closed and opened again as a restart would.
	ixDir := filepath.Join(dir, "index")
	t0 = time.Now()
	ix, err := index.Open(ctx, ixDir, index.Options{Source: st, Logger: quiet, CatchUpEvery: -1})
	if err == nil {
		err = ix.Rebuild(ctx)
	}
	if err != nil {
		return fmt.Errorf("index build: %w", err)
	}
	built := time.Since(t0)
	if err := ix.Close(); err != nil {
		return err
	}
	t0 = time.Now()
	if ix, err = index.Open(ctx, ixDir, index.Options{Source: st, Logger: quiet, CatchUpEvery: -1}); err != nil {
		return fmt.Errorf("index reopen: %w", err)
	}
	if !ix.Built() {
		return fmt.Errorf("index reopen: not built")
	}
	reopened := time.Since(t0)
	defer ix.Close()
	size := dirSize(ixDir)

	appCtx, stopApp := context.WithCancel(ctx)
	a := app.Assemble(appCtx, app.Parts{Store: st, Logger: quiet, BaseURL: "https://news.example.test",
		SiteName: "newsgraph cold bench", RequestTimeout: 2 * time.Minute, Index: ix})
	defer func() { stopApp(); a.Wait() }()
	// A start catches the index up from MongoDB in the background: on
	// FerretDB a read of every story (its filter on updatedAt reaches no
	// index). The requests are measured after it, on a quiet process.
	t0 = time.Now()
	<-ix.Settled()
	caughtUp := time.Since(t0)
	settled := settle()
	// Each request runs under its kind's profile label.
	handler, measuring := labelRequests(a.Handler, "kind", "size", strconv.Itoa(n))
	url, stop, err := serve(handler, "service", "cold")
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Timeout: 3 * time.Minute}
	post := func(ctx context.Context, query string, vars map[string]any) (json.RawMessage, error) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var out struct {
			Data   json.RawMessage
			Errors []struct{ Message string }
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			return nil, fmt.Errorf("HTTP %d: %w", res.StatusCode, err)
		}
		if len(out.Errors) > 0 {
			return nil, fmt.Errorf("GraphQL error: %s", out.Errors[0].Message)
		}
		return out.Data, nil
	}

	stopProfile, err := startProfile(profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var results []coldResult
	for _, k := range coldKinds(nr) {
		took := make([]time.Duration, 0, samples)
		trips := make([]uint64, 0, samples)
		for i := range samples {
			query, vars := k.next(i)
			if k.prepare != nil {
				extra, err := k.prepare(ctx, post, i)
				if err != nil {
					return fmt.Errorf("%s: %w", k.name, err)
				}
				for key, v := range extra {
					vars[key] = v
				}
			}
			a.Cache.PurgeAll(ctx)
			measuring(k.name)
			before := st.RoundTrips()
			t := time.Now()
			_, err := post(ctx, query, vars)
			took = append(took, time.Since(t))
			trips = append(trips, uint64(st.RoundTrips()-before))
			measuring("")
			if err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		slices.Sort(took)
		slices.Sort(trips)
		results = append(results, coldResult{kind: k.name, p50: took[len(took)/2], p99: took[min(len(took)-1, len(took)*99/100)],
			trips: trips[len(trips)/2]})
	}
	fmt.Fprintf(stdout, "\n%d stories: seeded in %s (%.0f stories/s, the importer's bulk writer); index built in %s, reopened in %s, %.0f MB on disk; caught up in the background in %s, then quiet after %s\n",
		n, seeded.Round(time.Millisecond), float64(n)/seeded.Seconds(), built.Round(time.Millisecond),
		reopened.Round(time.Millisecond), float64(size)/1e6, caughtUp.Round(time.Millisecond), settled.Round(time.Second))
	fmt.Fprintln(stdout, "| request | p50 ms | p99 ms | db round trips (median) |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintf(stdout, "| %s | %s | %s | %d |\n", r.kind, strconv.FormatFloat(ms(r.p50), 'f', 1, 64), strconv.FormatFloat(ms(r.p99), 'f', 1, 64), r.trips)
	}
	return nil
}

// parseSizes reads -cold-sizes: "1000,10000".
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 200 {
			return nil, fmt.Errorf("-cold-sizes: %q is not a number of stories of at least 200", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// dirSize is the bytes the files under dir take.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
