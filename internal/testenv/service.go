package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/app"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/demo"
	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/preview"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/trusted"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// Service is the whole HTTP surface over a fresh database, served by a real
// HTTP server on loopback.
type Service struct {
	URL     string
	BaseURL string
	Store   *store.Store
	News    *news.Service
	Cache   *cache.Cache
	Keys    *auth.Keys
	Related *related.Finder
	Live    *live.Hub
	Index   *index.Index
	// Handler is the service's whole HTTP handler, for benchmarks that
	// call it without a network in between.
	Handler http.Handler
	logs    *lockedWriter
	stop    func()
}

// Stop shuts the service down as a deployment would stop an instance
// (its database and Redis stay); the test's cleanup would otherwise.
func (s *Service) Stop() { s.stop() }

// Logs is what the service has logged so far.
func (s *Service) Logs() string {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	return s.logs.w.(*bytes.Buffer).String()
}

// ServiceOptions choose what a test service starts with.
type ServiceOptions struct {
	// Demo loads the demo corpus first.
	Demo bool
	// BaseURL is PUBLIC_BASE_URL; https://news.example.test when empty.
	BaseURL string
	// Redis is the shared cache tier and holds the rate limits (both under
	// Prefix); nil runs in-process only.
	Redis  redis.UniversalClient
	Prefix string
	// Store shares another service's database (a second instance); nil
	// gives the service a fresh database of its own.
	Store *store.Store
	// Cache sets cache TTLs and sizes (Redis, Prefix, Logger and
	// Registerer are filled in).
	Cache cache.Options
	// Limits bound GraphQL operations (defaults when zero).
	Limits graph.Limits
	// RequestTimeout bounds one request (default 10s).
	RequestTimeout time.Duration
	// Around, when set, wraps the cached store the service reads through:
	// fault tests use it to make a real store fail or panic on cue.
	Around func(news.Store) news.Store
	// Listener also hears every write the desk makes (the cache always does).
	Listener news.Listener
	// SiteName is SITE_NAME; "Riverside Courier" when empty.
	SiteName string
	// Live sets the subscription hub's buffer and connection limit (Redis,
	// Prefix, Logger and Articles are filled in).
	Live live.Options
	// AllowedOrigins is ALLOWED_ORIGINS (BaseURL's host is always allowed).
	AllowedOrigins []string
	// Webhooks tunes webhook delivery. Unless a test sets Poll, the
	// dispatcher reads the outbox only at start and when this instance
	// writes, so background reads do not disturb round-trip counts.
	Webhooks webhook.Options
	// Preview configures preview links (PREVIEW_SECRET and the like).
	Preview preview.Options
	// EdgePurgeURLs is EDGE_PURGE_URLS.
	EdgePurgeURLs []string
	// Trusted is TRUSTED_DOCUMENTS (nil: unrestricted).
	Trusted *trusted.Documents
	// Index is the query index; nil builds one in memory from the database.
	// A test that opens one owns it (and closes it after the service).
	Index *index.Index
}

// NewService starts a service for t, stopped when the test ends.
func NewService(t testing.TB, o ServiceOptions) *Service {
	t.Helper()
	st := o.Store
	if st == nil {
		st = Store(t, store.Options{})
	}
	if o.Demo {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := demo.LoadIfEmpty(ctx, st, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if o.Listener == nil {
		o.Listener = news.Listeners{}
	}
	if o.Cache.ConfirmWait == 0 {
		// Tests check the order of a write's steps (every instance has
		// re-indexed and dropped the old story before the write returns),
		// not the machine's speed: under -race, beside other packages on
		// two cores, an instance can take longer than production's 250 ms.
		o.Cache.ConfirmWait = 10 * time.Second
	}
	if o.Webhooks.Poll == 0 {
		o.Webhooks.Poll = time.Hour
	}
	if o.BaseURL == "" {
		o.BaseURL = "https://news.example.test"
	}
	if o.SiteName == "" {
		o.SiteName = "Riverside Courier"
	}
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	a := app.Assemble(ctx, app.Parts{
		Store: st, Redis: o.Redis, Prefix: o.Prefix, Logger: log,
		BaseURL: o.BaseURL, SiteName: o.SiteName, Cache: o.Cache, Live: o.Live,
		Limits: o.Limits, RequestTimeout: o.RequestTimeout,
		AllowedOrigins: append(o.AllowedOrigins, strings.TrimPrefix(strings.TrimPrefix(o.BaseURL, "https://"), "http://")),
		Around:         o.Around, Listener: o.Listener, EdgePurgeURLs: o.EdgePurgeURLs,
		Webhooks: o.Webhooks, Preview: o.Preview,
		Trusted: o.Trusted, Index: o.Index,
	})
	// The index's first catch-up reads the database in the background;
	// tests that count round trips start after it.
	select {
	case <-a.Index.Settled():
	case <-time.After(time.Minute):
		t.Fatal("the query index did not settle within a minute")
	}
	srv := httptest.NewServer(a.Handler)
	srv.Config.RegisterOnShutdown(a.Live.Close)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			a.Live.Close()
			srv.Close()
			cancel()
			a.Wait()
		})
	}
	t.Cleanup(stop)
	return &Service{URL: srv.URL, BaseURL: o.BaseURL, Store: st, News: a.News, Cache: a.Cache, Keys: a.Keys,
		Related: a.Related, Live: a.Live, Index: a.Index, Handler: a.Handler, logs: logs, stop: stop}
}

// NewKey issues an API key with role and a generous rate limit, and returns
// the Authorization header value that sends it.
func (s *Service) NewKey(t testing.TB, role news.Role) string {
	t.Helper()
	return s.NewKeyWithRate(t, role, auth.MaxRatePerMinute)
}

// NewKeyWithRate is NewKey with a chosen limit per minute.
func (s *Service) NewKeyWithRate(t testing.TB, role news.Role, perMinute int) string {
	t.Helper()
	secret, _, err := s.Keys.Create(s.ctx(t), "test "+string(role), role, perMinute)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + secret
}

// GraphQLError is one entry of a response's errors.
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response as a client receives it.
type Response struct {
	Status int
	Header http.Header
	Data   json.RawMessage `json:"data"`
	Errors []GraphQLError  `json:"errors"`
}

// Code is the extensions.code of the first error, "" when none.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode unmarshals data into v, failing the test on errors in the response.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Query POSTs a GraphQL document with variables, as a browser client would.
func (s *Service) Query(t testing.TB, query string, vars map[string]any, header ...string) *Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return Do(t, req)
}

// Do sends a request and decodes the GraphQL response.
func Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("response is not JSON (status %d): %s", res.StatusCode, raw)
	}
	return out
}
