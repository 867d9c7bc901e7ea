// Command newsgraph-import parses plain-text stories (headline, paragraphs,
// "Read the X's full story here", "Featured image: Y", a closing byline
// block) and prints the drafts they would become, as JSON.
//
// Storing them as DRAFT articles is not done yet: that will go through the
// editors' createArticle write path (which matches or creates the author and
// tells caches) when it lands, and is not faked here. Until then the command
// only runs with --dry-run.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/newsgraph/newsgraph/internal/importer"
	"github.com/newsgraph/newsgraph/internal/news"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// result is one file's outcome.
type result struct {
	File  string           `json:"file"`
	Draft *importer.Draft  `json:"draft,omitempty"`
	Error *news.InputError `json:"error,omitempty"`
}

const usage = `usage: newsgraph-import --dry-run FILE...

Parses plain-text stories and prints, as a JSON array, the draft each would
become: headline, body (CommonMark), source, image credit, author (name and
bio) and suggested tags. FILE "-" reads standard input.

The format: the headline on the first line, then paragraphs separated by
blank lines. "Read the X's full story here" and "according to a report from X"
give the source; "Featured image: Y" the image credit; a closing name line and
bio paragraph the author.

Creating the drafts in the database is not available yet: it will use the
editors' createArticle path once that exists. Until then --dry-run is
required and nothing is written anywhere.

Exit status: 0 when every file parsed, 1 when any was rejected, 2 on usage
errors.
`

// run is the whole command, callable from tests: args without the program
// name; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("newsgraph-import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	dryRun := fs.Bool("dry-run", false, "parse and print the drafts without storing them (required for now)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !*dryRun {
		fmt.Fprintln(stderr, "newsgraph-import: storing drafts is not available yet (it will use the editors' createArticle); run with --dry-run to parse and print them")
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	results := []result{}
	status := 0
	for _, name := range fs.Args() {
		text, err := read(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "newsgraph-import: %v\n", err)
			return 2
		}
		d, err := importer.Parse(text)
		r := result{File: name, Draft: d}
		if err != nil {
			var ie *news.InputError
			if !errors.As(err, &ie) {
				fmt.Fprintf(stderr, "newsgraph-import: %s: %v\n", name, err)
				return 2
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
		fmt.Fprintf(stderr, "newsgraph-import: %v\n", err)
		return 2
	}
	return status
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
