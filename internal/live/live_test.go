package live_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	published = `subscription($s: String) { articlePublished(section: $s) { id headline status version } }`
	updated   = `subscription($id: ID!) { articleUpdated(id: $id) { id headline status version } }`
	wait      = 10 * time.Second
	quiet     = 300 * time.Millisecond
)

type story struct {
	ID, Headline, Status string
	Version              int
}

// newsroom is an editor's key on a service and the writes the tests make.
type newsroom struct {
	*testenv.Service
	editor string
}

func newNewsroom(t *testing.T, svc *testenv.Service) *newsroom {
	return &newsroom{Service: svc, editor: svc.NewKey(t, news.RoleEditor)}
}

func (n *newsroom) write(t *testing.T, doc string, vars map[string]any) story {
	t.Helper()
	var out map[string]story
	n.Query(t, doc, vars, "Authorization", n.editor).Decode(t, &out)
	for _, s := range out {
		return s
	}
	t.Fatal("no article in the answer")
	return story{}
}

func (n *newsroom) create(t *testing.T, headline string) story {
	return n.write(t, `mutation($in: ArticleInput!) { createArticle(input: $in) { id headline status version } }`,
		map[string]any{"in": map[string]any{"headline": headline, "body": "Text."}})
}

func (n *newsroom) update(t *testing.T, s story, headline string) story {
	return n.write(t, `mutation($id: ID!, $v: Int!, $in: ArticleInput!) { updateArticle(id: $id, expectedVersion: $v, input: $in) { id headline status version } }`,
		map[string]any{"id": s.ID, "v": s.Version, "in": map[string]any{"headline": headline}})
}

func (n *newsroom) publish(t *testing.T, s story, at *time.Time) story {
	vars := map[string]any{"id": s.ID}
	if at != nil {
		vars["at"] = at.UTC().Format(time.RFC3339Nano)
	}
	return n.write(t, `mutation($id: ID!, $at: Time) { publishArticle(id: $id, at: $at) { id headline status version } }`, vars)
}

func dial(t *testing.T, svc *testenv.Service, key string) *testenv.LiveClient {
	t.Helper()
	var payload map[string]any
	if key != "" {
		payload = map[string]any{"Authorization": key}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := svc.DialLive(ctx, payload, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// next is the story in the next message, failing unless it is one.
func next(t *testing.T, who string, from func(time.Duration) (testenv.LiveMessage, bool)) story {
	t.Helper()
	m, ok := from(wait)
	if !ok || m.Type != "next" {
		t.Fatalf("%s: want a story, got %q %s (ok=%v)", who, m.Type, m.Payload, ok)
	}
	var r struct {
		Data   map[string]story
		Errors []any
	}
	if err := json.Unmarshal(m.Payload, &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %s", who, m.Payload)
	}
	for _, s := range r.Data {
		return s
	}
	t.Fatalf("%s: no data in %s", who, m.Payload)
	return story{}
}

// A story published through one instance reaches subscribers of another,
// over websocket and over SSE; a draft never reaches articlePublished.
func TestPublishOnOneInstanceReachesAnother(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := newNewsroom(t, testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix}))
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})

	ws := dial(t, b, "")
	ws.Subscribe(t, "1", published, nil)
	sse, status := b.Stream(t, published, nil)
	if status != http.StatusOK {
		t.Fatalf("event stream: status %d", status)
	}
	time.Sleep(quiet) // both subscriptions registered before the write

	draft := a.create(t, "Council approves the river crossing")
	if m, ok := ws.Next(quiet); ok {
		t.Fatalf("a draft reached articlePublished: %s", m.Payload)
	}
	live := a.publish(t, draft, nil)
	if s := next(t, "websocket", ws.Next); s.ID != live.ID || s.Status != "PUBLISHED" || s.Version != live.Version {
		t.Fatalf("websocket got %+v, want %+v", s, live)
	}
	if s := next(t, "sse", sse.Next); s.ID != live.ID || s.Headline != "Council approves the river crossing" {
		t.Fatalf("sse got %+v", s)
	}
	// An edit to a live story is an update, not a new publication.
	a.update(t, live, "Council approves the river crossing, 7-2")
	if m, ok := ws.Next(quiet); ok {
		t.Fatalf("an edit reached articlePublished: %s", m.Payload)
	}
}

// Editors follow a draft's every change; readers and partners hear of the
// story only once it is live.
func TestDraftUpdatesReachOnlyEditors(t *testing.T) {
	n := newNewsroom(t, testenv.NewService(t, testenv.ServiceOptions{}))
	draft := n.create(t, "Budget leak")
	editor := dial(t, n.Service, n.editor)
	reader := dial(t, n.Service, "")
	partner := dial(t, n.Service, n.NewKey(t, news.RolePartner))
	for _, c := range []*testenv.LiveClient{editor, reader, partner} {
		c.Subscribe(t, "u", updated, map[string]any{"id": draft.ID})
	}
	sse, _ := n.Stream(t, updated, map[string]any{"id": draft.ID}) // a reader too
	time.Sleep(quiet)

	draft = n.update(t, draft, "Budget leak: the figures")
	if s := next(t, "editor", editor.Next); s.Version != draft.Version || s.Status != "DRAFT" {
		t.Fatalf("editor got %+v", s)
	}
	live := n.publish(t, draft, nil)
	if s := next(t, "editor", editor.Next); s.Version != live.Version {
		t.Fatalf("editor got %+v", s)
	}
	// The first thing a reader hears is the story going live: nothing of
	// the draft came before it.
	for who, m := range map[string]func(time.Duration) (testenv.LiveMessage, bool){
		"reader": reader.Next, "partner": partner.Next, "sse reader": sse.Next} {
		if s := next(t, who, m); s.Version != live.Version || s.Status != "PUBLISHED" {
			t.Fatalf("%s first heard %+v, want the published version %d", who, s, live.Version)
		}
	}
}

// A key is checked at connection_init, as HTTP checks it: an unknown key is
// refused with 4403, never served as a reader.
func TestBadKeyRefusedAtInit(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	for name, payload := range map[string]map[string]any{
		"payload":   {"Authorization": "Bearer ng_not-a-key-at-all"},
		"headers":   {"headers": map[string]any{"Authorization": "Bearer ng_not-a-key-at-all"}},
		"malformed": {"Authorization": "Basic Zm9vOmJhcg=="},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		_, err := svc.DialLive(ctx, payload, nil)
		cancel()
		if got := websocket.CloseStatus(err); got != 4403 {
			t.Errorf("%s: closed with %d (%v), want 4403", name, got, err)
		}
	}
	// A bad key on the upgrade request itself is refused the same way.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := svc.DialLive(ctx, nil, http.Header{"Authorization": {"Bearer ng_not-a-key-at-all"}})
	if got := websocket.CloseStatus(err); got != 4403 {
		t.Errorf("upgrade header: closed with %d (%v), want 4403", got, err)
	}
	// Over SSE the key is the request's header, refused before anything runs.
	if _, status := svc.Stream(t, published, nil, "Authorization", "Bearer ng_not-a-key-at-all"); status != http.StatusUnauthorized {
		t.Errorf("event stream with a bad key: %d, want 401", status)
	}
	// A good key in the payload does not redeem a bad one on the upgrade.
	_, err = svc.DialLive(ctx, map[string]any{"Authorization": svc.NewKey(t, news.RoleEditor)},
		http.Header{"Authorization": {"Bearer ng_not-a-key-at-all"}})
	if got := websocket.CloseStatus(err); got != 4403 {
		t.Errorf("bad upgrade header, good payload: closed with %d (%v), want 4403", got, err)
	}
	// A page from another site may not open a connection.
	_, _, err = websocket.Dial(ctx, "ws"+strings.TrimPrefix(svc.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil {
		t.Error("a foreign origin opened a websocket")
	}
	// PUBLIC_BASE_URL's site may.
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(svc.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Origin": {"https://news.example.test"}}})
	if err != nil {
		t.Fatalf("the newsroom's own site: %v", err)
	}
	c.CloseNow()
}

// One key holds at most ConnectionsPerKey live connections, websocket and
// SSE together; a closed one frees its slot.
func TestConnectionLimitPerKey(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Live: live.Options{ConnectionsPerKey: 2}})
	key := svc.NewKey(t, news.RolePartner)
	first := dial(t, svc, key)
	if _, status := svc.Stream(t, published, nil, "Authorization", key); status != http.StatusOK {
		t.Fatalf("second connection (sse): %d", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := svc.DialLive(ctx, map[string]any{"Authorization": key}, nil)
	if got := websocket.CloseStatus(err); got != 4429 {
		t.Fatalf("third connection closed with %d (%v), want 4429", got, err)
	}
	if _, status := svc.Stream(t, published, nil, "Authorization", key); status != http.StatusTooManyRequests {
		t.Fatalf("third connection (sse): %d, want 429", status)
	}
	// Another key, and readers (counted by address), are not affected.
	dial(t, svc, svc.NewKey(t, news.RolePartner))
	dial(t, svc, "")

	first.Close()
	deadline := time.Now().Add(wait)
	for {
		c, err := svc.DialLive(ctx, map[string]any{"Authorization": key}, nil)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not freed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A subscriber that stops reading is dropped with 4008 once its buffer is
// full, instead of the server buffering for it without bound.
func TestSlowConsumerDropped(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Live: live.Options{Buffer: 2}})
	c := dial(t, svc, "")
	a := testenv.NewArticle("slow-story", time.Now().Add(-time.Hour))
	a.Body = strings.Repeat("A long paragraph of the live blog. ", 6000) // ~200 KB
	c.Subscribe(t, "1", `subscription($id: ID!) { articleUpdated(id: $id) { body } }`,
		map[string]any{"id": news.GlobalID(news.NodeArticle, a.ID)})
	time.Sleep(quiet)
	// The client's reader stops taking messages once its own queue is full,
	// so the socket, then the server's writer, then the buffer fill up.
	ctx := context.Background()
	for i := 0; i < 5000 && svc.Live.Subscribers() > 0; i++ {
		a.Version++
		svc.Live.ArticleChanged(ctx, nil, a)
		time.Sleep(time.Millisecond)
	}
	// The fan-out runs off the writers' path, so the cut may come after
	// the last event was handed over.
	for deadline := time.Now().Add(4 * wait); svc.Live.Subscribers() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the slow subscriber is still there (%d)", svc.Live.Subscribers())
		}
	}
	if code := c.Closed(wait); code != live.CloseSlowConsumer {
		t.Fatalf("closed with %d, want %d", code, live.CloseSlowConsumer)
	}
}

// A story scheduled for later is announced at its moment, once, to
// subscribers of every instance, though every instance runs the timer.
func TestScheduledStoryPublishedAtItsMoment(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := newNewsroom(t, testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix}))
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
	onA, onB := dial(t, a.Service, ""), dial(t, b, "")
	onA.Subscribe(t, "1", published, nil)
	onB.Subscribe(t, "1", published, nil)
	time.Sleep(quiet)

	at := time.Now().Add(1500 * time.Millisecond).UTC().Truncate(time.Millisecond)
	s := a.publish(t, a.create(t, "Polls close"), &at)
	if s.Status != "SCHEDULED" {
		t.Fatalf("not scheduled: %+v", s)
	}
	for who, c := range map[string]*testenv.LiveClient{"A": onA, "B": onB} {
		got := next(t, who, c.Next)
		if time.Now().Before(at) {
			t.Fatalf("%s heard of the story before its moment", who)
		}
		if got.ID != s.ID || got.Status != "PUBLISHED" {
			t.Fatalf("%s got %+v", who, got)
		}
		if m, ok := c.Next(time.Second); ok {
			t.Fatalf("%s heard it twice: %s", who, m.Payload)
		}
	}
}

// Shutting down completes every subscription and closes each websocket
// with 1001 (going away), so clients reconnect elsewhere.
func TestShutdownClosesSubscriptions(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	c := dial(t, svc, "")
	c.Subscribe(t, "1", published, nil)
	sse, _ := svc.Stream(t, published, nil)
	time.Sleep(quiet)
	svc.Live.Close()
	if m, ok := c.Next(wait); !ok || m.Type != "complete" {
		t.Fatalf("want complete, got %q (ok=%v)", m.Type, ok)
	}
	if code := c.Closed(wait); code != websocket.StatusGoingAway {
		t.Fatalf("closed with %d, want 1001", code)
	}
	if m, ok := sse.Next(wait); !ok || m.Type != "complete" {
		t.Fatalf("sse: want complete, got %q (ok=%v)", m.Type, ok)
	}
}

// A story that falls due while no instance runs is announced when the
// deployment starts again: once to each subscriber, though two instances
// start together.
func TestStoryDueWhileNoInstanceRanIsAnnouncedAtStart(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	const catchUp = 2 * time.Second // long enough to subscribe first
	a := newNewsroom(t, testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix}))
	at := time.Now().Add(1500 * time.Millisecond).UTC().Truncate(time.Millisecond)
	s := a.publish(t, a.create(t, "Ferry timetable changes overnight"), &at)
	if s.Status != "SCHEDULED" {
		t.Fatalf("not scheduled: %+v", s)
	}
	a.Stop() // the whole deployment is down when the story falls due
	time.Sleep(time.Until(at) + 500*time.Millisecond)

	opts := testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store, Live: live.Options{CatchUpAfter: catchUp}}
	b, c := testenv.NewService(t, opts), testenv.NewService(t, opts)
	onB, onC := dial(t, b, ""), dial(t, c, "")
	onB.Subscribe(t, "1", published, nil)
	onC.Subscribe(t, "1", published, nil)
	for who, cl := range map[string]*testenv.LiveClient{"B": onB, "C": onC} {
		got := next(t, who, cl.Next)
		if got.ID != s.ID || got.Status != "PUBLISHED" {
			t.Fatalf("%s got %+v", who, got)
		}
		if m, ok := cl.Next(time.Second); ok {
			t.Fatalf("%s heard it twice: %s", who, m.Payload)
		}
	}
}

// A write made while a request is being answered goes out to subscribers
// once the answer is out (AnswerFirst's release), not before: an editor's
// publish does not share the cores with its own fan-out. A later write
// that is not held does not overtake it.
func TestFanOutWaitsForTheAnswer(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	c := dial(t, svc, "")
	c.Subscribe(t, "1", published, nil)
	joined(t, svc, 1)

	ctx, release := live.AnswerFirst(context.Background())
	a := testenv.NewArticle("answer-first", time.Now().Add(-time.Hour))
	svc.Live.ArticleChanged(ctx, nil, a)
	after := testenv.NewArticle("answer-first-after", time.Now().Add(-time.Hour))
	svc.Live.ArticleChanged(context.Background(), nil, after)
	if m, ok := c.Next(quiet); ok {
		t.Fatalf("heard before the answer was out: %s", m.Payload)
	}
	release()
	for _, want := range []*news.Article{a, after} {
		if s := next(t, "websocket", c.Next); s.ID != news.GlobalID(news.NodeArticle, want.ID) {
			t.Fatalf("heard %+v, want %s", s, want.ID)
		}
	}
	// After the release, a write under the same context goes out at once.
	b := testenv.NewArticle("answer-first-later", time.Now().Add(-time.Hour))
	svc.Live.ArticleChanged(ctx, nil, b)
	if s := next(t, "websocket", c.Next); s.ID != news.GlobalID(news.NodeArticle, b.ID) {
		t.Fatalf("heard %+v, want %s", s, b.ID)
	}
}
