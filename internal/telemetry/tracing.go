package telemetry

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is OpenTelemetry tracing: HTTP requests, MongoDB commands and
// Redis calls, exported over OTLP/HTTP. Off (the zero value) it installs
// nothing and every method returns its argument unchanged, so an
// unconfigured service pays nothing for it.
type Tracing struct {
	provider *sdktrace.TracerProvider
}

// StartTracing turns tracing on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a
// full URL) or OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, /v1/traces is
// appended) is set; OTEL_SERVICE_NAME names the service (newsgraph by
// default). The exporter reads the other standard OTEL_EXPORTER_OTLP_*
// variables (headers, timeout) itself.
func StartTracing(getenv func(string) string) (*Tracing, error) {
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
		if base == "" {
			return &Tracing{}, nil
		}
		endpoint = strings.TrimRight(base, "/") + "/v1/traces"
	}
	exporter, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, err
	}
	name := getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = "newsgraph"
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return &Tracing{provider: tp}, nil
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t.provider != nil }

// Shutdown sends the spans still buffered.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.provider == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// Handler wraps h in a server span per request (continuing a caller's
// traceparent), named by method and path.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t.provider == nil {
		return h
	}
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// Redis adds a client span per command or pipeline; statements stay out of
// the spans, since cached values are whole responses.
func (t *Tracing) Redis(c redis.UniversalClient) error {
	if t.provider == nil || c == nil {
		return nil
	}
	return redisotel.InstrumentTracing(c, redisotel.WithTracerProvider(t.provider), redisotel.WithDBStatement(false))
}

// MongoMonitor makes a client span of every MongoDB command, under the
// request's span (nil when off). The go.opentelemetry.io contrib package
// for mongo-driver v2 is not published, so this is the driver's command
// monitor: started, then succeeded or failed, matched by request ID.
func (t *Tracing) MongoMonitor() *event.CommandMonitor {
	if t.provider == nil {
		return nil
	}
	tracer := t.provider.Tracer("github.com/newsgraph/newsgraph/internal/store")
	var open sync.Map // request ID → trace.Span
	end := func(id int64, err string) {
		if s, ok := open.LoadAndDelete(id); ok {
			span := s.(trace.Span)
			if err != "" {
				span.SetStatus(codes.Error, err)
			}
			span.End()
		}
	}
	return &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			_, span := tracer.Start(ctx, e.CommandName+" "+e.DatabaseName, trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system.name", "mongodb"),
					attribute.String("db.namespace", e.DatabaseName),
					attribute.String("db.operation.name", e.CommandName)))
			open.Store(e.RequestID, span)
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) { end(e.RequestID, "") },
		Failed:    func(_ context.Context, e *event.CommandFailedEvent) { end(e.RequestID, e.Failure.Error()) },
	}
}
