package edge_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsgraph/newsgraph/internal/edge"
)

// An edge that is down when a write lands is purged once it is back: the
// write does not wait for it, and no tag is lost.
func TestPurgesReachAnEdgeThatWasDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing answers yet

	ctx, cancel := context.WithCancel(context.Background())
	reg := prometheus.NewRegistry()
	p := edge.New(ctx, edge.Options{URLs: []string{"http://" + addr + "/"}, Registerer: reg})
	t.Cleanup(func() { cancel(); p.Wait() })
	p.Purge(context.Background(), []string{"article:1", "articles"})
	p.Purge(context.Background(), []string{"article:2", "articles"})

	// The edge comes back: it is sent what it missed.
	got := make(chan string, 16)
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PURGE" {
			got <- r.Header.Get("xkey-purge")
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	seen := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for !(seen["article:1"] && seen["article:2"] && seen["articles"]) {
		select {
		case h := <-got:
			for _, tag := range strings.Fields(h) {
				seen[tag] = true
			}
		case <-deadline:
			t.Fatalf("purged %v, want article:1, article:2 and articles", seen)
		}
	}
	if n := purges(t, reg, "failed"); n < 2 {
		t.Errorf("%v failed purges counted, want at least 2", n)
	}
}

// purges reads newsgraph_edge_purges_total{result} from reg.
func purges(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if mf.GetName() == "newsgraph_edge_purges_total" && lp.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
