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

	"github.com/newsgraph/newsgraph/graph/model"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/loaders"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/preview"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/search"
	"github.com/newsgraph/newsgraph/internal/seo"
	"github.com/newsgraph/newsgraph/internal/trusted"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// Options configure the GraphQL handler.
type Options struct {
	Logger  *slog.Logger
	News    *news.Service
	Keys    *auth.Keys
	Desk    *news.Desk
	Embeds  *embed.Provider
	Related *related.Finder
	Search  *search.Searcher
	// SEO builds Article.seo.
	SEO *seo.Site
	// APQCache stores persisted query texts by hash; an in-process LRU when nil.
	APQCache graphql.Cache[string]
	Limits   Limits
	// Metrics receives operation durations and error counts; nil: none.
	Metrics prometheus.Registerer
	// Live carries subscriptions; AllowedOrigins are the hosts (patterns
	// such as "*.example.com", or "https://host" to pin the scheme) whose
	// pages may open a websocket besides this host's own.
	Live           *live.Hub
	AllowedOrigins []string
	// Webhooks and Previews serve the admin's webhooks and editors'
	// preview links.
	Webhooks *webhook.Hooks
	Previews *preview.Links
	// Trusted, when set, limits keyless callers to the listed documents
	// (TRUSTED_DOCUMENTS); HTTP requests are checked before they get here,
	// subscriptions over a websocket here.
	Trusted *trusted.Documents
}

// NewHandler builds the GraphQL server explicitly (handler.New, not the
// deprecated default server): GET and POST transports, a parsed-query LRU,
// Automatic Persisted Queries, introspection, and one error presenter.
func NewHandler(o Options) *handler.Server {
	o.Limits.defaults()
	if o.Live == nil {
		o.Live = live.New(live.Options{})
	}
	cfg := Config{Resolvers: &Resolver{News: o.News, Keys: o.Keys, Desk: o.Desk, Embeds: o.Embeds, RelatedStories: o.Related,
		Live: o.Live, Searcher: o.Search, Hooks: o.Webhooks, Previews: o.Previews, SEO: o.SEO},
		Complexity: complexityRoot()}
	cfg.Directives.HasRole = hasRole
	srv := handler.New(NewExecutableSchema(cfg))
	// Streams first: a websocket upgrade or an event-stream POST would
	// otherwise be taken for a plain request.
	srv.AddTransport(newLiveWebsocket(o))
	srv.AddTransport(liveSSE{sse: transport.SSE{KeepAlivePingInterval: KeepAlive}, hub: o.Live})
	srv.AddTransport(transport.Options{})
	// @defer: parts for clients that accept multipart/mixed, one whole
	// response for everyone else (defer.go).
	srv.AddTransport(incremental{})
	srv.AddTransport(whole{transport.GET{}})
	srv.AddTransport(whole{transport.POST{}})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(o.Limits.MaxTokens)
	if o.Limits.NoIntrospection {
		srv.SetDisableSuggestion(true)
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(undeferred{})
	srv.Use(&operationLimits{limits: o.Limits})
	m := newMetrics(o.Metrics)
	srv.AroundOperations(m.aroundOperations)
	apq := o.APQCache
	if apq == nil {
		apq = lru.New[string](1000)
	}
	srv.Use(trustedOnly{o.Trusted})
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// Only a query's answer may be kept by the response cache.
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
			cache.MarkCacheable(ctx)
		}
		return next(ctx)
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			ctx = loaders.Fresh(ctx, o.News.Store())
		}
		return next(ctx)
	})
	srv.AroundFields(markInternal)
	srv.AroundResponses(refuseBadCredentials)
	srv.SetErrorPresenter(errorPresenter(o.Logger, m))
	srv.SetRecoverFunc(recoverFunc)
	return srv
}

// hasRole is the @hasRole directive: the field runs only for a viewer whose
// role is high enough.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role model.Role) (any, error) {
	if err := news.RequireRole(ctx, news.Role(role)); err != nil {
		return nil, err
	}
	return next(ctx)
}

// refuseBadCredentials answers a request whose key the auth middleware
// refused (unknown, revoked, malformed, over its limit) with that error alone,
// executing nothing: a bad key is never quietly served as a reader.
func refuseBadCredentials(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	err := auth.Refusal(ctx)
	if err == nil {
		return next(ctx)
	}
	if !isDomainError(err) {
		err = &internalError{err: err}
	}
	graphql.AddError(ctx, err)
	return &graphql.Response{Errors: graphql.GetErrors(ctx)}
}
