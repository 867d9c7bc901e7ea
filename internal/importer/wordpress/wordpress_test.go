package wordpress

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/importer/bulk"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// importExport runs one import of export into the service's database and
// query index, as the CLI does.
func importExport(t *testing.T, svc *testenv.Service, export []byte) (bulk.Summary, string) {
	t.Helper()
	ctx := news.WithViewer(context.Background(), news.Viewer{Role: news.RoleEditor, KeyName: "import test"})
	var out bytes.Buffer
	st := svc.Store
	im := bulk.New(st, news.NewDesk(st, news.Listeners{}), bulk.Options{Progress: &out, Index: svc.Index})
	if err := Import(ctx, bytes.NewReader(export), im, &out); err != nil {
		t.Fatal(err)
	}
	sum, err := im.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return sum, out.String()
}

const storyQuery = `query($slug: String!) { article(slug: $slug) {
	id slug headline dek body(format: HTML) status publishedAt
	authors { slug name } section { slug name } tags { slug name }
	featuredImage { url alt caption } } }`

type story struct {
	ID, Slug, Headline, Dek, Body, Status string
	PublishedAt                           *time.Time
	Authors                               []struct{ Slug, Name string }
	Section                               *struct{ Slug, Name string }
	Tags                                  []struct{ Slug, Name string }
	FeaturedImage                         *struct{ URL, Alt, Caption string }
}

func get(t *testing.T, svc *testenv.Service, slug string, header ...string) *story {
	t.Helper()
	var data struct{ Article *story }
	svc.Query(t, storyQuery, map[string]any{"slug": slug}, header...).Decode(t, &data)
	return data.Article
}

func TestImportAWordPressExport(t *testing.T) {
	export, err := os.ReadFile("testdata/export.xml")
	if err != nil {
		t.Fatal(err)
	}
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	sum, out := importExport(t, svc, export)
	t.Log(out)

	// Posts 10, 11, 13, 14, 15, 16, 20, 21 and 24; 22 is broken XML and
	// 25 has no title.
	if sum.Inserted != 9 || sum.Updated != 0 || sum.Failed != 2 || sum.Renamed != 1 {
		t.Errorf("summary %+v", sum)
	}
	wantSkipped := map[string]int{"attachment": 1, "page": 1, "revision": 1, "nav_menu_item": 1, "comment": 2, "post (trash)": 1}
	for k, n := range wantSkipped {
		if sum.Skipped[k] != n {
			t.Errorf("skipped %s: %d, want %d (all: %v)", k, sum.Skipped[k], n, sum.Skipped)
		}
	}
	for _, line := range []string{
		`skipped post 22 "Broken & unreadable" (item 13): malformed XML`,
		`skipped post 25: it has no title`,
		`renamed post 20 "Second story with the same slug": slug "riverside-housing-plan" is another story's; stored as "riverside-housing-plan-2"`,
		`slug of post 24 "Café owners celebrate" changed: "caf%c3%a9-owners-celebrate" is stored as "cafe-owners-celebrate"`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q", line)
		}
	}

	editor := []string{"Authorization", svc.NewKey(t, news.RoleEditor)}
	a := get(t, svc, "riverside-housing-plan")
	if a == nil {
		t.Fatal("the published post is not served by its WordPress slug")
	}
	if a.Headline != "Council approves the riverside housing plan" || a.Status != "PUBLISHED" ||
		a.PublishedAt == nil || !a.PublishedAt.Equal(time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("published post: %+v", a)
	}
	if a.Dek != "The plan passed 7-2 after months of debate & protest." {
		t.Errorf("dek %q", a.Dek)
	}
	for _, gone := range []string{"<script", "stolen cookies", "<iframe", "evil.example.net", "[caption"} {
		if strings.Contains(a.Body, gone) {
			t.Errorf("body keeps %q:\n%s", gone, a.Body)
		}
	}
	for _, kept := range []string{"<p>The council voted 7-2", `href="https://other.example.org/report"`, "What happens next</h3>",
		"<strong>final vote</strong>", "said council member Dana Ortiz."} {
		if !strings.Contains(a.Body, kept) {
			t.Errorf("body lacks %q:\n%s", kept, a.Body)
		}
	}
	if len(a.Authors) != 1 || a.Authors[0].Name != "Marcus Hale" || a.Authors[0].Slug != "mhale" {
		t.Errorf("byline %+v", a.Authors)
	}
	if a.Section == nil || a.Section.Slug != "local-news" || a.Section.Name != "Local News" {
		t.Errorf("section %+v (the first category)", a.Section)
	}
	if len(a.Tags) != 2 || a.Tags[0].Slug != "housing" || a.Tags[1].Slug != "council" || a.Tags[1].Name != "City Council" {
		t.Errorf("tags %+v", a.Tags)
	}
	if im := a.FeaturedImage; im == nil || im.URL != "https://ledger.example.com/wp-content/uploads/2024/03/bridge.jpg" ||
		im.Alt != "The old stone bridge" || im.Caption != "The old bridge at dawn" {
		t.Errorf("featured image %+v", a.FeaturedImage)
	}

	if b := get(t, svc, "block-editor-story"); b == nil || !strings.Contains(b.Body, "<p>Block editor paragraph one &amp; more.</p>") ||
		strings.Contains(b.Body, "javascript") || strings.Contains(b.Body, "wp:paragraph") || b.Authors[0].Name != "Jane O'Doe" {
		t.Errorf("block editor post: %+v", b)
	}
	if b := get(t, svc, "riverside-housing-plan-2"); b == nil || b.Headline != "Second story with the same slug" {
		t.Errorf("second post with the slug: %+v", b)
	}
	long := strings.TrimRight(strings.Repeat("council-approves-the-riverside-housing-plan-", 4)[:170], "-")
	if b := get(t, svc, long); b == nil || b.Slug != long {
		t.Errorf("the %d-character slug: %+v", len(long), b)
	}
	if b := get(t, svc, "cafe-owners-celebrate"); b == nil || b.Section.Slug != "business" {
		t.Errorf("post with a non-ASCII slug: %+v", b)
	}

	// Drafts, pending and private posts and the scheduled one: editors only.
	for slug, status := range map[string]string{"budget-talks-continue": "DRAFT", "pending-story": "DRAFT",
		"new-rota": "DRAFT", "election-night": "SCHEDULED"} {
		if b := get(t, svc, slug); b != nil {
			t.Errorf("readers see %s", slug)
		}
		if b := get(t, svc, slug, editor...); b == nil || b.Status != status {
			t.Errorf("%s: %+v, want %s", slug, b, status)
		}
	}
	if b := get(t, svc, "election-night", editor...); b.PublishedAt == nil || b.PublishedAt.Year() != 2099 {
		t.Errorf("scheduled for %v", b.PublishedAt)
	}

	// Importing again updates what changed and adds nothing.
	ctx := context.Background()
	before, err := svc.Store.CountArticles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Replace(export, []byte("A story written in the block editor"), []byte("A story revised in the block editor"), 1)
	again, out := importExport(t, svc, changed)
	if again.Inserted != 0 || again.Updated != 9 || again.Failed != 2 || again.Renamed != 1 || again.AuthorsCreated != 0 {
		t.Errorf("re-import summary %+v\n%s", again, out)
	}
	after, _ := svc.Store.CountArticles(ctx)
	if after != before {
		t.Errorf("%d articles after the re-import, %d before", after, before)
	}
	svc.Cache.PurgeAll(ctx) // what the command does through Redis for running servers
	if b := get(t, svc, "block-editor-story"); b == nil || b.Headline != "A story revised in the block editor" {
		t.Errorf("re-imported post: %+v", b)
	}
	if b := get(t, svc, "riverside-housing-plan"); b == nil || b.ID != a.ID {
		t.Errorf("re-imported post changed ID: %+v, was %s", b, a.ID)
	}
}
