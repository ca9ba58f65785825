package zapsls

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/slskafka/slskafka/internal/race"
)

// skipUnderRace skips an allocation test under the race detector, which
// makes sync.Pool drop entries at random. CI runs these tests without -race
// too: go test -count=1 -run 'Allocs$' ./...
func skipUnderRace(t *testing.T) {
	t.Helper()
	if race.Enabled {
		t.Skip("allocation counts are meaningless under the race detector; run without -race")
	}
}

// The core's own encoding does not allocate; a Write's allocations are the
// producer's.
func TestEncodeAllocs(t *testing.T) {
	skipUnderRace(t)
	c := NewCore(nil, "app", zap.DebugLevel).With([]zapcore.Field{zap.String("service", "shop"), zap.Namespace("req")}).(*core)
	ent, fields := benchEntry()
	c.encode(ent, fields).free() // warm the pool
	if allocs := testing.AllocsPerRun(1000, func() { c.encode(ent, fields).free() }); allocs != 0 {
		t.Errorf("encode allocates %v times per entry, want 0", allocs)
	}
}

// Arrays and reflected values go through zap's JSON encoder, which pools its
// own state; only encoding/json's encoder, which zap makes per value, is
// allocated.
func TestEncodeJSONAllocs(t *testing.T) {
	skipUnderRace(t)
	c := NewCore(nil, "app", zap.DebugLevel).(*core)
	ent, _ := benchEntry()
	for _, tc := range []struct {
		field zapcore.Field
		max   float64
	}{
		{zap.Ints("ids", []int{1, 2, 3}), 0},
		{zap.Reflect("r", struct{ A, B int }{1, 2}), 1},
	} {
		fields := []zapcore.Field{tc.field}
		c.encode(ent, fields).free() // warm the pools
		if allocs := testing.AllocsPerRun(1000, func() { c.encode(ent, fields).free() }); allocs > tc.max {
			t.Errorf("%s: encode allocates %v times per entry, want at most %v", tc.field.Key, allocs, tc.max)
		}
	}
}

// Nor does the fast path's (object.go), for the entry's fields, With's and
// a trace context.
func TestEncodeObjectAllocs(t *testing.T) {
	skipUnderRace(t)
	span := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1},
	}))
	c := NewCore(nil, "app", zap.DebugLevel).With([]zapcore.Field{zap.String("service", "shop"), Context(span)}).(*core)
	ent, fields := benchEntry()
	ent.Caller = zapcore.NewEntryCaller(0, "/src/shop/main.go", 42, true)
	fields = append(fields, zap.Float64("ratio", 0.25), zap.Bool("ok", true), Context(span))
	encode := func() {
		oe := objectPool.Get().(*objectEncoder)
		if !c.encodeObject(oe, ent, fields) {
			t.Fatal("the fast path declined the entry")
		}
		oe.free()
	}
	encode() // warm the pool
	if allocs := testing.AllocsPerRun(1000, encode); allocs != 0 {
		t.Errorf("encodeObject allocates %v times per entry, want 0", allocs)
	}
}
