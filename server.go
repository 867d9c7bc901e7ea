// Command newsgraph serves the newsroom's GraphQL API. This file is the
// composition root: configuration, wiring, the HTTP server and its graceful
// shutdown; nothing else.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/graph"
	"github.com/newsgraph/newsgraph/internal/app"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/demo"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/preview"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/telemetry"
	"github.com/newsgraph/newsgraph/internal/trusted"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

//go:generate go tool gqlgen generate

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "newsgraph:", err)
		os.Exit(1)
	}
}

// run starts the service and blocks until ctx is cancelled, then drains
// in-flight requests. Tests call it as main does. Its log says where it
// listens ("listening", addr=...).
func run(ctx context.Context, _ []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	// Tracing (OpenTelemetry) ------------------------------------------------
	// Off, installing nothing, unless OTEL_EXPORTER_OTLP_ENDPOINT is set. When
	// on, it is threaded below into three places only: the store's command
	// monitor, the Redis client and the outermost HTTP handler.
	tracing, err := telemetry.StartTracing(getenv)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() { // last: flushes spans of everything shut down before it
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tracing.Shutdown(ctx)
	}()
	if tracing.Enabled() {
		log.Info("tracing: exporting spans over OTLP/HTTP")
	}
	// ------------------------------------------------------------------------

	uri := cfg.MongoURI
	var embedded *devdb.Server
	if cfg.Embedded() {
		// FerretDB logs every connection at info and dumps every error reply
		// (even expected ones, such as listing a new collection's indexes) at
		// warn; only its own errors are worth an operator's attention.
		dbLog := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: slog.LevelError})).
			With("component", "ferretdb")
		db, err := devdb.Start(cfg.DataDir, dbLog)
		if err != nil {
			return err
		}
		defer db.Close()
		uri, embedded = db.URI(), db
		log.Info("database: embedded FerretDB on SQLite", "data_dir", cfg.DataDir, "database", cfg.MongoDatabase)
		if percent, tuned := devdb.TuneGC(); tuned {
			log.Info("garbage collector tuned for the embedded database", "gogc", percent)
		}
	} else {
		log.Info("database: MongoDB", "uri", config.Redacted(uri), "database", cfg.MongoDatabase)
	}

	st, err := store.Open(uri, cfg.MongoDatabase, store.Options{Timeout: cfg.DBTimeout, Monitor: tracing.MongoMonitor()})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = st.Close(ctx)
	}()
	if err := st.EnsureIndexes(ctx); err != nil {
		return err
	}
	if embedded != nil {
		// Finds by _id use an index on SQLite too (see devdb.IndexIDs).
		if err := embedded.IndexIDs(ctx, cfg.MongoDatabase); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "newsgraph_db_round_trips_total",
			Help: "Commands sent to MongoDB.",
		}, func() float64 { return float64(st.RoundTrips()) }))

	var rdb redis.UniversalClient
	if cfg.RedisURL == "" {
		log.Info("cache: in-process only (REDIS_URL is not set)")
	} else {
		opts, err := cache.RedisOptions(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb = redis.NewUniversalClient(opts)
		defer rdb.Close()
		if err := tracing.Redis(rdb); err != nil {
			return fmt.Errorf("tracing redis: %w", err)
		}
		log.Info("cache: in-process tier in front of Redis", "redis", config.Redacted(cfg.RedisURL), "prefix", cfg.RedisPrefix)
	}
	loaded := false
	if cfg.DemoContent {
		if loaded, err = demo.LoadIfEmpty(ctx, st, time.Now()); err != nil {
			return err
		}
		log.Info("demo content", "loaded_now", loaded)
	}
	var docs *trusted.Documents
	if cfg.TrustedDocuments != "" {
		if docs, err = trusted.Load(cfg.TrustedDocuments); err != nil {
			return err
		}
		log.Info("trusted documents: keyless callers may run only the listed operations",
			"manifest", cfg.TrustedDocuments, "documents", docs.Len())
		go reloadOnHangup(ctx, docs, log)
	}
	ix, err := openIndex(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	if loaded {
		// The demo corpus went in by bulk load, past the write paths. It is
		// small, so the index is rebuilt before the first reader arrives.
		if err := ix.Rebuild(ctx); err != nil {
			return err
		}
	}
	defer func() {
		ix.Wait() // its catch-up stops with ctx
		_ = ix.Close()
	}()
	a := app.Assemble(ctx, app.Parts{
		Store: st, Redis: rdb, Index: ix, Prefix: cfg.RedisPrefix, Logger: log, Metrics: reg,
		BaseURL: cfg.PublicBaseURL, SiteName: cfg.SiteName,
		Cache: cache.Options{ConfirmWait: cfg.ConfirmWait},
		Live:  live.Options{ConnectionsPerKey: cfg.LiveConnectionsPerKey},
		Limits: graph.Limits{MaxComplexity: cfg.MaxComplexity, MaxDepth: cfg.MaxDepth,
			NoIntrospection: !cfg.Introspection},
		RequestTimeout: cfg.RequestTimeout,
		AllowedOrigins: cfg.AllowedOrigins,
		Webhooks:       webhook.Options{RetryBase: cfg.WebhookRetryBase, AllowPrivate: cfg.WebhookAllowPrivate},
		Preview:        preview.Options{Secret: cfg.PreviewSecret, URLTemplate: cfg.PreviewURLTemplate},
		EdgePurgeURLs:  cfg.EdgePurgeURLs,
		Trusted:        docs,
	})
	if loaded {
		// A bulk load bypasses the write paths: nothing cached may survive it.
		a.Cache.PurgeAll(ctx)
	}
	if cfg.DemoKeys() {
		if err := auth.SeedDemoKeys(ctx, a.Keys, log); err != nil {
			return err
		}
	}
	if cfg.DemoEditorKey != "" {
		if err := auth.RegisterDemoEditorKey(ctx, a.Keys, cfg.DemoEditorKey); err != nil {
			return err
		}
	}

	srv := &http.Server{
		Handler:           tracing.Handler(a.Handler),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// HTTP/2 without TLS (h2c, prior knowledge) beside HTTP/1.1: what a
		// proxy in front (Envoy, a cloud load balancer) speaks to its
		// backends, so many readers' event streams share a few connections
		// rather than one socket each.
		Protocols: serverProtocols(),
		HTTP2:     &http.HTTP2Config{MaxConcurrentStreams: maxStreamsPerConnection},
	}
	// Shutdown does not wait for hijacked websockets: the hub closes them
	// (1001, going away) and ends every event stream.
	srv.RegisterOnShutdown(a.Live.Close)
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "playground", playgroundURL(ln.Addr()))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain_timeout", cfg.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// maxStreamsPerConnection bounds the requests and event streams one
// HTTP/2 connection carries at once (Go's default is 250): a proxy
// multiplexing live readers opens another connection beyond it.
const maxStreamsPerConnection = 1000

func serverProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// reloadOnHangup re-reads the trusted documents on SIGHUP, so a deploy of
// the website can add its operations without a restart; requests in flight
// keep the list they started with.
func reloadOnHangup(ctx context.Context, docs *trusted.Documents, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := docs.Reload(); err != nil {
				log.Error("trusted documents: reload failed, the previous list stays in force", "err", err)
				continue
			}
			log.Info("trusted documents: reloaded", "documents", docs.Len())
		}
	}
}

// openIndex opens the query index where the configuration says; Assemble
// starts it (a rebuild from MongoDB when it was never built, /readyz saying
// "indexing" meanwhile; a catch-up otherwise).
func openIndex(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) (*index.Index, error) {
	dir := cfg.IndexDir
	if cfg.IndexInMemory {
		dir = ""
	}
	ix, err := index.Open(ctx, dir, index.Options{Source: st, Logger: log, CatchUpEvery: cfg.IndexCatchUp})
	if err != nil {
		return nil, err
	}
	n, _ := ix.Count()
	log.Info("query index", "dir", dir, "in_memory", dir == "", "stories", n, "built", ix.Built(),
		"watermark", ix.Watermark())
	return ix, nil
}

// playgroundURL is where a person on this machine opens the playground.
func playgroundURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
