package live

import (
	"context"
	"sync"
	"time"
)

// Shared execution: subscribers asking the same thing (same document,
// variables and role) form a group. Each event is executed once per group
// and the group's result, the same bytes, goes to every member. When a big
// story breaks, 50,000 open pages cost one execution, not 50,000.

// Event is one write as a group's execution sees it: a subscription
// resolved under Event.Into's context streams that event alone (when it
// wants it) and ends.
type Event struct {
	e   event
	now time.Time
}

type eventKey struct{}

// Into is ctx carrying the event.
func (e *Event) Into(ctx context.Context) context.Context {
	return context.WithValue(ctx, eventKey{}, e)
}

// Probe is ctx under which a subscription streams nothing and ends at once:
// a transport resolves an operation under it to learn, before the
// operation joins a group, whether it subscribes at all or fails (an
// unknown id, a forbidden field).
func Probe(ctx context.Context) context.Context {
	return context.WithValue(ctx, eventKey{}, (*Event)(nil))
}

// Execute runs a group's operation for one event and returns the result to
// send (a GraphQL response, JSON), or nil when the event is not for it.
type Execute func(*Event) []byte

// Member is one subscriber in a group, as its transport delivers to it.
type Member interface {
	// Deliver queues the group's result for the subscriber without
	// blocking, and reports false when the subscriber has fallen too far
	// behind: the hub then takes it out of its group and calls Cut.
	Deliver(result []byte) bool
	// Cut drops a subscriber that fell behind (a websocket is closed with
	// CloseSlowConsumer).
	Cut()
	// Complete ends the subscription normally (the hub is closing).
	Complete()
}

type group struct {
	run     Execute
	mu      sync.Mutex
	members map[Member]struct{}
}

// Join adds m to the group of key (the transport's name for what it asks:
// document, variables, role), which run executes. The first member's run
// serves the group for as long as it has members. leave takes m out; it
// may be called more than once.
func (h *Hub) Join(key string, run Execute, m Member) (leave func()) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		m.Complete()
		return func() {}
	}
	g := h.groups[key]
	if g == nil {
		g = &group{run: run, members: map[Member]struct{}{}}
		h.groups[key] = g
	}
	g.mu.Lock()
	g.members[m] = struct{}{}
	g.mu.Unlock()
	h.mu.Unlock()
	return func() { h.leave(key, g, m) }
}

func (h *Hub) leave(key string, g *group, m Member) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, m)
	if len(g.members) == 0 && h.groups[key] == g {
		delete(h.groups, key)
	}
}

// deliverToGroups executes e once per group and hands the result to its
// members. A member that fell behind is cut, never waited for.
func (h *Hub) deliverToGroups(e event) {
	h.mu.Lock()
	if len(h.groups) == 0 {
		h.mu.Unlock()
		return
	}
	type entry struct {
		key string
		g   *group
	}
	groups := make([]entry, 0, len(h.groups))
	for k, g := range h.groups {
		groups = append(groups, entry{k, g})
	}
	h.mu.Unlock()
	ev := &Event{e: e, now: time.Now()}
	var slow []Member
	for _, ge := range groups {
		result := ge.g.run(ev)
		if result == nil {
			continue
		}
		ge.g.mu.Lock()
		for m := range ge.g.members {
			if !m.Deliver(result) {
				slow = append(slow, m)
			}
		}
		ge.g.mu.Unlock()
		for _, m := range slow {
			h.leave(ge.key, ge.g, m)
			h.o.Logger.Warn("live: dropped a slow subscriber", "buffer", h.o.Buffer)
			m.Cut()
		}
		slow = slow[:0]
	}
}

// Buffer is how many results a subscriber may fall behind before it is cut.
func (h *Hub) Buffer() int { return h.o.Buffer }
