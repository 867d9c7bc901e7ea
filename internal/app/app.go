// Package app assembles a running newsgraph from its parts. It is the one
// place where the cache, the keys, the desk and its listeners, the live hub,
// related stories, search and the HTTP surface are wired together, so the
// service (server.go), the tests (internal/testenv) and the benchmarks all
// run exactly the same thing.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/edge"
	"github.com/newsgraph/newsgraph/internal/httpapi"
	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/preview"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/search"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/trusted"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// Parts are what a newsgraph is built from.
type Parts struct {
	Store *store.Store
	// Redis is the shared tier, rate limits and live fan-out; nil runs
	// everything in-process. Prefix starts every key and channel.
	Redis  redis.UniversalClient
	Prefix string
	Logger *slog.Logger
	// Metrics is what /metrics exposes; a fresh registry when nil.
	Metrics *prometheus.Registry
	// BaseURL is PUBLIC_BASE_URL; SiteName is SITE_NAME.
	BaseURL, SiteName string
	// Cache and Live tune TTLs, sizes and limits; their Redis, Prefix,
	// Logger (and the like) are filled in from the fields above.
	Cache cache.Options
	Live  live.Options
	// Limits bound GraphQL operations; RequestTimeout one request.
	Limits         graph.Limits
	RequestTimeout time.Duration
	// AllowedOrigins may open live websockets besides BaseURL's own.
	AllowedOrigins []string
	// Around, when set, wraps the cached store the read side uses (fault
	// tests make a real store fail or panic on cue with it).
	Around func(news.Store) news.Store
	// Listener also hears every write the desk lands.
	Listener news.Listener
	// Webhooks tunes delivery (its Store, Logger and CanonicalURL are
	// filled in); Preview configures preview links (its Store likewise).
	Webhooks webhook.Options
	Preview  preview.Options
	// EdgePurgeURLs are the CDN edges every write purges (EDGE_PURGE_URLS).
	EdgePurgeURLs []string
	// Trusted is TRUSTED_DOCUMENTS, the website's listed operations; nil:
	// keyless callers may send any document.
	Trusted *trusted.Documents
	// Index is the query index lists, search, related stories and slugs
	// are answered from (its Source should be Store); nil builds one in
	// memory from Store before Assemble returns (tests, small tools).
	// Assemble starts its catch-up; Wait waits for it.
	Index *index.Index
}

// App is an assembled newsgraph.
type App struct {
	Handler http.Handler
	Cache   *cache.Cache
	News    *news.Service
	Desk    *news.Desk
	Keys    *auth.Keys
	Live    *live.Hub
	Related *related.Finder
	// Webhooks is the outbox listener and dispatcher.
	Webhooks *webhook.Dispatcher
	Index    *index.Index

	flushed  chan struct{}
	purger   *edge.Purger
	ownIndex bool
}

// Assemble wires the parts and starts what runs in the background (the
// cache's subscription to other instances, view counting, the live hub)
// until ctx ends.
func Assemble(ctx context.Context, p Parts) *App {
	if p.Metrics == nil {
		p.Metrics = prometheus.NewRegistry()
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	ix := p.Index
	own := ix == nil
	if own {
		ix = inMemoryIndex(ctx, p)
	}
	ix.Start(ctx)

	co := p.Cache
	co.Redis, co.Prefix, co.Logger, co.Registerer = p.Redis, p.Prefix, p.Logger, p.Metrics
	// Another instance's write reaches this instance's index before its
	// cache, and before this instance confirms it.
	co.Refresh = ix.Refresh
	c := cache.New(co)
	c.Start(ctx)
	a := &App{Cache: c, Keys: auth.NewKeys(p.Store), Index: ix, ownIndex: own, flushed: make(chan struct{})}
	go func() { c.Trending().Run(ctx); close(a.flushed) }()

	// Lists, slugs, related stories and search ask the index which stories;
	// the stories come through the cache, by _id.
	indexed := ix.Reads(p.Store)
	cached := c.Wrap(indexed)
	indexed.HydrateThrough(cached)
	var reads news.Store = cached
	if p.Around != nil {
		reads = p.Around(reads)
	}
	a.News = news.NewService(reads, p.BaseURL, news.WithTrending(c.Trending()))
	a.Related = related.NewFinder(cached)

	// Live news: this instance's subscribers, told of writes made here and,
	// over Redis pub/sub, on every other instance.
	lo := p.Live
	// Which stories fall due is the index's to say (a scan on FerretDB).
	lo.Redis, lo.Prefix, lo.Logger, lo.Articles = p.Redis, p.Prefix, p.Logger, indexed
	a.Live = live.New(lo)
	a.Live.Start(ctx)

	// Webhooks: the listener writes each event to the outbox in MongoDB
	// before the mutation returns; the dispatcher delivers from it.
	wo := p.Webhooks
	wo.Store, wo.Logger, wo.CanonicalURL = p.Store, p.Logger, a.News.CanonicalURL
	a.Webhooks = webhook.New(wo)
	a.Webhooks.Start(ctx)
	po := p.Preview
	po.Store = p.Store
	if po.URLTemplate == "" {
		po.URLTemplate = p.BaseURL + "/preview?slug={slug}&token={token}"
	}

	// Every write the desk lands goes into the index, then invalidates the
	// cache (here and, confirmed, on every other instance, whose indexes
	// re-read it first), the related-stories lists, tells subscribers and
	// queues webhooks.
	listeners := news.Listeners{ix, c, a.Related, a.Live, a.Webhooks}
	if len(p.EdgePurgeURLs) > 0 {
		// After the cache: an edge refetching a purged story must find
		// the new version here.
		a.purger = edge.New(ctx, edge.Options{URLs: p.EdgePurgeURLs, Logger: p.Logger, Registerer: p.Metrics})
		listeners = append(listeners, a.purger)
	}
	if p.Listener != nil {
		listeners = append(listeners, p.Listener)
	}
	a.Desk = news.NewDesk(p.Store, listeners)

	a.Handler = httpapi.NewServer(httpapi.Deps{
		Logger:         p.Logger,
		News:           a.News,
		Keys:           a.Keys,
		Limiter:        auth.NewLimiter(p.Redis, p.Prefix),
		Desk:           a.Desk,
		Live:           a.Live,
		Related:        a.Related,
		Search:         search.New(cached, a.News),
		BaseURL:        p.BaseURL,
		SiteName:       p.SiteName,
		Cache:          c,
		Metrics:        p.Metrics,
		Ready:          map[string]httpapi.Pinger{"mongodb": p.Store, "index": ix},
		Optional:       map[string]httpapi.Pinger{"redis": c},
		Limits:         p.Limits,
		RequestTimeout: p.RequestTimeout,
		AllowedOrigins: p.AllowedOrigins,
		Webhooks:       a.Webhooks.Hooks(),
		Previews:       preview.New(po),
		Trusted:        p.Trusted,
	})
	return a
}

// Wait blocks, once ctx has ended, until the background work has stopped
// (the last view counts flushed, subscriptions closed, the index's
// catch-up ended). An index Assemble built is closed.
func (a *App) Wait() {
	a.Cache.Wait()
	<-a.flushed
	a.Live.Wait()
	a.Webhooks.Wait()
	if a.purger != nil {
		a.purger.Wait()
	}
	a.Index.Wait()
	if a.ownIndex {
		_ = a.Index.Close()
	}
}

// inMemoryIndex builds an index from p.Store before returning.
func inMemoryIndex(ctx context.Context, p Parts) *index.Index {
	ix, err := index.Open(ctx, "", index.Options{Source: p.Store, Logger: p.Logger})
	if err == nil {
		err = ix.Rebuild(ctx)
	}
	if err != nil {
		// An in-memory index fails only on a programming error (its
		// mapping) or a database that cannot be read at all.
		panic(fmt.Sprintf("query index: %v", err))
	}
	return ix
}
