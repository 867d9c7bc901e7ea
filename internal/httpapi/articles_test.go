package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

type articleJSON struct {
	ID                 string `json:"id"`
	Slug               string `json:"slug"`
	Headline           string `json:"headline"`
	Status             string `json:"status"`
	PublishedAt        string `json:"publishedAt"`
	CanonicalURL       string `json:"canonicalUrl"`
	Body               string `json:"body"`
	Text               string `json:"text"`
	Markdown           string `json:"markdown"`
	WordCount          int    `json:"wordCount"`
	ReadingTimeMinutes int    `json:"readingTimeMinutes"`
	Authors            []struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	} `json:"authors"`
	Section *struct {
		Slug string `json:"slug"`
	} `json:"section"`
	Tags []struct {
		Slug string `json:"slug"`
	} `json:"tags"`
	FeaturedImage *struct {
		URL    string `json:"url"`
		Small  string `json:"small"`
		Alt    string `json:"alt"`
		Credit string `json:"credit"`
	} `json:"featuredImage"`
	Source *struct {
		Name string `json:"name"`
	} `json:"source"`
}

type pageJSON struct {
	Edges []struct {
		Cursor string      `json:"cursor"`
		Node   articleJSON `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
}

const listQuery = `query($first: Int, $after: String, $filter: ArticleFilter, $orderBy: ArticleOrder) {
  articles(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id slug status publishedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

func listPage(t *testing.T, svc *testenv.Service, vars map[string]any) pageJSON {
	t.Helper()
	var data struct{ Articles pageJSON }
	svc.Query(t, listQuery, vars).Decode(t, &data)
	return data.Articles
}

// pageAll follows endCursor to the end and returns the slugs in order.
func pageAll(t *testing.T, svc *testenv.Service, first int, extra map[string]any) []string {
	t.Helper()
	var slugs []string
	var after any
	for i := 0; i < 1000; i++ {
		vars := map[string]any{"first": first, "after": after}
		for k, v := range extra {
			vars[k] = v
		}
		p := listPage(t, svc, vars)
		for _, e := range p.Edges {
			slugs = append(slugs, e.Node.Slug)
		}
		if !p.PageInfo.HasNextPage {
			return slugs
		}
		after = *p.PageInfo.EndCursor
	}
	t.Fatal("paging did not end")
	return nil
}

func TestDemoCorpusIsServedToReaders(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	slugs := pageAll(t, svc, 100, nil)
	if len(slugs) < 40 {
		t.Fatalf("readers see %d demo articles, want at least 40", len(slugs))
	}
	var data struct {
		Sections []struct {
			Slug     string
			Articles pageJSON
		}
		Authors struct {
			Edges []struct {
				Node struct {
					Name, Bio, Location string
					SocialLinks         []struct{ Network, URL string }
				}
			}
		}
	}
	svc.Query(t, `{ sections { slug articles(first: 5) { edges { node { slug } } } }
	  authors(first: 50) { edges { node { name bio location socialLinks { network url } } } } }`, nil).Decode(t, &data)
	if len(data.Sections) < 5 {
		t.Fatalf("%d sections, want at least 5", len(data.Sections))
	}
	for _, s := range data.Sections {
		if len(s.Articles.Edges) == 0 {
			t.Errorf("section %s has no articles", s.Slug)
		}
	}
	if len(data.Authors.Edges) < 6 {
		t.Fatalf("%d authors, want at least 6", len(data.Authors.Edges))
	}
	for _, e := range data.Authors.Edges {
		if e.Node.Bio == "" || e.Node.Location == "" || len(e.Node.SocialLinks) == 0 {
			t.Errorf("author %s lacks bio, location or links", e.Node.Name)
		}
	}
}

const articleFields = `id slug headline status publishedAt canonicalUrl
  body text: body(format: TEXT) markdown: body(format: MARKDOWN) wordCount readingTimeMinutes
  authors { slug name } section { slug } tags { slug }
  featuredImage { url small: url(width: 320) alt credit } source { name }`

func TestArticleBySlugIDAndNode(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "politics", "Politics")
	svc.AddTag(t, "transit", "Transit")
	svc.AddTag(t, "city-council", "City council")
	author := svc.AddAuthor(t, "dana-ortiz", "Dana Ortiz")
	a := testenv.NewArticle("bus-pilot-approved", time.Now().Add(-time.Hour))
	a.AuthorIDs = []string{author.ID}
	a.Section = "politics"
	a.Tags = []string{"city-council", "transit"}
	a.Body = "# Vote\n\nThe council voted **7-2** for the pilot.\n\n<script>alert(1)</script>"
	a.FeaturedImage = &news.Image{URL: "https://img.example.test/bus.jpg", Alt: "A bus", Credit: "RTA", Width: 1600}
	a.Source = &news.Source{Name: "Riverside Ledger"}
	svc.AddArticles(t, a)

	var bySlug struct{ Article articleJSON }
	svc.Query(t, `query($s: String) { article(slug: $s) { `+articleFields+` } }`, map[string]any{"s": a.Slug}).Decode(t, &bySlug)
	got := bySlug.Article
	if got.Headline != a.Headline || got.Status != "PUBLISHED" || got.Section.Slug != "politics" ||
		len(got.Tags) != 2 || got.Tags[0].Slug != "city-council" || len(got.Authors) != 1 || got.Authors[0].Name != "Dana Ortiz" ||
		got.Source.Name != "Riverside Ledger" {
		t.Fatalf("unexpected article: %+v", got)
	}
	if got.CanonicalURL != "https://news.example.test/politics/bus-pilot-approved" {
		t.Errorf("canonicalUrl = %s", got.CanonicalURL)
	}
	if !strings.Contains(got.Body, "<h2>Vote</h2>") || !strings.Contains(got.Body, "<strong>7-2</strong>") || strings.Contains(got.Body, "<script") {
		t.Errorf("HTML body = %q", got.Body)
	}
	if strings.ContainsAny(got.Text, "<*#") || !strings.Contains(got.Text, "The council voted 7-2 for the pilot.") {
		t.Errorf("TEXT body = %q", got.Text)
	}
	if got.Markdown != a.Body {
		t.Errorf("MARKDOWN body = %q", got.Markdown)
	}
	if got.WordCount < 7 || got.ReadingTimeMinutes != 1 {
		t.Errorf("wordCount %d readingTime %d", got.WordCount, got.ReadingTimeMinutes)
	}
	if got.FeaturedImage.URL != a.FeaturedImage.URL || got.FeaturedImage.Small != "https://img.example.test/bus.jpg?w=320" {
		t.Errorf("image = %+v", got.FeaturedImage)
	}

	var byID struct{ Article, Node articleJSON }
	svc.Query(t, `query($id: ID!) { article(id: $id) { slug } node(id: $id) { ... on Article { slug } } }`,
		map[string]any{"id": got.ID}).Decode(t, &byID)
	if byID.Article.Slug != a.Slug || byID.Node.Slug != a.Slug {
		t.Fatalf("by id: %+v", byID)
	}

	var nodes struct {
		Author  struct{ ID string }
		Section struct{ ID string }
		Tag     struct{ ID string }
	}
	svc.Query(t, `{ author(slug: "dana-ortiz") { id } section(slug: "politics") { id } tag(slug: "transit") { id } }`, nil).Decode(t, &nodes)
	for _, id := range []string{nodes.Author.ID, nodes.Section.ID, nodes.Tag.ID} {
		var n struct{ Node map[string]any }
		svc.Query(t, `query($id: ID!) { node(id: $id) { id __typename } }`, map[string]any{"id": id}).Decode(t, &n)
		if n.Node["id"] != id {
			t.Errorf("node(%s) = %v", id, n.Node)
		}
	}
}

func TestUnknownSlugsAreNullNotErrors(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	res := svc.Query(t, `{ article(slug: "no-such-story") { id } author(slug: "nobody") { id }
	  section(slug: "nowhere") { id } tag(slug: "nothing") { id } odd: article(slug: "Not A Slug!") { id } }`, nil)
	var data map[string]any
	res.Decode(t, &data)
	for k, v := range data {
		if v != nil {
			t.Errorf("%s = %v, want null", k, v)
		}
	}
}

func TestReadersNeverSeeDraftsOrScheduledStories(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	now := time.Now()
	live := testenv.NewArticle("live-story", now.Add(-time.Hour))
	draft := testenv.NewArticle("draft-story", now.Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt = news.StatusDraft, nil
	scheduled := testenv.NewArticle("embargoed-story", now.Add(72*time.Hour))
	archived := testenv.NewArticle("archived-story", now.Add(-2*time.Hour))
	archived.StoredStatus = news.StatusArchived
	svc.AddArticles(t, live, draft, scheduled, archived)

	if got := pageAll(t, svc, 10, nil); len(got) != 1 || got[0] != "live-story" {
		t.Fatalf("reader list = %v, want only live-story", got)
	}
	for _, a := range []*news.Article{draft, scheduled, archived} {
		id := news.GlobalID(news.NodeArticle, a.ID)
		var data struct{ BySlug, ByID, Node any }
		svc.Query(t, `query($s: String, $id: ID!) { bySlug: article(slug: $s) { id } byID: article(id: $id) { id } node(id: $id) { id } }`,
			map[string]any{"s": a.Slug, "id": id}).Decode(t, &data)
		if data.BySlug != nil || data.ByID != nil || data.Node != nil {
			t.Errorf("%s is visible to a reader: %+v", a.Slug, data)
		}
	}
	// A reader may not ask for drafts.
	res := svc.Query(t, listQuery, map[string]any{"filter": map[string]any{"status": "DRAFT"}})
	if res.Code() != "FORBIDDEN" {
		t.Fatalf("status filter by a reader: %+v", res.Errors)
	}
}

func TestPagingThroughTiesNeitherSkipsNorRepeats(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	tie := time.Now().Add(-24 * time.Hour)
	var want []*news.Article
	for i := 0; i < 45; i++ {
		at := tie
		if i%3 == 0 { // a third of them spread out, the rest share one instant
			at = tie.Add(time.Duration(i) * time.Minute)
		}
		want = append(want, testenv.NewArticle(fmt.Sprintf("story-%02d", i), at))
	}
	svc.AddArticles(t, want...)

	for _, size := range []int{1, 7, 20, 44, 45, 100} {
		got := pageAll(t, svc, size, nil)
		assertSameSet(t, fmt.Sprintf("first=%d", size), got, want)
	}
	// Oldest first too.
	got := pageAll(t, svc, 8, map[string]any{"orderBy": map[string]any{"field": "PUBLISHED_AT", "direction": "ASC"}})
	assertSameSet(t, "ASC", got, want)
}

func assertSameSet(t *testing.T, label string, got []string, want []*news.Article) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range got {
		if seen[s] {
			t.Fatalf("%s: %s repeated", label, s)
		}
		seen[s] = true
	}
	for _, a := range want {
		if !seen[a.Slug] {
			t.Fatalf("%s: %s skipped (got %d of %d)", label, a.Slug, len(got), len(want))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: got %d articles, want %d", label, len(got), len(want))
	}
}

func TestPagingWhilePublishing(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	base := time.Now().Add(-time.Hour)
	var want []*news.Article
	for i := 0; i < 30; i++ {
		want = append(want, testenv.NewArticle(fmt.Sprintf("older-%02d", i), base.Add(-time.Duration(i%5)*time.Minute)))
	}
	svc.AddArticles(t, want...)

	var got []string
	var after any
	for page := 0; ; page++ {
		p := listPage(t, svc, map[string]any{"first": 7, "after": after})
		for _, e := range p.Edges {
			got = append(got, e.Node.Slug)
		}
		// Breaking news lands between every two page requests, some sharing
		// the newest instant already paged past.
		svc.AddArticles(t, testenv.NewArticle(fmt.Sprintf("breaking-%02d", page), time.Now()),
			testenv.NewArticle(fmt.Sprintf("breaking-tie-%02d", page), base))
		if !p.PageInfo.HasNextPage {
			break
		}
		after = *p.PageInfo.EndCursor
	}
	// Everything that existed when paging began is seen exactly once; new
	// stories newer than the cursor are (correctly) not seen on later pages.
	seen := map[string]int{}
	for _, s := range got {
		seen[s]++
	}
	for _, a := range want {
		if seen[a.Slug] != 1 {
			t.Errorf("%s seen %d times", a.Slug, seen[a.Slug])
		}
	}
	for s, n := range seen {
		if n > 1 {
			t.Errorf("%s repeated", s)
		}
	}
}

func TestFilters(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "climate", "Climate")
	svc.AddSection(t, "sports", "Sports")
	svc.AddTag(t, "flood", "Flood")
	svc.AddTag(t, "river", "River")
	ana := svc.AddAuthor(t, "ana-lind", "Ana Lind")
	bo := svc.AddAuthor(t, "bo-keller", "Bo Keller")
	now := time.Now()
	mk := func(slug, section string, hoursAgo int, author *news.Author, tags ...string) *news.Article {
		a := testenv.NewArticle(slug, now.Add(-time.Duration(hoursAgo)*time.Hour))
		a.Section, a.Tags, a.AuthorIDs = section, tags, []string{author.ID}
		return a
	}
	svc.AddArticles(t,
		mk("levee-plan", "climate", 1, ana, "flood", "river"),
		mk("river-cleanup", "climate", 30, bo, "river"),
		mk("flood-insurance", "climate", 50, ana, "flood"),
		mk("derby-win", "sports", 2, bo),
	)
	cases := []struct {
		name   string
		filter map[string]any
		want   []string
	}{
		{"section", map[string]any{"section": "climate"}, []string{"levee-plan", "river-cleanup", "flood-insurance"}},
		{"all tags", map[string]any{"tags": []string{"flood", "river"}}, []string{"levee-plan"}},
		{"one tag", map[string]any{"tags": []string{"river"}}, []string{"levee-plan", "river-cleanup"}},
		{"author", map[string]any{"author": "bo-keller"}, []string{"derby-win", "river-cleanup"}},
		{"window", map[string]any{"publishedAfter": now.Add(-40 * time.Hour).Format(time.RFC3339),
			"publishedBefore": now.Add(-90 * time.Minute).Format(time.RFC3339)}, []string{"derby-win", "river-cleanup"}},
		{"combined", map[string]any{"section": "climate", "author": "ana-lind", "tags": []string{"flood"}}, []string{"levee-plan", "flood-insurance"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := pageAll(t, svc, 2, map[string]any{"filter": c.filter})
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	// The nested connections agree with the filters.
	var data struct {
		Author  struct{ Articles pageJSON }
		Section struct{ Articles pageJSON }
		Tag     struct{ Articles pageJSON }
	}
	svc.Query(t, `{ author(slug: "ana-lind") { articles { edges { node { slug } } } }
	  section(slug: "sports") { articles { edges { node { slug } } } }
	  tag(slug: "river") { articles(first: 1) { edges { node { slug } } pageInfo { hasNextPage } } } }`, nil).Decode(t, &data)
	if len(data.Author.Articles.Edges) != 2 || len(data.Section.Articles.Edges) != 1 ||
		len(data.Tag.Articles.Edges) != 1 || !data.Tag.Articles.PageInfo.HasNextPage {
		t.Fatalf("nested connections: %+v", data)
	}
}
