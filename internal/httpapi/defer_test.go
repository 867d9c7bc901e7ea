package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

// The article page a website renders in two steps: headline and body at
// once, related stories and the embed when they are ready.
const deferredArticlePage = `query ArticlePage($slug: String!) {
  article(slug: $slug) {
    headline
    body(format: TEXT)
    ... @defer(label: "later") {
      related(first: 3) { article { slug } }
      embed { html }
    }
  }
}`

const deferSlug = "city-council-approves-late-night-bus-pilot-after-months-of-debate"

type deferredArticle struct {
	Article *struct {
		Headline string
		Related  []struct{ Article struct{ Slug string } }
		Embed    *struct{ HTML string }
	}
}

// A client that does not accept multipart/mixed asked for one response and
// gets one complete response, and what the cache replays is complete too.
func TestDeferWithoutMultipartGetsOneWholeResponse(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	for i, want := range []string{"MISS", "HIT"} {
		res := svc.Query(t, deferredArticlePage, map[string]any{"slug": deferSlug})
		if got := res.Header.Get("X-Cache"); got != want {
			t.Errorf("request %d: X-Cache %q, want %q", i+1, got, want)
		}
		var data deferredArticle
		res.Decode(t, &data)
		if data.Article == nil || data.Article.Headline == "" {
			t.Fatalf("request %d: no article: %s", i+1, res.Data)
		}
		if len(data.Article.Related) == 0 || data.Article.Embed == nil || data.Article.Embed.HTML == "" {
			t.Fatalf("request %d: the deferred fields are missing from a whole response: %s", i+1, res.Data)
		}
	}
	// The raw bytes carry no incremental-delivery markers at all.
	body, _ := json.Marshal(map[string]any{"query": deferredArticlePage, "variables": map[string]any{"slug": deferSlug}})
	res, err := http.Post(svc.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if bytes.Contains(raw, []byte("hasNext")) {
		t.Errorf("a whole response mentions hasNext: %s", raw)
	}
}

// A client that accepts multipart/mixed gets the page in parts; the parts
// are never cached, and a plain client asking the same afterwards still
// gets a whole answer.
func TestDeferOverMultipartDeliversParts(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	body, _ := json.Marshal(map[string]any{"query": deferredArticlePage, "variables": map[string]any{"slug": deferSlug}})
	for round := 0; round < 2; round++ {
		req, _ := http.NewRequest(http.MethodPost, svc.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "multipart/mixed; deferSpec=20220824, application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/mixed" {
			t.Fatalf("Content-Type %q, want multipart/mixed", res.Header.Get("Content-Type"))
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control %q: the parts must never be stored", cc)
		}
		if xc := res.Header.Get("X-Cache"); xc != "" {
			t.Errorf("X-Cache %q: the response cache must not see a multipart delivery", xc)
		}
		mr := multipart.NewReader(res.Body, params["boundary"])
		var parts []map[string]any
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			var v map[string]any
			if err := json.NewDecoder(p).Decode(&v); err != nil {
				t.Fatalf("part is not JSON: %v", err)
			}
			parts = append(parts, v)
		}
		res.Body.Close()
		if len(parts) < 2 {
			t.Fatalf("round %d: got %d parts, want the first and at least one incremental: %v", round, len(parts), parts)
		}
		first := parts[0]
		if first["hasNext"] != true {
			t.Errorf("first part: hasNext %v, want true", first["hasNext"])
		}
		article := first["data"].(map[string]any)["article"].(map[string]any)
		if article["headline"] == "" || article["body"] == "" {
			t.Errorf("first part lacks headline or body: %v", article)
		}
		var sawRelated bool
		for _, p := range parts[1:] {
			inc, _ := p["incremental"].([]any)
			for _, i := range inc {
				d, _ := i.(map[string]any)["data"].(map[string]any)
				if rel, ok := d["related"].([]any); ok && len(rel) > 0 {
					sawRelated = true
				}
			}
		}
		if !sawRelated || parts[len(parts)-1]["hasNext"] != false {
			t.Errorf("round %d: related never arrived or the stream did not end: %v", round, parts)
		}
	}
	res := svc.Query(t, deferredArticlePage, map[string]any{"slug": deferSlug})
	var data deferredArticle
	res.Decode(t, &data)
	if res.Header.Get("X-Cache") != "MISS" || data.Article == nil || len(data.Article.Related) == 0 {
		t.Errorf("after multipart deliveries a plain client got X-Cache %q, data %s", res.Header.Get("X-Cache"), res.Data)
	}
}
