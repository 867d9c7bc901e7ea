package devdb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// What the embedded database costs per command, the floor under every cold
// read (FerretDB and the client share this process, so cpu-µs/op counts
// both):
//
//	go test ./internal/devdb -run '^$' -bench . -benchtime 2000x
//
// EMBEDDED_BENCH_STORIES sets the stories on file (default 2,000): a find
// by _id costs the same at 100,000.

func BenchmarkEmbedded(b *testing.B) {
	ctx := context.Background()
	// As the server logs it: JSON, errors only.
	db, err := devdb.Start(b.TempDir(), slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := store.OpenWithIndexes(ctx, db.URI(), "newsgraph", store.Options{Timeout: 10 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Shutdown()
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("EMBEDDED_BENCH_STORIES")); err == nil && v > 0 {
		n = v
	}
	stories := func(prefix string, n int) []*news.Article {
		out := make([]*news.Article, n)
		for i := range out {
			a := testenv.NewArticle(fmt.Sprintf("%s-story-%06d", prefix, i), time.Now())
			a.Dek = "Residents asked for the vote a year ago."
			a.Body = strings.Repeat("<p>The council said the plan would change how residents cross the river. </p>", 40)
			a.AuthorIDs, a.Section, a.Tags = []string{"a1", "a2"}, "news", []string{"council", "river"}
			out[i] = a
		}
		return out
	}
	arts := stories("s", n)
	for i := 0; i < len(arts); i += 1000 {
		if _, err := st.UpsertArticles(ctx, arts[i:min(i+1000, len(arts))], false); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.IndexIDs(ctx, "newsgraph"); err != nil {
		b.Fatal(err)
	}
	find := func(i int) {
		if _, err := st.ArticleByID(ctx, arts[(i*7919)%len(arts)].ID); err != nil {
			b.Error(err)
		}
	}

	b.Run("find by _id", func(b *testing.B) {
		defer perOp(b)()
		for i := range b.N {
			find(i)
		}
	})
	b.Run("find by _id, 8 at once", func(b *testing.B) {
		defer perOp(b)()
		var next atomic.Int64
		b.SetParallelism(4) // 8 on two cores, as hydration sends them
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				find(int(next.Add(1)))
			}
		})
	})
	b.Run("insert 100", func(b *testing.B) {
		defer perOp(b)()
		for i := range b.N {
			if _, err := st.UpsertArticles(ctx, stories(fmt.Sprintf("i%d-", i), 100), false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// perOp reports the process's CPU time per operation when called.
func perOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	b.ResetTimer()
	return func() { b.ReportMetric(float64((cpu()-start).Microseconds())/float64(b.N), "cpu-µs/op") }
}
