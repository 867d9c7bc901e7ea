package httpapi

import (
	"net/http"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/loaders"
	"github.com/newsgraph/newsgraph/internal/playground"
)

// addRoutes lists every route the service serves.
func addRoutes(mux *http.ServeMux, d Deps) {
	gql := graph.NewHandler(graph.Options{Logger: d.Logger, News: d.News, Keys: d.Keys, Desk: d.Desk})
	mux.Handle("/graphql", auth.Middleware(d.Keys, d.Limiter, d.Logger, loaders.Middleware(d.News.Store(), gql)))
	mux.Handle("GET /{$}", playground.Page())
	mux.Handle("GET /playground/", playground.Assets())
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.Handle("GET /readyz", handleReadyz(d.Ready))
}
