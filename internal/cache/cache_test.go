package cache_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

const bySlug = `query($s: String) { article(slug: $s) { headline } }`

func headline(t *testing.T, svc *testenv.Service, slug string) string {
	t.Helper()
	var data struct {
		Article *struct{ Headline string }
	}
	svc.Query(t, bySlug, map[string]any{"s": slug}).Decode(t, &data)
	if data.Article == nil {
		return ""
	}
	return data.Article.Headline
}

// Two instances share one database and one Redis. Once a write through one
// has returned, neither serves what it replaced.
func TestWriteIsSeenThroughBothInstances(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
	art := testenv.NewArticle("council-vote", time.Now().Add(-time.Hour))
	a.AddArticles(t, art)

	for _, svc := range []*testenv.Service{a, b, a, b} { // warm every tier and both response caches
		if got := headline(t, svc, art.Slug); got != art.Headline {
			t.Fatalf("before the write: %q", got)
		}
	}
	updated := rewriteHeadline(t, a, b, art, "Council vote delayed")
	for i := 0; i < 20; i++ {
		for _, svc := range []*testenv.Service{a, b} {
			if got := headline(t, svc, art.Slug); got != updated.Headline {
				t.Fatalf("stale read after the write: %q", got)
			}
		}
	}
	// A fresh third instance reading through Redis agrees too.
	c := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
	if got := headline(t, c, art.Slug); got != updated.Headline {
		t.Fatalf("a new instance reads %q from the shared tier", got)
	}
}

// rewriteHeadline changes art's headline through instance a; once that has
// returned, both a and b must serve the new one.
func rewriteHeadline(t *testing.T, a, b *testenv.Service, art *news.Article, to string) *news.Article {
	t.Helper()
	updated := *art
	updated.Headline = to
	updated.Version++
	a.ReplaceArticle(t, art, &updated)
	// The write has returned: every instance has confirmed it dropped the
	// old copy, so neither serves it, not even once.
	for name, svc := range map[string]*testenv.Service{"writing": a, "other": b} {
		if got := headline(t, svc, art.Slug); got != updated.Headline {
			t.Fatalf("the %s instance serves %q after the write returned", name, got)
		}
	}
	return &updated
}

// 100 concurrent misses on one key cost one database query.
func TestConcurrentMissesCollapse(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "in-process", true: "with redis"}[shared], func(t *testing.T) {
			st := testenv.Store(t, store.Options{})
			var o cache.Options
			if shared {
				o.Redis, o.Prefix = testenv.Redis(t)
			}
			c := cache.New(o)
			cached := c.Wrap(st)
			a := testenv.NewArticle("hot-story", time.Now().Add(-time.Hour))
			if err := st.InsertArticles(context.Background(), []*news.Article{a}); err != nil {
				t.Fatal(err)
			}
			before := st.RoundTrips()
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, 100)
			for i := 0; i < 100; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got, err := cached.ArticleBySlug(context.Background(), a.Slug)
					if err == nil && got.ID != a.ID {
						err = news.ErrNotFound
					}
					errs <- err
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if trips := st.RoundTrips() - before; trips != 1 {
				t.Fatalf("100 concurrent misses cost %d database queries, want 1", trips)
			}
		})
	}
}

// An unknown slug is remembered as absent for a short while; a write path
// clears that at once, and without one it expires by itself.
func TestNegativeCachingAndItsExpiry(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Cache: cache.Options{
		Articles: cache.TTLs{Negative: 300 * time.Millisecond}}})
	if got := headline(t, svc, "not-yet"); got != "" {
		t.Fatalf("got %q", got)
	}
	// Stored behind the cache's back (no write path): the absence is
	// remembered until it expires.
	before := svc.Store.RoundTrips()
	late := testenv.NewArticle("not-yet", time.Now().Add(-time.Hour))
	if err := svc.Store.InsertArticles(context.Background(), []*news.Article{late}); err != nil {
		t.Fatal(err)
	}
	a, err := svc.News.Article(context.Background(), nil, ptr("not-yet"))
	if err != nil || a != nil {
		t.Fatalf("absence not remembered: %v %v", a, err)
	}
	if trips := svc.Store.RoundTrips() - before; trips != 1 { // the insert only
		t.Fatalf("a remembered absence cost %d round trips", trips-1)
	}
	time.Sleep(400 * time.Millisecond)
	// The query index hears of it at its next catch-up (what it does every
	// INDEX_CATCHUP_INTERVAL).
	if err := svc.Index.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err = svc.News.Article(context.Background(), nil, ptr("not-yet"))
	if err != nil || a == nil {
		t.Fatalf("absence outlived its TTL: %v %v", a, err)
	}
	// Through a write path, a new slug is visible at once.
	svc.AddArticles(t, testenv.NewArticle("brand-new", time.Now().Add(-time.Minute)))
	if got := headline(t, svc, "brand-new"); got == "" {
		t.Fatal("a published article hidden by a cached absence")
	}
}

func ptr[T any](v T) *T { return &v }

// The response cache keys by role: a request carrying credentials is never
// served from, nor stored into, the cache readers share.
func TestResponseCacheKeepsEditorsAndReadersApart(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	svc.AddArticles(t, testenv.NewArticle("story", time.Now().Add(-time.Hour)))
	q := `{ articles(first: 5) { edges { node { slug } } } }`

	ed := svc.Query(t, q, nil, "Authorization", "Bearer some-editor-key")
	if ed.Header.Get("X-Cache") != "" || ed.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("credentialed response: X-Cache %q Cache-Control %q", ed.Header.Get("X-Cache"), ed.Header.Get("Cache-Control"))
	}
	r1 := svc.Query(t, q, nil)
	if r1.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("a reader was served something a credentialed request stored: %q", r1.Header.Get("X-Cache"))
	}
	if r2 := svc.Query(t, q, nil); r2.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("second reader request: %q", r2.Header.Get("X-Cache"))
	} else if !slices.Equal(r2.Header.Values("Vary"), r1.Header.Values("Vary")) {
		t.Fatalf("a hit varies on %q, its miss on %q", r2.Header.Values("Vary"), r1.Header.Values("Vary"))
	}
	ed2 := svc.Query(t, q, nil, "Authorization", "Bearer some-editor-key")
	if ed2.Header.Get("X-Cache") != "" {
		t.Fatal("a credentialed request was answered from the readers' cache")
	}
}

func TestHTTPCachingOnGET(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddArticles(t, testenv.NewArticle("story", time.Now().Add(-time.Hour)))
	u := svc.URL + "/graphql?query=" + url.QueryEscape(`{ articles(first: 3) { edges { node { slug } } } }`)
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	miss := res.Header
	etag, cc := res.Header.Get("ETag"), res.Header.Get("Cache-Control")
	if etag == "" || cc == "" || res.StatusCode != 200 {
		t.Fatalf("ETag %q Cache-Control %q status %d", etag, cc, res.StatusCode)
	}
	if want := "stale-while-revalidate"; !strings.Contains(cc, "public") || !strings.Contains(cc, want) {
		t.Fatalf("Cache-Control %q", cc)
	}
	// A hit: the same answer and validators, its own request ID (or the
	// proxy's), Vary once, the length of the body.
	hit, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	hit.Header.Set("X-Request-ID", "edge-7f3a")
	res, err = http.DefaultClient.Do(hit)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	h := res.Header
	if h.Get("X-Cache") != "HIT" || h.Get("ETag") != etag || !strings.HasPrefix(h.Get("Cache-Control"), "public, max-age=") ||
		!slices.Equal(h.Values("Vary"), []string{"Authorization"}) || h.Get("Content-Length") != strconv.Itoa(len(body)) ||
		h.Get("X-Request-ID") != "edge-7f3a" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("hit headers: %v", h)
	}
	// Besides those, a hit (served in front of the HTTP chain) sends what
	// the miss that filled it sent: the edge's tags and TTLs among them.
	for _, name := range []string{"X-Cache", "X-Request-Id", "Cache-Control", "Date"} {
		miss.Del(name)
		h.Del(name)
	}
	if !reflect.DeepEqual(h, miss) {
		t.Fatalf("a hit's headers differ from its miss's:\nhit  %v\nmiss %v", h, miss)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("If-None-Match", etag)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified || res.Header.Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d, ETag %q", res.StatusCode, res.Header.Get("ETag"))
	}
	if id := res.Header.Get("X-Request-ID"); len(id) != 16 {
		t.Fatalf("request ID %q", id)
	}
	// Hits are in the request metrics like any other request.
	_, metrics := testenv.Get(t, svc.URL+"/metrics")
	for _, series := range []string{
		`newsgraph_http_request_duration_seconds_count{cache="HIT",route="graphql",status="2xx"} 1`,
		`newsgraph_http_request_duration_seconds_count{cache="HIT",route="graphql",status="3xx"} 1`,
		`newsgraph_http_request_duration_seconds_count{cache="MISS",route="graphql",status="2xx"} 1`,
		`newsgraph_cache_lookups_total{cache="response",result="hit",tier="l1"} 2`,
	} {
		if !strings.Contains(string(metrics), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	// A write changes the answer, so the old ETag no longer matches.
	svc.AddArticles(t, testenv.NewArticle("newer", time.Now()))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("ETag") == etag {
		t.Fatalf("after a write: %d, ETag %q", res.StatusCode, res.Header.Get("ETag"))
	}
}

// Redis dies under load: reads go on without errors from the in-process
// tier and MongoDB, and the shared tier is used again once it returns.
func TestRedisOutageAndRecovery(t *testing.T) {
	port, proc, err := testenv.StartRedisServer()
	if err != nil {
		t.Fatalf("start a redis-server of the test's own: %v", err)
	}
	t.Cleanup(func() { _ = proc.Process.Kill(); _, _ = proc.Process.Wait() })
	opts, _ := cache.RedisOptions("redis://127.0.0.1:" + strconv.Itoa(port) + "/0")
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	svc := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: "outage:"})
	var arts []*news.Article
	for i := 0; i < 5; i++ {
		arts = append(arts, testenv.NewArticle("story-"+strconv.Itoa(i), time.Now().Add(-time.Hour)))
	}
	svc.AddArticles(t, arts...)
	read := func() {
		t.Helper()
		for _, a := range arts {
			if got := headline(t, svc, a.Slug); got != a.Headline {
				t.Fatalf("read %s: %q", a.Slug, got)
			}
			// A different document each time: the object tiers, not just
			// the response cache, are exercised.
			var data struct{ Article *struct{ Slug string } }
			svc.Query(t, `query($s: String) { article(slug: $s) { slug } }`, map[string]any{"s": a.Slug}).Decode(t, &data)
		}
	}
	read()

	_ = proc.Process.Kill()
	_, _ = proc.Process.Wait()
	started := time.Now()
	for time.Since(started) < 1500*time.Millisecond {
		read() // no errors while Redis is gone
	}
	if up := svc.Query(t, `{ __typename }`, nil); len(up.Errors) > 0 {
		t.Fatal(up.Errors)
	}

	var again *exec.Cmd
	if err := testenv.RestartRedisServer(port, &again); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Process.Kill(); _, _ = again.Process.Wait() })
	// Recovery: within a few breaker cool-offs the service writes to the
	// shared tier again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fresh := testenv.NewArticle("after-outage-"+strconv.Itoa(int(time.Now().UnixNano()%1e6)), time.Now().Add(-time.Minute))
		svc.AddArticles(t, fresh)
		headline(t, svc, fresh.Slug)
		n, _ := rdb.Exists(context.Background(), "outage:article:slug:"+fresh.Slug).Result()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the service did not go back to Redis after it returned")
		}
		time.Sleep(200 * time.Millisecond)
	}
	read()
}

// An editor's answer (which shows drafts) is never handed to a reader, even
// for the very same request bytes, in either order.
func TestEditorsDraftNeverReachesReadersThroughTheCache(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	draft := testenv.NewArticle("embargoed-draft", time.Now().Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt = news.StatusDraft, nil
	svc.AddArticles(t, draft)
	editor := svc.NewKey(t, news.RoleEditor)
	for i := 0; i < 2; i++ {
		var ed struct{ Article *struct{ Headline string } }
		svc.Query(t, bySlug, map[string]any{"s": draft.Slug}, "Authorization", editor).Decode(t, &ed)
		if ed.Article == nil {
			t.Fatal("the editor does not see the draft")
		}
		if got := headline(t, svc, draft.Slug); got != "" {
			t.Fatalf("a reader got the draft %q", got)
		}
	}
}

// A write made while Redis is down still reaches the other instances once
// Redis is back: the writer keeps the invalidation and sends it then, and an
// instance whose subscription was broken drops what it may have missed.
func TestWritesDuringARedisOutageReachOtherInstancesAfterIt(t *testing.T) {
	port, proc, err := testenv.StartRedisServer()
	if err != nil {
		t.Fatalf("start a redis-server of the test's own: %v", err)
	}
	t.Cleanup(func() { _ = proc.Process.Kill(); _, _ = proc.Process.Wait() })
	client := func() redis.UniversalClient {
		opts, _ := cache.RedisOptions("redis://127.0.0.1:" + strconv.Itoa(port) + "/0")
		c := redis.NewUniversalClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a := testenv.NewService(t, testenv.ServiceOptions{Redis: client(), Prefix: "outage-write:"})
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: client(), Prefix: "outage-write:", Store: a.Store})
	art := testenv.NewArticle("vote-count", time.Now().Add(-time.Hour))
	a.AddArticles(t, art)
	for _, svc := range []*testenv.Service{a, b} {
		if got := headline(t, svc, art.Slug); got != art.Headline {
			t.Fatal(got)
		}
	}

	_ = proc.Process.Kill()
	_, _ = proc.Process.Wait()
	updated := *art
	updated.Headline = "Recount ordered"
	a.ReplaceArticle(t, art, &updated)
	if got := headline(t, a, art.Slug); got != updated.Headline {
		t.Fatalf("the writer serves %q during the outage", got)
	}

	var again *exec.Cmd
	if err := testenv.RestartRedisServer(port, &again); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Process.Kill(); _, _ = again.Process.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for headline(t, b, art.Slug) != updated.Headline {
		if time.Now().After(deadline) {
			t.Fatal("the other instance still serves the headline from before the outage")
		}
		// Reads through a's Redis calls let it notice Redis is back.
		headline(t, a, art.Slug)
		time.Sleep(100 * time.Millisecond)
	}
}

// An instance that hears invalidations but never confirms them (hung) holds
// a write up for the confirmation window only, and the writer says so.
func TestUnconfirmedWriteWaitsOnlyTheWindow(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix,
		Cache: cache.Options{ConfirmWait: 300 * time.Millisecond}})
	art := testenv.NewArticle("hung-instance", time.Now().Add(-time.Hour))
	svc.AddArticles(t, art)
	hung := rdb.Subscribe(context.Background(), prefix+"invalidations")
	defer hung.Close()
	if _, err := hung.Receive(context.Background()); err != nil { // subscribed
		t.Fatal(err)
	}
	updated := *art
	updated.Headline, updated.Version = "Edited while an instance hangs", art.Version+1
	start := time.Now()
	svc.ReplaceArticle(t, art, &updated)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the write waited %v for an instance that never answers", took)
	}
	if !strings.Contains(svc.Logs(), `"msg":"not every instance confirmed an invalidation in time"`) {
		t.Fatalf("no warning in the log:\n%s", svc.Logs())
	}
	if got := headline(t, svc, art.Slug); got != updated.Headline {
		t.Fatalf("the writing instance serves %q", got)
	}
}
