// Package live tells subscribers about stories as they go live and change:
// one Hub per instance hears every write through news.Listener, fans it out
// to the other instances over Redis pub/sub, and hands each subscriber only
// what its viewer may see.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// Close codes a subscriber's websocket is closed with.
const (
	// CloseSlowConsumer: the subscriber fell Buffer events behind.
	CloseSlowConsumer = 4008
	// CloseGoingAway: the instance is shutting down; reconnect elsewhere.
	CloseGoingAway = 1001
)

// Why Admit refuses a connection.
var (
	ErrTooManyConnections = errors.New("too many live connections for this key")
	ErrShuttingDown       = errors.New("the server is shutting down; reconnect")
)

// Options configure a Hub.
type Options struct {
	// Redis carries events between instances on the channel
	// {Prefix}live; nil keeps them in this process.
	Redis  redis.UniversalClient
	Prefix string
	Logger *slog.Logger
	// Articles finds scheduled stories falling due (the store); nil: none
	// are announced.
	Articles Schedule
	// Buffer is how many events a subscriber may fall behind before it is
	// dropped (64 when zero).
	Buffer int
	// ConnectionsPerKey bounds open live connections per API key, and per
	// client address for readers without one (100 when zero).
	ConnectionsPerKey int
	// CatchUpAfter is how long after Start the stories that fell due while
	// no instance ran are announced, so reconnecting subscribers hear them
	// (5 s when zero).
	CatchUpAfter time.Duration
}

// Schedule is what the hub asks the database about scheduled stories.
type Schedule interface {
	NextScheduledAt(ctx context.Context, now time.Time) (*time.Time, error)
	Articles(ctx context.Context, q news.ArticleQuery) ([]*news.Article, error)
}

// Hub is one instance's switchboard of subscribers.
type Hub struct {
	o      Options
	origin string

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	groups map[string]*group
	conns  map[string]int
	lines  map[*line]struct{}
	closed bool

	// pending are the events not yet fanned out; one goroutine at a time
	// works through them, in order, and only while there are any.
	pendingMu sync.Mutex
	pending   []event
	fanning   bool

	// due is the earliest scheduled moment known; swept is up to when due
	// stories have been announced.
	dueMu sync.Mutex
	due   time.Time
	swept time.Time
	timer *time.Timer

	done chan struct{}
}

// New builds a hub; Start connects it.
func New(o Options) *Hub {
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.ConnectionsPerKey <= 0 {
		o.ConnectionsPerKey = 100
	}
	if o.CatchUpAfter <= 0 {
		o.CatchUpAfter = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{o: o, origin: telemetry.NewRequestID(), subs: map[*subscriber]struct{}{},
		groups: map[string]*group{}, conns: map[string]int{}, lines: map[*line]struct{}{}, done: make(chan struct{})}
}

// event is what travels between instances.
type event struct {
	Origin    string        `json:"o"`
	Published bool          `json:"p,omitempty"`
	Article   *news.Article `json:"a"`
	// ready, when set, closes once the event may go out (AnswerFirst);
	// the events queued after it wait with it.
	ready chan struct{}
}

func (h *Hub) channel() string { return h.o.Prefix + "live" }

// Start listens to the other instances and arms the scheduled-story timer,
// until ctx ends.
func (h *Hub) Start(ctx context.Context) {
	now := time.Now()
	// Stories that fell due while no instance ran: announced from the
	// moment the last instance stopped (or last swept), shortly after
	// start so that subscribers have reconnected; each at most once across
	// instances (claim).
	from := h.lastSwept(ctx, now)
	h.dueMu.Lock()
	h.swept = from
	h.timer = time.AfterFunc(time.Hour, func() { h.sweep(context.WithoutCancel(ctx)) })
	h.timer.Stop()
	h.dueMu.Unlock()
	h.rearm(ctx, now)
	if from.Before(now) {
		h.dueMu.Lock()
		if at := now.Add(h.o.CatchUpAfter); h.due.IsZero() || h.due.After(at) {
			h.due = at
			h.timer.Reset(h.o.CatchUpAfter)
		}
		h.dueMu.Unlock()
	}
	context.AfterFunc(ctx, func() {
		// Up to the last sweep, not up to now: a story falling due
		// between the two (its timer stopped here) is the next start's.
		h.dueMu.Lock()
		h.timer.Stop()
		swept := h.swept
		h.dueMu.Unlock()
		h.recordSwept(context.WithoutCancel(ctx), swept)
	})
	if h.o.Redis == nil {
		close(h.done)
		return
	}
	ps := h.o.Redis.Subscribe(context.WithoutCancel(ctx), h.channel())
	go func() {
		defer close(h.done)
		ch := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				_ = ps.Close()
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				var e event
				if json.Unmarshal([]byte(msg.Payload), &e) != nil || e.Origin == h.origin || e.Article == nil {
					continue
				}
				h.deliver(e)
				h.noteDue(e.Article)
			}
		}
	}()
}

// Wait blocks until the Redis subscription started by Start has ended.
func (h *Hub) Wait() { <-h.done }

// ArticleChanged implements news.Listener: every change is an update; a
// story that became live with this write is also a publish. A story
// scheduled for later is published by the timer when its moment comes.
func (h *Hub) ArticleChanged(ctx context.Context, before, after *news.Article) {
	if after == nil {
		return
	}
	now := time.Now()
	published := after.LiveAt(now) && (before == nil || !before.LiveAt(now))
	h.emit(ctx, event{Published: published, Article: after})
	h.noteDue(after)
}

// AuthorChanged implements news.Listener; bylines are not streamed.
func (h *Hub) AuthorChanged(context.Context, *news.Author, *news.Author) {}

// emit delivers here and tells the other instances; under AnswerFirst,
// once the request has its answer. The event takes its place in this
// instance's queue at once, so that events go out in the order of the
// writes even when a later write's request answers first.
func (h *Hub) emit(ctx context.Context, e event) {
	e.Origin = h.origin
	answer, held := ctx.Value(holdKey{}).(*hold)
	if !held {
		h.deliver(e)
		h.tellOthers(ctx, e)
		return
	}
	ready := make(chan struct{})
	e.ready = ready
	h.deliver(e)
	ctx = context.WithoutCancel(ctx)
	answer.add(func() {
		close(ready)
		h.tellOthers(ctx, e)
	})
}

// tellOthers publishes e to the other instances.
func (h *Hub) tellOthers(ctx context.Context, e event) {
	if h.o.Redis == nil {
		return
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := h.o.Redis.Publish(rctx, h.channel(), raw).Err(); err != nil {
		// Subscribers on other instances miss this event; the write stands.
		h.o.Logger.WarnContext(ctx, "live: publishing to other instances failed", "err", err)
	}
}

type holdKey struct{}

// hold keeps a request's fan-outs until its answer is out.
type hold struct {
	mu       sync.Mutex
	released bool
	waiting  []func()
}

func (h *hold) add(f func()) {
	h.mu.Lock()
	if !h.released {
		h.waiting = append(h.waiting, f)
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	f()
}

func (h *hold) release() {
	h.mu.Lock()
	waiting := h.waiting
	h.waiting, h.released = nil, true
	h.mu.Unlock()
	for _, f := range waiting {
		f()
	}
}

// AnswerFirst holds back the fan-out of the writes a request makes, here
// and on the other instances, until release is called once its answer is
// written: a story's 50,000 subscribers' writers would otherwise wake
// while the editor's publish is still answering and take the cores from
// it. Events after a held one wait with it, here, so none overtakes
// another. For a request with one answer only; a stream's writes go out
// at once. release must be called.
func AnswerFirst(ctx context.Context) (_ context.Context, release func()) {
	h := &hold{}
	return context.WithValue(ctx, holdKey{}, h), h.release
}

// deliver queues e for the fan-out and returns at once: the write that
// caused it (an editor's publish) does not wait for 50,000 subscribers.
func (h *Hub) deliver(e event) {
	h.pendingMu.Lock()
	h.pending = append(h.pending, e)
	if h.fanning {
		h.pendingMu.Unlock()
		return
	}
	h.fanning = true
	h.pendingMu.Unlock()
	go h.fanOut()
}

func (h *Hub) fanOut() {
	for {
		h.pendingMu.Lock()
		if len(h.pending) == 0 {
			h.fanning = false
			h.pending = nil
			h.pendingMu.Unlock()
			return
		}
		e := h.pending[0]
		h.pending = h.pending[1:]
		h.pendingMu.Unlock()
		if e.ready != nil {
			<-e.ready
		}
		h.deliverToGroups(e)
		h.deliverToChannels(e)
	}
}

// subscriber is one subscription: its filter, its buffer, and how to hang
// up its connection when it falls behind.
type subscriber struct {
	ch     chan *news.Article
	wants  func(e event, now time.Time) bool
	hangUp HangUp
}

// Published streams stories as they go live, optionally in one section.
// Every viewer gets the same: only published stories whose time has come.
func (h *Hub) Published(ctx context.Context, section *string) (<-chan *news.Article, error) {
	sec := ""
	if section != nil {
		sec = *section
	}
	return h.subscribe(ctx, func(e event, now time.Time) bool {
		return e.Published && e.Article.LiveAt(now) && (sec == "" || e.Article.Section == sec)
	})
}

// Updated streams every change to one story. Readers and partners hear of
// it only while it is live; editors also of drafts and scheduled stories.
func (h *Hub) Updated(ctx context.Context, globalID string) (<-chan *news.Article, error) {
	id, err := news.ParseGlobalIDOf("id", news.NodeArticle, globalID)
	if err != nil {
		return nil, err
	}
	editor := news.ViewerFrom(ctx).SeesUnpublished()
	return h.subscribe(ctx, func(e event, now time.Time) bool {
		return e.Article.ID == id && (editor || e.Article.LiveAt(now))
	})
}

func (h *Hub) subscribe(ctx context.Context, wants func(event, time.Time) bool) (<-chan *news.Article, error) {
	if e, ok := ctx.Value(eventKey{}).(*Event); ok {
		// A group's execution for one event: the stream is that event, if
		// this subscription wants it, and ends.
		ch := make(chan *news.Article, 1)
		if e != nil && wants(e.e, e.now) {
			ch <- e.e.Article
		}
		close(ch)
		return ch, nil
	}
	s := &subscriber{ch: make(chan *news.Article, h.o.Buffer), wants: wants, hangUp: hangUpFrom(ctx)}
	h.mu.Lock()
	if h.closed {
		// Shutting down: the stream completes at once and the client
		// reconnects to another instance.
		h.mu.Unlock()
		close(s.ch)
		return s.ch, nil
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
	})
	return s.ch, nil
}

// deliverToChannels hands e to every subscriber that wants it. A subscriber whose
// buffer is full is dropped (its connection closed with CloseSlowConsumer)
// rather than buffered without bound or allowed to stall the others.
func (h *Hub) deliverToChannels(e event) {
	now := time.Now()
	var slow []*subscriber
	h.mu.Lock()
	for s := range h.subs {
		if !s.wants(e, now) {
			continue
		}
		select {
		case s.ch <- e.Article:
		default:
			delete(h.subs, s)
			close(s.ch)
			slow = append(slow, s)
		}
	}
	h.mu.Unlock()
	for _, s := range slow {
		h.o.Logger.Warn("live: dropped a slow subscriber", "buffer", h.o.Buffer)
		if s.hangUp != nil {
			s.hangUp(CloseSlowConsumer, "slow consumer: too many undelivered events")
		}
	}
}

// Subscribers is how many subscriptions are open on this instance.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.subs)
	for _, g := range h.groups {
		g.mu.Lock()
		n += len(g.members)
		g.mu.Unlock()
	}
	return n
}

// Admit counts a live connection against its key's (or, for a reader, its
// address's) limit; release gives the slot back. A websocket connection
// (one with WithHangUp in ctx) is closed by Close.
func (h *Hub) Admit(ctx context.Context, v news.Viewer, remoteAddr string) (release func(), err error) {
	who := "key:" + v.KeyID
	if v.KeyID == "" {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			host = remoteAddr
		}
		who = "addr:" + host
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrShuttingDown
	}
	if h.conns[who] >= h.o.ConnectionsPerKey {
		return nil, ErrTooManyConnections
	}
	h.conns[who]++
	l := &line{hangUp: hangUpFrom(ctx)}
	h.lines[l] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.lines, l)
			if h.conns[who]--; h.conns[who] <= 0 {
				delete(h.conns, who)
			}
		})
	}, nil
}

type line struct{ hangUp HangUp }

// Close ends every subscription (each completes) and refuses new ones,
// then closes every websocket with CloseGoingAway: graceful shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		close(s.ch)
	}
	h.subs = map[*subscriber]struct{}{}
	groups := h.groups
	h.groups = map[string]*group{}
	lines := h.lines
	h.lines = map[*line]struct{}{}
	h.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		for m := range g.members {
			m.Complete()
		}
		g.members = nil
		g.mu.Unlock()
	}
	if len(lines) == 0 {
		return
	}
	// Let the transports send each subscription's complete before the
	// connections close under them.
	time.Sleep(CloseGrace)
	for l := range lines {
		if l.hangUp != nil {
			l.hangUp(CloseGoingAway, "server shutting down")
		}
	}
}

// CloseGrace is how long Close waits between completing subscriptions and
// closing their connections.
const CloseGrace = 200 * time.Millisecond

// HangUp closes a subscriber's connection with a websocket close code.
type HangUp func(code int, reason string)

type hangUpKey struct{}

// WithHangUp lets subscriptions made under ctx close their connection (the
// websocket transport sets it; SSE streams simply end).
func WithHangUp(ctx context.Context, f HangUp) context.Context {
	return context.WithValue(ctx, hangUpKey{}, f)
}

func hangUpFrom(ctx context.Context) HangUp {
	f, _ := ctx.Value(hangUpKey{}).(HangUp)
	return f
}

// noteDue re-arms the timer when a story is scheduled earlier than the
// earliest moment known.
func (h *Hub) noteDue(a *news.Article) {
	if a.StatusAt(time.Now()) != news.StatusScheduled {
		return
	}
	h.dueMu.Lock()
	defer h.dueMu.Unlock()
	if h.timer == nil {
		return
	}
	if h.due.IsZero() || a.PublishedAt.Before(h.due) {
		h.due = *a.PublishedAt
		h.timer.Reset(time.Until(h.due))
	}
}

// rearm asks the database for the next scheduled moment.
func (h *Hub) rearm(ctx context.Context, now time.Time) {
	if h.o.Articles == nil {
		return
	}
	at, err := h.o.Articles.NextScheduledAt(ctx, now)
	if err != nil {
		h.o.Logger.WarnContext(ctx, "live: finding the next scheduled story failed; retrying in a minute", "err", err)
		t := now.Add(time.Minute)
		at = &t
	}
	h.dueMu.Lock()
	defer h.dueMu.Unlock()
	h.due = time.Time{}
	if at != nil {
		h.due = *at
		h.timer.Reset(time.Until(*at))
	}
}

// sweep announces the scheduled stories that fell due since the last sweep.
// A story is the timer's to announce when its publishedAt is after its last
// write (it was scheduled); one published on the spot was announced by the
// write itself. Every instance runs the same timer, so with Redis one claim
// per (story, version) decides which instance announces it; the others skip
// it. Stories that fell due while no instance ran are announced by the first
// sweep after the next start (see Start).
func (h *Hub) sweep(ctx context.Context) {
	if h.o.Articles == nil {
		return
	}
	now := time.Now()
	h.dueMu.Lock()
	from := h.swept
	h.swept = now
	h.dueMu.Unlock()
	defer h.recordSwept(ctx, now)
	for {
		page, err := h.o.Articles.Articles(ctx, news.ArticleQuery{Status: news.StatusPublished, Now: now,
			PublishedAfter: &from, Order: news.Order{Field: news.OrderPublishedAt}, Limit: 100})
		if err != nil {
			h.o.Logger.WarnContext(ctx, "live: listing stories falling due failed", "err", err)
			break
		}
		for _, a := range page {
			if a.PublishedAt.After(a.UpdatedAt) && h.claim(ctx, a) {
				h.emit(ctx, event{Published: true, Article: a})
			}
		}
		if len(page) < 100 {
			break
		}
		from = *page[len(page)-1].PublishedAt
	}
	h.rearm(ctx, now)
}

// claim reports whether this instance announces a (story, version) falling
// due: always without Redis, first come with it.
func (h *Hub) claim(ctx context.Context, a *news.Article) bool {
	if h.o.Redis == nil {
		return true
	}
	key := h.o.Prefix + "live:due:" + a.ID + ":" + strconv.Itoa(a.Version)
	ok, err := h.o.Redis.SetNX(ctx, key, h.origin, claimTTL).Result()
	if err != nil {
		// Better a duplicate than a story nobody is told about.
		h.o.Logger.WarnContext(ctx, "live: claiming a due story failed; announcing it anyway", "err", err)
		return true
	}
	return ok
}

// claimTTL is how long a claim to announce a story is remembered: longer
// than any outage after which the story would still be news.
const claimTTL = 7 * 24 * time.Hour

func (h *Hub) sweptKey() string { return h.o.Prefix + "live:swept" }

// lastSwept is up to when due stories were announced by any instance (from
// Redis), never earlier than claimTTL ago; now without Redis or record:
// a lone instance without Redis has no memory of its last run.
func (h *Hub) lastSwept(ctx context.Context, now time.Time) time.Time {
	if h.o.Redis == nil || h.o.Articles == nil {
		return now
	}
	ms, err := h.o.Redis.Get(ctx, h.sweptKey()).Int64()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			h.o.Logger.WarnContext(ctx, "live: reading when stories were last announced failed", "err", err)
		}
		return now
	}
	t := time.UnixMilli(ms)
	if oldest := now.Add(-claimTTL); t.Before(oldest) {
		t = oldest
	}
	if t.After(now) {
		t = now
	}
	return t
}

// recordSwept notes, for the next instance to start, that due stories were
// announced up to at.
func (h *Hub) recordSwept(ctx context.Context, at time.Time) {
	if h.o.Redis == nil || h.o.Articles == nil {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.o.Redis.Set(rctx, h.sweptKey(), at.UnixMilli(), claimTTL).Err(); err != nil {
		h.o.Logger.WarnContext(ctx, "live: recording when stories were announced failed", "err", err)
	}
}
