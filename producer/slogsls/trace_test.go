package slogsls

import (
	"context"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestTraceContext(t *testing.T) {
	e := newSLS(t, nil)
	tp := sdktrace.NewTracerProvider() // no exporter: spans get real IDs, nothing is sent
	t.Cleanup(func() { tp.Shutdown(context.Background()) })

	ctx, span := tp.Tracer("slogsls-test").Start(context.Background(), "handle request")
	defer span.End()
	sc := span.SpanContext()
	if !sc.IsValid() {
		t.Fatal("the SDK span has no valid span context")
	}

	for _, opts := range []*Options{nil, {ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return a }}} {
		// In a group, from a cancelled context: still top-level and present.
		l := slog.New(New(e.p, "app", opts)).WithGroup("req").With("id", 1)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		l.InfoContext(cctx, "traced", "k", "v")
		equalFields(t, e.one(t).Fields, map[string]string{
			"level": "INFO", "msg": "traced", "req.id": "1", "req.k": "v",
			TraceIDKey: sc.TraceID().String(),
			SpanIDKey:  sc.SpanID().String(),
		})

		// Without a span, or with an invalid one, there are no trace fields.
		l.InfoContext(context.Background(), "untraced")
		l.InfoContext(trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), "invalid")
		for _, got := range e.next(t, 2) {
			if _, ok := got.Fields[TraceIDKey]; ok {
				t.Errorf("trace fields without a span: %s", sorted(got.Fields))
			}
			if _, ok := got.Fields[SpanIDKey]; ok {
				t.Errorf("trace fields without a span: %s", sorted(got.Fields))
			}
		}
	}

	// ReplaceAttr sees them, with no groups, and may rename or drop them.
	h := New(e.p, "app", &Options{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		switch {
		case len(groups) == 0 && a.Key == TraceIDKey:
			a.Key = "traceID"
		case len(groups) == 0 && a.Key == SpanIDKey:
			return slog.Attr{}
		}
		return a
	}})
	slog.New(h).WithGroup("g").InfoContext(ctx, "renamed")
	equalFields(t, e.one(t).Fields, map[string]string{
		"level": "INFO", "msg": "renamed", "traceID": sc.TraceID().String(),
	})
}
