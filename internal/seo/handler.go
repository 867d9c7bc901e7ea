package seo

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/newsgraph/newsgraph/internal/freshness"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// CacheControl is the feeds' policy: crawlers and CDNs keep a sitemap a
// minute (the edge longer, purged on writes, see internal/cache Edge).
const CacheControl = "public, max-age=60, stale-while-revalidate=300"

const xmlType = "application/xml; charset=utf-8"

// document is one generated answer: its bytes and when its content changed.
type document func(ctx context.Context, r *http.Request) ([]byte, time.Time, error)

func (s *Site) serve(log *slog.Logger, contentType string, build document) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, modified, err := build(r.Context(), r)
		if err != nil {
			telemetry.InternalError(w, r, log, "sitemap", err)
			return
		}
		if body == nil {
			http.NotFound(w, r)
			return
		}
		freshness.Serve(w, r, freshness.Representation{Body: body, ContentType: contentType,
			LastModified: modified, CacheControl: CacheControl})
	})
}

// IndexHandler serves GET /sitemap.xml.
func (s *Site) IndexHandler(log *slog.Logger) http.Handler {
	return s.serve(log, xmlType, func(ctx context.Context, r *http.Request) ([]byte, time.Time, error) {
		return s.Index(ctx, baseOf(r))
	})
}

// NewsHandler serves GET /sitemaps/news.xml.
func (s *Site) NewsHandler(log *slog.Logger) http.Handler {
	return s.serve(log, xmlType, func(ctx context.Context, r *http.Request) ([]byte, time.Time, error) {
		return s.NewsSitemap(ctx)
	})
}

// MonthHandler serves GET /sitemaps/{file} for files named YYYY-MM.xml; any
// other name, or a month before 1970 or after this one, is a 404.
func (s *Site) MonthHandler(log *slog.Logger) http.Handler {
	return s.serve(log, xmlType, func(ctx context.Context, r *http.Request) ([]byte, time.Time, error) {
		name, ok := strings.CutSuffix(r.PathValue("file"), ".xml")
		if !ok || len(name) != len("2006-01") {
			return nil, time.Time{}, nil
		}
		start, err := time.Parse("2006-01", name)
		if err != nil || start.Year() < 1970 || start.After(s.News.Now()) {
			return nil, time.Time{}, nil
		}
		return s.Month(ctx, start)
	})
}

// RobotsHandler serves GET /robots.txt.
func (s *Site) RobotsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		freshness.Serve(w, r, freshness.Representation{Body: Robots(baseOf(r)),
			ContentType: "text/plain; charset=utf-8", CacheControl: "public, max-age=3600"})
	})
}

//go:embed favicon.ico
var favicon []byte

// FaviconHandler serves GET /favicon.ico, which every browser asks for.
func FaviconHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		freshness.Serve(w, r, freshness.Representation{Body: favicon,
			ContentType: "image/x-icon", CacheControl: "public, max-age=86400"})
	})
}
