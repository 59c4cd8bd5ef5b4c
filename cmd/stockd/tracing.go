package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"stockd/internal/build"
	"stockd/internal/config"
)

// openTracing builds the tracer provider of cfg and the function that
// flushes and stops it. Off (no OTEL_EXPORTER_OTLP_ENDPOINT), the provider
// is nil: every adapter then keeps the global no-op one and the HTTP
// server adds no middleware, so an untraced process pays nothing. On, the
// OTLP/HTTP exporter and the resource read the standard OTEL_* variables
// (endpoint, headers, timeout, OTEL_SERVICE_NAME, sampler) themselves.
func openTracing(ctx context.Context, cfg config.Config) (trace.TracerProvider, func(context.Context) error, error) {
	if !cfg.Tracing {
		return nil, func(context.Context) error { return nil }, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	// stockd and its version, unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES say otherwise (later detectors win).
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("stockd"), semconv.ServiceVersion(build.Read(version).Version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// flushTimeout bounds the export of the spans still buffered at exit, so
// that an unreachable collector cannot hold up a shutdown.
const flushTimeout = 5 * time.Second

// flushTraces exports the spans still buffered and stops the exporter;
// a collector that is away loses them, which is said, not returned.
func flushTraces(ctx context.Context, stop func(context.Context) error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := stop(ctx); err != nil {
		log.Warn("could not flush the last spans", "error", err)
	}
}
