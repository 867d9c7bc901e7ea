// Command soak runs the service in-process on loopback (embedded database,
// demo corpus, the local Redis under a key prefix of its own) and drives a
// mix of anonymous reads at it for a bounded time, reporting errors and
// memory every 10 seconds. It exits non-zero when any request failed or when
// the heap in use grew by more than -growth between the first and the last
// third of the run.
//
//	go run ./cmd/soak -d 2m -c 32
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/app"
	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/demo"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/store"
)

func main() {
	duration := flag.Duration("d", 2*time.Minute, "how long to drive load")
	clients := flag.Int("c", 32, "concurrent clients")
	growth := flag.Float64("growth", 1.5, "largest allowed ratio of mean heap in use, last third over first third")
	every := flag.Duration("every", 10*time.Second, "how often to report")
	redisURL := flag.String("redis", envOr("REDIS_URL", "redis://127.0.0.1:6379/0"), `shared cache tier; "none" runs in-process only`)
	flag.Parse()
	if err := soak(*duration, *clients, *growth, *every, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// service is the whole HTTP surface wired as server.go wires it.
type service struct {
	url   string
	close func()
}

func start(redisURL string, log *slog.Logger) (*service, error) {
	ctx, cancel := context.WithCancel(context.Background())
	var undo []func()
	stop := func() {
		cancel()
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (*service, error) { stop(); return nil, err }

	dir, err := os.MkdirTemp("", "newsgraph-soak-")
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { _ = os.RemoveAll(dir) })
	// FerretDB logs every connection at info and every error reply (even
	// expected ones) at warn; only its own errors matter here.
	db, err := devdb.Start(dir, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return fail(err)
	}
	undo = append(undo, db.Close)
	st, err := store.Open(db.URI(), "soak", store.Options{})
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { _ = st.Close(context.Background()) })
	if err := st.EnsureIndexes(ctx); err != nil {
		return fail(err)
	}
	if err := db.IndexIDs(ctx, "soak"); err != nil {
		return fail(err)
	}
	if _, err := demo.LoadIfEmpty(ctx, st, time.Now()); err != nil {
		return fail(err)
	}

	var rdb redis.UniversalClient
	prefix := "soak-" + randomHex() + ":"
	if redisURL != "none" {
		opts, err := cache.RedisOptions(redisURL)
		if err != nil {
			return fail(fmt.Errorf("-redis: %w", err))
		}
		rdb = redis.NewUniversalClient(opts)
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		err = rdb.Ping(pctx).Err()
		pcancel()
		if err != nil {
			_ = rdb.Close()
			return fail(fmt.Errorf("no Redis at %s (pass -redis none to soak without it): %w", redisURL, err))
		}
		undo = append(undo, func() {
			deleted := deletePrefix(rdb, prefix)
			_ = rdb.Close()
			fmt.Printf("removed the soak's %d Redis keys under %q\n", deleted, prefix)
		})
	}
	// Assembled exactly as server.go assembles it.
	reg := prometheus.NewRegistry()
	a := app.Assemble(ctx, app.Parts{Store: st, Redis: rdb, Prefix: prefix, Logger: log, Metrics: reg,
		BaseURL: "https://news.example.test", SiteName: "newsgraph soak"})
	// After cancel and before the keys are deleted: the last view counts
	// are flushed on the way out and must not outlive the cleanup.
	undo = append(undo, a.Wait)
	h := a.Handler
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	undo = append(undo, func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	})
	return &service{url: "http://" + ln.Addr().String(), close: stop}, nil
}

func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// deletePrefix removes the soak's keys (never FLUSHALL: Redis is shared),
// on every master of a cluster.
func deletePrefix(rdb redis.UniversalClient, prefix string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n atomic.Int64
	del := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			if c.Del(ctx, iter.Val()).Err() == nil {
				n.Add(1)
			}
		}
		return iter.Err()
	}
	if cl, ok := rdb.(*redis.ClusterClient); ok {
		_ = cl.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return del(ctx, node) })
	} else {
		_ = del(ctx, rdb)
	}
	return int(n.Load())
}

// The reads a front end makes, in rough proportion to how often it makes them.
const (
	articleDoc = `query Article($s: String) { article(slug: $s) { id headline dek body wordCount readingTimeMinutes
  canonicalUrl publishedAt authors { name slug } section { name slug } tags { slug name } featuredImage { url(width: 640) alt } } }`
	frontDoc = `query Front { articles(first: 20) { edges { node { slug headline dek publishedAt section { name }
  authors { name } featuredImage { url(width: 320) } } } pageInfo { hasNextPage endCursor } } }`
	sectionDoc  = `query Section($s: String) { articles(first: 10, filter: { section: $s }) { edges { node { slug headline dek } } } }`
	mostReadDoc = `query MostRead { mostRead(first: 10) { slug headline } }`
	apqDoc      = `query Sections { sections { slug name } }`
)

// driver sends requests and counts what happened.
type driver struct {
	base     string
	began    time.Time
	http     *http.Client
	slugs    []string
	sections []string
	apqExt   string

	requests atomic.Int64
	errors   atomic.Int64
	mu       sync.Mutex
	firstErr []string
	latency  [128]atomic.Int64 // by quarter-powers of two of microseconds
}

func (d *driver) fail(what string, err error) {
	d.errors.Add(1)
	d.mu.Lock()
	if len(d.firstErr) < 10 {
		d.firstErr = append(d.firstErr, fmt.Sprintf("at %s, %s: %v", time.Since(d.began).Round(time.Millisecond), what, err))
	}
	d.mu.Unlock()
}

// send makes one request and checks it got an error-free GraphQL answer.
func (d *driver) send(what string, req *http.Request) {
	began := time.Now()
	res, err := d.http.Do(req)
	if err == nil {
		var body []byte
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %.200s", res.StatusCode, body)
		}
		if err == nil {
			var out struct {
				Data   json.RawMessage
				Errors []json.RawMessage
			}
			if err = json.Unmarshal(body, &out); err == nil && (len(out.Errors) > 0 || len(out.Data) == 0) {
				err = fmt.Errorf("GraphQL errors: %.200s", body)
			}
		}
	}
	d.requests.Add(1)
	us := float64(time.Since(began).Microseconds())
	d.latency[min(127, int(4*math.Log2(max(us, 1))))].Add(1)
	if err != nil {
		d.fail(what, err)
	}
}

func (d *driver) post(what, doc string, vars map[string]any) {
	body, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, d.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	d.send(what, req)
}

func (d *driver) one(r *mrand.Rand) {
	switch n := r.IntN(100); {
	case n < 50:
		d.post("article", articleDoc, map[string]any{"s": d.slugs[r.IntN(len(d.slugs))]})
	case n < 65:
		d.post("front page", frontDoc, nil)
	case n < 80:
		d.post("section", sectionDoc, map[string]any{"s": d.sections[r.IntN(len(d.sections))]})
	case n < 90:
		d.post("mostRead", mostReadDoc, nil)
	default:
		req, _ := http.NewRequest(http.MethodGet, d.base+"/graphql?extensions="+url.QueryEscape(d.apqExt), nil)
		d.send("APQ GET", req)
	}
}

// setup learns the corpus's slugs and sections through the API and
// registers the persisted query.
func (d *driver) setup() error {
	var corpus struct {
		Data struct {
			Articles struct {
				Edges []struct{ Node struct{ Slug string } }
			}
			Sections []struct{ Slug string }
		}
	}
	body, _ := json.Marshal(map[string]any{"query": `{ articles(first: 100) { edges { node { slug } } } sections { slug } }`})
	res, err := d.http.Post(d.base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	err = json.NewDecoder(res.Body).Decode(&corpus)
	res.Body.Close()
	if err != nil {
		return err
	}
	for _, e := range corpus.Data.Articles.Edges {
		d.slugs = append(d.slugs, e.Node.Slug)
	}
	for _, s := range corpus.Data.Sections {
		d.sections = append(d.sections, s.Slug)
	}
	if len(d.slugs) == 0 || len(d.sections) == 0 {
		return errors.New("the demo corpus did not load")
	}
	sum := sha256.Sum256([]byte(apqDoc))
	ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}})
	d.apqExt = string(ext)
	req, _ := http.NewRequest(http.MethodGet, d.base+"/graphql?query="+url.QueryEscape(apqDoc)+"&extensions="+url.QueryEscape(d.apqExt), nil)
	d.send("APQ register", req)
	if d.errors.Load() > 0 {
		return errors.New(d.firstErr[0])
	}
	return nil
}

// percentile reads the latency histogram.
func (d *driver) percentile(p float64) time.Duration {
	var total int64
	for i := range d.latency {
		total += d.latency[i].Load()
	}
	want, seen := int64(math.Ceil(p*float64(total))), int64(0)
	for i := range d.latency {
		if seen += d.latency[i].Load(); seen >= want && want > 0 {
			return time.Duration(math.Pow(2, float64(i+1)/4)) * time.Microsecond
		}
	}
	return 0
}

type sample struct {
	at        time.Duration
	heapInuse uint64
	rss       uint64
}

// rss is the resident set size from /proc (0 where there is none).
func rss() uint64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func soak(duration time.Duration, clients int, growth float64, every time.Duration, redisURL string) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := start(redisURL, log)
	if err != nil {
		return err
	}
	defer svc.close()
	d := &driver{base: svc.url, began: time.Now(), http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: clients}}}
	if err := d.setup(); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	fmt.Printf("soak: %d clients for %s against %s (%d articles, %d sections, Redis %s), %s, GOMAXPROCS %d\n",
		clients, duration, svc.url, len(d.slugs), len(d.sections), redisURL, runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Println("mix: 50% article by slug, 15% front page, 15% section list, 10% mostRead, 10% APQ GET")

	began := time.Now()
	d.began = began
	deadline := began.Add(duration)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(i), uint64(began.UnixNano())))
			for time.Now().Before(deadline) {
				d.one(r)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var samples []sample
	var ms runtime.MemStats
	measure := time.NewTicker(time.Second)
	defer measure.Stop()
	nextReport := every
	var lastReq int64
	fmt.Printf("%8s %10s %8s %9s %12s %12s\n", "elapsed", "requests", "errors", "req/s", "heap in use", "RSS")
loop:
	for {
		select {
		case <-done:
			break loop
		case <-measure.C:
		}
		runtime.ReadMemStats(&ms)
		s := sample{at: time.Since(began), heapInuse: ms.HeapInuse, rss: rss()}
		samples = append(samples, s)
		if s.at >= nextReport {
			req := d.requests.Load()
			fmt.Printf("%8s %10d %8d %9.0f %12s %12s\n", s.at.Round(time.Second), req, d.errors.Load(),
				float64(req-lastReq)/every.Seconds(), mib(s.heapInuse), mib(s.rss))
			lastReq = req
			nextReport += every
		}
	}
	elapsed := time.Since(began)
	if since := elapsed - (nextReport - every); since >= time.Second { // the last stretch, when no tick reported it
		runtime.ReadMemStats(&ms)
		req := d.requests.Load()
		fmt.Printf("%8s %10d %8d %9.0f %12s %12s\n", elapsed.Round(time.Second), req, d.errors.Load(),
			float64(req-lastReq)/since.Seconds(), mib(ms.HeapInuse), mib(rss()))
	}

	third := len(samples) / 3
	if third == 0 {
		return errors.New("the run was too short to compare memory (use -d 30s or more)")
	}
	mean := func(ss []sample) float64 {
		var sum float64
		for _, s := range ss {
			sum += float64(s.heapInuse)
		}
		return sum / float64(len(ss))
	}
	first, last := mean(samples[:third]), mean(samples[len(samples)-third:])
	var maxRSS uint64
	for _, s := range samples {
		maxRSS = max(maxRSS, s.rss)
	}
	req, errs := d.requests.Load(), d.errors.Load()
	fmt.Printf("\nsummary: %d requests in %s (%.0f req/s), %d errors; latency p50 %s, p99 %s (histogram bucket upper bounds)\n",
		req, elapsed.Round(time.Second), float64(req)/elapsed.Seconds(), errs, d.percentile(0.50), d.percentile(0.99))
	fmt.Printf("heap in use: mean %s over the first third, %s over the last third (ratio %.2f, limit %.2f); peak RSS %s\n",
		mib(uint64(first)), mib(uint64(last)), last/first, growth, mib(maxRSS))
	for _, e := range d.firstErr {
		fmt.Println("error:", e)
	}
	switch {
	case errs > 0:
		return fmt.Errorf("%d of %d requests failed", errs, req)
	case last/first > growth:
		return fmt.Errorf("heap in use grew %.2fx between the first and last third (limit %.2fx)", last/first, growth)
	}
	fmt.Println("ok: no errors, memory flat")
	return nil
}
