package cache

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics counts what the cache does, by cache and tier: the hit ratio an
// operator watches and the benchmark reports.
type Metrics struct {
	lookups *prometheus.CounterVec
	// counters holds every known label combination, made once, so counting
	// a hit neither allocates nor takes the vector's lock.
	counters    map[[3]string]prometheus.Counter
	redisErrors prometheus.Counter
	purges      prometheus.Counter
}

// Tiers and results as they appear in the metric labels.
const (
	TierL1    = "l1"
	TierRedis = "redis"
	TierDB    = "origin"

	ResultHit   = "hit"
	ResultMiss  = "miss"
	ResultStale = "stale"
)

// NewMetrics registers the cache's metrics with reg (nil: not exported).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsgraph_cache_lookups_total",
			Help: "Cache lookups by cache (article, author, term, response, apq), tier (l1, redis, origin) and result (hit, miss, stale).",
		}, []string{"cache", "tier", "result"}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsgraph_redis_errors_total",
			Help: "Redis calls that failed or timed out (each opens the breaker for a second).",
		}),
		purges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "newsgraph_cache_purges_total",
			Help: "Invalidations applied, local or heard from another instance.",
		}),
	}
	m.counters = map[[3]string]prometheus.Counter{}
	for _, cache := range []string{"article", "author", "term", "response", "apq"} {
		for _, tier := range []string{TierL1, TierRedis, TierDB} {
			for _, result := range []string{ResultHit, ResultMiss, ResultStale} {
				m.counters[[3]string{cache, tier, result}] = m.lookups.WithLabelValues(cache, tier, result)
			}
		}
	}
	if reg != nil {
		reg.MustRegister(m.lookups, m.redisErrors, m.purges)
	}
	return m
}

func (m *Metrics) count(cache, tier, result string) {
	if c, ok := m.counters[[3]string{cache, tier, result}]; ok {
		c.Inc()
		return
	}
	m.lookups.WithLabelValues(cache, tier, result).Inc()
}

// Count is the number of lookups of cache at tier with result so far.
func (m *Metrics) Count(cache, tier, result string) float64 {
	c, err := m.lookups.GetMetricWithLabelValues(cache, tier, result)
	if err != nil {
		return 0
	}
	var out = new(dtoMetric)
	_ = c.Write(out)
	return out.GetCounter().GetValue()
}

type dtoMetric = dto.Metric
