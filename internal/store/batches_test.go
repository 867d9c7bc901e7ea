package store_test

import (
	"context"
	"errors"
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

// insertReporters puts n authors on file: author-00, slug reporter-00, ...
func insertReporters(t *testing.T, st *store.Store, n int) []*news.Author {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var authors []*news.Author
	for i := range n {
		authors = append(authors, &news.Author{ID: fmt.Sprintf("author-%02d", i), Slug: fmt.Sprintf("reporter-%02d", i),
			Name: fmt.Sprintf("Reporter %d", i), SocialLinks: []news.SocialLink{}, CreatedAt: now, UpdatedAt: now})
	}
	if err := st.InsertAuthors(context.Background(), authors); err != nil {
		t.Fatal(err)
	}
	return authors
}

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
	insertReporters(t, st, 40)
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

// On FerretDB an author page's slug lookup reads the author by _id through
// a hint, written at start for every author and by a lookup that had to
// read the authors; a renamed author's old slug finds nobody and the new
// one finds the author.
func TestAuthorSlugLookupsReadByIDOnceLearnt(t *testing.T) {
	var mu sync.Mutex
	var slugScans int
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" && e.Command.Lookup("find").StringValue() == "authors" {
			if _, err := e.Command.LookupErr("filter", "slug"); err == nil {
				mu.Lock()
				slugScans++
				mu.Unlock()
			}
		}
	}}
	scans := func() int { mu.Lock(); defer mu.Unlock(); n := slugScans; slugScans = 0; return n }
	st := testenv.Store(t, store.Options{Monitor: mon})
	ctx := context.Background()
	authors := insertReporters(t, st, 40)
	bySlug := func(slug, wantID string) {
		t.Helper()
		a, err := st.AuthorBySlug(ctx, slug)
		if wantID == "" {
			if !errors.Is(err, news.ErrNotFound) {
				t.Fatalf("%s: got %v, %v; want not found", slug, a, err)
			}
			return
		}
		if err != nil || a.ID != wantID {
			t.Fatalf("%s: got %v, %v; want %s", slug, a, err, wantID)
		}
	}
	bySlug("reporter-07", "author-07")
	if n := scans(); n != 1 {
		t.Fatalf("first lookup: %d reads of the authors by slug, want 1", n)
	}
	bySlug("reporter-07", "author-07")
	if n := scans(); n != 0 {
		t.Errorf("second lookup: %d reads of the authors by slug, want 0 (by _id)", n)
	}
	renamed := *authors[7]
	renamed.Slug = "reporter-07-b"
	if err := st.UpdateAuthor(ctx, &renamed); err != nil {
		t.Fatal(err)
	}
	bySlug("reporter-07", "")
	bySlug("reporter-07-b", "author-07")
	bySlug("no-such-reporter", "")
	scans()
	if err := st.EnsureIndexes(ctx); err != nil { // a restart writes every author's hint
		t.Fatal(err)
	}
	bySlug("reporter-23", "author-23")
	bySlug("reporter-07-b", "author-07")
	if n := scans(); n != 0 {
		t.Errorf("after a start, %d reads of the authors by slug, want 0", n)
	}
}
