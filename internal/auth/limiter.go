package auth

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limiter decides whether a key may make one more request now; when not, it
// says how long to wait.
type Limiter interface {
	Allow(ctx context.Context, keyID string, perMinute int) (retryAfter time.Duration, err error)
	// AllowN spends n units at once (a partner's query cost against its
	// budget per minute); n above the whole budget never fits.
	AllowN(ctx context.Context, keyID string, n, perMinute int) (retryAfter time.Duration, err error)
}

// NewLimiter limits in Redis (GCRA, shared by every instance) when rdb is
// set, and in this process otherwise. prefix namespaces the Redis keys.
func NewLimiter(rdb redis.UniversalClient, prefix string) Limiter {
	if rdb == nil {
		return &localLimiter{keys: map[string]*rate.Limiter{}}
	}
	return &redisLimiter{limiter: redis_rate.NewLimiter(rdb), prefix: prefix}
}

type redisLimiter struct {
	limiter *redis_rate.Limiter
	prefix  string
}

func (l *redisLimiter) Allow(ctx context.Context, keyID string, perMinute int) (time.Duration, error) {
	return l.AllowN(ctx, keyID, 1, perMinute)
}

func (l *redisLimiter) AllowN(ctx context.Context, keyID string, n, perMinute int) (time.Duration, error) {
	if n > perMinute {
		return time.Minute, nil
	}
	res, err := l.limiter.AllowN(ctx, l.prefix+keyID, redis_rate.PerMinute(perMinute), n)
	if err != nil {
		return 0, err
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return res.RetryAfter, nil
}

// localLimiter is the same GCRA (a token bucket of burst perMinute refilled
// at perMinute/60 a second) per key, in this process only.
type localLimiter struct {
	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func (l *localLimiter) Allow(ctx context.Context, keyID string, perMinute int) (time.Duration, error) {
	return l.AllowN(ctx, keyID, 1, perMinute)
}

func (l *localLimiter) AllowN(_ context.Context, keyID string, n, perMinute int) (time.Duration, error) {
	if n > perMinute {
		return time.Minute, nil
	}
	l.mu.Lock()
	lim := l.keys[keyID]
	if lim == nil || lim.Burst() != perMinute {
		lim = rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)
		l.keys[keyID] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(time.Now(), n)
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d, nil
	}
	return 0, nil
}

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
