package embed_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const busSlug = "city-council-approves-late-night-bus-pilot-after-months-of-debate"

func get(t *testing.T, u string, header ...string) (*http.Response, string) {
	t.Helper()
	res, body := testenv.Get(t, u, header...)
	return res, string(body)
}

type oembedJSON struct {
	Type            string `json:"type"`
	Version         string `json:"version"`
	Title           string `json:"title"`
	AuthorName      string `json:"author_name"`
	AuthorURL       string `json:"author_url"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	CacheAge        int    `json:"cache_age"`
	ThumbnailURL    string `json:"thumbnail_url"`
	ThumbnailWidth  int    `json:"thumbnail_width"`
	ThumbnailHeight int    `json:"thumbnail_height"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
}

func oembed(t *testing.T, svc *testenv.Service, params url.Values) (*http.Response, string, *oembedJSON) {
	t.Helper()
	res, body := get(t, svc.URL+"/oembed?"+params.Encode())
	if res.StatusCode != http.StatusOK {
		return res, body, nil
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var out oembedJSON
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("oEmbed answer is not JSON: %v\n%s", err, body)
	}
	return res, body, &out
}

// iframeOf parses oEmbed html: exactly one iframe and nothing else.
func iframeOf(t *testing.T, fragment string) map[string]string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].Data != "iframe" || nodes[0].FirstChild != nil {
		t.Fatalf("html is not one empty iframe: %s", fragment)
	}
	attrs := map[string]string{}
	for _, a := range nodes[0].Attr {
		attrs[a.Key] = a.Val
	}
	return attrs
}

func TestOEmbedDescribesAPublishedStory(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	story := svc.BaseURL + "/politics/" + busSlug
	res, body, o := oembed(t, svc, url.Values{"url": {story}, "format": {"json"}})
	if o == nil {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	want := oembedJSON{
		Type: "rich", Version: "1.0",
		Title:      "City council approves late-night bus pilot after months of debate",
		AuthorName: "Marcus Hale", AuthorURL: "https://riversidecourier.example/staff/marcus-hale",
		ProviderName: "Riverside Courier", ProviderURL: svc.BaseURL + "/", CacheAge: 300,
		ThumbnailURL:   "https://images.riversidecourier.example/2026/council-chamber-bus-vote.jpg",
		ThumbnailWidth: 1600, ThumbnailHeight: 900,
		Width: 600, Height: 400,
	}
	got := *o
	got.HTML = ""
	if got != want {
		t.Errorf("oEmbed\n got %+v\nwant %+v", got, want)
	}
	frame := iframeOf(t, o.HTML)
	if frame["src"] != svc.BaseURL+"/embed/"+busSlug || frame["width"] != "600" || frame["height"] != "400" ||
		frame["sandbox"] != "allow-popups allow-popups-to-escape-sandbox" || frame["title"] != want.Title {
		t.Errorf("iframe %+v", frame)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" || res.Header.Get("ETag") == "" {
		t.Errorf("Cache-Control %q, ETag %q", cc, res.Header.Get("ETag"))
	}

	// No format means JSON; a trailing slash and an upper-case host are the
	// same address.
	if res, body, _ := oembed(t, svc, url.Values{"url": {strings.ToUpper(svc.BaseURL[:14]) + svc.BaseURL[14:] + "/politics/" + busSlug + "/"}}); res.StatusCode != http.StatusOK {
		t.Errorf("variant URL: status %d: %s", res.StatusCode, body)
	}
}

func TestOEmbedHonoursMaxWidthAndMaxHeight(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	story := svc.BaseURL + "/politics/" + busSlug
	cases := []struct {
		maxW, maxH       string
		w, h, thumbW, th int
	}{
		{"320", "", 320, 400, 320, 180},
		{"320", "240", 320, 240, 320, 180},
		{"1000", "100", 600, 100, 177, 100},
		{"2000", "2000", 600, 400, 1600, 900},
		{"100000", "", 600, 400, 1600, 900},
	}
	for _, c := range cases {
		_, body, o := oembed(t, svc, url.Values{"url": {story}, "maxwidth": {c.maxW}, "maxheight": {c.maxH}})
		if o == nil {
			t.Fatalf("maxwidth=%s maxheight=%s: %s", c.maxW, c.maxH, body)
		}
		frame := iframeOf(t, o.HTML)
		if o.Width != c.w || o.Height != c.h || frame["width"] != itoa(c.w) || frame["height"] != itoa(c.h) {
			t.Errorf("maxwidth=%s maxheight=%s: %dx%d, iframe %sx%s; want %dx%d", c.maxW, c.maxH,
				o.Width, o.Height, frame["width"], frame["height"], c.w, c.h)
		}
		if o.ThumbnailWidth != c.thumbW || o.ThumbnailHeight != c.th {
			t.Errorf("maxwidth=%s maxheight=%s: thumbnail %dx%d, want %dx%d", c.maxW, c.maxH,
				o.ThumbnailWidth, o.ThumbnailHeight, c.thumbW, c.th)
		}
		if c.thumbW < 1600 && !strings.Contains(o.ThumbnailURL, "w="+itoa(c.thumbW)) {
			t.Errorf("thumbnail %q is not a %dpx rendition", o.ThumbnailURL, c.thumbW)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestOEmbedRefusesWhatItDoesNotServe(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	base := svc.BaseURL
	cases := []struct {
		name   string
		params url.Values
		status int
	}{
		{"xml", url.Values{"url": {base + "/politics/" + busSlug}, "format": {"xml"}}, http.StatusNotImplemented},
		{"missing url", url.Values{"format": {"json"}}, http.StatusBadRequest},
		{"maxwidth not a number", url.Values{"url": {base + "/politics/" + busSlug}, "maxwidth": {"wide"}}, http.StatusBadRequest},
		{"maxwidth zero", url.Values{"url": {base + "/politics/" + busSlug}, "maxwidth": {"0"}}, http.StatusBadRequest},
		{"unknown story", url.Values{"url": {base + "/politics/no-such-story"}}, http.StatusNotFound},
		{"draft", url.Values{"url": {base + "/politics/eastbank-affordable-housing-quota-could-fall-to-20-documents-show"}}, http.StatusNotFound},
		{"scheduled", url.Values{"url": {base + "/business/port-of-riverside-posts-record-quarter-as-container-volumes-rise-18"}}, http.StatusNotFound},
		{"other host", url.Values{"url": {"https://evil.example/politics/" + busSlug}}, http.StatusNotFound},
		{"other host with ours as a subdomain", url.Values{"url": {"https://news.example.test.evil.example/politics/" + busSlug}}, http.StatusNotFound},
		{"wrong section", url.Values{"url": {base + "/sports/" + busSlug}}, http.StatusNotFound},
		{"slug without its section", url.Values{"url": {base + "/" + busSlug}}, http.StatusNotFound},
		{"too deep", url.Values{"url": {base + "/a/politics/" + busSlug}}, http.StatusNotFound},
		{"not http", url.Values{"url": {"javascript:alert(1)//news.example.test/" + busSlug}}, http.StatusNotFound},
		{"home page", url.Values{"url": {base + "/"}}, http.StatusNotFound},
	}
	for _, c := range cases {
		res, body := get(t, svc.URL+"/oembed?"+c.params.Encode())
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d (%s), want %d", c.name, res.StatusCode, body, c.status)
		}
	}
}

func TestEmbedCardIsSelfContainedCacheableAndDiscoverable(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	res, body := get(t, svc.URL+"/embed/"+busSlug)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	h := res.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "img-src https: http:") || !strings.Contains(csp, "style-src 'unsafe-inline'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if h.Get("Cache-Control") != "public, max-age=300" || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("Cache-Control %q, Content-Type %q", h.Get("Cache-Control"), h.Get("Content-Type"))
	}
	if len(body) > 8<<10 {
		t.Errorf("the card is %d bytes; it should stay small", len(body))
	}
	doc := parseCard(t, body)
	canonical := svc.BaseURL + "/politics/" + busSlug
	for _, want := range []string{
		"City council approves late-night bus pilot after months of debate", // headline
		"Councillors voted 27 to 14",                                        // dek
		"Jonah Whitlock / Riverside Courier",                                // image credit
		"By Marcus Hale",                                                    // byline
		"Politics",                                                          // section
	} {
		if !strings.Contains(doc.text, want) {
			t.Errorf("the card does not show %q", want)
		}
	}
	if len(doc.scripts) > 0 || len(doc.stylesheets) > 0 {
		t.Errorf("the card loads scripts %v or stylesheets %v", doc.scripts, doc.stylesheets)
	}
	if doc.oembed != svc.BaseURL+"/oembed?format=json&url="+url.QueryEscape(canonical) {
		t.Errorf("oEmbed discovery link %q", doc.oembed)
	}
	if len(doc.images) != 1 || !strings.HasPrefix(doc.images[0], "https://images.riversidecourier.example/2026/council-chamber-bus-vote.jpg?w=") {
		t.Errorf("images %v", doc.images)
	}
	storyLinks := 0
	for _, a := range doc.links {
		if a["href"] == canonical {
			storyLinks++
			if a["target"] != "_blank" || !strings.Contains(a["rel"], "noopener") {
				t.Errorf("story link %+v does not open safely in a new tab", a)
			}
		}
	}
	if storyLinks == 0 {
		t.Errorf("no link to the canonical story %s", canonical)
	}

	etag, modified := h.Get("ETag"), h.Get("Last-Modified")
	if res, b := get(t, svc.URL+"/embed/"+busSlug, "If-None-Match", etag); res.StatusCode != http.StatusNotModified || b != "" {
		t.Errorf("If-None-Match: status %d", res.StatusCode)
	}
	if res, _ := get(t, svc.URL+"/embed/"+busSlug, "If-Modified-Since", modified); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: status %d", res.StatusCode)
	}

	for _, slug := range []string{"no-such-story", "eastbank-affordable-housing-quota-could-fall-to-20-documents-show",
		"port-of-riverside-posts-record-quarter-as-container-volumes-rise-18", "Not%20A%20Slug"} {
		if res, _ := get(t, svc.URL+"/embed/"+slug); res.StatusCode != http.StatusNotFound {
			t.Errorf("/embed/%s: status %d, want 404", slug, res.StatusCode)
		}
	}
}

func TestEmbedEscapesHostileText(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "news", `News</p><script>alert("section")</script>`)
	au := svc.AddAuthor(t, "eve", `Eve <img src=x onerror=alert(1)>`)
	a := testenv.NewArticle("hostile", time.Now().Add(-time.Minute))
	a.Section, a.AuthorIDs = "news", []string{au.ID}
	a.Headline = `"></iframe><script>alert('headline')</script> & 'quotes'`
	a.Dek = `</p><script>alert("dek")</script>`
	a.Source = &news.Source{Name: `Ledger<script>alert(1)</script>`, URL: `javascript:alert(1)`}
	a.FeaturedImage = &news.Image{URL: `javascript:alert(1)`, Alt: `" onerror="alert(1)`, Credit: `</figcaption><script>x</script>`}
	svc.AddArticles(t, a)

	_, body := get(t, svc.URL+"/embed/hostile")
	if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "</iframe>") ||
		strings.Contains(body, "javascript:") || strings.Contains(body, "<img src=x") {
		t.Errorf("the card lets hostile text through:\n%s", body)
	}
	doc := parseCard(t, body)
	if !strings.Contains(doc.text, a.Headline) || !strings.Contains(doc.text, "According to a report from "+a.Source.Name) ||
		!strings.Contains(doc.text, "By "+au.Name) {
		t.Errorf("the hostile strings are not shown as text:\n%s", doc.text)
	}

	_, _, o := oembed(t, svc, url.Values{"url": {svc.BaseURL + "/news/hostile"}})
	if o == nil {
		t.Fatal("no oEmbed answer")
	}
	if strings.Contains(o.HTML, "<script") || strings.Count(o.HTML, "</iframe>") != 1 || !strings.HasSuffix(o.HTML, "></iframe>") {
		t.Errorf("oEmbed html lets the headline out of its attribute: %s", o.HTML)
	}
	if frame := iframeOf(t, o.HTML); frame["title"] != a.Headline {
		t.Errorf("iframe title %q, want the headline", frame["title"])
	}
	if o.Title != a.Headline {
		t.Errorf("title %q", o.Title)
	}
}

func TestCardShowsSourceAttribution(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	a := testenv.NewArticle("wire-story", time.Now().Add(-time.Minute))
	a.Source = &news.Source{Name: "Riverside Ledger", URL: "https://ledger.example/story"}
	svc.AddArticles(t, a)
	// A story without a section lives at /{slug}.
	if res, body, _ := oembed(t, svc, url.Values{"url": {svc.BaseURL + "/wire-story"}}); res.StatusCode != http.StatusOK {
		t.Errorf("oEmbed for /wire-story: %d %s", res.StatusCode, body)
	}
	_, body := get(t, svc.URL+"/embed/wire-story")
	doc := parseCard(t, body)
	if !strings.Contains(doc.text, "According to a report from Riverside Ledger") {
		t.Errorf("no source attribution in %q", doc.text)
	}
	found := false
	for _, l := range doc.links {
		found = found || l["href"] == "https://ledger.example/story" && l["rel"] == "noopener"
	}
	if !found {
		t.Errorf("no link to the source: %+v", doc.links)
	}
}

func TestArticleEmbedField(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	var data struct {
		Article struct {
			Embed struct {
				HTML          string
				Width, Height int
				URL           string
			}
		}
	}
	svc.Query(t, `query($slug: String) { article(slug: $slug) { embed(maxWidth: 300) { html width height url } } }`,
		map[string]any{"slug": busSlug}).Decode(t, &data)
	e := data.Article.Embed
	if e.Width != 300 || e.Height != 400 || e.URL != svc.BaseURL+"/embed/"+busSlug {
		t.Errorf("embed %+v", e)
	}
	_, _, o := oembed(t, svc, url.Values{"url": {svc.BaseURL + "/politics/" + busSlug}, "maxwidth": {"300"}})
	if o == nil || o.HTML != e.HTML {
		t.Errorf("GraphQL and oEmbed disagree:\n%s\n%v", e.HTML, o)
	}
	res := svc.Query(t, `query($slug: String) { article(slug: $slug) { embed(maxWidth: 0) { html } } }`,
		map[string]any{"slug": busSlug})
	if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "maxWidth" {
		t.Errorf("maxWidth: 0 gave %+v", res.Errors)
	}
}

// card is what a browser would make of a card page.
type card struct {
	text        string
	scripts     []string
	stylesheets []string
	images      []string
	oembed      string
	links       []map[string]string
}

func parseCard(t *testing.T, body string) card {
	t.Helper()
	root, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var c card
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		attrs := map[string]string{}
		for _, a := range n.Attr {
			attrs[a.Key] = a.Val
		}
		switch {
		case n.Type == html.TextNode && (n.Parent == nil || n.Parent.Data != "style"):
			text.WriteString(n.Data)
		case n.Data == "script":
			c.scripts = append(c.scripts, attrs["src"])
		case n.Data == "link" && attrs["rel"] == "stylesheet":
			c.stylesheets = append(c.stylesheets, attrs["href"])
		case n.Data == "link" && attrs["rel"] == "alternate" && attrs["type"] == "application/json+oembed":
			c.oembed = attrs["href"]
		case n.Data == "img":
			c.images = append(c.images, attrs["src"])
		case n.Data == "a":
			c.links = append(c.links, attrs)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(root)
	c.text = text.String()
	return c
}

// A card is at most three round trips (the story, its bylines, its
// section); an oEmbed answer at most two (the story, its bylines). The cache
// answers what an earlier request already loaded, so the oEmbed answer for
// the card's story costs nothing.
func TestEmbedRoundTrips(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	for _, c := range []struct {
		path string
		want int64
	}{
		{"/embed/" + busSlug, 3},
		{"/oembed?" + url.Values{"url": {svc.BaseURL + "/politics/" + busSlug}}.Encode(), 2},
	} {
		before := svc.Store.RoundTrips()
		if res, body := get(t, svc.URL+c.path); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, res.StatusCode, body)
		}
		if got := svc.Store.RoundTrips() - before; got > c.want {
			t.Errorf("%s cost %d round trips, want at most %d", c.path, got, c.want)
		}
	}
}
