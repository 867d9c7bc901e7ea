package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestAutomaticPersistedQueries(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	svc.AddArticles(t, testenv.NewArticle("apq-story", time.Now().Add(-time.Hour)))
	query := `query Front { articles(first: 5) { edges { node { slug } } } }`
	sum := sha256.Sum256([]byte(query))
	ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}})

	get := func() *testenv.Response {
		req, _ := http.NewRequest(http.MethodGet, svc.URL+"/graphql?extensions="+url.QueryEscape(string(ext)), nil)
		return testenv.Do(t, req)
	}
	if res := get(); len(res.Errors) == 0 || res.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %+v", res.Errors)
	}
	// Register it once with the full text...
	req, _ := http.NewRequest(http.MethodGet, svc.URL+"/graphql?query="+url.QueryEscape(query)+"&extensions="+url.QueryEscape(string(ext)), nil)
	if res := testenv.Do(t, req); len(res.Errors) > 0 {
		t.Fatalf("register: %+v", res.Errors)
	}
	// ...then the hash alone is enough, over GET.
	res := get()
	var data struct{ Articles pageJSON }
	res.Decode(t, &data)
	if len(data.Articles.Edges) != 1 || data.Articles.Edges[0].Node.Slug != "apq-story" {
		t.Fatalf("persisted query answered %s", res.Data)
	}
}

func TestGETCannotMutateAndPlaygroundAndHealthAnswer(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	res, err := http.Get(svc.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "/graphql") || !strings.Contains(strings.ToLower(string(body)), "graphiql") {
		t.Fatalf("playground: %d %.200s", res.StatusCode, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(svc.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		_ = json.NewDecoder(res.Body).Decode(&v)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s = %d %v", path, res.StatusCode, v)
		}
	}
}
