package cache

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// What a CDN in front of the service (Fastly, Cloudflare, Varnish with
// xkey) may keep, for how long, and the tags a write purges it by. The tags
// are the response cache's own: a write that purges a response here purges
// the edge's copy by the same names (see internal/edge).
const (
	// EdgeTTL is how long an edge keeps an anonymous read: long, because
	// every write purges what it changed; browsers keep their short
	// Cache-Control.
	EdgeTTL = 24 * time.Hour
	// SiteKey is on every edge-cacheable response: purging it clears the
	// edge (a bulk load, or purges lost while an edge was away).
	SiteKey = "all"
	// MaxEdgeKeys bounds the Surrogate-Key and Cache-Tag headers. Varnish's
	// default http_resp_hdr_len (8 KB) is the tightest of the edges: Fastly
	// takes 16 KB of Surrogate-Key, Cloudflare 16 KB of Cache-Tag.
	MaxEdgeKeys = 8000
	// MaxEdgeKey bounds one tag (Fastly and Cloudflare: 1,024 bytes).
	MaxEdgeKey = 1024
)

// Edge-Control values: a hard purge ends an object's life early, so the
// edge may serve a little stale while it refetches, and a day stale while
// the service is down.
const (
	edgeSWR     = ", stale-while-revalidate=60, stale-if-error=86400"
	edgeNoStore = "no-store"
)

var (
	edgeLong    = []string{"max-age=" + strconv.Itoa(int(EdgeTTL/time.Second)) + edgeSWR}
	edgeNever   = []string{edgeNoStore}
	privateOnly = []string{"private, no-store"}
)

// coarser names a tag that every write purging t purges too, so a response
// whose tags do not fit may carry that instead of t: a write to any article
// purges "articles", to any author "authors". "" for tags that are already
// coarse (kept whatever the length).
func coarser(t string) string {
	switch {
	case strings.HasPrefix(t, "article:"), strings.HasPrefix(t, "slug:"):
		return tagArticles
	case strings.HasPrefix(t, "author:"), strings.HasPrefix(t, "author-slug:"):
		return tagAuthors
	}
	return ""
}

// edgeSafe reports whether t can travel in Surrogate-Key (space separated)
// and Cache-Tag (comma separated): visible ASCII, no comma. Slugs a client
// asked for that match nothing are echoed in tags and may be anything.
func edgeSafe(t string) bool {
	if len(t) == 0 || len(t) > MaxEdgeKey {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c > '~' || c == ',' {
			return false
		}
	}
	return true
}

// edgeKeys are the tags as the edge takes them, bounded: tags that do not
// fit, or cannot travel, give way to a coarser tag, never dropped. ok is
// false when not even the coarse tags fit (the response is then not for the
// edge at all).
func edgeKeys(tags []string) (keys []string, ok bool) {
	keys = []string{SiteKey}
	var fine []string
	for _, t := range tags {
		c := coarser(t)
		switch {
		case c == "" && edgeSafe(t):
			keys = append(keys, t)
		case c == "":
			return nil, false
		case edgeSafe(t):
			fine = append(fine, t)
		default:
			keys = append(keys, c)
		}
	}
	// Room for both coarse tags is kept in reserve.
	size := len(tagArticles) + len(tagAuthors) + 2
	for _, k := range keys {
		size += len(k) + 1
	}
	slices.Sort(fine)
	for _, t := range fine {
		if size+len(t)+1 > MaxEdgeKeys {
			keys = append(keys, coarser(t))
			continue
		}
		keys = append(keys, t)
		size += len(t) + 1
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return keys, size <= MaxEdgeKeys
}

// edgeHeaders are an edge-cacheable response's tag headers, built once and
// set by reference on every response that carries them.
type edgeHeaders struct {
	surrogateKey []string // Surrogate-Key: Fastly, Varnish xkey
	cacheTag     []string // Cache-Tag: Cloudflare
}

func newEdgeHeaders(keys []string) *edgeHeaders {
	return &edgeHeaders{surrogateKey: []string{strings.Join(keys, " ")}, cacheTag: []string{strings.Join(keys, ",")}}
}

// set labels a response for the edge. until, when not zero, is when it must
// leave the edge although no write purges it (a scheduled story goes live,
// a most-read list moves on).
func (e *edgeHeaders) set(h http.Header, until time.Time) {
	h["Surrogate-Key"] = e.surrogateKey
	h["Cache-Tag"] = e.cacheTag
	control := edgeLong
	if !until.IsZero() {
		s := int(time.Until(until) / time.Second)
		if s < 0 {
			s = 0
		}
		control = []string{"max-age=" + strconv.Itoa(s) + edgeSWR}
	}
	h["Surrogate-Control"] = control
	h["Cdn-Cache-Control"] = control
}

// notForTheEdge keeps a response out of every shared cache: errors,
// mutations, anything a key or a preview token asked for.
func notForTheEdge(h http.Header) {
	h["Surrogate-Control"] = edgeNever
	h["Cdn-Cache-Control"] = edgeNever
	if h.Get("Cache-Control") == "" {
		h["Cache-Control"] = edgeNever
	}
}

// private marks a response for its one requester only.
func private(h http.Header) {
	h["Cache-Control"] = privateOnly
	h["Surrogate-Control"] = edgeNever
	h["Cdn-Cache-Control"] = edgeNever
}

// isPreview reports whether a request carries a preview token, by the name
// of its field or parameter. Such a request is never cached; MarkPrivate
// covers the ones that do not name it (a persisted query's variables).
func isPreview(query string) bool {
	return strings.Contains(query, "preview") || strings.Contains(query, "Preview")
}

// isPreviewBody is isPreview for a POST body, without copying it.
func isPreviewBody(body []byte) bool {
	return bytes.Contains(body, previewLower) || bytes.Contains(body, previewTitle)
}

var previewLower, previewTitle = []byte("preview"), []byte("Preview")

// edgeUntil is when a response built by col must leave the edge: zero for
// "when a write purges it", else its capped lifetime.
func (c *collector) edgeUntil(now time.Time) time.Time {
	if c.capped == 0 || c.capped >= EdgeTTL {
		return time.Time{}
	}
	return now.Add(c.capped)
}

// Edge labels what next serves (feeds, embeds, oEmbed, sitemaps) for a CDN
// with the tags it was built from, the way the response cache labels
// GraphQL reads. Requests with a key are not for the edge.
func (c *Cache) Edge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || isPreview(r.URL.RawQuery) {
			notForTheEdge(w.Header())
			next.ServeHTTP(w, r)
			return
		}
		ctx, col := withCollector(r.Context(), EdgeTTL)
		next.ServeHTTP(&edgeWriter{ResponseWriter: w, col: col}, r.WithContext(ctx))
	})
}

// edgeWriter adds the edge headers when the handler starts its answer.
type edgeWriter struct {
	http.ResponseWriter
	col   *collector
	wrote bool
}

func (e *edgeWriter) WriteHeader(status int) {
	if !e.wrote {
		e.wrote = true
		e.label(status)
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *edgeWriter) Write(p []byte) (int, error) {
	if !e.wrote {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(p)
}

func (e *edgeWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

func (e *edgeWriter) label(status int) {
	h := e.Header()
	e.col.mu.Lock()
	tags := make([]string, 0, len(e.col.tags))
	for t := range e.col.tags {
		tags = append(tags, t)
	}
	priv := e.col.private
	until := e.col.edgeUntil(time.Now())
	e.col.mu.Unlock()
	if priv {
		private(h)
		return
	}
	keys, ok := edgeKeys(tags)
	if !ok || (status != http.StatusOK && status != http.StatusNotModified) {
		notForTheEdge(h)
		return
	}
	newEdgeHeaders(keys).set(h, until)
}

// ArticleTags are the tags a write to an article makes stale: its own, its
// old and new slugs', and every list's. before is nil for a creation, after
// for a deletion.
func ArticleTags(before, after *news.Article) []string {
	tags := []string{tagArticles}
	for _, a := range []*news.Article{before, after} {
		if a != nil {
			tags = append(tags, tagArticle(a.ID), tagSlug(a.Slug))
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// AuthorTags are the tags a write to an author makes stale.
func AuthorTags(before, after *news.Author) []string {
	tags := []string{tagAuthors}
	for _, a := range []*news.Author{before, after} {
		if a != nil {
			tags = append(tags, tagAuthor(a.ID), tagAuthorSlug(a.Slug))
		}
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}
