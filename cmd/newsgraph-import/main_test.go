package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/news"
)

var example = filepath.Join("..", "..", "internal", "importer", "testdata", "issue-example.txt")

func badFile(t *testing.T) string {
	t.Helper()
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("Only a headline\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return bad
}

func TestDryRunPrintsDrafts(t *testing.T) {
	bad := badFile(t)
	var stdout, stderr bytes.Buffer
	noEnv := func(string) string { t.Fatal("a dry run opened the database"); return "" }
	code := run(context.Background(), []string{"--dry-run", example, "-", bad}, noEnv,
		strings.NewReader("Stdin story\n\nIt works.\n"), &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1 (one file rejected); stderr: %s", code, stderr.String())
	}
	var out []struct {
		File  string
		Draft *struct {
			Headline string
			Source   *struct{ Name string }
			Author   *struct{ Name, Bio string }
			Tags     []string
		}
		Error *struct{ Field, Reason string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
	}
	if len(out) != 3 {
		t.Fatalf("%d results", len(out))
	}
	if d := out[0].Draft; d == nil || d.Headline != "City council approves late-night bus pilot after months of debate" ||
		d.Source == nil || d.Source.Name != "Riverside Ledger" || d.Author == nil || d.Author.Name != "Marcus Hale" {
		t.Errorf("example: %+v", out[0])
	}
	if d := out[1].Draft; out[1].File != "-" || d == nil || d.Headline != "Stdin story" {
		t.Errorf("stdin: %+v", out[1])
	}
	if e := out[2].Error; out[2].Draft != nil || e == nil || e.Field != "text" || !strings.Contains(stderr.String(), "bad.txt") {
		t.Errorf("bad file: %+v, stderr %q", out[2], stderr.String())
	}
}

// Without --dry-run the drafts land in the database, as an operator runs it
// on a stopped server's DATA_DIR.
func TestImportStoresDrafts(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{example, badFile(t), example}, getenv, strings.NewReader(""), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit status %d, want 1; stderr: %s", code, stderr.String())
	}
	var out []struct {
		File, ArticleID, Slug string
		Error                 *struct{ Field string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out) != 3 {
		t.Fatalf("stdout (%v):\n%s", err, stdout.String())
	}
	if out[0].ArticleID == "" || out[1].Error == nil || out[1].Error.Field != "text" || out[2].Slug == out[0].Slug {
		t.Fatalf("results %+v", out)
	}

	cfg, err := config.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, closeDB, err := devdb.OpenOffline(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	_, key, _ := news.ParseGlobalID("id", out[0].ArticleID)
	a, err := st.ArticleByID(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if a.StoredStatus != news.StatusDraft || a.Source == nil || a.Source.Name != "Riverside Ledger" || len(a.AuthorIDs) != 1 {
		t.Errorf("stored %+v", a)
	}
	author, err := st.AuthorByName(ctx, "marcus hale")
	if err != nil || author == nil || author.ID != a.AuthorIDs[0] || !strings.Contains(author.Bio, "city hall") {
		t.Errorf("author %+v (%v)", author, err)
	}
	audit, err := st.AuditEntries(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, e := range audit {
		if e.By.Name != "import CLI" {
			t.Errorf("audit entry by %+v", e.By)
		}
		if e.Operation == news.OpCreateAuthor {
			creates++
		}
	}
	if len(audit) != 3 || creates != 1 {
		t.Errorf("audit: %d entries, %d authors created; want 2 drafts and 1 author", len(audit), creates)
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--dry-run"}, os.Getenv, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("no files: exit %d, stderr %q", code, stderr.String())
	}
}
