package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// collector is a stand-in for an OpenTelemetry collector's OTLP/HTTP
// receiver: it keeps every span it is sent.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, a GraphQL request yields one trace:
// the HTTP server span with the MongoDB and Redis calls it made under it.
func TestTracingExportsSpansOfAGraphQLRequest(t *testing.T) {
	col := &collector{}
	receiver := httptest.NewServer(col)
	defer receiver.Close()
	_, prefix := testenv.Redis(t)
	base, stop := start(t, map[string]string{"PORT": "0", "HOST": "127.0.0.1", "DATA_DIR": t.TempDir(),
		"REDIS_URL": testenv.RedisURL(t), "REDIS_PREFIX": prefix, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.URL})
	res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(
		`{"query":"{ article(slug: \"city-council-approves-late-night-bus-pilot-after-months-of-debate\") { headline } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "headline") {
		t.Fatalf("query failed: %s", body)
	}
	stop() // shutting down flushes the batch

	col.mu.Lock()
	defer col.mu.Unlock()
	var root *tracepb.Span
	for _, s := range col.spans {
		if s.Name == "POST /graphql" && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			root = s
		}
	}
	if root == nil {
		t.Fatalf("no server span for POST /graphql among %d spans", len(col.spans))
	}
	var mongo, redis int
	for _, s := range col.spans {
		if string(s.TraceId) != string(root.TraceId) || s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			continue
		}
		for _, a := range s.Attributes {
			switch {
			case a.Key == "db.system.name" && a.Value.GetStringValue() == "mongodb":
				mongo++
			case strings.HasPrefix(a.Key, "db.system") && a.Value.GetStringValue() == "redis":
				redis++
			}
		}
	}
	t.Logf("%d spans exported; in the request's trace %d MongoDB and %d Redis client spans", len(col.spans), mongo, redis)
	if mongo == 0 || redis == 0 {
		names := []string{}
		for _, s := range col.spans {
			names = append(names, s.Name)
		}
		t.Fatalf("in the request's trace: %d MongoDB and %d Redis spans; all spans: %v", mongo, redis, names)
	}
}
