package cache_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// MongoDB goes away: articles the cache holds are still served, even past
// their freshness (stale-if-error); what it does not hold gets a clean error.
func TestStaleIfErrorWhenMongoDBIsDown(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Cache: cache.Options{
		Articles: cache.TTLs{Fresh: 100 * time.Millisecond}}})
	a := testenv.NewArticle("cached-story", time.Now().Add(-time.Hour))
	svc.AddArticles(t, a, testenv.NewArticle("never-read", time.Now().Add(-time.Hour)))
	if got := headline(t, svc, a.Slug); got != a.Headline {
		t.Fatal(got)
	}
	time.Sleep(150 * time.Millisecond) // past freshness: the next read asks MongoDB
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// A different document, so the whole-response cache is not what answers.
	var data struct {
		Article *struct{ Slug, Headline string }
	}
	svc.Query(t, `query($s: String) { article(slug: $s) { slug headline } }`, map[string]any{"s": a.Slug}).Decode(t, &data)
	if data.Article == nil || data.Article.Headline != a.Headline {
		t.Fatalf("cached article not served while MongoDB is down: %+v", data.Article)
	}
	res := svc.Query(t, bySlug, map[string]any{"s": "never-read"})
	if res.Code() != "INTERNAL_SERVER_ERROR" || res.Errors[0].Extensions["requestId"] == nil {
		t.Fatalf("uncached read while MongoDB is down: %+v", res.Errors)
	}
}

// A hash registered through one instance is known to every instance.
func TestPersistedQueriesAreShared(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
	a.AddArticles(t, testenv.NewArticle("apq-story", time.Now().Add(-time.Hour)))
	requireSharedAPQ(t, a, b, `{ articles(first: 2) { edges { node { slug } } } }`)
}

// requireSharedAPQ registers query's hash through a and asks b by hash alone.
func requireSharedAPQ(t *testing.T, a, b *testenv.Service, query string) {
	t.Helper()
	sum := sha256.Sum256([]byte(query))
	ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}})
	reg, _ := http.NewRequest(http.MethodGet, a.URL+"/graphql?query="+url.QueryEscape(query)+"&extensions="+url.QueryEscape(string(ext)), nil)
	if res := testenv.Do(t, reg); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	byHash, _ := http.NewRequest(http.MethodGet, b.URL+"/graphql?extensions="+url.QueryEscape(string(ext)), nil)
	res := testenv.Do(t, byHash)
	if len(res.Errors) > 0 {
		t.Fatalf("instance B does not know a hash registered on A: %+v", res.Errors)
	}
}

// Readers' views, including those answered from the response cache, rank
// mostRead; a section narrows it; unpublished stories drop out.
func TestMostRead(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	svc.AddSection(t, "sports", "Sports")
	svc.AddSection(t, "climate", "Climate")
	mk := func(slug, section string) string {
		a := testenv.NewArticle(slug, time.Now().Add(-time.Hour))
		a.Section = section
		svc.AddArticles(t, a)
		return slug
	}
	hot, warm, cold := mk("derby-result", "sports"), mk("heat-record", "climate"), mk("transfer-rumour", "sports")
	for slug, n := range map[string]int{hot: 5, warm: 3, cold: 1} {
		for i := 0; i < n; i++ {
			headline(t, svc, slug) // identical requests: all but the first are cache hits
		}
	}
	svc.Cache.Trending().Flush(context.Background())

	var data struct {
		All    []struct{ Slug string }
		Sports []struct{ Slug string }
	}
	svc.Query(t, `{ all: mostRead(window: HOUR) { slug } sports: mostRead(section: "sports", first: 5) { slug } }`, nil).Decode(t, &data)
	if len(data.All) != 3 || data.All[0].Slug != hot || data.All[1].Slug != warm || data.All[2].Slug != cold {
		t.Fatalf("mostRead = %+v", data.All)
	}
	if len(data.Sports) != 2 || data.Sports[0].Slug != hot || data.Sports[1].Slug != cold {
		t.Fatalf("mostRead(section: sports) = %+v", data.Sports)
	}
	if res := svc.Query(t, `{ mostRead(section: "weather") { slug } }`, nil); res.Code() != "BAD_USER_INPUT" {
		t.Fatalf("unknown section: %+v", res.Errors)
	}
	if res := svc.Query(t, `{ mostRead(first: 51) { slug } }`, nil); res.Code() != "BAD_USER_INPUT" {
		t.Fatalf("first above the cap: %+v", res.Errors)
	}
}

// A scheduled story appears at its moment although the lists that will show
// it are cached, and never before.
func TestScheduledStoryAppearsOnTimeThroughTheCache(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	svc.AddArticles(t, testenv.NewArticle("old-news", time.Now().Add(-time.Hour)))
	list := `{ articles(first: 5) { edges { node { slug } } } }`
	count := func() int {
		var data struct {
			Articles struct{ Edges []any }
		}
		svc.Query(t, list, nil).Decode(t, &data)
		return len(data.Articles.Edges)
	}
	if count() != 1 {
		t.Fatal("setup")
	}
	due := time.Now().Add(1500 * time.Millisecond)
	svc.AddArticles(t, testenv.NewArticle("embargoed", due))
	if n := count(); n != 1 {
		t.Fatalf("the scheduled story is visible before its time (%d articles)", n)
	}
	time.Sleep(time.Until(due) + 100*time.Millisecond)
	if n := count(); n != 2 {
		t.Fatalf("the scheduled story is not visible after its time (%d articles)", n)
	}
}
