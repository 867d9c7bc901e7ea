package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
	"github.com/newsgraph/newsgraph/internal/trusted"
)

func sha(doc string) string {
	s := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(s[:])
}

func writeManifest(t *testing.T, path string, docs ...string) {
	t.Helper()
	m := map[string]string{}
	for _, d := range docs {
		m[sha(d)] = d
	}
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(path+".tmp", raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, svc *testenv.Service, body map[string]any, header ...string) *testenv.Response {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, svc.URL+"/graphql", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return testenv.Do(t, req)
}

const (
	frontPage = `query FrontPage { articles(first: 3) { edges { node { slug headline } } } }`
	sections  = `query Sections { sections { slug name } }`
	unlisted  = `query Anything { authors(first: 2) { edges { node { slug } } } }`
)

func TestTrustedDocuments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	writeManifest(t, path, frontPage)
	docs, err := trusted.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true, Trusted: docs})
	hash := sha(frontPage)

	ok := func(what string, res *testenv.Response) {
		t.Helper()
		var data struct{ Articles struct{ Edges []any } }
		if res.Status != http.StatusOK {
			t.Fatalf("%s: status %d, errors %+v", what, res.Status, res.Errors)
		}
		res.Decode(t, &data)
		if len(data.Articles.Edges) != 3 {
			t.Fatalf("%s: got %s", what, res.Data)
		}
	}
	refused := func(what string, res *testenv.Response) {
		t.Helper()
		if res.Status != http.StatusBadRequest || res.Code() != trusted.Code || res.Data != nil {
			t.Errorf("%s: status %d code %q data %s, want 400 %s and no data", what, res.Status, res.Code(), res.Data, trusted.Code)
		}
	}

	ok("listed document in full", post(t, svc, map[string]any{"query": frontPage}))
	ok("by APQ hash", post(t, svc, map[string]any{"extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}))
	ok("by documentId sha256:", post(t, svc, map[string]any{"documentId": "sha256:" + hash}))
	ok("by bare documentId", post(t, svc, map[string]any{"documentId": hash}))
	ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}})
	get := testenv.Do(t, mustGet(t, svc.URL+"/graphql?extensions="+url.QueryEscape(string(ext))))
	ok("by APQ hash over GET", get)
	ok("by documentId over GET", testenv.Do(t, mustGet(t, svc.URL+"/graphql?documentId="+hash)))

	refused("unlisted document", post(t, svc, map[string]any{"query": unlisted}))
	refused("unknown hash", post(t, svc, map[string]any{"documentId": sha(unlisted)}))
	refused("a listed hash with another text", post(t, svc, map[string]any{"query": unlisted, "documentId": hash}))
	refused("APQ registration of a new hash", post(t, svc, map[string]any{"query": unlisted, "extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(unlisted)}}}))
	refused("unlisted over GET", testenv.Do(t, mustGet(t, svc.URL+"/graphql?query="+url.QueryEscape(unlisted))))

	// Key holders are not restricted; the hash they register is still
	// refused to a keyless caller.
	key := svc.NewKey(t, news.RolePartner)
	if res := post(t, svc, map[string]any{"query": unlisted, "extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(unlisted)}}}, "Authorization", key); res.Status != 200 || len(res.Errors) > 0 {
		t.Fatalf("a key holder's document: status %d errors %+v", res.Status, res.Errors)
	}
	refused("a hash a key holder registered", post(t, svc, map[string]any{"extensions": map[string]any{
		"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(unlisted)}}}))

	_, metrics := testenv.Get(t, svc.URL+"/metrics")
	if !strings.Contains(string(metrics), "newsgraph_trusted_documents_refused_total 6") {
		t.Errorf("/metrics does not count 6 refusals:\n%s", grepLines(string(metrics), "trusted"))
	}

	// A reload puts a new list in force while requests keep flowing: none
	// of the listed document's requests fails on the way.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	failures := make(chan string, 100)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				raw, _ := json.Marshal(map[string]any{"documentId": hash})
				res, err := http.Post(svc.URL+"/graphql", "application/json", bytes.NewReader(raw))
				if err != nil {
					failures <- err.Error()
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failures <- res.Status
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		writeManifest(t, path, frontPage, sections)
		if err := docs.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("a listed request failed during reloads: %s", f)
	}
	if res := post(t, svc, map[string]any{"query": sections}); res.Status != 200 || len(res.Errors) > 0 {
		t.Errorf("a document added by reload: status %d errors %+v", res.Status, res.Errors)
	}
	// A broken manifest leaves the list in force as it was.
	if err := os.WriteFile(path, []byte(`{"00": "query { sections { slug } }"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := docs.Reload(); err == nil {
		t.Error("a manifest whose keys are not the documents' SHA-256 was accepted")
	}
	ok("after a failed reload", post(t, svc, map[string]any{"query": frontPage}))

	// A document taken off the list is refused at once, although its
	// answer is cached and a cached answer is served in front of the chain.
	fullGET := svc.URL + "/graphql?query=" + url.QueryEscape(frontPage)
	for i, want := range []string{"", "HIT"} {
		res := testenv.Do(t, mustGet(t, fullGET))
		ok("listed, over GET", res)
		if i == 1 && res.Header.Get("X-Cache") != want {
			t.Fatalf("the listed GET was not a cache hit: X-Cache %q", res.Header.Get("X-Cache"))
		}
		if res := post(t, svc, map[string]any{"query": sections}); i == 1 && res.Header.Get("X-Cache") != want {
			t.Fatalf("the listed POST was not a cache hit: X-Cache %q", res.Header.Get("X-Cache"))
		}
	}
	writeManifest(t, path, sections)
	if err := docs.Reload(); err != nil {
		t.Fatal(err)
	}
	refused("a cached GET whose document left the list", testenv.Do(t, mustGet(t, fullGET)))
	writeManifest(t, path, frontPage)
	if err := docs.Reload(); err != nil {
		t.Fatal(err)
	}
	refused("a cached POST whose document left the list", post(t, svc, map[string]any{"query": sections}))
}

// A websocket's subscribe message is held to the same list: the HTTP
// middleware only sees the upgrade.
func TestTrustedDocumentsOverWebsocket(t *testing.T) {
	listed := `subscription Ticker { articlePublished { slug } }`
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	writeManifest(t, path, listed)
	docs, err := trusted.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := testenv.NewService(t, testenv.ServiceOptions{Trusted: docs})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := svc.DialLive(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Subscribe(t, "listed", listed, nil)
	if err := c.Start("unlisted", `subscription { articleUpdated(id: "QXJ0aWNsZTox") { headline } }`, nil); err != nil {
		t.Fatal(err)
	}
	for {
		m, ok := c.Next(5 * time.Second)
		if !ok {
			t.Fatal("no answer to an unlisted subscription")
		}
		if m.ID != "unlisted" {
			continue
		}
		// gqlgen answers a refused operation with its errors (as "next").
		if !strings.Contains(string(m.Payload), trusted.Code) || strings.Contains(string(m.Payload), `"articleUpdated"`) {
			t.Errorf("an unlisted subscription over a websocket: %s %s", m.Type, m.Payload)
		}
		return
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
