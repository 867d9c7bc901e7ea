package edge_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// varnish starts a real varnishd running deploy/varnish/default.vcl on
// port, in front of the service at backend, stopped when the test ends.
// Outside CI a machine without Varnish skips; in CI it fails.
func varnish(t *testing.T, port int, backend string) string {
	t.Helper()
	bin, err := exec.LookPath("varnishd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("varnishd is not installed (apt-get install varnish varnish-modules)")
		}
		t.Skip("varnishd is not installed (apt-get install varnish varnish-modules); skipped outside CI")
	}
	vcl, err := os.ReadFile(filepath.Join("..", "..", "deploy", "varnish", "default.vcl"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(backend)
	// The deployment's one-line change, made by the test.
	portLine := regexp.MustCompile(`(?m)^(\s*)\.port = "8080";$`)
	if !portLine.Match(vcl) {
		t.Fatal(`default.vcl has no line '.port = "8080";' to change`)
	}
	vcl = portLine.ReplaceAll(vcl, []byte(`${1}.port = "`+u.Port()+`";`))
	// varnishd drops privileges: its directories must be readable by its
	// worker user.
	dir, err := os.MkdirTemp("", "newsgraph-varnish-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	file := filepath.Join(dir, "default.vcl")
	if err := os.WriteFile(file, vcl, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-F", "-a", addr, "-f", file, "-n", filepath.Join(dir, "work"), "-s", "malloc,64m")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	edge := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(edge + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return edge
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("varnishd did not answer on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// read GETs a GraphQL query through the edge, as a website's server would.
func read(t *testing.T, edge, query string, header ...string) (*http.Response, string) {
	t.Helper()
	res, body := testenv.Get(t, edge+"/graphql?query="+url.QueryEscape(query), header...)
	return res, string(body)
}

func TestVarnishServesHotStoriesAndPurgesThemOnWrite(t *testing.T) {
	port := freePort(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{EdgePurgeURLs: []string{fmt.Sprintf("http://127.0.0.1:%d/", port)}})
	edge := varnish(t, port, svc.URL)

	story := testenv.NewArticle("night-buses", time.Now().Add(-time.Hour))
	story.Headline = "Night buses return"
	draft := testenv.NewArticle("budget-leak", time.Now().Add(-time.Hour))
	draft.StoredStatus, draft.PublishedAt, draft.Headline = news.StatusDraft, nil, "Draft: the budget leak"
	svc.AddArticles(t, story, draft)
	const hot = `{ article(slug: "night-buses") { id headline } }`

	// The service labels the answer for the edge.
	res, body := read(t, edge, hot)
	if !strings.Contains(body, "Night buses return") {
		t.Fatalf("first read: %s", body)
	}
	if sk := res.Header.Get("Surrogate-Key"); !strings.Contains(sk, "article:"+story.ID) || !strings.Contains(sk, "slug:night-buses") {
		t.Errorf("Surrogate-Key %q", sk)
	}
	if ct := res.Header.Get("Cache-Tag"); !strings.Contains(ct, "article:"+story.ID) {
		t.Errorf("Cache-Tag %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "86400") {
		t.Errorf("browsers get %q, want the short Cache-Control", cc)
	}
	if res.Header.Get("Surrogate-Control") != "" {
		t.Errorf("Surrogate-Control %q leaked past the edge", res.Header.Get("Surrogate-Control"))
	}

	// A hot story: ≥ 95% of 1,000 reads are answered by the edge.
	hits := 0
	for range 1000 {
		res, _ := read(t, edge, hot)
		if res.Header.Get("X-Edge-Cache") == "HIT" {
			hits++
		}
	}
	t.Logf("edge hits: %d of 1000", hits)
	if hits < 950 {
		t.Errorf("edge hits %d of 1000, want at least 950", hits)
	}

	// An edit through the service is what the edge serves as soon as the
	// mutation returns.
	editor := svc.NewKey(t, news.RoleEditor)
	var out struct{ UpdateArticle struct{ Headline string } }
	svc.Query(t, `mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 1, input: {headline: "Night buses return for good"}) { headline } }`,
		map[string]any{"id": news.GlobalID(news.NodeArticle, story.ID)}, "Authorization", editor).Decode(t, &out)
	res, body = read(t, edge, hot)
	if !strings.Contains(body, "Night buses return for good") {
		t.Fatalf("after the edit the edge served %s (%s)", body, res.Header.Get("X-Edge-Cache"))
	}

	// An editor's request passes the edge; what it saw never reaches a
	// reader, before or after.
	const leak = `{ article(slug: "budget-leak") { headline status } }`
	for range 2 {
		res, body = read(t, edge, leak, "Authorization", editor)
		if !strings.Contains(body, "Draft: the budget leak") || res.Header.Get("X-Edge-Cache") != "PASS" {
			t.Fatalf("editor through the edge: %s %s", res.Header.Get("X-Edge-Cache"), body)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") || res.Header.Get("Surrogate-Key") != "" {
			t.Errorf("editor's answer: Cache-Control %q Surrogate-Key %q", cc, res.Header.Get("Surrogate-Key"))
		}
		_, body = read(t, edge, leak)
		if strings.Contains(body, "budget leak") || !strings.Contains(body, `"article":null`) {
			t.Fatalf("a reader got %s", body)
		}
	}

	// Purges are counted.
	_, metrics := testenv.Get(t, svc.URL+"/metrics")
	if !regexp.MustCompile(`newsgraph_edge_purges_total\{result="ok"\} [1-9]`).Match(metrics) {
		t.Errorf("no purges counted:\n%s", grep(string(metrics), "newsgraph_edge"))
	}
}

func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
