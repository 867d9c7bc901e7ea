// Package edge keeps the CDN in front of the service true: every write the
// desk lands purges, on each edge, exactly the tags the response cache
// purges (the tags responses carry in Surrogate-Key and Cache-Tag).
package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Options configure a Purger.
type Options struct {
	// URLs receive a purge request each (EDGE_PURGE_URLS): `PURGE <url>`
	// with the tags in an `xkey-purge` header, as deploy/varnish/default.vcl
	// answers it.
	URLs       []string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Deadline bounds the purge a write waits for (default 500 ms); an edge
	// that misses it is purged again in the background.
	Deadline time.Duration
	// Client sends the purges (default: no redirects, no keep-alive limits).
	Client *http.Client
}

// Purger is a news.Listener that purges the edges. Register it after the
// cache: an edge that refetches must find the new version here.
type Purger struct {
	o      Options
	ctx    context.Context
	purges *prometheus.CounterVec

	mu       sync.Mutex
	pending  map[string]map[string]struct{} // edge URL → tags still to purge
	retrying map[string]bool
	wg       sync.WaitGroup
}

// maxPending bounds the tags kept for an edge that is away; past it they
// fold into the site key, which clears that edge whole when it is back.
const maxPending = 1000

// New builds a purger whose background retries stop when ctx ends.
func New(ctx context.Context, o Options) *Purger {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Deadline == 0 {
		o.Deadline = 500 * time.Millisecond
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	p := &Purger{o: o, ctx: ctx, pending: map[string]map[string]struct{}{}, retrying: map[string]bool{},
		purges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsgraph_edge_purges_total",
			Help: "Purge requests sent to edges (EDGE_PURGE_URLS) by result: ok, or failed (retried in the background).",
		}, []string{"result"})}
	if o.Registerer != nil {
		o.Registerer.MustRegister(p.purges)
	}
	return p
}

// ArticleChanged implements news.Listener.
func (p *Purger) ArticleChanged(ctx context.Context, before, after *news.Article) {
	p.Purge(ctx, cache.ArticleTags(before, after))
}

// AuthorChanged implements news.Listener.
func (p *Purger) AuthorChanged(ctx context.Context, before, after *news.Author) {
	p.Purge(ctx, cache.AuthorTags(before, after))
}

// Purge purges tags on every edge, waiting at most the deadline. A second
// purge a second later clears a copy that a read racing the write stored
// at the edge after the first one; an edge that failed is retried with
// backoff until it answers.
func (p *Purger) Purge(ctx context.Context, tags []string) {
	if len(tags) == 0 || len(p.o.URLs) == 0 {
		return
	}
	p.round(context.WithoutCancel(ctx), tags)
	time.AfterFunc(time.Second, func() {
		if p.ctx.Err() == nil {
			p.round(p.ctx, tags)
		}
	})
}

// round sends tags to every edge at once.
func (p *Purger) round(ctx context.Context, tags []string) {
	var wg sync.WaitGroup
	for _, u := range p.o.URLs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.send(ctx, u, tags); err != nil {
				p.o.Logger.Warn("edge purge failed; retrying in the background", "edge", u, "err", err)
				p.later(u, tags)
			}
		}()
	}
	wg.Wait()
}

func (p *Purger) send(ctx context.Context, u string, tags []string) error {
	ctx, cancel := context.WithTimeout(ctx, p.o.Deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PURGE", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("xkey-purge", strings.Join(tags, " "))
	res, err := p.o.Client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		_ = res.Body.Close()
		if res.StatusCode/100 != 2 {
			err = fmt.Errorf("edge answered %s", res.Status)
		}
	}
	if err != nil {
		p.purges.WithLabelValues("failed").Inc()
		return err
	}
	p.purges.WithLabelValues("ok").Inc()
	return nil
}

// later keeps tags for an edge that did not answer, and makes sure one
// goroutine per edge is retrying.
func (p *Purger) later(u string, tags []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep(u, tags)
	if !p.retrying[u] {
		p.retrying[u] = true
		p.wg.Add(1)
		go p.retry(u)
	}
}

// take empties an edge's pending tags; when there are none its retrying
// goroutine ends.
func (p *Purger) take(u string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var tags []string
	for t := range p.pending[u] {
		tags = append(tags, t)
	}
	delete(p.pending, u)
	if len(tags) == 0 {
		p.retrying[u] = false
	}
	return tags
}

// retry purges an edge's pending tags with exponential backoff and jitter
// (250 ms up to 30 s) until it answers, then as long as more accumulate.
func (p *Purger) retry(u string) {
	defer p.wg.Done()
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 250 * time.Millisecond
	b.MaxInterval = 30 * time.Second
	for {
		t := time.NewTimer(b.NextBackOff())
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		tags := p.take(u)
		if len(tags) == 0 {
			return
		}
		if err := p.send(p.ctx, u, tags); err != nil {
			if errors.Is(p.ctx.Err(), context.Canceled) {
				return
			}
			p.requeue(u, tags)
			continue
		}
		b.Reset()
	}
}

// requeue puts back tags a retry could not purge.
func (p *Purger) requeue(u string, tags []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep(u, tags)
	p.retrying[u] = true
}

// keep adds tags to an edge's pending set; p.mu is held.
func (p *Purger) keep(u string, tags []string) {
	set := p.pending[u]
	if set == nil {
		set = map[string]struct{}{}
		p.pending[u] = set
	}
	for _, t := range tags {
		set[t] = struct{}{}
	}
	if len(set) > maxPending {
		p.pending[u] = map[string]struct{}{cache.SiteKey: {}}
	}
}

// Wait blocks, once the context given to New has ended, until the
// background retries have stopped.
func (p *Purger) Wait() { p.wg.Wait() }
