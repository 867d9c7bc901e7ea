package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDryRunPrintsDrafts(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("Only a headline\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	example := filepath.Join("..", "..", "internal", "importer", "testdata", "issue-example.txt")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--dry-run", example, "-", bad}, strings.NewReader("Stdin story\n\nIt works.\n"), &stdout, &stderr)
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

// Storing drafts is not built yet; the command says so instead of
// pretending.
func TestWithoutDryRunRefuses(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"story.txt"}, strings.NewReader(""), &stdout, &stderr); code != 2 || stdout.Len() != 0 ||
		!strings.Contains(stderr.String(), "--dry-run") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"--dry-run"}, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("no files: exit %d, stderr %q", code, stderr.String())
	}
}
