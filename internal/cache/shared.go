// Package cache keeps hot articles and hot responses close: a bounded
// in-process tier (otter) in front of Redis (go-redis UniversalClient, so a
// single node, a cluster or sentinel), in front of MongoDB. Writes invalidate
// through news.Listener; other instances hear of it over Redis pub/sub.
//
// Redis is an accelerator, never a dependency: every call has a deadline of
// tens of milliseconds, and a breaker stops calling it for a second after a
// failure, so a dead Redis costs requests nothing and is retried on its own.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis timeouts: a cache answer slower than this is worse than none.
const (
	RedisTimeout   = 50 * time.Millisecond
	breakerCoolOff = time.Second
)

// RedisOptions are the client options newsgraph uses for its cache Redis:
// short timeouts and no retries, so an outage is noticed at once.
func RedisOptions(url string) (*redis.UniversalOptions, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return &redis.UniversalOptions{
		Addrs:           []string{o.Addr},
		DB:              o.DB,
		Username:        o.Username,
		Password:        o.Password,
		TLSConfig:       o.TLSConfig,
		DialTimeout:     RedisTimeout * 4,
		ReadTimeout:     RedisTimeout,
		WriteTimeout:    RedisTimeout,
		PoolTimeout:     RedisTimeout,
		MaxRetries:      -1,
		ConnMaxIdleTime: time.Minute,
	}, nil
}

// shared is the Redis tier: a client, the key prefix every key starts with,
// and a breaker.
type shared struct {
	client    redis.UniversalClient
	prefix    string
	log       *slog.Logger
	openUntil atomic.Int64 // unix nanos until which Redis is skipped
	wasDown   atomic.Bool
	onRecover func()
	metrics   *Metrics
}

// usable reports whether to try Redis now.
func (s *shared) usable() bool {
	return s != nil && s.client != nil && time.Now().UnixNano() >= s.openUntil.Load()
}

// ctx bounds one Redis call, detached from the request's cancellation so a
// client hanging up does not count as a Redis failure.
func (s *shared) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), RedisTimeout)
}

// observe feeds the breaker: a failure opens it for the cool-off, the first
// success after an outage closes it and runs onRecover (instances may have
// missed invalidations while Redis was away).
func (s *shared) observe(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		if s.wasDown.CompareAndSwap(true, false) {
			s.log.Info("redis is back; dropping in-process copies that may have missed invalidations")
			if s.onRecover != nil {
				s.onRecover()
			}
		}
		return
	}
	s.metrics.redisErrors.Inc()
	s.openUntil.Store(time.Now().Add(breakerCoolOff).UnixNano())
	if s.wasDown.CompareAndSwap(false, true) {
		s.log.Warn("redis unavailable; serving from the in-process tier and MongoDB", "err", err)
	}
}

func (s *shared) key(k string) string { return s.prefix + k }
