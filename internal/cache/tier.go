package cache

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/singleflight"

	"github.com/newsgraph/newsgraph/internal/news"
)

// entry is one cached value, or a remembered absence.
type entry[V any] struct {
	val    V
	absent bool
	fresh  time.Time // served as is until then
	hard   time.Time // kept until then, served only if the origin fails
	seq    int64     // the generation its load started in
}

// wire is an entry as stored in Redis.
type wire struct {
	Fresh  int64           `json:"f"`
	Seq    int64           `json:"q,omitempty"`
	Absent bool            `json:"n,omitempty"`
	Value  json.RawMessage `json:"v,omitempty"`
}

// TTLs of one kind of cached object.
type TTLs struct {
	Fresh    time.Duration // served without asking the origin
	Stale    time.Duration // beyond Fresh, kept for stale-if-error
	Negative time.Duration // an absence is remembered this long
}

// tier is a two-tier cache of one kind of object.
type tier[V any] struct {
	name  string
	l1    *otter.Cache[string, *entry[V]]
	redis *shared
	ttl   TTLs
	group singleflight.Group
	epoch *epochs
	gen   *generations
	m     *Metrics
}

func newTier[V any](name string, size int, ttl TTLs, redis *shared, epoch *epochs, gen *generations, m *Metrics) *tier[V] {
	return &tier[V]{
		name: name,
		l1: otter.Must(&otter.Options[string, *entry[V]]{
			MaximumSize: size,
			ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *entry[V]]) time.Duration {
				return time.Until(e.Value.hard)
			}),
		}),
		redis: redis, ttl: ttl, epoch: epoch, gen: gen, m: m,
	}
}

// flightKey names a load shared by concurrent misses on key: only misses
// of one epoch share it. A miss that begins after an invalidation has been
// applied here never joins a load begun before it, whose answer may be the
// copy the write replaced.
func flightKey(key string, epoch uint64) string {
	return key + "@" + strconv.FormatUint(epoch, 10)
}

// jitter spreads expiries by ±10% so keys cached together do not all
// expire in the same instant.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

func (t *tier[V]) newEntry(v V, absent bool, now time.Time, seq int64) *entry[V] {
	fresh := jitter(t.ttl.Fresh)
	if absent {
		fresh = t.ttl.Negative
	}
	return &entry[V]{val: v, absent: absent, fresh: now.Add(fresh), hard: now.Add(fresh + t.ttl.Stale), seq: seq}
}

func (e *entry[V]) result() (V, error) {
	if e.absent {
		var zero V
		return zero, news.ErrNotFound
	}
	return e.val, nil
}

// get returns the value under key, loading it from the origin on a miss.
// Concurrent misses on one key share one load. A load that fails is answered
// from a stale copy when there is one. A load that raced an invalidation is
// returned but not kept.
func (t *tier[V]) get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	// Anything fetched below is kept only if no invalidation ran meanwhile.
	epoch, keep := t.epoch.begin()
	seq := t.gen.current()
	now := time.Now()
	stale, ok := t.l1.GetIfPresent(key)
	if ok && !t.gen.valid(key, stale.seq) {
		stale, ok = nil, false // made before a write to it: never served
	}
	if ok && now.Before(stale.fresh) {
		t.m.count(t.name, TierL1, ResultHit)
		return stale.result()
	}
	t.m.count(t.name, TierL1, ResultMiss)
	res, err, _ := t.group.Do(flightKey(key, epoch), func() (any, error) {
		// A load that finished just before this call joined the group has
		// filled the in-process tier: look again before going further.
		if e, ok := t.l1.GetIfPresent(key); ok && time.Now().Before(e.fresh) && t.gen.valid(key, e.seq) {
			return e, nil
		}
		if e := t.fromRedis(ctx, key, now); e != nil {
			if now.Before(e.fresh) {
				if keep && t.epoch.still(epoch) {
					t.l1.Set(key, e)
				}
				return e, nil
			}
			if stale == nil {
				stale = e
			}
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		v, err := load(lctx)
		t.m.count(t.name, TierDB, ResultMiss)
		absent := errors.Is(err, news.ErrNotFound)
		if err != nil && !absent {
			if stale != nil {
				t.m.count(t.name, TierDB, ResultStale)
				return stale, nil
			}
			return nil, err
		}
		e := t.newEntry(v, absent, time.Now(), seq)
		if keep && t.epoch.still(epoch) {
			t.l1.Set(key, e)
			t.toRedis(ctx, key, e)
		}
		return e, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return res.(*entry[V]).result()
}

// getMany is get for a batch: one Redis MGET and one origin load for what
// neither tier has. Absent keys are left out of the result.
func (t *tier[V]) getMany(ctx context.Context, keys []string, cacheKey func(string) string,
	load func(context.Context, []string) (map[string]V, error)) (map[string]V, error) {
	epoch, keep := t.epoch.begin()
	seq := t.gen.current()
	now := time.Now()
	out := make(map[string]V, len(keys))
	stale := map[string]*entry[V]{}
	var missing []string
	for _, k := range keys {
		e, ok := t.l1.GetIfPresent(cacheKey(k))
		if ok && !t.gen.valid(cacheKey(k), e.seq) {
			e, ok = nil, false
		}
		if ok && now.Before(e.fresh) {
			t.m.count(t.name, TierL1, ResultHit)
			if !e.absent {
				out[k] = e.val
			}
			continue
		}
		t.m.count(t.name, TierL1, ResultMiss)
		if ok {
			stale[k] = e
		}
		missing = append(missing, k)
	}
	if len(missing) == 0 {
		return out, nil
	}
	missing = t.manyFromRedis(ctx, missing, cacheKey, now, epoch, keep, out, stale)
	if len(missing) == 0 {
		return out, nil
	}
	found, err := load(ctx, missing)
	t.m.count(t.name, TierDB, ResultMiss)
	if err != nil {
		for _, k := range missing {
			e, ok := stale[k]
			if !ok {
				return nil, err
			}
			t.m.count(t.name, TierDB, ResultStale)
			if !e.absent {
				out[k] = e.val
			}
		}
		return out, nil
	}
	keep = keep && t.epoch.still(epoch)
	later := time.Now()
	for _, k := range missing {
		v, ok := found[k]
		if ok {
			out[k] = v
		}
		if keep {
			e := t.newEntry(v, !ok, later, seq)
			t.l1.Set(cacheKey(k), e)
			t.toRedis(ctx, cacheKey(k), e)
		}
	}
	return out, nil
}

func (t *tier[V]) fromRedis(ctx context.Context, key string, now time.Time) *entry[V] {
	if !t.redis.usable() {
		return nil
	}
	rctx, cancel := t.redis.ctx(ctx)
	defer cancel()
	raw, err := t.redis.client.Get(rctx, t.redis.key(key)).Bytes()
	t.redis.observe(err)
	if err != nil {
		t.m.count(t.name, TierRedis, ResultMiss)
		return nil
	}
	e := t.decode(raw, now)
	if e == nil || !t.gen.valid(key, e.seq) {
		t.m.count(t.name, TierRedis, ResultMiss)
		return nil
	}
	t.m.count(t.name, TierRedis, ResultHit)
	return e
}

// manyFromRedis fills out from one MGET and returns the keys still missing.
func (t *tier[V]) manyFromRedis(ctx context.Context, keys []string, cacheKey func(string) string, now time.Time,
	epoch uint64, keep bool, out map[string]V, stale map[string]*entry[V]) []string {
	if !t.redis.usable() {
		return keys
	}
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = t.redis.key(cacheKey(k))
	}
	rctx, cancel := t.redis.ctx(ctx)
	defer cancel()
	vals, err := t.redis.getAll(rctx, rkeys)
	t.redis.observe(err)
	if err != nil {
		return keys
	}
	var missing []string
	for i, k := range keys {
		e := t.decode(vals[i], now)
		if e != nil && !t.gen.valid(cacheKey(k), e.seq) {
			e = nil
		}
		if e == nil || !now.Before(e.fresh) {
			t.m.count(t.name, TierRedis, ResultMiss)
			if e != nil {
				stale[k] = e
			}
			missing = append(missing, k)
			continue
		}
		t.m.count(t.name, TierRedis, ResultHit)
		if keep && t.epoch.still(epoch) {
			t.l1.Set(cacheKey(k), e)
		}
		if !e.absent {
			out[k] = e.val
		}
	}
	return missing
}

func (t *tier[V]) decode(raw []byte, now time.Time) *entry[V] {
	if len(raw) == 0 {
		return nil
	}
	var w wire
	if json.Unmarshal(raw, &w) != nil {
		return nil
	}
	e := &entry[V]{absent: w.Absent, fresh: time.UnixMilli(w.Fresh), seq: w.Seq}
	e.hard = e.fresh.Add(t.ttl.Stale)
	if !now.Before(e.hard) {
		return nil
	}
	if !w.Absent && json.Unmarshal(w.Value, &e.val) != nil {
		return nil
	}
	return e
}

func (t *tier[V]) toRedis(ctx context.Context, key string, e *entry[V]) {
	if !t.redis.usable() {
		return
	}
	w := wire{Fresh: e.fresh.UnixMilli(), Seq: e.seq, Absent: e.absent}
	if !e.absent {
		raw, err := json.Marshal(e.val)
		if err != nil {
			return
		}
		w.Value = raw
	}
	raw, _ := json.Marshal(w)
	rctx, cancel := t.redis.ctx(ctx)
	defer cancel()
	t.redis.observe(t.redis.client.Set(rctx, t.redis.key(key), raw, time.Until(e.hard)).Err())
}

// forget drops keys from this instance's in-process tier.
func (t *tier[V]) forget(keys []string) {
	for _, k := range keys {
		t.l1.Invalidate(k)
	}
}

func (t *tier[V]) forgetAll() { t.l1.InvalidateAll() }
