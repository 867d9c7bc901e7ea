package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/store"
)

// Targets, on a 2-core machine with the load generator on it: issue 3's
// p99 and hit ratio, issue 13's throughput and p99 beside raw's.
const (
	targetRatio    = 0.9 // w1 and w3
	targetP99Raw   = 1.2 // w1 and w3: the service's p99 at most this times raw's
	targetP99      = 10 * time.Millisecond
	targetHitRatio = 0.95
	targetConns    = 64
)

// phase is one measured drive of one server.
type phase struct {
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"firstError,omitempty"`
	PerSecond    float64 `json:"requestsPerSecond"`
	P50ms        float64 `json:"p50ms"`
	P99ms        float64 `json:"p99ms"`
	AllocsPerReq float64 `json:"allocsPerRequest"`
	// Service only.
	HitRatio         *float64 `json:"hitRatio,omitempty"`
	RoundTripsPerReq *float64 `json:"dbRoundTripsPerRequest,omitempty"`
	// RedisErrors are Redis calls that failed or timed out; each opens the
	// cache's breaker and its recovery empties the in-process tier.
	RedisErrors *int `json:"redisErrors,omitempty"`
}

type result struct {
	Workload    string `json:"workload"`
	Description string `json:"description"`
	Service     *phase `json:"service"`
	Raw         *phase `json:"raw"`
	// RoundRatios are the service's throughput over the raw server's in
	// each pair of rounds (the service's, then raw's right after it).
	RoundRatios []float64 `json:"roundRatios"`
}

// MedianRatio is the median of the paired rounds' ratios, printed beside
// Ratio (which pools every round, and which the targets use) to show how
// far single rounds disagree.
func (r *result) MedianRatio() float64 {
	if len(r.RoundRatios) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(r.RoundRatios))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// Ratio is the service's throughput as a share of the raw server's.
func (r *result) Ratio() float64 {
	if r.Raw == nil || r.Raw.PerSecond == 0 {
		return 0
	}
	return r.Service.PerSecond / r.Raw.PerSecond
}

// meter reads the counters a measurement window is the difference of.
type meter struct {
	store    *store.Store
	metrics  *cache.Metrics
	registry prometheus.Gatherer
}

type reading struct {
	mallocs, roundTrips uint64
	hits, lookups       float64
	redisErrors         float64
}

// counter is the value of a registered counter, 0 when absent.
func counter(g prometheus.Gatherer, name string) float64 {
	families, _ := g.Gather()
	for _, f := range families {
		if f.GetName() == name {
			sum := 0.0
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	return 0
}

func (m meter) read() reading {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c := m.metrics
	// Every response lookup counts at L1; those missing there count again at
	// Redis, so the lookups are L1's hits and misses.
	l1Hit, l1Miss := c.Count("response", cache.TierL1, cache.ResultHit), c.Count("response", cache.TierL1, cache.ResultMiss)
	return reading{mallocs: ms.Mallocs, roundTrips: uint64(m.store.RoundTrips()),
		hits: l1Hit + c.Count("response", cache.TierRedis, cache.ResultHit), lookups: l1Hit + l1Miss,
		redisErrors: counter(m.registry, "newsgraph_redis_errors_total")}
}

// roundLength bounds one measured stretch: the service and the raw server
// take turns at this grain so that load from other processes on a shared
// machine falls on both alike; each pair of rounds gives a ratio.
const roundLength = 2 * time.Second

// compare warms both servers up, then drives w against each in alternating
// rounds until each has had cfg.duration, and reads what it cost.
func (m meter) compare(ctx context.Context, w *workload, cfg *config, service, raw *client) *result {
	defer service.close()
	defer raw.close()
	if cfg.warmup > 0 {
		service.drive(ctx, w, cfg.conns, cfg.warmup, false)
		raw.drive(ctx, w, cfg.conns, cfg.warmup, false)
	}
	rounds := max(1, int((cfg.duration+roundLength-1)/roundLength))
	var s, r tally
	var ratios []float64
	for range rounds {
		sd := s.add(ctx, m, service, w, cfg.conns, cfg.duration/time.Duration(rounds))
		rd := r.add(ctx, m, raw, w, cfg.conns, cfg.duration/time.Duration(rounds))
		if rate := rd.perSecond(); rate > 0 {
			ratios = append(ratios, sd.perSecond()/rate)
		}
	}
	res := &result{Workload: w.name, Description: w.desc, Service: s.phase(), Raw: r.phase(), RoundRatios: ratios}
	redisErrors := int(s.redisErrors)
	res.Service.RedisErrors = &redisErrors
	if n := float64(s.requests); n > 0 {
		rt := float64(s.roundTrips) / n
		res.Service.RoundTripsPerReq = &rt
		if s.lookups > 0 {
			hr := s.hits / s.lookups
			res.Service.HitRatio = &hr
		}
	}
	return res
}

// tally sums one server's rounds.
type tally struct {
	drive
	mallocs, roundTrips uint64
	hits, lookups       float64
	redisErrors         float64
}

func (t *tally) add(ctx context.Context, m meter, c *client, w *workload, conns int, d time.Duration) *drive {
	before := m.read()
	got := c.drive(ctx, w, conns, d, true)
	after := m.read()
	t.requests += got.requests
	t.errors += got.errors
	if t.firstErr == "" {
		t.firstErr = got.firstErr
	}
	t.latencies = append(t.latencies, got.latencies...)
	t.elapsed += got.elapsed
	t.mallocs += after.mallocs - before.mallocs
	t.roundTrips += after.roundTrips - before.roundTrips
	t.hits += after.hits - before.hits
	t.lookups += after.lookups - before.lookups
	t.redisErrors += after.redisErrors - before.redisErrors
	return got
}

func (t *tally) phase() *phase {
	slices.Sort(t.latencies)
	p := &phase{Requests: t.requests, Errors: t.errors, FirstError: t.firstErr,
		P50ms: ms(percentile(t.latencies, 0.50)), P99ms: ms(percentile(t.latencies, 0.99))}
	if t.requests > 0 {
		p.PerSecond = t.perSecond()
		p.AllocsPerReq = float64(t.mallocs) / float64(t.requests)
	}
	return p
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type report struct {
	Date        time.Time `json:"date"`
	GoMaxProcs  int       `json:"gomaxprocs"`
	NumCPU      int       `json:"numCPU"`
	Articles    int       `json:"articles"`
	Conns       int       `json:"clients"`
	Duration    string    `json:"duration"`
	Warmup      string    `json:"warmup"`
	SeedSeconds float64   `json:"seedSeconds"`
	Results     []*result `json:"results"`
	Targets     []target  `json:"targets"`
}

type target struct {
	Name   string `json:"name"`
	Figure string `json:"figure"`
	Pass   bool   `json:"pass"`
}

func (r *report) evaluate() {
	r.Targets = nil
	add := func(name, figure string, pass bool) {
		r.Targets = append(r.Targets, target{Name: name, Figure: figure, Pass: pass})
	}
	for _, res := range r.Results {
		if res.Workload != "w1" && res.Workload != "w3" {
			continue
		}
		add(fmt.Sprintf("%s throughput >= %.1f of raw", res.Workload, targetRatio),
			fmt.Sprintf("%.2f (median of %d paired rounds %.2f)", res.Ratio(), len(res.RoundRatios), res.MedianRatio()), res.Ratio() >= targetRatio)
		if res.Raw.P99ms == 0 {
			continue
		}
		p99 := res.Service.P99ms / res.Raw.P99ms
		add(fmt.Sprintf("%s p99 <= %.1fx raw's", res.Workload, targetP99Raw),
			fmt.Sprintf("%.2fx (%.2f / %.2f ms)", p99, res.Service.P99ms, res.Raw.P99ms), p99 <= targetP99Raw)
	}
	for _, res := range r.Results {
		name := fmt.Sprintf("%s p99 < %s at C=%d", res.Workload, targetP99, targetConns)
		if r.Conns != targetConns {
			name += fmt.Sprintf(" (this run C=%d)", r.Conns)
		}
		add(name, fmt.Sprintf("%.2f ms", res.Service.P99ms), time.Duration(res.Service.P99ms*float64(time.Millisecond)) < targetP99)
	}
	for _, res := range r.Results {
		hr := res.Service.HitRatio
		fig := "no lookups"
		if hr != nil {
			fig = fmt.Sprintf("%.1f%%", *hr*100)
		}
		add(fmt.Sprintf("%s hit ratio >= %.0f%%", res.Workload, targetHitRatio*100), fig, hr != nil && *hr >= targetHitRatio)
	}
}

func (r *report) print(out io.Writer) {
	r.evaluate()
	fmt.Fprintf(out, "\nResults (%s, GOMAXPROCS=%d, n=%d, c=%d, d=%s after %s warm-up)\n\n",
		r.Date.Format(time.RFC3339), r.GoMaxProcs, r.Articles, r.Conns, r.Duration, r.Warmup)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tserver\treq/s\tp50 ms\tp99 ms\tvs raw\tmedian round\thit ratio\tdb trips/req\tredis errs\tallocs/req\terrors\t")
	for _, res := range r.Results {
		s, raw := res.Service, res.Raw
		hit, trips := "-", "-"
		if s.HitRatio != nil {
			hit = fmt.Sprintf("%.1f%%", *s.HitRatio*100)
		}
		if s.RoundTripsPerReq != nil {
			trips = fmt.Sprintf("%.4f", *s.RoundTripsPerReq)
		}
		redisErrs := "-"
		if s.RedisErrors != nil {
			redisErrs = fmt.Sprint(*s.RedisErrors)
		}
		fmt.Fprintf(tw, "%s\tservice\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%.0f\t%d\t\n",
			res.Workload, s.PerSecond, s.P50ms, s.P99ms, res.Ratio(), res.MedianRatio(), hit, trips, redisErrs, s.AllocsPerReq, s.Errors)
		fmt.Fprintf(tw, "%s\traw\t%.0f\t%.2f\t%.2f\t1.00\t1.00\t-\t-\t-\t%.0f\t%d\t\n",
			res.Workload, raw.PerSecond, raw.P50ms, raw.P99ms, raw.AllocsPerReq, raw.Errors)
	}
	_ = tw.Flush()
	fmt.Fprintln(out, "\n(allocs/req counts the whole process: the load generator's allocations are in both rows)")
	for _, res := range r.Results {
		fmt.Fprintf(out, "  %s: %s\n", res.Workload, res.Description)
	}
	fmt.Fprintln(out, "\nTargets (issues 3 and 13)")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		verdict := "MISS"
		if t.Pass {
			verdict = "PASS"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.Figure, verdict)
	}
	_ = tw.Flush()
}

func (r *report) writeJSON(path string) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
