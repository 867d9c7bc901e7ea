package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/gqlhttp"
	"github.com/newsgraph/newsgraph/internal/loaders"
	"github.com/newsgraph/newsgraph/internal/playground"
)

// addRoutes lists every route the service serves.
func addRoutes(mux *http.ServeMux, d Deps) {
	gql := graph.NewHandler(graph.Options{Logger: d.Logger, News: d.News, Keys: d.Keys, Desk: d.Desk,
		APQCache: d.Cache.PersistedQueries(), Limits: d.Limits, Metrics: d.Metrics})
	m := newHTTPMetrics(d.Metrics)
	route := func(pattern, name string, h http.Handler) { mux.Handle(pattern, observe(name, m, d.Logger, h)) }

	// /graphql, outside in: body limit, the caller's key and rate limit,
	// response cache (an anonymous hit ends here), GraphQL-over-HTTP media
	// types and status codes, deadline, dataloaders.
	route("/graphql", "graphql", limitBody(auth.Middleware(d.Keys, d.Limiter, d.Logger,
		d.Cache.Responses().Middleware(gqlhttp.Middleware(
			withTimeout(d.RequestTimeout, loaders.Middleware(d.News.Store(), gql)))))))
	route("GET /{$}", "playground", playground.Page())
	mux.Handle("GET /playground/", playground.Assets())
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.Handle("GET /readyz", handleReadyz(d))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics, promhttp.HandlerOpts{}))
}
