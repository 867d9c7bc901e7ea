package jsonl

import (
	"context"
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/importer/bulk"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const stories = `{"externalId": "cms-1", "headline": "Harbour reopens after storm", "dek": "Boats are back.", "body": "The harbour **reopened** on Monday.\n\n<script>alert(1)</script>", "slug": "harbour-reopens", "section": "local", "sectionName": "Local", "tags": ["harbour", "weather"], "status": "PUBLISHED", "publishedAt": "2024-05-01T07:00:00Z", "authors": ["Rosa Gallo", "Ben Eze"], "featuredImage": {"url": "https://img.example.com/harbour.jpg", "alt": "The harbour", "credit": "Photo: Rosa Gallo"}, "source": {"name": "Coast Radio", "url": "https://coast.example.org/story"}}
{"headline": "Council notes", "body": "<p>Draft body</p>", "bodyFormat": "HTML", "slug": "council-notes", "authors": ["rosa gallo"]}

{"headline": "not JSON at all
{"externalId": "cms-3", "headline": "Typo", "statuz": "DRAFT"}
{"headline": "No key", "body": "Nothing says who this is."}
{"externalId": "cms-4", "headline": "<b>Markup</b> headline", "slug": "markup"}
{"externalId": "cms-5", "headline": "Published without a date", "body": "Text.", "slug": "no-date", "status": "PUBLISHED"}
`

func importLines(t *testing.T, svc *testenv.Service, text string) (bulk.Summary, string) {
	t.Helper()
	ctx := news.WithViewer(context.Background(), news.Viewer{Role: news.RoleEditor, KeyName: "import test"})
	var out strings.Builder
	im := bulk.New(svc.Store, news.NewDesk(svc.Store, news.Listeners{}), bulk.Options{Progress: &out, Index: svc.Index})
	if err := Import(ctx, strings.NewReader(text), im); err != nil {
		t.Fatal(err)
	}
	sum, err := im.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return sum, out.String()
}

func TestImportJSONLines(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	sum, out := importLines(t, svc, stories)
	if sum.Inserted != 2 || sum.Failed != 5 || sum.AuthorsCreated != 2 {
		t.Errorf("summary %+v\n%s", sum, out)
	}
	for _, line := range []string{
		"skipped line 4: not a story",
		`skipped line 5 "Typo": not a story: json: unknown field "statuz"`,
		`skipped line 6 "No key": needs an externalId or a slug`,
		`skipped line 7 "<b>Markup</b> headline": input.headline: must be plain text`,
		`skipped line 8 "Published without a date": publishedAt: is required for a PUBLISHED story`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	const q = `query($slug: String!) { article(slug: $slug) { headline body(format: HTML) status publishedAt
		authors { name } section { slug name } tags { slug } featuredImage { url credit } source { name url } } }`
	var data struct {
		Article *struct {
			Headline, Body, Status, PublishedAt string
			Authors                             []struct{ Name string }
			Section                             struct{ Slug, Name string }
			Tags                                []struct{ Slug string }
			FeaturedImage                       struct{ URL, Credit string }
			Source                              struct{ Name, URL string }
		}
	}
	svc.Query(t, q, map[string]any{"slug": "harbour-reopens"}).Decode(t, &data)
	a := data.Article
	if a == nil || a.Status != "PUBLISHED" || a.PublishedAt != "2024-05-01T07:00:00Z" || len(a.Authors) != 2 ||
		a.Authors[0].Name != "Rosa Gallo" || a.Section.Name != "Local" || len(a.Tags) != 2 ||
		a.FeaturedImage.Credit != "Photo: Rosa Gallo" || a.Source.Name != "Coast Radio" {
		t.Fatalf("imported story: %+v", a)
	}
	if !strings.Contains(a.Body, "<strong>reopened</strong>") || strings.Contains(a.Body, "script") {
		t.Errorf("body %q", a.Body)
	}
	editor := []string{"Authorization", svc.NewKey(t, news.RoleEditor)}
	svc.Query(t, q, map[string]any{"slug": "council-notes"}, editor...).Decode(t, &data)
	if d := data.Article; d == nil || d.Status != "DRAFT" || len(d.Authors) != 1 || d.Authors[0].Name != "Rosa Gallo" {
		t.Errorf("draft (byline matched by name, ignoring case): %+v", d)
	}

	// Again: updated in place, keyed by externalId or slug.
	again, out := importLines(t, svc, strings.Replace(stories, "Harbour reopens after storm", "Harbour reopens after the storm", 1))
	if again.Inserted != 0 || again.Updated != 2 || again.AuthorsCreated != 0 {
		t.Errorf("re-import %+v\n%s", again, out)
	}
	if n, _ := svc.Store.CountArticles(context.Background()); n != 2 {
		t.Errorf("%d articles after importing twice", n)
	}
	svc.Cache.PurgeAll(context.Background())
	svc.Query(t, q, map[string]any{"slug": "harbour-reopens"}).Decode(t, &data)
	if data.Article.Headline != "Harbour reopens after the storm" {
		t.Errorf("headline after re-import: %q", data.Article.Headline)
	}
}
