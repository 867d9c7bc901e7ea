package search_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const searchDoc = `query($q: String!, $first: Int, $after: String, $filter: ArticleFilter) {
	search(query: $q, first: $first, after: $after, filter: $filter) {
		edges { cursor node { article { id slug headline status section { slug } } snippet score } }
		pageInfo { hasNextPage endCursor } } }`

type hit struct {
	Cursor string
	Node   struct {
		Article struct {
			ID, Slug, Headline, Status string
			Section                    struct{ Slug string }
		}
		Snippet string
		Score   float64
	}
}

type page struct {
	Search struct {
		Edges    []hit
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

func search(t *testing.T, svc *testenv.Service, vars map[string]any, header ...string) page {
	t.Helper()
	var p page
	svc.Query(t, searchDoc, vars, header...).Decode(t, &p)
	return p
}

func slugs(p page) []string {
	out := make([]string, len(p.Search.Edges))
	for i, e := range p.Search.Edges {
		out[i] = e.Node.Article.Slug
	}
	return out
}

func TestReadersFindTheStoryTheyMean(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	first := func(q string, filter map[string]any) page {
		t.Helper()
		vars := map[string]any{"q": q, "first": 10}
		if filter != nil {
			vars["filter"] = filter
		}
		return search(t, svc, vars)
	}

	// Two stories are about the flood wall; both lead.
	p := first("flood wall", nil)
	if len(p.Search.Edges) < 2 || !strings.Contains(p.Search.Edges[0].Node.Article.Headline, "flood wall") ||
		!strings.Contains(p.Search.Edges[1].Node.Article.Headline, "flood wall") {
		t.Errorf("flood wall: %v", slugs(p))
	}
	if s := p.Search.Edges[0].Node.Snippet; !strings.Contains(s, "<mark>") {
		t.Errorf("snippet without marks: %q", s)
	}
	p = first("late-night bus pilot", nil)
	if len(p.Search.Edges) == 0 || p.Search.Edges[0].Node.Article.Slug != "city-council-approves-late-night-bus-pilot-after-months-of-debate" {
		t.Errorf("late-night bus pilot: %v", slugs(p))
	}
	p = first("late-night bus", nil)
	if !contains(slugs(p), "city-council-approves-late-night-bus-pilot-after-months-of-debate") {
		t.Errorf("late-night bus: %v", slugs(p))
	}
	// Stemming: the story says "council voted".
	p = first("councils votes", nil)
	if !contains(slugs(p), "city-council-approves-late-night-bus-pilot-after-months-of-debate") {
		t.Errorf("councils votes: %v", slugs(p))
	}
	// A phrase must stand as written: "wall flood" is nowhere.
	if p := first(`"flood wall"`, nil); len(p.Search.Edges) < 2 {
		t.Errorf(`"flood wall": %v`, slugs(p))
	}
	if p, loose := first(`"wall flood"`, nil), first("wall flood", nil); len(p.Search.Edges) != 0 || len(loose.Search.Edges) < 2 {
		t.Errorf(`"wall flood": %v; wall flood: %v`, slugs(p), slugs(loose))
	}
	// A filter narrows as it does on articles.
	p = first("flood", map[string]any{"section": "climate"})
	if len(p.Search.Edges) == 0 {
		t.Error("flood in climate: nothing")
	}
	for _, e := range p.Search.Edges {
		if e.Node.Article.Section.Slug != "climate" {
			t.Errorf("flood in climate: %s is in %s", e.Node.Article.Slug, e.Node.Article.Section.Slug)
		}
	}
	// Drafts and scheduled stories are never found, even by editors.
	editor := svc.NewKey(t, news.RoleEditor)
	for _, q := range []string{"Lumenfold paused payments unit", "container volumes record quarter", "artistic director step down"} {
		for _, who := range [][]string{nil, {"Authorization", editor}} {
			if p := search(t, svc, map[string]any{"q": q}, who...); len(p.Search.Edges) != 0 {
				t.Errorf("%q found unpublished %v", q, slugs(p))
			}
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestSearchPagesWithoutSkipOrRepeat(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	all := search(t, svc, map[string]any{"q": "Riverside", "first": 100})
	if len(all.Search.Edges) < 10 || all.Search.PageInfo.HasNextPage {
		t.Fatalf("riverside: %d results, more %v", len(all.Search.Edges), all.Search.PageInfo.HasNextPage)
	}
	for i := 1; i < len(all.Search.Edges); i++ {
		if all.Search.Edges[i].Node.Score > all.Search.Edges[i-1].Node.Score {
			t.Fatalf("not best first at %d", i)
		}
	}
	var paged []string
	vars := map[string]any{"q": "Riverside", "first": 3}
	for range 50 {
		p := search(t, svc, vars)
		paged = append(paged, slugs(p)...)
		if !p.Search.PageInfo.HasNextPage {
			break
		}
		vars["after"] = *p.Search.PageInfo.EndCursor
	}
	if strings.Join(paged, " ") != strings.Join(slugs(all), " ") {
		t.Errorf("paged:\n%v\nat once:\n%v", paged, slugs(all))
	}
}

func TestBadQueriesAreRefused(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	for _, vars := range []map[string]any{
		{"q": ""}, {"q": "   "}, {"q": "the and of"}, {"q": strings.Repeat("flood ", 50)},
		{"q": "flood", "first": 101}, {"q": "flood", "after": "nonsense"},
		{"q": "flood", "filter": map[string]any{"section": "no-such-section"}},
	} {
		res := svc.Query(t, searchDoc, vars)
		if res.Code() != "BAD_USER_INPUT" {
			t.Errorf("%v: %+v", vars, res.Errors)
		}
	}
}

// Stories written to MongoDB by another program before the service
// starts are found: the index is built from the database at start.
func TestStartIndexesArticlesStoredBehindItsBack(t *testing.T) {
	ctx := context.Background()
	uri, db := testenv.MongoURI(t), testenv.DatabaseName(t)
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	old := &news.Article{ID: "old1", Slug: "old-story", Headline: "Lighthouse keeper retires", Body: "The keeper of the lighthouse retired.",
		AuthorIDs: []string{}, Tags: []string{}, StoredStatus: news.StatusPublished, PublishedAt: &at, CreatedAt: at, UpdatedAt: at, Version: 1}
	if _, err := client.Database(db).Collection("articles").InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(uri, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Drop(ctx); _ = st.Close(ctx) })
	for range 2 {
		if err := st.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	svc := testenv.NewService(t, testenv.ServiceOptions{Store: st})
	if p := search(t, svc, map[string]any{"q": "lighthouse keepers"}); len(p.Search.Edges) != 1 {
		t.Errorf("backfilled story not found: %v", slugs(p))
	}
}

// A story found stops being found when it is unpublished: search answers
// depend on every list.
func TestUnpublishedStoryLeavesSearch(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	editor := svc.NewKey(t, news.RoleEditor)
	q := map[string]any{"q": "otters wetlands"}
	p := search(t, svc, q)
	if len(p.Search.Edges) != 1 {
		t.Fatalf("otters: %v", slugs(p))
	}
	var out struct{ UnpublishArticle struct{ Status string } }
	svc.Query(t, `mutation($id: ID!) { unpublishArticle(id: $id) { status } }`,
		map[string]any{"id": p.Search.Edges[0].Node.Article.ID}, "Authorization", editor).Decode(t, &out)
	if p := search(t, svc, q); len(p.Search.Edges) != 0 {
		t.Errorf("an archived story is still found: %v", slugs(p))
	}
}

// What a query costs the database: nothing but the _id finds of the
// stories found that the cache does not hold yet. The index answers which
// stories, in which order; no statistics are read from MongoDB.
func TestSearchRoundTrips(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	editor := svc.NewKey(t, news.RoleEditor)                     // editors' responses are not cached whole
	svc.Query(t, `{ __typename }`, nil, "Authorization", editor) // the key's lookup, cached from now on
	cost := func(vars map[string]any) (int64, int) {
		t.Helper()
		before := svc.Store.RoundTrips()
		var p page
		svc.Query(t, `query($q: String!) { search(query: $q) { edges { node { article { headline } score } } } }`,
			vars, "Authorization", editor).Decode(t, &p)
		if len(p.Search.Edges) == 0 {
			t.Errorf("%v: nothing found", vars)
		}
		return svc.Store.RoundTrips() - before, len(p.Search.Edges)
	}
	if n, found := cost(map[string]any{"q": "flood wall"}); n > int64(found)+1 {
		t.Errorf("first query: %d round trips for %d stories, want at most one _id find each (and the bylines)", n, found)
	}
	if n, _ := cost(map[string]any{"q": "Flood Wall"}); n != 0 {
		t.Errorf("same stories again: %d round trips, want 0 (the index and the cache answer)", n)
	}
}

// A page of results names each story's bylines and tags. They are read
// beside the stories, as a list's are, and not for the extra story a page
// looks at only to know whether another page follows.
func TestSearchResultsCarryTheirBylines(t *testing.T) {
	var mu sync.Mutex
	var authorFinds []string
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" && e.Command.Lookup("find").StringValue() == "authors" {
			mu.Lock()
			authorFinds = append(authorFinds, e.Command.Lookup("filter").String())
			mu.Unlock()
		}
	}}
	svc := testenv.NewService(t, testenv.ServiceOptions{Store: testenv.Store(t, store.Options{Monitor: mon})})
	svc.AddSection(t, "news", "News")
	svc.AddTag(t, "ferries", "Ferries")
	byline := map[string]string{}
	var stories []*news.Article
	for i, name := range []string{"Ana Ruiz", "Ben Okafor", "Chloe Park"} {
		au := svc.AddAuthor(t, strings.ToLower(strings.ReplaceAll(name, " ", "-")), name)
		a := testenv.NewArticle(fmt.Sprintf("ferry-%d", i), time.Now().Add(-time.Duration(i+1)*time.Hour))
		a.Section, a.Tags, a.AuthorIDs = "news", []string{"ferries"}, []string{au.ID}
		a.Headline = strings.Repeat("Ferry ", 3-i) + "timetable changes"
		stories = append(stories, a)
		byline[a.Slug] = name
	}
	svc.AddArticles(t, stories...)
	mu.Lock()
	authorFinds = nil
	mu.Unlock()

	var p struct {
		Search struct {
			Edges []struct {
				Node struct {
					Article struct {
						Slug    string
						Authors []struct{ Name string }
						Tags    []struct{ Slug string }
					}
				}
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	svc.Query(t, `{ search(query: "ferry", first: 2) { edges { node { article { slug authors { name } tags { slug } } } }
		pageInfo { hasNextPage } } }`, nil).Decode(t, &p)
	if len(p.Search.Edges) != 2 || !p.Search.PageInfo.HasNextPage {
		t.Fatalf("got %d results (more: %v), want 2 and more", len(p.Search.Edges), p.Search.PageInfo.HasNextPage)
	}
	shown := map[string]bool{}
	for _, e := range p.Search.Edges {
		a := e.Node.Article
		shown[a.Slug] = true
		if len(a.Authors) != 1 || a.Authors[0].Name != byline[a.Slug] || len(a.Tags) != 1 || a.Tags[0].Slug != "ferries" {
			t.Errorf("%s: bylines %v, tags %v; want %s and ferries", a.Slug, a.Authors, a.Tags, byline[a.Slug])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range stories {
		if shown[a.Slug] {
			continue
		}
		for _, f := range authorFinds {
			if strings.Contains(f, a.AuthorIDs[0]) {
				t.Errorf("the byline of %s, which the page does not show, was read: %s", a.Slug, f)
			}
		}
	}
}
