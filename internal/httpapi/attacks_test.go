package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// Every known attack is refused before it costs anything, with a code and
// the figure that broke the limit.
func TestHostileDocumentsAreRefusedCheaply(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddArticles(t, testenv.NewArticle("a-story", time.Now().Add(-time.Hour)))

	deep := "{ articles { edges { node { authors { articles { edges { node { authors { articles { edges { node { authors { articles { edges { node { slug } } } } } } } } } } } } } } } }"
	aliases := "{ " + strings.Repeat("", 0)
	for i := 0; i < 40; i++ {
		aliases += fmt.Sprintf("a%d: article(slug: \"a-story\") { slug } ", i)
	}
	aliases += "}"
	wide := `{ articles(first: 100) { edges { node { authors { articles(first: 100) { edges { node { slug } } } } } } } }`
	cycle := `query { articles { ...A } } fragment A on ArticleConnection { edges { node { slug } } ...B } fragment B on ArticleConnection { ...A }`
	directives := "{ __typename " + strings.Repeat("@include(if: true) ", 3000) + "}"
	cases := []struct {
		name, doc, code, figure string
	}{
		{"deep nesting", deep, "QUERY_TOO_COMPLEX", "depth"},
		{"alias flood", aliases, "QUERY_TOO_COMPLEX", "aliases"},
		{"fan-out", wide, "QUERY_TOO_COMPLEX", "complexity"},
		{"fragment cycle", cycle, "GRAPHQL_VALIDATION_FAILED", ""},
		{"directive flood", directives, "GRAPHQL_PARSE_FAILED", ""},
		{"huge page", `{ articles(first: 1000000) { edges { node { slug } } } }`, "BAD_USER_INPUT", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := svc.Query(t, c.doc, nil)
			if res.Code() != c.code {
				t.Fatalf("code %q, want %q: %+v", res.Code(), c.code, res.Errors)
			}
			if c.figure != "" {
				ext := res.Errors[0].Extensions
				if ext[c.figure] == nil || ext["limit"] == nil {
					t.Fatalf("no %s figure and limit in %+v", c.figure, ext)
				}
			}
			if len(res.Data) > 0 && string(res.Data) != "null" {
				t.Fatalf("a refused operation returned data: %s", res.Data)
			}
		})
	}
}

func TestOversizedAndBatchedBodies(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	res, err := http.Post(svc.URL+"/graphql", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB body: %d, want 413", res.StatusCode)
	}
	batch := `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`
	res, err = http.Post(svc.URL+"/graphql", "application/json", strings.NewReader(batch))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || body["errors"] == nil {
		t.Fatalf("batched array: %d %v, want a 400 with errors", res.StatusCode, body)
	}
	// The service is still fine.
	if r := svc.Query(t, `{ __typename }`, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
}

// No client string becomes a MongoDB operator or field path: operator-shaped
// and dotted input finds nothing or is refused, and never widens a match.
func TestInjectionShapedInputMatchesNothing(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "politics", "Politics")
	svc.AddAuthor(t, "dana-ortiz", "Dana Ortiz")
	draft := testenv.NewArticle("secret-draft", time.Now().Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt = news.StatusDraft, nil
	svc.AddArticles(t, testenv.NewArticle("public-story", time.Now().Add(-time.Hour)), draft)

	hostile := []string{`{"$ne": null}`, `$ne`, `$where`, `{"$gt": ""}`, `this.status == 'DRAFT'`, `a.b`, `$regex`,
		`.*`, `secret-draft" || "1"=="1`, `status.DRAFT`}
	for _, h := range hostile {
		for _, q := range []struct{ doc, want string }{
			{`query($v: String) { article(slug: $v) { slug } }`, "null"},
			{`query($v: String) { author(slug: $v) { slug } }`, "null"},
			{`query($v: String!) { section(slug: $v) { slug } }`, "null"},
			{`query($v: String!) { tag(slug: $v) { slug } }`, "null"},
		} {
			res := svc.Query(t, q.doc, map[string]any{"v": h})
			if len(res.Errors) > 0 && res.Code() != "BAD_USER_INPUT" {
				t.Fatalf("%s with %q: %+v", q.doc, h, res.Errors)
			}
			if bytes.Contains(res.Data, []byte("slug\":\"")) {
				t.Fatalf("%s with %q matched something: %s", q.doc, h, res.Data)
			}
		}
		for _, f := range []map[string]any{{"section": h}, {"author": h}, {"tags": []string{h}}} {
			res := svc.Query(t, listQuery, map[string]any{"filter": f})
			if res.Code() != "BAD_USER_INPUT" {
				t.Fatalf("filter %v: %+v %s", f, res.Errors, res.Data)
			}
		}
		for _, id := range []string{h, news.GlobalID(news.NodeArticle, h), news.GlobalID(news.NodeAuthor, h)} {
			res := svc.Query(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
			if bytes.Contains(res.Data, []byte(`"id":"`)) {
				t.Fatalf("node(%q) matched: %s", id, res.Data)
			}
		}
	}
	// Objects where strings belong never reach the database.
	res := svc.Query(t, `query($v: String) { article(slug: $v) { slug } }`, map[string]any{"v": map[string]any{"$ne": nil}})
	if len(res.Errors) == 0 || res.Code() == "INTERNAL_SERVER_ERROR" {
		t.Fatalf("an object as a slug: %+v %s", res.Errors, res.Data)
	}
	// And the list still shows exactly what readers may see.
	if got := pageAll(t, svc, 10, nil); len(got) != 1 || got[0] != "public-story" {
		t.Fatalf("list = %v", got)
	}
}

// panicking wraps a real store and panics on the calls a test names.
type panicking struct {
	news.Store
	onSlug, onAuthors bool
}

func (p panicking) ArticleBySlug(ctx context.Context, slug string) (*news.Article, error) {
	if p.onSlug {
		panic("resolver boom")
	}
	return p.Store.ArticleBySlug(ctx, slug)
}

func (p panicking) AuthorsByIDs(ctx context.Context, ids []string) (map[string]*news.Author, error) {
	if p.onAuthors {
		panic("dataloader boom")
	}
	return p.Store.AuthorsByIDs(ctx, ids)
}

// A panic anywhere, a dataloader's goroutine included, becomes a masked
// INTERNAL_SERVER_ERROR; the process lives on and keeps serving.
func TestPanicsBecomeInternalErrors(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Around: func(s news.Store) news.Store {
		return panicking{Store: s, onSlug: true, onAuthors: true}
	}})
	a := svc.AddAuthor(t, "dana-ortiz", "Dana Ortiz")
	art := testenv.NewArticle("a-story", time.Now().Add(-time.Hour))
	art.AuthorIDs = []string{a.ID}
	svc.AddArticles(t, art)
	for _, doc := range []string{
		`{ article(slug: "a-story") { slug } }`,
		`{ articles { edges { node { slug authors { name } } } } }`,
	} {
		res := svc.Query(t, doc, nil)
		if res.Code() != "INTERNAL_SERVER_ERROR" || strings.Contains(res.Errors[0].Message, "boom") {
			t.Fatalf("%s: %+v", doc, res.Errors)
		}
	}
	if !strings.Contains(svc.Logs(), "boom") {
		t.Fatal("the panic is not in the log")
	}
	if res := svc.Query(t, `{ articles { edges { node { slug } } } }`, nil); len(res.Errors) > 0 {
		t.Fatalf("the service is not serving after panics: %+v", res.Errors)
	}
}

func TestMetricsShowWhatTheServiceDoes(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddArticles(t, testenv.NewArticle("a-story", time.Now().Add(-time.Hour)))
	svc.Query(t, `query Front { articles { edges { node { slug } } } }`, nil)
	svc.Query(t, `query Front { articles { edges { node { slug } } } }`, nil)
	svc.Query(t, `{ articles(first: 500) { edges { node { slug } } } }`, nil)
	res, err := http.Get(svc.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`newsgraph_graphql_operation_duration_seconds_count{operation="Front"} 1`,
		`newsgraph_graphql_errors_total{code="BAD_USER_INPUT"} 1`,
		`newsgraph_cache_lookups_total{cache="response",result="hit",tier="l1"} 1`,
		`newsgraph_http_request_duration_seconds_count{cache="HIT",route="graphql",status="2xx"} 1`,
		`newsgraph_http_requests_in_flight`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A PARTNER key spends each operation's complexity from a budget per
// minute; past it, RATE_LIMITED says what the operation cost and when to
// come back. Readers and editors have no such budget.
func TestPartnerComplexityBudget(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Limits: graph.Limits{PartnerBudget: 100}})
	svc.AddArticles(t, testenv.NewArticle("a-story", time.Now().Add(-time.Hour)))
	partner := svc.NewKey(t, news.RolePartner)
	page := `{ articles(first: 20) { edges { node { slug headline } } } }` // 1 + 20×(1+2+...) ≈ 60
	if res := svc.Query(t, page, nil, "Authorization", partner); len(res.Errors) > 0 {
		t.Fatalf("first page within the budget: %+v", res.Errors)
	}
	res := svc.Query(t, page, nil, "Authorization", partner)
	if res.Code() != "RATE_LIMITED" {
		t.Fatalf("second page over the budget: %+v", res.Errors)
	}
	ext := res.Errors[0].Extensions
	if ext["cost"] == nil || ext["budget"] != float64(100) || ext["retryAfterSeconds"] == nil {
		t.Fatalf("refusal lacks the figures: %+v", ext)
	}
	// An operation that can never fit is refused at once, too.
	if res := svc.Query(t, `{ articles(first: 100) { edges { node { slug headline } } } }`, nil, "Authorization", partner); res.Code() != "RATE_LIMITED" {
		t.Fatalf("an operation above the whole budget: %+v", res.Errors)
	}
	// Readers and editors are not metered.
	editor := svc.NewKey(t, news.RoleEditor)
	for i := 0; i < 3; i++ {
		if res := svc.Query(t, page, nil, "Authorization", editor); len(res.Errors) > 0 {
			t.Fatalf("editor: %+v", res.Errors)
		}
		if res := svc.Query(t, page, nil); len(res.Errors) > 0 {
			t.Fatalf("reader: %+v", res.Errors)
		}
	}
}
