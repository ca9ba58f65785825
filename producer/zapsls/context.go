package zapsls

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// contextMark tells a Context field from other zapcore.SkipType fields.
const contextMark = 0x7a6170736c73 // "zapsls"

// Context returns a field that correlates the entry with the OpenTelemetry
// span in ctx: a core from this package adds the top-level fields "trace_id"
// and "span_id" (Options.TraceIDKey, SpanIDKey) when ctx carries a valid span
// context, and nothing otherwise. Namespaces do not apply to them.
//
// The field is a zapcore.SkipType field, so other cores (console, JSON,
// zaptest/observer) render nothing for it. Use it at the log site or with
// Logger.With for a request-scoped logger.
func Context(ctx context.Context) zap.Field {
	if ctx == nil {
		return zap.Skip()
	}
	// ctx is stored as it is: no allocation, and the span is looked up
	// only by cores that use it.
	return zap.Field{Key: "context", Type: zapcore.SkipType, Integer: contextMark, Interface: ctx}
}

// contextOf returns the context of a field made by Context.
func contextOf(f *zapcore.Field) (context.Context, bool) {
	if f.Type != zapcore.SkipType || f.Integer != contextMark {
		return nil, false
	}
	ctx, ok := f.Interface.(context.Context)
	return ctx, ok
}

// addTrace adds the trace and span id of ctx's span, if it has a valid one.
func (c *core) addTrace(e *encoder, ctx context.Context) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		e.AddTrace(sc, c.keys.traceID, c.keys.spanID)
	}
}
