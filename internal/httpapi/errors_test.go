package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestBadInputGetsCodedErrorsNamingTheArgument(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "politics", "Politics")
	svc.AddArticles(t, testenv.NewArticle("a-story", time.Now().Add(-time.Hour)))
	cases := []struct {
		name, query string
		vars        map[string]any
		code, field string
	}{
		{"first above cap", listQuery, map[string]any{"first": 101}, "BAD_USER_INPUT", "first"},
		{"negative first", listQuery, map[string]any{"first": -1}, "BAD_USER_INPUT", "first"},
		{"garbage cursor", listQuery, map[string]any{"after": "not-a-cursor"}, "BAD_USER_INPUT", "after"},
		{"cursor of another order", listQuery, map[string]any{"after": mustCursor(t, svc),
			"orderBy": map[string]any{"field": "UPDATED_AT", "direction": "DESC"}}, "BAD_USER_INPUT", "after"},
		{"unknown section", listQuery, map[string]any{"filter": map[string]any{"section": "weather"}}, "BAD_USER_INPUT", "filter.section"},
		{"unknown tag", listQuery, map[string]any{"filter": map[string]any{"tags": []string{"nope"}}}, "BAD_USER_INPUT", "filter.tags"},
		{"unknown author", listQuery, map[string]any{"filter": map[string]any{"author": "nobody"}}, "BAD_USER_INPUT", "filter.author"},
		{"operator as slug", listQuery, map[string]any{"filter": map[string]any{"section": `{"$ne": null}`}}, "BAD_USER_INPUT", "filter.section"},
		{"inverted window", listQuery, map[string]any{"filter": map[string]any{
			"publishedAfter": "2026-01-02T00:00:00Z", "publishedBefore": "2026-01-01T00:00:00Z"}}, "BAD_USER_INPUT", "filter.publishedAfter"},
		{"id and slug", `{ article(id: "x", slug: "y") { id } }`, nil, "BAD_USER_INPUT", "id"},
		{"neither id nor slug", `{ article { id } }`, nil, "BAD_USER_INPUT", "id"},
		{"malformed id", `{ article(id: "%%%") { id } }`, nil, "BAD_USER_INPUT", "id"},
		{"id of another kind", `{ author(slug: "x") { id } article(id: "U2VjdGlvbjpwb2xpdGljcw") { id } }`, nil, "BAD_USER_INPUT", "id"},
		{"reader asks for drafts", listQuery, map[string]any{"filter": map[string]any{"status": "DRAFT"}}, "FORBIDDEN", ""},
		{"malformed time", listQuery, map[string]any{"filter": map[string]any{"publishedAfter": "yesterday"}}, "BAD_USER_INPUT", ""},
		{"unknown field", `{ articles { edges { node { nope } } } }`, nil, "GRAPHQL_VALIDATION_FAILED", ""},
		{"syntax error", `{ articles { `, nil, "GRAPHQL_PARSE_FAILED", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := svc.Query(t, c.query, c.vars)
			if res.Code() != c.code {
				t.Fatalf("code = %q, want %q (errors %+v)", res.Code(), c.code, res.Errors)
			}
			if c.field != "" && res.Errors[0].Extensions["field"] != c.field {
				t.Fatalf("field = %v, want %s", res.Errors[0].Extensions["field"], c.field)
			}
			if strings.Contains(strings.ToLower(res.Errors[0].Message), "mongo") {
				t.Fatalf("internal detail leaked: %s", res.Errors[0].Message)
			}
		})
	}
}

func mustCursor(t *testing.T, svc *testenv.Service) string {
	p := listPage(t, svc, map[string]any{"first": 1})
	return *p.PageInfo.EndCursor
}

func TestImageWidthOutOfRangeIsBadInput(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	res := svc.Query(t, `{ articles(first: 40) { edges { node { featuredImage { url(width: 100000) } } } } }`, nil)
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "width" {
		t.Fatalf("errors: %+v", res.Errors)
	}
}

func TestDatabaseFailureIsMaskedAndLoggedWithRequestID(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddArticles(t, testenv.NewArticle("a-story", time.Now().Add(-time.Hour)))
	// Cut the service off from its database, as an outage would.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res := svc.Query(t, `{ article(slug: "a-story") { id } }`, nil)
	if res.Code() != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("errors: %+v", res.Errors)
	}
	rid, _ := res.Errors[0].Extensions["requestId"].(string)
	if rid == "" || rid != res.Header.Get("X-Request-ID") {
		t.Fatalf("request ID %q not given back (header %q)", rid, res.Header.Get("X-Request-ID"))
	}
	msg := strings.ToLower(res.Errors[0].Message)
	for _, leak := range []string{"client is disconnected", "mongo", "findone", "driver"} {
		if strings.Contains(msg, leak) {
			t.Fatalf("client sees internal detail %q: %s", leak, res.Errors[0].Message)
		}
	}
	if logs := svc.Logs(); !strings.Contains(logs, rid) || !strings.Contains(logs, "disconnected") {
		t.Fatalf("the real cause is not logged under the request ID:\n%s", logs)
	}

	// Readiness says the database is down; liveness is unaffected.
	for path, want := range map[string]int{"/readyz": http.StatusServiceUnavailable, "/healthz": http.StatusOK} {
		r, err := http.Get(svc.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("%s = %d, want %d", path, r.StatusCode, want)
		}
	}
}
