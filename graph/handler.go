package graph

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Options configure the GraphQL handler.
type Options struct {
	Logger *slog.Logger
	News   *news.Service
	// APQCache stores persisted query texts by hash; an in-process LRU when nil.
	APQCache graphql.Cache[string]
	Limits   Limits
	// Metrics receives operation durations and error counts; nil: none.
	Metrics prometheus.Registerer
}

// NewHandler builds the GraphQL server explicitly (handler.New, not the
// deprecated default server): GET and POST transports, a parsed-query LRU,
// Automatic Persisted Queries, introspection, and one error presenter.
func NewHandler(o Options) *handler.Server {
	o.Limits.defaults()
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{News: o.News}, Complexity: complexityRoot()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(o.Limits.MaxTokens)
	if o.Limits.NoIntrospection {
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(&operationLimits{limits: o.Limits})
	m := newMetrics(o.Metrics)
	srv.AroundOperations(m.aroundOperations)
	apq := o.APQCache
	if apq == nil {
		apq = lru.New[string](1000)
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// Only a query's answer may be kept by the response cache.
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
			cache.MarkCacheable(ctx)
		}
		return next(ctx)
	})
	srv.AroundFields(markInternal)
	srv.SetErrorPresenter(errorPresenter(o.Logger, m))
	srv.SetRecoverFunc(recoverFunc)
	return srv
}
