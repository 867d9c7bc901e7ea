package embed

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/newsgraph/newsgraph/internal/freshness"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

var cacheControl = "public, max-age=" + strconv.Itoa(CacheAge)

// OEmbedHandler serves GET /oembed?url=&maxwidth=&maxheight=&format=json.
// The statuses are the oEmbed spec's: 404 for a URL we do not embed, 501
// for a format we do not serve (only JSON), 400 for a malformed request.
func (p *Provider) OEmbedHandler(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if f := q.Get("format"); f != "" && f != "json" {
			http.Error(w, "only format=json is served", http.StatusNotImplemented)
			return
		}
		req := OEmbedRequest{URL: q.Get("url")}
		if req.URL == "" {
			http.Error(w, "url is required", http.StatusBadRequest)
			return
		}
		var err error
		if req.MaxWidth, err = ParseDimension("maxwidth", q.Get("maxwidth")); err == nil {
			req.MaxHeight, err = ParseDimension("maxheight", q.Get("maxheight"))
		}
		var out *OEmbed
		if err == nil {
			out, err = p.OEmbed(r.Context(), req)
		}
		if err != nil {
			p.fail(w, r, log, "oembed", err)
			return
		}
		body, err := json.Marshal(out)
		if err != nil {
			telemetry.InternalError(w, r, log, "oembed", err)
			return
		}
		freshness.Serve(w, r, freshness.Representation{
			Body: body, ContentType: "application/json; charset=utf-8", CacheControl: cacheControl,
		})
	})
}

// CardHandler serves GET /embed/{slug}.
func (p *Provider) CardHandler(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, modified, err := p.Card(r.Context(), r.PathValue("slug"))
		if err != nil {
			p.fail(w, r, log, "embed card", err)
			return
		}
		w.Header().Set("Content-Security-Policy", CardCSP)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
		freshness.Serve(w, r, freshness.Representation{
			Body: body, ContentType: "text/html; charset=utf-8", LastModified: modified, CacheControl: cacheControl,
		})
	})
}

func (p *Provider) fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	var ie *news.InputError
	switch {
	case errors.Is(err, errNotOurs):
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "no published story at that address", http.StatusNotFound)
	case errors.As(err, &ie):
		http.Error(w, ie.Error(), http.StatusBadRequest)
	default:
		telemetry.InternalError(w, r, log, what, err)
	}
}
