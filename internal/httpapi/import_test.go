package httpapi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

const importDoc = `mutation($text: String!) { importArticle(text: $text) {
	id headline status body(format: TEXT) source { name url } featuredImage { url }
	authors { name bio } tags { slug } } }`

type importedJSON struct {
	ImportArticle struct {
		ID, Headline, Status, Body string
		Source                     *struct{ Name, URL string }
		FeaturedImage              *struct{ URL string }
		Authors                    []struct{ Name, Bio string }
		Tags                       []struct{ Slug string }
	}
}

func issueExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "importer", "testdata", "issue-example.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportArticleMakesTheIssueExampleADraft(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddTag(t, "dana-ortiz", "Dana Ortiz") // suggested and existing; "riverside-ledger" is not a tag
	editor := svc.NewKey(t, news.RoleEditor)
	text := strings.ReplaceAll(issueExample(t), "\n", "\r\n") // as a Windows tool sends it

	var out importedJSON
	svc.Query(t, importDoc, map[string]any{"text": text}, "Authorization", editor).Decode(t, &out)
	a := out.ImportArticle
	if a.Headline != "City council approves late-night bus pilot after months of debate" || a.Status != "DRAFT" {
		t.Errorf("headline %q status %s", a.Headline, a.Status)
	}
	if a.Source == nil || a.Source.Name != "Riverside Ledger" {
		t.Errorf("source %+v", a.Source)
	}
	if len(a.Authors) != 1 || a.Authors[0].Name != "Marcus Hale" || !strings.HasPrefix(a.Authors[0].Bio, "Marcus Hale has covered city hall") {
		t.Errorf("authors %+v", a.Authors)
	}
	if len(a.Tags) != 1 || a.Tags[0].Slug != "dana-ortiz" {
		t.Errorf("tags %+v, want only the existing suggested tag", a.Tags)
	}
	for _, want := range []string{"voted 7-2", "“We heard from hundreds of night-shift workers,” council member Dana Ortiz said.",
		"Featured image: Riverside Transit Authority"} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, a.Body)
		}
	}
	if strings.Contains(a.Body, "full story here") || strings.Contains(a.Body, "has covered city hall") {
		t.Errorf("attribution or bio left in the body:\n%s", a.Body)
	}
	if a.FeaturedImage != nil {
		t.Errorf("featured image %+v without an address", a.FeaturedImage)
	}

	// A second import by the same byline, spelled in another case, reuses
	// the author instead of creating a namesake.
	again := strings.Replace(issueExample(t), "\nMarcus Hale\n", "\nMARCUS HALE\n", 1)
	svc.Query(t, importDoc, map[string]any{"text": again}, "Authorization", editor).Decode(t, &out)
	var authors struct {
		Authors struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	svc.Query(t, `{ authors(first: 10) { edges { node { name } } } }`, nil).Decode(t, &authors)
	if len(authors.Authors.Edges) != 1 || out.ImportArticle.Authors[0].Name != "Marcus Hale" {
		t.Errorf("authors after a second import: %+v; byline %+v", authors.Authors.Edges, out.ImportArticle.Authors)
	}

	// Readers never see the drafts.
	var list struct {
		Articles struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	svc.Query(t, `{ articles(first: 10) { edges { node { id } } } }`, nil).Decode(t, &list)
	if len(list.Articles.Edges) != 0 {
		t.Errorf("a reader sees %d imported drafts", len(list.Articles.Edges))
	}
}

func TestImportArticleRefusesBadTextAndWritesNothing(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	editor := svc.NewKey(t, news.RoleEditor)
	long := strings.Repeat("Headline ", 30) + "\n\nA body.\n\nNew Person\n\nNew Person writes."
	for name, text := range map[string]string{
		"empty":          "  \r\n ",
		"headline only":  "Only a headline\r\n",
		"too long":       long, // the desk's 140-character headline limit, found before the author is created
		"markup in body": "Fine headline\n\n<script>alert(1)</script>\n\nNew Person\n\nNew Person writes.",
	} {
		res := svc.Query(t, importDoc, map[string]any{"text": text}, "Authorization", editor)
		if name == "markup in body" {
			// The body is Markdown with the sender's markup escaped: it is
			// text, and the import succeeds.
			var out importedJSON
			res.Decode(t, &out)
			if !strings.Contains(out.ImportArticle.Body, "<script>") {
				t.Errorf("escaped markup lost: %q", out.ImportArticle.Body)
			}
			continue
		}
		if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "text" {
			t.Errorf("%s: %+v", name, res.Errors)
		}
	}
	var authors struct {
		Authors struct {
			Edges []struct{ Node struct{ Name string } }
		}
	}
	svc.Query(t, `{ authors(first: 10) { edges { node { name } } } }`, nil).Decode(t, &authors)
	if len(authors.Authors.Edges) != 1 {
		t.Errorf("authors %+v: the refused imports must create none", authors.Authors.Edges)
	}
	if res := svc.Query(t, importDoc, map[string]any{"text": issueExample(t)}, "Authorization", svc.NewKey(t, news.RolePartner)); res.Code() != "FORBIDDEN" {
		t.Errorf("a partner imports: %+v", res.Errors)
	}
	if res := svc.Query(t, importDoc, map[string]any{"text": issueExample(t)}); res.Code() != "UNAUTHENTICATED" && res.Code() != "FORBIDDEN" {
		t.Errorf("a reader imports: %+v", res.Errors)
	}
}

// An import that names its outlet without a link, and has no standfirst,
// answers null for both, not "" (issue 11, part 5): the API says "absent"
// the way clients test for it. Stories read back say the same.
func TestImportArticleAnswersNullForAbsentText(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	editor := svc.NewKey(t, news.RoleEditor)
	text := "Ferry timetable changes from Monday\n\nThe morning ferry leaves ten minutes earlier, according to a report from the Harbour Herald.\n"
	const doc = `mutation($text: String!) { importArticle(text: $text) { id dek source { name url } } }`
	var out struct {
		ImportArticle struct {
			ID     string
			Dek    *string
			Source *struct {
				Name string
				URL  *string
			}
		}
	}
	res := svc.Query(t, doc, map[string]any{"text": text}, "Authorization", editor)
	res.Decode(t, &out)
	a := out.ImportArticle
	if a.Dek != nil || a.Source == nil || a.Source.Name != "Harbour Herald" || a.Source.URL != nil {
		t.Fatalf("dek %v source %+v, want null dek and a source without url", a.Dek, a.Source)
	}
	raw := svc.Query(t, `query($id: ID!) { node(id: $id) { ... on Article { dek source { url } } } }`,
		map[string]any{"id": a.ID}, "Authorization", editor)
	if !strings.Contains(string(raw.Data), `"dek":null`) || !strings.Contains(string(raw.Data), `"url":null`) {
		t.Errorf("read back: %s", raw.Data)
	}
}
