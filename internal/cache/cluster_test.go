package cache_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// The service against a local three-master Redis Cluster, through the
// REDIS_URL form operators use: the object tier spreads over the nodes,
// writes invalidate across instances, whole responses are shared and
// purged, persisted queries are shared and mostRead ranks from Redis. Each
// check is made so that a cross-slot failure (which the cache would
// survive by falling back to MongoDB or local counts) shows as a wrong
// answer, not only as a log line.
func TestRedisCluster(t *testing.T) {
	addrs := testenv.RedisCluster(t, 3)
	opts, err := cache.RedisOptions("redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	cluster, ok := rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("REDIS_URL with three addresses built a %T, want *redis.ClusterClient", rdb)
	}
	const prefix = "newsgraph:"
	a := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
	ctx := context.Background()

	perNode := func() map[string]int {
		t.Helper()
		var mu sync.Mutex
		n := map[string]int{}
		err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			keys, err := node.Keys(ctx, prefix+"*").Result()
			// The invalidation counter is a sequence, not cached data: it
			// outlives every purge.
			keys = slices.DeleteFunc(keys, func(k string) bool { return k == prefix+"invalidations:seq" })
			mu.Lock()
			n[node.Options().Addr] = len(keys)
			mu.Unlock()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A write invalidates again a second later (see Cache.invalidate), so
	// checks of what stays cached wait that long after the last write.
	settle := func() { time.Sleep(1100 * time.Millisecond) }

	t.Run("article reads fill the shared tier on several nodes", func(t *testing.T) {
		var arts []*news.Article
		for i := 0; i < 30; i++ {
			arts = append(arts, testenv.NewArticle(fmt.Sprintf("story-%02d", i), time.Now().Add(-time.Hour)))
		}
		a.AddArticles(t, arts...)
		settle()
		for _, art := range arts {
			if got := headline(t, a, art.Slug); got != art.Headline {
				t.Fatalf("%s: %q", art.Slug, got)
			}
		}
		filled := 0
		for _, art := range arts {
			if n, _ := rdb.Exists(ctx, prefix+"article:slug:"+art.Slug).Result(); n == 1 {
				filled++
			}
		}
		if filled < len(arts)/2 {
			t.Fatalf("only %d of %d articles reached the cluster", filled, len(arts))
		}
		nodes := 0
		for _, n := range perNode() {
			if n > 0 {
				nodes++
			}
		}
		if nodes < 2 {
			t.Fatalf("keys landed on %d node(s): %v", nodes, perNode())
		}
		// A fresh instance reads them from the cluster, not from MongoDB.
		c := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
		before := a.Store.RoundTrips()
		for _, art := range arts[:5] {
			var data struct{ Article *struct{ Slug string } }
			c.Query(t, `query($s: String) { article(slug: $s) { slug } }`, map[string]any{"s": art.Slug}).Decode(t, &data)
		}
		if hits := c.Cache.Metrics().Count("article", cache.TierRedis, cache.ResultHit); hits < 1 {
			t.Fatalf("no article came from the cluster (%d database round trips)", a.Store.RoundTrips()-before)
		}
	})

	t.Run("a write invalidates across instances", func(t *testing.T) {
		art := testenv.NewArticle("council-vote", time.Now().Add(-time.Hour))
		a.AddArticles(t, art)
		for _, svc := range []*testenv.Service{a, b, a, b} {
			if got := headline(t, svc, art.Slug); got != art.Headline {
				t.Fatalf("before the write: %q", got)
			}
		}
		rewriteHeadline(t, a, b, art, "Council vote delayed")
	})

	t.Run("whole responses: miss, hit on the other instance, purge", func(t *testing.T) {
		settle()
		list := `{ articles(first: 3) { edges { node { slug } } } }`
		if x := a.Query(t, list, nil).Header.Get("X-Cache"); x != "MISS" {
			t.Fatalf("first request: X-Cache %q", x)
		}
		if x := a.Query(t, list, nil).Header.Get("X-Cache"); x != "HIT" {
			t.Fatalf("second request: X-Cache %q", x)
		}
		before := b.Cache.Metrics().Count("response", cache.TierRedis, cache.ResultHit)
		if x := b.Query(t, list, nil).Header.Get("X-Cache"); x != "HIT" {
			t.Fatalf("the other instance: X-Cache %q", x)
		}
		if b.Cache.Metrics().Count("response", cache.TierRedis, cache.ResultHit) != before+1 {
			t.Fatal("the other instance's hit did not come from the cluster")
		}
		// The tag sets and the responses they index live in different
		// slots; a write must still purge them.
		a.AddArticles(t, testenv.NewArticle("breaking", time.Now()))
		var data struct {
			Articles struct {
				Edges []struct{ Node struct{ Slug string } }
			}
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			res := b.Query(t, list, nil)
			res.Decode(t, &data)
			if res.Header.Get("X-Cache") == "MISS" && data.Articles.Edges[0].Node.Slug == "breaking" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance still serves the list from before the write: %+v", data)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("persisted queries are shared", func(t *testing.T) {
		requireSharedAPQ(t, a, b, `{ articles(first: 2) { edges { node { headline } } } }`)
	})

	t.Run("mostRead ranks from the cluster", func(t *testing.T) {
		a.AddSection(t, "sports", "Sports")
		mk := func(slug string) string {
			art := testenv.NewArticle(slug, time.Now().Add(-time.Hour))
			art.Section = "sports"
			a.AddArticles(t, art)
			return slug
		}
		hot, cold := mk("derby-result"), mk("transfer-rumour")
		for slug, n := range map[string]int{hot: 4, cold: 2} {
			for i := 0; i < n; i++ {
				headline(t, a, slug)
			}
		}
		a.Cache.Trending().Flush(ctx)
		// B counted none of these views: its answer can only come from
		// ZUNION over the cluster's hour buckets.
		var data struct {
			All    []struct{ Slug string }
			Sports []struct{ Slug string }
		}
		b.Query(t, `{ all: mostRead(window: DAY, first: 50) { slug } sports: mostRead(section: "sports") { slug } }`, nil).Decode(t, &data)
		if len(data.Sports) != 2 || data.Sports[0].Slug != hot || data.Sports[1].Slug != cold {
			t.Fatalf("mostRead(section: sports) on the other instance = %+v", data.Sports)
		}
		// Across sections, earlier subtests' reads count too: the hot story
		// must still rank above the cold one.
		rank := map[string]int{}
		for i, s := range data.All {
			rank[s.Slug] = i + 1
		}
		if rank[hot] == 0 || rank[cold] == 0 || rank[hot] > rank[cold] {
			t.Fatalf("mostRead on the other instance = %+v", data.All)
		}
	})

	t.Run("purging everything reaches every node", func(t *testing.T) {
		a.Cache.PurgeAll(ctx)
		deadline := time.Now().Add(2 * time.Second)
		for {
			left := 0
			for _, n := range perNode() {
				left += n
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("keys left after PurgeAll: %v", perNode())
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	if strings.Contains(a.Logs()+b.Logs(), "CROSSSLOT") {
		t.Fatalf("a command crossed slots:\n%s%s", a.Logs(), b.Logs())
	}
}
