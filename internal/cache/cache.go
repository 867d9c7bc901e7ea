package cache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// Refresh, when set, hears each invalidation from another instance
	// before this instance applies and confirms it, with the IDs of the
	// articles it names (all: everything may have changed). The query
	// index re-reads them there, so when the writer's mutation returns
	// every instance's index has the write, and no reader here can fill
	// the cache again from an index that has not.
	Refresh func(ctx context.Context, articleIDs []string, all bool)
	// ConfirmWait bounds how long a write waits for the other instances to
	// confirm its invalidation (default DefaultConfirmWait); an instance
	// that does not answer in time (hung, overloaded, or cut off from
	// Redis) is logged and catches up when it answers again.
	ConfirmWait time.Duration
}

// epochs tell a read whether an invalidation was applied here while it
// ran: it keeps what it built (in L1, in Redis) only if none was under way
// when it began and none began before it ended.
type epochs struct {
	n        atomic.Uint64 // moves on as each application begins and ends
	applying atomic.Int64
}

// begin is the epoch a read starts in (concurrent misses share a load or
// execution only within one) and whether it may keep what it builds.
func (e *epochs) begin() (epoch uint64, keep bool) {
	epoch = e.n.Load() // before applying: see apply
	return epoch, e.applying.Load() == 0
}

// still reports whether no application has begun or ended since epoch.
func (e *epochs) still(epoch uint64) bool { return e.n.Load() == epoch }

// apply marks an invalidation being applied here until the returned func
// is called. A read whose begin loaded the epoch before the count went up
// sees the epoch move on by its end; one that loaded it after sees the
// count.
func (e *epochs) apply() (done func()) {
	e.applying.Add(1)
	e.n.Add(1)
	return func() {
		e.n.Add(1)
		e.applying.Add(-1)
	}
}

// Cache is the two-tier cache: objects (articles, authors, terms), whole
// responses, persisted queries and the invalidation that keeps them true.
type Cache struct {
	opts      Options
	log       *slog.Logger
	redis     *shared
	metrics   *Metrics
	epoch     epochs
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
	gen     *generations
	// pending holds invalidations made while Redis was away.
	pendingMu sync.Mutex
	pending   []invalidation
	pubsub    *redis.PubSub
	done      chan struct{}
}

// New builds a cache. Call Start to hear other instances' invalidations.
func New(o Options) *Cache {
	if o.Prefix == "" {
		o.Prefix = "newsgraph:"
	}
	if o.ConfirmWait <= 0 {
		o.ConfirmWait = DefaultConfirmWait
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
	c := &Cache{opts: o, log: o.Logger, metrics: NewMetrics(o.Registerer), origin: telemetry.NewRequestID(),
		gen: newGenerations(), done: make(chan struct{})}
	if o.Redis != nil {
		c.redis = &shared{client: o.Redis, prefix: o.Prefix, log: o.Logger, metrics: c.metrics,
			onRecover: func() { go c.recover() }}
	}
	c.articles = newTier[*news.Article]("article", o.L1Size, o.Articles, c.redis, &c.epoch, c.gen, c.metrics)
	c.authors = newTier[*news.Author]("author", o.L1Size, o.Authors, c.redis, &c.epoch, c.gen, c.metrics)
	c.terms = newTier[*news.Term]("term", o.L1Size, o.Terms, c.redis, &c.epoch, c.gen, c.metrics)
	c.sections = newTier[[]*news.Term]("term", 16, o.Terms, c.redis, &c.epoch, c.gen, c.metrics)
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
	// Seq numbers invalidations deployment-wide (a Redis counter), so an
	// instance back from an outage can tell whether it missed any.
	Seq int64 `json:"s,omitempty"`
	// Ack asks every instance to confirm it has applied this one.
	Ack bool `json:"c,omitempty"`
}

func (c *Cache) seqKey() string { return c.redis.key("invalidations:seq") }

// saw records the highest invalidation number this instance has applied.
func (c *Cache) saw(seq int64) { c.gen.saw(seq) }

// recover runs when Redis answers again after an outage: tell the others
// what was written meanwhile, and drop what this instance may have missed.
func (c *Cache) recover() {
	c.sendPending()
	c.catchUp()
}

// catchUp runs when Redis answers again after an outage: if invalidations
// were published meanwhile that this instance did not hear, its in-process
// copies may be stale, and all of them go.
func (c *Cache) catchUp() {
	ctx, cancel := context.WithTimeout(context.Background(), 4*RedisTimeout)
	defer cancel()
	seq, err := c.redis.client.Get(ctx, c.seqKey()).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		c.forgetAllLocal() // cannot tell: be safe
		return
	}
	if seq > c.gen.current() {
		c.log.Info("invalidations were missed while Redis was away; dropping in-process copies")
		if c.opts.Refresh != nil {
			c.opts.Refresh(ctx, nil, true)
		}
		c.forgetAllLocal()
		c.saw(seq)
	}
}

func (c *Cache) channel() string { return c.opts.Prefix + "invalidations" }

// Start subscribes to other instances' invalidations until ctx ends.
func (c *Cache) Start(ctx context.Context) {
	if c.redis == nil {
		close(c.done)
		return
	}
	if seq, err := c.redis.client.Get(ctx, c.seqKey()).Int64(); err == nil {
		c.saw(seq)
	}
	c.pubsub = c.redis.client.Subscribe(context.WithoutCancel(ctx), c.channel())
	go func() {
		defer close(c.done)
		// Subscription events too: after the first, each one is the
		// subscription coming back after a broken connection, when messages
		// may have been lost.
		ch := c.pubsub.ChannelWithSubscriptions()
		subscribed := false
		for {
			select {
			case <-ctx.Done():
				_ = c.pubsub.Close()
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *redis.Subscription:
					if subscribed {
						go c.catchUp()
					}
					subscribed = true
				case *redis.Message:
					var inv invalidation
					if json.Unmarshal([]byte(m.Payload), &inv) != nil || inv.Origin == c.origin {
						continue
					}
					c.refresh(ctx, inv)
					c.applyLocal(inv)
					c.acknowledge(inv)
				}
			}
		}
	}()
}

// refresh tells Options.Refresh of the articles another instance's
// invalidation names.
func (c *Cache) refresh(ctx context.Context, inv invalidation) {
	if c.opts.Refresh == nil {
		return
	}
	var ids []string
	for _, k := range inv.Keys {
		if id, ok := strings.CutPrefix(k, keyArticleID("")); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 || inv.All {
		c.opts.Refresh(ctx, ids, inv.All)
	}
}

// Wait blocks until the subscription started by Start has ended.
func (c *Cache) Wait() { <-c.done }

// applyLocal drops this instance's in-process copies, as one application
// of the epochs: a read that overlapped it in any way keeps nothing it
// built (it could have found an old copy in L1 whose tombstone was not
// yet laid, or that was not yet dropped).
func (c *Cache) applyLocal(inv invalidation) {
	defer c.epoch.apply()()
	// Seen before buried, so no tombstone is ever above the seen number:
	// generations.valid relies on that for its fast path.
	c.saw(inv.Seq)
	if inv.All {
		c.gen.buryAll(inv.Seq)
	}
	for _, k := range inv.Keys {
		c.gen.bury(k, inv.Seq)
	}
	for _, t := range inv.Tags {
		c.gen.bury(tagName(t), inv.Seq)
	}
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

// ForgetLocalResponses drops the whole responses this instance keeps in
// memory (Redis keeps its copies, which a request reaches only through
// the whole chain): for when what that chain admits changes (a reloaded
// list of trusted documents), since Responses.Local serves from memory in
// front of it. An execution under way when it is called keeps nothing.
func (c *Cache) ForgetLocalResponses() {
	defer c.epoch.apply()()
	c.responses.forgetAllLocal()
}

// forgetAllLocal drops every in-process copy, as applyLocal does.
func (c *Cache) forgetAllLocal() {
	defer c.epoch.apply()()
	c.articles.forgetAll()
	c.authors.forgetAll()
	c.terms.forgetAll()
	c.sections.forgetAll()
	c.responses.forgetAllLocal()
}

// invalidate makes a write visible everywhere: this instance's tiers, Redis,
// and (through pub/sub) every other instance. It runs again a second later,
// which clears a copy that a read racing the write may have put back.
//
// The first round waits (up to AckWait) until every other instance says it
// has dropped its copies, so once a write returns no instance serves what it
// replaced. The second round does not wait.
func (c *Cache) invalidate(ctx context.Context, inv invalidation) {
	inv.Origin = c.origin
	inv.Ack = true
	c.applyAll(ctx, inv)
	again := inv
	again.Ack = false
	time.AfterFunc(time.Second, func() { c.applyAll(context.Background(), again) })
}

// DefaultConfirmWait is Options.ConfirmWait's default.
const DefaultConfirmWait = 250 * time.Millisecond

func (c *Cache) ackKey(seq int64) string {
	return c.redis.key("invalidations:ack:" + strconv.FormatInt(seq, 10))
}

// acknowledge tells the writer this instance has applied inv.
func (c *Cache) acknowledge(inv invalidation) {
	if !inv.Ack || inv.Seq == 0 || !c.redis.usable() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*RedisTimeout)
	defer cancel()
	pipe := c.redis.client.Pipeline()
	pipe.RPush(ctx, c.ackKey(inv.Seq), c.origin)
	pipe.Expire(ctx, c.ackKey(inv.Seq), 10*time.Second)
	_, err := pipe.Exec(ctx)
	c.observe(err)
}

// awaitAcks waits until `others` instances have acknowledged seq, or
// Options.ConfirmWait has passed. It polls the length of the list the
// instances push their acknowledgements to (1 ms, doubling to 20 ms):
// go-redis's BLPop rounds a wait under a second up to one, so a blocking
// pop would outlast a 250 ms window fourfold.
func (c *Cache) awaitAcks(seq int64, others int64) {
	deadline := time.Now().Add(c.opts.ConfirmWait)
	for wait := time.Millisecond; ; wait = min(2*wait, 20*time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*RedisTimeout)
		got, err := c.redis.client.LLen(ctx, c.ackKey(seq)).Result()
		cancel()
		if err != nil {
			c.observe(err)
		}
		if err == nil && got >= others {
			return
		}
		left := time.Until(deadline)
		if err != nil || left <= 0 {
			c.log.Warn("not every instance confirmed an invalidation in time", "seq", seq, "confirmed", got, "expected", others)
			return
		}
		time.Sleep(min(wait, left))
	}
}

// applyAll deletes from Redis first and only then from this instance: a
// read in between finds this instance's old copy (the write has not
// returned yet), and a read after finds nothing old in either tier. A read
// that fetched the old copy from Redis before the delete cannot keep it: the
// local step moves the epoch on.
func (c *Cache) applyAll(ctx context.Context, inv invalidation) {
	deleted := c.redis.usable() && c.deleteShared(ctx, inv)
	if deleted {
		inv.Seq = c.number(ctx)
	}
	c.applyLocal(inv)
	c.share(ctx, inv, deleted)
}

// number draws the next deployment-wide invalidation number; 0 when Redis
// failed.
func (c *Cache) number(ctx context.Context) int64 {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*RedisTimeout)
	defer cancel()
	seq, err := c.redis.client.Incr(rctx, c.seqKey()).Result()
	c.observe(err)
	if err != nil {
		return 0
	}
	return seq
}

// maxPending bounds the invalidations kept while Redis is away; past it they
// fold into one that drops everything.
const maxPending = 1000

// share applies an invalidation to Redis and tells the other instances.
// While Redis is away it is kept, and sent when Redis answers again: the
// other instances must hear of writes made during the outage.
func (c *Cache) share(ctx context.Context, inv invalidation, deleted bool) {
	if c.redis == nil {
		return
	}
	if !deleted && !(c.redis.usable() && c.deleteShared(ctx, inv)) || !c.sendShared(ctx, inv) {
		c.pendingMu.Lock()
		if len(c.pending) >= maxPending {
			c.pending = []invalidation{{Origin: c.origin, All: true}}
		} else {
			c.pending = append(c.pending, inv)
		}
		c.pendingMu.Unlock()
	}
}

// sendPending sends what was kept during an outage.
func (c *Cache) sendPending() {
	c.pendingMu.Lock()
	pending := c.pending
	c.pending = nil
	c.pendingMu.Unlock()
	for _, inv := range pending {
		c.share(context.Background(), inv, false)
	}
}

// sendShared deletes from Redis and publishes; false when Redis failed.
// deleteShared removes from Redis what inv names; false when Redis failed.
func (c *Cache) deleteShared(ctx context.Context, inv invalidation) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*RedisTimeout)
	defer cancel()
	if inv.All {
		err := c.deletePrefix(rctx)
		c.observe(err)
		return err == nil
	}
	if len(inv.Keys) > 0 {
		rkeys := make([]string, len(inv.Keys))
		for i, k := range inv.Keys {
			rkeys[i] = c.redis.key(k)
		}
		if err := c.redis.unlink(rctx, rkeys); err != nil {
			c.observe(err)
			return false
		}
	}
	err := c.responses.purgeShared(rctx, inv.Tags)
	c.observe(err)
	return err == nil
}

// sendShared numbers inv and publishes it; when it asks for confirmations,
// it waits for them and then deletes from Redis once more, removing a copy
// that a read on another instance may have stored before that instance
// applied the invalidation. False when Redis failed.
func (c *Cache) sendShared(ctx context.Context, inv invalidation) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*RedisTimeout)
	defer cancel()
	if inv.Seq == 0 {
		if inv.Seq = c.number(ctx); inv.Seq == 0 {
			return false
		}
		c.applyLocal(inv) // this instance's tombstones, now that it has a number
	}
	seq := inv.Seq
	raw, _ := json.Marshal(inv)
	receivers, err := c.redis.client.Publish(rctx, c.channel(), raw).Result()
	c.observe(err)
	if err != nil {
		return false
	}
	if inv.Ack && c.pubsub != nil && receivers > 1 {
		// Every subscriber but this instance itself.
		c.awaitAcks(seq, receivers-1)
		c.deleteShared(ctx, inv)
	}
	return true
}

func (c *Cache) observe(err error) { c.redis.observe(err) }

// deletePrefix removes every key of this deployment (never FLUSHALL: other
// applications and tests share the server).
func (c *Cache) deletePrefix(ctx context.Context) error {
	keys, err := c.redis.scanPrefix(ctx, c.opts.Prefix)
	if err != nil {
		return err
	}
	// The invalidation counter must only ever grow (see catchUp).
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == c.seqKey() })
	return c.redis.unlink(ctx, keys)
}

// PurgeAll forgets everything, everywhere: for bulk loads that bypass the
// write paths (the demo loader, the benchmark's seed).
func (c *Cache) PurgeAll(ctx context.Context) {
	c.invalidate(ctx, invalidation{All: true})
}

// ArticleChanged implements news.Listener.
func (c *Cache) ArticleChanged(ctx context.Context, before, after *news.Article) {
	inv := invalidation{Tags: ArticleTags(before, after)}
	for _, a := range []*news.Article{before, after} {
		if a != nil {
			inv.Keys = append(inv.Keys, keyArticleID(a.ID), keyArticleSlug(a.Slug))
		}
	}
	if after != nil && after.StatusAt(time.Now()) == news.StatusScheduled {
		inv.Due = after.PublishedAt.UnixNano()
	}
	c.invalidate(ctx, inv)
}

// AuthorChanged implements news.Listener.
func (c *Cache) AuthorChanged(ctx context.Context, before, after *news.Author) {
	// The list of authors too: a new or renamed byline changes it.
	inv := invalidation{Tags: AuthorTags(before, after)}
	for _, a := range []*news.Author{before, after} {
		if a != nil {
			inv.Keys = append(inv.Keys, keyAuthorID(a.ID), keyAuthorSlug(a.Slug))
		}
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
