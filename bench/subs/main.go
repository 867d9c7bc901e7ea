// Command subs measures live subscriptions: it builds and starts the real
// server as a child process (Redis shared when two instances run), opens
// N graphql-transport-ws subscribers to articlePublished over loopback,
// has an editor publish M stories through the publishArticle mutation, and
// reports publish-to-delivery latency (from sending the mutation to each
// subscriber reading the story), the editor's wait for the mutation's
// answer, the server's CPU time per delivery and its Go heap per
// subscriber. The editor and the database (an embedded FerretDB shared by
// every instance) run in a child process of their own, not among the load
// generator's readers (editor.go). In the same run a bare fan-out server (this
// binary again, in its own process: no GraphQL, no database; it writes one
// pre-built `next` message to every open connection) serves the same
// subscribers through the same load generator, so the machine's own limit
// is on record beside the service's.
//
// With -transport sse the subscribers are event streams (graphql-sse's
// distinct-connections mode: POST with Accept: text/event-stream) over
// HTTP/2 without TLS, many to a connection, as a proxy in front of the
// service would carry its readers: one socket per subscriber cannot pass
// the open-file limit (20,000 here), streams can.
//
// Each story is published 200 ms after the previous one reached every
// subscriber. Publishing at a fixed pace instead overloads this machine at
// 50,000 (a story costs the server about 6 CPU-seconds over its
// deliveries, on two cores), so latencies would measure a growing queue;
// and the bare server's own slow answer would pace its stories more
// slowly than the service's, so the two would not get the same load.
//
//	go run ./bench/subs [-n 10000] [-m 10] [-instances 1|2] [-transport ws|sse]
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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	n := flag.Int("n", 10000, "concurrent subscribers")
	m := flag.Int("m", 10, "stories published")
	instances := flag.Int("instances", 1, "service instances sharing Redis (1 or 2); subscribers are spread over them")
	bare := flag.Bool("bare-server", false, "run as the bare fan-out server (used by the benchmark itself)")
	flag.StringVar(&transport, "transport", "ws", "ws: a graphql-transport-ws websocket per subscriber; sse: an event stream per subscriber over HTTP/2 without TLS, up to 1,000 to a connection")
	flag.Parse()
	if transport != "ws" && transport != "sse" {
		fmt.Fprintln(os.Stderr, "subs: -transport is ws or sse")
		os.Exit(2)
	}
	raiseFileLimit()
	if *bare {
		serveBare()
		return
	}
	if os.Getenv(roleEnv) == "editor" {
		serveEditor()
		return
	}
	ctx := context.Background()
	ed, err := startEditor(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subs: editor:", err)
		os.Exit(1)
	}
	defer ed.stop()
	bareRes, err := runBare(ctx, ed, *n, *m, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subs: bare:", err)
		ed.stop()
		os.Exit(1)
	}
	fmt.Println("transport", transport)
	fmt.Println("bare  ", bareRes)
	res, err := run(ctx, ed, *n, *m, *instances, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "subs:", err)
		ed.stop()
		os.Exit(1)
	}
	fmt.Println("newsgraph", res)
	fmt.Printf("ratios to bare: p50 %.2f  p99 %.2f  CPU/delivery %.2f\n",
		float64(res.P50)/float64(bareRes.P50), float64(res.P99)/float64(bareRes.P99), res.CPUPerDelivery/bareRes.CPUPerDelivery)
}

// Result is what one run measured.
type Result struct {
	Subscribers, Stories, Instances int
	P50, P99, Max                   time.Duration
	Deliveries                      int
	HeapPerSub                      float64 // bytes
	CPUPerDelivery                  float64 // seconds
	ConnectTime                     time.Duration
	PublishP50, PublishMax          time.Duration // the editor's publish answer
}

func (r Result) String() string {
	return fmt.Sprintf("subscribers=%d instances=%d stories=%d deliveries=%d connect=%s publish answer p50=%s max=%s\n"+
		"  publish-to-delivery p50=%s p99=%s max=%s  CPU/delivery=%.2fµs  heap/subscriber=%.1f KiB",
		r.Subscribers, r.Instances, r.Stories, r.Deliveries, r.ConnectTime.Round(time.Millisecond),
		r.PublishP50.Round(10*time.Microsecond), r.PublishMax.Round(10*time.Microsecond),
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond),
		r.CPUPerDelivery*1e6, r.HeapPerSub/1024)
}

const editorKey = "ng_bench-subscriptions-editor"

// transport is how subscribers connect: "ws" or "sse".
var transport = "ws"

// target is a server under test: where subscribers connect, how a story is
// published (returning its id and when the publish was sent), and its
// process for CPU and heap.
type target struct {
	urls    []string
	procs   []*process
	publish func(ctx context.Context, j int) (id string, sent time.Time, answered time.Duration, err error)
	query   string
}

func run(ctx context.Context, ed *editor, n, m, instances int, logw io.Writer) (Result, error) {
	dir, err := os.MkdirTemp("", "newsgraph-subs-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	uri, err := ed.database()
	if err != nil {
		return Result{}, err
	}
	bin := filepath.Join(dir, "newsgraph")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/newsgraph/newsgraph")
	build.Stderr = logw
	if err := build.Run(); err != nil {
		return Result{}, fmt.Errorf("build: %w", err)
	}
	env := []string{"MONGODB_URI=" + uri, "DEMO_CONTENT=false", "DEMO_EDITOR_KEY=" + editorKey,
		"REDIS_URL=", "LOG_LEVEL=info", "LIVE_CONNECTIONS_PER_KEY=" + strconv.Itoa(n+10)}
	if instances > 1 {
		env = append(env, "REDIS_URL=redis://127.0.0.1:6379/0", "REDIS_PREFIX=bench-subs-"+strconv.Itoa(os.Getpid())+":")
	}
	t := &target{query: `subscription { articlePublished { id } }`}
	for i := range instances {
		p, err := startProcess(ctx, bin, nil, append(env, "DATA_DIR="+filepath.Join(dir, "data"+strconv.Itoa(i))), logw)
		if err != nil {
			return Result{}, err
		}
		defer p.stop()
		t.procs = append(t.procs, p)
		t.urls = append(t.urls, p.url)
	}
	t.publish = ed.publisher("newsgraph", t.urls[0])
	return measure(ctx, t, n, m, instances)
}

func runBare(ctx context.Context, ed *editor, n, m int, logw io.Writer) (Result, error) {
	self, err := os.Executable()
	if err != nil {
		return Result{}, err
	}
	p, err := startProcess(ctx, self, []string{"-bare-server"}, nil, logw)
	if err != nil {
		return Result{}, err
	}
	defer p.stop()
	t := &target{urls: []string{p.url}, procs: []*process{p}, query: `subscription { articlePublished { id } }`}
	t.publish = ed.publisher("bare", p.url)
	return measure(ctx, t, n, m, 1)
}

// subscriber is one load-generator subscription; it notes when each story
// reached it.
type subscriber struct {
	close func()
	mu    sync.Mutex
	got   map[string]time.Time
}

// heard notes the story named in message b, if any.
func (s *subscriber) heard(b []byte, at time.Time) bool {
	i := bytes.Index(b, storyID)
	if i < 0 {
		return false
	}
	rest := b[i+len(storyID):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		s.mu.Lock()
		s.got[string(rest[:j])] = at
		s.mu.Unlock()
	}
	return true
}

func measure(ctx context.Context, t *target, n, m, instances int) (Result, error) {
	heap0 := 0.0
	for _, p := range t.procs {
		h, err := p.heap()
		if err != nil {
			return Result{}, err
		}
		heap0 += h
	}
	subs := make([]*subscriber, n)
	dialers := sourceAddresses(n)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				s, err := dial(ctx, dialers[i%len(dialers)], t.urls[i%len(t.urls)], t.query, m)
				if err != nil {
					errs <- fmt.Errorf("subscriber %d: %w", i, err)
					return
				}
				subs[i] = s
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return Result{}, err
	}
	connect := time.Since(start)
	defer func() {
		for _, s := range subs {
			s.close()
		}
	}()
	time.Sleep(2 * time.Second) // every subscription registered
	heap1, cpu0 := 0.0, 0.0
	for _, p := range t.procs {
		h, err := p.heap()
		if err != nil {
			return Result{}, err
		}
		heap1 += h
		cpu0 += p.cpu()
	}
	sent := map[string]time.Time{}
	var answers []time.Duration
	for j := range m {
		id, at, answered, err := t.publish(ctx, j)
		if err != nil {
			return Result{}, err
		}
		sent[id] = at
		answers = append(answers, answered)
		// The next story once this one has reached every subscriber (or
		// 30 s have passed): each publish is answered, and each story
		// delivered, beside N idle subscribers, not behind the previous
		// story's fan-out.
		for wait := time.Now().Add(30 * time.Second); time.Now().Before(wait) && heardBy(subs, id) < n; {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Wait for every delivery (or give up after a quiet spell).
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && delivered(subs) < n*m {
		time.Sleep(100 * time.Millisecond)
	}
	cpu1 := 0.0
	for _, p := range t.procs {
		cpu1 += p.cpu()
	}
	var lat []time.Duration
	for _, s := range subs {
		s.mu.Lock()
		for id, at := range s.got {
			if t0, ok := sent[id]; ok {
				lat = append(lat, at.Sub(t0))
			}
		}
		s.mu.Unlock()
	}
	if len(lat) == 0 {
		return Result{}, errors.New("no story reached any subscriber")
	}
	slices.Sort(lat)
	slices.Sort(answers)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return Result{Subscribers: n, Stories: m, Instances: instances, Deliveries: len(lat), P50: pct(.50), P99: pct(.99), Max: lat[len(lat)-1],
		HeapPerSub: (heap1 - heap0) / float64(n), CPUPerDelivery: (cpu1 - cpu0) / float64(len(lat)), ConnectTime: connect,
		PublishP50: answers[len(answers)/2], PublishMax: answers[len(answers)-1]}, nil
}

// heardBy is how many subscribers have story id.
func heardBy(subs []*subscriber, id string) int {
	total := 0
	for _, s := range subs {
		s.mu.Lock()
		if _, ok := s.got[id]; ok {
			total++
		}
		s.mu.Unlock()
	}
	return total
}

func delivered(subs []*subscriber) int {
	total := 0
	for _, s := range subs {
		s.mu.Lock()
		total += len(s.got)
		s.mu.Unlock()
	}
	return total
}

// sourceAddresses spreads connections over 127.R.0.2, 127.R.0.3, ... (R
// the run) so
// that no (source, destination) pair runs out of ephemeral ports (about
// 28,000 each).
func sourceAddresses(n int) []*http.Client {
	if transport == "sse" {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		// New connections open as each fills to the server's stream limit.
		return []*http.Client{{Transport: &http.Transport{Protocols: p}}}
	}
	// Each run dials from addresses of its own: the previous run's closed
	// connections wait out TIME_WAIT on their ports for a minute, and
	// binding a new one beside them took the next run's connects from 3 s
	// to 30 s at 10,000.
	runs++
	k := n/20000 + 1
	clients := make([]*http.Client, k)
	for i := range k {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, byte(runs), 0, byte(2+i))}, Timeout: 30 * time.Second}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	return clients
}

// runs counts the runs that dialled websockets, for their source addresses.
var runs int

var storyID = []byte(`"articlePublished":{"id":"`)

func dial(ctx context.Context, client *http.Client, base, query string, m int) (*subscriber, error) {
	var err error
	for range 5 {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		var s *subscriber
		s, err = dialOnce(dctx, client, base, query, m)
		cancel()
		if err == nil {
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

func dialOnce(ctx context.Context, client *http.Client, base, query string, m int) (*subscriber, error) {
	if transport == "sse" {
		return dialStream(ctx, client, base, query, m)
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{HTTPClient: client, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`)); err != nil {
		conn.CloseNow()
		return nil, err
	}
	if _, b, err := conn.Read(ctx); err != nil || !bytes.Contains(b, []byte("connection_ack")) {
		conn.CloseNow()
		return nil, fmt.Errorf("no ack: %v %s", err, b)
	}
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": query}})
	if err := conn.Write(ctx, websocket.MessageText, sub); err != nil {
		conn.CloseNow()
		return nil, err
	}
	s := &subscriber{close: func() { conn.CloseNow() }, got: make(map[string]time.Time, m)}
	go func() {
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			if !s.heard(b, time.Now()) && bytes.Contains(b, []byte(`"type":"ping"`)) {
				_ = conn.Write(context.Background(), websocket.MessageText, []byte(`{"type":"pong"}`))
			}
		}
	}()
	return s, nil
}

// dialStream subscribes with an event stream: the response's headers are
// the server's acceptance, then each `data:` line is a message.
func dialStream(ctx context.Context, client *http.Client, base, query string, m int) (*subscriber, error) {
	body, _ := json.Marshal(map[string]any{"query": query})
	streamCtx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(streamCtx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	stop := context.AfterFunc(ctx, cancel) // dial deadline, until the headers come
	res, err := client.Do(req)
	stop()
	if err != nil {
		cancel()
		return nil, err
	}
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 {
		res.Body.Close()
		cancel()
		return nil, fmt.Errorf("event stream: %s over HTTP/%d", res.Status, res.ProtoMajor)
	}
	s := &subscriber{close: cancel, got: make(map[string]time.Time, m)}
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if b, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:")); ok {
				s.heard(b, time.Now())
			}
		}
	}()
	return s, nil
}

// raiseFileLimit lifts the limit on open files: the
// benchmark holds one socket per subscriber (and the server, which
// inherits the limit, another).
func raiseFileLimit() {
	// Past the hard limit where allowed (root, CAP_SYS_RESOURCE): 50,000
	// subscribers need more than the usual 20,000.
	want := syscall.Rlimit{Cur: 200_000, Max: 200_000}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return
	}
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// process is a server under test, run as a child process; it prints a JSON
// line {"msg":"listening","addr":...} when ready.
type process struct {
	cmd *exec.Cmd
	url string
}

func startProcess(ctx context.Context, bin string, args, env []string, logw io.Writer) (*process, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "PORT=0", "HOST=127.0.0.1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			p.url = "http://" + line.Addr
			break
		}
	}
	if p.url == "" {
		p.stop()
		return nil, errors.New(bin + " did not say where it listens")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return p, nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	waitOrKill(p.cmd)
}

// waitOrKill waits for a child told to stop, killing it after 20 s.
func waitOrKill(cmd *exec.Cmd) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
	}
}

// cpu is the process's user plus system CPU time so far, in seconds.
func (p *process) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// heap is the process's Go heap in use, from its /metrics.
func (p *process) heap() (float64, error) {
	res, err := http.Get(p.url + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, errors.New("no go_memstats_heap_inuse_bytes in /metrics")
}

// mutate runs a mutation as the editor and returns the id it answers with.
func mutate(ctx context.Context, base, doc string, vars map[string]any) (string, error) {
	body, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
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
