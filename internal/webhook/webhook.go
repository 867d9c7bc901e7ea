// Package webhook tells websites and other systems of story changes with
// webhooks signed per the Standard Webhooks spec (standardwebhooks.com). A
// write puts an event in a MongoDB outbox before the mutation returns; a
// dispatcher on every instance fans each event out to the subscribed
// webhooks and delivers at least once, with exponential backoff and jitter,
// claiming each attempt by inserting a claim document whose _id names it,
// so that of several instances exactly one makes any given attempt.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Event is a kind of change a webhook may subscribe to. Its value is the
// `type` of the payload.
type Event string

const (
	ArticlePublished   Event = "article.published"
	ArticleUpdated     Event = "article.updated"
	ArticleUnpublished Event = "article.unpublished"
	ArticleDeleted     Event = "article.deleted"
)

// Events are every kind, in the order the schema lists them.
var Events = []Event{ArticlePublished, ArticleUpdated, ArticleUnpublished, ArticleDeleted}

func (e Event) valid() bool {
	for _, k := range Events {
		if e == k {
			return true
		}
	}
	return false
}

// SecretPrefix starts every signing secret, as the spec asks.
const SecretPrefix = "whsec_"

// Webhook is a receiver and what it listens for. Secret is what its
// deliveries are signed with; it is shown to the admin once, at creation,
// and never returned again.
type Webhook struct {
	ID        string    `bson:"_id"`
	URL       string    `bson:"url"`
	Events    []Event   `bson:"events"`
	Secret    string    `bson:"secret"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (w *Webhook) wants(e Event) bool {
	for _, k := range w.Events {
		if k == e {
			return true
		}
	}
	return false
}

// DeliveryState is where a delivery stands.
type DeliveryState string

const (
	Pending   DeliveryState = "PENDING"
	Delivered DeliveryState = "DELIVERED"
	Failed    DeliveryState = "FAILED"
)

// Delivery is one event on its way to one webhook. ID is the webhook-id
// header, the same on every attempt, so receivers deduplicate by it.
type Delivery struct {
	ID            string        `bson:"_id"`
	WebhookID     string        `bson:"webhookId"`
	Event         Event         `bson:"event"`
	Body          []byte        `bson:"body"`
	State         DeliveryState `bson:"state"`
	CreatedAt     time.Time     `bson:"createdAt"`
	NextAttemptAt time.Time     `bson:"nextAttemptAt"`
	AttemptCount  int           `bson:"attemptCount"`
	Attempts      []Attempt     `bson:"attempts"`
	FinishedAt    *time.Time    `bson:"finishedAt,omitempty"`
}

// Last is the latest attempt, nil before the first.
func (d *Delivery) Last() *Attempt {
	if len(d.Attempts) == 0 {
		return nil
	}
	return &d.Attempts[len(d.Attempts)-1]
}

// Attempt is one try at a delivery. Error is in words safe to show an
// admin (no addresses resolved, no driver text).
type Attempt struct {
	Number     int       `bson:"n"`
	At         time.Time `bson:"at"`
	StatusCode int       `bson:"status,omitempty"`
	Error      string    `bson:"error,omitempty"`
	DurationMS int       `bson:"ms"`
}

// OutboxEvent is a change waiting to be fanned out to the webhooks that
// want it. A scheduled story's publication waits here until DueAt.
type OutboxEvent struct {
	ID        string    `bson:"_id"`
	Event     Event     `bson:"event"`
	ArticleID string    `bson:"articleId"`
	Body      []byte    `bson:"body,omitempty"` // nil for a scheduled one: built when due
	DueAt     time.Time `bson:"dueAt"`
	// PublishedAt, on a scheduled publication, is the moment it was
	// scheduled for; if the story has since been moved or withdrawn, the
	// event is dropped (a new schedule wrote its own).
	PublishedAt *time.Time `bson:"publishedAt,omitempty"`
	CreatedAt   time.Time  `bson:"createdAt"`
}

// Store keeps webhooks, the outbox and the deliveries. WebhookByID and
// DeleteWebhook return news.ErrNotFound for unknown IDs; the inserts of
// outbox events and deliveries ignore an _id that is already there (that is
// what makes fan-out and scheduling idempotent); ClaimAttempt reports
// false, not an error, when the attempt is someone else's.
type Store interface {
	InsertWebhook(ctx context.Context, w *Webhook) error
	Webhooks(ctx context.Context) ([]*Webhook, error)
	WebhookByID(ctx context.Context, id string) (*Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error

	InsertOutboxEvent(ctx context.Context, e *OutboxEvent) error
	OutboxEvents(ctx context.Context) ([]*OutboxEvent, error)
	DeleteOutboxEvent(ctx context.Context, id string) error

	InsertDelivery(ctx context.Context, d *Delivery) error
	PendingDeliveries(ctx context.Context) ([]*Delivery, error)
	PendingDelivery(ctx context.Context, id string) (*Delivery, error)
	ReleaseAttempt(ctx context.Context, deliveryID string, n int) error
	ClaimAttempt(ctx context.Context, deliveryID string, n int, owner string, leaseUntil time.Time) (bool, error)
	AttemptLease(ctx context.Context, deliveryID string, n int) (time.Time, error)
	RecordAttempt(ctx context.Context, deliveryID string, a Attempt, next time.Time) error
	FinishDelivery(ctx context.Context, d *Delivery) error
	Deliveries(ctx context.Context, webhookID string, limit int) ([]*Delivery, error)

	ArticleByID(ctx context.Context, id string) (*news.Article, error)
}

// Hooks is what admins manage webhooks through.
type Hooks struct {
	store Store
	guard *guard
	now   func() time.Time
}

// Create registers a webhook and returns it with its signing secret, which
// is in this answer and nowhere else a client can reach.
func (h *Hooks) Create(ctx context.Context, rawURL string, events []Event) (*Webhook, string, error) {
	u, err := h.guard.checkURL(ctx, rawURL)
	if err != nil {
		return nil, "", err
	}
	if len(events) == 0 {
		return nil, "", news.BadInput("events", "name at least one event")
	}
	seen := map[Event]bool{}
	var evs []Event
	for _, e := range events {
		if !e.valid() {
			return nil, "", news.BadInput("events", "unknown event")
		}
		if !seen[e] {
			seen[e] = true
			evs = append(evs, e)
		}
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, "", err
	}
	w := &Webhook{ID: newID("wh_"), URL: u, Events: evs,
		Secret: SecretPrefix + base64.StdEncoding.EncodeToString(key[:]), CreatedAt: h.now().UTC()}
	if err := h.store.InsertWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	return w, w.Secret, nil
}

// List is every webhook, oldest first.
func (h *Hooks) List(ctx context.Context) ([]*Webhook, error) { return h.store.Webhooks(ctx) }

// Delete removes a webhook; its pending deliveries are dropped when next
// due.
func (h *Hooks) Delete(ctx context.Context, id string) error {
	if err := h.store.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	return nil
}

// MaxDeliveries bounds one page of webhookDeliveries.
const MaxDeliveries = 100

// Deliveries are a webhook's latest deliveries, newest first: pending ones
// with their next attempt, finished ones with how they ended.
func (h *Hooks) Deliveries(ctx context.Context, webhookID string, first *int) ([]*Delivery, error) {
	n := 20
	if first != nil {
		n = *first
	}
	if n < 1 || n > MaxDeliveries {
		return nil, news.BadInput("first", "must be between 1 and %d", MaxDeliveries)
	}
	if _, err := h.store.WebhookByID(ctx, webhookID); err != nil {
		return nil, err
	}
	return h.store.Deliveries(ctx, webhookID, n)
}

func newID(prefix string) string {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	return prefix + base64.RawURLEncoding.EncodeToString(raw[:])
}

// errPrivateAddress is refused at creation and at every dial.
var errPrivateAddress = errors.New("address is private, loopback or link-local")

// guard decides which receivers may be reached.
type guard struct{ allowPrivate bool }

// checkURL accepts an absolute http(s) URL whose host resolves to public
// addresses only, and returns it cleaned.
func (g *guard) checkURL(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", news.BadInput("url", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return "", news.BadInput("url", "must not carry credentials")
	}
	if len(raw) > 2000 {
		return "", news.BadInput("url", "must be at most 2000 characters")
	}
	u.Fragment = ""
	if g.allowPrivate {
		return u.String(), nil
	}
	ips := []net.IP{net.ParseIP(u.Hostname())}
	if ips[0] == nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, u.Hostname())
		if err != nil || len(addrs) == 0 {
			return "", news.BadInput("url", "its host does not resolve")
		}
		ips = ips[:0]
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if !public(ip) {
			return "", news.BadInput("url", "points at a private, loopback or link-local address; webhooks go to public receivers")
		}
	}
	return u.String(), nil
}

// sharedAddressSpace is carrier-grade NAT (RFC 6598), private in practice.
var sharedAddressSpace = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

// public reports whether ip is an address on the internet at large.
func public(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		sharedAddressSpace.Contains(ip) || ip.To4() != nil && ip.To4()[0] == 0)
}
