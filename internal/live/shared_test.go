package live_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// fields is the set of field names of the one article in a next message.
func fields(t *testing.T, who string, c *testenv.LiveClient) (map[string]any, []string) {
	t.Helper()
	m, ok := c.Next(wait)
	if !ok || m.Type != "next" {
		t.Fatalf("%s: want a story, got %q %s (ok=%v)", who, m.Type, m.Payload, ok)
	}
	var r struct{ Data map[string]map[string]any }
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		t.Fatalf("%s: %s", who, m.Payload)
	}
	for _, a := range r.Data {
		var names []string
		for k := range a {
			names = append(names, k)
		}
		slices.Sort(names)
		return a, names
	}
	t.Fatalf("%s: no data in %s", who, m.Payload)
	return nil, nil
}

// Subscribers sharing a document share its execution, yet each gets exactly
// its own selection, under its own operation id, and its role's view: an
// editor's draft never reaches a reader asking the very same thing.
func TestSharedExecutionKeepsEachSelectionAndRole(t *testing.T) {
	n := newNewsroom(t, testenv.NewService(t, testenv.ServiceOptions{}))
	draft := n.create(t, "Harbour strike")
	const short = `subscription($id: ID!) { articleUpdated(id: $id) { id headline } }`
	vars := map[string]any{"id": draft.ID}
	readers := []*testenv.LiveClient{dial(t, n.Service, ""), dial(t, n.Service, "")}
	for i, c := range readers {
		c.Subscribe(t, "r"+string(rune('a'+i)), short, vars)
	}
	own := dial(t, n.Service, "")
	own.Subscribe(t, "own", updated, vars) // a wider selection of its own
	editor := dial(t, n.Service, n.editor)
	editor.Subscribe(t, "e", short, vars) // the readers' document, an editor's role
	joined(t, n.Service, 4)

	draft = n.update(t, draft, "Harbour strike: talks fail")
	if a, names := fields(t, "editor", editor); !slices.Equal(names, []string{"headline", "id"}) || a["headline"] != "Harbour strike: talks fail" {
		t.Fatalf("editor got %v", a)
	}
	for _, c := range append(readers, own) {
		if m, ok := c.Next(quiet); ok {
			t.Fatalf("a reader heard of a draft: %s", m.Payload)
		}
	}
	n.publish(t, draft, nil)
	for i, c := range readers {
		m, ok := c.Next(wait)
		if !ok || m.ID != "r"+string(rune('a'+i)) {
			t.Fatalf("reader %d: message %+v (ok=%v), want its own operation id", i, m, ok)
		}
		var r struct {
			Data struct{ ArticleUpdated map[string]any }
		}
		_ = json.Unmarshal(m.Payload, &r)
		if len(r.Data.ArticleUpdated) != 2 || r.Data.ArticleUpdated["headline"] != "Harbour strike: talks fail" {
			t.Fatalf("reader %d got %s", i, m.Payload)
		}
	}
	if a, names := fields(t, "own selection", own); !slices.Equal(names, []string{"headline", "id", "status", "version"}) || a["status"] != "PUBLISHED" {
		t.Fatalf("own selection got %v", a)
	}
	if _, names := fields(t, "editor", editor); !slices.Equal(names, []string{"headline", "id"}) {
		t.Fatalf("editor got %v", names)
	}
}

// A subscriber that stops reading is cut without holding up the others in
// its group: they hear every event while it falls behind.
func TestSlowConsumerDoesNotDelayOthers(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{Live: live.Options{Buffer: 16}})
	a := testenv.NewArticle("live-blog", time.Now().Add(-time.Hour))
	a.Body = strings.Repeat("A long paragraph of the live blog. ", 6000) // ~200 KB
	doc := `subscription($id: ID!) { articleUpdated(id: $id) { version body } }`
	vars := map[string]any{"id": news.GlobalID(news.NodeArticle, a.ID)}
	slow := dial(t, svc, "")
	slow.Subscribe(t, "1", doc, vars)
	fast := dial(t, svc, "")
	fast.Subscribe(t, "1", doc, vars)
	joined(t, svc, 2)

	// The fast one reads each event before the next is sent (so it keeps
	// up however slow the machine); the slow one's client stops taking
	// messages once its own queue (64) is full.
	ctx := context.Background()
	const most = 3000
	start := a.Version
	for sent := 1; sent <= most && svc.Live.Subscribers() > 1; sent++ {
		e := *a // each write is its own story value, as the store's are
		e.Version = start + sent
		svc.Live.ArticleChanged(ctx, nil, &e)
		m, ok := fast.Next(wait)
		var r struct {
			Data struct{ ArticleUpdated struct{ Version int } }
		}
		if ok {
			_ = json.Unmarshal(m.Payload, &r)
		}
		if !ok || r.Data.ArticleUpdated.Version != e.Version {
			t.Fatalf("the fast subscriber got version %d (ok=%v), want %d", r.Data.ArticleUpdated.Version, ok, e.Version)
		}
	}
	if code := slow.Closed(wait); code != live.CloseSlowConsumer {
		t.Fatalf("the slow subscriber was closed with %d, want %d", code, live.CloseSlowConsumer)
	}
	if n := svc.Live.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers left, want the fast one", n)
	}
}

// joined waits until n subscriptions are open, so none misses the first event.
func joined(t *testing.T, svc *testenv.Service, n int) {
	t.Helper()
	for deadline := time.Now().Add(wait); svc.Live.Subscribers() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions open, want %d", svc.Live.Subscribers(), n)
		}
	}
}
