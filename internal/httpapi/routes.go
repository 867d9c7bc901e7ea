package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/feed"
	"github.com/newsgraph/newsgraph/internal/gqlhttp"
	"github.com/newsgraph/newsgraph/internal/loaders"
	"github.com/newsgraph/newsgraph/internal/playground"
	"github.com/newsgraph/newsgraph/internal/seo"
)

// graphQLRoute is /graphql's name in the metrics.
const graphQLRoute = "graphql"

// addRoutes lists every route the service serves.
func addRoutes(mux *http.ServeMux, d Deps, m *httpMetrics) {
	embeds := &embed.Provider{News: d.News, BaseURL: d.BaseURL, SiteName: d.SiteName}
	site := &seo.Site{News: d.News, BaseURL: d.BaseURL, Name: d.SiteName}
	if d.Limits.Budget == nil {
		d.Limits.Budget = d.Limiter
	}
	gql := graph.NewHandler(graph.Options{Logger: d.Logger, News: d.News, Keys: d.Keys, Desk: d.Desk,
		Embeds: embeds, Related: d.Related, Search: d.Search,
		APQCache: d.Cache.PersistedQueries(), Limits: d.Limits, Metrics: d.Metrics,
		Live: d.Live, AllowedOrigins: d.AllowedOrigins, Webhooks: d.Webhooks, Previews: d.Previews,
		SEO: site, Trusted: d.Trusted})
	d.Trusted.Register(d.Metrics)
	route := func(pattern, name string, h http.Handler) { mux.Handle(pattern, observe(name, m, d.Logger, h)) }

	// /graphql, outside in: body limit, the caller's key and rate limit,
	// response cache (an anonymous hit ends here), GraphQL-over-HTTP media
	// types and status codes, deadline, dataloaders. Live streams (websocket
	// upgrades, event streams) leave the chain after the key check: the
	// cache and gqlhttp buffer whole answers and the deadline would cut
	// them off.
	// Trusted documents are checked right after the key, before the cache
	// or the parser sees the request. @defer's multipart parts skip the
	// cache and gqlhttp as streams do. A write's live fan-out waits until
	// its answer is out.
	executed := withTimeout(d.RequestTimeout, loaders.Middleware(d.News.Store(), gql))
	route("/graphql", graphQLRoute, limitBody(auth.Middleware(d.Keys, d.Limiter, d.Logger, d.Trusted.Middleware(
		streams(loaders.Middleware(d.News.Store(), gql),
			incrementalDelivery(executed,
				d.Cache.Responses().Middleware(answerFirst(gqlhttp.Middleware(executed)))))))))
	route("GET /{$}", "playground", playground.Page())
	mux.Handle("GET /playground/", playground.Assets())
	feeds := &feed.Source{News: d.News, BaseURL: d.BaseURL, SiteName: d.SiteName}
	// Beside GraphQL, public reads carry the tags they were built from for
	// the CDN (Surrogate-Key, Cache-Tag), like the response cache's.
	edged := d.Cache.Edge
	route("GET /feeds/rss.xml", "feed", edged(feeds.Handler(feed.FormatRSS, d.Logger)))
	route("GET /feeds/atom.xml", "feed", edged(feeds.Handler(feed.FormatAtom, d.Logger)))
	route("GET /feeds/feed.json", "feed", edged(feeds.Handler(feed.FormatJSON, d.Logger)))
	route("GET /oembed", "oembed", edged(embeds.OEmbedHandler(d.Logger)))
	route("GET /embed/{slug}", "embed", edged(embeds.CardHandler(d.Logger)))
	route("GET /sitemap.xml", "sitemap", edged(site.IndexHandler(d.Logger)))
	route("GET /sitemaps/news.xml", "sitemap", edged(site.NewsHandler(d.Logger)))
	route("GET /sitemaps/{file}", "sitemap", edged(site.MonthHandler(d.Logger)))
	route("GET /robots.txt", "robots", edged(site.RobotsHandler()))
	mux.Handle("GET /favicon.ico", seo.FaviconHandler())
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.Handle("GET /readyz", handleReadyz(d))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{}))
}
