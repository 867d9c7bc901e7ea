// Command newsgraph-import migrates whole archives (the wordpress and
// jsonl subcommands, archive.go) and turns plain-text stories (headline, paragraphs,
// "Read the X's full story here", "Featured image: Y", a closing byline
// block) into DRAFT articles, through the same desk path as the
// importArticle mutation: author matched by name or created, revision and
// audit entry (by "import CLI"), only existing tags. With --dry-run it
// prints the drafts the files would become and touches nothing.
//
// It opens the server's database (MONGODB_URI, MONGODB_DATABASE, DATA_DIR)
// as newsgraph-keys does; on the embedded default the server must be
// stopped. Caches of a running server on MongoDB are not told of the new
// drafts, which only editors see anyway.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/importer"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// result is one file's outcome.
type result struct {
	File  string          `json:"file"`
	Draft *importer.Draft `json:"draft,omitempty"`
	// ArticleID and Slug name the stored draft (not with --dry-run).
	ArticleID string           `json:"articleId,omitempty"`
	Slug      string           `json:"slug,omitempty"`
	Error     *news.InputError `json:"error,omitempty"`
}

const usage = `usage: newsgraph-import [--dry-run] FILE...
       newsgraph-import wordpress FILE.xml   (see newsgraph-import wordpress -h)
       newsgraph-import jsonl FILE.jsonl

Imports plain-text stories as DRAFT articles and prints, as a JSON array,
each file's outcome: the stored draft's ID and slug, or why it was refused.
With --dry-run it prints the drafts the files would become (headline, body
in CommonMark, source, image credit, author, suggested tags) and writes
nothing. FILE "-" reads standard input.

The format: the headline on the first line, then paragraphs separated by
blank lines. "Read the X's full story here" and "according to a report from X"
give the source; "Featured image: Y" the image credit (kept in the body as a
note, since a featured image needs its address); a closing name line and bio
paragraph the author, matched by name (ignoring case) or created. Suggested
tags are set only where the tag exists.

The database is the server's (MONGODB_URI, MONGODB_DATABASE, DATA_DIR); on
the embedded default, stop the server first.

Exit status: 0 when every file was imported, 1 when any was refused, 2 on
usage or database errors.
`

// actor is who the audit log and revisions say made the drafts.
var actor = news.Viewer{Role: news.RoleEditor, KeyName: "import CLI"}

// run is the whole command, callable from tests: args without the program
// name; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && archiveReaders[args[0]] != nil {
		return runArchive(ctx, args[0], args[1:], getenv, stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("newsgraph-import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	dryRun := fs.Bool("dry-run", false, "parse and print the drafts without storing them")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "newsgraph-import: %v\n", err)
		return 2
	}
	texts := make([]string, fs.NArg())
	for i, name := range fs.Args() {
		text, err := read(name, stdin)
		if err != nil {
			return fail(err)
		}
		texts[i] = text
	}

	var desk *news.Desk
	if !*dryRun {
		var st *store.Store
		var closeDB func()
		var err error
		if ctx, _, st, closeDB, err = openDatabase(ctx, getenv); err != nil {
			return fail(err)
		}
		defer closeDB()
		desk = news.NewDesk(st, news.Listeners{})
	}

	results := []result{}
	status := 0
	for i, name := range fs.Args() {
		r := result{File: name}
		var err error
		if desk == nil {
			r.Draft, err = importer.Parse(texts[i])
		} else {
			var a *news.Article
			if a, err = importer.Create(ctx, desk, texts[i]); err == nil {
				r.ArticleID, r.Slug = news.GlobalID(news.NodeArticle, a.ID), a.Slug
			}
		}
		if err != nil {
			var ie *news.InputError
			if !errors.As(err, &ie) {
				return fail(fmt.Errorf("%s: %w", name, err))
			}
			r.Error, status = ie, 1
			fmt.Fprintf(stderr, "newsgraph-import: %s: %v\n", name, ie)
		}
		results = append(results, r)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		return fail(err)
	}
	return status
}

// openDatabase opens the server's database, as newsgraph-keys does, and
// credits what is written to the import CLI.
func openDatabase(ctx context.Context, getenv func(string) string) (context.Context, config.Config, *store.Store, func(), error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return ctx, cfg, nil, nil, err
	}
	st, closeDB, err := devdb.OpenOffline(ctx, cfg)
	if err != nil {
		return ctx, cfg, nil, nil, err
	}
	return news.WithViewer(ctx, actor), cfg, st, closeDB, nil
}

func read(name string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, importer.MaxTextBytes+1))
	} else {
		b, err = os.ReadFile(name)
	}
	return string(b), err
}
