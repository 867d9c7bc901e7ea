package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Shared execution of subscriptions, for both live transports: an
// operation is checked once when it subscribes, then joins the hub's group
// of everyone asking the same (document, variables, role). The hub runs
// the group's execute once per event and the transports send its bytes to
// every member; websocket frames differ only in the operation id.

// operation is one parsed request on a live transport.
type operation struct {
	exec graphql.GraphExecutor
	ctx  context.Context
	rc   *graphql.OperationContext
}

// prepare parses and validates params as the HTTP transports do. A non-nil
// response is the operation's whole answer (its errors); the transport
// sends it and completes.
func prepare(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams) (*operation, *graphql.Response, bool) {
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return nil, resp, errcode.GetErrorKind(errs) == errcode.KindProtocol
	}
	return &operation{exec: exec, ctx: ctx, rc: rc}, nil, false
}

// once runs a query or mutation (or a subscription under live.Probe) to its
// first answer.
func (o *operation) once(ctx context.Context) *graphql.Response {
	responses, ctx := o.exec.DispatchOperation(ctx, o.rc)
	return responses(ctx)
}

func (o *operation) subscribes() bool { return o.rc.Operation.Operation == ast.Subscription }

// probe resolves the subscription without an event: nil when it may join a
// group, else the error answer it ends with (an unknown id, a field the
// role may not see).
func (o *operation) probe() *graphql.Response { return o.once(live.Probe(o.ctx)) }

// groupKey names what the subscriber asks for: the role is part of it, so
// an editor's view of a draft never reaches a reader sharing the document.
func (o *operation) groupKey() string {
	vars, _ := json.Marshal(o.rc.Variables) // map keys come out sorted
	return string(news.ViewerFrom(o.ctx).Role) + "\x00" + o.rc.OperationName + "\x00" + o.rc.RawQuery + "\x00" + string(vars)
}

// execute is the group's execution for one event: the first member's
// operation, detached from its connection (the group outlives it).
func (o *operation) execute() live.Execute {
	base := context.WithoutCancel(o.ctx)
	return func(e *live.Event) []byte {
		resp := o.once(e.Into(base))
		if resp == nil {
			return nil
		}
		b, err := json.Marshal(resp)
		if err != nil {
			return nil
		}
		return b
	}
}

// sendQueue is a connection's bounded queue of outgoing messages, written
// by a goroutine that exists only while there is something to write: an
// idle subscriber costs no goroutine beyond its reader.
type sendQueue struct {
	mu       sync.Mutex
	limit    int
	queue    []frame
	spare    []frame
	flushing bool
	done     bool
	// stopped is done for the writer between frames without the lock: a
	// connection being closed must not first write out a whole batch.
	stopped atomic.Bool
	write   func(b []byte) error
	broken  func()
}

// frame is one message: head, then body (a group's shared result), then
// tail. Shared results are never copied per subscriber until written.
type frame struct {
	head, body, tail []byte
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// push queues f; false when limit messages are already waiting (the
// subscriber is too slow) or the connection is gone.
func (q *sendQueue) push(f frame, bounded bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done {
		return true
	}
	if bounded && len(q.queue) >= q.limit {
		return false
	}
	q.queue = append(q.queue, f)
	if !q.flushing {
		q.flushing = true
		go q.flush()
	}
	return true
}

func (q *sendQueue) flush() {
	buf := framePool.Get().(*[]byte)
	defer framePool.Put(buf)
	for {
		q.mu.Lock()
		if len(q.queue) == 0 || q.done {
			q.flushing = false
			q.mu.Unlock()
			return
		}
		batch := q.queue
		q.queue = q.spare[:0]
		q.mu.Unlock()
		for i, f := range batch {
			if q.stopped.Load() {
				break
			}
			b := append(append(append((*buf)[:0], f.head...), f.body...), f.tail...)
			*buf = b
			batch[i] = frame{}
			if q.write(b) != nil {
				// A broken connection: its reader notices and cleans up.
				q.stop()
				if q.broken != nil {
					q.broken()
				}
				break
			}
		}
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
	}
}

// stop drops whatever is queued and refuses more.
func (q *sendQueue) stop() {
	q.stopped.Store(true)
	q.mu.Lock()
	q.done = true
	q.queue, q.spare = nil, nil
	q.mu.Unlock()
}

// Message heads and tails of graphql-transport-ws, built once.
var (
	nextTail = []byte("}")
	sseNext  = []byte("event: next\ndata: ")
	sseTail  = []byte("\n\n")
)

// wsHead is `{"id":"<id>","type":"<typ>"` plus, for next and error, the
// start of the payload.
func wsHead(id, typ string, payload bool) []byte {
	b := append([]byte(`{"id":`), strconv.Quote(id)...)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	if payload {
		return append(b, `","payload":`...)
	}
	return append(b, `"}`...)
}

// errorsJSON is a list of GraphQL errors as the payload of an error message.
func errorsJSON(errs gqlerror.List) []byte {
	b, err := json.Marshal(errs)
	if err != nil || bytes.Equal(b, []byte("null")) {
		return []byte("[]")
	}
	return b
}

func responseJSON(resp *graphql.Response) []byte {
	b, err := json.Marshal(resp)
	if err != nil {
		return []byte(`{"errors":[{"message":"internal system error"}]}`)
	}
	return b
}
