package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/singleflight"

	"github.com/newsgraph/newsgraph/internal/gqlhttp"
)

// MaxCachedRequest bounds the request bodies the response cache reads.
const MaxCachedRequest = 1 << 20

// Responses caches whole GraphQL responses for anonymous readers. The key is
// the request itself (GET query string or POST body), so two requests that
// share it are the same operation with the same variables for the same
// role; a hit is written out without executing GraphQL at all. Each response
// is tagged with what it was built from and purged by tag on writes.
type Responses struct {
	c     *Cache
	l1    *otter.Cache[string, *cachedResponse]
	group singleflight.Group

	mu    sync.Mutex
	byTag map[string]map[string]struct{}
}

type cachedResponse struct {
	Body    []byte    `json:"b"`
	ETag    string    `json:"e"`
	Tags    []string  `json:"t"`
	Views   []View    `json:"v,omitempty"`
	Expires time.Time `json:"x"`
	Seq     int64     `json:"q,omitempty"` // the generation its run started in
	// EdgeKeys are the tags a CDN keeps it under (none: not for the
	// edge); EdgeUntil, when set (unix nanos), ends its edge life early.
	EdgeKeys  []string `json:"k,omitempty"`
	EdgeUntil int64    `json:"u,omitempty"`

	// Built once per entry by prepare, not per hit: the tag headers, the
	// headers every hit sends, the names of its tags' tombstones, and the
	// browsers' Cache-Control of the second it was last built for.
	edge         *edgeHeaders
	etag, length []string
	tombs        []string
	control      atomic.Pointer[maxAgeHeader]
}

type maxAgeHeader struct {
	seconds int
	value   []string
}

// prepare builds what every hit on e sends besides the body.
func (e *cachedResponse) prepare() {
	if len(e.EdgeKeys) > 0 {
		e.edge = newEdgeHeaders(e.EdgeKeys)
	}
	e.etag, e.length = []string{e.ETag}, []string{strconv.Itoa(len(e.Body))}
	e.tombs = make([]string, len(e.Tags))
	for i, t := range e.Tags {
		e.tombs[i] = tagName(t)
	}
}

// cacheControl is the browsers' Cache-Control for a hit now: public for as
// long as the entry has left. Hits within one second share one value.
func (e *cachedResponse) cacheControl() []string {
	s := max(int(time.Until(e.Expires)/time.Second), 0)
	if c := e.control.Load(); c != nil && c.seconds == s {
		return c.value
	}
	c := &maxAgeHeader{seconds: s, value: []string{"public, max-age=" + strconv.Itoa(s) + ", stale-while-revalidate=60"}}
	e.control.Store(c)
	return c.value
}

// valid reports whether no write to anything the response was built from
// has been applied since its run started.
func (r *Responses) valid(e *cachedResponse) bool {
	for _, t := range e.tombs {
		if !r.c.gen.valid(t, e.Seq) {
			return false
		}
	}
	return true
}

func newResponses(c *Cache) *Responses {
	r := &Responses{c: c, byTag: map[string]map[string]struct{}{}}
	r.l1 = otter.Must(&otter.Options[string, *cachedResponse]{
		MaximumSize: c.opts.L1Size,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *cachedResponse]) time.Duration {
			return time.Until(e.Value.Expires)
		}),
		OnDeletion: func(e otter.DeletionEvent[string, *cachedResponse]) { r.unindex(e.Key, e.Value.Tags) },
	})
	return r
}

// MarkCacheable is called by the GraphQL layer for query operations; only
// their responses are kept (never a mutation's).
func MarkCacheable(ctx context.Context) {
	if c := collectorFrom(ctx); c != nil {
		c.mu.Lock()
		c.query = true
		c.mu.Unlock()
	}
}

// MarkPrivate is called by resolvers whose answer belongs to the caller
// alone, whoever they are (a preview token's holder): the response is not
// kept and says "private, no-store", so no cache here or at the edge keeps it.
func MarkPrivate(ctx context.Context) {
	if c := collectorFrom(ctx); c != nil {
		c.mu.Lock()
		c.private = true
		c.mu.Unlock()
	}
}

// Middleware serves anonymous GraphQL reads from the cache and fills it.
// Authenticated requests pass straight through, marked private.
func (r *Responses) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key, kind := classify(req)
		switch kind {
		case cacheable:
		case personal:
			private(w.Header())
			next.ServeHTTP(w, req)
			return
		case unkeyed:
			notForTheEdge(w.Header())
			next.ServeHTTP(w, req)
			return
		default:
			next.ServeHTTP(w, req)
			return
		}
		if hit := r.lookup(req.Context(), key); hit != nil {
			r.ServeHit(w, req, Hit{hit})
			return
		}
		r.fill(w, req, key, next)
	})
}

// requestKind is what the response cache may do with a request.
type requestKind int

const (
	notARead  requestKind = iota // neither GET nor POST: not its business
	personal                     // a key or a preview token: never kept, private
	unkeyed                      // a body it does not read: not kept
	cacheable                    // anonymous: kept under its key
)

// classify is the one rule for which requests the cache answers: only
// anonymous GETs and POSTs carrying no preview token, keyed by their bytes.
func classify(req *http.Request) (key string, kind requestKind) {
	if req.Method != http.MethodGet && req.Method != http.MethodPost {
		return "", notARead
	}
	if req.Header.Get("Authorization") != "" || (req.Method == http.MethodGet && isPreview(req.URL.RawQuery)) {
		return "", personal
	}
	key, body, ok := requestKey(req)
	switch {
	case !ok:
		return "", unkeyed
	case isPreviewBody(body):
		return "", personal
	}
	return key, cacheable
}

// Hit is a response found for a request, to be written by ServeHit.
type Hit struct{ e *cachedResponse }

// Local finds an anonymous read's response (a GET, or a POST whose body
// is a gqlhttp.Body) in this instance's own memory, without Redis or
// execution: for a fast lane in front of the whole HTTP chain
// (httpapi.cachedReads). Everything else, and every miss, is for
// Middleware. A miss is not counted here; Middleware counts it.
//
// Only requests admitted by the chain in front of Middleware were ever
// answered into this memory, so a request that finds its bytes here was
// admitted before; whoever changes what is admitted (a new list of trusted
// documents) calls Cache.ForgetLocalResponses.
func (r *Responses) Local(req *http.Request) (Hit, bool) {
	if _, buffered := req.Body.(*gqlhttp.Body); req.Method == http.MethodPost && !buffered {
		return Hit{}, false // its body is still to be read, within the limit
	}
	key, kind := classify(req)
	if kind != cacheable {
		return Hit{}, false
	}
	e, ok := r.l1.GetIfPresent(key)
	if !ok || !time.Now().Before(e.Expires) || !r.valid(e) {
		return Hit{}, false
	}
	r.c.metrics.count("response", TierL1, ResultHit)
	return Hit{e}, true
}

// ServeHit writes a hit out (If-None-Match honoured on GET) and returns
// the status it wrote.
func (r *Responses) ServeHit(w http.ResponseWriter, req *http.Request, h Hit) int {
	r.c.trending.replay(h.e.Views)
	return r.write(w, req, h.e, xCacheHit)
}

// requestKey identifies a request by its bytes: the query string of a GET,
// the body of a POST (left readable for the handlers after).
func requestKey(req *http.Request) (string, []byte, bool) {
	k := keyers.Get().(*keyer)
	defer k.release()
	k.h.Reset()
	var body []byte
	if req.Method == http.MethodGet {
		k.scratch = append(append(k.scratch[:0], "GET\n"...), req.URL.RawQuery...)
		k.h.Write(k.scratch)
	} else {
		if ct := req.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
			return "", nil, false
		}
		var err error
		body, err = gqlhttp.BodyBytes(req, MaxCachedRequest)
		if err != nil || len(body) > MaxCachedRequest {
			return "", nil, false
		}
		k.h.Write(postPrefix)
		k.h.Write(body)
	}
	k.h.Write(readerSuffix)
	k.key = append(k.key[:0], "response:"...)
	k.key = hex.AppendEncode(k.key, k.h.Sum(k.sum[:0]))
	return string(k.key), body, true
}

// keyer hashes request keys with buffers reused from one request to the
// next.
type keyer struct {
	h       hash.Hash
	sum     [sha256.Size]byte
	scratch []byte
	key     []byte
}

func (k *keyer) release() {
	if cap(k.scratch) > 64<<10 {
		k.scratch = nil // a huge query string is not kept for the next
	}
	keyers.Put(k)
}

var (
	keyers                   = sync.Pool{New: func() any { return &keyer{h: sha256.New()} }}
	postPrefix, readerSuffix = []byte("POST\n"), []byte("\nrole=READER")
)

func (r *Responses) lookup(ctx context.Context, key string) *cachedResponse {
	epoch, keep := r.c.epoch.begin()
	now := time.Now()
	if e, ok := r.l1.GetIfPresent(key); ok && now.Before(e.Expires) && r.valid(e) {
		r.c.metrics.count("response", TierL1, ResultHit)
		return e
	}
	r.c.metrics.count("response", TierL1, ResultMiss)
	red := r.c.redis
	if !red.usable() {
		return nil
	}
	rctx, cancel := red.ctx(ctx)
	defer cancel()
	raw, err := red.client.Get(rctx, red.key(key)).Bytes()
	red.observe(err)
	var e cachedResponse
	if err != nil || json.Unmarshal(raw, &e) != nil || !now.Before(e.Expires) {
		r.c.metrics.count("response", TierRedis, ResultMiss)
		return nil
	}
	e.prepare() // its tombstones' names first: valid reads them
	if !r.valid(&e) {
		r.c.metrics.count("response", TierRedis, ResultMiss)
		return nil
	}
	r.c.metrics.count("response", TierRedis, ResultHit)
	if keep && r.c.epoch.still(epoch) {
		r.remember(key, &e)
	}
	return &e
}

func (r *Responses) fill(w http.ResponseWriter, req *http.Request, key string, next http.Handler) {
	// Concurrent misses on one response execute it once; the others are
	// answered with its result (same request bytes, same role: same answer).
	leader := false
	epoch, _ := r.c.epoch.begin()
	v, _, _ := r.group.Do(flightKey(key, epoch), func() (any, error) {
		leader = true
		return r.execute(w, req, key, next), nil
	})
	res := v.(*executed)
	switch {
	case leader && res.entry == nil:
		notForTheEdge(w.Header())
		w.WriteHeader(res.status)
		_, _ = w.Write(res.body)
	case leader:
		r.write(w, req, res.entry, xCacheMiss)
	case res.entry != nil:
		r.ServeHit(w, req, Hit{res.entry})
	default:
		// Not kept (an error, a mutation): this request runs on its own.
		own := r.execute(w, req, key, next)
		notForTheEdge(w.Header())
		w.WriteHeader(own.status)
		_, _ = w.Write(own.body)
	}
}

// executed is one run of the GraphQL handler: what it wrote, and the entry
// kept from it (nil when the answer may not be kept).
type executed struct {
	status int
	body   []byte
	entry  *cachedResponse
}

func (r *Responses) execute(w http.ResponseWriter, req *http.Request, key string, next http.Handler) *executed {
	epoch, keep := r.c.epoch.begin()
	seq := r.c.gen.current()
	ctx, col := withCollector(req.Context(), jitter(r.c.opts.Responses))
	cw := gqlhttp.NewRecorder(w)
	next.ServeHTTP(cw, req.WithContext(ctx))
	status, body := cw.Status(), cw.Body()
	col.mu.Lock()
	priv, query := col.private, col.query
	col.mu.Unlock()
	if priv {
		private(w.Header())
		return &executed{status: status, body: body}
	}
	// Only a query's complete, error-free answer is kept (gqlgen writes
	// "errors" first when there are any), never a part of an incremental
	// (@defer) delivery.
	if status != http.StatusOK || !query || bytes.HasPrefix(body, []byte(`{"errors"`)) ||
		bytes.Contains(body, []byte(`"hasNext":true`)) {
		return &executed{status: status, body: body}
	}
	r.c.metrics.count("response", TierDB, ResultMiss)
	now := time.Now()
	col.mu.Lock()
	e := &cachedResponse{Body: bytes.Clone(body), ETag: etag(body), Views: col.views, Expires: now.Add(col.ttl), Seq: seq}
	for t := range col.tags {
		e.Tags = append(e.Tags, t)
	}
	if until := col.edgeUntil(now); !until.IsZero() {
		e.EdgeUntil = until.UnixNano()
	}
	col.mu.Unlock()
	if keys, ok := edgeKeys(e.Tags); ok {
		e.EdgeKeys = keys
	}
	e.prepare()
	if col.ttl > 0 && keep && r.c.epoch.still(epoch) {
		r.remember(key, e)
		r.share(req.Context(), key, e)
	}
	return &executed{status: status, body: body, entry: e}
}

var xCacheHit, xCacheMiss, varyAuthorization = []string{"HIT"}, []string{"MISS"}, []string{"Authorization"}

func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// write sends a cached response, honouring If-None-Match on GET. The
// header values are shared between hits (net/http only reads them).
func (r *Responses) write(w http.ResponseWriter, req *http.Request, e *cachedResponse, status []string) int {
	h := w.Header()
	h["X-Cache"] = status
	if v := h["Vary"]; v == nil {
		h["Vary"] = varyAuthorization // shared: net/http only reads it
	} else if !slices.Contains(v, "Authorization") {
		h.Add("Vary", "Authorization")
	}
	if req.Method == http.MethodGet {
		h["Cache-Control"] = e.cacheControl()
		h["Etag"] = e.etag
		if e.edge != nil {
			var until time.Time
			if e.EdgeUntil != 0 {
				until = time.Unix(0, e.EdgeUntil)
			}
			e.edge.set(h, until)
		} else {
			notForTheEdge(h)
		}
		if inm := req.Header.Get("If-None-Match"); inm != "" && inm == e.ETag {
			w.WriteHeader(http.StatusNotModified)
			return http.StatusNotModified
		}
	}
	h["Content-Type"] = gqlhttp.ContentTypeHeader(req)
	h["Content-Length"] = e.length
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.Body)
	return http.StatusOK
}

// remember keeps a response in this instance, indexed by its tags.
func (r *Responses) remember(key string, e *cachedResponse) {
	r.mu.Lock()
	for _, t := range e.Tags {
		keys := r.byTag[t]
		if keys == nil {
			keys = map[string]struct{}{}
			r.byTag[t] = keys
		}
		keys[key] = struct{}{}
	}
	r.mu.Unlock()
	r.l1.Set(key, e)
}

func (r *Responses) unindex(key string, tags []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range tags {
		if keys := r.byTag[t]; keys != nil {
			delete(keys, key)
			if len(keys) == 0 {
				delete(r.byTag, t)
			}
		}
	}
}

// share stores a response in Redis with its tag index.
func (r *Responses) share(ctx context.Context, key string, e *cachedResponse) {
	red := r.c.redis
	if !red.usable() {
		return
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return
	}
	ttl := time.Until(e.Expires)
	rctx, cancel := red.ctx(ctx)
	defer cancel()
	pipe := red.client.Pipeline()
	pipe.Set(rctx, red.key(key), raw, ttl)
	for _, t := range e.Tags {
		tk := red.key("tag:" + t)
		pipe.SAdd(rctx, tk, key)
		pipe.Expire(rctx, tk, r.c.opts.Responses+time.Minute)
	}
	_, err = pipe.Exec(rctx)
	red.observe(err)
}

// forgetLocal drops this instance's responses carrying any of tags.
func (r *Responses) forgetLocal(tags []string) {
	var keys []string
	r.mu.Lock()
	for _, t := range tags {
		for k := range r.byTag[t] {
			keys = append(keys, k)
		}
	}
	r.mu.Unlock()
	for _, k := range keys {
		r.l1.Invalidate(k)
	}
}

func (r *Responses) forgetAllLocal() { r.l1.InvalidateAll() }

// purgeShared deletes from Redis every response carrying any of tags.
func (r *Responses) purgeShared(ctx context.Context, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	red := r.c.redis
	pipe := red.client.Pipeline()
	cmds := make([]interface{ Val() []string }, len(tags))
	for i, t := range tags {
		cmds[i] = pipe.SMembers(ctx, red.key("tag:"+t))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	var del []string
	for i, t := range tags {
		for _, k := range cmds[i].Val() {
			del = append(del, red.key(k))
		}
		del = append(del, red.key("tag:"+t))
	}
	return red.unlink(ctx, del)
}
