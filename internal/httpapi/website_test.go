package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/newsgraph/newsgraph/internal/testenv"
	"github.com/newsgraph/newsgraph/internal/trusted"
)

// The website in examples/web, compiled as its team would: GraphQL Code
// Generator's client preset turns its operations into typed documents and
// persisted-documents.json against schema.graphqls (a schema change that
// breaks them fails here), then the service runs with that manifest as
// TRUSTED_DOCUMENTS and every page's query runs by hash.
func TestWebsiteOperationsCompileAndRunAsTrustedDocuments(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed to compile the website's operations")
		}
		t.Skip("node is not installed")
	}
	dir, _ := filepath.Abs("../../examples/web")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@graphql-codegen", "cli")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	codegen := exec.Command(node, filepath.Join(dir, "node_modules", "@graphql-codegen", "cli", "cjs", "bin.js"), "--config", "codegen.yml")
	codegen.Dir = dir
	if out, err := codegen.CombinedOutput(); err != nil {
		t.Fatalf("the website's operations no longer compile against schema.graphqls: %v\n%s", err, out)
	}
	manifest := filepath.Join(dir, "src", "gql", "persisted-documents.json")
	docs, err := trusted.Load(manifest)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(manifest)
	var list map[string]string
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true, Trusted: docs})

	// What each page is asked with on the demo newsroom.
	variables := map[string]map[string]any{
		"FrontPage":   {},
		"ArticlePage": {"slug": deferSlug},
		"SectionPage": {"slug": "politics"},
		"TagPage":     {"slug": "city-council"},
		"AuthorPage":  {"slug": "marcus-hale"},
		"SearchPage":  {"query": "council"},
	}
	opName := regexp.MustCompile(`(query|subscription|mutation) (\w+)`)
	ran := map[string]bool{}
	for hash, doc := range list {
		m := opName.FindStringSubmatch(doc)
		if m == nil {
			t.Fatalf("no operation in %s", doc)
		}
		if m[1] != "query" {
			continue
		}
		vars, ok := variables[m[2]]
		if !ok {
			t.Fatalf("the test does not know how to ask %s; add its variables", m[2])
		}
		res := post(t, svc, map[string]any{"documentId": "sha256:" + hash, "variables": vars})
		var data map[string]any
		res.Decode(t, &data)
		for field, v := range data {
			if v == nil {
				t.Errorf("%s: %s is null on the demo newsroom", m[2], field)
			}
		}
		if res.Status != http.StatusOK {
			t.Errorf("%s: status %d", m[2], res.Status)
		}
		ran[m[2]] = true
	}
	if len(ran) != len(variables) {
		t.Errorf("ran %v, want every page of %v", ran, variables)
	}
	if res := post(t, svc, map[string]any{"query": `{ authors(first: 100) { edges { node { bio } } } }`}); res.Code() != trusted.Code {
		t.Errorf("an operation the website does not list: code %q", res.Code())
	}
}
