package graph

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/newsgraph/newsgraph/internal/live"
)

// The graphql-transport-ws protocol (github.com/enisdenjo/graphql-ws,
// PROTOCOL.md), served here rather than by gqlgen's transport so that
// subscriptions share execution (see fanout.go) and a connection costs one
// goroutine, its reader: keep-alive pings ride a timer, writes a goroutine
// that exists only while there is something to send.

const transportWS = "graphql-transport-ws"

// Close codes of the protocol.
const (
	closeBadMessage       = 4400
	closeUnauthorized     = 4401
	closeInitTimeout      = 4408
	closeDuplicateID      = 4409
	closeTooManyInits     = 4429
	payloadReadLimit      = 1 << 20
	pingsUnansweredCutoff = 2
)

func wantsTransportWS(r *http.Request) bool {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if strings.TrimSpace(p) == transportWS {
				return true
			}
		}
	}
	return false
}

// wsConn is one graphql-transport-ws connection.
type wsConn struct {
	t       liveWebsocket
	exec    graphql.GraphExecutor
	conn    *coderws.Conn
	headers http.Header
	out     sendQueue

	mu       sync.Mutex
	ctx      context.Context // the viewer's, once acknowledged
	acked    bool
	inited   bool
	closed   bool
	subs     map[string]*wsSub
	unponged int
	timer    *time.Timer
	closing  chan struct{} // closed once hangUp's close handshake is over
}

// wsSub is one subscription on a connection, a member of its group.
type wsSub struct {
	c     *wsConn
	id    string
	head  []byte // {"id":"<id>","type":"next","payload":
	leave func()
}

func (s *wsSub) Deliver(result []byte) bool {
	return s.c.out.push(frame{head: s.head, body: result, tail: nextTail}, true)
}

func (s *wsSub) Cut() {
	s.c.hangUp(live.CloseSlowConsumer, "slow consumer: too many undelivered events")
}

func (s *wsSub) Complete() {
	s.c.mu.Lock()
	delete(s.c.subs, s.id)
	s.c.mu.Unlock()
	s.c.send(wsHead(s.id, "complete", false))
}

func (t liveWebsocket) serveTransportWS(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	conn, err := coderws.Accept(smallBuffers{w}, r, &coderws.AcceptOptions{
		Subprotocols: []string{transportWS}, OriginPatterns: t.origins})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(payloadReadLimit)
	c := &wsConn{t: t, exec: exec, conn: conn, headers: r.Header, subs: map[string]*wsSub{}}
	c.out = sendQueue{limit: t.hub.Buffer(), write: func(b []byte) error {
		return conn.Write(context.Background(), coderws.MessageText, b)
	}, broken: func() { _ = conn.CloseNow() }}
	// The connection is read on a goroutine of its own and the handler
	// returns, so net/http lets go of the request and of its 4 KiB buffers
	// each way, which the hijacked connection no longer uses: an idle
	// subscriber's memory. Its context keeps the request's values and
	// ends with the connection (the admission's release waits for that),
	// not with the handler.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	ctx = live.WithHangUp(ctx, c.hangUp)
	ctx = context.WithValue(ctx, remoteAddrKey{}, r.RemoteAddr)
	c.ctx = ctx
	c.timer = time.AfterFunc(10*time.Second, c.tick)
	go func() {
		defer cancel()
		defer c.end()
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			if !c.handle(data) {
				return
			}
		}
	}()
}

// smallBuffers hands the websocket library read and write buffers sized for
// graphql-transport-ws messages instead of net/http's 4 KiB each way: an
// idle subscriber holds 2 KiB of them, not 8. A larger message is read and
// written through them all the same, in more system calls.
type smallBuffers struct{ http.ResponseWriter }

const wsBufferSize = 1 << 10

func (s smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	r := brw.Reader
	if r.Buffered() == 0 { // else what the client sent early is read first, from net/http's
		r = bufio.NewReaderSize(conn, wsBufferSize)
	}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(conn, wsBufferSize)), nil
}

func (s smallBuffers) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// tick is the connection's one timer: the init deadline first, then a
// ping every KeepAlive; a peer that leaves pings unanswered is gone.
func (c *wsConn) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if !c.acked {
		go c.hangUp(closeInitTimeout, "Connection initialisation timeout")
		return
	}
	if c.unponged >= pingsUnansweredCutoff {
		go c.conn.CloseNow()
		return
	}
	c.unponged++
	c.out.push(frame{head: pingMessage}, false)
	c.timer.Reset(KeepAlive)
}

var (
	pingMessage = []byte(`{"type":"ping"}`)
	pongMessage = []byte(`{"type":"pong"}`)
	ackMessage  = []byte(`{"type":"connection_ack"}`)
)

type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// handle answers one message; false ends the connection.
func (c *wsConn) handle(data []byte) bool {
	var m wsMessage
	if json.Unmarshal(data, &m) != nil {
		c.hangUp(closeBadMessage, "Invalid message received")
		return false
	}
	switch m.Type {
	case "connection_init":
		return c.init(m.Payload)
	case "ping":
		c.send(pongMessage)
	case "pong":
		c.mu.Lock()
		c.unponged = 0
		c.mu.Unlock()
	case "subscribe":
		return c.subscribe(m.ID, m.Payload)
	case "complete":
		c.mu.Lock()
		s := c.subs[m.ID]
		delete(c.subs, m.ID)
		c.mu.Unlock()
		if s != nil && s.leave != nil {
			s.leave()
		}
	default:
		c.hangUp(closeBadMessage, "Invalid message received")
		return false
	}
	return true
}

func (c *wsConn) init(payload json.RawMessage) bool {
	c.mu.Lock()
	again := c.inited
	c.inited = true
	ctx := c.ctx
	c.mu.Unlock()
	if again {
		c.hangUp(closeTooManyInits, "Too many initialisation requests")
		return false
	}
	var p map[string]any
	if len(payload) > 0 && string(payload) != "null" && json.Unmarshal(payload, &p) != nil {
		c.hangUp(closeBadMessage, "Invalid message received")
		return false
	}
	ctx, code, err := c.t.authorize(ctx, p)
	if err != nil {
		c.hangUp(code, err.Error())
		return false
	}
	c.mu.Lock()
	c.ctx, c.acked = ctx, true
	c.timer.Reset(KeepAlive)
	c.mu.Unlock()
	c.send(ackMessage)
	return true
}

func (c *wsConn) subscribe(id string, payload json.RawMessage) bool {
	c.mu.Lock()
	acked, ctx := c.acked, c.ctx
	_, dup := c.subs[id]
	if acked && !dup && id != "" && !c.closed {
		c.subs[id] = &wsSub{c: c, id: id} // reserved until it joins
	}
	c.mu.Unlock()
	switch {
	case !acked:
		c.hangUp(closeUnauthorized, "Unauthorized")
		return false
	case id == "":
		c.hangUp(closeBadMessage, "Invalid message received")
		return false
	case dup:
		c.hangUp(closeDuplicateID, "Subscriber for "+id+" already exists")
		return false
	}
	params := &graphql.RawParams{}
	if err := json.Unmarshal(payload, params); err != nil {
		c.finish(id, wsHead(id, "error", true), errorsJSON(gqlerror.List{{Message: "invalid json"}}))
		return true
	}
	params.Headers = c.headers
	op, resp, protocol := prepare(ctx, c.exec, params)
	switch {
	case resp != nil && protocol:
		c.finish(id, wsHead(id, "error", true), errorsJSON(resp.Errors))
	case resp != nil:
		c.finish(id, wsHead(id, "next", true), responseJSON(resp))
	case !op.subscribes():
		// A query or mutation over the socket: answered once, off the
		// reader so the connection keeps reading.
		go func() { c.finish(id, wsHead(id, "next", true), responseJSON(orEmpty(op.once(op.ctx)))) }()
	default:
		if resp := op.probe(); resp != nil {
			c.finish(id, wsHead(id, "next", true), responseJSON(resp))
			return true
		}
		c.mu.Lock()
		s := c.subs[id]
		if s == nil || c.closed { // completed by the client meanwhile
			c.mu.Unlock()
			return true
		}
		s.head = wsHead(id, "next", true)
		c.mu.Unlock()
		leave := c.t.hub.Join(op.groupKey(), op.execute(), s)
		c.mu.Lock()
		if c.subs[id] == s && !c.closed {
			s.leave = leave
			leave = nil
		}
		c.mu.Unlock()
		if leave != nil {
			leave()
		}
	}
	return true
}

func orEmpty(r *graphql.Response) *graphql.Response {
	if r == nil {
		return &graphql.Response{}
	}
	return r
}

// finish sends an operation's one answer and its end.
func (c *wsConn) finish(id string, head, body []byte) {
	c.mu.Lock()
	delete(c.subs, id)
	c.mu.Unlock()
	c.out.push(frame{head: head, body: body, tail: nextTail}, false)
	c.send(wsHead(id, "complete", false))
}

func (c *wsConn) send(msg []byte) { c.out.push(frame{head: msg}, false) }

// hangUp closes the connection with code (live.HangUp).
func (c *wsConn) hangUp(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closing = make(chan struct{})
	// Its subscriptions leave their groups now, not when the close
	// handshake is over: a slow peer can take seconds to read its backlog
	// and take the close frame, and no event is for it any more.
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for _, s := range subs {
		if s.leave != nil {
			s.leave()
		}
	}
	c.out.stop()
	go func() {
		defer close(c.closing)
		_ = c.conn.Close(coderws.StatusCode(code), reason)
	}()
}

// end takes the connection's subscriptions out of their groups.
func (c *wsConn) end() {
	c.mu.Lock()
	c.closed = true
	c.timer.Stop()
	subs := make([]*wsSub, 0, len(c.subs))
	for _, s := range c.subs {
		subs = append(subs, s)
	}
	c.subs = nil
	closing := c.closing
	c.mu.Unlock()
	for _, s := range subs {
		if s.leave != nil {
			s.leave()
		}
	}
	c.out.stop()
	if closing != nil {
		// The close handshake hangUp started says why (coder/websocket
		// gives up on a silent peer after 5 s).
		<-closing
		return
	}
	_ = c.conn.CloseNow()
}

// authorize is the connection_init check shared by both websocket
// transports: a close code and reason when refused.
func (t liveWebsocket) authorize(ctx context.Context, payload map[string]any) (context.Context, int, error) {
	ctx2, _, err := t.init(ctx, transport.InitPayload(payload))
	if err != nil {
		code := closeForbidden
		if errors.Is(err, live.ErrTooManyConnections) || errors.Is(err, live.ErrShuttingDown) {
			code = closeTooManyRequests
		}
		return ctx, code, err
	}
	return ctx2, 0, nil
}
