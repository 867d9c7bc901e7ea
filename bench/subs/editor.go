package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/devdb"
)

// The newsroom's side of the benchmark runs in a process of its own: the
// database the service writes to and the editor who publishes. In the load
// generator's process, tens of thousands of reader goroutines would stand
// in the scheduler's queue between every database round trip of the
// mutation, and between its answer and the editor reading it; the bare
// server's trivial /publish took 2.5 s to answer that way at 50,000
// subscribers. In production neither the database nor the editor shares a
// process with the readers.

// roleEnv names the role a child process of this binary plays.
const roleEnv = "NEWSGRAPH_SUBS_ROLE"

// editorRequest and editorAnswer are the lines exchanged with the editor
// process over its standard input and output.
type editorRequest struct {
	Op   string `json:"op"`             // "db" or "publish"
	Kind string `json:"kind,omitempty"` // "newsgraph" or "bare"
	URL  string `json:"url,omitempty"`
	J    int    `json:"j,omitempty"`
}

type editorAnswer struct {
	URI      string        `json:"uri,omitempty"`
	ID       string        `json:"id,omitempty"`
	Sent     int64         `json:"sent,omitempty"` // Unix nanoseconds: the wall clock is the machine's, shared
	Answered time.Duration `json:"answered,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// serveEditor is the editor process: it starts an embedded database (in a
// directory of its own, removed as it ends) when asked and publishes
// stories, one request at a time, until its input ends.
func serveEditor() {
	var db *devdb.Server
	dir, err := os.MkdirTemp("", "newsgraph-subs-db-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "editor:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	ctx := context.Background()
	for in.Scan() {
		var req editorRequest
		var ans editorAnswer
		err := json.Unmarshal(in.Bytes(), &req)
		switch {
		case err != nil:
		case req.Op == "db" && db == nil:
			db, err = devdb.Start(dir, slog.New(slog.DiscardHandler))
			if err == nil {
				ans.URI = db.URI()
			}
		case req.Op == "publish":
			var sent time.Time
			ans.ID, sent, ans.Answered, err = publish(ctx, req.Kind, req.URL, req.J)
			ans.Sent = sent.UnixNano()
		default:
			err = fmt.Errorf("unknown request %q", in.Text())
		}
		if err != nil {
			ans.Error = err.Error()
		}
		_ = out.Encode(ans)
	}
}

// publish puts story j live on the server at url: on newsgraph a draft is
// created, then the publishArticle mutation is timed; the bare server is
// told the id to send.
func publish(ctx context.Context, kind, url string, j int) (id string, sent time.Time, answered time.Duration, err error) {
	if kind == "bare" {
		id = "bare-story-" + strconv.Itoa(j)
		sent = time.Now()
		res, err := http.Post(url+"/publish?id="+id, "text/plain", nil)
		if err != nil {
			return "", sent, 0, err
		}
		res.Body.Close()
		return id, sent, time.Since(sent), nil
	}
	id, err = mutate(ctx, url, `mutation($in: ArticleInput!) { createArticle(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"headline": "Bench story " + strconv.Itoa(j), "body": "Text."}})
	if err != nil {
		return "", time.Time{}, 0, err
	}
	sent = time.Now()
	_, err = mutate(ctx, url, `mutation($id: ID!) { publishArticle(id: $id) { id } }`, map[string]any{"id": id})
	return id, sent, time.Since(sent), err
}

// editor is the load generator's handle on the editor process.
type editor struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Scanner
}

func startEditor(ctx context.Context, logw io.Writer) (*editor, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), roleEnv+"=editor")
	cmd.Stderr = logw
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &editor{cmd: cmd, in: in, out: bufio.NewScanner(out)}, nil
}

func (e *editor) ask(req editorRequest) (editorAnswer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := e.in.Write(append(b, '\n')); err != nil {
		return editorAnswer{}, err
	}
	if !e.out.Scan() {
		return editorAnswer{}, errors.New("the editor process ended")
	}
	var ans editorAnswer
	if err := json.Unmarshal(e.out.Bytes(), &ans); err != nil {
		return editorAnswer{}, err
	}
	if ans.Error != "" {
		return ans, errors.New(ans.Error)
	}
	return ans, nil
}

// database starts the embedded database in the editor process and returns
// its URI; it lasts as long as the editor process.
func (e *editor) database() (string, error) {
	ans, err := e.ask(editorRequest{Op: "db"})
	return ans.URI, err
}

// publisher publishes on the server of kind at url from the editor process.
func (e *editor) publisher(kind, url string) func(ctx context.Context, j int) (string, time.Time, time.Duration, error) {
	return func(_ context.Context, j int) (string, time.Time, time.Duration, error) {
		ans, err := e.ask(editorRequest{Op: "publish", Kind: kind, URL: url, J: j})
		return ans.ID, time.Unix(0, ans.Sent), ans.Answered, err
	}
}

// stop ends the editor process (and its database).
func (e *editor) stop() {
	_ = e.in.Close()
	waitOrKill(e.cmd)
}
