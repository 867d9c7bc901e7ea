package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Options tune the dispatcher; zero values take the defaults.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// CanonicalURL is the story's address on the website (the payload's
	// canonicalUrl).
	CanonicalURL func(*news.Article) string
	// RetryBase is the first retry's delay, doubled each time up to
	// MaxDelay, with jitter (WEBHOOK_RETRY_BASE, default 5s).
	RetryBase time.Duration
	// MaxDelay caps one retry's delay (default 1h).
	MaxDelay time.Duration
	// GiveUpAfter ends retrying a delivery this long after its event
	// (default 24h).
	GiveUpAfter time.Duration
	// AllowPrivate lets webhooks reach private, loopback and link-local
	// addresses (WEBHOOK_ALLOW_PRIVATE; tests and closed networks only).
	AllowPrivate bool
	// Timeout bounds one delivery attempt (default 5s).
	Timeout time.Duration
	// Lease is how long a claimed attempt is its instance's alone; one
	// whose instance stopped before recording an outcome is counted lost
	// after it (default 30s, well above Timeout).
	Lease time.Duration
	// Poll is how often the outbox is read when nothing wakes the
	// dispatcher (writes on this instance do; default 1s).
	Poll time.Duration
	// Concurrency bounds the attempts in flight on this instance
	// (default 8).
	Concurrency int
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RetryBase, 5*time.Second)
	def(&o.MaxDelay, time.Hour)
	def(&o.GiveUpAfter, 24*time.Hour)
	def(&o.Timeout, 5*time.Second)
	def(&o.Lease, 30*time.Second)
	def(&o.Poll, time.Second)
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CanonicalURL == nil {
		o.CanonicalURL = func(*news.Article) string { return "" }
	}
}

// Dispatcher hears every landed write (it is a news.Listener), keeps the
// outbox and delivers from it.
type Dispatcher struct {
	o      Options
	hooks  *Hooks
	sender *sender
	owner  string
	now    func() time.Time

	wake chan struct{}
	done chan struct{}
	slot chan struct{}

	mu       sync.Mutex
	inFlight map[string]bool
	attempts sync.WaitGroup
}

// New builds a dispatcher; Start runs it.
func New(o Options) *Dispatcher {
	o.defaults()
	g := &guard{allowPrivate: o.AllowPrivate}
	return &Dispatcher{
		o:        o,
		hooks:    &Hooks{store: o.Store, guard: g, now: time.Now},
		sender:   newSender(g, o.Timeout),
		owner:    newID("inst_"),
		now:      time.Now,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		slot:     make(chan struct{}, o.Concurrency),
		inFlight: map[string]bool{},
	}
}

// Hooks is the admin's side: create, list, delete, look at deliveries.
func (d *Dispatcher) Hooks() *Hooks { return d.hooks }

// ArticleChanged implements news.Listener: it writes the event to the
// outbox before the mutation returns (FerretDB has no transactions, so this
// is a second write just after the story's, not in the same one) and wakes
// the dispatcher so delivery starts at once. A scheduled story also gets
// its publication event, due at its moment.
func (d *Dispatcher) ArticleChanged(ctx context.Context, before, after *news.Article) {
	now := d.now().UTC()
	var events []*OutboxEvent
	if ev, ok := change(before, after, now); ok {
		a := after
		if a == nil {
			a = before
		}
		events = append(events, &OutboxEvent{ID: newID("evt_"), Event: ev, ArticleID: a.ID,
			Body: d.body(ev, a, now), DueAt: now, CreatedAt: now})
	}
	if after != nil && after.StatusAt(now) == news.StatusScheduled {
		at := after.PublishedAt.UTC()
		// One event per story and moment, however often it is saved.
		events = append(events, &OutboxEvent{
			ID:    "evt_sched_" + after.ID + "_" + strconv.FormatInt(at.UnixMilli(), 36),
			Event: ArticlePublished, ArticleID: after.ID, DueAt: at, PublishedAt: &at, CreatedAt: now})
	}
	for _, e := range events {
		if err := d.o.Store.InsertOutboxEvent(ctx, e); err != nil {
			d.o.Logger.ErrorContext(ctx, "webhook: writing the outbox failed; this change will not be announced",
				"event", e.Event, "article", e.ArticleID, "err", err)
		}
	}
	if len(events) > 0 {
		d.poke()
	}
}

// AuthorChanged implements news.Listener; bylines have no events.
func (d *Dispatcher) AuthorChanged(context.Context, *news.Author, *news.Author) {}

// change is the event a write makes, as readers see it: a story going live,
// changing while live, leaving, or deleted while live. Edits to drafts and
// to scheduled stories concern no website.
func change(before, after *news.Article, now time.Time) (Event, bool) {
	was := before != nil && before.LiveAt(now)
	if after == nil {
		return ArticleDeleted, was
	}
	is := after.LiveAt(now)
	switch {
	case !was && is:
		return ArticlePublished, true
	case was && is:
		return ArticleUpdated, true
	case was && !is:
		return ArticleUnpublished, true
	}
	return "", false
}

type payload struct {
	Type      Event       `json:"type"`
	Timestamp time.Time   `json:"timestamp"`
	Data      payloadData `json:"data"`
}

type payloadData struct {
	ID           string `json:"id"`
	Slug         string `json:"slug"`
	CanonicalURL string `json:"canonicalUrl"`
	Version      int    `json:"version"`
}

// body is the payload, fixed once so every attempt signs the same bytes.
func (d *Dispatcher) body(ev Event, a *news.Article, at time.Time) []byte {
	b, _ := json.Marshal(payload{Type: ev, Timestamp: at.UTC(), Data: payloadData{
		ID: news.GlobalID(news.NodeArticle, a.ID), Slug: a.Slug, CanonicalURL: d.o.CanonicalURL(a), Version: a.Version}})
	return b
}

func (d *Dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Start makes a first pass over the outbox (what waited while no instance
// ran), then runs the dispatcher until ctx ends.
func (d *Dispatcher) Start(ctx context.Context) {
	next := d.pass(ctx)
	go d.run(ctx, next)
}

// Wait blocks, once ctx has ended, until the attempts in flight are over.
func (d *Dispatcher) Wait() { <-d.done }

func (d *Dispatcher) run(ctx context.Context, next time.Time) {
	defer close(d.done)
	defer d.attempts.Wait()
	timer := time.NewTimer(max(time.Until(next), time.Millisecond))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
		next := d.pass(ctx)
		timer.Reset(max(time.Until(next), time.Millisecond))
	}
}

// pass fans out the events that are due, starts the attempts that are due,
// and says when the next thing falls due (at the latest, one Poll away).
// Both collections hold only what is waiting, so a pass reads little even
// on FerretDB, which filters everything but _id equality in memory.
func (d *Dispatcher) pass(ctx context.Context) time.Time {
	now := d.now()
	soonest := now.Add(d.o.Poll)
	events, err := d.o.Store.OutboxEvents(ctx)
	if err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: reading the outbox failed; retrying", "err", err)
		return soonest
	}
	var hooks []*Webhook
	loaded := false
	for _, e := range events {
		if e.DueAt.After(now) {
			soonest = earlier(soonest, e.DueAt)
			continue
		}
		if !loaded {
			if hooks, err = d.o.Store.Webhooks(ctx); err != nil {
				d.o.Logger.WarnContext(ctx, "webhook: reading webhooks failed; retrying", "err", err)
				return soonest
			}
			loaded = true
		}
		d.fanOut(ctx, e, hooks, now)
	}
	pending, err := d.o.Store.PendingDeliveries(ctx)
	if err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: reading pending deliveries failed; retrying", "err", err)
		return soonest
	}
	for _, dl := range pending {
		if dl.NextAttemptAt.After(now) {
			soonest = earlier(soonest, dl.NextAttemptAt)
			continue
		}
		if !d.begin(dl.ID) {
			continue
		}
		select {
		case d.slot <- struct{}{}:
		default:
			d.end(dl.ID) // all slots busy: the next pass takes it
			continue
		}
		d.attempts.Add(1)
		go func() {
			defer d.attempts.Done()
			defer func() { <-d.slot; d.end(dl.ID); d.poke() }()
			d.attempt(ctx, dl)
		}()
	}
	return soonest
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (d *Dispatcher) begin(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inFlight[id] {
		return false
	}
	d.inFlight[id] = true
	return true
}

func (d *Dispatcher) end(id string) {
	d.mu.Lock()
	delete(d.inFlight, id)
	d.mu.Unlock()
}

// fanOut turns an event into one delivery per webhook that wants it. The
// delivery IDs derive from the event and the webhook, so an instance that
// repeats a fan-out (another instance raced it, or it stopped before
// removing the event) adds nothing.
func (d *Dispatcher) fanOut(ctx context.Context, e *OutboxEvent, hooks []*Webhook, now time.Time) {
	body := e.Body
	if e.PublishedAt != nil {
		a, err := d.o.Store.ArticleByID(ctx, e.ArticleID)
		switch {
		case errors.Is(err, news.ErrNotFound):
			d.drop(ctx, e)
			return
		case err != nil:
			d.o.Logger.WarnContext(ctx, "webhook: reading a scheduled story failed; retrying", "err", err)
			return
		case a.StoredStatus != news.StatusPublished || a.PublishedAt == nil ||
			a.PublishedAt.UnixMilli() != e.PublishedAt.UnixMilli():
			// Moved or withdrawn since: the new schedule has its own event.
			d.drop(ctx, e)
			return
		}
		body = d.body(ArticlePublished, a, e.DueAt)
	}
	for _, h := range hooks {
		if !h.wants(e.Event) {
			continue
		}
		dl := &Delivery{ID: deliveryID(e.ID, h.ID), WebhookID: h.ID, Event: e.Event, Body: body,
			State: Pending, CreatedAt: now.UTC(), NextAttemptAt: now.UTC(), Attempts: []Attempt{}}
		if err := d.o.Store.InsertDelivery(ctx, dl); err != nil {
			d.o.Logger.WarnContext(ctx, "webhook: queueing a delivery failed; retrying", "err", err)
			return
		}
	}
	d.drop(ctx, e)
}

func (d *Dispatcher) drop(ctx context.Context, e *OutboxEvent) {
	if err := d.o.Store.DeleteOutboxEvent(ctx, e.ID); err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: clearing an outbox event failed; its fan-out repeats harmlessly", "err", err)
	}
}

func deliveryID(eventID, webhookID string) string {
	sum := sha256.Sum256([]byte(eventID + "/" + webhookID))
	return "msg_" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// lostAttempt is what an attempt whose instance stopped before it could
// record the outcome is shown as.
const lostAttempt = "no outcome recorded: the instance making the attempt stopped"

// attempt makes the delivery's next attempt if this instance claims it.
func (d *Dispatcher) attempt(ctx context.Context, dl *Delivery) {
	n := dl.AttemptCount + 1
	start := d.now()
	ok, err := d.o.Store.ClaimAttempt(ctx, dl.ID, n, d.owner, start.Add(d.o.Lease))
	if err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: claiming an attempt failed; retrying", "err", err)
		return
	}
	if !ok {
		// Another instance has attempt n. If its lease has run out with
		// nothing recorded, that instance stopped: count the attempt lost,
		// so attempt n+1 can be claimed.
		until, err := d.o.Store.AttemptLease(ctx, dl.ID, n)
		if err == nil && !until.After(start) {
			d.settle(ctx, dl, Attempt{Number: n, At: until.Add(-d.o.Lease).UTC(), Error: lostAttempt})
		}
		return
	}
	// The list this pass read may be stale: another instance may have
	// finished the delivery (and cleared its claims) since.
	id := dl.ID
	if dl, err = d.o.Store.PendingDelivery(ctx, id); err != nil {
		if errors.Is(err, news.ErrNotFound) {
			err = d.o.Store.ReleaseAttempt(ctx, id, n)
		}
		if err != nil {
			d.o.Logger.WarnContext(ctx, "webhook: rereading a delivery failed; the lease will free the attempt", "err", err)
		}
		return
	}
	h, err := d.o.Store.WebhookByID(ctx, dl.WebhookID)
	if errors.Is(err, news.ErrNotFound) {
		dl.State = Failed
		d.finish(ctx, dl, Attempt{Number: n, At: start.UTC(), Error: "the webhook was deleted"})
		return
	}
	if err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: reading a webhook failed; the lease will free the attempt", "err", err)
		return
	}
	status, safe := d.sender.send(ctx, h, dl, start)
	if ctx.Err() != nil {
		return // shutting down: the lease frees the attempt for another instance
	}
	d.settle(ctx, dl, Attempt{Number: n, At: start.UTC(), StatusCode: status, Error: safe,
		DurationMS: int(d.now().Sub(start) / time.Millisecond)})
}

// settle records an attempt: delivered, retried later, or given up.
func (d *Dispatcher) settle(ctx context.Context, dl *Delivery, a Attempt) {
	now := d.now()
	if a.Error == "" {
		dl.State = Delivered
		d.finish(ctx, dl, a)
		return
	}
	next := now.Add(d.backoff(a.Number))
	if next.Sub(dl.CreatedAt) > d.o.GiveUpAfter {
		dl.State = Failed
		d.finish(ctx, dl, a)
		return
	}
	if err := d.o.Store.RecordAttempt(ctx, dl.ID, a, next.UTC()); err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: recording an attempt failed", "err", err)
	}
}

func (d *Dispatcher) finish(ctx context.Context, dl *Delivery, a Attempt) {
	at := d.now().UTC()
	dl.FinishedAt = &at
	dl.AttemptCount = a.Number
	dl.Attempts = append(dl.Attempts, a)
	if err := d.o.Store.FinishDelivery(ctx, dl); err != nil {
		d.o.Logger.WarnContext(ctx, "webhook: recording a finished delivery failed", "err", err)
	}
}

// backoff is the delay after attempt n: RetryBase doubled n-1 times, capped
// at MaxDelay, and "equal jitter" (half fixed, half random), so receivers
// coming back from an outage are not hit by every instance's retries at
// the same instant.
func (d *Dispatcher) backoff(n int) time.Duration {
	delay := d.o.MaxDelay
	if n-1 < 32 {
		if b := d.o.RetryBase << (n - 1); b > 0 && b < delay {
			delay = b
		}
	}
	half := delay / 2
	return half + rand.N(half+1)
}
