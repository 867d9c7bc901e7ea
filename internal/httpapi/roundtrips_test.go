package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// A page of articles with bylines, sections and tags costs the database no
// scan whatever its size: the query index names the page, each story the
// cache does not hold is one _id find, and bylines and sections and tags
// are a batch each. Counted with the driver's command monitor.
func TestArticlePageCostsItsStoriesAndTwoBatches(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	seedBylinedArticles(t, svc, 60)

	// The first list a service serves also learns when the next scheduled
	// story is due (one find, then remembered); do that first so the count
	// below is the page's own. It touches no bylines, sections or tags.
	svc.Query(t, `{ articles(first: 1) { edges { node { slug } } } }`, nil)

	query := `query($first: Int) { articles(first: $first) { edges { node {
	  headline authors { name slug } section { name } tags { name } } } } }`
	for _, first := range []int{20, 50} {
		before := svc.Store.RoundTrips()
		var data struct{ Articles pageJSON }
		svc.Query(t, query, map[string]any{"first": first}).Decode(t, &data)
		trips := svc.Store.RoundTrips() - before
		if len(data.Articles.Edges) != first {
			t.Fatalf("got %d articles", len(data.Articles.Edges))
		}
		t.Logf("first=%d: %d round trips", first, trips)
		// The query index names the page; each story not cached yet is one
		// _id find (a $in is a full scan on FerretDB); bylines, sections
		// and tags are one batch each.
		if trips > int64(first+2) {
			t.Errorf("a page of %d articles with authors, section and tags cost %d round trips, want at most %d", first, trips, first+2)
		}
	}
}

// seedBylinedArticles adds n stories over three sections, eight tags and six
// authors, each with two bylines and two tags.
func seedBylinedArticles(t *testing.T, svc *testenv.Service, n int) []*news.Article {
	t.Helper()
	sections := []string{"politics", "business", "climate"}
	for _, s := range sections {
		svc.AddSection(t, s, s)
	}
	for i := 0; i < 8; i++ {
		svc.AddTag(t, fmt.Sprintf("tag-%d", i), fmt.Sprintf("Tag %d", i))
	}
	var authors []*news.Author
	for i := 0; i < 6; i++ {
		authors = append(authors, svc.AddAuthor(t, fmt.Sprintf("author-%d", i), fmt.Sprintf("Author %d", i)))
	}
	var articles []*news.Article
	for i := 0; i < n; i++ {
		a := testenv.NewArticle(fmt.Sprintf("story-%02d", i), time.Now().Add(-time.Duration(i)*time.Minute))
		a.Section = sections[i%3]
		a.Tags = []string{fmt.Sprintf("tag-%d", i%8), fmt.Sprintf("tag-%d", (i+3)%8)}
		a.AuthorIDs = []string{authors[i%6].ID, authors[(i+1)%6].ID}
		articles = append(articles, a)
	}
	svc.AddArticles(t, articles...)
	return articles
}
