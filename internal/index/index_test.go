package index_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// onDisk opens an index in a temp dir over st, built from it.
func onDisk(t *testing.T, dir string, st *store.Store) *index.Index {
	t.Helper()
	ix, err := index.Open(context.Background(), dir, index.Options{Source: st, CatchUpEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Built() {
		if err := ix.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

// newsroom is a service over an on-disk index with a corpus made for
// ties: stories published at the same instant, in two sections, with
// overlapping tags and bylines, plus drafts, an archived story and a
// scheduled one.
type newsroom struct {
	svc     *testenv.Service
	st      *store.Store
	ix      *index.Index
	authors []*news.Author
	editor  string
}

func newNewsroom(t *testing.T, o testenv.ServiceOptions) *newsroom {
	t.Helper()
	if o.Store == nil {
		o.Store = testenv.Store(t, store.Options{})
	}
	ix := onDisk(t, t.TempDir(), o.Store)
	t.Cleanup(func() { _ = ix.Close() }) // cleanups run last first: after the service stops
	o.Index = ix
	svc := testenv.NewService(t, o)
	n := &newsroom{svc: svc, st: o.Store, ix: ix, editor: svc.NewKey(t, news.RoleEditor)}
	return n
}

func (n *newsroom) seed(t *testing.T) {
	t.Helper()
	svc := n.svc
	svc.AddSection(t, "politics", "Politics")
	svc.AddSection(t, "climate", "Climate")
	for _, tag := range []string{"housing", "floods", "transit"} {
		svc.AddTag(t, tag, strings.ToUpper(tag[:1])+tag[1:])
	}
	n.authors = []*news.Author{svc.AddAuthor(t, "ana-ruiz", "Ana Ruiz"), svc.AddAuthor(t, "ben-okafor", "Ben Okafor")}
	base := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Millisecond)
	var arts []*news.Article
	for i := range 30 {
		// Three stories share each publication instant.
		a := testenv.NewArticle(fmt.Sprintf("story-%02d", i), base.Add(time.Duration(i/3)*time.Hour))
		a.Section = []string{"politics", "climate"}[i%2]
		a.Tags = [][]string{{"housing"}, {"floods", "housing"}, {"transit"}, {}}[i%4]
		a.AuthorIDs = []string{n.authors[i%2].ID}
		if i%5 == 0 {
			a.AuthorIDs = append(a.AuthorIDs, n.authors[(i+1)%2].ID)
		}
		a.Headline = fmt.Sprintf("Council weighs %s plan %d", []string{"housing", "flood wall", "bus"}[i%3], i)
		a.Body = fmt.Sprintf("The council voted on the %s plan. Residents of ward %d spoke.", []string{"housing", "flood wall", "bus"}[i%3], i)
		a.UpdatedAt = base.Add(time.Duration(i%7) * time.Minute) // ties here too
		switch i {
		case 7, 8:
			a.StoredStatus, a.PublishedAt = news.StatusDraft, nil
		case 9:
			a.StoredStatus = news.StatusArchived
		case 10:
			later := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Millisecond)
			a.PublishedAt = &later
		}
		arts = append(arts, a)
	}
	svc.AddArticles(t, arts...)
}

const listDoc = `query($first: Int, $after: String, $filter: ArticleFilter, $order: ArticleOrder) {
	articles(first: $first, after: $after, filter: $filter, orderBy: $order) {
		edges { node { slug } } pageInfo { hasNextPage endCursor } } }`

// pageAll reads a list three at a time through HTTP.
func (n *newsroom) pageAll(t *testing.T, svc *testenv.Service, filter, order map[string]any, header ...string) []string {
	t.Helper()
	var out []string
	vars := map[string]any{"first": 3, "filter": filter, "order": order}
	for range 40 {
		var d struct {
			Articles struct {
				Edges    []struct{ Node struct{ Slug string } }
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		svc.Query(t, listDoc, vars, header...).Decode(t, &d)
		for _, e := range d.Articles.Edges {
			out = append(out, e.Node.Slug)
		}
		if !d.Articles.PageInfo.HasNextPage {
			return out
		}
		vars["after"] = *d.Articles.PageInfo.EndCursor
	}
	t.Fatal("too many pages")
	return nil
}

// fromMongo is the same list straight from MongoDB.
func fromMongo(t *testing.T, st *store.Store, q news.ArticleQuery) []string {
	t.Helper()
	q.Now, q.Limit = time.Now(), 1000
	rows, err := st.Articles(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, a := range rows {
		out[i] = a.Slug
	}
	return out
}

func TestEveryListEqualsMongoDB(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	n.seed(t)
	after := time.Now().Add(-40 * time.Hour).UTC().Truncate(time.Millisecond)
	before := time.Now().Add(-30 * time.Hour).UTC().Truncate(time.Millisecond)
	oldest := news.Order{Field: news.OrderPublishedAt}
	edited := news.Order{Field: news.OrderUpdatedAt, Desc: true}
	editedAsc := news.Order{Field: news.OrderUpdatedAt}
	cases := []struct {
		name          string
		filter, order map[string]any
		editor        bool
		q             news.ArticleQuery
	}{
		{"front page", nil, nil, false, news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst}},
		{"oldest first", nil, map[string]any{"field": "PUBLISHED_AT", "direction": "ASC"}, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: oldest}},
		{"by update", nil, map[string]any{"field": "UPDATED_AT", "direction": "DESC"}, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: edited}},
		{"section", map[string]any{"section": "climate"}, nil, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, Section: "climate"}},
		{"two tags", map[string]any{"tags": []string{"housing", "floods"}}, nil, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, Tags: []string{"housing", "floods"}}},
		{"author", map[string]any{"author": "ben-okafor"}, nil, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, AuthorID: n.authors[1].ID}},
		{"dates", map[string]any{"publishedAfter": after, "publishedBefore": before}, nil, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, PublishedAfter: &after, PublishedBefore: &before}},
		{"everything", map[string]any{"section": "politics", "tags": []string{"housing"}, "author": "ana-ruiz", "publishedAfter": after},
			map[string]any{"field": "UPDATED_AT", "direction": "ASC"}, false,
			news.ArticleQuery{Status: news.StatusPublished, Order: editedAsc, Section: "politics", Tags: []string{"housing"},
				AuthorID: n.authors[0].ID, PublishedAfter: &after}},
		{"drafts", map[string]any{"status": "DRAFT"}, nil, true, news.ArticleQuery{Status: news.StatusDraft, Order: edited}},
		{"archived", map[string]any{"status": "ARCHIVED"}, nil, true, news.ArticleQuery{Status: news.StatusArchived, Order: news.NewestFirst}},
		{"scheduled", map[string]any{"status": "SCHEDULED"}, nil, true, news.ArticleQuery{Status: news.StatusScheduled, Order: news.NewestFirst}},
		{"published, editor", map[string]any{"status": "PUBLISHED", "section": "politics"}, nil, true,
			news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, Section: "politics"}},
	}
	for _, c := range cases {
		var header []string
		if c.editor {
			header = []string{"Authorization", n.editor}
		}
		got := n.pageAll(t, n.svc, c.filter, c.order, header...)
		want := fromMongo(t, n.svc.Store, c.q)
		if len(want) == 0 {
			t.Errorf("%s: the corpus has no such stories; the case tests nothing", c.name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\nindex %v\nmongo %v", c.name, got, want)
		}
	}
	// Readers never get the editors' statuses.
	if res := n.svc.Query(t, listDoc, map[string]any{"filter": map[string]any{"status": "DRAFT"}}); res.Code() != "FORBIDDEN" {
		t.Errorf("a reader asked for drafts: %+v", res.Errors)
	}
}

const searchDoc = `query($q: String!, $first: Int, $after: String, $filter: ArticleFilter) {
	search(query: $q, first: $first, after: $after, filter: $filter) {
		edges { node { article { slug } snippet score } } pageInfo { hasNextPage endCursor } } }`

func searchSlugs(t *testing.T, svc *testenv.Service, q string, filter map[string]any) []string {
	t.Helper()
	var d struct {
		Search struct {
			Edges []struct {
				Node struct {
					Article struct{ Slug string }
					Snippet string
				}
			}
		}
	}
	svc.Query(t, searchDoc, map[string]any{"q": q, "first": 100, "filter": filter}).Decode(t, &d)
	out := []string{}
	for _, e := range d.Search.Edges {
		out = append(out, e.Node.Article.Slug)
	}
	slices.Sort(out)
	return out
}

func TestSearchFindsWhatMongoDBHolds(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	n.seed(t)
	// Every live story whose text says "flood wall" (as a phrase), in the
	// climate section, straight from MongoDB.
	all, err := n.svc.Store.Articles(context.Background(), news.ArticleQuery{Status: news.StatusPublished,
		Now: time.Now(), Order: news.NewestFirst, Section: "climate", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, a := range all {
		if strings.Contains(a.Body, "flood wall") {
			want = append(want, a.Slug)
		}
	}
	slices.Sort(want)
	if got := searchSlugs(t, n.svc, `"flood walls" councils`, map[string]any{"section": "climate"}); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("search %v\nmongo %v", got, want)
	}
	// Paging is stable: three at a time equals all at once.
	var paged []string
	vars := map[string]any{"q": "council plan", "first": 3}
	for range 30 {
		var d struct {
			Search struct {
				Edges []struct {
					Node struct {
						Article struct{ Slug string }
						Snippet string
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		n.svc.Query(t, searchDoc, vars).Decode(t, &d)
		for _, e := range d.Search.Edges {
			paged = append(paged, e.Node.Article.Slug)
			if !strings.Contains(e.Node.Snippet, "<mark>") {
				t.Errorf("snippet without marks: %q", e.Node.Snippet)
			}
		}
		if !d.Search.PageInfo.HasNextPage {
			break
		}
		vars["after"] = *d.Search.PageInfo.EndCursor
	}
	live := fromMongo(t, n.svc.Store, news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst})
	slices.Sort(paged)
	slices.Sort(live)
	if !slices.Equal(paged, live) {
		t.Errorf("paged search for words every live story holds:\n%v\nlive:\n%v", paged, live)
	}
}

// Two instances, one database, one Redis, each with its own index on disk:
// a write through A is in B's lists and search when the mutation returns,
// and an unpublished or deleted story is gone from both.
func TestWritesReachEveryInstanceBeforeTheyReturn(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := newNewsroom(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	a.seed(t)
	b := newNewsroom(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.svc.Store})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("writing instance's log:\n%s\nother instance's log:\n%s", a.svc.Logs(), b.svc.Logs())
		}
	})
	// B's lists are warm (cached whole and in its tiers) before the write.
	for _, svc := range []*testenv.Service{a.svc, b.svc} {
		svc.Query(t, listDoc, map[string]any{"first": 5})
		searchSlugs(t, svc, "lighthouse", nil)
	}
	var created struct{ CreateArticle struct{ ID string } }
	a.svc.Query(t, `mutation { createArticle(input: {headline: "Lighthouse keeper retires after forty years", section: "climate",
		body: "The lighthouse keeper retired on Friday."}) { id } }`, nil, "Authorization", a.editor).Decode(t, &created)
	id := created.CreateArticle.ID
	mutate := func(op string) {
		t.Helper()
		sel := " { id }"
		if op == "deleteArticle" {
			sel = ""
		}
		res := a.svc.Query(t, fmt.Sprintf(`mutation($id: ID!) { %s(id: $id)%s }`, op, sel), map[string]any{"id": id}, "Authorization", a.editor)
		if len(res.Errors) > 0 {
			t.Fatalf("%s: %+v", op, res.Errors)
		}
	}
	front := func(svc *testenv.Service) []string {
		var d struct {
			Articles struct {
				Edges []struct{ Node struct{ Slug string } }
			}
		}
		svc.Query(t, listDoc, map[string]any{"first": 5}).Decode(t, &d)
		var out []string
		for _, e := range d.Articles.Edges {
			out = append(out, e.Node.Slug)
		}
		return out
	}
	const slug = "lighthouse-keeper-retires-after-forty-years"
	mutate("publishArticle")
	for name, svc := range map[string]*testenv.Service{"writing": a.svc, "other": b.svc} {
		if got := front(svc); len(got) == 0 || got[0] != slug {
			t.Errorf("published: the %s instance's front page is %v", name, got)
		}
		if got := searchSlugs(t, svc, "lighthouse keepers", nil); !slices.Equal(got, []string{slug}) {
			t.Errorf("published: the %s instance's search finds %v", name, got)
		}
		if got := n2slugs(t, svc, "climate"); !slices.Contains(got, slug) {
			t.Errorf("published: the %s instance's climate feed lacks it: %v", name, got)
		}
	}
	for _, op := range []string{"unpublishArticle", "deleteArticle"} {
		mutate(op)
		for name, svc := range map[string]*testenv.Service{"writing": a.svc, "other": b.svc} {
			if got := front(svc); slices.Contains(got, slug) {
				t.Errorf("%s: the %s instance's front page still has it: %v", op, name, got)
			}
			if got := searchSlugs(t, svc, "lighthouse keepers", nil); len(got) != 0 {
				t.Errorf("%s: the %s instance's search still finds %v", op, name, got)
			}
			if got := n2slugs(t, svc, "climate"); slices.Contains(got, slug) {
				t.Errorf("%s: the %s instance's feed still has it", op, name)
			}
		}
	}
}

// n2slugs reads a section's JSON Feed.
func n2slugs(t *testing.T, svc *testenv.Service, section string) []string {
	t.Helper()
	_, body := testenv.Get(t, svc.URL+"/feeds/feed.json?section="+section)
	var feed struct{ Items []struct{ URL string } }
	if err := json.Unmarshal(body, &feed); err != nil {
		t.Fatalf("feed: %v: %s", err, body)
	}
	var out []string
	for _, it := range feed.Items {
		out = append(out, it.URL[strings.LastIndex(it.URL, "/")+1:])
	}
	return out
}

// An index on disk that was closed while stories were written, edited and
// deleted behind its back catches up when opened again, and then equals an
// index rebuilt from scratch.
func TestRestartCatchesUpAndEqualsARebuild(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	n.seed(t)
	st := n.svc.Store
	ctx := context.Background()
	dir := t.TempDir()
	ix := onDisk(t, dir, st)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	// While it is down: a new story, an edited one, a deleted one.
	fresh := testenv.NewArticle("written-while-down", time.Now().Add(-time.Minute))
	fresh.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := st.InsertArticles(ctx, []*news.Article{fresh}); err != nil {
		t.Fatal(err)
	}
	all := fromMongo(t, st, news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst})
	edited, err := st.ArticleBySlug(ctx, all[3])
	if err != nil {
		t.Fatal(err)
	}
	edited.StoredStatus = news.StatusArchived
	edited.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := st.ReplaceArticle(ctx, edited); err != nil {
		t.Fatal(err)
	}
	gone, err := st.ArticleBySlug(ctx, all[5])
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteArticle(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	reopened := onDisk(t, dir, st)
	defer reopened.Close()
	if err := reopened.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	rebuilt := onDisk(t, "", st)
	defer rebuilt.Close()
	queries := []news.ArticleQuery{
		{Status: news.StatusPublished, Order: news.NewestFirst},
		{Status: news.StatusArchived, Order: news.NewestFirst},
		{Status: news.StatusDraft, Order: news.Order{Field: news.OrderUpdatedAt, Desc: true}},
		{Status: news.StatusPublished, Order: news.NewestFirst, Section: "climate", Tags: []string{"housing"}},
	}
	for _, q := range queries {
		q.Now, q.Limit = time.Now(), 1000
		want := fromMongo(t, st, q)
		for name, x := range map[string]*index.Index{"caught up": reopened, "rebuilt": rebuilt} {
			ids, err := x.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, id := range ids {
				a, err := st.ArticleByID(ctx, id)
				if err != nil {
					t.Fatalf("%s: %s is not in MongoDB: %v", name, id, err)
				}
				got = append(got, a.Slug)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s %s:\nindex %v\nmongo %v", name, q.Status, got, want)
			}
		}
	}
	if c1, _ := reopened.Count(); c1 != func() uint64 { c, _ := rebuilt.Count(); return c }() {
		t.Errorf("caught up holds %d stories, rebuilt %d", c1, func() uint64 { c, _ := rebuilt.Count(); return c }())
	}
}

// An index that was never built says so to /readyz until it is.
func TestReadinessSaysIndexingUntilBuilt(t *testing.T) {
	st := testenv.Store(t, store.Options{})
	ix, err := index.Open(context.Background(), t.TempDir(), index.Options{Source: st, CatchUpEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Ping(context.Background()); err == nil || err.Error() != "indexing" {
		t.Fatalf("unbuilt index: ping %v", err)
	}
	if err := ix.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ix.Ping(context.Background()); err != nil {
		t.Errorf("built index: ping %v", err)
	}
}

// writesDuringScan is the real store, except that after the catch-up's
// scan has read its copy of a story, and before the index applies it, the
// desk writes a newer version: the scan's copy is older.
type writesDuringScan struct {
	*store.Store
	during func()
}

func (w *writesDuringScan) ScanArticles(ctx context.Context, since *time.Time, fn func([]*news.Article) error) error {
	return w.Store.ScanArticles(ctx, since, func(batch []*news.Article) error {
		if w.during != nil {
			w.during()
		}
		return fn(batch)
	})
}

// A catch-up that read a story before the desk unpublished it does not put
// it back: the index keeps the desk's newer write.
func TestCatchUpDoesNotUndoAWriteMadeMeanwhile(t *testing.T) {
	st := testenv.Store(t, store.Options{})
	ctx := context.Background()
	story := testenv.NewArticle("flood-warning-lifted", time.Now().Add(-time.Hour))
	story.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if err := st.InsertArticles(ctx, []*news.Article{story}); err != nil {
		t.Fatal(err)
	}
	src := &writesDuringScan{Store: st}
	ix, err := index.Open(ctx, "", index.Options{Source: src, CatchUpEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.IndexArticles(ctx, []*news.Article{story}); err != nil {
		t.Fatal(err)
	}
	src.during = func() {
		unpublished := *story
		unpublished.StoredStatus, unpublished.PublishedAt = news.StatusDraft, nil
		unpublished.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
		if err := st.ReplaceArticle(ctx, &unpublished); err != nil {
			t.Error(err)
		}
		ix.ArticleChanged(ctx, story, &unpublished)
	}
	if err := ix.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := ix.List(ctx, news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, Now: time.Now(), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Fatalf("the catch-up put the unpublished story back on the published list: %v", ids)
	}
}

// An index on disk made with an older mapping (the first release scored
// with TF-IDF) is started over and rebuilt, not trusted: bleve keeps the
// mapping an index was created with.
func TestAnIndexWithAnOlderMappingIsRebuilt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	old, err := bleve.New(dir, bleve.NewIndexMapping())
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Index("left-over", map[string]any{"slug": "left-over"}); err != nil {
		t.Fatal(err)
	}
	if err := old.SetInternal([]byte("newsgraph:built"), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	st := testenv.Store(t, store.Options{})
	ix, err := index.Open(context.Background(), dir, index.Options{Source: st, CatchUpEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Built() {
		t.Error("an index with an older mapping counts as built")
	}
	if n, _ := ix.Count(); n != 0 {
		t.Errorf("started over with %d stories of the old index", n)
	}
	if err := ix.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	again, err := index.Open(context.Background(), dir, index.Options{Source: st, CatchUpEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !again.Built() {
		t.Error("the rebuilt index was started over again at the next start")
	}
}

// hydrationLog is the store lists hydrate through, noting when they do.
type hydrationLog struct {
	news.Store
	events *[]string
}

func (h hydrationLog) ArticlesByIDs(ctx context.Context, ids []string) (map[string]*news.Article, error) {
	*h.events = append(*h.events, "stories read")
	return h.Store.ArticlesByIDs(ctx, ids)
}

// A list asked for its outlines names each story's bylines, section and
// tags, as stored, before it reads the stories: the GraphQL layer queues
// those reads beside the stories' own.
func TestListsPassOnOutlinesBeforeReadingTheStories(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	n.seed(t)
	var events []string
	reads := n.ix.Reads(n.st)
	reads.HydrateThrough(hydrationLog{Store: n.st, events: &events})
	var outlines []*news.Article
	ctx := news.WithOutlines(context.Background(), func(o []*news.Article) {
		events = append(events, "outlines")
		outlines = o
	})
	q := news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, Now: time.Now(), Limit: 12}
	got, err := reads.Articles(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"outlines", "stories read"}; !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	if len(got) != 12 || len(outlines) != len(got) {
		t.Fatalf("%d stories, %d outlines; want 12 of each", len(got), len(outlines))
	}
	for i, a := range got {
		o := outlines[i]
		if o.ID != a.ID {
			t.Errorf("outline %d is of %s, story %d is %s", i, o.ID, i, a.ID)
			continue
		}
		if o.Section != a.Section || !slices.Equal(sorted(o.Tags), sorted(a.Tags)) || !slices.Equal(sorted(o.AuthorIDs), sorted(a.AuthorIDs)) {
			t.Errorf("%s: outline section %q tags %v bylines %v; stored %q %v %v", a.Slug, o.Section, o.Tags, o.AuthorIDs, a.Section, a.Tags, a.AuthorIDs)
		}
	}

	// Not asked, a list passes nothing on.
	events = nil
	if _, err := reads.Articles(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(events, []string{"stories read"}) {
		t.Errorf("events %v without WithOutlines", events)
	}
}

// A first page of results is the start of the whole ranking, whatever its
// size: the seed's stories tie on score in runs (same words, same
// lengths), and a page that ends inside a run must still hold the run's
// lowest IDs, best first and ties by ID, as the pages after it assume.
func TestEveryFirstPageOfSearchIsTheRankingsStart(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	n.seed(t)
	reads := n.ix.Reads(n.st)
	var terms []string
	for _, tok := range reads.Analyze("council plan") {
		terms = append(terms, tok.Term)
	}
	q := news.SearchQuery{Terms: terms, Limit: 1000, List: news.ArticleQuery{Status: news.StatusPublished, Now: time.Now()}}
	all, err := reads.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	ties := 0
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Score < b.Score || a.Score == b.Score && a.ID > b.ID {
			t.Fatalf("ranking out of order at %d: %v then %v", i, a, b)
		}
		if a.Score == b.Score {
			ties++
		}
	}
	if len(all) < 20 || ties < 5 {
		t.Fatalf("%d results, %d ties: the test needs more of both", len(all), ties)
	}
	for k := 1; k <= len(all); k++ {
		q.Limit = k
		page, err := reads.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(page, all[:k]) {
			t.Fatalf("first page of %d:\n%v\nthe ranking's first %d:\n%v", k, page, k, all[:k])
		}
	}
}

// A search asked for its outlines names its hits' bylines, section and
// tags, in rank order, as a list does: internal/search reads the stories
// after it returns, and the GraphQL layer queues their bylines and terms
// meanwhile.
func TestSearchPassesOnItsHitsOutlines(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	n.seed(t)
	reads := n.ix.Reads(n.st)
	var outlines []*news.Article
	ctx := news.WithOutlines(context.Background(), func(o []*news.Article) { outlines = o })
	var terms []string
	for _, tok := range reads.Analyze("housing") {
		terms = append(terms, tok.Term)
	}
	q := news.SearchQuery{Terms: terms, Limit: 5, List: news.ArticleQuery{Status: news.StatusPublished, Now: time.Now()}}
	hits, err := reads.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 || len(outlines) != 5 {
		t.Fatalf("%d hits, %d outlines; want 5 of each", len(hits), len(outlines))
	}
	for i, h := range hits {
		o := outlines[i]
		a, err := n.st.ArticleByID(context.Background(), h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != h.ID || o.Section != a.Section || !slices.Equal(sorted(o.Tags), sorted(a.Tags)) ||
			!slices.Equal(sorted(o.AuthorIDs), sorted(a.AuthorIDs)) {
			t.Errorf("hit %d (%s): outline of %s, section %q tags %v bylines %v; stored %q %v %v",
				i, h.ID, o.ID, o.Section, o.Tags, o.AuthorIDs, a.Section, a.Tags, a.AuthorIDs)
		}
	}
	outlines = nil
	if _, err := reads.Search(context.Background(), q); err != nil || outlines != nil {
		t.Errorf("not asked, a search passed on %d outlines (%v)", len(outlines), err)
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
