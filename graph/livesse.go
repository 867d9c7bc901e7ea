package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/newsgraph/newsgraph/internal/live"
)

// sseSub is a subscription over Server-Sent Events, a member of its group.
// Its writer is the request's own handler goroutine (net/http needs it
// anyway), woken when results are queued.
type sseSub struct {
	mu       sync.Mutex
	limit    int
	queue    [][]byte
	wake     chan struct{}
	cut      bool
	complete bool
}

func (s *sseSub) Deliver(result []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= s.limit {
		return false
	}
	s.queue = append(s.queue, result)
	s.signal()
	return true
}

func (s *sseSub) Cut() {
	s.mu.Lock()
	s.cut = true
	s.signal()
	s.mu.Unlock()
}

func (s *sseSub) Complete() {
	s.mu.Lock()
	s.complete = true
	s.signal()
	s.mu.Unlock()
}

func (s *sseSub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// serveShared streams one subscription from its group; false when the
// request is not a JSON subscription this path takes (the body is left as
// it was, for gqlgen's SSE transport).
func (t liveSSE) serveShared(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) bool {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, payloadReadLimit+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	params := &graphql.RawParams{}
	if err != nil || len(body) > payloadReadLimit || json.Unmarshal(body, params) != nil {
		return false
	}
	params.Headers = r.Header
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/event-stream")
	write := func(parts ...[]byte) {
		for _, p := range parts {
			_, _ = w.Write(p)
		}
		flusher.Flush()
	}
	write([]byte(":\n\n"))
	op, resp, _ := prepare(r.Context(), exec, params)
	switch {
	case resp != nil:
	case !op.subscribes():
		resp = orEmpty(op.once(op.ctx))
	default:
		resp = op.probe()
	}
	if resp != nil {
		write(sseNext, responseJSON(resp), sseTail)
		write(sseComplete)
		return true
	}
	s := &sseSub{limit: t.hub.Buffer(), wake: make(chan struct{}, 1)}
	leave := t.hub.Join(op.groupKey(), op.execute(), s)
	defer leave()
	ping := time.NewTicker(KeepAlive)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return true
		case <-ping.C:
			write([]byte(":\n\n"))
		case <-s.wake:
			s.mu.Lock()
			batch, cut, complete := s.queue, s.cut, s.complete
			s.queue = nil
			s.mu.Unlock()
			for _, b := range batch {
				_, _ = w.Write(sseNext)
				_, _ = w.Write(b)
				_, _ = w.Write(sseTail)
			}
			if complete {
				_, _ = w.Write(sseComplete)
			}
			flusher.Flush()
			if cut || complete {
				return true
			}
		}
	}
}

var sseComplete = []byte("event: complete\n\n")

var _ live.Member = (*sseSub)(nil)
