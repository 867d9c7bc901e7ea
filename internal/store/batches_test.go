package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// On FerretDB, which answers `_id: {$in: ...}` by reading the whole
// collection, a page's few bylines out of many authors on file are read by
// _id, one find each; a batch that is most of the collection stays one
// $in. Either way the answer is the same.
func TestBylinesAreReadByIDWhenFewOfMany(t *testing.T) {
	var mu sync.Mutex
	var finds []bson.RawValue
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" && e.Command.Lookup("find").StringValue() == "authors" {
			mu.Lock()
			finds = append(finds, e.Command.Lookup("filter", "_id"))
			mu.Unlock()
		}
	}}
	st := testenv.Store(t, store.Options{Monitor: mon})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var authors []*news.Author
	for i := range 40 {
		authors = append(authors, &news.Author{ID: fmt.Sprintf("author-%02d", i), Slug: fmt.Sprintf("reporter-%02d", i),
			Name: fmt.Sprintf("Reporter %d", i), SocialLinks: []news.SocialLink{}, CreatedAt: now, UpdatedAt: now})
	}
	if err := st.InsertAuthors(ctx, authors); err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureIndexes(ctx); err != nil { // a start: sizes are learnt
		t.Fatal(err)
	}
	read := func(ids ...string) (filters []bson.RawValue) {
		t.Helper()
		mu.Lock()
		finds = nil
		mu.Unlock()
		got, err := st.AuthorsByIDs(ctx, append(ids, "no-such-author"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(ids) {
			t.Fatalf("asked for %d authors, got %d", len(ids), len(got))
		}
		for _, id := range ids {
			if got[id] == nil || got[id].ID != id {
				t.Fatalf("author %s: got %+v", id, got[id])
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return finds
	}

	few := read("author-03", "author-17", "author-31")
	if len(few) != 4 {
		t.Fatalf("3 of 40 authors (and one unknown): %d finds, want one by _id each", len(few))
	}
	for _, f := range few {
		if f.Type != bson.TypeString {
			t.Errorf("3 of 40 authors read with %s, want _id equality", f)
		}
	}
	var most []string
	for i := range 30 {
		most = append(most, fmt.Sprintf("author-%02d", i))
	}
	if got := read(most...); len(got) != 1 || got[0].Type != bson.TypeEmbeddedDocument || got[0].Document().Lookup("$in").Type != bson.TypeArray {
		t.Fatalf("30 of 40 authors: %d finds (%v), want one $in", len(got), got)
	}
}
