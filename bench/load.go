package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	articleQuery = `query Article($slug: String!) { article(slug: $slug) { id slug headline dek publishedAt ` +
		`readingTimeMinutes canonicalUrl authors { name slug } section { name slug } tags { name slug } ` +
		`featuredImage { url(width: 640) alt credit } } }`
	frontPageQuery = `query FrontPage { articles(first: 20) { edges { node { id slug headline dek publishedAt ` +
		`canonicalUrl authors { name slug } } } pageInfo { hasNextPage endCursor } } }`

	// hotStories is how many of the most recent stories the article
	// workloads ask for; zipfS skews them as readers do.
	hotStories = 1000
	zipfS      = 1.1

	// captureWorkers is how many cold requests capture sends at once.
	captureWorkers = 8
)

// request is one distinct request a workload sends, and what the service
// answered to it (the raw baseline serves exactly that).
type request struct {
	method   string
	target   string // path and query
	body     []byte
	response []byte
	// header is what the service answered with besides the body (less
	// Date and Content-Length, which net/http writes): the raw server
	// sends the same, so both write the same bytes.
	header http.Header
}

// rawKey identifies a request as the raw server sees it.
func (r *request) rawKey() string { return r.method + " " + r.target + "\n" + string(r.body) }

// workload is a set of distinct requests and how clients pick among them.
type workload struct {
	name     string
	desc     string
	requests []*request
	// zipf picks requests Zipf-distributed, index 0 the most popular;
	// otherwise there is one request.
	zipf bool
	// register runs once before capture (persisted query registration).
	register *request
}

func postJSON(query string, vars map[string]any, ext map[string]any) *request {
	m := map[string]any{"query": query}
	if vars != nil {
		m["variables"] = vars
	}
	if ext != nil {
		m["extensions"] = ext
	}
	body, _ := json.Marshal(m)
	return &request{method: http.MethodPost, target: "/graphql", body: body}
}

func persistedQuery(query string) map[string]any {
	sum := sha256.Sum256([]byte(query))
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
}

// workloads are the three, by name w1, w2, w3.
func workloads(slugs []string) []*workload {
	hot := slugs[:min(hotStories, len(slugs))]
	w1 := &workload{name: "w1", desc: "article(slug:) POST, Zipf over the 1,000 newest", zipf: true}
	w3 := &workload{name: "w3", desc: "article(slug:) as APQ GET", zipf: true}
	ext := persistedQuery(articleQuery)
	extJSON, _ := json.Marshal(ext)
	for _, s := range hot {
		vars := map[string]any{"slug": s}
		w1.requests = append(w1.requests, postJSON(articleQuery, vars, nil))
		varsJSON, _ := json.Marshal(vars)
		q := url.Values{"extensions": {string(extJSON)}, "variables": {string(varsJSON)}}
		w3.requests = append(w3.requests, &request{method: http.MethodGet, target: "/graphql?" + q.Encode()})
	}
	w3.register = postJSON(articleQuery, map[string]any{"slug": hot[0]}, ext)
	w2 := &workload{name: "w2", desc: "front page articles(first: 20) POST", requests: []*request{postJSON(frontPageQuery, nil, nil)}}
	return []*workload{w1, w2, w3}
}

// client sends the workloads' requests; one transport is shared by every
// goroutine, as a load balancer's connection pool would be.
type client struct {
	http *http.Client
	base string
}

func newClient(base string, conns int) *client {
	return &client{base: base, http: &http.Client{Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
	}}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// do sends r and reads the whole answer into buf. ok is false for anything
// but a 200 without GraphQL errors.
func (c *client) do(ctx context.Context, r *request, buf *bytes.Buffer) (ok bool, header http.Header, err error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.target, body)
	if err != nil {
		return false, nil, err
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return false, nil, err
	}
	defer res.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return false, nil, err
	}
	return res.StatusCode == http.StatusOK && !bytes.Contains(buf.Bytes(), []byte(`"errors":[`)),
		res.Header, nil
}

// capture registers the workload's persisted query and records the
// service's answer to each distinct request, failing on any error: a
// baseline built from error responses would be meaningless. Every answer
// here is a cache miss, so a few requests run at once.
func (w *workload) capture(ctx context.Context, c *client) error {
	var buf bytes.Buffer
	if w.register != nil {
		if ok, _, err := c.do(ctx, w.register, &buf); err != nil || !ok {
			return fmt.Errorf("%s: register persisted query: %v %s", w.name, err, buf.Bytes())
		}
	}
	next := make(chan *request)
	errs := make(chan error, captureWorkers)
	var wg sync.WaitGroup
	for range captureWorkers {
		wg.Go(func() {
			var buf bytes.Buffer
			for r := range next {
				ok, header, err := c.do(ctx, r, &buf)
				if err == nil && ok && bytes.HasPrefix(buf.Bytes(), []byte(`{"data":{"article":null}`)) {
					err = errors.New("no such article")
				}
				if err != nil || !ok {
					errs <- fmt.Errorf("%s: %s %s: %v %s", w.name, r.method, r.target, err, buf.Bytes())
					return
				}
				header.Del("Date")
				header.Del("Content-Length")
				r.response, r.header = bytes.Clone(buf.Bytes()), header
			}
		})
	}
	var err error
feed:
	for _, r := range w.requests {
		select {
		case next <- r:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	return err
}

// rawServer answers every captured request with the service's bytes,
// headers and body, and does nothing else: the ceiling net/http sets on
// this machine.
func rawServer(w *workload) http.Handler {
	answers := map[string]*request{}
	for _, r := range w.requests {
		answers[r.rawKey()] = r
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r, ok := answers[req.Method+" "+req.URL.RequestURI()+"\n"+string(body)]
		if !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		for k, v := range r.header {
			h[k] = v
		}
		h.Set("Content-Length", strconv.Itoa(len(r.response)))
		_, _ = w.Write(r.response)
	})
}

// labelRequests runs each request to h under the profiler labels
// key=<the value last given to set> ("" at first) and the fixed pairs.
func labelRequests(h http.Handler, key string, fixed ...string) (labelled http.Handler, set func(string)) {
	var current atomic.Pointer[string]
	set = func(v string) { current.Store(&v) }
	set("")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		labels := pprof.Labels(append([]string{key, *current.Load()}, fixed...)...)
		pprof.Do(r.Context(), labels, func(context.Context) { h.ServeHTTP(w, r) })
	}), set
}

// startProfile writes a CPU profile to path until stop is called; with no
// path it does nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// serve runs h on a fresh loopback listener until the returned stop is
// called, with the timeouts server.go sets. The goroutines serving it carry
// the profiler labels server=name (and workload, when one), so one CPU
// profile tells the servers and the load generator apart.
func serve(h http.Handler, name, workload string) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	labels := pprof.Labels("server", name)
	if workload != "" {
		labels = pprof.Labels("server", name, "workload", workload)
	}
	// Requests' contexts carry the labels too, so that a handler's own
	// pprof.Do adds to them rather than dropping them when it returns.
	labelled := pprof.WithLabels(context.Background(), labels)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		BaseContext: func(net.Listener) context.Context { return labelled }}
	go pprof.Do(labelled, labels, func(context.Context) { _ = srv.Serve(ln) })
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// drive is one measured phase: conns goroutines sending w's requests
// back to back until d has passed.
type drive struct {
	requests  int
	errors    int
	firstErr  string
	latencies []time.Duration
	elapsed   time.Duration
}

// perSecond is the drive's throughput; 0 when it took no time.
func (d *drive) perSecond() float64 {
	if d.elapsed <= 0 {
		return 0
	}
	return float64(d.requests) / d.elapsed.Seconds()
}

func (c *client) drive(ctx context.Context, w *workload, conns int, d time.Duration, record bool) *drive {
	type result struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	results := make([]result, conns)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for g := range conns {
		wg.Go(func() {
			pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("client", "load", "workload", w.name)))
			r := rand.New(rand.NewPCG(uint64(g), uint64(start.UnixNano())))
			var zipf *rand.Zipf
			if w.zipf && len(w.requests) > 1 {
				zipf = rand.NewZipf(r, zipfS, 1, uint64(len(w.requests)-1))
			}
			res := &results[g]
			if record {
				res.lat = make([]time.Duration, 0, 1<<14)
			}
			var buf bytes.Buffer
			for ctx.Err() == nil && time.Now().Before(end) {
				req := w.requests[0]
				if zipf != nil {
					req = w.requests[zipf.Uint64()]
				}
				t0 := time.Now()
				ok, _, err := c.do(ctx, req, &buf)
				// A request still in flight when the window closes is let
				// finish (cancelling it would make the server log a failure)
				// but is not counted: the window is exactly d long.
				if ctx.Err() != nil || time.Now().After(end) {
					break
				}
				if record {
					res.lat = append(res.lat, time.Since(t0))
				}
				if err != nil || !ok {
					res.errors++
					if res.firstErr == "" {
						res.firstErr = fmt.Sprintf("%v %.200s", err, buf.Bytes())
					}
				}
			}
		})
	}
	wg.Wait()
	out := &drive{elapsed: d}
	for _, res := range results {
		out.latencies = append(out.latencies, res.lat...)
		out.errors += res.errors
		if out.firstErr == "" {
			out.firstErr = res.firstErr
		}
	}
	out.requests = len(out.latencies)
	return out
}

// percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}
