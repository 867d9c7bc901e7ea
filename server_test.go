package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// syncBuffer is the service's stdout, read while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

// start runs the service as main does and waits until /healthz answers.
func start(t *testing.T, env map[string]string) (base string, stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, out) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
			if res, err := http.Get(base + "/healthz"); err == nil {
				res.Body.Close()
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("service did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() string {
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
		return out.String()
	}
}

func countArticles(t *testing.T, base string) int {
	t.Helper()
	body := strings.NewReader(`{"query":"{ articles(first: 100) { edges { node { slug } } } }"}`)
	res, err := http.Post(base+"/graphql", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			Articles struct{ Edges []any }
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return len(out.Data.Articles.Edges)
}

// The zero-setup default: no MongoDB, no Redis, demo content loaded, data
// kept across a restart, a clean shutdown on cancel.
func TestRunEmbeddedDefaultServesDemoAndKeepsDataAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PORT": "0", "HOST": "127.0.0.1", "DATA_DIR": dir}

	base, stop := start(t, env)
	n := countArticles(t, base)
	if n < 40 {
		t.Fatalf("readers see %d demo articles, want at least 40", n)
	}
	res, err := http.Get(base + "/")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("playground: %v %v", res, err)
	}
	res.Body.Close()
	logs := stop()
	demoKeys := demoKeyLog.FindAllStringSubmatch(logs, -1)
	if len(demoKeys) != 2 || demoKeys[0][1] != "EDITOR" || demoKeys[1][1] != "ADMIN" {
		t.Fatalf("first start did not log one EDITOR and one ADMIN key:\n%s", logs)
	}
	for _, want := range []string{"embedded FerretDB", `"loaded_now":true`, "in-process only", "shutting down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs)
		}
	}

	env["DEMO_EDITOR_KEY"] = "demo-editor-key-from-the-readme"
	base, stop = start(t, env)
	if got := countArticles(t, base); got != n {
		t.Fatalf("after restart readers see %d articles, want %d", got, n)
	}
	// The logged keys survive the restart, and so does the key the README names.
	for _, key := range []string{demoKeys[0][2], env["DEMO_EDITOR_KEY"]} {
		if code := draftsCode(t, base, key); code != "" {
			t.Errorf("key %s: drafts answered %s", key, code)
		}
	}
	logs = stop()
	if !strings.Contains(logs, `"loaded_now":false`) {
		t.Errorf("demo content was loaded again on restart:\n%s", logs)
	}
	if demoKeyLog.MatchString(logs) {
		t.Errorf("a restart invented keys again:\n%s", logs)
	}
}

var demoKeyLog = regexp.MustCompile(`"msg":"demo API key created; it is shown only now","role":"(\w+)","id":"[^"]+","key":"([^"]+)"`)

// draftsCode lists drafts with key and returns the error code, "" for none.
func draftsCode(t *testing.T, base, key string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql",
		strings.NewReader(`{"query":"{ articles(filter: {status: DRAFT}) { edges { cursor } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Errors []struct{ Extensions struct{ Code string } }
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		return out.Errors[0].Extensions.Code
	}
	return ""
}

// A start on a real MongoDB (here: a FerretDB passed in as MONGODB_URI)
// never invents keys.
func TestRunWithMongoURIInventsNoKeys(t *testing.T) {
	db, err := devdb.Start(t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, stop := start(t, map[string]string{"PORT": "0", "HOST": "127.0.0.1", "MONGODB_URI": db.URI()})
	if logs := stop(); demoKeyLog.MatchString(logs) || strings.Contains(logs, "demo API key") {
		t.Fatalf("keys invented on MONGODB_URI:\n%s", logs)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"PORT": "eighty"}[k]
	}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "PORT") {
		t.Fatalf("got %v", err)
	}
}

// Shutting the server down completes live subscriptions and closes their
// websockets with 1001, rather than leaving hijacked connections behind.
func TestRunShutdownClosesLiveConnections(t *testing.T) {
	base, stop := start(t, map[string]string{"PORT": "0", "HOST": "127.0.0.1", "DATA_DIR": t.TempDir(),
		"DEMO_CONTENT": "false"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := testenv.DialLive(ctx, base, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Subscribe(t, "1", `subscription { articlePublished { id } }`, nil)
	time.Sleep(200 * time.Millisecond)
	stop()
	if m, ok := c.Next(10 * time.Second); !ok || m.Type != "complete" {
		t.Fatalf("want complete, got %q (ok=%v)", m.Type, ok)
	}
	if code := c.Closed(10 * time.Second); code != websocket.StatusGoingAway {
		t.Fatalf("closed with %d, want 1001", code)
	}
}

// A proxy in front may speak HTTP/2 without TLS (h2c, prior knowledge):
// queries, the desk's mutations and readers' live event streams all work
// over it, the streams sharing one connection.
func TestRunServesHTTP2WithoutTLS(t *testing.T) {
	const editor = "ng_test-h2c-editor"
	base, stop := start(t, map[string]string{"PORT": "0", "HOST": "127.0.0.1", "DATA_DIR": t.TempDir(),
		"DEMO_CONTENT": "false", "DEMO_EDITOR_KEY": editor})
	defer stop()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	post := func(ctx context.Context, key, query string, vars map[string]any, accept string) *http.Response {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.ProtoMajor != 2 || res.StatusCode != http.StatusOK {
			t.Fatalf("%s over HTTP/%d", res.Status, res.ProtoMajor)
		}
		return res
	}
	id := func(res *http.Response) string {
		t.Helper()
		defer res.Body.Close()
		var out struct {
			Data   map[string]struct{ ID string }
			Errors []json.RawMessage
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
			t.Fatalf("mutation: %v %s", err, out.Errors)
		}
		for _, v := range out.Data {
			return v.ID
		}
		t.Fatal("no id")
		return ""
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var streams []*http.Response
	for range 3 {
		res := post(ctx, "", `subscription { articlePublished { id headline } }`, nil, "text/event-stream")
		defer res.Body.Close()
		streams = append(streams, res)
	}
	time.Sleep(200 * time.Millisecond) // subscriptions registered
	story := id(post(ctx, editor, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"headline": "Ferry timetable restored", "body": "Sailings resume."}}, "application/json"))
	id(post(ctx, editor, `mutation($id: ID!) { publishArticle(id: $id) { id } }`, map[string]any{"id": story}, "application/json"))
	for i, res := range streams {
		sc := bufio.NewScanner(res.Body)
		heard := false
		for !heard && sc.Scan() {
			heard = strings.HasPrefix(sc.Text(), "data:") && strings.Contains(sc.Text(), story)
		}
		if !heard {
			t.Fatalf("stream %d ended without the story: %v", i, sc.Err())
		}
	}
}
