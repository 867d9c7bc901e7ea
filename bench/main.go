// Command bench measures the service against the read workloads
// and against a plain net/http server writing the same bytes, on one
// machine, over real loopback TCP. It seeds its own database and Redis key
// prefix and removes both when it ends. See "Benchmark" in docs/OPERATIONS.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/app"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	articles, conns  int
	duration, warmup time.Duration
	dbTimeout        time.Duration
	redisURL         string
	mongoURI         string
	workloads        map[string]bool
	jsonOut          string
	cpuProfile       string
	// cold runs the cold benchmark instead (cold.go).
	cold        bool
	coldSizes   []int
	coldSamples int
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	redisDefault := getenv("REDIS_URL")
	if redisDefault == "" {
		redisDefault = "redis://127.0.0.1:6379/0"
	}
	fs.IntVar(&cfg.articles, "n", 10_000, "articles to seed")
	fs.IntVar(&cfg.conns, "c", 64, "concurrent clients")
	fs.DurationVar(&cfg.duration, "d", 10*time.Second, "measured duration per workload and server, in rounds of at most 2s alternating service and raw; each pair of rounds also gives a ratio, whose median is printed beside the pooled one")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "unmeasured warm-up before each measurement")
	fs.DurationVar(&cfg.dbTimeout, "dbtimeout", 30*time.Second, "deadline of each database call (DB_TIMEOUT); the embedded FerretDB sorts in memory, so a cold front page on 10,000 articles takes seconds")
	fs.StringVar(&cfg.redisURL, "redis", redisDefault, "Redis URL (default REDIS_URL, else the local one)")
	fs.StringVar(&cfg.mongoURI, "mongodb", getenv("MONGODB_URI"), "MongoDB URI (default MONGODB_URI; unset: embedded FerretDB in a temporary directory)")
	list := fs.String("workloads", "w1,w2,w3", "workloads to run: w1 article POST, w2 front page, w3 article APQ GET")
	fs.StringVar(&cfg.jsonOut, "json", "", "also write the results to this file as JSON")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the measurements to this file; samples carry the labels server=service|raw, workload=w1|w2|w3 and client=load (go tool pprof -tagfocus server=service); with -cold, of the measured requests only, labelled kind and size, one file per size when there are several")
	fs.BoolVar(&cfg.cold, "cold", false, "run the cold benchmark instead: the first, uncached request of each kind at each -cold-sizes, embedded database, no Redis")
	sizes := fs.String("cold-sizes", "1000,10000,100000", "archive sizes for -cold")
	fs.IntVar(&cfg.coldSamples, "cold-samples", 20, "requests of each kind per size for -cold, each to a cold cache")
	if len(args) > 0 {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.articles < 1 || cfg.conns < 1 || cfg.duration <= 0 || cfg.warmup < 0 {
		return nil, errors.New("-n and -c must be at least 1, -d positive, -warmup not negative")
	}
	if cfg.cold {
		var err error
		if cfg.coldSizes, err = parseSizes(*sizes); err != nil {
			return nil, err
		}
		if cfg.coldSamples < 1 {
			return nil, errors.New("-cold-samples must be at least 1")
		}
	}
	cfg.workloads = map[string]bool{}
	for _, w := range strings.Split(*list, ",") {
		w = strings.TrimSpace(w)
		if w != "w1" && w != "w2" && w != "w3" {
			return nil, fmt.Errorf("-workloads: unknown workload %q (w1, w2, w3)", w)
		}
		cfg.workloads[w] = true
	}
	return cfg, nil
}

func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// run seeds, measures and cleans up; it fails when any measured request
// failed. Missed targets are reported, not failures.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parseFlags(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	if cfg.cold {
		return runCold(ctx, cfg.coldSizes, cfg.coldSamples, cfg.cpuProfile, stdout)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runID := randomHex()
	fmt.Fprintf(stdout, "newsgraph bench %s: %s, GOMAXPROCS=%d, NumCPU=%d, n=%d c=%d d=%s warmup=%s\n",
		runID, time.Now().UTC().Format(time.RFC3339), runtime.GOMAXPROCS(0), runtime.NumCPU(),
		cfg.articles, cfg.conns, cfg.duration, cfg.warmup)

	uri := cfg.mongoURI
	var embedded *devdb.Server
	if uri == "" {
		dir, err := os.MkdirTemp("", "newsgraph-bench-db-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		// FerretDB dumps even expected error replies at warn.
		dbLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		db, err := devdb.Start(dir, dbLog.With("component", "ferretdb"))
		if err != nil {
			return err
		}
		defer db.Close()
		uri, embedded = db.URI(), db
		fmt.Fprintln(stdout, "database: embedded FerretDB on SQLite (temporary)")
		if percent, tuned := devdb.TuneGC(); tuned { // as the server does on its embedded default
			fmt.Fprintf(stdout, "GOGC=%d, as the server sets it on the embedded default\n", percent)
		}
	} else {
		fmt.Fprintln(stdout, "database: MongoDB from -mongodb")
	}

	st, err := store.Open(uri, "bench_"+runID, store.Options{Timeout: cfg.dbTimeout})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = st.Drop(ctx)
		_ = st.Close(ctx)
	}()
	if err := st.EnsureIndexes(ctx); err != nil {
		return err
	}
	if embedded != nil {
		if err := embedded.IndexIDs(ctx, "bench_"+runID); err != nil {
			return err
		}
	}
	nr := buildNewsroom(cfg.articles, time.Now(), 1)
	t0 := time.Now()
	if err := nr.seed(ctx, st); err != nil {
		return err
	}
	seeded := time.Since(t0)
	fmt.Fprintf(stdout, "seeded %d articles, %d authors, %d terms in %s (bulk InsertMany, %d per batch)\n",
		len(nr.articles), len(nr.authors), len(nr.terms), seeded.Round(time.Millisecond), seedBatch)

	opts, err := cache.RedisOptions(cfg.redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewUniversalClient(opts)
	prefix := "newsgraph-bench-" + runID + ":"
	defer rdb.Close()
	defer func() {
		// The service's client gives up after 50ms, too soon for a cleanup
		// on a busy machine.
		patient := *opts
		patient.ReadTimeout, patient.WriteTimeout, patient.PoolTimeout = 10*time.Second, 10*time.Second, 10*time.Second
		patient.DialTimeout, patient.MaxRetries = 10*time.Second, 3
		janitor := redis.NewUniversalClient(&patient)
		defer janitor.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := deleteKeys(ctx, janitor, prefix); err != nil {
			fmt.Fprintf(os.Stderr, "bench: delete Redis keys %s*: %v\n", prefix, err)
		}
	}()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("Redis at %s: %w", cfg.redisURL, err)
	}

	// Assembled exactly as server.go assembles it.
	reg := prometheus.NewRegistry()
	appCtx, stopApp := context.WithCancel(ctx)
	a := app.Assemble(appCtx, app.Parts{Store: st, Redis: rdb, Prefix: prefix, Logger: quiet, Metrics: reg,
		BaseURL: "https://news.example.test", SiteName: "newsgraph bench"})
	defer func() { stopApp(); a.Wait() }()
	c := a.Cache
	c.PurgeAll(ctx) // the seed bypassed the write paths
	var handler http.Handler = a.Handler
	// With a profile, each request is labelled with the workload being
	// measured (the raw servers, one per workload, are labelled at birth).
	measuring := func(string) {}
	if cfg.cpuProfile != "" {
		handler, measuring = labelRequests(handler, "workload")
	}
	serviceURL, stopService, err := serve(handler, "service", "")
	if err != nil {
		return err
	}
	defer stopService()

	slugs := make([]string, len(nr.articles))
	for i, a := range nr.articles {
		slugs[i] = a.Slug
	}
	var chosen []*workload
	for _, w := range workloads(slugs) {
		if cfg.workloads[w.name] {
			chosen = append(chosen, w)
		}
	}
	stopProfile, err := startProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	results := make([]*result, len(chosen))
	m := meter{store: st, metrics: c.Metrics(), registry: reg}
	for i, w := range chosen {
		// Captured right before it is measured, so that no response the
		// capture cached expires in the middle of the measurement, all at
		// once, as none would under real traffic.
		measuring("capture-" + w.name)
		t0 := time.Now()
		capturer := newClient(serviceURL, cfg.conns)
		err := w.capture(ctx, capturer)
		capturer.close()
		if err != nil {
			return err
		}
		measuring(w.name)
		fmt.Fprintf(stdout, "%s: captured %d distinct responses in %s; measuring: %s\n",
			w.name, len(w.requests), time.Since(t0).Round(time.Millisecond), w.desc)
		rawURL, stopRaw, err := serve(rawServer(w), "raw", w.name)
		if err != nil {
			return err
		}
		results[i] = m.compare(ctx, w, cfg, newClient(serviceURL, cfg.conns), newClient(rawURL, cfg.conns))
		stopRaw()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep := &report{Date: time.Now().UTC(), GoMaxProcs: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		Articles: cfg.articles, Conns: cfg.conns, Duration: cfg.duration.String(), Warmup: cfg.warmup.String(),
		SeedSeconds: seeded.Seconds(), Results: results}
	rep.print(stdout)
	if cfg.jsonOut != "" {
		if err := rep.writeJSON(cfg.jsonOut); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.Service.Errors+r.Raw.Errors > 0 {
			return fmt.Errorf("%s: %d service and %d raw requests failed; first: %s %s", r.Workload,
				r.Service.Errors, r.Raw.Errors, r.Service.FirstError, r.Raw.FirstError)
		}
	}
	return nil
}

// deleteKeys removes the run's keys (never FLUSHALL: the server is shared).
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := rdb.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}
