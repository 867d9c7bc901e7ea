package cache

import (
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// generations tell a copy made before a write from one made after it, across
// instances. Every invalidation gets a deployment-wide number (a Redis
// counter); every cached copy records the highest number its instance had
// applied when it started loading; and applying invalidation N leaves a
// tombstone N on each key and tag it names. A copy older than its key's
// tombstone is never served, wherever it was stored: this closes the window
// in which a read that raced a write on another instance puts the old copy
// back into Redis or into its own tier.
type generations struct {
	seen  atomic.Int64 // highest invalidation applied here
	floor atomic.Int64 // an invalidation of everything: copies below are void
	tombs *otter.Cache[string, int64]
}

// tombLife outlasts any load that could have started before a tombstone.
const tombLife = 10 * time.Minute

func newGenerations() *generations {
	return &generations{tombs: otter.Must(&otter.Options[string, int64]{
		MaximumSize:      200_000,
		ExpiryCalculator: otter.ExpiryWriting[string, int64](tombLife),
	})}
}

// current is the number a copy started now records.
func (g *generations) current() int64 { return g.seen.Load() }

// saw records that invalidation seq has been applied here.
func (g *generations) saw(seq int64) {
	for {
		cur := g.seen.Load()
		if seq <= cur || g.seen.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// valid reports whether a copy of name made at seq may be served.
func (g *generations) valid(name string, seq int64) bool {
	if seq < g.floor.Load() {
		return false
	}
	if seq >= g.seen.Load() {
		// Nothing was invalidated since this copy's load began (tombstones
		// never exceed the seen number): the hot path skips the lookup.
		return true
	}
	t, ok := g.tombs.GetIfPresent(name)
	return !ok || seq >= t
}

// bury leaves tombstone seq on name.
func (g *generations) bury(name string, seq int64) {
	if seq <= 0 {
		return
	}
	if cur, ok := g.tombs.GetIfPresent(name); !ok || seq > cur {
		g.tombs.Set(name, seq)
	}
}

// buryAll voids every copy made before seq.
func (g *generations) buryAll(seq int64) {
	for {
		cur := g.floor.Load()
		if seq <= cur || g.floor.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// tagName keeps tag tombstones apart from key tombstones.
func tagName(tag string) string { return "tag|" + tag }
