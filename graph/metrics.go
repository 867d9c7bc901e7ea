package graph

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the GraphQL layer's Prometheus series.
type metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	names    operationNames
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "newsgraph_graphql_operation_duration_seconds",
			Help:    "Time to execute a GraphQL operation, by operation name (responses served whole from the cache never get here).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "newsgraph_graphql_errors_total",
			Help: "GraphQL errors returned to clients, by extensions.code.",
		}, []string{"code"}),
		names: operationNames{seen: map[string]bool{}},
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.errors)
	}
	return m
}

func (m *metrics) aroundOperations(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	start := time.Now()
	op := graphql.GetOperationContext(ctx)
	name := op.OperationName
	if name == "" && op.Operation != nil {
		name = op.Operation.Name
	}
	name = m.names.label(name)
	handler := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		res := handler(ctx)
		m.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
		return res
	}
}

func (m *metrics) countError(code string) { m.errors.WithLabelValues(code).Inc() }

// operationNames bounds the label values clients can create: names must
// look like GraphQL names, and past a few hundred distinct ones the rest
// are counted as "other", so a client cannot blow up the series count.
type operationNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

var graphqlName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

const maxOperationNames = 300

func (o *operationNames) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !graphqlName.MatchString(name) {
		return "other"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[name] {
		return name
	}
	if len(o.seen) >= maxOperationNames {
		return "other"
	}
	o.seen[name] = true
	return name
}
