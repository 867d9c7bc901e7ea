package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// LiveMessage is one graphql-transport-ws message from the server, or one
// Server-Sent Event (Type "next" or "complete").
type LiveMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// LiveClient speaks graphql-transport-ws over a real websocket, as the
// graphql-ws npm client does: connection_init, subscribe, next/error/
// complete, and pong to every ping.
type LiveClient struct {
	conn *websocket.Conn
	msgs chan LiveMessage
	err  error // why reading stopped; set before msgs is closed
}

// DialLive opens a websocket to /graphql and sends connection_init with
// payload (nil: none). It returns once the server acknowledged, or the
// error the connection was closed with (websocket.CloseStatus reads its
// code).
func (s *Service) DialLive(ctx context.Context, payload map[string]any, header http.Header) (*LiveClient, error) {
	return DialLive(ctx, s.URL, payload, header)
}

// DialLive is Service.DialLive for a service anywhere (baseURL is its
// http:// address); the subscriptions benchmark uses it.
func DialLive(ctx context.Context, baseURL string, payload map[string]any, header http.Header) (*LiveClient, error) {
	url := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(16 << 20)
	// A small queue: the benchmark holds thousands of clients.
	c := &LiveClient{conn: conn, msgs: make(chan LiveMessage, 64)}
	init := map[string]any{"type": "connection_init"}
	if payload != nil {
		init["payload"] = payload
	}
	if err := c.send(ctx, init); err != nil {
		return nil, err
	}
	go c.read()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			return nil, c.err
		}
		if m.Type != "connection_ack" {
			// The server explains a refusal, then closes.
			for range c.msgs {
			}
			return nil, c.err
		}
		return c, nil
	case <-ctx.Done():
		conn.CloseNow()
		return nil, ctx.Err()
	}
}

func (c *LiveClient) send(ctx context.Context, v any) error {
	b, _ := json.Marshal(v)
	return c.conn.Write(ctx, websocket.MessageText, b)
}

func (c *LiveClient) read() {
	defer close(c.msgs)
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var m LiveMessage
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Type {
		case "ping":
			_ = c.send(context.Background(), map[string]any{"type": "pong"})
		case "pong", "ka":
		default:
			c.msgs <- m
		}
	}
}

// Subscribe starts operation id.
func (c *LiveClient) Subscribe(t testing.TB, id, query string, vars map[string]any) {
	t.Helper()
	if err := c.Start(id, query, vars); err != nil {
		t.Fatal(err)
	}
}

// Start is Subscribe outside a test.
func (c *LiveClient) Start(id, query string, vars map[string]any) error {
	return c.send(context.Background(), map[string]any{"type": "subscribe", "id": id,
		"payload": map[string]any{"query": query, "variables": vars}})
}

// Next is the next message within d; ok is false when none came (or the
// connection ended: Err says why).
func (c *LiveClient) Next(d time.Duration) (LiveMessage, bool) { return nextOf(c.msgs, d) }

func nextOf(msgs <-chan LiveMessage, d time.Duration) (m LiveMessage, ok bool) {
	select {
	case m, ok = <-msgs:
		return m, ok
	case <-time.After(d):
		return LiveMessage{}, false
	}
}

// Closed waits up to d for the server to close the connection, and
// returns its close code (-1 if it did not close).
func (c *LiveClient) Closed(d time.Duration) websocket.StatusCode {
	deadline := time.After(d)
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				return websocket.CloseStatus(c.err)
			}
		case <-deadline:
			return -1
		}
	}
}

// Close ends the connection normally.
func (c *LiveClient) Close() { _ = c.conn.Close(websocket.StatusNormalClosure, "") }

// EventStream is a GraphQL subscription over Server-Sent Events.
type EventStream struct {
	res  *http.Response
	msgs chan LiveMessage
}

// Stream POSTs a subscription with Accept: text/event-stream and reads its
// events as they come. The stream ends with the test.
func (s *Service) Stream(t testing.TB, query string, vars map[string]any, header ...string) (*EventStream, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	es := &EventStream{res: res, msgs: make(chan LiveMessage, 1024)}
	if res.StatusCode != http.StatusOK {
		close(es.msgs)
		return es, res.StatusCode
	}
	go es.read()
	return es, res.StatusCode
}

func (es *EventStream) read() {
	defer close(es.msgs)
	sc := bufio.NewScanner(es.res.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var m LiveMessage
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			m.Type = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			m.Payload = json.RawMessage(strings.TrimSpace(strings.TrimPrefix(line, "data:")))
		case line == "" && m.Type != "":
			es.msgs <- m
			m = LiveMessage{}
		}
	}
}

// Next is the next event within d; ok is false when none came or the
// stream ended.
func (es *EventStream) Next(d time.Duration) (LiveMessage, bool) { return nextOf(es.msgs, d) }
