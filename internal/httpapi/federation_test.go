package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

const articleEntities = `query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Article { id headline authors { name } section { name } tags { name } } } }`

func articleReps(articles []*news.Article) []map[string]any {
	reps := make([]map[string]any, len(articles))
	for i, a := range articles {
		reps[i] = map[string]any{"__typename": "Article", "id": news.GlobalID(news.NodeArticle, a.ID)}
	}
	return reps
}

// A gateway asking for 50 articles by key costs no more database round trips
// than a page of 50 with the same fields, both on a cold cache.
func TestEntityBatchCostsNoMoreThanAPage(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	articles := seedBylinedArticles(t, svc, 60)
	svc.Query(t, `{ articles(first: 1) { edges { node { slug } } } }`, nil)
	svc.Cache.PurgeAll(context.Background())

	before := svc.Store.RoundTrips()
	var page struct{ Articles pageJSON }
	svc.Query(t, `{ articles(first: 50) { edges { node { id headline authors { name } section { name } tags { name } } } } }`, nil).Decode(t, &page)
	pageTrips := svc.Store.RoundTrips() - before
	svc.Cache.PurgeAll(context.Background())

	before = svc.Store.RoundTrips()
	var data struct {
		Entities []*struct {
			ID, Headline string
			Authors      []struct{ Name string }
			Section      *struct{ Name string }
		} `json:"_entities"`
	}
	svc.Query(t, articleEntities, map[string]any{"reps": articleReps(articles[:50])}).Decode(t, &data)
	entityTrips := svc.Store.RoundTrips() - before
	t.Logf("articles(first: 50): %d round trips; 50 Article entities: %d", pageTrips, entityTrips)
	if len(data.Entities) != 50 {
		t.Fatalf("got %d entities", len(data.Entities))
	}
	for i, e := range data.Entities {
		if e == nil || e.ID != news.GlobalID(news.NodeArticle, articles[i].ID) || len(e.Authors) != 2 || e.Section == nil {
			t.Fatalf("entity %d out of order or incomplete: %+v", i, e)
		}
	}
	if entityTrips > pageTrips {
		t.Errorf("50 entities cost %d round trips, a page of 50 %d", entityTrips, pageTrips)
	}
}

// Entities by key answer as the rest of the API does: a draft does not exist
// for a reader, an editor sees it; authors by id, sections and tags by slug.
func TestEntitiesRespectVisibility(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "climate", "Climate")
	svc.AddTag(t, "floods", "Floods")
	author := svc.AddAuthor(t, "ada", "Ada Reporter")
	live := testenv.NewArticle("live-story", time.Now().Add(-time.Hour))
	draft := testenv.NewArticle("draft-story", time.Now().Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt = news.StatusDraft, nil
	svc.AddArticles(t, live, draft)

	reps := append(articleReps([]*news.Article{live, draft}),
		map[string]any{"__typename": "Article", "id": "not-an-id"},
		map[string]any{"__typename": "Author", "id": news.GlobalID(news.NodeAuthor, author.ID)},
		map[string]any{"__typename": "Section", "slug": "climate"},
		map[string]any{"__typename": "Tag", "slug": "floods"},
		map[string]any{"__typename": "Tag", "slug": "no-such-tag"})
	query := `query($reps: [_Any!]!) { _entities(representations: $reps) { __typename
	  ... on Article { slug } ... on Author { name } ... on Section { name } ... on Tag { name } } }`
	var reader struct {
		Entities []map[string]any `json:"_entities"`
	}
	svc.Query(t, query, map[string]any{"reps": reps}).Decode(t, &reader)
	got := reader.Entities
	if len(got) != 7 || got[0]["slug"] != "live-story" || got[1] != nil || got[2] != nil ||
		got[3]["name"] != "Ada Reporter" || got[4]["name"] != "Climate" || got[5]["name"] != "Floods" || got[6] != nil {
		t.Errorf("reader's entities: %v", got)
	}
	var editor struct {
		Entities []map[string]any `json:"_entities"`
	}
	svc.Query(t, query, map[string]any{"reps": reps[:2]}, "Authorization", svc.NewKey(t, news.RoleEditor)).Decode(t, &editor)
	if len(editor.Entities) != 2 || editor.Entities[1]["slug"] != "draft-story" {
		t.Errorf("an editor's entities: %v", editor.Entities)
	}
}

// The federation fields do not weaken the limits: a batch is priced by its
// size, and with introspection off the subgraph's SDL is hidden too.
func TestFederationFieldsKeepTheLimits(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Limits: graph.Limits{NoIntrospection: true}})
	reps := make([]map[string]any, 300)
	for i := range reps {
		reps[i] = map[string]any{"__typename": "Article", "id": news.GlobalID(news.NodeArticle, "000000000000000000000000")}
	}
	res := svc.Query(t, articleEntities, map[string]any{"reps": reps})
	if res.Code() != graph.CodeQueryTooComplex {
		t.Errorf("300 entities with bylines and tags: code %q, want %s (%+v)", res.Code(), graph.CodeQueryTooComplex, res.Errors)
	}
	deep := `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Author {
	  articles { edges { node { authors { articles { edges { node { authors { articles { edges { node { slug } } } } } } } } } } } } } }`
	res = svc.Query(t, deep, map[string]any{"reps": reps[:1]})
	if res.Code() != graph.CodeQueryTooComplex || res.Errors[0].Extensions["depth"] == nil {
		t.Errorf("a deep entity query: %+v, want QUERY_TOO_COMPLEX with depth", res.Errors)
	}
	res = svc.Query(t, `{ _service { sdl } }`, nil)
	if len(res.Errors) == 0 || strings.Contains(string(res.Data), "@key") {
		t.Errorf("_service answered with introspection off: %s", res.Data)
	}

	open := testenv.NewService(t, testenv.ServiceOptions{})
	var sdl struct {
		Service struct{ SDL string } `json:"_service"`
	}
	open.Query(t, `{ _service { sdl } }`, nil).Decode(t, &sdl)
	for _, want := range []string{`type Article implements Node @key(fields: "id")`, `type Section implements Node @key(fields: "slug")`, "specs.apollo.dev/federation/v2"} {
		if !strings.Contains(sdl.Service.SDL, want) {
			t.Errorf("_service sdl lacks %q", want)
		}
	}
}
