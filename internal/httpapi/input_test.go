package httpapi_test

import (
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

// Everything a hostile or careless editor might type into a body.
var hostileBodies = []struct{ format, body string }{
	{"MARKDOWN", "Hi <script>alert(1)</script> there"},
	{"MARKDOWN", "<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)"},
	{"MARKDOWN", "![x](javascript:alert(1))\n\n<a href=\"JaVaScRiPt:alert(1)\">x</a>\n\n<iframe src=\"https://evil.example/\"></iframe>"},
	{"MARKDOWN", "<div onmouseover=\"alert(1)\">hover</div>\n\n<svg onload=alert(1)><script>alert(2)</script></svg>"},
	{"HTML", `<p onclick="alert(1)">Hi</p><script>alert(1)</script><a href="javascript:alert(1)">x</a>`},
	{"HTML", `<iframe src="https://www.youtube-nocookie.com/embed/x" srcdoc="<script>alert(1)</script>"></iframe><style>*{}</style>`},
	{"HTML", `<img src="x" onerror="alert(1)"><object data="evil.swf"></object><form action="javascript:alert(1)"><input></form>`},
	{"HTML", `<a href="&#106;avascript:alert(1)">entity</a><a href="java&#x09;script:alert(1)">tab</a>`},
	{"TEXT", "<script>alert(1)</script> and <img src=x onerror=alert(1)>"},
}

// dangerous are what must never reach a reader from a Markdown or HTML body,
// in any format it is served in. A TEXT body is the editor's words as typed:
// "onerror" may be among them, but no tag may open.
var dangerous = []string{"<script", "onerror", "onclick", "onload", "onmouseover", "javascript:", "<iframe", "srcdoc", "<object", "<form", "<style", "data:text/html"}

func TestHostileBodiesReachNoReaderAsMarkup(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	for i, h := range hostileBodies {
		a := n.create(t, map[string]any{"headline": "Hostile " + string(rune('a'+i)), "body": "Safe lead.\n\n" + h.body, "bodyFormat": h.format})
		if h.format == "HTML" {
			// HTML bodies start with the lead as Markdown text; make the
			// whole body HTML instead.
			var res *testenv.Response
			a, res = n.mutate(t, n.editor, "updateArticle", "id: $id, expectedVersion: $v, input: $in",
				map[string]any{"id": a.ID, "v": 1, "in": map[string]any{"body": "<p>Safe lead.</p>" + h.body, "bodyFormat": "HTML"}})
			if len(res.Errors) > 0 {
				t.Fatal(res.Errors)
			}
		}
		if _, res := n.mutate(t, n.editor, "publishArticle", "id: $id", map[string]any{"id": a.ID}); len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		for _, key := range []string{"", n.partner} {
			var out struct {
				Article struct{ HTML, Markdown, Text string }
			}
			n.as(t, key, `query($s: String) { article(slug: $s) { html: body(format: HTML) markdown: body(format: MARKDOWN) text: body(format: TEXT) } }`,
				map[string]any{"s": a.Slug}).Decode(t, &out)
			if !strings.Contains(out.Article.HTML, "Safe lead.") {
				t.Fatalf("body %d lost its text: %q", i, out.Article.HTML)
			}
			check := map[string]string{"HTML": out.Article.HTML, "MARKDOWN": out.Article.Markdown}
			bads := dangerous
			if h.format == "TEXT" {
				// Typed as text, it is text: escaped, so no tag may open.
				bads = []string{"<script", "<img"}
			} else {
				check["TEXT"] = out.Article.Text
			}
			for format, got := range check {
				for _, bad := range bads {
					if strings.Contains(strings.ToLower(got), bad) {
						t.Errorf("body %d (%s in) served as %s contains %q:\n%s", i, h.format, format, bad, got)
					}
				}
			}
		}
	}
}

func TestHostileTextFieldsAreRefusedNamingTheField(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	const script = `<script>alert(1)</script>`
	const handler = `x<img src=x onerror=alert(1)>`
	img := func(field, v string) map[string]any {
		m := map[string]any{"url": "https://img.example/a.jpg", "alt": "A bus"}
		m[field] = v
		return m
	}
	articleCases := []struct {
		input map[string]any
		field string
	}{
		{map[string]any{"headline": script}, "input.headline"},
		{map[string]any{"headline": "ok", "dek": handler}, "input.dek"},
		{map[string]any{"headline": "ok", "slug": `"><script>`}, "input.slug"},
		{map[string]any{"headline": "ok", "featuredImage": img("url", "javascript:alert(1)")}, "input.featuredImage.url"},
		{map[string]any{"headline": "ok", "featuredImage": img("url", "data:image/svg+xml,<svg onload=alert(1)>")}, "input.featuredImage.url"},
		{map[string]any{"headline": "ok", "featuredImage": img("alt", script)}, "input.featuredImage.alt"},
		{map[string]any{"headline": "ok", "featuredImage": img("caption", handler)}, "input.featuredImage.caption"},
		{map[string]any{"headline": "ok", "featuredImage": img("credit", "<!-- x -->")}, "input.featuredImage.credit"},
		{map[string]any{"headline": "ok", "source": map[string]any{"name": script}}, "input.source.name"},
		{map[string]any{"headline": "ok", "source": map[string]any{"name": "Wire", "url": "javascript:alert(1)"}}, "input.source.url"},
	}
	for _, c := range articleCases {
		res := n.as(t, n.editor, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`, map[string]any{"in": c.input})
		if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%v: %+v, want BAD_USER_INPUT on %s", c.input, res.Errors, c.field)
		}
	}
	authorCases := []struct {
		input map[string]any
		field string
	}{
		{map[string]any{"name": script}, "input.name"},
		{map[string]any{"name": "ok", "bio": handler}, "input.bio"},
		{map[string]any{"name": "ok", "location": script}, "input.location"},
		{map[string]any{"name": "ok", "url": "javascript:alert(1)"}, "input.url"},
		{map[string]any{"name": "ok", "avatar": img("url", "vbscript:x")}, "input.avatar.url"},
		{map[string]any{"name": "ok", "socialLinks": []any{map[string]any{"network": "x", "url": "javascript:alert(1)"}}}, "input.socialLinks[0].url"},
		{map[string]any{"name": "ok", "socialLinks": []any{map[string]any{"network": script, "url": "https://x.example"}}}, "input.socialLinks[0].network"},
	}
	for _, c := range authorCases {
		res := n.as(t, n.editor, `mutation($in: AuthorInput!) { createAuthor(input: $in) { id } }`, map[string]any{"in": c.input})
		if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%v: %+v, want BAD_USER_INPUT on %s", c.input, res.Errors, c.field)
		}
	}
	// Text that merely mentions a "<" is fine.
	if a := n.create(t, map[string]any{"headline": "Costs < revenue for the first time & more"}); a.Headline != "Costs < revenue for the first time & more" {
		t.Fatalf("headline %q", a.Headline)
	}
}

func TestRejectedMutationsWriteNothing(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{})
	a := n.create(t, map[string]any{"headline": "Tram line approved", "body": "Yes."})
	long := strings.Repeat("x", 141)
	bigBody := strings.Repeat("word ", 41*1024)
	upd := "id: $id, expectedVersion: $v, input: $in"
	cases := []struct {
		in    map[string]any
		field string
	}{
		{map[string]any{"headline": long}, "input.headline"},
		{map[string]any{"headline": "   "}, "input.headline"},
		{map[string]any{"dek": strings.Repeat("d", 281)}, "input.dek"},
		{map[string]any{"body": bigBody}, "input.body"},
		{map[string]any{"section": "weather"}, "input.section"},
		{map[string]any{"tags": []string{"transport", "nope"}}, "input.tags"},
		{map[string]any{"authorIds": []string{"QXV0aG9yOm5vYm9keQ"}}, "input.authorIds"},
		{map[string]any{"authorIds": []string{"not-an-id"}}, "input.authorIds"},
		{map[string]any{"slug": "Not A Slug"}, "input.slug"},
		{map[string]any{"headline": "New headline", "featuredImage": map[string]any{"url": "ftp://x.example/a.jpg", "alt": "a"}}, "input.featuredImage.url"},
	}
	for _, c := range cases {
		_, res := n.mutate(t, n.editor, "updateArticle", upd, map[string]any{"id": a.ID, "v": 1, "in": c.in})
		if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%.60v: %+v, want BAD_USER_INPUT on %s", c.in, res.Errors, c.field)
		}
	}
	_, res := n.mutate(t, n.editor, "publishArticle", "id: $id, at: $at", map[string]any{"id": a.ID, "at": "2999-01-01T00:00:00Z"})
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "at" {
		t.Errorf("far-future publication: %+v", res.Errors)
	}
	_, res = n.mutate(t, n.editor, "publishArticle", "id: $id, at: $at", map[string]any{"id": a.ID, "at": "next tuesday"})
	if res.Code() != "BAD_USER_INPUT" {
		t.Errorf("malformed time: %+v", res.Errors)
	}
	for _, in := range []map[string]any{{"body": bigBody, "headline": "x"}, {"headline": "x", "section": "weather"}} {
		res := n.as(t, n.editor, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`, map[string]any{"in": in})
		if res.Code() != "BAD_USER_INPUT" {
			t.Errorf("create %.40v: %+v", in, res.Errors)
		}
	}

	// Read back: the article, its revisions and the audit log are as before.
	var out struct {
		Article struct {
			Headline  string
			Version   int
			Revisions []struct{ Version int }
		}
		AuditLog []struct{ Operation string }
		Articles pageJSON
	}
	n.as(t, n.editor, `query($s: String) { article(slug: $s) { headline version revisions { version } }
		auditLog { operation } articles(filter: {status: DRAFT}) { edges { node { slug } } } }`,
		map[string]any{"s": a.Slug}).Decode(t, &out)
	if out.Article.Headline != "Tram line approved" || out.Article.Version != 1 || len(out.Article.Revisions) != 1 ||
		len(out.AuditLog) != 2 || len(out.Articles.Edges) != 1 {
		t.Fatalf("a rejected mutation left a trace: %+v", out)
	}
}
