package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// serveBare is the machine's own limit: graphql-transport-ws handshake
// (connection_init, ack, one subscribe), then POST /publish?id= writes one
// pre-built `next` message to every open connection, split over one
// writer per core, and answers at once. No GraphQL, no database. Event
// streams (Accept: text/event-stream, over HTTP/2 without TLS as the
// service takes them) each get the pre-built `next` event from their own
// handler, which is how net/http serves a stream.
func serveBare() {
	var mu sync.Mutex
	conns := map[*websocket.Conn]struct{}{}
	streams := map[chan []byte]struct{}{}
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			ch := make(chan []byte, 16)
			mu.Lock()
			streams[ch] = struct{}{}
			mu.Unlock()
			defer func() { mu.Lock(); delete(streams, ch); mu.Unlock() }()
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			f := w.(http.Flusher)
			f.Flush()
			for {
				select {
				case msg := <-ch:
					_, _ = w.Write(msg)
					f.Flush()
				case <-r.Context().Done():
					return
				}
			}
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			return
		}
		ctx := context.Background()
		if _, _, err := c.Read(ctx); err != nil { // connection_init
			return
		}
		if c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_ack"}`)) != nil {
			return
		}
		if _, _, err := c.Read(ctx); err != nil { // subscribe
			return
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		for {
			if _, _, err := c.Read(ctx); err != nil {
				break
			}
		}
		mu.Lock()
		delete(conns, c)
		mu.Unlock()
		c.CloseNow()
	})
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		id, _ := json.Marshal(r.URL.Query().Get("id"))
		msg := fmt.Appendf(nil, `{"id":"1","type":"next","payload":{"data":{"articlePublished":{"id":%s}}}}`, id)
		event := fmt.Appendf(nil, "event: next\ndata: {\"data\":{\"articlePublished\":{\"id\":%s}}}\n\n", id)
		mu.Lock()
		all := make([]*websocket.Conn, 0, len(conns))
		for c := range conns {
			all = append(all, c)
		}
		for ch := range streams {
			select {
			case ch <- event:
			default: // a stream this far behind is a slow consumer
			}
		}
		mu.Unlock()
		workers := runtime.GOMAXPROCS(0)
		for k := range workers {
			go func() {
				for i := k; i < len(all); i += workers {
					_ = all[i].Write(context.Background(), websocket.MessageText, msg)
				}
			}()
		}
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "go_memstats_heap_inuse_bytes %d\n", ms.HeapInuse)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("{\"msg\":\"listening\",\"addr\":%q}\n", l.Addr().String())
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: p, HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000}}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		<-sig
		_ = l.Close()
		os.Exit(0)
	}()
	_ = srv.Serve(l)
}
