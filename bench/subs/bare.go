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
	"sync"

	"github.com/coder/websocket"
)

// serveBare is the machine's own limit: graphql-transport-ws handshake
// (connection_init, ack, one subscribe), then POST /publish?id= writes one
// pre-built `next` message to every open connection, split over one
// writer per core, and answers at once. No GraphQL, no database.
func serveBare() {
	var mu sync.Mutex
	conns := map[*websocket.Conn]struct{}{}
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
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
		mu.Lock()
		all := make([]*websocket.Conn, 0, len(conns))
		for c := range conns {
			all = append(all, c)
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
	srv := &http.Server{Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		<-sig
		_ = l.Close()
		os.Exit(0)
	}()
	_ = srv.Serve(l)
}
