// Package httpapi is the service's HTTP surface: every route in one place,
// the middleware every request passes through, health and readiness.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/preview"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/search"
	"github.com/newsgraph/newsgraph/internal/telemetry"
	"github.com/newsgraph/newsgraph/internal/trusted"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// Pinger is a dependency readiness checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the HTTP surface is built from.
type Deps struct {
	Logger *slog.Logger
	News   *news.Service
	// Cache serves anonymous reads whole and keeps persisted queries.
	Cache *cache.Cache
	// Metrics is what /metrics exposes.
	Metrics *prometheus.Registry
	// Ready names each dependency /readyz pings (e.g. "mongodb"); Optional
	// ones (Redis) are reported but do not make the service unready, since
	// it serves without them.
	Ready    map[string]Pinger
	Optional map[string]Pinger
	// Limits bound what one GraphQL operation may ask for.
	Limits graph.Limits
	// RequestTimeout bounds one request's work (default 10s).
	RequestTimeout time.Duration
	// Keys check the bearer keys callers send; Limiter bounds each key's
	// request rate.
	Keys    *auth.Keys
	Limiter auth.Limiter
	// Desk is the write side editors use.
	Desk *news.Desk
	// BaseURL is PUBLIC_BASE_URL: the site feeds and embeds link to.
	BaseURL string
	// SiteName is how feeds and oEmbed name the newsroom.
	SiteName string
	// Live carries subscriptions; AllowedOrigins are the hosts whose pages
	// may open a websocket besides this host's own (PUBLIC_BASE_URL's and
	// ALLOWED_ORIGINS).
	Live           *live.Hub
	AllowedOrigins []string
	// Related ranks related stories; it is also a news.Listener, so the
	// write path must tell it of changes.
	Related *related.Finder
	// Search answers Query.search.
	Search *search.Searcher
	// Webhooks and Previews serve webhooks and preview links.
	Webhooks *webhook.Hooks
	Previews *preview.Links
	// Trusted limits keyless callers to the website's listed documents
	// (TRUSTED_DOCUMENTS); nil restricts nothing.
	Trusted *trusted.Documents
}

// NewServer returns the service's whole HTTP handler.
func NewServer(d Deps) http.Handler {
	if d.RequestTimeout == 0 {
		d.RequestTimeout = 10 * time.Second
	}
	if d.Metrics == nil {
		d.Metrics = prometheus.NewRegistry()
	}
	mux := http.NewServeMux()
	m := newHTTPMetrics(d.Metrics)
	addRoutes(mux, d, m)
	// An anonymous cached read is answered in front of everything else;
	// its memory is forgotten when the trusted documents change.
	d.Trusted.OnReload(d.Cache.ForgetLocalResponses)
	return cachedReads(d.Cache.Responses(), m, d.Logger, telemetry.RequestIDMiddleware(mux))
}

// handleHealthz says the process is up; it checks nothing else.
func handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz pings every dependency under a one-second timeout and says
// which are down; 503 when any is.
func handleReadyz(deps Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		checks := map[string]string{}
		status := http.StatusOK
		for name, p := range deps.Ready {
			if err := p.Ping(ctx); err != nil {
				checks[name] = "down"
				// A part still getting ready (the query index being built)
				// says what it is doing.
				var starting interface{ Starting() string }
				if errors.As(err, &starting) {
					checks[name] = starting.Starting()
				}
				status = http.StatusServiceUnavailable
				continue
			}
			checks[name] = "ok"
		}
		for name, p := range deps.Optional {
			checks[name] = "ok"
			if err := p.Ping(ctx); err != nil {
				checks[name] = "down (degraded: serving without it)"
			}
		}
		body := map[string]any{"status": "ready", "checks": checks}
		if status != http.StatusOK {
			body["status"] = "not ready"
		}
		writeJSON(w, status, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
