package news

import (
	"context"
	"testing"
)

// A page reads one story more than it shows; that story's bylines and
// terms are not queued.
func TestAPageOutlinesOnlyTheStoriesItShows(t *testing.T) {
	var seen []*Article
	ctx := PageOutlines(WithOutlines(context.Background(), func(o []*Article) { seen = o }), 2)
	Outlined(ctx, []*Article{{ID: "a"}, {ID: "b"}, {ID: "c"}})
	if len(seen) != 2 || seen[0].ID != "a" || seen[1].ID != "b" {
		t.Errorf("passed on %v, want a and b", seen)
	}
	Outlined(ctx, []*Article{{ID: "a"}})
	if len(seen) != 1 {
		t.Errorf("a short last page passed on %d outlines, want 1", len(seen))
	}
	if WantsOutlines(PageOutlines(context.Background(), 2)) {
		t.Error("a page asks for outlines nobody wanted")
	}
}
