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

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/gqlhttp"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// limitBody answers 413 to a GraphQL request body over gqlhttp.MaxBody
// before anything parses it, and hands the rest on as a re-readable buffer
// (cachedReads may have made it one already).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, buffered := r.Body.(*gqlhttp.Body); buffered || r.Body == nil || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > gqlhttp.MaxBody {
			tooLarge(w, r)
			return
		}
		var body []byte
		var err error
		if smallBody(r) {
			body, err = readSmallBody(r)
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

// smallBody says whether r declares a body of at most 64 KiB. The server
// stops the body at its declared length, so it is read into a buffer of
// that size; larger bodies grow as they arrive: a declared length costs
// nothing until the bytes come.
func smallBody(r *http.Request) bool { return r.ContentLength > 0 && r.ContentLength <= 64<<10 }

func readSmallBody(r *http.Request) ([]byte, error) {
	body := make([]byte, r.ContentLength)
	_, err := io.ReadFull(r.Body, body)
	return body, err
}

// failedBody is a body whose reading failed, for limitBody to answer.
type failedBody struct{ err error }

func (f failedBody) Read([]byte) (int, error) { return 0, f.err }
func (f failedBody) Close() error             { return nil }

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
		if r.Method == http.MethodPost && acceptsParts(r) {
			parts.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func acceptsParts(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "multipart/mixed")
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
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			durations.done(r, log, start, sw.status, w.Header().Get("X-Cache"), telemetry.RequestID(r.Context()))
		}()
		next.ServeHTTP(sw, r)
	})
}

// done records a request that began at start and was answered with status.
func (o *routeObservers) done(r *http.Request, log *slog.Logger, start time.Time, status int, cacheResult, requestID string) {
	o.m.inFlight.Dec()
	elapsed := time.Since(start)
	o.get(status, cacheResult).Observe(elapsed.Seconds())
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	if log.Enabled(r.Context(), level) {
		log.LogAttrs(r.Context(), level, "request", slog.String("request_id", requestID),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
			slog.Duration("duration", elapsed), slog.String("cache", cacheResult))
	}
}

// cachedReads answers an anonymous read of /graphql (a GET, or a POST of
// at most 64 KiB) that this instance's response cache holds in memory
// before the mux and the chain behind it, with what the chain would have
// sent: the request ID, the cache's headers (ETag and 304, Vary,
// Cache-Control, the edge's tags) and the route's metrics and log line.
// Everything else, and every miss, goes on to next, a POST with its body
// read into a buffer as limitBody would have.
//
// It skips no check a hit needs: such a request carries no key (so the
// key check and rate limit have nothing to do), a body within the limit,
// is no stream or @defer, and only requests the trusted documents admitted
// were ever answered into the memory it reads (Responses.Local).
func cachedReads(resp *cache.Responses, m *httpMetrics, log *slog.Logger, next http.Handler) http.Handler {
	durations := m.forRoute(graphQLRoute)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" || isStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		switch {
		case r.Method == http.MethodGet:
		case r.Method == http.MethodPost && smallBody(r) && !acceptsParts(r):
			body, err := readSmallBody(r)
			if err != nil {
				r.Body = failedBody{err}
				next.ServeHTTP(w, r)
				return
			}
			r.Body = gqlhttp.NewBody(body)
		default:
			next.ServeHTTP(w, r)
			return
		}
		hit, ok := resp.Local(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		m.inFlight.Inc()
		id := telemetry.StampRequestID(w, r)
		status := resp.ServeHit(w, r, hit)
		durations.done(r, log, start, status, "HIT", id)
	})
}
