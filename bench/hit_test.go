package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

// BenchmarkCachedRead is the service's own work on a response-cache hit
// (w1's POST and w3's APQ GET), with no network and no load generator in
// between: its allocs/op are the issue's "allocations per cached request
// in the service itself". Run with
//
//	go test -run '^$' -bench CachedRead -benchmem ./bench
//
// net/http's own per-request work (reading the request, cloning the
// headers when they are written) is not in it: the raw server pays that
// too.
func BenchmarkCachedRead(b *testing.B) {
	rdb, prefix := testenv.Redis(b)
	svc := testenv.NewService(b, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	art := testenv.NewArticle("council-approves-budget", time.Now().Add(-time.Hour))
	svc.AddArticles(b, art)
	vars := map[string]any{"slug": art.Slug}

	post := postJSON(articleQuery, vars, nil)
	ext := persistedQuery(articleQuery)
	extJSON, _ := json.Marshal(ext)
	varsJSON, _ := json.Marshal(vars)
	get := "/graphql?" + url.Values{"extensions": {string(extJSON)}, "variables": {string(varsJSON)}}.Encode()
	register := postJSON(articleQuery, vars, ext)

	for _, c := range []struct {
		name   string
		method string
		target string
		body   []byte
	}{
		{"POST", http.MethodPost, "/graphql", post.body},
		{"APQ GET", http.MethodGet, get, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := &discard{header: http.Header{}}
			body := &rewind{}
			req, err := http.NewRequest(c.method, "http://news.example.test"+c.target, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			send := func() int {
				clear(w.header)
				w.status = 0
				if c.body != nil {
					body.Reset(c.body)
					req.Body, req.ContentLength = body, int64(len(c.body))
				}
				svc.Handler.ServeHTTP(w, req)
				return w.status
			}
			if c.method == http.MethodGet {
				// APQ: the document is registered once, then sent by hash.
				reg, _ := http.NewRequest(http.MethodPost, "http://news.example.test/graphql", bytes.NewReader(register.body))
				reg.Header.Set("Content-Type", "application/json")
				svc.Handler.ServeHTTP(&discard{header: http.Header{}}, reg)
			}
			send() // the miss that fills the cache
			if send(); w.header.Get("X-Cache") != "HIT" || w.status != http.StatusOK {
				b.Fatalf("not a cache hit: %d %v", w.status, w.header)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if send() != http.StatusOK {
					b.Fatal("not 200")
				}
			}
		})
	}
}

// discard is a ResponseWriter that keeps only the status: the benchmark
// counts the service's work, not a recorder's.
type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header { return d.header }

func (d *discard) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(p), nil
}

// rewind is a request body read again on every iteration.
type rewind struct{ bytes.Reader }

func (*rewind) Close() error { return nil }
