package graph

import (
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/related"
)

// Options configure the GraphQL handler.
type Options struct {
	Logger  *slog.Logger
	News    *news.Service
	Embeds  *embed.Provider
	Related *related.Finder
	// APQCache stores persisted query texts by hash; an in-process LRU when nil.
	APQCache graphql.Cache[string]
}

// NewHandler builds the GraphQL server explicitly (handler.New, not the
// deprecated default server): GET and POST transports, a parsed-query LRU,
// Automatic Persisted Queries, introspection, and one error presenter.
func NewHandler(o Options) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{News: o.News, Embeds: o.Embeds, RelatedStories: o.Related}}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	apq := o.APQCache
	if apq == nil {
		apq = lru.New[string](1000)
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	srv.AroundFields(markInternal)
	srv.SetErrorPresenter(errorPresenter(o.Logger))
	srv.SetRecoverFunc(recoverFunc)
	return srv
}
