package cache

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// Options configure a Cache.
type Options struct {
	// Redis is the shared tier; nil runs with the in-process tier only.
	Redis redis.UniversalClient
	// Prefix starts every Redis key and channel ("newsgraph:" by default),
	// so several deployments (or tests) share one Redis safely.
	Prefix string
	Logger *slog.Logger
	// Registerer receives the cache's metrics; nil keeps them unexported.
	Registerer prometheus.Registerer
	// Articles, Authors and Terms set TTLs; zero fields take defaults.
	Articles, Authors, Terms TTLs
	// Responses is how long a whole response is kept (default 60s).
	Responses time.Duration
	// L1Size bounds each in-process tier (entries, default 10,000).
	L1Size int
}

// Cache is the two-tier cache: objects (articles, authors, terms), whole
// responses, persisted queries and the invalidation that keeps them true.
type Cache struct {
	opts      Options
	log       *slog.Logger
	redis     *shared
	metrics   *Metrics
	epoch     atomic.Uint64
	origin    string
	articles  *tier[*news.Article]
	authors   *tier[*news.Author]
	terms     *tier[*news.Term]
	sections  *tier[[]*news.Term]
	responses *Responses
	apq       *PersistedQueries
	trending  *Trending
	store     *Store
	// nextDue is when the earliest scheduled story goes live (unix nanos,
	// 0 when unknown): no list may be cached past it.
	nextDue atomic.Int64
	pubsub  *redis.PubSub
	done    chan struct{}
}

// New builds a cache. Call Start to hear other instances' invalidations.
func New(o Options) *Cache {
	if o.Prefix == "" {
		o.Prefix = "newsgraph:"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := func(t *TTLs, fresh time.Duration) {
		if t.Fresh == 0 {
			t.Fresh = fresh
		}
		if t.Stale == 0 {
			t.Stale = time.Hour
		}
		if t.Negative == 0 {
			t.Negative = 15 * time.Second
		}
	}
	def(&o.Articles, 5*time.Minute)
	def(&o.Authors, 10*time.Minute)
	def(&o.Terms, 10*time.Minute)
	if o.Responses == 0 {
		o.Responses = time.Minute
	}
	if o.L1Size == 0 {
		o.L1Size = 10_000
	}
	c := &Cache{opts: o, log: o.Logger, metrics: NewMetrics(o.Registerer), origin: telemetry.NewRequestID(), done: make(chan struct{})}
	if o.Redis != nil {
		c.redis = &shared{client: o.Redis, prefix: o.Prefix, log: o.Logger, metrics: c.metrics, onRecover: c.forgetAllLocal}
	}
	c.articles = newTier[*news.Article]("article", o.L1Size, o.Articles, c.redis, &c.epoch, c.metrics)
	c.authors = newTier[*news.Author]("author", o.L1Size, o.Authors, c.redis, &c.epoch, c.metrics)
	c.terms = newTier[*news.Term]("term", o.L1Size, o.Terms, c.redis, &c.epoch, c.metrics)
	c.sections = newTier[[]*news.Term]("term", 16, o.Terms, c.redis, &c.epoch, c.metrics)
	c.responses = newResponses(c)
	c.apq = newPersistedQueries(c)
	c.trending = newTrending(c)
	return c
}

// Ping checks Redis answers (readiness reports it; the service runs without).
func (c *Cache) Ping(ctx context.Context) error {
	if c.redis == nil {
		return nil
	}
	return c.redis.client.Ping(ctx).Err()
}

// Metrics are the cache's counters.
func (c *Cache) Metrics() *Metrics { return c.metrics }

// Shared reports whether a Redis tier is configured.
func (c *Cache) Shared() bool { return c.redis != nil }

// Responses is the whole-response cache.
func (c *Cache) Responses() *Responses { return c.responses }

// Trending counts views and ranks the most read.
func (c *Cache) Trending() *Trending { return c.trending }

// PersistedQueries is the APQ store shared by every instance.
func (c *Cache) PersistedQueries() *PersistedQueries { return c.apq }

// invalidation is what one write made stale, as sent to other instances.
type invalidation struct {
	Origin string   `json:"o"`
	Keys   []string `json:"k,omitempty"`
	Tags   []string `json:"t,omitempty"`
	Due    int64    `json:"d,omitempty"`
	All    bool     `json:"a,omitempty"`
}

func (c *Cache) channel() string { return c.opts.Prefix + "invalidations" }

// Start subscribes to other instances' invalidations until ctx ends.
func (c *Cache) Start(ctx context.Context) {
	if c.redis == nil {
		close(c.done)
		return
	}
	c.pubsub = c.redis.client.Subscribe(context.WithoutCancel(ctx), c.channel())
	go func() {
		defer close(c.done)
		ch := c.pubsub.Channel()
		for {
			select {
			case <-ctx.Done():
				_ = c.pubsub.Close()
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				var inv invalidation
				if json.Unmarshal([]byte(msg.Payload), &inv) != nil || inv.Origin == c.origin {
					continue
				}
				c.applyLocal(inv)
			}
		}
	}()
}

// Wait blocks until the subscription started by Start has ended.
func (c *Cache) Wait() { <-c.done }

// applyLocal drops this instance's in-process copies.
func (c *Cache) applyLocal(inv invalidation) {
	c.epoch.Add(1)
	c.metrics.purges.Inc()
	if inv.Due != 0 {
		c.noteDue(time.Unix(0, inv.Due))
	}
	if inv.All {
		c.forgetAllLocal()
		return
	}
	c.articles.forget(inv.Keys)
	c.authors.forget(inv.Keys)
	c.terms.forget(inv.Keys)
	c.sections.forget(inv.Keys)
	c.responses.forgetLocal(inv.Tags)
}

func (c *Cache) forgetAllLocal() {
	c.epoch.Add(1)
	c.articles.forgetAll()
	c.authors.forgetAll()
	c.terms.forgetAll()
	c.sections.forgetAll()
	c.responses.forgetAllLocal()
}

// invalidate makes a write visible everywhere: this instance's tiers, Redis,
// and (through pub/sub) every other instance. It runs again a second later,
// which clears a copy that a read racing the write may have put back.
func (c *Cache) invalidate(ctx context.Context, inv invalidation) {
	inv.Origin = c.origin
	c.applyAll(ctx, inv)
	time.AfterFunc(time.Second, func() { c.applyAll(context.Background(), inv) })
}

func (c *Cache) applyAll(ctx context.Context, inv invalidation) {
	c.applyLocal(inv)
	if !c.redis.usable() {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*RedisTimeout)
	defer cancel()
	if inv.All {
		c.observe(c.deletePrefix(rctx))
	} else {
		if len(inv.Keys) > 0 {
			rkeys := make([]string, len(inv.Keys))
			for i, k := range inv.Keys {
				rkeys[i] = c.redis.key(k)
			}
			c.observe(c.redis.unlink(rctx, rkeys))
		}
		c.observe(c.responses.purgeShared(rctx, inv.Tags))
	}
	raw, _ := json.Marshal(inv)
	c.observe(c.redis.client.Publish(rctx, c.channel(), raw).Err())
}

func (c *Cache) observe(err error) { c.redis.observe(err) }

// deletePrefix removes every key of this deployment (never FLUSHALL: other
// applications and tests share the server).
func (c *Cache) deletePrefix(ctx context.Context) error {
	keys, err := c.redis.scanPrefix(ctx, c.opts.Prefix)
	if err != nil {
		return err
	}
	return c.redis.unlink(ctx, keys)
}

// PurgeAll forgets everything, everywhere: for bulk loads that bypass the
// write paths (the demo loader, the benchmark's seed).
func (c *Cache) PurgeAll(ctx context.Context) {
	c.invalidate(ctx, invalidation{All: true})
}

// ArticleChanged implements news.Listener.
func (c *Cache) ArticleChanged(ctx context.Context, before, after *news.Article) {
	inv := invalidation{Tags: []string{tagArticles}}
	for _, a := range []*news.Article{before, after} {
		if a == nil {
			continue
		}
		inv.Keys = append(inv.Keys, keyArticleID(a.ID), keyArticleSlug(a.Slug))
		inv.Tags = append(inv.Tags, tagArticle(a.ID), tagSlug(a.Slug))
	}
	if after != nil && after.StatusAt(time.Now()) == news.StatusScheduled {
		inv.Due = after.PublishedAt.UnixNano()
	}
	c.invalidate(ctx, inv)
}

// AuthorChanged implements news.Listener.
func (c *Cache) AuthorChanged(ctx context.Context, before, after *news.Author) {
	var inv invalidation
	for _, a := range []*news.Author{before, after} {
		if a == nil {
			continue
		}
		inv.Keys = append(inv.Keys, keyAuthorID(a.ID), keyAuthorSlug(a.Slug))
		inv.Tags = append(inv.Tags, tagAuthor(a.ID), tagAuthorSlug(a.Slug))
	}
	c.invalidate(ctx, inv)
}

// noteDue records a scheduled story's moment if it is the earliest known.
func (c *Cache) noteDue(at time.Time) {
	n := at.UnixNano()
	for {
		cur := c.nextDue.Load()
		if (cur != 0 && cur <= n && cur > time.Now().UnixNano()) || c.nextDue.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Keys and tags. Keys name cached objects; tags name what a cached response
// was built from, so a write can purge exactly the responses it changes.
const (
	tagArticles = news.ListsTag // every list of articles
	tagTerms    = "terms"       // sections and tags
)

func keyArticleID(id string) string     { return "article:id:" + id }
func keyArticleSlug(slug string) string { return "article:slug:" + slug }
func keyAuthorID(id string) string      { return "author:id:" + id }
func keyAuthorSlug(slug string) string  { return "author:slug:" + slug }
func keyTerm(key string) string         { return "term:" + key }

const keySections = "sections"

func tagArticle(id string) string      { return "article:" + id }
func tagSlug(slug string) string       { return "slug:" + slug }
func tagAuthor(id string) string       { return "author:" + id }
func tagAuthorSlug(slug string) string { return "author-slug:" + slug }
