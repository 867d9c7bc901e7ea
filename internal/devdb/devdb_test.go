package devdb_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/demo"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
)

// The embedded database keeps its data on disk: a restart finds the same
// articles, and starting up again (indexes and all) succeeds.
func TestRestartKeepsDataAndIndexes(t *testing.T) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var counts []int64
	for round := 0; round < 2; round++ {
		db, err := devdb.Start(dir, log)
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(db.URI(), "newsgraph", store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.EnsureIndexes(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := demo.LoadIfEmpty(ctx, st, time.Now()); err != nil {
			t.Fatal(err)
		}
		n, err := st.CountArticles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
		_ = st.Close(ctx)
		db.Close()
	}
	if counts[0] == 0 || counts[0] != counts[1] {
		t.Fatalf("articles before and after restart: %v", counts)
	}
}

// IndexIDs gives each collection an index SQLite's planner uses for the
// filter FerretDB sends for a find, update or delete by _id, so such a
// lookup does not read the collection row by row. Calling it again (every
// start does) changes nothing.
func TestFindByIDUsesAnIndex(t *testing.T) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := devdb.Start(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := store.OpenWithIndexes(ctx, db.URI(), "newsroom", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Shutdown()
	for range 2 {
		if err := db.IndexIDs(ctx, "newsroom"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := demo.LoadIfEmpty(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}

	sq, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "newsroom.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	var table string
	if err := sq.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = 'articles'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	// The statement FerretDB 1.24 runs for a find by _id.
	rows, err := sq.QueryContext(ctx, fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"x"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if want := "USING INDEX " + table + devdb.IDPathIndex; len(plan) != 1 || !strings.Contains(plan[0], want) {
		t.Fatalf("a find by _id is planned as %q, want %q", plan, want)
	}
	// And the service's own reads by _id find what the demo loaded.
	arts, err := st.Articles(ctx, news.ArticleQuery{Status: news.StatusPublished, Order: news.NewestFirst, Now: time.Now(), Limit: 3})
	if err != nil || len(arts) == 0 {
		t.Fatalf("demo articles: %v, %v", arts, err)
	}
	got, err := st.ArticleByID(ctx, arts[0].ID)
	if err != nil || got.Slug != arts[0].Slug {
		t.Fatalf("by _id: %v, %v", got, err)
	}
}
