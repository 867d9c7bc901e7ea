package preview_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type newsroom struct {
	*testenv.Service
	editor, partner string
}

func newNewsroom(t *testing.T, o testenv.ServiceOptions) *newsroom {
	t.Helper()
	svc := testenv.NewService(t, o)
	svc.AddSection(t, "city", "City")
	svc.AddTag(t, "transport", "Transport")
	return &newsroom{Service: svc, editor: svc.NewKey(t, news.RoleEditor), partner: svc.NewKey(t, news.RolePartner)}
}

// draft makes a draft with a byline, a section and a tag.
func (n *newsroom) draft(t *testing.T, headline string) string {
	t.Helper()
	var author struct{ CreateAuthor struct{ ID string } }
	n.Query(t, `mutation { createAuthor(input: {name: "Mara Ōsaka"}) { id } }`, nil, "Authorization", n.editor).Decode(t, &author)
	var out struct{ CreateArticle struct{ ID string } }
	n.Query(t, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"headline": headline, "body": "Embargoed until noon.", "authorIds": []string{author.CreateAuthor.ID},
		"section": "city", "tags": []string{"transport"}}}, "Authorization", n.editor).Decode(t, &out)
	return out.CreateArticle.ID
}

type linkJSON struct {
	Token, URL string
	ExpiresAt  time.Time
}

func (n *newsroom) link(t *testing.T, articleID string, ttl any) linkJSON {
	t.Helper()
	var out struct{ CreatePreviewLink linkJSON }
	n.Query(t, `mutation($id: ID!, $ttl: Int) { createPreviewLink(articleId: $id, ttlSeconds: $ttl) { token url expiresAt } }`,
		map[string]any{"id": articleID, "ttl": ttl}, "Authorization", n.editor).Decode(t, &out)
	return out.CreatePreviewLink
}

const previewDoc = `query($token: String!) { articlePreview(token: $token) {
  id headline status authors { name } section { slug } tags { slug } } }`

type previewJSON struct {
	ArticlePreview *struct {
		ID, Headline, Status string
		Authors              []struct{ Name string }
		Section              struct{ Slug string }
		Tags                 []struct{ Slug string }
	}
}

// preview asks as an anonymous reader, the way a website's preview mode does.
func (n *newsroom) preview(t *testing.T, token string) (previewJSON, *testenv.Response) {
	t.Helper()
	var out previewJSON
	res := n.Query(t, previewDoc, map[string]any{"token": token})
	res.Decode(t, &out)
	return out, res
}

// A preview link opens its draft, byline and all, to anyone holding it,
// and the answer is kept by no cache.
func TestPreviewLinkOpensTheDraftAndIsNeverCached(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	id := n.draft(t, "Tram line to reopen")
	before := time.Now()
	l := n.link(t, id, nil)
	if l.Token == "" || l.ExpiresAt.Sub(before) < 59*time.Minute || l.ExpiresAt.Sub(before) > 61*time.Minute {
		t.Fatalf("link %+v: want an hour", l)
	}
	u, err := url.Parse(l.URL)
	if err != nil || !strings.HasPrefix(l.URL, "https://news.example.test/preview?") || u.Query().Get("token") != l.Token ||
		u.Query().Get("slug") != "tram-line-to-reopen" {
		t.Fatalf("url %q", l.URL)
	}
	for i := 0; i < 2; i++ {
		got, res := n.preview(t, l.Token)
		p := got.ArticlePreview
		if p == nil || p.ID != id || p.Status != "DRAFT" || len(p.Authors) != 1 || p.Authors[0].Name != "Mara Ōsaka" ||
			p.Section.Slug != "city" || len(p.Tags) != 1 || p.Tags[0].Slug != "transport" {
			t.Fatalf("preview %+v", p)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		for _, h := range []string{"X-Cache", "Surrogate-Key", "Cache-Tag", "ETag"} {
			if v := res.Header.Get(h); v != "" {
				t.Errorf("%s: %q on a preview", h, v)
			}
		}
	}
	// Over GET too, the way a CDN would see it.
	vars, _ := json.Marshal(map[string]string{"token": l.Token})
	res, body := testenv.Get(t, n.URL+"/graphql?query="+url.QueryEscape(previewDoc)+"&variables="+url.QueryEscape(string(vars)))
	if cc := res.Header.Get("Cache-Control"); cc != "private, no-store" || res.Header.Get("X-Cache") != "" ||
		!strings.Contains(string(body), "Tram line to reopen") {
		t.Errorf("GET preview: Cache-Control %q X-Cache %q body %s", cc, res.Header.Get("X-Cache"), body)
	}
	// Without the token, or with another, nothing; the article stays hidden.
	for _, token := range []string{"", "not-a-token", l.Token[:len(l.Token)-2] + "xx"} {
		if got, _ := n.preview(t, token); got.ArticlePreview != nil {
			t.Errorf("token %q opened %+v", token, got.ArticlePreview)
		}
	}
	var direct struct{ Article *struct{ ID string } }
	n.Query(t, `query($id: ID!) { article(id: $id) { id } }`, map[string]any{"id": id}).Decode(t, &direct)
	if direct.Article != nil {
		t.Fatal("the draft became visible to readers")
	}
}

// Tokens expire, are bound to their story, can be revoked, and work on
// every instance (the generated secret is shared through MongoDB).
func TestPreviewTokensExpireRevokeAndTravel(t *testing.T) {
	shared := testenv.Store(t, store.Options{})
	n := newNewsroom(t, testenv.ServiceOptions{Store: shared})
	other := testenv.NewService(t, testenv.ServiceOptions{Store: shared})
	id := n.draft(t, "Budget leaks")
	second := n.draft(t, "Budget leaks, part two")

	var elsewhere previewJSON
	other.Query(t, previewDoc, map[string]any{"token": n.link(t, id, nil).Token}).Decode(t, &elsewhere)
	if elsewhere.ArticlePreview == nil || elsewhere.ArticlePreview.ID != id {
		t.Fatal("another instance does not accept the token")
	}
	l := n.link(t, id, 1)
	time.Sleep(2100 * time.Millisecond)
	if got, _ := n.preview(t, l.Token); got.ArticlePreview != nil {
		t.Fatal("an expired token still opens the story")
	}

	a, b := n.link(t, id, 3600), n.link(t, second, 3600)
	var ok map[string]bool
	n.Query(t, `mutation($id: ID!) { revokePreviewLinks(articleId: $id) }`, map[string]any{"id": id}, "Authorization", n.editor).Decode(t, &ok)
	if got, _ := n.preview(t, a.Token); got.ArticlePreview != nil {
		t.Fatal("a revoked token still opens the story")
	}
	if got, _ := n.preview(t, b.Token); got.ArticlePreview == nil || got.ArticlePreview.ID != second {
		t.Fatal("revoking one story's links revoked another's")
	}
	if got, _ := n.preview(t, n.link(t, id, nil).Token); got.ArticlePreview == nil {
		t.Fatal("a link issued after the revocation does not work")
	}
}

func TestPreviewLinkInputAndRoles(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	id := n.draft(t, "Pier closes")
	doc := `mutation($id: ID!, $ttl: Int) { createPreviewLink(articleId: $id, ttlSeconds: $ttl) { token } }`
	for _, ttl := range []int{0, -5, 7*24*3600 + 1} {
		res := n.Query(t, doc, map[string]any{"id": id, "ttl": ttl}, "Authorization", n.editor)
		if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "ttlSeconds" {
			t.Errorf("ttl %d: %+v", ttl, res.Errors)
		}
	}
	if res := n.Query(t, doc, map[string]any{"id": id, "ttl": 7 * 24 * 3600}, "Authorization", n.editor); res.Code() != "" {
		t.Errorf("seven days refused: %+v", res.Errors)
	}
	if res := n.Query(t, doc, map[string]any{"id": news.GlobalID(news.NodeArticle, "nope")}, "Authorization", n.editor); res.Code() != "NOT_FOUND" {
		t.Errorf("unknown story: %+v", res.Errors)
	}
	if res := n.Query(t, doc, map[string]any{"id": id}, "Authorization", n.partner); res.Code() != "FORBIDDEN" {
		t.Errorf("partner: %+v", res.Errors)
	}
	if res := n.Query(t, doc, map[string]any{"id": id}); res.Code() != "UNAUTHENTICATED" {
		t.Errorf("reader: %+v", res.Errors)
	}
	if res := n.Query(t, `mutation($id: ID!) { revokePreviewLinks(articleId: $id) }`, map[string]any{"id": id}, "Authorization", n.partner); res.Code() != "FORBIDDEN" {
		t.Errorf("partner revoking: %+v", res.Errors)
	}
}
