package cache

import (
	"context"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// collector gathers, while one request executes, what its response was
// built from (tags), how long it may be kept, and which articles it showed
// a reader (so a cached replay still counts their views).
type collector struct {
	mu    sync.Mutex
	tags  map[string]struct{}
	ttl   time.Duration
	views []View
	query bool // the operation is a query: its answer may be kept
	// capped is the shortest life a read asked for (0: none), which the
	// edge must honour too; private keeps the answer out of every cache.
	capped  time.Duration
	private bool
}

type collectorKey struct{}

func withCollector(ctx context.Context, ttl time.Duration) (context.Context, *collector) {
	c := &collector{tags: map[string]struct{}{}, ttl: ttl}
	ctx = news.WithDependencyRecorder(ctx, c)
	return context.WithValue(ctx, collectorKey{}, c), c
}

// DependsOn implements news.DependencyRecorder.
func (c *collector) DependsOn(t string) { c.add(t) }

func (c *collector) add(tags ...string) {
	c.mu.Lock()
	for _, t := range tags {
		c.tags[t] = struct{}{}
	}
	c.mu.Unlock()
}

func collectorFrom(ctx context.Context) *collector {
	c, _ := ctx.Value(collectorKey{}).(*collector)
	return c
}

// tag records that the response depends on what tags name.
func tag(ctx context.Context, tags ...string) {
	if c := collectorFrom(ctx); c != nil {
		c.add(tags...)
	}
}

// capTTL shortens how long the response may be kept.
func capTTL(ctx context.Context, d time.Duration) {
	if c := collectorFrom(ctx); c != nil {
		c.mu.Lock()
		if d < c.ttl {
			c.ttl = d
		}
		if c.capped == 0 || d < c.capped {
			c.capped = d
		}
		c.mu.Unlock()
	}
}

// CapTTL lets the read side shorten a response's life (trending lists
// change by the minute).
func CapTTL(ctx context.Context, d time.Duration) { capTTL(ctx, d) }

func (c *collector) addView(v View) {
	c.mu.Lock()
	c.views = append(c.views, v)
	c.mu.Unlock()
}
