package edge_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// edgeTTL reads the max-age of the edge's Surrogate-Control (-1 when none).
func edgeTTL(h http.Header) int {
	sc := h.Get("Surrogate-Control")
	if h.Get("CDN-Cache-Control") != sc {
		return -2
	}
	_, rest, ok := strings.Cut(sc, "max-age=")
	if !ok {
		return -1
	}
	n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
	return n
}

func TestReadsAreLabelledForTheEdgeAndTheRestIsNot(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	story := testenv.NewArticle("ferry-times", time.Now().Add(-time.Hour))
	svc.AddArticles(t, story)
	get := func(rawQuery string, header ...string) http.Header {
		res, _ := testenv.Get(t, svc.URL+"/graphql?"+rawQuery, header...)
		return res.Header
	}
	const doc = `{ article(slug: "ferry-times") { headline } }`

	h := get("query=" + url.QueryEscape(doc))
	if !strings.Contains(h.Get("Surrogate-Key"), "article:"+story.ID) || !strings.Contains(h.Get("Cache-Tag"), "article:"+story.ID+",") && !strings.HasSuffix(h.Get("Cache-Tag"), "article:"+story.ID) {
		t.Errorf("tags: Surrogate-Key %q Cache-Tag %q", h.Get("Surrogate-Key"), h.Get("Cache-Tag"))
	}
	if ttl := edgeTTL(h); ttl != 86400 || !strings.Contains(h.Get("Surrogate-Control"), "stale-if-error=") {
		t.Errorf("edge control %q / %q", h.Get("Surrogate-Control"), h.Get("CDN-Cache-Control"))
	}
	if cc := h.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") || strings.Contains(cc, "86400") {
		t.Errorf("browser Cache-Control %q", cc)
	}
	// The same labels from the response cache's hit.
	if h := get("query=" + url.QueryEscape(doc)); h.Get("X-Cache") != "HIT" || !strings.Contains(h.Get("Surrogate-Key"), "article:"+story.ID) {
		t.Errorf("hit: X-Cache %q Surrogate-Key %q", h.Get("X-Cache"), h.Get("Surrogate-Key"))
	}

	// An APQ GET (hash only, once registered) is labelled too.
	sum := sha256.Sum256([]byte(doc))
	ext := url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`)
	get("query=" + url.QueryEscape(doc) + "&extensions=" + ext)
	if h := get("extensions=" + ext); !strings.Contains(h.Get("Surrogate-Key"), "article:"+story.ID) || edgeTTL(h) != 86400 {
		t.Errorf("APQ GET: %v", h)
	}

	// Not for the edge: a key, a preview token, an error.
	editor := svc.NewKey(t, news.RoleEditor)
	for name, h := range map[string]http.Header{
		"a key":     get("query="+url.QueryEscape(doc), "Authorization", editor),
		"a preview": get("query=" + url.QueryEscape(`query($preview: String) { article(slug: "ferry-times") { headline } }`) + "&variables=" + url.QueryEscape(`{"preview":"tok"}`)),
		"an error":  get("query=" + url.QueryEscape(`{ article(slug: "ferry-times") { nope } }`)),
	} {
		if h.Get("Surrogate-Key") != "" || h.Get("Cache-Tag") != "" || h.Get("Surrogate-Control") != "no-store" || h.Get("CDN-Cache-Control") != "no-store" {
			t.Errorf("%s: %v", name, h)
		}
		if name != "an error" && h.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%s: Cache-Control %q", name, h.Get("Cache-Control"))
		}
	}

	// Feeds and embeds carry the tags they were built from.
	res, _ := testenv.Get(t, svc.URL+"/feeds/rss.xml")
	if !strings.Contains(res.Header.Get("Surrogate-Key"), "articles") || edgeTTL(res.Header) <= 0 {
		t.Errorf("feed: %v", res.Header)
	}
	res, _ = testenv.Get(t, svc.URL+"/embed/ferry-times")
	if !strings.Contains(res.Header.Get("Surrogate-Key"), "article:"+story.ID) {
		t.Errorf("embed: %v", res.Header)
	}
	res, _ = testenv.Get(t, svc.URL+"/embed/no-such-story")
	if res.Header.Get("Surrogate-Key") != "" || res.Header.Get("Surrogate-Control") != "no-store" {
		t.Errorf("a 404 embed: %v", res.Header)
	}

	// A list that a scheduled story will join leaves the edge when it does.
	svc.AddArticles(t, testenv.NewArticle("tomorrows-news", time.Now().Add(time.Hour)))
	h = get("query=" + url.QueryEscape(`{ articles(first: 5) { edges { node { slug } } } }`))
	if ttl := edgeTTL(h); ttl <= 0 || ttl > 3600 {
		t.Errorf("a list before a scheduled story: edge max-age %d (%q)", ttl, h.Get("Surrogate-Control"))
	}
}
