package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/newsgraph/newsgraph/internal/cache"
	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/importer/bulk"
	"github.com/newsgraph/newsgraph/internal/importer/jsonl"
	"github.com/newsgraph/newsgraph/internal/importer/wordpress"
	"github.com/newsgraph/newsgraph/internal/index"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
)

const archiveUsage = `usage: newsgraph-import wordpress FILE.xml
       newsgraph-import jsonl FILE.jsonl

Migrates a whole archive into the server's database (MONGODB_URI,
MONGODB_DATABASE, DATA_DIR; on the embedded default, stop the server
first). "wordpress" reads the WXR file WordPress's Tools → Export writes;
"jsonl" one story per line in the shape of ArticleInput plus status,
publishedAt, authors (names) and externalId. FILE "-" reads standard input.
Importing the same file again updates the stories it wrote. See
docs/IMPORT.md.

Exit status: 0 when every story was imported, 1 when any was left out
for a reason printed, 2 on usage or database errors.
`

// archiveReaders are the formats an archive can come in.
var archiveReaders = map[string]func(ctx context.Context, r io.Reader, im *bulk.Importer, out io.Writer) error{
	"wordpress": wordpress.Import,
	"jsonl": func(ctx context.Context, r io.Reader, im *bulk.Importer, _ io.Writer) error {
		return jsonl.Import(ctx, r, im)
	},
}

// runArchive is "newsgraph-import wordpress|jsonl FILE".
func runArchive(ctx context.Context, format string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("newsgraph-import "+format, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, archiveUsage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "newsgraph-import: %v\n", err)
		return 2
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		in = f
	}
	ctx, cfg, st, closeDB, err := openDatabase(ctx, getenv)
	if err != nil {
		return fail(err)
	}
	defer closeDB()

	opts := bulk.Options{Progress: stdout, InPlace: !cfg.Embedded()}
	if cfg.Embedded() && !cfg.IndexInMemory {
		// The embedded default's server is stopped while we import, so its
		// query index on disk is ours to keep current, batch by batch: the
		// first start afterwards has nothing to catch up on. (On MongoDB a
		// running server's catch-up finds the stories within a minute.)
		ix, err := openArchiveIndex(ctx, cfg, st, stdout)
		if err != nil {
			return fail(err)
		}
		defer ix.Close()
		opts.Index = ix
	}
	im := bulk.New(st, news.NewDesk(st, news.Listeners{}), opts)
	fmt.Fprintf(stdout, "importing %s (%s) into %s\n", name, format, where(cfg))
	readErr := archiveReaders[format](ctx, in, im, stdout)
	sum, err := im.Close(ctx)
	if readErr != nil {
		return fail(fmt.Errorf("%s: %w (%d stories were written before it)", name, readErr, sum.Written()))
	}
	if err != nil {
		return fail(err)
	}
	if cfg.RedisURL != "" {
		if err := purgeCaches(ctx, cfg); err != nil {
			fmt.Fprintf(stderr, "newsgraph-import: the stories are in, but running servers' caches were not told (%v); they serve the new stories within a minute and updated ones within five\n", err)
		}
	}
	printSummary(stdout, name, sum)
	if sum.Failed > 0 {
		return 1
	}
	return 0
}

// openArchiveIndex opens the query index under DATA_DIR, building it first
// from what the database already holds when it has never been built.
func openArchiveIndex(ctx context.Context, cfg config.Config, st *store.Store, stdout io.Writer) (*index.Index, error) {
	ix, err := index.Open(ctx, cfg.IndexDir, index.Options{Source: st})
	if err != nil {
		return nil, fmt.Errorf("query index %s: %w", cfg.IndexDir, err)
	}
	if !ix.Built() {
		fmt.Fprintf(stdout, "building the query index in %s from the stories already stored\n", cfg.IndexDir)
		if err := ix.Rebuild(ctx); err != nil {
			_ = ix.Close()
			return nil, fmt.Errorf("query index %s: %w", cfg.IndexDir, err)
		}
	}
	return ix, nil
}

func where(cfg config.Config) string {
	if cfg.Embedded() {
		return "the embedded database in " + cfg.DataDir
	}
	return "MongoDB " + config.Redacted(cfg.MongoURI) + ", database " + cfg.MongoDatabase
}

// purgeCaches makes every running server drop its cached copies (Redis and,
// through the invalidation channel, each one's in-process tier): an import
// touches too many stories to name them one by one.
func purgeCaches(ctx context.Context, cfg config.Config) error {
	opts, err := cache.RedisOptions(cfg.RedisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	cache.New(cache.Options{Redis: rdb, Prefix: cfg.RedisPrefix}).PurgeAll(ctx)
	return nil
}

func printSummary(w io.Writer, name string, s bulk.Summary) {
	fmt.Fprintf(w, "imported %s in %s: %d stories written (%d new, %d updated), %.0f stories/s\n",
		name, s.Elapsed.Round(1e6), s.Written(), s.Inserted, s.Updated, float64(s.Written())/max(s.Elapsed.Seconds(), 1e-3))
	fmt.Fprintf(w, "  stored under a suffixed slug: %d\n", s.Renamed)
	fmt.Fprintf(w, "  left out for a reason above: %d\n", s.Failed)
	fmt.Fprintf(w, "  authors created: %d; sections and tags asked for: %d\n", s.AuthorsCreated, s.TermsEnsured)
	kinds := make([]string, 0, len(s.Skipped))
	for k := range s.Skipped {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", s.Skipped[k], k)
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	fmt.Fprintf(w, "  not stories, skipped: %s\n", strings.Join(parts, ", "))
}
