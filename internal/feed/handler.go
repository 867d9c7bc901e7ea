package feed

import (
	"log/slog"
	"net/http"

	"github.com/newsgraph/newsgraph/internal/freshness"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// Format is one of the three feed formats.
type Format struct {
	ContentType string
	Write       func(*Feed) ([]byte, error)
}

// The formats, as served at /feeds/rss.xml, /feeds/atom.xml, /feeds/feed.json.
var (
	FormatRSS  = Format{ContentType: "application/rss+xml; charset=utf-8", Write: RSS}
	FormatAtom = Format{ContentType: "application/atom+xml; charset=utf-8", Write: Atom}
	FormatJSON = Format{ContentType: "application/feed+json; charset=utf-8", Write: JSON}
)

// CacheControl lets readers and CDNs keep a feed a minute and serve it a
// little longer while they fetch the next one: feed readers poll, and a
// minute's delay on a new story is the trade for not re-rendering per poll.
const CacheControl = "public, max-age=60, stale-while-revalidate=300"

// Handler serves one format of the feed at the request's path.
func (s *Source) Handler(format Format, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := ParseRequest(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f, err := s.Collect(r.Context(), r.URL.Path, req)
		if ie, unknown := IsUnknownFilter(err); unknown {
			http.Error(w, ie.Reason, http.StatusNotFound)
			return
		}
		if err != nil {
			telemetry.InternalError(w, r, log, "feed", err)
			return
		}
		body, err := format.Write(f)
		if err != nil {
			telemetry.InternalError(w, r, log, "feed", err)
			return
		}
		freshness.Serve(w, r, freshness.Representation{
			Body:         body,
			ContentType:  format.ContentType,
			LastModified: f.Updated,
			CacheControl: CacheControl,
		})
	})
}
