package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// nodeProject is testdata/federation with its packages installed: the node
// binary and the directory. Outside CI a missing node skips; in CI it fails.
func nodeProject(t *testing.T) (string, string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed for the federation gateway and multipart tests")
		}
		t.Skip("node is not installed")
	}
	dir, _ := filepath.Abs("../../testdata/federation")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@apollo", "gateway")); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return node, dir
}

// startGateway runs an Apollo gateway over newsgraph and a comments
// subgraph; it returns the gateway's URL.
func startGateway(t *testing.T, svc *testenv.Service) string {
	t.Helper()
	node, dir := nodeProject(t)
	cmd := exec.Command(node, filepath.Join(dir, "gateway.mjs"), svc.URL+"/graphql")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), `{"gateway"`) {
				line <- sc.Text()
				break
			}
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		var out struct{ Gateway string }
		if !ok || json.Unmarshal([]byte(l), &out) != nil || out.Gateway == "" {
			t.Fatalf("gateway did not start: %q\n%s", l, stderr.String())
		}
		return out.Gateway
	case <-time.After(60 * time.Second):
		t.Fatalf("gateway did not start in time\n%s", stderr.String())
	}
	return ""
}

func gatewayQuery(t *testing.T, url, query string, vars map[string]any, auth string) *testenv.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return testenv.Do(t, req)
}

// newsgraph behind a real gateway: a query mixing its fields with another
// subgraph's works, its errors keep their codes, the caller's key reaches
// it, and an entity batch of 50 costs no more than a page of 50.
func TestThroughAnApolloGateway(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	articles := seedBylinedArticles(t, svc, 60)
	draft := testenv.NewArticle("draft-behind-gateway", time.Now().Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt = news.StatusDraft, nil
	svc.AddArticles(t, draft)
	gw := startGateway(t, svc)

	var mixed struct {
		Articles struct {
			Edges []struct {
				Node struct {
					Headline     string
					CommentCount *int
				}
			}
		}
	}
	gatewayQuery(t, gw, `{ articles(first: 3) { edges { node { headline commentCount } } } }`, nil, "").Decode(t, &mixed)
	if len(mixed.Articles.Edges) != 3 || mixed.Articles.Edges[0].Node.Headline == "" || mixed.Articles.Edges[0].Node.CommentCount == nil {
		t.Errorf("mixed query through the gateway: %+v", mixed)
	}

	res := gatewayQuery(t, gw, `{ articles(first: 500) { edges { node { headline } } } }`, nil, "")
	if res.Code() != "BAD_USER_INPUT" {
		t.Errorf("newsgraph's error through the gateway: %+v, want extensions.code BAD_USER_INPUT", res.Errors)
	}

	draftQuery := `{ article(slug: "draft-behind-gateway") { headline commentCount } }`
	var anon, editor struct{ Article *struct{ Headline string } }
	gatewayQuery(t, gw, draftQuery, nil, "").Decode(t, &anon)
	gatewayQuery(t, gw, draftQuery, nil, svc.NewKey(t, news.RoleEditor)).Decode(t, &editor)
	if anon.Article != nil || editor.Article == nil {
		t.Errorf("the Authorization header did not pass through: reader %+v, editor %+v", anon.Article, editor.Article)
	}

	ids := make([]string, 50)
	for i, a := range articles[:50] {
		ids[i] = news.GlobalID(news.NodeArticle, a.ID)
	}
	fields := `headline authors { name } section { name } tags { name }`
	svc.Cache.PurgeAll(t.Context())
	before := svc.Store.RoundTrips()
	var page struct{ Articles pageJSON }
	gatewayQuery(t, gw, `{ articles(first: 50) { edges { node { `+fields+` } } } }`, nil, "").Decode(t, &page)
	pageTrips := svc.Store.RoundTrips() - before
	svc.Cache.PurgeAll(t.Context())
	before = svc.Store.RoundTrips()
	var batch struct {
		MostCommented []struct {
			Headline     string
			CommentCount int
		}
	}
	gatewayQuery(t, gw, `query($ids: [ID!]!) { mostCommented(ids: $ids) { commentCount `+fields+` } }`,
		map[string]any{"ids": ids}, "").Decode(t, &batch)
	entityTrips := svc.Store.RoundTrips() - before
	t.Logf("through the gateway: articles(first: 50) %d round trips, 50 Article entities %d", pageTrips, entityTrips)
	if len(batch.MostCommented) != 50 || batch.MostCommented[49].Headline != articles[49].Headline {
		t.Fatalf("entity batch through the gateway: %d articles", len(batch.MostCommented))
	}
	if entityTrips > pageTrips {
		t.Errorf("50 entities through the gateway cost %d round trips, a page of 50 %d", entityTrips, pageTrips)
	}
}

// @defer read by a real multipart client (meros): headline and body in the
// first part, related stories after.
func TestDeferWithAMultipartClient(t *testing.T) {
	node, dir := nodeProject(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	body, _ := json.Marshal(map[string]any{"query": deferredArticlePage, "variables": map[string]any{"slug": deferSlug}})
	out, err := exec.Command(node, filepath.Join(dir, "defer.mjs"), svc.URL+"/graphql", string(body)).Output()
	if err != nil {
		t.Fatalf("defer.mjs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		t.Fatalf("meros read %d parts: %s", len(lines), out)
	}
	var first struct {
		Data    deferredArticle
		HasNext bool
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || !first.HasNext || first.Data.Article == nil ||
		first.Data.Article.Headline == "" || len(first.Data.Article.Related) != 0 {
		t.Errorf("first part: %s", lines[0])
	}
	rest := strings.Join(lines[1:], "\n")
	if !strings.Contains(rest, `"related":[{`) || !strings.Contains(lines[len(lines)-1], `"hasNext":false`) {
		t.Errorf("later parts lack related stories or the end: %s", rest)
	}
}
