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
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis timeouts: a cache answer slower than this is worse than none.
const (
	RedisTimeout   = 50 * time.Millisecond
	breakerCoolOff = time.Second
)

// RedisOptions turns REDIS_URL into client options with short timeouts and
// no retries, so an outage is noticed at once. Forms:
//
//	redis://[user:password@]host:6379/0                  a single node
//	redis://host1:7000?addr=host2:7000&addr=host3:7000   Redis Cluster (seed nodes)
//	redis://host:7000?cluster=true                       Redis Cluster behind one endpoint
//	redis://sentinel1:26379?addr=sentinel2:26379&master_name=mymaster   Sentinel
//
// (rediss:// for TLS.)
func RedisOptions(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	addrs := append([]string{u.Host}, q["addr"]...)
	master, cluster := q.Get("master_name"), q.Get("cluster") == "true"
	q.Del("addr")
	q.Del("master_name")
	q.Del("cluster")
	u.RawQuery = q.Encode()
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, err
	}
	return &redis.UniversalOptions{
		Addrs:         addrs,
		MasterName:    master,
		IsClusterMode: cluster,
		DB:            o.DB,
		Username:      o.Username,
		Password:      o.Password,
		TLSConfig:     o.TLSConfig,
		DialTimeout:   RedisTimeout * 4,
		ReadTimeout:   RedisTimeout,
		WriteTimeout:  RedisTimeout,
		// A pool as large as the clients a busy instance serves at once:
		// waiting for a connection would spend the whole call deadline.
		PoolSize:        128,
		PoolTimeout:     2 * RedisTimeout,
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
	failures  atomic.Int64 // in a row
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

// breakerFailures is how many failures in a row open the breaker: one slow
// answer on a busy machine is not an outage.
const breakerFailures = 3

// observe feeds the breaker: failures in a row open it for the cool-off;
// the first success after an outage closes it and runs onRecover, which
// checks whether invalidations were missed while Redis was away.
func (s *shared) observe(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		failed := s.failures.Swap(0) > 0
		if s.wasDown.CompareAndSwap(true, false) {
			s.log.Info("redis is back")
			failed = true
		}
		if failed && s.onRecover != nil {
			s.onRecover()
		}
		return
	}
	s.metrics.redisErrors.Inc()
	if s.failures.Add(1) < breakerFailures {
		return
	}
	s.openUntil.Store(time.Now().Add(breakerCoolOff).UnixNano())
	if s.wasDown.CompareAndSwap(false, true) {
		s.log.Warn("redis unavailable; serving from the in-process tier and MongoDB", "err", err)
	}
}

func (s *shared) key(k string) string { return s.prefix + k }

// unlink deletes keys one command per key in a pipeline: under Redis
// Cluster a multi-key DEL fails when the keys live in different slots, and a
// pipeline is still one round trip per node.
func (s *shared) unlink(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	pipe := s.client.Pipeline()
	for _, k := range keys {
		pipe.Unlink(ctx, k)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// getAll fetches keys with one GET per key in a pipeline (MGET has the same
// cross-slot problem as DEL). Missing keys come back as nil.
func (s *shared) getAll(ctx context.Context, keys []string) ([][]byte, error) {
	pipe := s.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Get(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, c := range cmds {
		if b, err := c.Bytes(); err == nil {
			out[i] = b
		}
	}
	return out, nil
}

// scanPrefix lists every key under prefix, on every master of a cluster.
func (s *shared) scanPrefix(ctx context.Context, prefix string) ([]string, error) {
	scan := func(ctx context.Context, c redis.UniversalClient) ([]string, error) {
		var keys []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return keys, iter.Err()
	}
	cluster, ok := s.client.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, s.client)
	}
	var (
		mu   sync.Mutex
		keys []string
	)
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		k, err := scan(ctx, node)
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	return keys, err
}
