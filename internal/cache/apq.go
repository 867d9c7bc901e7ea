package cache

import (
	"context"
	"time"

	"github.com/maypok86/otter/v2"
)

// apqTTL is how long a persisted query is remembered after its last
// registration; clients re-register transparently after that.
const apqTTL = 7 * 24 * time.Hour

// PersistedQueries is gqlgen's APQ cache (graphql.Cache[string]) kept in
// Redis, so a hash registered through one instance is known to all.
type PersistedQueries struct {
	c  *Cache
	l1 *otter.Cache[string, string]
}

func newPersistedQueries(c *Cache) *PersistedQueries {
	return &PersistedQueries{c: c, l1: otter.Must(&otter.Options[string, string]{
		MaximumSize:      c.opts.L1Size,
		ExpiryCalculator: otter.ExpiryWriting[string, string](apqTTL),
	})}
}

// Get implements graphql.Cache.
func (p *PersistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	if q, ok := p.l1.GetIfPresent(hash); ok {
		p.c.metrics.count("apq", TierL1, ResultHit)
		return q, true
	}
	p.c.metrics.count("apq", TierL1, ResultMiss)
	red := p.c.redis
	if !red.usable() {
		return "", false
	}
	rctx, cancel := red.ctx(ctx)
	defer cancel()
	q, err := red.client.Get(rctx, red.key("apq:"+hash)).Result()
	red.observe(err)
	if err != nil {
		p.c.metrics.count("apq", TierRedis, ResultMiss)
		return "", false
	}
	p.c.metrics.count("apq", TierRedis, ResultHit)
	p.l1.Set(hash, q)
	return q, true
}

// Add implements graphql.Cache. gqlgen calls it only once the query text
// has been checked against the hash.
func (p *PersistedQueries) Add(ctx context.Context, hash, query string) {
	p.l1.Set(hash, query)
	red := p.c.redis
	if !red.usable() {
		return
	}
	rctx, cancel := red.ctx(ctx)
	defer cancel()
	red.observe(red.client.Set(rctx, red.key("apq:"+hash), query, apqTTL).Err())
}
