package slogsls

import (
	"context"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// spanContext is a sampled span context, as a tracer's span carries (the
// handler reads only the context, so no OpenTelemetry SDK is needed).
func testSpanContext(traceID, spanID byte) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0: 0x4b, 15: traceID},
		SpanID:     trace.SpanID{0: 0x1e, 7: spanID},
		TraceFlags: trace.FlagsSampled,
	})
}

func TestTraceContext(t *testing.T) {
	e := newSLS(t, nil)
	sc := testSpanContext(1, 2)
	ctx := trace.ContextWithSpanContext(context.Background(), sc)

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
