package httpapi

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/feed"
	"github.com/newsgraph/newsgraph/internal/loaders"
)

// addRoutes lists every route the service serves.
func addRoutes(mux *http.ServeMux, d Deps) {
	embeds := &embed.Provider{News: d.News, BaseURL: d.BaseURL, SiteName: d.SiteName}
	gql := graph.NewHandler(graph.Options{Logger: d.Logger, News: d.News, Embeds: embeds, Related: d.Related})
	mux.Handle("/graphql", loaders.Middleware(d.News.Store(), gql))
	mux.Handle("GET /{$}", playground.Handler("newsgraph", "/graphql"))
	feeds := &feed.Source{News: d.News, BaseURL: d.BaseURL, SiteName: d.SiteName}
	mux.Handle("GET /feeds/rss.xml", feeds.Handler(feed.FormatRSS, d.Logger))
	mux.Handle("GET /feeds/atom.xml", feeds.Handler(feed.FormatAtom, d.Logger))
	mux.Handle("GET /feeds/feed.json", feeds.Handler(feed.FormatJSON, d.Logger))
	mux.Handle("GET /oembed", embeds.OEmbedHandler(d.Logger))
	mux.Handle("GET /embed/{slug}", embeds.CardHandler(d.Logger))
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.Handle("GET /readyz", handleReadyz(d.Ready))
}
