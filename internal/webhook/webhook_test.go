package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// specSignature is the Standard Webhooks signature computed as the spec
// words it, independently of any library: base64 of HMAC-SHA256, keyed with
// the base64-decoded secret after "whsec_", over "id.timestamp.body".
func specSignature(t *testing.T, secret, id, timestamp string, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("secret %q is not whsec_<base64>: %v", secret, err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// The spec's published test vector.
func TestSpecSignatureMatchesThePublishedVector(t *testing.T) {
	got := specSignature(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		[]byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// delivery is one request a receiver got.
type delivery struct {
	ID, Timestamp, Signature string
	Body                     []byte
	At                       time.Time
}

// receiver is a fake website: it records every request and answers 503
// while failing says so for that webhook-id.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []delivery
	failures func(id string, seen int) bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{failures: func(string, int) bool { return false }}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
			Signature: req.Header.Get("webhook-signature"), Body: body, At: time.Now()}
		r.mu.Lock()
		seen := 0
		for _, g := range r.got {
			if g.ID == d.ID {
				seen++
			}
		}
		r.got = append(r.got, d)
		fail := r.failures(d.ID, seen)
		r.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) all() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func (r *receiver) setFailures(f func(id string, seen int) bool) {
	r.mu.Lock()
	r.failures = f
	r.mu.Unlock()
}

// waitFor polls until ok or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type newsroom struct {
	*testenv.Service
	admin, editor string
}

func newNewsroom(t *testing.T, o testenv.ServiceOptions) *newsroom {
	t.Helper()
	svc := testenv.NewService(t, o)
	return &newsroom{Service: svc, admin: svc.NewKey(t, news.RoleAdmin), editor: svc.NewKey(t, news.RoleEditor)}
}

func fastRetries(o webhook.Options) webhook.Options {
	o.AllowPrivate, o.RetryBase = true, 50*time.Millisecond
	return o
}

func (n *newsroom) createWebhook(t *testing.T, url string, events ...string) (id, secret string) {
	t.Helper()
	var out struct {
		CreateWebhook struct {
			Secret  string
			Webhook struct{ ID, URL string }
		}
	}
	n.Query(t, `mutation($url: String!, $events: [WebhookEvent!]!) {
	  createWebhook(url: $url, events: $events) { secret webhook { id url } } }`,
		map[string]any{"url": url, "events": events}, "Authorization", n.admin).Decode(t, &out)
	return out.CreateWebhook.Webhook.ID, out.CreateWebhook.Secret
}

// write runs an editor's mutation on an article and returns its ID.
func (n *newsroom) write(t *testing.T, field, args string, vars map[string]any) string {
	t.Helper()
	var decls []string
	for name, typ := range map[string]string{"id": "ID!", "at": "Time", "in": "ArticleInput!"} {
		if _, ok := vars[name]; ok {
			decls = append(decls, "$"+name+": "+typ)
		}
	}
	var out map[string]struct{ ID string }
	n.Query(t, `mutation(`+strings.Join(decls, ", ")+`) { `+field+`(`+args+`) { id } }`, vars,
		"Authorization", n.editor).Decode(t, &out)
	return out[field].ID
}

func (n *newsroom) draft(t *testing.T, headline string) string {
	t.Helper()
	var out struct{ CreateArticle struct{ ID string } }
	n.Query(t, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"headline": headline, "body": "Body."}}, "Authorization", n.editor).Decode(t, &out)
	return out.CreateArticle.ID
}

func (n *newsroom) publish(t *testing.T, id string) {
	t.Helper()
	n.write(t, "publishArticle", "id: $id", map[string]any{"id": id})
}

type payload struct {
	Type      string
	Timestamp time.Time
	Data      struct {
		ID, Slug, CanonicalURL string
		Version                int
	}
}

func decode(t *testing.T, d delivery) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal(d.Body, &p); err != nil {
		t.Fatalf("body %s: %v", d.Body, err)
	}
	return p
}

// Every event type reaches a subscribed receiver, signed per the spec, with
// the documented body; a scheduled story is announced at its moment.
func TestEveryEventIsDeliveredSigned(t *testing.T) {
	rcv := newReceiver(t)
	n := newNewsroom(t, testenv.ServiceOptions{Webhooks: fastRetries(webhook.Options{})})
	_, secret := n.createWebhook(t, rcv.URL+"/hooks/newsgraph",
		"ARTICLE_PUBLISHED", "ARTICLE_UPDATED", "ARTICLE_UNPUBLISHED", "ARTICLE_DELETED")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}

	id := n.draft(t, "Council votes on the bridge")
	n.write(t, "updateArticle", "id: $id, expectedVersion: 1, input: $in",
		map[string]any{"id": id, "in": map[string]any{"dek": "A draft edit concerns no website."}})
	// expect runs a write and checks the one delivery it makes.
	expect := func(typ string, version int, write func()) {
		t.Helper()
		count := len(rcv.all())
		start := time.Now()
		write()
		waitFor(t, 10*time.Second, typ, func() bool { return len(rcv.all()) > count })
		got := rcv.all()[count]
		t.Logf("%s delivered %v after the mutation was sent", typ, got.At.Sub(start).Round(time.Millisecond))
		p := decode(t, got)
		if p.Type != typ || p.Data.ID != id || p.Data.Slug != "council-votes-on-the-bridge" || p.Data.Version != version ||
			p.Data.CanonicalURL != "https://news.example.test/council-votes-on-the-bridge" || p.Timestamp.IsZero() {
			t.Errorf("payload %s", got.Body)
		}
		if want := specSignature(t, secret, got.ID, got.Timestamp, got.Body); got.Signature != want {
			t.Errorf("signature %q, want %q", got.Signature, want)
		}
		wh, _ := standardwebhooks.NewWebhook(secret)
		h := http.Header{}
		h.Set("webhook-id", got.ID)
		h.Set("webhook-timestamp", got.Timestamp)
		h.Set("webhook-signature", got.Signature)
		if err := wh.Verify(got.Body, h); err != nil {
			t.Errorf("the Standard Webhooks library refuses the delivery: %v", err)
		}
	}
	expect("article.published", 3, func() { n.publish(t, id) })
	expect("article.updated", 4, func() {
		n.write(t, "updateArticle", "id: $id, expectedVersion: 3, input: $in",
			map[string]any{"id": id, "in": map[string]any{"dek": "Now live."}})
	})
	expect("article.unpublished", 5, func() { n.write(t, "unpublishArticle", "id: $id", map[string]any{"id": id}) })
	expect("article.published", 6, func() { n.publish(t, id) })
	expect("article.deleted", 6, func() {
		var del map[string]string
		n.Query(t, `mutation($id: ID!) { deleteArticle(id: $id) }`, map[string]any{"id": id}, "Authorization", n.editor).Decode(t, &del)
	})

	// Scheduled: nothing when scheduled, article.published at its moment.
	id = n.draft(t, "Council votes on the bridge")
	at := time.Now().Add(1500 * time.Millisecond).UTC().Truncate(time.Millisecond)
	n.write(t, "publishArticle", "id: $id, at: $at", map[string]any{"id": id, "at": at.Format(time.RFC3339Nano)})
	count := len(rcv.all())
	waitFor(t, 10*time.Second, "the scheduled story's announcement", func() bool { return len(rcv.all()) > count })
	got := rcv.all()[count]
	if p := decode(t, got); p.Type != "article.published" || p.Data.ID != id || got.At.Before(at) {
		t.Errorf("scheduled story announced at %v (due %v): %s", got.At, at, got.Body)
	}
	time.Sleep(300 * time.Millisecond)
	if all := rcv.all(); len(all) != count+1 {
		t.Errorf("%d deliveries after the scheduled one, want none", len(all)-count-1)
	}
	seen := map[string]bool{}
	for _, d := range rcv.all() {
		if seen[d.ID] {
			t.Errorf("webhook-id %s delivered twice without a failure", d.ID)
		}
		seen[d.ID] = true
	}
}

type deliveryJSON struct {
	ID, Event, Status, LastError string
	AttemptCount                 int
	LastStatusCode               *int
	NextAttemptAt                *time.Time
	Attempts                     []struct {
		Number     int
		StatusCode *int
		Error      *string
	}
}

func (n *newsroom) deliveries(t *testing.T, webhookID string) []deliveryJSON {
	t.Helper()
	var out struct{ WebhookDeliveries []deliveryJSON }
	n.Query(t, `query($id: ID!) { webhookDeliveries(webhookId: $id, first: 10) {
	  id event status attemptCount lastStatusCode lastError nextAttemptAt attempts { number statusCode error } } }`,
		map[string]any{"id": webhookID}, "Authorization", n.admin).Decode(t, &out)
	return out.WebhookDeliveries
}

// A receiver down for its first attempts gets the event once it is back,
// with the same webhook-id every time; the admin sees each attempt.
func TestReceiverOutageLosesNothing(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setFailures(func(_ string, seen int) bool { return seen < 5 })
	n := newNewsroom(t, testenv.ServiceOptions{Webhooks: fastRetries(webhook.Options{})})
	hook, _ := n.createWebhook(t, rcv.URL, "ARTICLE_PUBLISHED")
	n.publish(t, n.draft(t, "Flood wall holds"))
	waitFor(t, 30*time.Second, "the sixth attempt", func() bool { return len(rcv.all()) == 6 })
	all := rcv.all()
	for _, d := range all[1:] {
		if d.ID != all[0].ID || string(d.Body) != string(all[0].Body) {
			t.Fatalf("a retry changed the webhook-id or body: %s %s vs %s %s", d.ID, d.Body, all[0].ID, all[0].Body)
		}
	}
	for i := 2; i < len(all); i++ {
		if gap, prev := all[i].At.Sub(all[i-1].At), all[i-1].At.Sub(all[i-2].At); gap < prev/2 {
			t.Errorf("retry %d came %v after the last, the one before %v: no backoff", i, gap, prev)
		}
	}
	var ds []deliveryJSON
	waitFor(t, 5*time.Second, "the delivery recorded as delivered", func() bool {
		ds = n.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == "DELIVERED"
	})
	d := ds[0]
	if d.ID != all[0].ID || d.Event != "ARTICLE_PUBLISHED" || d.AttemptCount != 6 || len(d.Attempts) != 6 ||
		d.NextAttemptAt != nil || d.LastError != "" || d.LastStatusCode == nil || *d.LastStatusCode != 204 {
		t.Fatalf("delivery record %+v", d)
	}
	if a := d.Attempts[0]; a.StatusCode == nil || *a.StatusCode != 503 || a.Error == nil || *a.Error != "the receiver answered 503" {
		t.Errorf("first attempt %+v", a)
	}
}

// Two instances share the outbox: every attempt is made by one of them
// only, so a receiver that fails twice sees each event exactly three times.
func TestTwoInstancesMakeEachAttemptOnce(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setFailures(func(_ string, seen int) bool { return seen < 2 })
	shared := testenv.Store(t, store.Options{})
	o := testenv.ServiceOptions{Store: shared, Webhooks: fastRetries(webhook.Options{Poll: 20 * time.Millisecond})}
	a, b := newNewsroom(t, o), newNewsroom(t, o)
	a.createWebhook(t, rcv.URL, "ARTICLE_PUBLISHED")
	const stories = 6
	for i := 0; i < stories; i++ {
		n := a
		if i%2 == 1 {
			n = b
		}
		n.publish(t, n.draft(t, fmt.Sprintf("Story %d", i)))
	}
	waitFor(t, 30*time.Second, "three attempts per story", func() bool { return len(rcv.all()) >= 3*stories })
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	per := map[string]int{}
	for _, d := range rcv.all() {
		per[d.ID]++
	}
	if len(per) != stories {
		t.Fatalf("%d distinct webhook-ids, want %d", len(per), stories)
	}
	for id, c := range per {
		if c != 3 {
			t.Errorf("%s attempted %d times, want 3 (two failures, one success)", id, c)
		}
	}
}

// An instance that stops while a delivery waits for its retry leaves it in
// the outbox; the next instance delivers it, same webhook-id.
func TestRestartMidRetryResumes(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setFailures(func(string, int) bool { return true })
	shared := testenv.Store(t, store.Options{})
	o := testenv.ServiceOptions{Store: shared, Webhooks: fastRetries(webhook.Options{
		RetryBase: 200 * time.Millisecond, Poll: 50 * time.Millisecond})}
	t.Run("first instance", func(t *testing.T) {
		n := newNewsroom(t, o)
		n.createWebhook(t, rcv.URL, "ARTICLE_PUBLISHED")
		n.publish(t, n.draft(t, "Ferry strike ends"))
		waitFor(t, 10*time.Second, "two failed attempts", func() bool { return len(rcv.all()) >= 2 })
	}) // the instance stops here
	failed := rcv.all()
	rcv.setFailures(func(string, int) bool { return false })
	time.Sleep(time.Second)
	if got := len(rcv.all()); got != len(failed) {
		t.Fatalf("%d attempts with no instance running", got-len(failed))
	}
	newNewsroom(t, o)
	waitFor(t, 10*time.Second, "the delivery after the restart", func() bool { return len(rcv.all()) > len(failed) })
	got := rcv.all()[len(failed)]
	if got.ID != failed[0].ID || string(got.Body) != string(failed[0].Body) {
		t.Fatalf("after the restart: %s %s, before: %s %s", got.ID, got.Body, failed[0].ID, failed[0].Body)
	}
}

// An instance that stops in the middle of an attempt leaves a claim whose
// lease runs out; the attempt is then counted lost and the next one made.
func TestAttemptOfAStoppedInstanceIsTakenOverAfterItsLease(t *testing.T) {
	rcv := newReceiver(t)
	shared := testenv.Store(t, store.Options{})
	o := testenv.ServiceOptions{Store: shared, Webhooks: fastRetries(webhook.Options{
		Lease: 300 * time.Millisecond, Poll: 50 * time.Millisecond})}
	n := newNewsroom(t, o)
	hook, _ := n.createWebhook(t, rcv.URL, "ARTICLE_PUBLISHED")
	// What a stopped instance leaves: a pending delivery whose attempt 1
	// was claimed and never recorded.
	ctx := context.Background()
	body := []byte(`{"type":"article.published"}`)
	if ok, err := shared.ClaimAttempt(ctx, "msg_orphan", 1, "gone", time.Now().Add(300*time.Millisecond)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := shared.InsertDelivery(ctx, &webhook.Delivery{ID: "msg_orphan", WebhookID: hook, Event: webhook.ArticlePublished,
		Body: body, State: webhook.Pending, CreatedAt: time.Now(), NextAttemptAt: time.Now(), Attempts: []webhook.Attempt{}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the orphaned delivery", func() bool { return len(rcv.all()) == 1 })
	var ds []deliveryJSON
	waitFor(t, 5*time.Second, "its record", func() bool {
		ds = n.deliveries(t, hook)
		return len(ds) == 1 && ds[0].Status == "DELIVERED"
	})
	if ds[0].AttemptCount != 2 || ds[0].Attempts[0].Error == nil || !strings.Contains(*ds[0].Attempts[0].Error, "stopped") {
		t.Fatalf("record %+v", ds[0])
	}
}

// Receivers on private, loopback and link-local addresses are refused at
// creation, and at delivery time too (a name may resolve elsewhere later).
func TestPrivateReceiversAreRefused(t *testing.T) {
	rcv := newReceiver(t)
	n := newNewsroom(t, testenv.ServiceOptions{Webhooks: webhook.Options{RetryBase: 50 * time.Millisecond}})
	for _, url := range []string{rcv.URL, "http://localhost/hook", "http://10.1.2.3/hook", "http://192.168.0.10/",
		"http://169.254.169.254/latest/meta-data", "http://[::1]:8080/", "http://[fe80::1]/", "http://100.64.0.1/",
		"ftp://example.com/hook", "/relative", "http://user:pw@example.com/"} {
		res := n.Query(t, `mutation($url: String!) { createWebhook(url: $url, events: [ARTICLE_PUBLISHED]) { secret } }`,
			map[string]any{"url": url}, "Authorization", n.admin)
		if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["field"] != "url" {
			t.Errorf("%s: %+v", url, res.Errors)
		}
	}
	var list struct{ Webhooks []struct{ ID string } }
	n.Query(t, `{ webhooks { id } }`, nil, "Authorization", n.admin).Decode(t, &list)
	if len(list.Webhooks) != 0 {
		t.Fatalf("refused webhooks were stored: %+v", list)
	}
	// Stored behind the checks' back, as if its name had resolved to a
	// public address at creation: the dial is refused all the same.
	w := &webhook.Webhook{ID: "wh_rebound", URL: rcv.URL, Events: []webhook.Event{webhook.ArticlePublished},
		Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), CreatedAt: time.Now()}
	if err := n.Store.InsertWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	n.publish(t, n.draft(t, "Quiet night downtown"))
	waitFor(t, 10*time.Second, "a refused attempt", func() bool {
		ds := n.deliveries(t, w.ID)
		return len(ds) == 1 && ds[0].AttemptCount >= 1
	})
	if ds := n.deliveries(t, w.ID); !strings.Contains(ds[0].LastError, "private") || ds[0].LastStatusCode != nil {
		t.Errorf("record %+v", ds[0])
	}
	if got := rcv.all(); len(got) != 0 {
		t.Fatalf("the private receiver was reached %d times", len(got))
	}
}

// Webhooks are for admins only; the secret is never shown after creation.
func TestWebhooksAreForAdmins(t *testing.T) {
	n := newNewsroom(t, testenv.ServiceOptions{Webhooks: fastRetries(webhook.Options{})})
	for _, c := range []struct{ key, code string }{{n.editor, "FORBIDDEN"}, {"", "UNAUTHENTICATED"}} {
		header := []string{}
		if c.key != "" {
			header = []string{"Authorization", c.key}
		}
		for _, doc := range []string{
			`mutation { createWebhook(url: "https://example.com/hook", events: [ARTICLE_PUBLISHED]) { secret } }`,
			`{ webhooks { id } }`,
			`mutation { deleteWebhook(id: "wh_x") }`,
			`{ webhookDeliveries(webhookId: "wh_x") { id } }`,
		} {
			if res := n.Query(t, doc, nil, header...); res.Code() != c.code {
				t.Errorf("%s as %q: %+v", doc, c.code, res.Errors)
			}
		}
	}
	rcv := newReceiver(t)
	id, _ := n.createWebhook(t, rcv.URL, "ARTICLE_DELETED", "ARTICLE_DELETED")
	var list struct {
		Webhooks []struct {
			ID, URL string
			Events  []string
		}
	}
	n.Query(t, `{ webhooks { id url events } }`, nil, "Authorization", n.admin).Decode(t, &list)
	if len(list.Webhooks) != 1 || list.Webhooks[0].ID != id || len(list.Webhooks[0].Events) != 1 {
		t.Fatalf("%+v", list)
	}
	if res := n.Query(t, `{ webhooks { secret } }`, nil, "Authorization", n.admin); res.Code() == "" {
		t.Fatal("webhooks answers a secret field")
	}
	if res := n.Query(t, `{ webhookDeliveries(webhookId: "wh_nope") { id } }`, nil, "Authorization", n.admin); res.Code() != "NOT_FOUND" {
		t.Errorf("unknown webhook: %+v", res.Errors)
	}
	var del map[string]string
	n.Query(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": id}, "Authorization", n.admin).Decode(t, &del)
	if res := n.Query(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": id}, "Authorization", n.admin); res.Code() != "NOT_FOUND" {
		t.Errorf("second delete: %+v", res.Errors)
	}
}
