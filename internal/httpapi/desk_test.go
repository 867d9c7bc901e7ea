package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// newsroom is a test service with a section, a tag, an author and a key per
// role.
type newsroom struct {
	*testenv.Service
	editor, partner, admin string
	authorID               string
}

func newNewsroom(t *testing.T, o testenv.ServiceOptions) *newsroom {
	t.Helper()
	svc := testenv.NewService(t, o)
	svc.AddSection(t, "city", "City")
	svc.AddTag(t, "transport", "Transport")
	n := &newsroom{Service: svc, editor: svc.NewKey(t, news.RoleEditor),
		partner: svc.NewKey(t, news.RolePartner), admin: svc.NewKey(t, news.RoleAdmin)}
	var out struct{ CreateAuthor struct{ ID string } }
	n.as(t, n.editor, `mutation { createAuthor(input: {name: "Mara Ōsaka", bio: "Covers the city."}) { id } }`, nil).Decode(t, &out)
	n.authorID = out.CreateAuthor.ID
	return n
}

// as runs a document with key ("" for a reader).
func (n *newsroom) as(t *testing.T, key, doc string, vars map[string]any) *testenv.Response {
	t.Helper()
	if key == "" {
		return n.Query(t, doc, vars)
	}
	return n.Query(t, doc, vars, "Authorization", key)
}

const deskFields = `id slug headline dek status version publishedAt body(format: MARKDOWN)
	authors { name } section { slug } tags { slug }`

type draftJSON struct {
	ID, Slug, Headline, Dek, Status, Body string
	Version                               int
	PublishedAt                           *time.Time
}

// create makes a draft and returns it.
func (n *newsroom) create(t *testing.T, input map[string]any) draftJSON {
	t.Helper()
	var out struct{ CreateArticle draftJSON }
	n.as(t, n.editor, `mutation($in: ArticleInput!) { createArticle(input: $in) { `+deskFields+` } }`,
		map[string]any{"in": input}).Decode(t, &out)
	return out.CreateArticle
}

// mutate runs one of the article mutations that return an Article.
func (n *newsroom) mutate(t *testing.T, key, field, args string, vars map[string]any) (draftJSON, *testenv.Response) {
	t.Helper()
	types := map[string]string{"id": "ID!", "v": "Int!", "in": "ArticleInput!", "at": "Time"}
	var decls []string
	for _, name := range []string{"id", "v", "in", "at"} {
		if _, ok := vars[name]; ok {
			decls = append(decls, "$"+name+": "+types[name])
		}
	}
	res := n.as(t, key, `mutation(`+strings.Join(decls, ", ")+`) { `+field+`(`+args+`) { `+deskFields+` } }`, vars)
	var out map[string]draftJSON
	if res.Code() == "INTERNAL_SERVER_ERROR" {
		t.Logf("service log:\n%s", n.Logs())
	}
	if len(res.Errors) == 0 {
		res.Decode(t, &out)
	}
	return out[field], res
}

// bySlug is what key sees at article(slug:): "" when null.
func (n *newsroom) bySlug(t *testing.T, key, slug string) string {
	t.Helper()
	var out struct{ Article *draftJSON }
	n.as(t, key, `query($s: String) { article(slug: $s) { status } }`, map[string]any{"s": slug}).Decode(t, &out)
	if out.Article == nil {
		return ""
	}
	return out.Article.Status
}

func TestEditorDraftsSchedulesPublishesAndArchives(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	a := n.create(t, map[string]any{"headline": "Night buses return to the river line", "dek": "A pilot.",
		"body": "The **pilot** starts in May.", "authorIds": []string{n.authorID}, "section": "city", "tags": []string{"transport"}})
	if a.Status != "DRAFT" || a.Version != 1 || a.Slug != "night-buses-return-to-the-river-line" || a.PublishedAt != nil {
		t.Fatalf("created %+v", a)
	}
	for who, key := range map[string]string{"reader": "", "partner": n.partner} {
		if st := n.bySlug(t, key, a.Slug); st != "" {
			t.Errorf("%s sees the draft (%s)", who, st)
		}
		if res := n.as(t, key, `{ articles(filter: {status: DRAFT}) { edges { cursor } } }`, nil); res.Code() != "FORBIDDEN" {
			t.Errorf("%s lists drafts: %+v", who, res.Errors)
		}
	}
	if st := n.bySlug(t, n.editor, a.Slug); st != "DRAFT" {
		t.Fatalf("editor sees %q", st)
	}
	var drafts struct{ Articles pageJSON }
	n.as(t, n.editor, `{ articles(filter: {status: DRAFT}) { edges { node { slug } } } }`, nil).Decode(t, &drafts)
	if len(drafts.Articles.Edges) != 1 || drafts.Articles.Edges[0].Node.Slug != a.Slug {
		t.Fatalf("editor's drafts: %+v", drafts)
	}

	a, res := n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in",
		map[string]any{"id": a.ID, "v": 1, "in": map[string]any{"dek": "A six-month pilot."}})
	if len(res.Errors) > 0 || a.Version != 2 || a.Dek != "A six-month pilot." || a.Headline != "Night buses return to the river line" {
		t.Fatalf("update: %+v %+v", a, res.Errors)
	}

	// Scheduled: stored PUBLISHED with a future time; invisible to readers.
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	a, res = n.mutate(t, n.editor, "publishArticle", "id: $id, at: $at", map[string]any{"id": a.ID, "at": at})
	if len(res.Errors) > 0 || a.Status != "SCHEDULED" || !a.PublishedAt.Equal(at) {
		t.Fatalf("schedule: %+v %+v", a, res.Errors)
	}
	if st := n.bySlug(t, "", a.Slug); st != "" {
		t.Fatalf("reader sees a scheduled story: %s", st)
	}
	var scheduled struct{ Articles pageJSON }
	n.as(t, n.editor, `{ articles(filter: {status: SCHEDULED}) { edges { node { slug } } } }`, nil).Decode(t, &scheduled)
	if len(scheduled.Articles.Edges) != 1 {
		t.Fatalf("editor's scheduled list: %+v", scheduled)
	}

	a, res = n.mutate(t, n.editor, "publishArticle", "id: $id", map[string]any{"id": a.ID})
	if len(res.Errors) > 0 || a.Status != "PUBLISHED" || a.PublishedAt.After(time.Now()) {
		t.Fatalf("publish now: %+v %+v", a, res.Errors)
	}
	for who, key := range map[string]string{"reader": "", "partner": n.partner} {
		if st := n.bySlug(t, key, a.Slug); st != "PUBLISHED" {
			t.Errorf("%s does not see the published story (%q)", who, st)
		}
	}

	a, res = n.mutate(t, n.editor, "unpublishArticle", "id: $id", map[string]any{"id": a.ID})
	if len(res.Errors) > 0 || a.Status != "ARCHIVED" || a.Version != 5 {
		t.Fatalf("unpublish: %+v %+v", a, res.Errors)
	}
	if st := n.bySlug(t, "", a.Slug); st != "" {
		t.Fatalf("reader sees an archived story: %s", st)
	}

	// Every save is a revision, readable by editors only.
	const revs = `query($s: String) { article(slug: $s) { revisions { version operation savedBy { name } article { headline dek } } } }`
	var out struct {
		Article struct {
			Revisions []struct {
				Version   int
				Operation string
				SavedBy   struct{ Name string }
				Article   struct{ Headline, Dek string }
			}
		}
	}
	n.as(t, n.editor, revs, map[string]any{"s": a.Slug}).Decode(t, &out)
	ops := []string{}
	for _, r := range out.Article.Revisions {
		ops = append(ops, fmt.Sprintf("%d:%s", r.Version, r.Operation))
		if r.SavedBy.Name != "test EDITOR" {
			t.Errorf("revision %d saved by %q", r.Version, r.SavedBy.Name)
		}
	}
	if got := strings.Join(ops, " "); got != "5:unpublishArticle 4:publishArticle 3:publishArticle 2:updateArticle 1:createArticle" {
		t.Fatalf("revisions: %s", got)
	}
	if d := out.Article.Revisions[4].Article.Dek; d != "A pilot." {
		t.Fatalf("revision 1 holds dek %q", d)
	}

	// The audit log names who did what to which article.
	var audit struct {
		AuditLog []struct {
			Operation, ArticleID string
			By                   struct{ Name string }
		}
	}
	n.as(t, n.editor, `{ auditLog(first: 10) { operation articleId by { name } } }`, nil).Decode(t, &audit)
	if len(audit.AuditLog) != 6 || audit.AuditLog[0].ArticleID != a.ID || audit.AuditLog[5].Operation != "createAuthor" {
		t.Fatalf("audit log: %+v", audit.AuditLog)
	}
}

func TestRevisionsAreForEditorsOnly(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	a := n.create(t, map[string]any{"headline": "Ferry fares frozen", "body": "Fares stay."})
	n.mutate(t, n.editor, "publishArticle", "id: $id", map[string]any{"id": a.ID})
	for key, code := range map[string]string{"": "UNAUTHENTICATED", n.partner: "FORBIDDEN"} {
		res := n.as(t, key, `query($s: String) { article(slug: $s) { headline revisions { version } } }`, map[string]any{"s": a.Slug})
		if res.Code() != code {
			t.Errorf("revisions: code %q, want %q", res.Code(), code)
		}
	}
	if _, res := n.mutate(t, n.partner, "publishArticle", "id: $id", map[string]any{"id": a.ID}); res.Code() != "FORBIDDEN" {
		t.Errorf("a partner published: %+v", res.Errors)
	}
	if res := n.as(t, "", `mutation { createArticle(input: {headline: "x"}) { id } }`, nil); res.Code() != "UNAUTHENTICATED" {
		t.Errorf("a reader created: %+v", res.Errors)
	}
}

// Two editors racing on one article: exactly one save lands, every other
// gets CONFLICT with the current version, and retrying on it works.
func TestRacingEditorsNeverOverwriteEachOther(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	a := n.create(t, map[string]any{"headline": "Bridge closes for repairs", "body": "From Monday."})
	const racers = 6
	var wg sync.WaitGroup
	results := make([]*testenv.Response, racers)
	for i := range racers {
		wg.Go(func() {
			_, results[i] = n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in",
				map[string]any{"id": a.ID, "v": 1, "in": map[string]any{"dek": fmt.Sprintf("Editor %d's dek", i)}})
		})
	}
	wg.Wait()
	won := -1
	for i, res := range results {
		switch res.Code() {
		case "":
			if won >= 0 {
				t.Fatalf("editors %d and %d both saved over version 1", won, i)
			}
			won = i
		case "CONFLICT":
			if cv := res.Errors[0].Extensions["currentVersion"]; cv != float64(2) {
				t.Fatalf("currentVersion = %v", cv)
			}
		default:
			t.Fatalf("racer %d: %+v", i, res.Errors)
		}
	}
	if won < 0 {
		t.Fatal("no save landed")
	}
	var out struct{ Article draftJSON }
	n.as(t, n.editor, `query($s: String) { article(slug: $s) { dek version } }`, map[string]any{"s": a.Slug}).Decode(t, &out)
	if out.Article.Dek != fmt.Sprintf("Editor %d's dek", won) || out.Article.Version != 2 {
		t.Fatalf("stored %+v, winner %d", out.Article, won)
	}
	loser := (won + 1) % racers
	b, res := n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in",
		map[string]any{"id": a.ID, "v": 2, "in": map[string]any{"dek": fmt.Sprintf("Editor %d's dek, merged", loser)}})
	if len(res.Errors) > 0 || b.Version != 3 {
		t.Fatalf("retry on the current version: %+v", res.Errors)
	}

	// Restoring the winner's revision is a new save, not a rewrite of history.
	r, res := n.mutate(t, n.editor, "restoreRevision", "articleId: $id, revision: $v", map[string]any{"id": a.ID, "v": 2})
	if len(res.Errors) > 0 || r.Version != 4 || r.Dek != fmt.Sprintf("Editor %d's dek", won) {
		t.Fatalf("restore: %+v %+v", r, res.Errors)
	}
	_, res = n.mutate(t, n.editor, "restoreRevision", "articleId: $id, revision: $v", map[string]any{"id": a.ID, "v": 99})
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "revision" {
		t.Fatalf("restoring a missing revision: %+v", res.Errors)
	}
}

// recorder is a news.Listener that keeps what it heard.
type recorder struct {
	mu    sync.Mutex
	heard []string
}

func (r *recorder) ArticleChanged(_ context.Context, before, after *news.Article) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, fmt.Sprintf("article %s->%s", version(before), version(after)))
}

func (r *recorder) AuthorChanged(_ context.Context, before, after *news.Author) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, fmt.Sprintf("author %v->%v", before != nil, after != nil))
}

func version(a *news.Article) string {
	if a == nil {
		return "nil"
	}
	return fmt.Sprintf("v%d:%s", a.Version, a.StoredStatus)
}

func TestEveryLandedWriteIsHeardAndRejectedOnesAreNot(t *testing.T) {
	rec := &recorder{}
	n := newNewsroom(t, testenv.ServiceOptions{Listener: rec})
	a := n.create(t, map[string]any{"headline": "Library hours extended", "body": "Open late."})
	n.mutate(t, n.editor, "publishArticle", "id: $id", map[string]any{"id": a.ID})
	n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in", map[string]any{"id": a.ID, "v": 1, "in": map[string]any{"dek": "stale"}})
	n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in", map[string]any{"id": a.ID, "v": 2, "in": map[string]any{"headline": ""}})
	n.as(t, n.editor, `mutation($id: ID!, $in: AuthorInput!) { updateAuthor(id: $id, input: $in) { id } }`,
		map[string]any{"id": n.authorID, "in": map[string]any{"location": "Riverside"}})
	if res := n.as(t, n.editor, `mutation($id: ID!) { deleteArticle(id: $id) }`, map[string]any{"id": a.ID}); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if res := n.as(t, n.editor, `mutation($id: ID!) { deleteArticle(id: $id) }`, map[string]any{"id": a.ID}); res.Code() != "NOT_FOUND" {
		t.Fatalf("deleting twice: %+v", res.Errors)
	}
	if st := n.bySlug(t, n.editor, a.Slug); st != "" {
		t.Fatalf("deleted article still there: %s", st)
	}
	got := strings.Join(rec.heard, ", ")
	want := "author false->true, article nil->v1:DRAFT, article v1:DRAFT->v2:PUBLISHED, author true->true, article v2:PUBLISHED->nil"
	if got != want {
		t.Fatalf("listener heard\n %s\nwant\n %s", got, want)
	}
}

// The scheduled moment needs nothing to happen: the story is simply there.
func TestScheduledStoryAppearsAtItsMoment(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	a := n.create(t, map[string]any{"headline": "Polls open", "body": "Vote."})
	at := time.Now().Add(2 * time.Second).UTC()
	if _, res := n.mutate(t, n.editor, "publishArticle", "id: $id, at: $at", map[string]any{"id": a.ID, "at": at}); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	for n.bySlug(t, "", a.Slug) == "" {
		if time.Now().After(at.Add(10 * time.Second)) {
			t.Fatal("never appeared")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if time.Now().Before(at) {
		t.Fatal("appeared early")
	}
}

func TestSlugsAreGeneratedUniqueAndFixedOncePublished(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	first := n.create(t, map[string]any{"headline": "Crème brûlée festival: Ærø’s bakers win"})
	second := n.create(t, map[string]any{"headline": "Crème brûlée festival: Ærø's bakers win!"})
	third := n.create(t, map[string]any{"headline": "Crème brûlée festival, Ærø’s bakers win"})
	if first.Slug != "creme-brulee-festival-aeros-bakers-win" || second.Slug != first.Slug+"-2" || third.Slug != first.Slug+"-3" {
		t.Fatalf("slugs %q %q %q", first.Slug, second.Slug, third.Slug)
	}
	given := n.create(t, map[string]any{"headline": "x", "slug": "my-own-slug", "body": "Body."})
	if given.Slug != "my-own-slug" {
		t.Fatalf("given slug: %q", given.Slug)
	}
	res := n.as(t, n.editor, `mutation { createArticle(input: {headline: "y", slug: "my-own-slug"}) { id } }`, nil)
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "input.slug" {
		t.Fatalf("taken slug: %+v", res.Errors)
	}
	// A draft may change its slug; a published story may not.
	upd := "id: $id, expectedVersion: $v, input: $in"
	g, res := n.mutate(t, n.editor, "updateArticle", upd, map[string]any{"id": given.ID, "v": 1, "in": map[string]any{"slug": "renamed"}})
	if len(res.Errors) > 0 || g.Slug != "renamed" {
		t.Fatalf("draft rename: %+v", res.Errors)
	}
	n.mutate(t, n.editor, "publishArticle", "id: $id", map[string]any{"id": given.ID})
	_, res = n.mutate(t, n.editor, "updateArticle", upd, map[string]any{"id": given.ID, "v": 3, "in": map[string]any{"slug": "renamed-again"}})
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "input.slug" {
		t.Fatalf("published rename: %+v", res.Errors)
	}
	if st := n.bySlug(t, "", "renamed"); st != "PUBLISHED" {
		t.Fatalf("published story moved: %q", st)
	}
}

// What a save asks of the database, counted with the driver's monitor: the
// key is checked from the in-process cache, and an edit of the dek is a read,
// the revision claim, the conditional update and the audit entry (the query
// index is updated in process).
func TestASaveCostsFourRoundTrips(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	a := n.create(t, map[string]any{"headline": "Counting writes", "body": "One."})
	before := n.Store.RoundTrips()
	_, res := n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in",
		map[string]any{"id": a.ID, "v": 1, "in": map[string]any{"dek": "Two."}})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if got := n.Store.RoundTrips() - before; got != 4 {
		t.Fatalf("an update cost %d round trips, want 4 (read, claim, update, audit)", got)
	}
}
