package seo_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestArticleSeoIsNewsArticleJSONLDSafeInAScriptTag(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddSection(t, "city", "City")
	now := time.Now().UTC().Truncate(time.Second)
	byline := &news.Author{ID: bson.NewObjectID().Hex(), Slug: "marcus-hale", Name: "Marcus Hale",
		URL: "https://marcus.example/", SocialLinks: []news.SocialLink{}, CreatedAt: now, UpdatedAt: now}
	if err := svc.Store.InsertAuthors(context.Background(), []*news.Author{byline}); err != nil {
		t.Fatal(err)
	}
	a := testenv.NewArticle("bus-pilot", now.Add(-time.Hour))
	a.Headline = `Buses </script><script>alert("x")</script> & trams`
	a.Dek = "A six-month pilot."
	a.Section = "city"
	a.AuthorIDs = []string{byline.ID}
	a.FeaturedImage = &news.Image{URL: "https://img.example/bus.jpg", Alt: "A bus"}
	a.Source = &news.Source{Name: "Riverside Ledger", URL: "https://ledger.example/story"}
	svc.AddArticles(t, a)

	var out struct {
		Article struct {
			Seo struct {
				Title, Description, CanonicalURL, ModifiedTime, JSONLd string
				ImageURL, PublishedTime                                *string
			}
		}
	}
	svc.Query(t, `{ article(slug: "bus-pilot") { seo { title description canonicalUrl imageUrl publishedTime modifiedTime jsonLd } } }`,
		nil).Decode(t, &out)
	s := out.Article.Seo
	canonical := "https://news.example.test/city/bus-pilot"
	if s.Title != a.Headline || s.Description != "A six-month pilot." || s.CanonicalURL != canonical ||
		s.ImageURL == nil || *s.ImageURL != "https://img.example/bus.jpg" || s.PublishedTime == nil {
		t.Errorf("seo %+v", s)
	}
	if strings.ContainsAny(s.JSONLd, "<>") || strings.Contains(s.JSONLd, "&") {
		t.Fatalf("jsonLd can break out of <script>: %s", s.JSONLd)
	}
	var ld struct {
		Context       string `json:"@context"`
		Type          string `json:"@type"`
		Headline      string
		Description   string
		Image         []string
		DatePublished string
		DateModified  string
		Author        []struct {
			Type      string `json:"@type"`
			Name, URL string
		}
		Publisher struct {
			Type string `json:"@type"`
			Name string
			Logo struct{ URL string }
		}
		MainEntityOfPage struct {
			ID string `json:"@id"`
		}
		IsBasedOn *struct {
			URL       string
			Publisher struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(s.JSONLd), &ld); err != nil {
		t.Fatalf("jsonLd is not JSON: %v\n%s", err, s.JSONLd)
	}
	if ld.Context != "https://schema.org" || ld.Type != "NewsArticle" || ld.Headline != a.Headline ||
		ld.Description != "A six-month pilot." || len(ld.Image) != 1 || ld.DatePublished != a.PublishedAt.Format(time.RFC3339) ||
		ld.DateModified == "" || ld.MainEntityOfPage.ID != canonical {
		t.Errorf("jsonLd %s", s.JSONLd)
	}
	if len(ld.Author) != 1 || ld.Author[0].Type != "Person" || ld.Author[0].Name != "Marcus Hale" || ld.Author[0].URL != "https://marcus.example/" {
		t.Errorf("author %+v", ld.Author)
	}
	if ld.Publisher.Type != "Organization" || ld.Publisher.Name != "Riverside Courier" || ld.Publisher.Logo.URL == "" {
		t.Errorf("publisher %+v", ld.Publisher)
	}
	if ld.IsBasedOn == nil || ld.IsBasedOn.URL != "https://ledger.example/story" || ld.IsBasedOn.Publisher.Name != "Riverside Ledger" {
		t.Errorf("isBasedOn %+v", ld.IsBasedOn)
	}
}

type urlSet struct {
	XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
		News    *struct {
			Publication struct {
				Name     string `xml:"name"`
				Language string `xml:"language"`
			} `xml:"http://www.google.com/schemas/sitemap-news/0.9 publication"`
			PublicationDate string `xml:"http://www.google.com/schemas/sitemap-news/0.9 publication_date"`
			Title           string `xml:"http://www.google.com/schemas/sitemap-news/0.9 title"`
		} `xml:"http://www.google.com/schemas/sitemap-news/0.9 news"`
	} `xml:"url"`
}

func (u urlSet) locs() map[string]bool {
	m := map[string]bool{}
	for _, x := range u.URLs {
		m[x.Loc] = true
	}
	return m
}

func fetchXML(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	res, body := testenv.Get(t, url)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("GET %s: %d %s\n%s", url, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if err := xml.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: not a sitemap: %v\n%s", url, err, body)
	}
	return res
}

func TestSitemapsListPublishedStoriesByMonthAndTheLast48Hours(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	fresh := testenv.NewArticle("fresh", now.Add(-time.Hour))
	stale := testenv.NewArticle("two-days-ago", now.Add(-49*time.Hour))
	lastOfPrev := testenv.NewArticle("last-of-previous-month", month.Add(-time.Millisecond))
	firstOfThis := testenv.NewArticle("first-of-this-month", month)
	old := testenv.NewArticle("a-year-ago", month.AddDate(-1, 0, 3))
	draft := testenv.NewArticle("a-draft", now.Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt = news.StatusDraft, nil
	scheduled := testenv.NewArticle("scheduled", now.Add(time.Hour))
	svc.AddArticles(t, fresh, stale, lastOfPrev, firstOfThis, old, draft, scheduled)
	url := func(a *news.Article) string { return "https://news.example.test/" + a.Slug }

	var idx struct {
		XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
		Sitemaps []struct {
			Loc string `xml:"loc"`
		} `xml:"sitemap"`
	}
	res := fetchXML(t, svc.URL+"/sitemap.xml", &idx)
	if !strings.Contains(res.Header.Get("Surrogate-Key"), "articles") || res.Header.Get("Cache-Control") == "" {
		t.Errorf("sitemap index not tagged for the edge: %v", res.Header)
	}
	// Every month from the oldest story's to this one, and the news sitemap.
	if len(idx.Sitemaps) != 14 || idx.Sitemaps[0].Loc != svc.URL+"/sitemaps/news.xml" ||
		idx.Sitemaps[1].Loc != svc.URL+"/sitemaps/"+month.Format("2006-01")+".xml" ||
		idx.Sitemaps[13].Loc != svc.URL+"/sitemaps/"+old.PublishedAt.Format("2006-01")+".xml" {
		t.Errorf("index %+v", idx.Sitemaps)
	}

	var this, prev urlSet
	fetchXML(t, svc.URL+"/sitemaps/"+month.Format("2006-01")+".xml", &this)
	fetchXML(t, svc.URL+"/sitemaps/"+month.AddDate(0, -1, 0).Format("2006-01")+".xml", &prev)
	if got := this.locs(); !got[url(firstOfThis)] || got[url(lastOfPrev)] || got[url(draft)] || got[url(scheduled)] {
		t.Errorf("this month: %v", got)
	}
	if got := prev.locs(); !got[url(lastOfPrev)] || got[url(firstOfThis)] || got[url(draft)] {
		t.Errorf("previous month: %v", got)
	}
	for _, u := range this.URLs {
		if _, err := time.Parse(time.RFC3339, u.LastMod); err != nil {
			t.Errorf("lastmod %q: %v", u.LastMod, err)
		}
	}

	var gnews urlSet
	fetchXML(t, svc.URL+"/sitemaps/news.xml", &gnews)
	got := gnews.locs()
	if !got[url(fresh)] || got[url(stale)] || got[url(draft)] || got[url(scheduled)] || got[url(old)] {
		t.Errorf("news sitemap: %v", got)
	}
	for _, u := range gnews.URLs {
		if u.News == nil || u.News.Publication.Name != "Riverside Courier" || u.News.Publication.Language != "en" ||
			u.News.Title == "" || u.News.PublicationDate == "" {
			t.Errorf("news entry %+v", u)
		}
	}

	if res, _ := testenv.Get(t, svc.URL+"/sitemaps/2999-01.xml"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a future month: %d", res.StatusCode)
	}
	if res, _ := testenv.Get(t, svc.URL+"/sitemaps/nonsense.xml"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a bad name: %d", res.StatusCode)
	}
}

func TestRobotsNamesTheSitemapAndTheFaviconAnswers(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	res, body := testenv.Get(t, svc.URL+"/robots.txt")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Sitemap: "+svc.URL+"/sitemap.xml") {
		t.Errorf("robots.txt %d:\n%s", res.StatusCode, body)
	}
	res, body = testenv.Get(t, svc.URL+"/favicon.ico")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/x-icon" || len(body) < 22 ||
		string(body[:4]) != "\x00\x00\x01\x00" {
		t.Errorf("favicon %d %s %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
}
