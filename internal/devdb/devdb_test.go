package devdb_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/demo"
	"github.com/newsgraph/newsgraph/internal/devdb"
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
