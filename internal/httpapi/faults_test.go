package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/store"
	"github.com/newsgraph/newsgraph/internal/telemetry"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// The database becomes unreachable (every connection to it cut, new ones
// refused) and comes back, with no restart in between: stories the cache
// holds are still served, the rest get a clean error, /readyz says what is
// wrong, and reads succeed again soon after the database returns.
func TestDatabaseUnreachableAndBack(t *testing.T) {
	u, err := url.Parse(testenv.MongoURI(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, u.Host)
	u.Host = proxy.Addr
	st := testenv.StoreAt(t, u.String(), store.Options{Timeout: time.Second})
	svc := testenv.NewService(t, testenv.ServiceOptions{Store: st})
	var warm, cold []string
	for _, slug := range []string{"warm-1", "warm-2", "warm-3", "cold-1", "cold-2", "cold-3"} {
		svc.AddArticles(t, testenv.NewArticle(slug, time.Now().Add(-time.Hour)))
		if strings.HasPrefix(slug, "warm") {
			warm = append(warm, slug)
		} else {
			cold = append(cold, slug)
		}
	}
	read := func(doc, slug string) *testenv.Response {
		t.Helper()
		return svc.Query(t, doc, map[string]any{"s": slug})
	}
	const warmDoc = `query Warm($s: String) { article(slug: $s) { headline } }`
	const outageDoc = `query DuringOutage($s: String) { article(slug: $s) { slug headline } }`
	const afterDoc = `query AfterOutage($s: String) { article(slug: $s) { slug } }`
	for _, s := range warm {
		if res := read(warmDoc, s); len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
	}
	if got := status(t, svc.URL+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d", got)
	}

	proxy.Cut()

	// Another document than the one that warmed them: the answer comes
	// from the object tier, not from a cached response.
	for _, s := range warm {
		var data struct {
			Article *struct{ Slug, Headline string }
		}
		read(outageDoc, s).Decode(t, &data)
		if data.Article == nil || data.Article.Slug != s {
			t.Fatalf("cached story %s not served during the outage: %+v", s, data.Article)
		}
	}
	res := read(outageDoc, cold[0])
	if res.Code() != "INTERNAL_SERVER_ERROR" {
		t.Fatalf("uncached story during the outage: status %d, errors %+v", res.Status, res.Errors)
	}
	id, _ := res.Errors[0].Extensions["requestId"].(string)
	if id == "" || id != res.Header.Get(telemetry.RequestIDHeader) {
		t.Fatalf("requestId %q, header %q", id, res.Header.Get(telemetry.RequestIDHeader))
	}
	raw, _ := json.Marshal(res.Errors)
	for _, leak := range []string{"mongo", "server selection", "connection", "127.0.0.1", proxy.Addr, "EOF"} {
		if strings.Contains(strings.ToLower(string(raw)), strings.ToLower(leak)) {
			t.Fatalf("the error tells the client %q: %s", leak, raw)
		}
	}
	if !strings.Contains(svc.Logs(), id) {
		t.Fatalf("the masked error is not logged under request ID %s", id)
	}
	code, body := get(t, svc.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"mongodb":"down"`) {
		t.Fatalf("/readyz during the outage: %d %s", code, body)
	}
	if got := status(t, svc.URL+"/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz during the outage: %d", got)
	}

	proxy.Restore()
	restored := time.Now()
	deadline := restored.Add(10 * time.Second)
	for {
		var data struct{ Article *struct{ Slug string } }
		res := read(afterDoc, cold[1])
		if len(res.Errors) == 0 {
			res.Decode(t, &data)
			if data.Article == nil || data.Article.Slug != cold[1] {
				t.Fatalf("after the outage: %+v", data.Article)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reads still fail 10s after the database returned: %+v", res.Errors)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("uncached reads succeed again %s after the database returned", time.Since(restored).Round(time.Millisecond))
	for time.Now().Before(deadline) && status(t, svc.URL+"/readyz") != http.StatusOK {
		time.Sleep(100 * time.Millisecond)
	}
	if got := status(t, svc.URL+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz after the outage: %d", got)
	}
	for _, s := range append(warm, cold...) {
		if res := read(afterDoc, s); len(res.Errors) > 0 {
			t.Fatalf("%s after recovery: %+v", s, res.Errors)
		}
	}
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func status(t *testing.T, u string) int {
	code, _ := get(t, u)
	return code
}
