package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

// The graphql-http package's server audits (the GraphQL-over-HTTP spec),
// run by node against the real server: every audit must pass, with no
// warnings. Notices (MAY) are reported too; there are none today.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed for the GraphQL-over-HTTP audit")
		}
		t.Skip("node is not installed")
	}
	dir, _ := filepath.Abs("../../testdata/graphql-http-audit")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphql-http")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	out, err := exec.Command(node, filepath.Join(dir, "audit.mjs"), svc.URL+"/graphql").Output()
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, out)
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct{ ID, Name, Status, Reason string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit output %q: %v", sc.Text(), err)
		}
		counts[r.Status]++
		if r.Status != "ok" {
			t.Errorf("%s %s: %s (%s)", r.ID, r.Name, r.Status, r.Reason)
		}
	}
	t.Logf("graphql-http audits: %v", counts)
	if counts["ok"] < 50 {
		t.Fatalf("only %d audits ran ok", counts["ok"])
	}
}
