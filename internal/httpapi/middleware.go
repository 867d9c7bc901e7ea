package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsgraph/newsgraph/internal/gqlhttp"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// limitBody answers 413 to a GraphQL request body over gqlhttp.MaxBody
// before anything parses it, and hands the rest on as a re-readable buffer.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > gqlhttp.MaxBody {
			tooLarge(w, r)
			return
		}
		var body []byte
		var err error
		if r.ContentLength > 0 && r.ContentLength <= 64<<10 {
			// The server stops the body at its declared length. Larger
			// bodies grow as they arrive: a declared length costs nothing
			// until the bytes come.
			body = make([]byte, r.ContentLength)
			_, err = io.ReadFull(r.Body, body)
		} else {
			body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, gqlhttp.MaxBody))
		}
		if err != nil {
			tooLarge(w, r)
			return
		}
		r.Body = gqlhttp.NewBody(body)
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", gqlhttp.ContentType(r))
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    "request body is larger than " + strconv.Itoa(gqlhttp.MaxBody) + " bytes",
		"extensions": map[string]any{"code": "BAD_REQUEST", "limit": gqlhttp.MaxBody},
	}}})
}

// withTimeout bounds the work one request may cause.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// streams sends live streams (websocket upgrades, text/event-stream
// requests) to stream and everything else to next. A stream outlives the
// server's read and write timeouts, so its deadlines are lifted.
func streams(stream, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		stream.ServeHTTP(w, r)
	})
}

func isStream(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// answerFirst writes a request's answer out before the live fan-out of
// what it wrote begins (live.AnswerFirst): an editor's publish is answered
// as fast with 50,000 subscribers as with none.
func answerFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, release := live.AnswerFirst(r.Context())
		defer release()
		next.ServeHTTP(w, r.WithContext(ctx))
		_ = http.NewResponseController(w).Flush()
	})
}

// incrementalDelivery sends requests for @defer's parts (a POST accepting
// multipart/mixed) to parts and everything else to next: the parts are a
// stream, which neither the response cache nor gqlhttp's buffering may hold.
func incrementalDelivery(parts, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "multipart/mixed") {
			parts.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// httpMetrics are the request-level series: duration by route and whether
// the response cache answered, and requests in flight.
type httpMetrics struct {
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newsgraph_http_request_duration_seconds",
			Help:    "HTTP request duration by route, status class and response-cache result (HIT, MISS, or none).",
			Buckets: []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "status", "cache"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "newsgraph_http_requests_in_flight",
			Help: "Requests being served now.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.inFlight)
	}
	return m
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Flush lets streaming responses through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands a websocket upgrade the connection (101 counts as success).
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if s.status == 0 {
		s.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// routeObservers are one route's duration series by status class (1xx
// to 5xx) and response-cache result, each looked up once, when first used.
type routeObservers struct {
	m     *httpMetrics
	route string
	by    [6][3]lazyObserver
}

type lazyObserver struct {
	once sync.Once
	o    prometheus.Observer
}

var cacheResults = [3]string{"", "HIT", "MISS"}

func (m *httpMetrics) forRoute(route string) *routeObservers {
	return &routeObservers{m: m, route: route}
}

func (o *routeObservers) get(status int, cacheResult string) prometheus.Observer {
	class, res := min(max(status/100, 1), 5), 0
	for i, r := range cacheResults {
		if r == cacheResult {
			res = i
		}
	}
	l := &o.by[class][res]
	l.once.Do(func() {
		l.o = o.m.duration.WithLabelValues(o.route, strconv.Itoa(class)+"xx", cacheResults[res])
	})
	return l.o
}

// observe measures and logs every request. Successful requests are logged
// at debug (the hot path stays quiet), server errors at warn.
func observe(route string, m *httpMetrics, log *slog.Logger, next http.Handler) http.Handler {
	durations := m.forRoute(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			m.inFlight.Dec()
			elapsed := time.Since(start)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			durations.get(sw.status, w.Header().Get("X-Cache")).Observe(elapsed.Seconds())
			level := slog.LevelDebug
			if sw.status >= 500 {
				level = slog.LevelWarn
			}
			if log.Enabled(r.Context(), level) {
				log.LogAttrs(r.Context(), level, "request", slog.String("request_id", telemetry.RequestID(r.Context())),
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
					slog.Duration("duration", elapsed), slog.String("cache", w.Header().Get("X-Cache")))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
