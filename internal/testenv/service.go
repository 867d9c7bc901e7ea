package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/demo"
	"github.com/newsgraph/newsgraph/internal/httpapi"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/store"
)

// Service is the whole HTTP surface over a fresh database, served by a real
// HTTP server on loopback.
type Service struct {
	URL     string
	BaseURL string
	Store   *store.Store
	News    *news.Service
	Related *related.Finder
	logs    *lockedWriter
}

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
	// SiteName is SITE_NAME; "Riverside Courier" when empty.
	SiteName string
}

// NewService starts a service for t, stopped when the test ends.
func NewService(t testing.TB, o ServiceOptions) *Service {
	t.Helper()
	st := Store(t, store.Options{})
	if o.Demo {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := demo.LoadIfEmpty(ctx, st, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if o.BaseURL == "" {
		o.BaseURL = "https://news.example.test"
	}
	if o.SiteName == "" {
		o.SiteName = "Riverside Courier"
	}
	logs := &lockedWriter{w: &bytes.Buffer{}}
	svc := news.NewService(st, o.BaseURL)
	finder := related.NewFinder(st)
	h := httpapi.NewServer(httpapi.Deps{
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		News:     svc,
		BaseURL:  o.BaseURL,
		SiteName: o.SiteName,
		Related:  finder,
		Ready:    map[string]httpapi.Pinger{"mongodb": st},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Service{URL: srv.URL, BaseURL: o.BaseURL, Store: st, Related: finder, News: svc, logs: logs}
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
