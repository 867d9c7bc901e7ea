package cache

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/news"
)

// View is one read of an article by a reader.
type View struct {
	ID      string `json:"i"`
	Section string `json:"s,omitempty"`
}

// Views are kept per hour: a sorted set per hour bucket (and per section
// and hour), scored by views. Counting happens in memory and is flushed to
// Redis once a second in one pipeline, off the request's path.
const (
	viewBucketFormat = "2006010215"
	viewRetention    = 8 * 24 * time.Hour
	flushEvery       = time.Second
	topCacheFor      = 10 * time.Second
	// TrendingTTL caps how long a response showing most-read lists is kept.
	TrendingTTL = 30 * time.Second
)

// Trending counts views and ranks articles by them (news.Trending).
type Trending struct {
	c *Cache

	mu      sync.Mutex
	pending map[View]int64
	// local mirrors this instance's counts, for when Redis is away.
	local map[string]map[string]float64 // bucket key → article → views
	top   *otter.Cache[string, []string]
}

func newTrending(c *Cache) *Trending {
	return &Trending{c: c, pending: map[View]int64{}, local: map[string]map[string]float64{},
		top: otter.Must(&otter.Options[string, []string]{MaximumSize: 1000,
			ExpiryCalculator: otter.ExpiryWriting[string, []string](topCacheFor)})}
}

// Viewed implements news.Trending: it counts a reader's view of a, and
// records it in the response being built so cached replays count too.
func (t *Trending) Viewed(ctx context.Context, a *news.Article) {
	v := View{ID: a.ID, Section: a.Section}
	if col := collectorFrom(ctx); col != nil {
		col.addView(v)
	}
	t.replay([]View{v})
}

func (t *Trending) replay(views []View) {
	if len(views) == 0 {
		return
	}
	t.mu.Lock()
	for _, v := range views {
		t.pending[v]++
	}
	t.mu.Unlock()
}

func bucketKeys(section string, now time.Time, buckets int) []string {
	keys := make([]string, buckets)
	for i := range keys {
		b := now.Add(-time.Duration(i) * time.Hour).UTC().Format(viewBucketFormat)
		// The braces are a Redis Cluster hash tag: every bucket of one
		// ranking lands in one slot, so ZUNION across them is allowed.
		if section == "" {
			keys[i] = "{views}:" + b
		} else {
			keys[i] = "{views:" + section + "}:" + b
		}
	}
	return keys
}

// Run flushes counted views every second until ctx ends.
func (t *Trending) Run(ctx context.Context) {
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			t.Flush(context.Background())
			return
		case <-tick.C:
			t.Flush(ctx)
		}
	}
}

// Flush sends the views counted so far.
func (t *Trending) Flush(ctx context.Context) {
	t.mu.Lock()
	pending := t.pending
	t.pending = map[View]int64{}
	now := time.Now()
	for v, n := range pending {
		for _, k := range []string{bucketKeys("", now, 1)[0], bucketKeys(v.Section, now, 1)[0]} {
			m := t.local[k]
			if m == nil {
				m = map[string]float64{}
				t.local[k] = m
			}
			m[v.ID] += float64(n)
		}
	}
	t.pruneLocal(now)
	t.mu.Unlock()
	red := t.c.redis
	if len(pending) == 0 || !red.usable() {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*RedisTimeout)
	defer cancel()
	pipe := red.client.Pipeline()
	touched := map[string]bool{}
	for v, n := range pending {
		for _, k := range []string{bucketKeys("", now, 1)[0], bucketKeys(v.Section, now, 1)[0]} {
			pipe.ZIncrBy(rctx, red.key(k), float64(n), v.ID)
			touched[k] = true
		}
	}
	for k := range touched {
		pipe.Expire(rctx, red.key(k), viewRetention)
	}
	_, err := pipe.Exec(rctx)
	red.observe(err)
}

// pruneLocal drops local buckets older than the longest window.
func (t *Trending) pruneLocal(now time.Time) {
	oldest := now.Add(-viewRetention).UTC().Format(viewBucketFormat)
	for k := range t.local {
		if b := k[len(k)-len(viewBucketFormat):]; b < oldest {
			delete(t.local, k)
		}
	}
}

// Top implements news.Trending: the IDs of the most-viewed articles over
// the last `hours` hour buckets, most viewed first, at most n. Responses
// that show it are kept only briefly.
func (t *Trending) Top(ctx context.Context, section string, hours, n int) ([]string, error) {
	capTTL(ctx, TrendingTTL)
	ck := section + "|" + time.Now().UTC().Format(viewBucketFormat) + "|" + strconv.Itoa(hours) + "|" + strconv.Itoa(n)
	if ids, ok := t.top.GetIfPresent(ck); ok {
		return ids, nil
	}
	keys := bucketKeys(section, time.Now(), hours)
	var scores map[string]float64
	if red := t.c.redis; red.usable() {
		rkeys := make([]string, len(keys))
		for i, k := range keys {
			rkeys[i] = red.key(k)
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*RedisTimeout)
		zs, err := red.client.ZUnionWithScores(rctx, redis.ZStore{Keys: rkeys}).Result()
		cancel()
		red.observe(err)
		if err == nil {
			scores = make(map[string]float64, len(zs))
			for _, z := range zs {
				scores[z.Member.(string)] = z.Score
			}
		}
	}
	if scores == nil {
		scores = t.localScores(keys)
	}
	ids := make([]string, 0, len(scores))
	for id := range scores {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if scores[ids[i]] != scores[ids[j]] {
			return scores[ids[i]] > scores[ids[j]]
		}
		return ids[i] > ids[j]
	})
	if len(ids) > n {
		ids = ids[:n]
	}
	t.top.Set(ck, ids)
	return ids, nil
}

func (t *Trending) localScores(keys []string) map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]float64{}
	for _, k := range keys {
		for id, n := range t.local[k] {
			out[id] += n
		}
	}
	return out
}
