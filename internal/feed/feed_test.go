package feed_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var formats = []struct {
	path, contentType, feedType string
}{
	{"/feeds/rss.xml", "application/rss+xml; charset=utf-8", "rss"},
	{"/feeds/atom.xml", "application/atom+xml; charset=utf-8", "atom"},
	{"/feeds/feed.json", "application/feed+json; charset=utf-8", "json"},
}

// get fetches a feed.
func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return testenv.Get(t, url, header...)
}

// parse checks that a feed is what a real feed reader accepts: gofeed for
// all three formats, and encoding/xml for well-formedness of the XML ones.
func parse(t *testing.T, feedType string, body []byte) *gofeed.Feed {
	t.Helper()
	if feedType != "json" {
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s feed is not well-formed XML: %v\n%s", feedType, err, body)
			}
		}
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gofeed cannot parse the %s feed: %v\n%s", feedType, err, body)
	}
	if f.FeedType != feedType {
		t.Fatalf("gofeed sees a %q feed, want %q", f.FeedType, feedType)
	}
	return f
}

func TestFeedsParseWithNewestPublishedStoriesFirst(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	for _, ft := range formats {
		t.Run(ft.feedType, func(t *testing.T) {
			res, body := get(t, svc.URL+ft.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if got := res.Header.Get("Content-Type"); got != ft.contentType {
				t.Errorf("Content-Type %q, want %q", got, ft.contentType)
			}
			f := parse(t, ft.feedType, body)
			if len(f.Items) != 30 {
				t.Fatalf("%d items, want the newest 30", len(f.Items))
			}
			if f.Title != "Riverside Courier" {
				t.Errorf("title %q", f.Title)
			}
			if f.FeedLink != svc.BaseURL+ft.path {
				t.Errorf("self link %q, want %q", f.FeedLink, svc.BaseURL+ft.path)
			}
			var prev time.Time
			for i, it := range f.Items {
				if it.PublishedParsed == nil {
					t.Fatalf("item %d has no publication date", i)
				}
				if i > 0 && it.PublishedParsed.After(prev) {
					t.Errorf("item %d (%s) is newer than the one before it", i, it.Title)
				}
				prev = *it.PublishedParsed
				if !strings.HasPrefix(it.Link, svc.BaseURL+"/") || it.Title == "" || it.Content == "" {
					t.Errorf("item %d: link %q, title %q, %d bytes of content", i, it.Link, it.Title, len(it.Content))
				}
				if len(it.Authors) == 0 || it.Authors[0].Name == "" {
					t.Errorf("item %d (%s) has no byline", i, it.Title)
				}
				if len(it.Categories) == 0 {
					t.Errorf("item %d (%s) has no categories", i, it.Title)
				}
			}
		})
	}
}

// The RSS feed carries what news readers show beside a story: the sanitised
// body, the picture with its credit, and the bylines.
func TestRSSCarriesBodyImageCreditAndBylines(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	_, body := get(t, svc.URL+"/feeds/rss.xml?section=politics")
	f := parse(t, "rss", body)
	var bus *gofeed.Item
	for _, it := range f.Items {
		if strings.HasSuffix(it.Link, "/politics/city-council-approves-late-night-bus-pilot-after-months-of-debate") {
			bus = it
		}
	}
	if bus == nil {
		t.Fatalf("the bus pilot story is not in the politics feed:\n%s", body)
	}
	if !strings.Contains(bus.Content, "<p>") || !strings.Contains(bus.Content, "<strong>Riverside Transit Authority</strong>") {
		t.Errorf("content:encoded is not the story's HTML: %.200s", bus.Content)
	}
	if bus.DublinCoreExt == nil || len(bus.DublinCoreExt.Creator) != 1 || bus.DublinCoreExt.Creator[0] != "Marcus Hale" {
		t.Errorf("dc:creator = %+v", bus.DublinCoreExt)
	}
	media := bus.Extensions["media"]["content"]
	if len(media) != 1 {
		t.Fatalf("media:content = %+v", bus.Extensions["media"])
	}
	m := media[0]
	if m.Attrs["url"] != "https://images.riversidecourier.example/2026/council-chamber-bus-vote.jpg" ||
		m.Attrs["medium"] != "image" || m.Attrs["width"] != "1600" || m.Attrs["height"] != "900" {
		t.Errorf("media:content attributes %+v", m.Attrs)
	}
	if c := m.Children["credit"]; len(c) != 1 || c[0].Value != "Jonah Whitlock / Riverside Courier" {
		t.Errorf("media:credit = %+v", m.Children["credit"])
	}
	if f.Title != "Politics · Riverside Courier" {
		t.Errorf("title %q", f.Title)
	}
}

func TestFeedsFilterBySectionTagAndAuthor(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	hidden := []string{
		"eastbank-affordable-housing-quota-could-fall-to-20-documents-show",   // draft
		"lumenfold-in-talks-to-sell-its-paused-payments-unit",                 // draft
		"port-of-riverside-posts-record-quarter-as-container-volumes-rise-18", // scheduled
	}
	cases := []struct {
		query, want string
		check       func(it *gofeed.Item) bool
	}{
		{"?section=climate", "Climate", func(it *gofeed.Item) bool { return strings.Contains(it.Link, "/climate/") }},
		{"?tag=marrow-river", "Marrow River", func(it *gofeed.Item) bool { return slices.Contains(it.Categories, "Marrow River") }},
		{"?author=marcus-hale", "Marcus Hale", func(it *gofeed.Item) bool { return slices.Contains(bylines(it), "Marcus Hale") }},
		{"?section=business", "Business", func(it *gofeed.Item) bool { return strings.Contains(it.Link, "/business/") }},
		{"?section=politics&tag=housing", "Politics", func(it *gofeed.Item) bool { return slices.Contains(it.Categories, "Housing") }},
	}
	for _, c := range cases {
		for _, ft := range formats {
			res, body := get(t, svc.URL+ft.path+c.query)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s%s: status %d: %s", ft.path, c.query, res.StatusCode, body)
			}
			f := parse(t, ft.feedType, body)
			if len(f.Items) == 0 || f.Title != c.want+" · Riverside Courier" {
				t.Errorf("%s%s: %d items, title %q", ft.path, c.query, len(f.Items), f.Title)
			}
			for _, it := range f.Items {
				if !c.check(it) {
					t.Errorf("%s%s: %q does not belong", ft.path, c.query, it.Link)
				}
				for _, h := range hidden {
					if strings.HasSuffix(it.Link, "/"+h) {
						t.Errorf("%s%s: unpublished %s is in the feed", ft.path, c.query, h)
					}
				}
			}
		}
	}
}

// bylines are an item's author names. gofeed keeps only the first of
// several dc:creator elements in Authors, so RSS bylines come from the
// Dublin Core extension.
func bylines(it *gofeed.Item) []string {
	if it.DublinCoreExt != nil && len(it.DublinCoreExt.Creator) > 0 {
		return it.DublinCoreExt.Creator
	}
	var names []string
	for _, a := range it.Authors {
		names = append(names, a.Name)
	}
	return names
}

func TestFeedLimitAndUnknownFilters(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	_, body := get(t, svc.URL+"/feeds/feed.json?limit=5")
	if f := parse(t, "json", body); len(f.Items) != 5 || f.FeedLink != svc.BaseURL+"/feeds/feed.json?limit=5" {
		t.Errorf("limit=5: %d items, feed_url %q", len(f.Items), f.FeedLink)
	}
	_, body = get(t, svc.URL+"/feeds/atom.xml?limit=100")
	if f := parse(t, "atom", body); len(f.Items) != 42 {
		t.Errorf("limit=100: %d items, want all 42 published", len(f.Items))
	}
	for _, q := range []string{"?section=gardening", "?tag=no-such-tag", "?author=nobody", "?section=Not%20A%20Slug"} {
		res, body := get(t, svc.URL+"/feeds/rss.xml"+q)
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(string(body), "no ") {
			t.Errorf("%s: status %d, body %q; want 404 with a short message", q, res.StatusCode, body)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=ten"} {
		if res, body := get(t, svc.URL+"/feeds/rss.xml"+q); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, body %q; want 400", q, res.StatusCode, body)
		}
	}
}

func TestFeedsRevalidateWithETagAndLastModified(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	for _, ft := range formats {
		res, body := get(t, svc.URL+ft.path)
		etag, modified := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
		if etag == "" || modified == "" {
			t.Fatalf("%s: ETag %q, Last-Modified %q", ft.path, etag, modified)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "public") ||
			!strings.Contains(cc, "max-age=60") || !strings.Contains(cc, "stale-while-revalidate") {
			t.Errorf("%s: Cache-Control %q", ft.path, cc)
		}
		if res, again := get(t, svc.URL+ft.path); res.Header.Get("ETag") != etag || !bytes.Equal(again, body) {
			t.Errorf("%s: the same content gave a different ETag or body", ft.path)
		}
		if res, b := get(t, svc.URL+ft.path, "If-None-Match", etag); res.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("%s If-None-Match: status %d, %d bytes", ft.path, res.StatusCode, len(b))
		}
		if res, _ := get(t, svc.URL+ft.path, "If-None-Match", `"stale"`); res.StatusCode != http.StatusOK {
			t.Errorf("%s stale If-None-Match: status %d", ft.path, res.StatusCode)
		}
		if res, _ := get(t, svc.URL+ft.path, "If-Modified-Since", modified); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s If-Modified-Since: status %d", ft.path, res.StatusCode)
		}
		earlier := time.Now().Add(-90 * 24 * time.Hour).UTC().Format(http.TimeFormat)
		if res, _ := get(t, svc.URL+ft.path, "If-Modified-Since", earlier); res.StatusCode != http.StatusOK {
			t.Errorf("%s old If-Modified-Since: status %d", ft.path, res.StatusCode)
		}
		if res, _ := get(t, svc.URL+ft.path+"?section=climate", "If-None-Match", etag); res.StatusCode != http.StatusOK {
			t.Errorf("%s: another feed's ETag matched", ft.path)
		}
	}
	// A new story changes the feed, so the old validators no longer match.
	res, _ := get(t, svc.URL+"/feeds/rss.xml")
	etag := res.Header.Get("ETag")
	svc.AddArticles(t, testenv.NewArticle("breaking-news", time.Now().Add(-time.Second)))
	if res, _ := get(t, svc.URL+"/feeds/rss.xml", "If-None-Match", etag); res.StatusCode != http.StatusOK {
		t.Errorf("after a new story: status %d, want 200", res.StatusCode)
	}
}

func TestFeedsEscapeHostileText(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "news", "News <b>&</b>")
	au := svc.AddAuthor(t, "eve", `Eve "</dc:creator><script>alert(1)</script>`)
	a := testenv.NewArticle("hostile", time.Now().Add(-time.Minute))
	a.Headline = `<script>alert("headline")</script> ]]> </title> & "quotes" 'too'`
	a.Dek = `<script>alert('dek')</script>`
	a.Body = "Hello <script>alert('body')</script> world.\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))"
	a.Section, a.AuthorIDs = "news", []string{au.ID}
	a.FeaturedImage = &news.Image{URL: `https://img.example/a.jpg?x="><script>`, Alt: "alt", Credit: `</media:credit><script>x</script>`}
	svc.AddArticles(t, a)
	for _, ft := range formats {
		_, body := get(t, svc.URL+ft.path)
		if bytes.Contains(bytes.ToLower(body), []byte("<script")) {
			t.Errorf("%s: a <script> appears unescaped:\n%s", ft.path, body)
		}
		f := parse(t, ft.feedType, body)
		if len(f.Items) != 1 {
			t.Fatalf("%s: %d items", ft.path, len(f.Items))
		}
		it := f.Items[0]
		if it.Title != a.Headline {
			t.Errorf("%s: title %q, want the headline as text %q", ft.path, it.Title, a.Headline)
		}
		if strings.Contains(strings.ToLower(it.Content), "<script") || strings.Contains(it.Content, "onerror") ||
			strings.Contains(it.Content, "javascript:") {
			t.Errorf("%s: content is not sanitised: %s", ft.path, it.Content)
		}
		if ft.feedType == "json" {
			// gofeed reads "Name <email>" out of JSON author names, which
			// mangles this one; read the feed's own field instead.
			var doc struct {
				Items []struct{ Authors []struct{ Name string } }
			}
			if err := json.Unmarshal(body, &doc); err != nil || doc.Items[0].Authors[0].Name != au.Name {
				t.Errorf("%s: authors %+v (%v)", ft.path, doc.Items, err)
			}
		} else if got := bylines(it); len(got) != 1 || got[0] != au.Name {
			t.Errorf("%s: bylines %q", ft.path, got)
		}
	}
}

// A feed asks the database for nothing but its stories (one _id find each,
// which the query index names; none once cached), one batch of bylines and
// one of sections and tags: no scan, whatever the archive's size.
func TestFeedCostsItsStoriesAndTwoBatches(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	// The first list a service serves also learns when the next scheduled
	// story is due (one find, then remembered); get that out of the way.
	svc.Query(t, `{ articles(first: 1) { edges { node { slug } } } }`, nil)
	before := svc.Store.RoundTrips()
	if res, _ := get(t, svc.URL+"/feeds/rss.xml?limit=100"); res.StatusCode != http.StatusOK {
		t.Fatal(res.Status)
	}
	if trips := svc.Store.RoundTrips() - before; trips > 42+2 {
		t.Errorf("a feed of 42 stories cost %d round trips, want at most 44", trips)
	}
	before = svc.Store.RoundTrips()
	if res, _ := get(t, svc.URL+"/feeds/atom.xml?limit=100"); res.StatusCode != http.StatusOK {
		t.Fatal(res.Status)
	}
	if trips := svc.Store.RoundTrips() - before; trips != 0 {
		t.Errorf("the same stories again cost %d round trips, want 0", trips)
	}
}

// A section with nothing published yet still has a valid, empty feed.
func TestEmptyFeedIsValid(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "weather", "Weather")
	for _, ft := range formats {
		res, body := get(t, svc.URL+ft.path+"?section=weather")
		if res.StatusCode != http.StatusOK || res.Header.Get("Last-Modified") != "" {
			t.Errorf("%s: status %d, Last-Modified %q", ft.path, res.StatusCode, res.Header.Get("Last-Modified"))
		}
		if f := parse(t, ft.feedType, body); len(f.Items) != 0 || f.Title != "Weather · Riverside Courier" {
			t.Errorf("%s: %d items, title %q", ft.path, len(f.Items), f.Title)
		}
	}
}
