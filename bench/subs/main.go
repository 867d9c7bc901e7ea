// Command subs measures live subscriptions on one instance: it builds and
// starts the real server (embedded database, no Redis), opens N websocket
// subscribers to articlePublished over loopback, publishes M stories
// through the publishArticle mutation, and reports publish-to-delivery
// latency (from sending the mutation to each subscriber reading the story)
// and the server's memory per subscriber (Go heap in use and RSS, after
// minus before connecting, over N).
//
//	go run ./bench/subs [-n 10000] [-m 20]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

func main() {
	n := flag.Int("n", 10000, "concurrent subscribers")
	m := flag.Int("m", 20, "stories published")
	flag.Parse()
	res, err := run(context.Background(), *n, *m, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subs:", err)
		os.Exit(1)
	}
	fmt.Println(res)
}

// Result is what one run measured.
type Result struct {
	Subscribers, Stories  int
	P50, P99, Max         time.Duration
	Deliveries            int
	HeapPerSub, RSSPerSub float64 // bytes
	ConnectTime           time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("subscribers=%d stories=%d deliveries=%d connect=%s\npublish-to-delivery p50=%s p99=%s max=%s\nserver memory per subscriber: heap %.1f KiB, RSS %.1f KiB",
		r.Subscribers, r.Stories, r.Deliveries, r.ConnectTime.Round(time.Millisecond),
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond),
		r.HeapPerSub/1024, r.RSSPerSub/1024)
}

const editorKey = "ng_bench-subscriptions-editor"

func run(ctx context.Context, n, m int, logw io.Writer) (Result, error) {
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "newsgraph-subs-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(ctx, dir, n, logw)
	if err != nil {
		return Result{}, err
	}
	defer srv.stop()

	heap0, rss0, err := srv.memory()
	if err != nil {
		return Result{}, err
	}
	// Each subscriber notes when each story reached it.
	got := make([]map[string]time.Time, n)
	var wg sync.WaitGroup
	clients := make([]*testenv.LiveClient, n)
	start := time.Now()
	for i := range n {
		c, err := dialRetry(ctx, srv.url)
		if err != nil {
			return Result{}, fmt.Errorf("subscriber %d: %w", i, err)
		}
		if err := c.Start("1", `subscription { articlePublished { id } }`, nil); err != nil {
			return Result{}, fmt.Errorf("subscriber %d: %w", i, err)
		}
		clients[i], got[i] = c, map[string]time.Time{}
	}
	connect := time.Since(start)
	time.Sleep(time.Second) // every subscription registered
	runtime.GC()
	heap1, rss1, err := srv.memory()
	if err != nil {
		return Result{}, err
	}
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(got[i]) < m {
				msg, ok := c.Next(30 * time.Second)
				if !ok {
					return
				}
				var p struct {
					Data struct{ ArticlePublished struct{ ID string } }
				}
				if json.Unmarshal(msg.Payload, &p) == nil {
					got[i][p.Data.ArticlePublished.ID] = time.Now()
				}
			}
		}()
	}
	sent := map[string]time.Time{}
	for j := range m {
		id, err := srv.mutate(ctx, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"headline": "Bench story " + strconv.Itoa(j), "body": "Text."}})
		if err != nil {
			return Result{}, err
		}
		sent[id] = time.Now()
		if _, err := srv.mutate(ctx, `mutation($id: ID!) { publishArticle(id: $id) { id } }`, map[string]any{"id": id}); err != nil {
			return Result{}, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	var lat []time.Duration
	for i := range got {
		for id, at := range got[i] {
			lat = append(lat, at.Sub(sent[id]))
		}
	}
	for _, c := range clients {
		c.Close()
	}
	if len(lat) == 0 {
		return Result{}, errors.New("no story reached any subscriber")
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return Result{Subscribers: n, Stories: m, Deliveries: len(lat), P50: pct(.50), P99: pct(.99), Max: lat[len(lat)-1],
		HeapPerSub: float64(heap1-heap0) / float64(n), RSSPerSub: float64(rss1-rss0) / float64(n), ConnectTime: connect}, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard one: the
// benchmark holds one socket per subscriber (and the server, which
// inherits the limit, another).
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func dialRetry(ctx context.Context, url string) (*testenv.LiveClient, error) {
	var err error
	for range 5 {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var c *testenv.LiveClient
		c, err = testenv.DialLive(dctx, url, nil, nil)
		cancel()
		if err == nil {
			return c, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, err
}

// server is the real newsgraph binary, run as a child process.
type server struct {
	cmd *exec.Cmd
	url string
}

func startServer(ctx context.Context, dir string, n int, logw io.Writer) (*server, error) {
	bin := filepath.Join(dir, "newsgraph")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/newsgraph/newsgraph")
	build.Stderr = logw
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "PORT=0", "HOST=127.0.0.1", "DATA_DIR="+filepath.Join(dir, "data"),
		"DEMO_CONTENT=false", "DEMO_EDITOR_KEY="+editorKey, "REDIS_URL=", "LOG_LEVEL=info",
		"LIVE_CONNECTIONS_PER_KEY="+strconv.Itoa(n+10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			s.url = "http://" + line.Addr
			break
		}
	}
	if s.url == "" {
		s.stop()
		return nil, errors.New("the server did not say where it listens")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// memory is the server's Go heap in use (from /metrics) and its RSS.
func (s *server) memory() (heap, rss int64, err error) {
	res, err := http.Get(s.url + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			heap = int64(f)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return heap, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			rss = kb * 1024
		}
	}
	return heap, rss, nil
}

// mutate runs a mutation as the editor and returns the id it answers with.
func (s *server) mutate(ctx context.Context, doc string, vars map[string]any) (string, error) {
	body, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+editorKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		Data   map[string]struct{ ID string }
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		return "", fmt.Errorf("mutation failed: %v %s", err, out.Errors)
	}
	for _, v := range out.Data {
		return v.ID, nil
	}
	return "", errors.New("mutation answered no id")
}
