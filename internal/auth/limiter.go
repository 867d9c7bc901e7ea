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
	res, err := l.limiter.Allow(ctx, l.prefix+keyID, redis_rate.PerMinute(perMinute))
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

func (l *localLimiter) Allow(_ context.Context, keyID string, perMinute int) (time.Duration, error) {
	l.mu.Lock()
	lim := l.keys[keyID]
	if lim == nil || lim.Burst() != perMinute {
		lim = rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)
		l.keys[keyID] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
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
