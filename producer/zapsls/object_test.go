package zapsls

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/multierr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/record"
)

// TestObjectAgreesWithFields checks that the fast path writes, byte for
// byte, the record the Field path writes for the same entry: every type it
// takes, odd values, duplicate and empty keys, With's fields, trace ids,
// the entry's own fields under every option, and static and time fields
// that the entry's replace.
func TestObjectAgreesWithFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	span := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
	}))
	pool := []zapcore.Field{
		zap.String("method", "POST"), zap.String("msg", "replaces the message"), zap.String("", "empty key"),
		zap.String("s", "quote \" and newline \n"), zap.String("bad", "\xff\xfe"), zap.String("u", "ünï"),
		zap.Int("status", 402), zap.Int64("min", math.MinInt64), zap.Int32("i32", math.MinInt32),
		{Key: "odd32", Type: zapcore.Int32Type, Integer: 1<<32 + 7}, {Key: "oddbool", Type: zapcore.BoolType, Integer: 2},
		zap.Duration("latency", 1234*time.Microsecond), zap.Duration("neg", -time.Nanosecond),
		zap.Bool("ok", true), zap.Bool("ok", false),
		zap.Float64("f", 0.1), zap.Float64("nan", math.NaN()), zap.Float64("inf", math.Inf(-1)), zap.Float64("big", 1e300),
		zap.Error(errors.New("card declined")), zap.NamedError("cause", errors.New("x")),
		Context(span), Context(context.Background()), zap.Skip(),
		zap.String("level", "replaces the level"), zap.String("time", "replaces the time"), zap.String("host", "replaces a static field"),
	}
	cores := []*core{
		NewCore(nil, "app", zap.DebugLevel).(*core),
		NewCore(nil, "app", zap.DebugLevel).With([]zapcore.Field{zap.String("service", "shop"), zap.Int("shard", 3)}).(*core),
		NewCore(nil, "app", zap.DebugLevel).With([]zapcore.Field{Context(span), zap.String("method", "GET")}).With([]zapcore.Field{zap.Bool("b", true)}).(*core),
		NewCoreWithOptions(nil, "app", zap.DebugLevel, &Options{LevelKey: Omit, MessageKey: "message", NameKey: "name",
			CallerKey: "src", FullCaller: true, FunctionKey: "func", StacktraceKey: "stack", TraceIDKey: "tid", SpanIDKey: Omit}).(*core),
	}
	statics := []*record.Static{
		record.NewStaticTime(nil, "time"),
		record.NewStaticTime([]record.Field{{Key: "host", Value: "web-1"}, {Key: "level", Value: "static"}}, "time"),
		record.NewStatic(nil),
	}
	for round := range 2000 {
		c := cores[rng.IntN(len(cores))]
		if c.slow {
			t.Fatalf("core %d takes the Field path", round)
		}
		ent := zapcore.Entry{Level: zapcore.Level(rng.IntN(7) - 1), Time: time.Unix(1765000000, int64(rng.IntN(1e9))), Message: "request served"}
		if rng.IntN(2) == 0 {
			ent.LoggerName = "api.orders"
			ent.Caller = zapcore.NewEntryCaller(0, "/src/shop/api/orders.go", 42, true)
			ent.Caller.Function = "shop/api.(*Server).Order"
			ent.Stack = "goroutine 1 [running]:\nmain.main()"
		}
		var fields []zapcore.Field
		for range rng.IntN(10) {
			fields = append(fields, pool[rng.IntN(len(pool))])
		}
		st := statics[rng.IntN(len(statics))]

		e := c.encode(ent, fields)
		want := string(record.AppendRecord(nil, st, ent.Time, e.Fields))
		e.free()
		oe := objectPool.Get().(*objectEncoder)
		if !c.encodeObject(oe, ent, fields) {
			t.Fatalf("round %d: the fast path declined %v", round, fields)
		}
		got := string(oe.obj.AppendRecord(nil, st, ent.Time))
		oe.free()
		if got != want {
			t.Fatalf("round %d, fields %v:\nfast  %s\nField %s", round, fields, got, want)
		}
	}
}

type verboseError struct{}

func (verboseError) Error() string { return "short" }
func (verboseError) Format(s fmt.State, _ rune) {
	fmt.Fprint(s, "short\nwith a stack")
}

type nilError struct{ msg string }

func (e *nilError) Error() string { return e.msg }

// The fast path declines what zap writes more than a value for, and a core
// whose With fields it cannot write, or that opened a namespace, sends
// every entry the Field path.
func TestObjectDeclines(t *testing.T) {
	c := NewCore(nil, "app", zap.DebugLevel).(*core)
	ent := zapcore.Entry{Message: "m", Time: time.Now()}
	for _, f := range []zapcore.Field{
		zap.Error(verboseError{}),
		zap.Error(multierr.Combine(errors.New("a"), errors.New("b"))),
		zap.Error((*nilError)(nil)),
		zap.Any("any", struct{}{}),
		zap.Namespace("ns"),
		zap.Time("t", time.Now()),
	} {
		if fastFields([]zapcore.Field{f}) {
			oe := objectPool.Get().(*objectEncoder)
			if c.encodeObject(oe, ent, []zapcore.Field{f}) {
				t.Errorf("the fast path took %v (%v)", f.Key, f.Interface)
			}
			oe.free()
		}
	}
	for _, fields := range [][]zapcore.Field{
		{zap.Namespace("ns")},
		{zap.String("a", "b"), zap.Namespace("ns"), zap.String("c", "d")},
		{zap.Any("obj", map[string]int{"a": 1})},
		{zap.Error(verboseError{})},
	} {
		if w := c.With(fields).(*core); !w.slow {
			t.Errorf("With(%v) takes the fast path", fields)
		} else if w2 := w.With([]zapcore.Field{zap.String("x", "y")}).(*core); !w2.slow {
			t.Errorf("a child of With(%v) takes the fast path", fields)
		}
	}
}
